package interop_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jar"
	"github.com/hardened-oauth/hardened/jarm"
	"github.com/hardened-oauth/hardened/mtlsbound"
	"github.com/hardened-oauth/hardened/par"
)

// fapiFlow names one FAPI 2.0 authorization code flow to run.
type fapiFlow struct {
	mode     string // DPoP nonce mode of the peer
	client   *fapiClient
	scope    string
	resource string // RFC 8707 resource indicator, or empty
	// responseMode is jarm.ModeJWT or jarm.ModeQueryJWT.
	responseMode string
	// encryptTo is the kid of the peer key the request object is encrypted
	// to ("enc-ecdh" or "enc-rsa"); empty sends it signed only.
	encryptTo string
}

// fapiResult is what a flow produced, and the client pieces that produced
// it, for the checks that follow.
type fapiResult struct {
	pv      *peerView
	dpopKey *ecdsa.PrivateKey
	proofer *dpop.Proofer
	conf    *oauth2.Config

	// ctx carries, under oauth2.HTTPClient, the one client of the flow
	// (ARCHITECTURE.md): dpop.Transport → hardened.AuthTransport{Endpoints:
	// md.ClientAuthEndpoints(false)} → recorder → TLS. par pushes through
	// it, x/oauth2 exchanges and refreshes through it, and
	// conf.Client(ctx, tok) wraps it for resource requests.
	ctx context.Context
	// dpopRT is the flow's only dpop.Transport, with its nonce cache;
	// client is the *http.Client over it.
	dpopRT *dpop.Transport
	client *http.Client
	// log is what went on the wire: every attempt, with its proof, its
	// Authorization scheme and the client assertions in its form body.
	log *recorder

	requestObject *jar.RequestObject
	pushed        *par.Response
	callbackURL   *url.URL // the redirect as the user agent got it
	state         string
	callback      *jarm.Response
	token         *oauth2.Token
}

// clientStack is the module's one client (ARCHITECTURE.md): dpop.Transport
// → hardened.AuthTransport → base. AuthTransport authenticates the requests
// to the peer's PAR, token, introspection and revocation endpoints, every
// attempt afresh (a new assertion for the nonce retry, whose body
// dpop.Transport rebuilds from GetBody); resource requests pass through it
// without credentials.
func clientStack(md *hardened.Metadata, auth hardened.ClientAuth, proofer *dpop.Proofer, base http.RoundTripper) (*dpop.Transport, *http.Client) {
	rt := &dpop.Transport{
		Base:    &hardened.AuthTransport{Base: base, Auth: auth, Endpoints: md.ClientAuthEndpoints(false)},
		Proofer: proofer,
	}
	return rt, &http.Client{Transport: rt, Timeout: 30 * time.Second}
}

// runFAPIFlow runs a whole FAPI 2.0 authorization code flow on the module's
// packages: hardened.Discover, a jar request object (signed, maybe
// encrypted to the peer), pushed with par, headless authorization, the
// JARM callback validated by jarm.Decoder, and the code exchanged by
// x/oauth2; PAR and token requests all go through one client, whose
// hardened.AuthTransport adds private_key_jwt and whose one dpop.Transport
// adds the proofs.
func runFAPIFlow(t *testing.T, f fapiFlow) *fapiResult {
	t.Helper()
	c := f.client
	pv := peerFor(t, f.mode)
	md := pv.md
	ctx := testCtx(t)

	key, err := dpop.GenerateKey()
	require.NoError(t, err)
	proofer, err := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	require.NoError(t, err)
	r := &fapiResult{pv: pv, dpopKey: key, proofer: proofer}

	// The stack under oauth2.HTTPClient, for every request of the flow,
	// over a recorder that sees each attempt.
	endpoint, err := md.OAuth2Endpoint(hardened.AuthMethodPrivateKeyJWT, false)
	require.NoError(t, err)
	require.Equal(t, oauth2.AuthStyleInParams, endpoint.AuthStyle)
	r.log = &recorder{Base: env.transport(nil), InspectForms: true}
	r.log.logOnFailure(t, "client")
	r.dpopRT, r.client = clientStack(md, c.privateKeyJWT(md.Issuer), proofer, r.log)
	r.ctx = context.WithValue(ctx, oauth2.HTTPClient, r.client)
	parConf := &par.Config{Endpoint: md.PushedAuthorizationRequestEndpoint, ClientID: c.id, HTTPClient: r.client}

	r.conf = &oauth2.Config{
		ClientID:    c.id,
		RedirectURL: redirectURI,
		Endpoint:    endpoint,
		Scopes:      strings.Fields(f.scope),
	}

	// The request object (RFC 9101), built from what AuthCodeURL would send.
	state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce),
		jarm.ResponseModeOption(f.responseMode),
		dpop.JKTOption(proofer.JKT()), // RFC 9449 §10; the peer checks it against the PAR proof
	}
	params := jar.AuthCodeParams(r.conf, state, opts...)
	if f.resource != "" {
		require.NoError(t, jar.AddResource(params, f.resource))
	}
	jc := jar.Config{ClientID: c.id, Issuer: md.Issuer, Key: c.key, KeyID: c.kid}
	if f.encryptTo != "" {
		all, err := jar.ParseEncryptionKeys(pv.jwks)
		require.NoError(t, err)
		var keys []jar.EncryptionKey
		for _, k := range all {
			if k.KeyID == f.encryptTo {
				keys = append(keys, k)
			}
		}
		require.Len(t, keys, 1, "peer encryption key %s", f.encryptTo)
		jc.Encryption = &jar.Encryption{
			Keys:               keys,
			AlgValuesSupported: md.RequestObjectEncryptionAlgValuesSupported,
			EncValuesSupported: md.RequestObjectEncryptionEncValuesSupported,
		}
	}
	r.requestObject, err = jc.Build(params)
	require.NoError(t, err)
	require.Equal(t, f.encryptTo != "", r.requestObject.Encrypted)
	if f.encryptTo != "" {
		h, err := jose.ParseJWEHeader(r.requestObject.JWT)
		require.NoError(t, err)
		require.Equal(t, f.encryptTo, h.Kid)
		require.Equal(t, "JWT", h.Cty) // RFC 7519 §5.2: a nested JWT MUST say so
		require.Equal(t, keyByID(pv.keys, f.encryptTo).Algorithm, h.Alg)
		require.Contains(t, md.RequestObjectEncryptionEncValuesSupported, h.Enc)
	}

	r.pushed, err = parConf.PushRequestObject(r.ctx, r.requestObject.JWT)
	require.NoError(t, err, "PAR")
	require.True(t, strings.HasPrefix(r.pushed.RequestURI, "urn:ietf:params:oauth:request_uri:"), "request_uri form")
	require.Positive(t, r.pushed.ExpiresIn)

	// The front channel carries client_id and request_uri only.
	authURL := par.AuthCodeURL(md.AuthorizationEndpoint, c.id, r.pushed)
	require.ElementsMatch(t, []string{"client_id", "request_uri"}, queryKeys(mustParseURL(t, authURL)))
	cb, err := authorize(ctx, env.httpClient(nil), authURL)
	require.NoError(t, err)
	r.callbackURL, r.state = cb, state
	require.Equal(t, []string{"response"}, queryKeys(cb), "JARM: only the response JWT in the callback")

	dc := jarm.Config{
		Issuer:                                 md.Issuer,
		ClientID:                               c.id,
		JWKSURL:                                md.JWKSURI,
		HTTPClient:                             env.httpClient(nil),
		AuthorizationSigningAlgValuesSupported: md.AuthorizationSigningAlgValuesSupported,
		AuthorizationResponseIssParameterSupported: md.AuthorizationResponseIssParameterSupported,
	}
	if c.encKey != nil {
		dc.DecryptionKeys = []jarm.DecryptionKey{{KeyID: c.encKID, Key: c.encKey}}
	}
	dec, err := jarm.NewDecoder(dc)
	require.NoError(t, err)
	r.callback, err = dec.DecodeURL(ctx, cb.String(), state)
	require.NoError(t, err, "JARM")
	require.True(t, r.callback.JARM)
	require.Equal(t, c.encKey != nil, r.callback.Encrypted)
	require.Equal(t, md.Issuer, r.callback.Issuer)
	require.Equal(t, state, r.callback.State)

	r.token, err = r.conf.Exchange(r.ctx, r.callback.Code, oauth2.VerifierOption(verifier))
	require.NoError(t, err, "token endpoint")
	require.Equal(t, "DPoP", r.token.Type())
	return r
}

func queryKeys(u *url.URL) []string {
	var keys []string
	for k := range u.Query() {
		keys = append(keys, k)
	}
	return keys
}

func TestFAPIFlow(t *testing.T) {
	t.Parallel()
	type testCase struct {
		name string
		flow fapiFlow
	}
	var tests []testCase
	for _, mode := range nonceModes {
		tests = append(tests,
			testCase{name: "signed request object, signed JARM jwt, nonce " + mode, flow: fapiFlow{
				mode: mode, client: env.fapi, responseMode: jarm.ModeJWT,
			}},
			testCase{name: "ECDH-ES request object, encrypted JARM query.jwt, nonce " + mode, flow: fapiFlow{
				mode: mode, client: env.fapiEnc, responseMode: jarm.ModeQueryJWT, encryptTo: "enc-ecdh",
			}},
		)
	}
	tests = append(tests, testCase{name: "RSA-OAEP-256 request object, encrypted JARM jwt, nonce " + nonceOff, flow: fapiFlow{
		mode: nonceOff, client: env.fapiEnc, responseMode: jarm.ModeJWT, encryptTo: "enc-rsa",
	}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mode, c := tc.flow.mode, tc.flow.client
			tc.flow.scope = "openid email"
			r := runFAPIFlow(t, tc.flow)
			md := r.pv.md
			ctx := testCtx(t)
			require.NotEmpty(t, r.token.Extra("id_token"))
			require.NotEmpty(t, r.token.RefreshToken)

			// userinfo through x/oauth2's transport: it sends
			// "Authorization: DPoP <at>"; dpop.Transport beneath adds the
			// proof with ath (and the resource nonce when asked).
			resp, err := r.conf.Client(r.ctx, r.token).Get(md.UserinfoEndpoint)
			require.NoError(t, err)
			body, err := readPeerResponse("userinfo", resp)
			require.NoError(t, err)
			var ui map[string]any
			require.NoError(t, json.Unmarshal(body, &ui))
			require.Equal(t, accountID, ui["sub"])
			require.Equal(t, accountID+"@interop.test", ui["email"])
			userinfo := r.log.exchanges(md.UserinfoEndpoint)
			require.NotEmpty(t, userinfo)
			last := userinfo[len(userinfo)-1]
			require.Equal(t, http.StatusOK, last.Status)
			require.Equal(t, "DPoP", last.Scheme)

			// The peer bound the token to the dpop key: its cnf.jkt, in
			// JSON and in a signed RFC 9701 response, is the thumbprint
			// dpop computed and the one internal/jose computes.
			wantJKT, err := jose.Thumbprint(r.dpopKey.Public())
			require.NoError(t, err)
			require.Equal(t, wantJKT, r.proofer.JKT())
			var claims json.RawMessage // the introspection response, for verifyAcceptedProofs
			for _, asJWT := range []bool{false, true} {
				in, err := introspect(ctx, r.pv, r.token.AccessToken, asJWT)
				require.NoError(t, err)
				require.True(t, in.Active)
				require.Equal(t, "DPoP", in.TokenType)
				require.Equal(t, wantJKT, in.Cnf.JKT)
				require.Equal(t, c.id, in.ClientID)
				require.Equal(t, accountID, in.Sub)
				cnf, err := dpop.ConfirmationFromClaims(in.Raw)
				require.NoError(t, err)
				require.Equal(t, r.proofer.JKT(), cnf.JKT)
				require.True(t, cnf.Bound())
				// mtlsbound reads the same cnf but refuses to vouch for
				// a jkt-bound token: its verifier does not check DPoP keys.
				mcnf, err := mtlsbound.ConfirmationFromClaims(in.Raw)
				require.NoError(t, err)
				require.Equal(t, wantJKT, mcnf.JKT)
				require.Empty(t, mcnf.X5TS256)
				req := httptest.NewRequestWithContext(ctx, http.MethodGet, md.UserinfoEndpoint, nil)
				_, err = (&mtlsbound.Verifier{}).Check(req, r.token.AccessToken, in.Raw)
				require.ErrorIs(t, err, mtlsbound.ErrUnsupportedConfirmation)
				claims = in.Raw
			}

			// Refresh through x/oauth2's TokenSource: a fresh assertion and
			// proof (and the nonce retry when needed); the new token is
			// bound to the same key.
			old := *r.token
			old.Expiry = time.Now().Add(-time.Minute)
			fresh, err := r.conf.TokenSource(r.ctx, &old).Token()
			require.NoError(t, err, "refresh")
			require.NotEqual(t, r.token.AccessToken, fresh.AccessToken)
			require.Equal(t, "DPoP", fresh.Type())
			in, err := introspect(ctx, r.pv, fresh.AccessToken, true)
			require.NoError(t, err)
			require.True(t, in.Active)
			require.Equal(t, wantJKT, in.Cnf.JKT)
			tokenCalls := r.log.exchanges(md.TokenEndpoint)
			require.Equal(t, http.StatusOK, tokenCalls[len(tokenCalls)-1].Status)

			// The one stack put client credentials on the endpoints
			// AuthTransport lists only: one fresh assertion on each PAR
			// and token attempt (nonce retries included), none and no
			// other Authorization on userinfo.
			parCalls := r.log.exchanges(md.PushedAuthorizationRequestEndpoint)
			require.NotEmpty(t, parCalls)
			for _, e := range r.log.exchanges("") {
				switch e.URL {
				case md.TokenEndpoint, md.PushedAuthorizationRequestEndpoint:
					require.Equal(t, 1, e.Assertions, "%s %s", e.Method, e.URL)
					require.Empty(t, e.Scheme, "%s %s", e.Method, e.URL)
				case md.UserinfoEndpoint:
					require.Zero(t, e.Assertions)
					require.Equal(t, "DPoP", e.Scheme)
				default:
					t.Fatalf("unexpected request to %s %s", e.Method, e.URL)
				}
			}

			// Every proof the peer accepted passes dpop.Verifier, once.
			verifyAcceptedProofs(ctx, t, r, map[string]json.RawMessage{r.token.AccessToken: claims})

			// The nonce mode shows in the traffic (RFC 9449 §8, §9). The
			// one dpop.Transport keeps authorization server and resource
			// nonces apart: the PAR endpoint's nonce serves the token
			// endpoint of the same origin, userinfo gets its own.
			origin := originOf(mustParseURL(t, md.Issuer))
			nonces := []string{r.dpopRT.Nonce(origin, false), r.dpopRT.Nonce(origin, true)}
			// Exchange and refresh, each accepted at the first attempt,
			// whatever the mode.
			require.Len(t, tokenCalls, 2)
			for _, e := range tokenCalls {
				require.Equal(t, http.StatusOK, e.Status)
			}
			switch mode {
			case nonceOff:
				require.Equal(t, []string{"", ""}, nonces)
				require.Zero(t, r.log.nonceChallenges(""))
			case nonceOptional:
				require.NotContains(t, nonces, "")
				require.Zero(t, r.log.nonceChallenges(""))
			case nonceRequired:
				require.NotContains(t, nonces, "")
				// PAR (400) and userinfo (401) each asked once, and every
				// retry was accepted. The token endpoint never asked: the
				// exchange's proof carried a nonce the PAR responses had
				// given.
				require.Equal(t, 1, r.log.nonceChallenges(md.PushedAuthorizationRequestEndpoint))
				require.Zero(t, r.log.nonceChallenges(md.TokenEndpoint))
				require.Equal(t, 1, r.log.nonceChallenges(md.UserinfoEndpoint))
				require.Equal(t, 2, r.log.nonceChallenges(""), "no other challenge")
				require.Len(t, parCalls, 2)
				require.Equal(t, http.StatusBadRequest, parCalls[0].Status)
				require.Equal(t, http.StatusCreated, parCalls[1].Status)
				var parNonces []string
				for _, e := range parCalls {
					if e.Nonce != "" {
						parNonces = append(parNonces, e.Nonce)
					}
				}
				exchangeNonce, err := proofNonce(tokenCalls[0].Proof)
				require.NoError(t, err)
				require.NotEmpty(t, exchangeNonce)
				require.Contains(t, parNonces, exchangeNonce, "the exchange used the nonce learned at PAR")
				require.Equal(t, http.StatusUnauthorized, userinfo[0].Status)
				require.Len(t, userinfo, 2)
			}
		})
	}
}

// verifyAcceptedProofs replays every request whose DPoP proof the peer
// accepted (a 2xx answer) to a dpop.Verifier whose BaseURL is the peer's
// origin: VerifyProof for the authorization server's endpoints, Check with
// the token and the claims the peer reported at a resource. Then it checks
// that the verifier refuses the same proof replayed. claims maps the access
// tokens sent to resources to their introspection response.
func verifyAcceptedProofs(ctx context.Context, t *testing.T, r *fapiResult, claims map[string]json.RawMessage) {
	t.Helper()
	v := &dpop.Verifier{BaseURL: originOf(mustParseURL(t, r.pv.md.Issuer))}
	verify := func(e exchange) (*dpop.Proof, error) {
		req, err := http.NewRequestWithContext(ctx, e.Method, e.URL, nil)
		require.NoError(t, err)
		req.Header.Set("DPoP", e.Proof)
		if e.accessToken == "" {
			return v.VerifyProof(req)
		}
		c, ok := claims[e.accessToken]
		require.True(t, ok, "%s: unexpected access token", e.URL)
		req.Header.Set("Authorization", e.Scheme+" "+e.accessToken)
		res, err := v.Check(req, e.accessToken, c)
		if err != nil {
			return nil, err
		}
		require.True(t, res.Bound)
		require.Equal(t, r.proofer.JKT(), res.Confirmation.JKT)
		return res.Proof, nil
	}
	verified := 0
	for _, e := range r.log.exchanges("") {
		if e.Status/100 != 2 {
			continue
		}
		require.NotEmpty(t, e.Proof, "%s sent without proof", e.URL)
		p, err := verify(e)
		require.NoError(t, err, "proof accepted by the peer at %s %s", e.Method, e.URL)
		require.Equal(t, r.proofer.JKT(), p.JKT)
		require.Equal(t, e.Method, p.Method)
		if e.accessToken != "" {
			require.Equal(t, tokenHash(e.accessToken), p.AccessTokenHash)
		} else {
			require.Empty(t, p.AccessTokenHash)
		}
		_, err = verify(e)
		require.ErrorIs(t, err, dpop.ErrReplay)
		require.ErrorIs(t, err, dpop.ErrInvalidProof)
		verified++
	}
	// PAR, code exchange, userinfo, refresh at least.
	require.GreaterOrEqual(t, verified, 4)
}

// TestFAPIFlowResource asks for a resource whose access tokens are at+jwt
// (RFC 9068): the token names the resource and carries cnf.jkt, and a
// resource server built on dpop.Verifier.Wrap, verifying the token against
// the peer's JWK Set with internal/jose, accepts it with its proof and
// refuses it with another key's proof or a replayed proof.
func TestFAPIFlowResource(t *testing.T) {
	t.Parallel()
	r := runFAPIFlow(t, fapiFlow{mode: nonceRequired, client: env.fapi, scope: "openid read", resource: resourceJWT, responseMode: jarm.ModeQueryJWT})
	claims, err := jwtAccessToken(r.pv, r.token.AccessToken, resourceJWT)
	require.NoError(t, err)
	m := claimsOf(t, claims)
	require.Equal(t, map[string]any{"jkt": r.proofer.JKT()}, m["cnf"])
	require.Equal(t, "read", m["scope"])
	require.Equal(t, accountID, m["sub"])

	var (
		mu   sync.Mutex
		errs []error
	)
	rs := httptest.NewUnstartedServer(nil)
	v := &dpop.Verifier{
		// The origin clients reach the server at: from configuration, never
		// from the request. The listener exists before the server starts.
		BaseURL: "https://" + rs.Listener.Addr().String(),
		Token: func(_ context.Context, token string) (json.RawMessage, error) {
			return jwtAccessToken(r.pv, token, resourceJWT)
		},
		OnError: func(_ *http.Request, err error) {
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		},
	}
	lastErr := func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) == 0 {
			return nil
		}
		return errs[len(errs)-1]
	}
	rs.Config.Handler = v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		res, ok := dpop.FromContext(req.Context())
		if !ok {
			http.Error(w, "no dpop result", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"jkt": res.Proof.JKT})
	}))
	rs.TLS = env.serverTLS()
	rs.StartTLS()
	t.Cleanup(rs.Close)
	require.Equal(t, v.BaseURL, rs.URL)
	ctx := testCtx(t)

	// The client's own transports, the token the peer issued.
	resp, err := r.conf.Client(r.ctx, r.token).Get(rs.URL + "/data")
	require.NoError(t, err)
	body, err := readPeerResponse("resource", resp)
	require.NoError(t, err, "dpop.Verifier rejected: %v", lastErr())
	require.JSONEq(t, `{"jkt":"`+r.proofer.JKT()+`"}`, string(body))

	// The same token with a proof of another key.
	otherKey, err := dpop.GenerateKey()
	require.NoError(t, err)
	other, err := dpop.NewProofer(dpop.ProoferConfig{Key: otherKey})
	require.NoError(t, err)
	otherCtx := context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: &dpop.Transport{Base: env.transport(nil), Proofer: other}})
	resp, err = r.conf.Client(otherCtx, r.token).Get(rs.URL + "/data")
	require.NoError(t, err)
	_, err = readPeerResponse("resource", resp)
	var pe *peerError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, http.StatusUnauthorized, pe.Status)
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	require.ErrorIs(t, lastErr(), dpop.ErrBindingMismatch)

	// The accepted request replayed as it was sent.
	accepted := r.log.exchanges(rs.URL + "/data")
	require.NotEmpty(t, accepted)
	sent := accepted[len(accepted)-1]
	require.Equal(t, http.StatusOK, sent.Status)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rs.URL+"/data", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "DPoP "+sent.accessToken)
	req.Header.Set("DPoP", sent.Proof)
	resp, err = env.httpClient(nil).Do(req)
	require.NoError(t, err)
	_, err = readPeerResponse("resource", resp)
	require.ErrorAs(t, err, &pe)
	require.Equal(t, http.StatusUnauthorized, pe.Status)
	require.ErrorIs(t, lastErr(), dpop.ErrReplay)
}

// TestDPoPBindingEnforced proves the peer refuses a DPoP-bound token used
// without its proof, so the positive tests above mean something.
func TestDPoPBindingEnforced(t *testing.T) {
	t.Parallel()
	r := runFAPIFlow(t, fapiFlow{mode: nonceOff, client: env.fapi, scope: "openid", responseMode: jarm.ModeJWT})
	ctx := testCtx(t)
	tests := []struct {
		name       string
		scheme     string
		wantStatus int
		wantError  string
	}{
		{name: "as Bearer", scheme: "Bearer", wantStatus: http.StatusUnauthorized, wantError: "invalid_token"},
		{name: "as DPoP without proof", scheme: "DPoP", wantStatus: http.StatusBadRequest, wantError: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.pv.md.UserinfoEndpoint, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", tc.scheme+" "+r.token.AccessToken)
			resp, err := env.httpClient(nil).Do(req)
			require.NoError(t, err)
			_, err = readPeerResponse("userinfo", resp)
			var pe *peerError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.wantStatus, pe.Status)
			require.NotNil(t, pe.OAuth, "OAuth error body")
			require.Equal(t, tc.wantError, pe.OAuth.Code)
		})
	}
}

// TestRejections feeds the packages the peer's real answers in situations
// where they must refuse: a JARM response that is not for this client,
// issuer or state, a replayed code, a request object for another audience.
func TestRejections(t *testing.T) {
	t.Parallel()
	r := runFAPIFlow(t, fapiFlow{mode: nonceOff, client: env.fapi, scope: "openid", responseMode: jarm.ModeJWT})
	md := r.pv.md
	ctx := testCtx(t)
	otherPeer := env.peers[nonceOptional]
	require.NotNil(t, otherPeer)

	jarmTests := []struct {
		name    string
		cfg     jarm.Config
		state   string
		wantErr error
	}{
		{name: "JARM for another client", cfg: jarm.Config{Issuer: md.Issuer, ClientID: env.fapiEnc.id, JWKSURL: md.JWKSURI}, state: r.state, wantErr: jarm.ErrAudienceMismatch},
		{name: "JARM expected from another issuer", cfg: jarm.Config{Issuer: otherPeer.issuer, ClientID: env.fapi.id, JWKSURL: otherPeer.issuer + "/jwks"}, state: r.state, wantErr: jarm.ErrIssuerMismatch},
		{name: "JARM with another state", cfg: jarm.Config{Issuer: md.Issuer, ClientID: env.fapi.id, JWKSURL: md.JWKSURI}, state: randomString(), wantErr: jarm.ErrStateMismatch},
		{name: "JARM signed where encryption is required", cfg: jarm.Config{Issuer: md.Issuer, ClientID: env.fapi.id, JWKSURL: md.JWKSURI, DecryptionKeys: []jarm.DecryptionKey{{KeyID: env.fapiEnc.encKID, Key: env.fapiEnc.encKey}}}, state: r.state, wantErr: jarm.ErrNotEncrypted},
	}
	for _, tc := range jarmTests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.HTTPClient = env.httpClient(nil)
			dec, err := jarm.NewDecoder(tc.cfg)
			require.NoError(t, err)
			_, err = dec.DecodeURL(ctx, r.callbackURL.String(), tc.state)
			require.ErrorIs(t, err, tc.wantErr)
		})
	}

	t.Run("code replayed", func(t *testing.T) {
		_, err := r.conf.Exchange(r.ctx, r.callback.Code)
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re)
		require.Equal(t, "invalid_grant", re.ErrorCode)
	})

	t.Run("request object for another audience", func(t *testing.T) {
		c := env.fapi
		jc := jar.Config{ClientID: c.id, Issuer: otherPeer.issuer, Key: c.key, KeyID: c.kid}
		ro, err := jc.Build(jar.AuthCodeParams(r.conf, randomString(),
			oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), jarm.ResponseModeOption(jarm.ModeJWT)))
		require.NoError(t, err)
		_, hc := clientStack(md, c.privateKeyJWT(md.Issuer), r.proofer, env.transport(nil))
		parConf := &par.Config{Endpoint: md.PushedAuthorizationRequestEndpoint, ClientID: c.id, HTTPClient: hc}
		_, err = parConf.PushRequestObject(ctx, ro.JWT)
		var pe *par.Error
		require.ErrorAs(t, err, &pe)
		require.ErrorIs(t, err, par.ErrErrorResponse)
		require.Equal(t, http.StatusBadRequest, pe.Status)
		require.Equal(t, "invalid_request_object", pe.Code)
		// The module's one OAuth error target catches it too.
		require.ErrorIs(t, err, &hardened.Error{Code: "invalid_request_object", Status: http.StatusBadRequest})
	})
}
