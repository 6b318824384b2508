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
	"maps"
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
	"github.com/hardened-oauth/hardened/dpop"
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
	// tokenType is the token_type issued; empty means Bearer.
	tokenType string
	// refreshToken, when set, is issued with every token and accepted
	// for grant_type=refresh_token.
	refreshToken string

	mu    sync.Mutex
	seen  map[string]bool
	jtis  []string
	calls int
}

func newTokenEndpoint(clientID, audience string, pub crypto.PublicKey, alg string) *tokenEndpoint {
	return &tokenEndpoint{clientID: clientID, audience: audience, pub: pub, alg: alg, seen: map[string]bool{}}
}

func (te *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, c, ok := te.authenticate(w, r)
	if !ok {
		return
	}
	fail := func(code, desc string) {
		oautherr.Write(w, &oautherr.Error{Code: code, Description: desc, Status: http.StatusBadRequest})
	}
	te.mu.Lock()
	te.calls++
	first := te.calls == 1
	te.mu.Unlock()
	if te.nonceFirst && first {
		w.Header().Set("DPoP-Nonce", "n-1")
		fail("use_dpop_nonce", "nonce required")
		return
	}
	switch {
	case f.Get("grant_type") == "authorization_code" && f.Get("code") == "good-code":
	case te.refreshToken != "" && f.Get("grant_type") == "refresh_token" && f.Get("refresh_token") == te.refreshToken:
	default:
		fail("invalid_grant", "code")
		return
	}
	resp := map[string]any{"access_token": "at-" + c.ID[:8], "token_type": "Bearer", "expires_in": 60}
	if te.tokenType != "" {
		resp["token_type"] = te.tokenType
	}
	if te.refreshToken != "" {
		resp["refresh_token"] = te.refreshToken
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(resp)
}

// authenticate checks the client authentication of r (a form POST with
// exactly one private_key_jwt assertion whose jti was never seen) and
// records the jti. On failure it writes the error response.
func (te *tokenEndpoint) authenticate(w http.ResponseWriter, r *http.Request) (url.Values, *jose.Claims, bool) {
	fail := func(code, desc string) (url.Values, *jose.Claims, bool) {
		oautherr.Write(w, &oautherr.Error{Code: code, Description: desc, Status: http.StatusBadRequest})
		return nil, nil, false
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return fail("invalid_request", "not a form POST")
	}
	if err := r.ParseForm(); err != nil {
		return fail("invalid_request", "bad form")
	}
	f := r.PostForm
	switch {
	case r.Header.Get("Authorization") != "":
		return fail("invalid_request", "more than one client authentication method")
	case f.Has("client_secret"):
		return fail("invalid_request", "client_secret sent with private_key_jwt")
	case len(f["client_id"]) > 1 || (f.Has("client_id") && f.Get("client_id") != te.clientID):
		return fail("invalid_client", "client_id")
	case f.Get("client_assertion_type") != hardened.ClientAssertionType || len(f["client_assertion"]) != 1:
		return fail("invalid_client", "no client assertion")
	}
	j, err := jose.ParseCompact(f.Get("client_assertion"))
	if err != nil {
		return fail("invalid_client", "malformed assertion")
	}
	if err := j.Verify(te.pub, []string{te.alg}); err != nil {
		return fail("invalid_client", "bad signature")
	}
	var c jose.Claims
	if err := json.Unmarshal(j.Payload, &c); err != nil {
		return fail("invalid_client", "bad claims")
	}
	if err := c.Validate(jose.Expected{
		Issuer: te.clientID, Audience: te.audience, Now: time.Now(), Skew: 5 * time.Second,
		RequireExpiry: true, RequireIssuedAt: true, MaxAge: time.Minute,
	}); err != nil || c.Subject != te.clientID || c.ID == "" {
		return fail("invalid_client", "claims")
	}
	te.mu.Lock()
	reused := te.seen[c.ID]
	te.seen[c.ID] = true
	te.jtis = append(te.jtis, c.ID)
	te.mu.Unlock()
	if reused {
		return fail("invalid_client", "jti reused")
	}
	return f, &c, true
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
		secret     string // oauth2.Config.ClientSecret
		nonceFirst bool
		wantErr    error
	}{
		{name: "in params", style: oauth2.AuthStyleInParams},
		{name: "nonce retry above", style: oauth2.AuthStyleInParams, nonceFirst: true},
		{name: "a secret in oauth2.Config", style: oauth2.AuthStyleInParams, secret: "stray", wantErr: hardened.ErrConflictingCredentials},
		{name: "AuthStyleInHeader", style: oauth2.AuthStyleInHeader, wantErr: hardened.ErrConflictingCredentials},
		{name: "AuthStyleInHeader with a secret", style: oauth2.AuthStyleInHeader, secret: "stray", wantErr: hardened.ErrConflictingCredentials},
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
				Auth:      hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: srv.URL, KeyID: "k1"},
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
			if tc.wantErr != nil {
				// x/oauth2's own credentials are refused, not replaced:
				// AuthTransport is the one source of credentials.
				require.ErrorIs(t, err, tc.wantErr)
				require.Empty(t, te.seenJTIs(), "nothing reaches the server")
				return
			}
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
	auth := hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: srv.URL}
	require.NoError(t, hardened.Authenticate(auth, form, nil))
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
	tr := &hardened.AuthTransport{
		Base:      base,
		Auth:      hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: testIssuer},
		Endpoints: []string{"https://as.example/token"},
	}
	orig := "grant_type=authorization_code&code=c&client_id=" + testClientID
	req, err := http.NewRequest(http.MethodPost, "https://as.example/token", strings.NewReader(orig))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", "proof-1")

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
		require.Empty(t, f["client_secret"])
		require.Equal(t, []string{testClientID}, f["client_id"])
		require.Equal(t, "c", f.Get("code"))
		require.Empty(t, hdrs[i].Get("Authorization"))
		require.Equal(t, "proof-1", hdrs[i].Get("DPoP"), "other headers are kept")
		v := verifyAssertion(t, f, ec.Public(), jose.ES256)
		jtis = append(jtis, v.claims.ID)
	}
	require.NotEqual(t, jtis[0], jtis[1])
	// The original request is not modified.
	require.Equal(t, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Dpop": {"proof-1"}}, req.Header)
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
	jwt := hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: testIssuer}
	const token = "https://as.example/token"
	var nilJWT *hardened.PrivateKeyJWT
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name      string
		tr        hardened.AuthTransport // Auth and Endpoints default to jwt and [token]
		method    string
		url       string
		ctype     string
		body      string
		auth      string // Authorization header
		noGetBody bool
		nilAuth   bool // leave tr.Auth nil
		wantIs    error
		wantField string // ConfigError.Field
	}{
		// Configuration: every request fails, passed through or not.
		{name: "nil Auth", nilAuth: true, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Auth"},
		{name: "typed nil Auth", tr: hardened.AuthTransport{Auth: nilJWT}, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Auth"},
		{name: "nil Auth, unlisted URL", nilAuth: true, url: "https://rs.example/api", wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Auth"},
		{name: "no Endpoints", tr: hardened.AuthTransport{Endpoints: []string{}}, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "no Endpoints, resource request", tr: hardened.AuthTransport{Endpoints: []string{}}, method: http.MethodGet, url: "https://rs.example/api", wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "negative MaxBodyBytes", tr: hardened.AuthTransport{MaxBodyBytes: -1}, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.MaxBodyBytes"},
		{name: "relative endpoint configured", tr: hardened.AuthTransport{Endpoints: []string{"/token"}}, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "endpoint without host", tr: hardened.AuthTransport{Endpoints: []string{"https:///token"}}, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "endpoint with a query", tr: hardened.AuthTransport{Endpoints: []string{"https://as.example/token?tenant=a"}}, url: "https://as.example/token?tenant=a", wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "endpoint with an empty query", tr: hardened.AuthTransport{Endpoints: []string{"https://as.example/token?"}}, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "endpoint with a fragment", tr: hardened.AuthTransport{Endpoints: []string{"https://as.example/token#f"}}, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "endpoint with user information", tr: hardened.AuthTransport{Endpoints: []string{"https://u:p@as.example/token"}}, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "endpoint not http", tr: hardened.AuthTransport{Endpoints: []string{"ftp://as.example/token"}}, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "one bad endpoint among good ones, unlisted URL", tr: hardened.AuthTransport{Endpoints: []string{token, "token"}}, url: "https://rs.example/api", method: http.MethodGet, wantIs: hardened.ErrInvalidConfig, wantField: "AuthTransport.Endpoints"},
		{name: "misconfigured Auth", tr: hardened.AuthTransport{Auth: hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec}}, wantIs: hardened.ErrInvalidConfig, wantField: "PrivateKeyJWT.Issuer"},

		// Requests to a listed endpoint that cannot be authenticated.
		{name: "GET", method: http.MethodGet, wantIs: hardened.ErrUnsupportedRequest},
		{name: "JSON body", ctype: "application/json", body: `{"a":1}`, wantIs: hardened.ErrUnsupportedRequest},
		{name: "no content type", ctype: "-", wantIs: hardened.ErrUnsupportedRequest},
		{name: "malformed form", body: "a=%zz", wantIs: hardened.ErrUnsupportedRequest},
		{name: "body too large", tr: hardened.AuthTransport{MaxBodyBytes: 16}, body: "grant_type=authorization_code&code=0123456789", wantIs: hardened.ErrUnsupportedRequest},
		{name: "body too large without GetBody", tr: hardened.AuthTransport{MaxBodyBytes: 16}, body: "grant_type=authorization_code&code=0123456789", noGetBody: true, wantIs: hardened.ErrUnsupportedRequest},
		{name: "query in a request to a listed endpoint", url: "https://as.example/token?x=1", wantIs: hardened.ErrUnsupportedRequest},
		{name: "empty query in a request to a listed endpoint", url: "https://as.example/token?", wantIs: hardened.ErrUnsupportedRequest},

		// Credentials already on the request: AuthTransport is their one source.
		{name: "x/oauth2 client_secret", body: "grant_type=authorization_code&code=c&client_id=" + testClientID + "&client_secret=s", wantIs: hardened.ErrConflictingCredentials},
		{name: "empty client_secret", body: "grant_type=authorization_code&client_secret=", wantIs: hardened.ErrConflictingCredentials},
		{name: "x/oauth2 Basic header", auth: "Basic " + basicCred(testClientID, "s"), wantIs: hardened.ErrConflictingCredentials},
		{name: "x/oauth2 Basic header without secret", auth: "Basic " + basicCred(testClientID, ""), wantIs: hardened.ErrConflictingCredentials},
		{name: "Bearer header", auth: "Bearer at", wantIs: hardened.ErrConflictingCredentials},
		{name: "assertion already in body", body: parLikeBody, wantIs: hardened.ErrConflictingCredentials},
		{name: "assertion type alone", body: "client_assertion_type=" + url.QueryEscape(hardened.ClientAssertionType), wantIs: hardened.ErrConflictingCredentials},
		{name: "client_id differs", body: "grant_type=authorization_code&code=c&client_id=other", wantIs: hardened.ErrConflictingCredentials},
		{name: "two client_ids", body: "client_id=" + testClientID + "&client_id=" + testClientID, wantIs: hardened.ErrConflictingCredentials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var baseCalls atomic.Int32
			tr := tc.tr
			if tr.Auth == nil && !tc.nilAuth {
				tr.Auth = jwt
			}
			if tr.Endpoints == nil {
				tr.Endpoints = []string{token}
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
				u = token
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
			if tc.wantField != "" {
				var ce *hardened.ConfigError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tc.wantField, ce.Field)
			}
			if tc.wantIs == hardened.ErrConflictingCredentials {
				// The text names the fix: the credentials' one source.
				require.Contains(t, err.Error(), "AuthTransport")
			}
			require.True(t, tb.closed.Load(), "the request body must be closed on every path")
			require.Zero(t, baseCalls.Load(), "nothing may be sent")
		})
	}
}

// TestAuthTransportConflictNamesFix checks that each kind of carried
// credential is refused with a text that names what to change.
func TestAuthTransportConflictNamesFix(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	tr := &hardened.AuthTransport{
		Base:      roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("base must not be called") }),
		Auth:      hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: testIssuer},
		Endpoints: []string{"https://as.example/token"},
	}
	tests := []struct {
		name, body, auth, fix string
	}{
		{name: "secret", body: "client_secret=s", fix: "ClientSecret"},
		{name: "assertion", body: "client_assertion=x.y.z", fix: "remove it"},
		{name: "header", auth: "Basic eDp5", fix: "AuthStyleInParams"},
		{name: "client_id", body: "client_id=other", fix: "one client identifier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodPost, "https://as.example/token", strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			_, err = tr.RoundTrip(req)
			require.ErrorIs(t, err, hardened.ErrConflictingCredentials)
			require.Contains(t, err.Error(), tc.fix)
			require.NotContains(t, err.Error(), "eDp5")
		})
	}
}

// TestAuthTransportNilBase checks that a nil Base sends through the
// module's default transport (timeouts, TLS 1.2+), not
// http.DefaultTransport.
func TestAuthTransportNilBase(t *testing.T) {
	t.Parallel()
	tr := &hardened.AuthTransport{}
	require.True(t, hardened.BaseOf(tr) == httpx.Transport(nil), "nil Base is httpx.Transport(nil)")
	require.False(t, hardened.BaseOf(tr) == http.DefaultTransport)
	custom := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("x") })
	require.NotNil(t, hardened.BaseOf(&hardened.AuthTransport{Base: custom}))
}

func TestAuthTransportMethods(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	tests := []struct {
		name       string
		auth       hardened.ClientAuth
		wantForm   url.Values
		wantHeader string
	}{
		{
			name: "client_secret_basic", auth: hardened.ClientSecretBasic{ClientID: "a b", ClientSecret: "p@ss:word%"},
			wantForm:   url.Values{"grant_type": {"client_credentials"}, "client_id": {"a b"}},
			wantHeader: "Basic YStiOnAlNDBzcyUzQXdvcmQlMjU=",
		},
		{
			name: "client_secret_post", auth: hardened.ClientSecretPost{ClientID: "a b", ClientSecret: "p@ss:word%"},
			wantForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {"a b"}, "client_secret": {"p@ss:word%"}},
		},
		{
			name: "tls_client_auth", auth: hardened.TLSClientAuth{ClientID: "a b"},
			wantForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {"a b"}},
		},
		{
			name: "self_signed_tls_client_auth", auth: hardened.SelfSignedTLSClientAuth{ClientID: "a b"},
			wantForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {"a b"}},
		},
		{
			name: "none", auth: hardened.NoClientAuth{ClientID: "a b"},
			wantForm: url.Values{"grant_type": {"client_credentials"}, "client_id": {"a b"}},
		},
		{
			name: "private_key_jwt", auth: hardened.PrivateKeyJWT{ClientID: "a b", Key: ec, Issuer: testIssuer},
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
				Transport: &hardened.AuthTransport{Base: srv.Client().Transport, Auth: tc.auth, Endpoints: []string{srv.URL + "/token"}},
			})
			// Client credentials through x/oauth2's own code, configured as
			// AuthTransport asks: no secret, AuthStyleInParams.
			conf := clientCredentials(srv.URL+"/token", "a b", "", oauth2.AuthStyleInParams)
			_, err := conf.Token(ctx)
			require.NoError(t, err)
			if tc.wantForm != nil {
				require.Equal(t, tc.wantForm, gotForm)
			} else {
				verifyAssertion(t, gotForm, ec.Public(), jose.ES256)
				require.Equal(t, "a b", gotForm.Get("client_id"))
			}
			require.Equal(t, tc.wantHeader, gotHeader)
		})
	}
}

// TestAuthTransportPAR sends pushed authorization requests, as the par
// package builds them (client_id and the request object, no credentials),
// through an AuthTransport that lists the PAR endpoint: every method adds
// its credentials and keeps the client_id.
func TestAuthTransportPAR(t *testing.T) {
	t.Parallel()
	for _, auth := range allMethods(t) {
		t.Run(auth.Method(), func(t *testing.T) {
			t.Parallel()
			var gotForm url.Values
			var gotHeader http.Header
			tr := &hardened.AuthTransport{
				Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					b, err := io.ReadAll(r.Body)
					r.Body.Close()
					if err != nil {
						return nil, err
					}
					if gotForm, err = url.ParseQuery(string(b)); err != nil {
						return nil, err
					}
					gotHeader = r.Header
					return &http.Response{StatusCode: http.StatusCreated, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
				}),
				Auth:      auth,
				Endpoints: []string{"https://as.example/token", "https://as.example/par"},
			}
			body := url.Values{"client_id": {testClientID}, "request": {"eyJhbGciOiJFUzI1NiJ9.e30.cm8"}}.Encode()
			req, err := http.NewRequest(http.MethodPost, "https://as.example/par", strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, resp.StatusCode)
			require.Equal(t, []string{testClientID}, gotForm["client_id"], "client_id is kept, once")
			require.Equal(t, "eyJhbGciOiJFUzI1NiJ9.e30.cm8", gotForm.Get("request"))
			switch auth.Method() {
			case hardened.AuthMethodPrivateKeyJWT:
				ec, _, _ := testKeys(t)
				verifyAssertion(t, gotForm, ec.Public(), jose.ES256)
			case hardened.AuthMethodClientSecretBasic:
				require.Equal(t, "Basic "+basicCred(testClientID, "secret"), gotHeader.Get("Authorization"))
			case hardened.AuthMethodClientSecretPost:
				require.Equal(t, "secret", gotForm.Get("client_secret"))
			default:
				require.Len(t, gotForm, 2)
				require.Empty(t, gotHeader.Get("Authorization"))
			}
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
		Base:      srv.Client().Transport,
		Auth:      &hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: srv.URL},
		Endpoints: []string{srv.URL + "/token"},
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

// parLikeBody is a pushed authorization request that carries a client
// assertion already: AuthTransport refuses it at a listed endpoint.
var parLikeBody = "client_id=" + testClientID +
	"&client_assertion_type=" + url.QueryEscape(hardened.ClientAssertionType) +
	"&client_assertion=eyJhbGciOiJFUzI1NiJ9.e30.c2ln&request=eyJhbGciOiJFUzI1NiJ9.e30.cm8"

// TestAuthTransportPassThrough checks that, with Endpoints set, a request
// to any other URL reaches Base as the very request given: no credential
// added, nothing removed, body and headers byte for byte as they were,
// whatever its method or content type.
func TestAuthTransportPassThrough(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name      string
		method    string
		url       string
		body      string
		header    map[string]string
		noGetBody bool
	}{
		{name: "GET to a resource", method: http.MethodGet, url: "https://rs.example/api/items?page=2",
			header: map[string]string{"Authorization": "DPoP at-123", "DPoP": "proof", "Accept": "application/json"}},
		{name: "form POST with credentials to an unlisted endpoint", method: http.MethodPost, url: "https://other.example/par", body: parLikeBody,
			header: map[string]string{"Content-Type": form, "DPoP": "proof"}},
		{name: "JSON POST to a resource without GetBody", method: http.MethodPost, url: "https://rs.example/api/items", body: `{"a":1}`,
			header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer at-123"}, noGetBody: true},
		{name: "form with x/oauth2 credentials to another host", method: http.MethodPost, url: "https://rs.example/token",
			body:   "grant_type=authorization_code&code=c&client_id=" + testClientID + "&client_secret=s",
			header: map[string]string{"Content-Type": form, "Authorization": "Basic " + basicCred(testClientID, "s")}},
		{name: "another port", method: http.MethodPost, url: "https://as.example:8443/token", body: "grant_type=client_credentials",
			header: map[string]string{"Content-Type": form}},
		{name: "http instead of https", method: http.MethodPost, url: "http://as.example/token", body: "grant_type=client_credentials",
			header: map[string]string{"Content-Type": form}},
		{name: "DELETE to a resource", method: http.MethodDelete, url: "https://rs.example/api/items/1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, tc.url, body)
			require.NoError(t, err)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if tc.noGetBody {
				req.GetBody = nil
			}
			wantHeader := req.Header.Clone()
			wantLength := req.ContentLength

			var (
				calls   atomic.Int32
				got     *http.Request
				gotBody []byte
			)
			baseResp := &http.Response{StatusCode: http.StatusTeapot, Body: http.NoBody, Header: http.Header{}}
			tr := &hardened.AuthTransport{
				Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					calls.Add(1)
					got = r
					if r.Body != nil {
						b, err := io.ReadAll(r.Body)
						if err != nil {
							return nil, err
						}
						gotBody = b
						r.Body.Close()
					}
					return baseResp, nil
				}),
				Auth:      hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: "https://as.example"},
				Endpoints: []string{"https://as.example/token", "https://mtls.as.example/token"},
			}
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			require.Same(t, baseResp, resp)
			require.Equal(t, int32(1), calls.Load())
			require.Same(t, req, got, "the request itself is handed to Base")
			require.Equal(t, tc.body, string(gotBody))
			require.Equal(t, wantHeader, got.Header)
			require.Equal(t, wantLength, got.ContentLength)
			require.Equal(t, tc.url, got.URL.String())
			require.Equal(t, tc.method, got.Method)
			if tc.body != "" && !tc.noGetBody {
				gb, err := got.GetBody()
				require.NoError(t, err)
				b, _ := io.ReadAll(gb)
				require.Equal(t, tc.body, string(b))
			}
		})
	}
}

// TestAuthTransportEndpointMatching checks how a request URL is compared
// with Endpoints: scheme and host ignoring case, an absent port meaning
// the scheme's default, the escaped path exactly. A match is
// authenticated; anything else passes through without credentials.
func TestAuthTransportEndpointMatching(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	token := "https://as.example/token"
	tests := []struct {
		name      string
		endpoints []string
		url       string
		wantAuth  bool
	}{
		{name: "exact", url: token, wantAuth: true},
		{name: "request host in upper case", url: "https://AS.Example/token", wantAuth: true},
		{name: "endpoint scheme and host in upper case", endpoints: []string{"HTTPS://AS.EXAMPLE/token"}, url: token, wantAuth: true},
		{name: "request with the default port", url: "https://as.example:443/token", wantAuth: true},
		{name: "endpoint with the default port", endpoints: []string{"https://as.example:443/token"}, url: token, wantAuth: true},
		{name: "http with its default port", endpoints: []string{"http://127.0.0.1/token"}, url: "http://127.0.0.1:80/token", wantAuth: true},
		{name: "IPv6 with the default port", endpoints: []string{"https://[::1]/token"}, url: "https://[::1]:443/token", wantAuth: true},
		{name: "explicit port", endpoints: []string{"https://as.example:8443/token"}, url: "https://as.example:8443/token", wantAuth: true},
		{name: "the mTLS alias", endpoints: []string{token, "https://mtls.as.example/token"}, url: "https://mtls.as.example/token", wantAuth: true},
		{name: "explicit port, request without", endpoints: []string{"https://as.example:8443/token"}, url: token},
		{name: "https port on http", endpoints: []string{"http://as.example/token"}, url: "http://as.example:443/token"},
		{name: "path in another case", url: "https://as.example/Token"},
		{name: "trailing slash", url: "https://as.example/token/"},
		{name: "path escaped otherwise", url: "https://as.example/to%6Ben"},
		{name: "path prefix", url: "https://as.example/token/x"},
		{name: "host with a suffix", url: "https://as.example.evil/token"},
		{name: "subdomain", url: "https://mtls.as.example/token"},
		{name: "http instead of https", url: "http://as.example/token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			endpoints := tc.endpoints
			if endpoints == nil {
				endpoints = []string{token}
			}
			var gotForm url.Values
			tr := &hardened.AuthTransport{
				Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					b, err := io.ReadAll(r.Body)
					r.Body.Close()
					if err != nil {
						return nil, err
					}
					if gotForm, err = url.ParseQuery(string(b)); err != nil {
						return nil, err
					}
					return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
				}),
				Auth:      hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: "https://as.example"},
				Endpoints: endpoints,
			}
			req, err := http.NewRequest(http.MethodPost, tc.url, strings.NewReader("grant_type=client_credentials"))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			if tc.wantAuth {
				verifyAssertion(t, gotForm, ec.Public(), jose.ES256)
				require.Equal(t, testClientID, gotForm.Get("client_id"))
			} else {
				require.Equal(t, url.Values{"grant_type": {"client_credentials"}}, gotForm, "passed through without credentials")
			}
		})
	}
}

// oneStackServer is an authorization server (a PAR stand-in and the
// tokenEndpoint) and a resource server on one origin, all requiring DPoP
// proofs with server nonces: one nonce for the authorization server, one
// for the resource server (RFC 9449 §8, §9). It counts the use_dpop_nonce
// challenges per path.
type oneStackServer struct {
	te  *tokenEndpoint
	v   *dpop.Verifier
	jkt string

	mu         sync.Mutex
	challenges map[string]int
	parForm    url.Values
	parHeader  http.Header
	resources  int
	errs       []error
}

const (
	oneStackASNonce = "as-nonce-1"
	oneStackRSNonce = "rs-nonce-1"
)

// fail records err and, unless status is 0 (the response is written
// already), answers with code.
func (s *oneStackServer) fail(w http.ResponseWriter, status int, code string, err error) {
	s.mu.Lock()
	s.errs = append(s.errs, fmt.Errorf("%s: %w", code, err))
	s.mu.Unlock()
	if status != 0 {
		oautherr.Write(w, &oautherr.Error{Code: code, Status: status})
	}
}

func (s *oneStackServer) challenge(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.challenges[path]++
}

func (s *oneStackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/par", "/token":
		p, err := s.v.VerifyProof(r)
		if err != nil {
			s.fail(w, http.StatusBadRequest, "invalid_dpop_proof", err)
			return
		}
		if r.URL.Path == "/par" {
			// Client authentication first, so that the attempt the nonce
			// challenge refuses is recorded too: its retry must carry a
			// new assertion, or the jti check refuses it.
			form, _, ok := s.te.authenticate(w, r)
			if !ok {
				s.fail(w, 0, "invalid_client", errors.New("PAR client authentication"))
				return
			}
			if p.Nonce != oneStackASNonce {
				s.challenge(r.URL.Path)
				w.Header().Set("DPoP-Nonce", oneStackASNonce)
				oautherr.Write(w, &oautherr.Error{Code: "use_dpop_nonce", Status: http.StatusBadRequest})
				return
			}
			s.mu.Lock()
			s.parForm, s.parHeader = form, r.Header.Clone()
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":60}`)
			return
		}
		if p.Nonce != oneStackASNonce {
			s.challenge(r.URL.Path)
			w.Header().Set("DPoP-Nonce", oneStackASNonce)
			oautherr.Write(w, &oautherr.Error{Code: "use_dpop_nonce", Status: http.StatusBadRequest})
			return
		}
		s.te.ServeHTTP(w, r)
	case "/resource":
		scheme, at, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if scheme != "DPoP" || r.ContentLength > 0 || r.URL.RawQuery != "" {
			s.fail(w, http.StatusUnauthorized, "invalid_request", errors.New("not a DPoP GET without body or query"))
			return
		}
		res, err := s.v.Check(r, at, json.RawMessage(`{"cnf":{"jkt":"`+s.jkt+`"}}`))
		if err != nil {
			s.fail(w, http.StatusUnauthorized, "invalid_token", err)
			return
		}
		p := res.Proof
		if p.Nonce != oneStackRSNonce {
			s.challenge(r.URL.Path)
			w.Header().Set("DPoP-Nonce", oneStackRSNonce)
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", algs="ES256"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.resources++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"sub":"user-1"}`)
	default:
		http.NotFound(w, r)
	}
}

func (s *oneStackServer) counts() (challenges map[string]int, resources int, errs []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.challenges), s.resources, append([]error(nil), s.errs...)
}

// TestAuthTransportOneStack runs a PAR request, the code exchange, a
// resource request through x/oauth2's conf.Client and a refresh through
// ONE client in the context: dpop.Transport → AuthTransport{Endpoints:
// [PAR, token]} → TLS. The PAR and token requests are client-authenticated
// by AuthTransport alone; the PAR request's nonce retry by dpop.Transport
// carries a new assertion; the DPoP nonce learned at PAR is reused at the
// token endpoint of the same origin, so the exchange meets no
// use_dpop_nonce challenge; the resource request carries no client
// credential.
func TestAuthTransportOneStack(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	dpopKey, err := dpop.GenerateKey()
	require.NoError(t, err)
	proofer, err := dpop.NewProofer(dpop.ProoferConfig{Key: dpopKey})
	require.NoError(t, err)

	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	te := newTokenEndpoint(testClientID, srv.URL, ec.Public(), jose.ES256)
	te.tokenType, te.refreshToken = "DPoP", "rt-1"
	s := &oneStackServer{te: te, v: &dpop.Verifier{BaseURL: srv.URL}, jkt: proofer.JKT(), challenges: map[string]int{}}
	srv.Config.Handler = s

	dpopRT := &dpop.Transport{
		Base: &hardened.AuthTransport{
			Base:      srv.Client().Transport,
			Auth:      hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: srv.URL},
			Endpoints: []string{srv.URL + "/par", srv.URL + "/token"},
		},
		Proofer: proofer,
	}
	client := &http.Client{Transport: dpopRT}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, client)

	// PAR, as the par package sends it: client_id and the request object,
	// no credentials.
	parBody := url.Values{"client_id": {testClientID}, "request": {"eyJhbGciOiJFUzI1NiJ9.e30.cm8"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/par", strings.NewReader(parBody))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	require.NoError(t, err)
	httpx.DrainClose(resp.Body)
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	conf := &oauth2.Config{
		ClientID: testClientID,
		Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	tok, err := conf.Exchange(ctx, "good-code")
	require.NoError(t, err)
	require.Equal(t, "DPoP", tok.Type())

	get := func(tok *oauth2.Token) {
		t.Helper()
		resp, err := conf.Client(ctx, tok).Get(srv.URL + "/resource")
		require.NoError(t, err)
		body, err := httpx.ReadBody(resp.Body, 1<<10)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.JSONEq(t, `{"sub":"user-1"}`, string(body))
	}
	get(tok)
	// An expired token: conf.Client's TokenSource refreshes through the same
	// client (authenticated, with a proof and the known nonce) first.
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	get(&stale)

	challenges, resources, errs := s.counts()
	require.Empty(t, errs)
	require.Equal(t, 2, resources)
	require.Equal(t, map[string]int{"/par": 1, "/resource": 1}, challenges,
		"one challenge per nonce: the token endpoint reuses the nonce PAR learned")

	s.mu.Lock()
	gotPARForm, gotPARHeader := s.parForm, s.parHeader
	s.mu.Unlock()
	require.Equal(t, "eyJhbGciOiJFUzI1NiJ9.e30.cm8", gotPARForm.Get("request"))
	require.Equal(t, []string{testClientID}, gotPARForm["client_id"])
	require.Empty(t, gotPARHeader.Get("Authorization"))

	jtis := te.seenJTIs()
	require.Len(t, jtis, 4, "PAR twice (the nonce retry), exchange and refresh")
	require.Len(t, uniq(jtis), 4, "every attempt carries a new assertion")
	origin := srv.URL
	require.Equal(t, oneStackASNonce, dpopRT.Nonce(origin, false))
	require.Equal(t, oneStackRSNonce, dpopRT.Nonce(origin, true))
}
