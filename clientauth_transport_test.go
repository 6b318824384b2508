package hardened_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// tokenEndpoint is a strict token endpoint for private_key_jwt clients: it
// verifies the client assertion with internal/jose, refuses a reused jti
// and any second credential, and can ask for a DPoP nonce on the first
// request to exercise a retry above the AuthTransport.
type tokenEndpoint struct {
	clientID string
	audience string
	pub      crypto.PublicKey
	alg      string
	// nonceFirst answers the first valid request with 400 use_dpop_nonce.
	nonceFirst bool

	mu    sync.Mutex
	seen  map[string]bool
	jtis  []string
	calls int
}

func newTokenEndpoint(clientID, audience string, pub crypto.PublicKey, alg string) *tokenEndpoint {
	return &tokenEndpoint{clientID: clientID, audience: audience, pub: pub, alg: alg, seen: map[string]bool{}}
}

func (te *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(code, desc string) {
		oautherr.Write(w, &oautherr.Error{Code: code, Description: desc, Status: http.StatusBadRequest})
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		fail("invalid_request", "not a form POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		fail("invalid_request", "bad form")
		return
	}
	f := r.PostForm
	switch {
	case r.Header.Get("Authorization") != "":
		fail("invalid_request", "more than one client authentication method")
		return
	case f.Has("client_secret"):
		fail("invalid_request", "client_secret sent with private_key_jwt")
		return
	case len(f["client_id"]) > 1 || (f.Has("client_id") && f.Get("client_id") != te.clientID):
		fail("invalid_client", "client_id")
		return
	case f.Get("client_assertion_type") != hardened.ClientAssertionType || len(f["client_assertion"]) != 1:
		fail("invalid_client", "no client assertion")
		return
	}
	j, err := jose.ParseCompact(f.Get("client_assertion"))
	if err != nil {
		fail("invalid_client", "malformed assertion")
		return
	}
	if err := j.Verify(te.pub, []string{te.alg}); err != nil {
		fail("invalid_client", "bad signature")
		return
	}
	var c jose.Claims
	if err := json.Unmarshal(j.Payload, &c); err != nil {
		fail("invalid_client", "bad claims")
		return
	}
	if err := c.Validate(jose.Expected{
		Issuer: te.clientID, Audience: te.audience, Now: time.Now(), Skew: 5 * time.Second,
		RequireExpiry: true, RequireIssuedAt: true, MaxAge: time.Minute,
	}); err != nil || c.Subject != te.clientID || c.ID == "" {
		fail("invalid_client", "claims")
		return
	}
	te.mu.Lock()
	reused := te.seen[c.ID]
	te.seen[c.ID] = true
	te.jtis = append(te.jtis, c.ID)
	te.calls++
	first := te.calls == 1
	te.mu.Unlock()
	if reused {
		fail("invalid_client", "jti reused")
		return
	}
	if te.nonceFirst && first {
		w.Header().Set("DPoP-Nonce", "n-1")
		fail("use_dpop_nonce", "nonce required")
		return
	}
	if f.Get("grant_type") != "authorization_code" || f.Get("code") != "good-code" {
		fail("invalid_grant", "code")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + c.ID[:8], "token_type": "Bearer", "expires_in": 60})
}

func (te *tokenEndpoint) seenJTIs() []string {
	te.mu.Lock()
	defer te.mu.Unlock()
	return append([]string(nil), te.jtis...)
}

// retryOnNonce stands for dpop.Transport above the AuthTransport: on a 400
// use_dpop_nonce it rebuilds the request from the original request's
// GetBody and sends it once more.
type retryOnNonce struct{ next http.RoundTripper }

func (rt retryOnNonce) RoundTrip(req *http.Request) (*http.Response, error) {
	retry, err := httpx.CloneForRetry(req)
	if err != nil {
		httpx.CloseBody(req)
		return nil, err
	}
	resp, err := rt.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusBadRequest || resp.Header.Get("DPoP-Nonce") == "" {
		httpx.CloseBody(retry)
		return resp, err
	}
	httpx.DrainClose(resp.Body)
	retry.Header.Set("DPoP", "proof-with-nonce")
	return rt.next.RoundTrip(retry)
}

func TestAuthTransportExchange(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	tests := []struct {
		name       string
		style      oauth2.AuthStyle
		secret     string // oauth2.Config.ClientSecret: must never reach the server
		nonceFirst bool
	}{
		{name: "in params", style: oauth2.AuthStyleInParams},
		{name: "in params with a stray secret", style: oauth2.AuthStyleInParams, secret: "stray"},
		{name: "in header with a stray secret", style: oauth2.AuthStyleInHeader, secret: "stray"},
		{name: "in header without secret", style: oauth2.AuthStyleInHeader},
		{name: "nonce retry above", style: oauth2.AuthStyleInParams, nonceFirst: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewTLSServer(nil)
			defer srv.Close()
			te := newTokenEndpoint(testClientID, srv.URL, ec.Public(), jose.ES256)
			te.nonceFirst = tc.nonceFirst
			srv.Config.Handler = te

			var rt http.RoundTripper = &hardened.AuthTransport{
				Base:      srv.Client().Transport,
				Auth:      hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Audience: srv.URL, KeyID: "k1"},
				Endpoints: []string{srv.URL + "/token"},
			}
			if tc.nonceFirst {
				rt = retryOnNonce{rt}
			}
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Transport: rt})
			conf := &oauth2.Config{
				ClientID:     testClientID,
				ClientSecret: tc.secret,
				Endpoint:     oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: tc.style},
			}
			tok, err := conf.Exchange(ctx, "good-code")
			require.NoError(t, err)
			require.Equal(t, "Bearer", tok.TokenType)
			// A second exchange gets a new assertion, or the server would
			// refuse the reused jti.
			_, err = conf.Exchange(ctx, "good-code")
			require.NoError(t, err)
			jtis := te.seenJTIs()
			want := 2
			if tc.nonceFirst {
				want = 3
			}
			require.Len(t, jtis, want)
			require.Len(t, uniq(jtis), want, "every attempt carries a new jti")
		})
	}
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// TestAuthTransportServerRejectsReplay proves the test server would catch
// a transport that replayed one assertion.
func TestAuthTransportServerRejectsReplay(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	srv.Config.Handler = newTokenEndpoint(testClientID, srv.URL, ec.Public(), jose.ES256)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"good-code"}}
	auth := hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Audience: srv.URL}
	require.NoError(t, auth.Authenticate(form, nil))
	for i, want := range []int{http.StatusOK, http.StatusBadRequest} {
		resp, err := srv.Client().PostForm(srv.URL+"/token", form)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, "attempt %d", i)
		if want == http.StatusBadRequest {
			e, err := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body)
			require.NoError(t, err)
			require.Equal(t, "invalid_client", e.Code)
		}
	}
}

// TestAuthTransportFreshPerRoundTrip calls RoundTrip twice with requests
// built from one original request, as a retrying transport above does,
// and checks each call authenticates afresh and the original is untouched.
func TestAuthTransportFreshPerRoundTrip(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	var (
		mu     sync.Mutex
		bodies []url.Values
		hdrs   []http.Header
	)
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, err
		}
		// The clone's GetBody replays the same authenticated body.
		gb, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		again, _ := io.ReadAll(gb)
		if !bytes.Equal(again, b) || r.ContentLength != int64(len(b)) {
			return nil, errors.New("GetBody or ContentLength of the clone is wrong")
		}
		mu.Lock()
		bodies = append(bodies, form)
		hdrs = append(hdrs, r.Header.Clone())
		mu.Unlock()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Header: http.Header{}, Request: r}, nil
	})
	tr := &hardened.AuthTransport{Base: base, Auth: hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Audience: testIssuer}}
	orig := "grant_type=authorization_code&code=c&client_id=" + testClientID + "&client_secret=stray"
	req, err := http.NewRequest(http.MethodPost, "https://as.example/token", strings.NewReader(orig))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+basicCred(testClientID, "stray"))

	for range 2 {
		r, err := httpx.CloneForRetry(req)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(r)
		require.NoError(t, err)
		resp.Body.Close()
	}
	require.Len(t, bodies, 2)
	var jtis []string
	for i, f := range bodies {
		require.Empty(t, f["client_secret"], "x/oauth2's secret is stripped")
		require.Equal(t, []string{testClientID}, f["client_id"])
		require.Equal(t, "c", f.Get("code"))
		require.Empty(t, hdrs[i].Get("Authorization"), "x/oauth2's Basic header is stripped")
		v := verifyAssertion(t, f, ec.Public(), jose.ES256)
		jtis = append(jtis, v.claims.ID)
	}
	require.NotEqual(t, jtis[0], jtis[1])
	// The original request is not modified.
	require.Equal(t, "Basic "+basicCred(testClientID, "stray"), req.Header.Get("Authorization"))
	gb, err := req.GetBody()
	require.NoError(t, err)
	b, _ := io.ReadAll(gb)
	require.Equal(t, orig, string(b))
}

func basicCred(id, secret string) string {
	return base64Std(url.QueryEscape(id) + ":" + url.QueryEscape(secret))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// trackedBody records whether it was closed.
type trackedBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *trackedBody) Close() error { b.closed.Store(true); return nil }

func TestAuthTransportRejects(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	jwt := hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Audience: testIssuer}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name      string
		tr        hardened.AuthTransport
		method    string
		url       string
		ctype     string
		body      string
		auth      string // Authorization header
		noGetBody bool
		wantIs    error
	}{
		{name: "nil Auth", tr: hardened.AuthTransport{}, wantIs: hardened.ErrInvalidConfig},
		{name: "GET", method: http.MethodGet, wantIs: hardened.ErrUnsupportedRequest},
		{name: "JSON body", ctype: "application/json", body: `{"a":1}`, wantIs: hardened.ErrUnsupportedRequest},
		{name: "no content type", ctype: "-", wantIs: hardened.ErrUnsupportedRequest},
		{name: "malformed form", body: "a=%zz", wantIs: hardened.ErrUnsupportedRequest},
		{name: "body too large", tr: hardened.AuthTransport{Auth: jwt, MaxBodyBytes: 16}, body: "grant_type=authorization_code&code=0123456789", wantIs: hardened.ErrUnsupportedRequest},
		{name: "body too large without GetBody", tr: hardened.AuthTransport{Auth: jwt, MaxBodyBytes: 16}, body: "grant_type=authorization_code&code=0123456789", noGetBody: true, wantIs: hardened.ErrUnsupportedRequest},
		{name: "endpoint not allowed", tr: hardened.AuthTransport{Auth: jwt, Endpoints: []string{"https://as.example/token"}}, url: "https://rs.example/token", wantIs: hardened.ErrEndpointNotAllowed},
		{name: "endpoint path differs", tr: hardened.AuthTransport{Auth: jwt, Endpoints: []string{"https://as.example/token"}}, url: "https://as.example/token2", wantIs: hardened.ErrEndpointNotAllowed},
		{name: "endpoint scheme differs", tr: hardened.AuthTransport{Auth: jwt, Endpoints: []string{"https://as.example/token"}}, url: "http://as.example/token", wantIs: hardened.ErrEndpointNotAllowed},
		{name: "relative endpoint configured", tr: hardened.AuthTransport{Auth: jwt, Endpoints: []string{"/token"}}, wantIs: hardened.ErrInvalidConfig},
		{name: "x/oauth2 client_id differs", body: "grant_type=authorization_code&code=c&client_id=other", wantIs: hardened.ErrConflictingCredentials},
		{name: "two client_ids", body: "client_id=" + testClientID + "&client_id=" + testClientID, wantIs: hardened.ErrConflictingCredentials},
		{name: "Basic user differs", auth: "Basic " + basicCred("other", "x"), wantIs: hardened.ErrConflictingCredentials},
		{name: "Basic not base64", auth: "Basic !!!", wantIs: hardened.ErrConflictingCredentials},
		{name: "Bearer header", auth: "Bearer at", wantIs: hardened.ErrConflictingCredentials},
		{name: "assertion already in body", body: "client_assertion=x.y.z&client_assertion_type=" + url.QueryEscape(hardened.ClientAssertionType), wantIs: hardened.ErrConflictingCredentials},
		{name: "misconfigured Auth", tr: hardened.AuthTransport{Auth: hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec}}, wantIs: hardened.ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var baseCalls atomic.Int32
			tr := tc.tr
			if tr.Auth == nil && tc.name != "nil Auth" {
				tr.Auth = jwt
			}
			tr.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
				baseCalls.Add(1)
				return nil, errors.New("base must not be called")
			})
			method, u, ctype, body := tc.method, tc.url, tc.ctype, tc.body
			if method == "" {
				method = http.MethodPost
			}
			if u == "" {
				u = "https://as.example/token"
			}
			if body == "" {
				body = "grant_type=authorization_code&code=c"
			}
			tb := &trackedBody{Reader: strings.NewReader(body)}
			req, err := http.NewRequest(method, u, tb)
			require.NoError(t, err)
			if !tc.noGetBody {
				req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
			}
			switch ctype {
			case "":
				req.Header.Set("Content-Type", form)
			case "-":
			default:
				req.Header.Set("Content-Type", ctype)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := tr.RoundTrip(req)
			require.Nil(t, resp)
			require.ErrorIs(t, err, tc.wantIs)
			require.True(t, tb.closed.Load(), "the request body must be closed on every path")
			require.Zero(t, baseCalls.Load(), "nothing may be sent")
		})
	}
}

func TestAuthTransportMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		auth       hardened.ClientAuth
		style      oauth2.AuthStyle
		wantForm   url.Values
		wantHeader string
	}{
		{
			name: "client_secret_basic replaces x/oauth2's header", auth: hardened.ClientSecretBasic{ClientID: "a b", ClientSecret: "p@ss:word%"},
			style:      oauth2.AuthStyleInHeader,
			wantForm:   url.Values{"grant_type": {"client_credentials"}},
			wantHeader: "Basic YStiOnAlNDBzcyUzQXdvcmQlMjU=",
		},
		{
			name: "client_secret_basic with AuthStyleInParams", auth: hardened.ClientSecretBasic{ClientID: "a b", ClientSecret: "p@ss:word%"},
			style:      oauth2.AuthStyleInParams,
			wantForm:   url.Values{"grant_type": {"client_credentials"}},
			wantHeader: "Basic YStiOnAlNDBzcyUzQXdvcmQlMjU=",
		},
		{
			name: "client_secret_post", auth: hardened.ClientSecretPost{ClientID: "a b", ClientSecret: "p@ss:word%"},
			style:    oauth2.AuthStyleInParams,
			wantForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {"a b"}, "client_secret": {"p@ss:word%"}},
		},
		{
			name: "tls_client_auth", auth: hardened.TLSClientAuth{ClientID: "a b"},
			style:    oauth2.AuthStyleInParams,
			wantForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {"a b"}},
		},
		{
			name: "none", auth: hardened.NoClientAuth{ClientID: "a b"},
			style:    oauth2.AuthStyleInHeader,
			wantForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {"a b"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var gotForm url.Values
			var gotHeader string
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = r.ParseForm()
				gotForm, gotHeader = r.PostForm, r.Header.Get("Authorization")
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer","expires_in":60}`)
			}))
			defer srv.Close()
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{
				Transport: &hardened.AuthTransport{Base: srv.Client().Transport, Auth: tc.auth},
			})
			// Client credentials through x/oauth2's own code, with a secret
			// in the Config that must not be what is sent.
			conf := clientCredentials(srv.URL+"/token", "a b", "oauth2-config-secret", tc.style)
			_, err := conf.Token(ctx)
			require.NoError(t, err)
			require.Equal(t, tc.wantForm, gotForm)
			require.Equal(t, tc.wantHeader, gotHeader)
		})
	}
}

// TestAuthTransportConcurrent runs exchanges in parallel through one
// transport, under -race.
func TestAuthTransportConcurrent(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	te := newTokenEndpoint(testClientID, srv.URL, ec.Public(), jose.ES256)
	srv.Config.Handler = te
	client := &http.Client{Transport: &hardened.AuthTransport{
		Base: srv.Client().Transport,
		Auth: &hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Audience: srv.URL},
	}}
	conf := &oauth2.Config{ClientID: testClientID, Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, client)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := conf.Exchange(ctx, "good-code")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, uniq(te.seenJTIs()), n)
}

func clientCredentials(tokenURL, id, secret string, style oauth2.AuthStyle) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: tokenURL, AuthStyle: style}
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
