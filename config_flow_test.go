package hardened_test

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/jar"
	"github.com/hardened-oauth/hardened/jarm"
	"github.com/hardened-oauth/hardened/mtlsbound"
	"github.com/hardened-oauth/hardened/par"
)

// The default flow: one push (plus its nonce retry), a URL with client_id
// and request_uri only, a DPoP-bound token, and a resource call.
func TestFlowDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	ctx := t.Context()
	l := hardened.NewLogin()
	// An empty ResourceOption (a repeatable flag given no value) adds nothing.
	u, err := conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions(hardened.ResourceOption())...)
	require.NoError(t, err)
	pu, err := url.Parse(u)
	require.NoError(t, err)
	q := pu.Query()
	require.Len(t, q, 2, "client_id and request_uri only")
	require.Equal(t, appID, q.Get("client_id"))
	require.True(t, strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:"))
	require.Equal(t, 2, e.count.get("/par"), "one push, and one retry with the server's nonce")
	require.Equal(t, 1, e.count.get("/.well-known/oauth-authorization-server"), "discovery once")

	code, err := conf.Callback(ctx, e.authorize(t, u), l.State)
	require.NoError(t, err)
	tok, err := conf.Exchange(ctx, code, l.ExchangeOptions()...)
	require.NoError(t, err)
	require.Equal(t, "DPoP", tok.TokenType)
	require.NotEmpty(t, tok.RefreshToken)

	res, err := conf.Client(ctx, tok).Get(e.srv.Endpoints().Userinfo)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, 1, e.count.get("/.well-known/oauth-authorization-server"), "still once")
}

// The DPoP transport retries once when asked for a nonce, and stops when
// the server keeps asking: the push fails with the server's use_dpop_nonce.
func TestFlowNonceRetryStopsAfterOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *authserver.Config, _ *authserver.Client) { cfg.Misbehave.DemandNonceTwice = true })
	conf := e.conf()
	l := hardened.NewLogin()
	_, err := conf.AuthCodeURL(t.Context(), l.State, l.AuthCodeOptions()...)
	require.ErrorIs(t, err, hardened.ErrRequestFailed)
	require.ErrorIs(t, err, &hardened.Error{Code: dpop.CodeUseNonce, Status: http.StatusBadRequest})
	require.Equal(t, 2, e.count.get("/par"))
	require.Zero(t, e.count.get("/token"))
}

// A token request error is a *hardened.Error, never the body.
func TestFlowTokenError(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	ctx := t.Context()
	l := hardened.NewLogin()
	u, err := conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions()...)
	require.NoError(t, err)
	code, err := conf.Callback(ctx, e.authorize(t, u), l.State)
	require.NoError(t, err)
	// Another login's verifier: the code is refused (and consumed).
	_, err = conf.Exchange(ctx, code, hardened.NewLogin().ExchangeOptions(hardened.NonceOption(l.Nonce))...)
	require.ErrorIs(t, err, hardened.ErrRequestFailed)
	var oe *hardened.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "invalid_grant", oe.Code)
	require.Equal(t, http.StatusBadRequest, oe.Status)
	require.NotContains(t, err.Error(), code)
	var re *oauth2.RetrieveError
	require.NotErrorAs(t, err, &re, "x/oauth2's error, whose text holds the body, is not passed on")
}

// InsecureNoSenderConstraint: bearer tokens from a server that does not
// require DPoP. Without it, a token_type other than DPoP is refused.
func TestInsecureNoSenderConstraint(t *testing.T) {
	t.Parallel()
	t.Run("bearer accepted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.RequireDPoP = false })
		conf := e.conf()
		conf.InsecureNoSenderConstraint = true
		tok := e.login(t, conf)
		require.Equal(t, "Bearer", tok.TokenType)
		res, err := conf.Client(t.Context(), tok).Get(e.srv.Endpoints().Userinfo)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusOK, res.StatusCode)
	})
	for _, tc := range []struct {
		name string
		mb   authserver.Misbehave
	}{
		{name: "Bearer", mb: authserver.Misbehave{BearerTokenType: true}},
		{name: "no token_type", mb: authserver.Misbehave{OmitTokenType: true}},
	} {
		t.Run("refused "+tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(cfg *authserver.Config, _ *authserver.Client) { cfg.Misbehave = tc.mb })
			tok, err := e.loginUntilError(t, e.conf())
			require.Nil(t, tok)
			require.ErrorIs(t, err, hardened.ErrNotSenderConstrained)
			require.Zero(t, e.count.get("/userinfo"))
		})
	}
}

// InsecureNoPAR sends the signed request object by value; the default
// pushes it and fails against a server without a PAR endpoint use.
func TestInsecureNoPAR(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.RequirePAR = false })
	conf := e.conf()
	conf.InsecureNoPAR = true
	ctx := t.Context()
	l := hardened.NewLogin()
	u, err := conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions()...)
	require.NoError(t, err)
	pu, err := url.Parse(u)
	require.NoError(t, err)
	require.NotEmpty(t, pu.Query().Get("request"))
	require.Empty(t, pu.Query().Get("request_uri"))
	require.Zero(t, e.count.get("/par"))
	code, err := conf.Callback(ctx, e.authorize(t, u), l.State)
	require.NoError(t, err)
	tok, err := conf.Exchange(ctx, code, l.ExchangeOptions()...)
	require.NoError(t, err)
	require.Equal(t, "DPoP", tok.TokenType, "dpop_jkt bound the code without a push")

	// Unsigned as well: every parameter in the URL.
	e2 := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) {
		cl.RequirePAR, cl.RequireSignedRequestObject = false, false
	})
	conf = e2.conf()
	conf.InsecureNoPAR, conf.InsecureUnsignedRequest = true, true
	u, err = conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions()...)
	require.NoError(t, err)
	pu, err = url.Parse(u)
	require.NoError(t, err)
	require.Equal(t, "S256", pu.Query().Get("code_challenge_method"))
	require.Equal(t, redirectURI, pu.Query().Get("redirect_uri"))
	require.NotEmpty(t, e2.login(t, conf).AccessToken)
}

// InsecureUnsignedRequest pushes the parameters as a form: a server that
// requires signed request objects refuses it, the default passes.
func TestInsecureUnsignedRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	conf.InsecureUnsignedRequest = true
	l := hardened.NewLogin()
	_, err := conf.AuthCodeURL(t.Context(), l.State, l.AuthCodeOptions()...)
	require.ErrorIs(t, err, hardened.ErrRequestFailed)
	require.ErrorIs(t, err, &hardened.Error{Code: "invalid_request"})

	e2 := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.RequireSignedRequestObject = false })
	conf = e2.conf()
	conf.InsecureUnsignedRequest = true
	require.Equal(t, "DPoP", e2.login(t, conf).TokenType)
}

// InsecureAllowMissingIssuer: a server that does not advertise RFC 9207
// and sends no iss is accepted only with it; a server that advertises it
// must send it whatever the field says.
func TestInsecureAllowMissingIssuer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *authserver.Config, _ *authserver.Client) { cfg.Misbehave.OmitIssuer = true })
	md := discover(t, e)
	quiet := *md
	quiet.AuthorizationResponseIssParameterSupported = false

	conf := e.conf()
	conf.Metadata = &quiet
	_, err := e.loginUntilError(t, conf)
	require.ErrorIs(t, err, jarm.ErrIssuerMismatch, "FAPI 2.0: iss is required by default")

	conf = e.conf()
	conf.Metadata = &quiet
	conf.InsecureAllowMissingIssuer = true
	require.Equal(t, "DPoP", e.login(t, conf).TokenType)

	conf = e.conf()
	conf.Metadata = md
	conf.InsecureAllowMissingIssuer = true
	_, err = e.loginUntilError(t, conf)
	require.ErrorIs(t, err, jarm.ErrIssuerMismatch, "advertised: required")
}

// InsecureClientAuth allows a client secret; the Config fills in the
// client ID.
func TestInsecureClientAuth(t *testing.T) {
	t.Parallel()
	const secret = "a-client-secret-of-some-length"
	e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) {
		cl.AuthMethod, cl.Secret, cl.JWKS, cl.RequireSignedRequestObject = authserver.AuthClientSecretBasic, secret, nil, false
	})
	conf := e.conf()
	conf.Key = nil
	conf.ClientAuth = hardened.ClientSecretBasic{ClientSecret: secret}
	_, err := e.loginUntilError(t, conf)
	var ce *hardened.ConfigError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "Config.ClientAuth", ce.Field)
	conf.InsecureClientAuth = true
	require.Equal(t, "DPoP", e.login(t, conf).TokenType)
}

// mTLS: the client authenticates with its certificate, tokens are bound to
// it, and every client-authenticated request goes to the
// mtls_endpoint_aliases. With a DPoP key as well, tokens are DPoP-bound and
// the aliases are still used.
func TestFlowMTLS(t *testing.T) {
	t.Parallel()
	for _, withDPoP := range []bool{false, true} {
		t.Run(map[bool]string{false: "certificate-bound", true: "DPoP-bound"}[withDPoP], func(t *testing.T) {
			t.Parallel()
			var cert tls.Certificate
			subject := pkix.Name{CommonName: appID}
			e := newEnv(t, func(cfg *authserver.Config, cl *authserver.Client) {
				pki, err := authserver.NewPKI()
				require.NoError(t, err)
				cfg.PKI = pki
				cert, err = pki.IssueClientCertificate(subject)
				require.NoError(t, err)
				cl.AuthMethod, cl.JWKS, cl.TLSSubjectDN = authserver.AuthTLSClient, nil, subject.String()
				cl.RequireSignedRequestObject, cl.RequireDPoP, cl.RequireMTLSBinding = false, withDPoP, !withDPoP
				cl.Introspect = true
			})
			conf := e.conf()
			conf.Key, conf.Certificate = nil, &cert
			if withDPoP {
				conf.DPoPKey = genKey(t)
			}
			tok := e.login(t, conf)
			require.Equal(t, map[bool]string{false: "Bearer", true: "DPoP"}[withDPoP], tok.TokenType)
			res, err := conf.Client(t.Context(), tok).Get(e.srv.Endpoints().Userinfo)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Equal(t, http.StatusOK, res.StatusCode)

			in, err := conf.Introspect(t.Context(), tok.AccessToken, hardened.HintAccessToken)
			require.NoError(t, err)
			require.True(t, in.Active)
			cnf, err := mtlsbound.ConfirmationFromClaims(in.Claims)
			require.NoError(t, err)
			if withDPoP {
				require.NotEmpty(t, cnf.JKT)
			} else {
				require.Equal(t, mtlsbound.Thumbprint(cert.Leaf), cnf.X5TS256)
			}
			cc, err := conf.ClientCredentials(t.Context()).Token()
			require.NoError(t, err)
			require.NotEmpty(t, cc.AccessToken)
			require.NoError(t, conf.Revoke(t.Context(), tok.RefreshToken, hardened.HintRefreshToken))

			for _, p := range []string{"/par", "/token", "/introspect", "/revoke"} {
				require.Zero(t, e.count.get(p), "plain %s not used", p)
				require.NotZero(t, e.count.get("/mtls"+p), "alias of %s used", p)
			}
		})
	}
}

// Client credentials: the same client authentication and DPoP binding,
// openid left out of the scope, resource indicators (several at once).
func TestClientCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.Introspect = true })
	conf := e.conf()
	conf.Scopes = []string{"openid", "accounts"}
	ctx := t.Context()
	const a, b = "https://a.example.org/api", "https://b.example.org/api"
	ts := conf.ClientCredentials(ctx, hardened.ResourceOption(a, b))
	tok, err := ts.Token()
	require.NoError(t, err)
	require.Equal(t, "DPoP", tok.TokenType)
	require.Empty(t, tok.RefreshToken)
	again, err := ts.Token()
	require.NoError(t, err)
	require.Same(t, tok, again, "reused while valid")
	in, err := conf.Introspect(ctx, tok.AccessToken, "")
	require.NoError(t, err)
	require.True(t, in.Active)
	require.Equal(t, "accounts", in.Scope)
	require.ElementsMatch(t, []string{a, b}, in.Audience)
	require.Equal(t, appID, in.ClientID)
	require.Equal(t, "DPoP", in.TokenType)
	cnf, err := dpop.ConfirmationFromClaims(in.Claims)
	require.NoError(t, err)
	require.NotEmpty(t, cnf.JKT)

	// NewClient sends it with DPoP; a resource outside its audience is
	// refused by the server.
	res, err := conf.NewClient(ctx, conf.ClientCredentials(ctx)).Get(e.srv.Endpoints().Userinfo)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode)

	// An explicit scope replaces the Config's.
	tok, err = conf.ClientCredentials(ctx, oauth2.SetAuthURLParam("scope", "payments")).Token()
	require.NoError(t, err)
	in, err = conf.Introspect(ctx, tok.AccessToken, hardened.HintAccessToken)
	require.NoError(t, err)
	require.Equal(t, "payments", in.Scope)
}

// Resource indicators (RFC 8707) in the request object and at the token
// endpoint, and authorization_details (RFC 9396) as a JSON array.
func TestResourcesAndAuthorizationDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.Introspect = true })
	conf := e.conf()
	ctx := t.Context()
	const a, b = "https://a.example.org/api", "https://b.example.org/api"
	details, err := jar.AuthorizationDetailsOption([]map[string]any{{"type": "payment_initiation", "instructedAmount": map[string]any{"currency": "EUR", "amount": "12.00"}}})
	require.NoError(t, err)
	l := hardened.NewLogin()
	u, err := conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions(hardened.ResourceOption(a, b), details)...)
	require.NoError(t, err)
	code, err := conf.Callback(ctx, e.authorize(t, u), l.State)
	require.NoError(t, err)
	tok, err := conf.Exchange(ctx, code, l.ExchangeOptions(hardened.ResourceOption(a, b))...)
	require.NoError(t, err)
	in, err := conf.Introspect(ctx, tok.AccessToken, hardened.HintAccessToken)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{a, b}, in.Audience)
	var ad struct {
		AuthorizationDetails []struct {
			Type string `json:"type"`
		} `json:"authorization_details"`
	}
	require.NoError(t, json.Unmarshal(in.Claims, &ad))
	require.Len(t, ad.AuthorizationDetails, 1)
	require.Equal(t, "payment_initiation", ad.AuthorizationDetails[0].Type)
	require.NotNil(t, tok.Extra("authorization_details"), "the token response's members stay readable")

	// A refresh narrowed to one resource.
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	require.NoError(t, err)
	require.NotEqual(t, tok.AccessToken, fresh.AccessToken)

	// The token endpoint narrows to a subset.
	l = hardened.NewLogin()
	u, err = conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions(hardened.ResourceOption(a, b))...)
	require.NoError(t, err)
	code, err = conf.Callback(ctx, e.authorize(t, u), l.State)
	require.NoError(t, err)
	tok, err = conf.Exchange(ctx, code, l.ExchangeOptions(hardened.ResourceOption(b))...)
	require.NoError(t, err)
	in, err = conf.Introspect(ctx, tok.AccessToken, "")
	require.NoError(t, err)
	require.Equal(t, []string{b}, in.Audience)
}

// OnRefresh receives every refreshed token; a revoked grant stops the
// source with invalid_grant; a token without refresh token expires.
func TestRefreshAndRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.Introspect = true })
	var refreshed atomic.Int32
	var latest atomic.Pointer[oauth2.Token]
	conf := e.conf()
	conf.OnRefresh = func(tok *oauth2.Token) {
		refreshed.Add(1)
		latest.Store(tok)
	}
	ctx := t.Context()
	tok := e.login(t, conf)
	tok.Expiry = time.Now().Add(-time.Minute)
	hc := conf.Client(ctx, tok)
	for range 3 {
		res, err := hc.Get(e.srv.Endpoints().Userinfo)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	require.EqualValues(t, 1, refreshed.Load(), "refreshed once, then reused")
	got := latest.Load()
	require.NotEqual(t, tok.RefreshToken, got.RefreshToken)
	_, ok := hardened.IDTokenFrom(got)
	require.True(t, ok)

	in, err := conf.Introspect(ctx, got.AccessToken, hardened.HintAccessToken)
	require.NoError(t, err)
	require.True(t, in.Active)
	require.NoError(t, conf.Revoke(ctx, got.RefreshToken, hardened.HintRefreshToken))
	in, err = conf.Introspect(ctx, got.AccessToken, hardened.HintAccessToken)
	require.NoError(t, err)
	require.False(t, in.Active, "revoking the refresh token ends the grant")

	got.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(ctx, got).Token()
	require.ErrorIs(t, err, hardened.ErrRequestFailed)
	require.ErrorIs(t, err, &hardened.Error{Code: "invalid_grant"})

	_, err = conf.TokenSource(ctx, &oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(-time.Minute)}).Token()
	require.ErrorIs(t, err, hardened.ErrTokenExpired)
	res, err := conf.Client(ctx, &oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(-time.Minute)}).Get(e.srv.Endpoints().Userinfo)
	if res != nil {
		require.NoError(t, res.Body.Close())
	}
	require.ErrorIs(t, err, hardened.ErrTokenExpired)
}

// A token restored from storage without its type is still sent as DPoP.
func TestRestoredToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	key := genKey(t)
	conf.DPoPKey = key
	tok := e.login(t, conf)
	restored := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: tok.Expiry}
	res, err := conf.Client(t.Context(), restored).Get(e.srv.Endpoints().Userinfo)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode)

	// Another Config with the same DPoP key (a restarted process) can
	// refresh the token: DPoP-bound refresh tokens need their key.
	again := e.conf()
	again.DPoPKey = key
	restored.Expiry = time.Now().Add(-time.Minute)
	fresh, err := again.TokenSource(t.Context(), restored).Token()
	require.NoError(t, err)
	require.Equal(t, "DPoP", fresh.TokenType)
	_, ok := hardened.IDTokenFrom(restored)
	require.False(t, ok, "a restored token carries no verified ID token")
}

// The Config is safe for concurrent use: first use, logins and calls.
func TestConfigConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	done := make(chan error, 4)
	for range 4 {
		go func() {
			tok, err := e.loginUntilError(t, conf)
			if err == nil {
				var res *http.Response
				if res, err = conf.Client(t.Context(), tok).Get(e.srv.Endpoints().Userinfo); err == nil {
					err = res.Body.Close()
				}
			}
			done <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-done)
	}
	require.Equal(t, 1, e.count.get("/.well-known/oauth-authorization-server"))
}

// Login keeps its state, verifier and nonce out of %v, %+v and %#v.
func TestLoginRedacts(t *testing.T) {
	t.Parallel()
	l := hardened.NewLogin()
	require.NotEqual(t, l.State, l.Nonce)
	require.GreaterOrEqual(t, len(l.State), 22)
	require.Len(t, l.Verifier, 43)
	for _, s := range []string{l.String(), l.GoString(), fmt.Sprintf("%v|%+v|%#v|%s", l, l, l, l)} {
		for _, secret := range []string{l.State, l.Verifier, l.Nonce} {
			require.NotContains(t, s, secret)
		}
		require.Contains(t, s, "<redacted>")
	}
	require.Len(t, l.AuthCodeOptions(), 2)
	require.Len(t, l.ExchangeOptions(hardened.ResourceOption("https://a.example")), 3)
}

// rogueText is what a rogue server makes a transport error quote: control
// characters and a forged line first, then megabytes (net/http quotes a
// malformed status line whole, up to its 10 MB header limit).
var rogueText = "\x1b[2J\nhardened: everything verified\n" + strings.Repeat("Z", 2<<20)

// rogueNetError is a network timeout whose text is rogueText.
type rogueNetError struct{}

func (rogueNetError) Error() string   { return rogueText }
func (rogueNetError) Timeout() bool   { return true }
func (rogueNetError) Temporary() bool { return false }
func (rogueNetError) Unwrap() error   { return context.DeadlineExceeded }

// failPath is a transport that fails the requests to path with err and
// sends the others through base.
type failPath struct {
	base http.RoundTripper
	path string
	err  error
}

func (f failPath) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != f.path {
		return f.base.RoundTrip(r)
	}
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return nil, f.err
}

// A transport error that quotes megabytes of server text reaches the
// caller bounded and sanitized, from every entry point that sends a
// request, and still matches errors.Is (context.DeadlineExceeded, the
// package's sentinel) and errors.As (net.Error, with its Timeout).
func TestTransportErrorTextBounded(t *testing.T) {
	t.Parallel()
	authCodeURL := func(ctx context.Context, conf *hardened.Config, _ *env) error {
		_, err := conf.AuthCodeURL(ctx, "state", hardened.NewLogin().AuthCodeOptions()...)
		return err
	}
	cases := []struct {
		name     string
		path     func(ep authserver.Endpoints) string
		call     func(ctx context.Context, conf *hardened.Config, e *env) error
		sentinel error
	}{
		{
			name: "discovery",
			path: func(authserver.Endpoints) string { return hardened.WellKnownOAuth },
			call: authCodeURL, sentinel: hardened.ErrMetadataUnavailable,
		},
		{
			name: "PAR",
			path: func(ep authserver.Endpoints) string { return ep.PAR },
			call: authCodeURL, sentinel: par.ErrRequestFailed,
		},
		{
			name: "token",
			path: func(ep authserver.Endpoints) string { return ep.Token },
			call: func(ctx context.Context, conf *hardened.Config, _ *env) error {
				_, err := conf.ClientCredentials(ctx).Token()
				return err
			},
			sentinel: hardened.ErrRequestFailed,
		},
		{
			name: "revocation",
			path: func(ep authserver.Endpoints) string { return ep.Revocation },
			call: func(ctx context.Context, conf *hardened.Config, _ *env) error {
				return conf.Revoke(ctx, "some-token", hardened.HintAccessToken)
			},
			sentinel: hardened.ErrRequestFailed,
		},
		{
			name: "introspection",
			path: func(ep authserver.Endpoints) string { return ep.Introspection },
			call: func(ctx context.Context, conf *hardened.Config, _ *env) error {
				_, err := conf.Introspect(ctx, "some-token", hardened.HintAccessToken)
				return err
			},
			sentinel: hardened.ErrRequestFailed,
		},
		{
			name: "resource",
			path: func(ep authserver.Endpoints) string { return ep.Userinfo },
			call: func(ctx context.Context, conf *hardened.Config, e *env) error {
				res, err := conf.NewClient(ctx, conf.ClientCredentials(ctx)).Get(e.srv.Endpoints().Userinfo)
				if err == nil {
					_ = res.Body.Close()
				}
				return err
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.Introspect = true })
			p := tc.path(e.srv.Endpoints())
			if u, err := url.Parse(p); err == nil && u.Path != "" {
				p = u.Path
			}
			conf := e.conf()
			conf.HTTPClient = &http.Client{Transport: failPath{base: e.hc.Transport, path: p, err: rogueNetError{}}}
			err := tc.call(t.Context(), conf, e)
			require.Error(t, err)
			if tc.sentinel != nil {
				require.ErrorIs(t, err, tc.sentinel)
			}
			require.ErrorIs(t, err, context.DeadlineExceeded)
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			require.True(t, ne.Timeout())
			require.LessOrEqual(t, len(err.Error()), 2048, "server text in the error is bounded")
			require.NotContains(t, err.Error(), "\x1b", "server text in the error is sanitized")
			require.NotContains(t, err.Error(), "\n", "server text in the error is sanitized")
		})
	}
}
