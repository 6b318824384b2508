package interop_test

// The flows of hardened.Config, the module's one-value FAPI 2.0 client,
// against node-oidc-provider: nothing below builds a request object, a
// proof or a client assertion; the Config does, from its fields and the
// peer's metadata. The tests play the browser (internal/headless), count
// the requests per endpoint, and check the peer's answers.

import (
	"context"
	"crypto"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/headless"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// ---- counting ----

// counter counts the requests a transport sends, per method and URL
// (without query). It is http.Transport's Proxy hook, which net/http calls
// once for every request it sends (the peer speaks HTTP/1.1 only, so no
// request rides an HTTP/2 connection past it) and which survives the
// Clone that hardened.Config makes of a transport for its certificate.
type counter struct {
	mu    sync.Mutex
	n     map[string]int
	forms []sentForm
}

// sentForm is what a form POST carried, read through the request's
// GetBody (which hardened.AuthTransport sets on what it sends), so the
// request itself is untouched.
type sentForm struct {
	endpoint   string // URL without query
	assertions int    // client_assertion parameters
	// requestObject describes the "request" parameter: "" (none), "JWS
	// <alg>" or "JWE <alg> <enc> <kid>" (its protected header, public).
	requestObject string
}

func inspectSentForm(r *http.Request) (sentForm, bool) {
	if r.Method != http.MethodPost || r.GetBody == nil {
		return sentForm{}, false
	}
	body, err := r.GetBody()
	if err != nil {
		return sentForm{}, false
	}
	defer body.Close()
	raw, err := httpx.ReadBody(body, maxBody)
	if err != nil {
		return sentForm{}, false
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return sentForm{}, false
	}
	f := sentForm{endpoint: endpointOf(r.URL), assertions: len(form["client_assertion"])}
	if ro := form.Get("request"); ro != "" {
		switch jose.Segments(ro) {
		case 5:
			if h, err := jose.ParseJWEHeader(ro); err == nil {
				f.requestObject = strings.Join([]string{"JWE", h.Alg, h.Enc, h.Kid}, " ")
			}
		case 3:
			if jws, err := jose.ParseCompact(ro); err == nil {
				f.requestObject = "JWS " + jws.Header.Alg
			}
		}
	}
	return f, true
}

// sent returns the form POSTs to the endpoint named name.
func (c *counter) sent(md *hardened.Metadata, name string) []sentForm {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []sentForm
	for _, f := range c.forms {
		if endpointName(md, f.endpoint) == name {
			out = append(out, f)
		}
	}
	return out
}

func newCounter() *counter { return &counter{n: map[string]int{}} }

// transport returns a new transport trusting the test CA that counts into c.
func (c *counter) transport(t *testing.T) *http.Transport {
	t.Helper()
	tr := newTransport(env.pki, nil)
	tr.Proxy = func(r *http.Request) (*url.URL, error) {
		f, isForm := inspectSentForm(r)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n[r.Method+" "+endpointOf(r.URL)]++
		if isForm {
			c.forms = append(c.forms, f)
		}
		return nil, nil
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// byEndpoint returns the counts keyed by method and endpointName, e.g.
// "POST par".
func (c *counter) byEndpoint(md *hardened.Metadata) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, n := range c.n {
		method, u, _ := strings.Cut(k, " ")
		out[method+" "+endpointName(md, u)] += n
	}
	return out
}

// endpointName names a URL (without query) by the metadata member of its
// endpoint: "discovery", "jwks", "par", "authorization" (the peer's resume
// steps under the authorization endpoint's path included), "token",
// "userinfo", "revocation", "introspection"; any other URL is itself.
func endpointName(md *hardened.Metadata, u string) string {
	switch u {
	case md.Issuer + hardened.WellKnownOAuth:
		return "discovery"
	case md.Issuer + hardened.WellKnownOpenID:
		return "discovery (OpenID)"
	case md.JWKSURI:
		return "jwks"
	case md.PushedAuthorizationRequestEndpoint:
		return "par"
	case md.TokenEndpoint:
		return "token"
	case md.UserinfoEndpoint:
		return "userinfo"
	case md.RevocationEndpoint:
		return "revocation"
	case md.IntrospectionEndpoint:
		return "introspection"
	}
	if u == md.AuthorizationEndpoint || strings.HasPrefix(u, md.AuthorizationEndpoint+"/") {
		return "authorization"
	}
	return u
}

// formatCounts prints counts sorted by key, for logs and the README.
func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// ---- the flows ----

// wrapperLogin names one login through hardened.Config.
type wrapperLogin struct {
	mode   string // DPoP nonce mode of the peer
	client *fapiClient
	// mtls, when set, replaces DPoP: the Config presents its certificate,
	// authenticates with it and gets certificate-bound tokens.
	mtls         *mtlsClient
	responseMode string
	// encryptRequest sets EncryptRequestObject.
	encryptRequest bool
}

func (l wrapperLogin) name() string {
	parts := []string{l.client.id}
	if l.encryptRequest {
		parts = append(parts, "encrypted request object")
	}
	jarmKind := "signed"
	if l.client.encKey != nil {
		jarmKind = "encrypted"
	}
	parts = append(parts, jarmKind+" JARM "+l.responseMode, "nonce "+l.mode)
	return strings.Join(parts, ", ")
}

// wrapperConfig returns the Config of l, sending every request of the
// client stack through a counting transport (and, for DPoP, a recorder
// above it, which sees each attempt's status and nonce challenge).
func wrapperConfig(t *testing.T, l wrapperLogin, count *counter) (*hardened.Config, *recorder, crypto.Signer) {
	t.Helper()
	pv := env.peers[l.mode]
	c := l.client
	conf := &hardened.Config{
		Config: oauth2.Config{
			ClientID:    c.id,
			RedirectURL: redirectURI,
			Scopes:      []string{"openid", "email"},
		},
		Issuer:               pv.issuer,
		Key:                  c.key,
		KeyID:                c.kid,
		ResponseMode:         l.responseMode,
		EncryptRequestObject: l.encryptRequest,
	}
	if c.encKey != nil {
		conf.DecryptionKeys = []jarm.DecryptionKey{{KeyID: c.encKID, Key: c.encKey}}
	}
	if l.mtls != nil {
		conf.Certificate = mtlsCertificate(l.mtls)
		conf.ClientAuth = l.mtls.auth
		conf.HTTPClient = &http.Client{Transport: count.transport(t)}
		return conf, nil, nil
	}
	key, err := dpop.GenerateKey()
	require.NoError(t, err)
	conf.DPoPKey = key
	rec := &recorder{Base: count.transport(t)}
	rec.logOnFailure(t, "hardened.Config")
	conf.HTTPClient = &http.Client{Transport: rec}
	return conf, rec, key
}

// loginResult is what runWrapperLogin saw: the requests per endpoint of the
// client stack and of the browser.
type loginResult struct {
	md      *hardened.Metadata
	client  map[string]int
	browser map[string]int
	// challenges counts use_dpop_nonce answers per endpoint name.
	challenges map[string]int
}

// runWrapperLogin runs a whole login through hardened.Config: discovery,
// PAR with a signed (maybe encrypted) request object and client
// authentication, the headless authorization, the JARM callback, the code
// exchange with the ID token checked, userinfo with the bound token, a
// refresh whose rotated refresh token OnRefresh receives, introspection,
// revocation, and introspection again showing the tokens inactive.
func runWrapperLogin(t *testing.T, l wrapperLogin) *loginResult {
	t.Helper()
	pv := peerFor(t, l.mode)
	md := pv.md
	ctx := testCtx(t)
	count := newCounter()
	conf, rec, dpopKey := wrapperConfig(t, l, count)
	var refreshed []*oauth2.Token
	var refreshMu sync.Mutex
	conf.OnRefresh = func(tok *oauth2.Token) {
		refreshMu.Lock()
		defer refreshMu.Unlock()
		refreshed = append(refreshed, tok)
	}

	// The front channel: the pushed request's URL, the peer's login, the
	// redirect back, as a browser would see it.
	login := hardened.NewLogin()
	authURL, err := conf.AuthCodeURL(ctx, login.State, login.AuthCodeOptions()...)
	require.NoError(t, err, "AuthCodeURL")
	require.ElementsMatch(t, []string{"client_id", "request_uri"}, queryKeys(mustParseURL(t, authURL)))
	browser := &recorder{Base: env.transport(nil)}
	browser.logOnFailure(t, "browser")
	cb, err := headless.Authorize(ctx, &http.Client{Transport: browser, Timeout: 30 * time.Second}, authURL, redirectURI)
	require.NoError(t, err, "headless authorization")
	require.Equal(t, []string{"response"}, queryKeys(cb.URL), "JARM: only the response JWT in the callback")

	// The callback: a wrong state is refused; the right one gives the code.
	_, err = conf.Callback(ctx, cb, "not-"+login.State)
	require.ErrorIs(t, err, hardened.ErrAuthorizationResponse)
	require.ErrorIs(t, err, jarm.ErrStateMismatch)
	code, err := conf.Callback(ctx, cb, login.State)
	require.NoError(t, err, "Callback")

	tok, err := conf.Exchange(ctx, code, login.ExchangeOptions()...)
	require.NoError(t, err, "Exchange")
	require.NotEmpty(t, tok.RefreshToken)
	idt, ok := hardened.IDTokenFrom(tok)
	require.True(t, ok, "verified ID token")
	require.Equal(t, accountID, idt.Subject)
	var idClaims struct {
		Iss   string `json:"iss"`
		Nonce string `json:"nonce"`
	}
	require.NoError(t, idt.Claims(&idClaims))
	require.Equal(t, md.Issuer, idClaims.Iss)
	require.Equal(t, login.Nonce, idClaims.Nonce)

	// The binding, as the peer reports it.
	in, err := conf.Introspect(ctx, tok.AccessToken, hardened.HintAccessToken)
	require.NoError(t, err, "Introspect")
	require.True(t, in.Active)
	require.Equal(t, l.client.id, in.ClientID)
	require.Equal(t, accountID, in.Subject)
	if l.mtls != nil {
		require.Equal(t, "Bearer", tok.Type()) // RFC 8705 §3: the type stays Bearer
		require.Equal(t, "Bearer", in.TokenType)
		cnf, err := mtlsbound.ConfirmationFromClaims(in.Claims)
		require.NoError(t, err)
		require.Equal(t, certSHA256(l.mtls.cert.Leaf), cnf.X5TS256)
		require.Empty(t, cnf.JKT)
	} else {
		require.Equal(t, "DPoP", tok.Type())
		require.Equal(t, "DPoP", in.TokenType)
		jkt, err := jose.Thumbprint(dpopKey.Public())
		require.NoError(t, err)
		cnf, err := dpop.ConfirmationFromClaims(in.Claims)
		require.NoError(t, err)
		require.Equal(t, jkt, cnf.JKT)
		require.Empty(t, cnf.X5TS256)
	}

	// userinfo with the bound token.
	requireUserinfo(ctx, t, conf.Client(ctx, tok), md.UserinfoEndpoint)

	// The token expires: the next call refreshes it through the same
	// stack, and OnRefresh sees the rotated refresh token first.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	requireUserinfo(ctx, t, conf.Client(ctx, &expired), md.UserinfoEndpoint)
	refreshMu.Lock()
	require.Len(t, refreshed, 1, "OnRefresh once")
	latest := refreshed[0]
	refreshMu.Unlock()
	require.NotEqual(t, tok.AccessToken, latest.AccessToken)
	require.NotEmpty(t, latest.RefreshToken)
	require.NotEqual(t, tok.RefreshToken, latest.RefreshToken, "rotated")
	require.Equal(t, tok.Type(), latest.Type())

	// Logout: revoking the refresh token ends the grant; introspection
	// then shows both tokens inactive.
	require.NoError(t, conf.Revoke(ctx, latest.RefreshToken, hardened.HintRefreshToken), "Revoke")
	for _, tc := range []struct{ token, hint string }{
		{latest.AccessToken, hardened.HintAccessToken},
		{latest.RefreshToken, hardened.HintRefreshToken},
	} {
		in, err := conf.Introspect(ctx, tc.token, tc.hint)
		require.NoError(t, err, "Introspect after revocation")
		require.False(t, in.Active, "%s after revocation", tc.hint)
	}

	// What went on the wire: the request object, signed with the client's
	// key and, when asked, encrypted to the peer's key; client
	// authentication by assertion or by the certificate alone.
	for _, f := range count.sent(md, "par") {
		if l.encryptRequest {
			fields := strings.Fields(f.requestObject)
			require.Len(t, fields, 4, "encrypted request object: %q", f.requestObject)
			require.Equal(t, "JWE", fields[0])
			k := keyByID(pv.keys, fields[3])
			require.NotNil(t, k, "the peer's key %s", fields[3])
			require.Equal(t, "enc", k.Use)
			require.Equal(t, k.Algorithm, fields[1])
			require.Contains(t, md.RequestObjectEncryptionAlgValuesSupported, fields[1])
			require.Contains(t, md.RequestObjectEncryptionEncValuesSupported, fields[2])
		} else {
			require.Equal(t, "JWS ES256", f.requestObject)
		}
	}
	for _, name := range []string{"par", "token", "revocation", "introspection"} {
		sent := count.sent(md, name)
		require.NotEmpty(t, sent, name)
		for _, f := range sent {
			if l.mtls != nil {
				require.Zero(t, f.assertions, "%s: mTLS client authentication sends no assertion", name)
			} else {
				require.Equal(t, 1, f.assertions, "%s: one fresh assertion per attempt", name)
			}
		}
	}

	res := &loginResult{md: md, client: count.byEndpoint(md), browser: map[string]int{}, challenges: map[string]int{}}
	bc := newCounter()
	for _, e := range browser.exchanges("") {
		bc.n[e.Method+" "+e.URL]++
	}
	res.browser = bc.byEndpoint(md)
	if rec != nil {
		for _, e := range rec.exchanges("") {
			if e.NonceChallenge {
				res.challenges[endpointName(md, e.URL)]++
			}
		}
		// Every request of the stack carried a proof; discovery and the
		// key set, which are not, none.
		for _, e := range rec.exchanges("") {
			switch endpointName(md, e.URL) {
			case "discovery", "jwks":
				require.Empty(t, e.Proof, "%s %s with a DPoP proof", e.Method, e.URL)
			default:
				require.NotEmpty(t, e.Proof, "%s %s without DPoP proof", e.Method, e.URL)
			}
		}
	}
	return res
}

// requireUserinfo calls userinfo with hc and checks the answer.
func requireUserinfo(ctx context.Context, t *testing.T, hc *http.Client, endpoint string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	require.NoError(t, err)
	resp, err := hc.Do(req)
	require.NoError(t, err, "userinfo")
	body, err := readPeerResponse("userinfo", resp)
	require.NoError(t, err)
	var ui map[string]any
	require.NoError(t, json.Unmarshal(body, &ui))
	require.Equal(t, accountID, ui["sub"])
	require.Equal(t, accountID+"@interop.test", ui["email"])
}

// wantLoginCounts is the minimum a whole login needs, per endpoint: one
// discovery and one JWK Set fetch for the whole login; one push (and, with
// nonces required, one use_dpop_nonce retry at the authorization server);
// the code exchange and one refresh; userinfo before and after the refresh
// (and one nonce retry for the resource); one revocation; introspection
// before and twice after it. The browser makes the authorization request
// and the peer's resume step.
func wantLoginCounts(mode string, dpopUsed bool) (client, browser, challenges map[string]int) {
	client = map[string]int{
		"GET discovery":      1,
		"GET jwks":           1,
		"POST par":           1,
		"POST token":         2,
		"GET userinfo":       2,
		"POST revocation":    1,
		"POST introspection": 3,
	}
	challenges = map[string]int{}
	if dpopUsed && mode == nonceRequired {
		client["POST par"]++
		client["GET userinfo"]++
		challenges = map[string]int{"par": 1, "userinfo": 1}
	}
	return client, map[string]int{"GET authorization": 2}, challenges
}

// TestWrapperLogin is flows 1 and 2 of the interop plan through
// hardened.Config, in each nonce mode: private_key_jwt and DPoP with JARM
// jwt and query.jwt, signed and encrypted; an encrypted request object;
// mutual TLS (self-signed and PKI) instead of DPoP, with certificate-bound
// tokens. Each login makes the minimum of requests per endpoint.
func TestWrapperLogin(t *testing.T) {
	t.Parallel()
	var logins []wrapperLogin
	for _, mode := range nonceModes {
		logins = append(logins,
			wrapperLogin{mode: mode, client: env.fapi, responseMode: jarm.ModeJWT},
			wrapperLogin{mode: mode, client: env.fapi, responseMode: jarm.ModeQueryJWT},
			wrapperLogin{mode: mode, client: env.fapiEnc, responseMode: jarm.ModeJWT},
			wrapperLogin{mode: mode, client: env.fapiEnc, responseMode: jarm.ModeQueryJWT},
			wrapperLogin{mode: mode, client: env.fapi, responseMode: jarm.ModeJWT, encryptRequest: true},
			wrapperLogin{mode: mode, client: env.fapiEnc, responseMode: jarm.ModeQueryJWT, encryptRequest: true},
			wrapperLogin{mode: mode, client: env.codeSelfSigned.fapiClient, mtls: env.codeSelfSigned.mtls, responseMode: jarm.ModeJWT},
			wrapperLogin{mode: mode, client: env.codePKI.fapiClient, mtls: env.codePKI.mtls, responseMode: jarm.ModeQueryJWT, encryptRequest: true},
		)
	}
	for _, l := range logins {
		t.Run(l.name(), func(t *testing.T) {
			t.Parallel()
			res := runWrapperLogin(t, l)
			wantClient, wantBrowser, wantChallenges := wantLoginCounts(l.mode, l.mtls == nil)
			t.Logf("requests: client %s; browser %s", formatCounts(res.client), formatCounts(res.browser))
			require.Equal(t, wantClient, res.client, "client requests per endpoint")
			require.Equal(t, wantBrowser, res.browser, "browser requests per endpoint")
			require.Equal(t, wantChallenges, res.challenges, "use_dpop_nonce answers per endpoint")
		})
	}
}

// mtlsCertificate is a copy of a client's certificate for Config.Certificate.
func mtlsCertificate(c *mtlsClient) *tls.Certificate {
	cert := c.cert
	return &cert
}

// TestWrapperClientCredentials is flow 3: the client credentials grant
// through hardened.Config, in each nonce mode, with DPoP-bound tokens
// (private_key_jwt) and certificate-bound tokens (self_signed_tls_client_auth
// and tls_client_auth). A resource server behind dpop.Verifier or
// mtlsbound.Verifier, introspecting at the peer, accepts the calls the
// Config's client makes; the peer reports the binding, then, after
// revocation, the token inactive.
func TestWrapperClientCredentials(t *testing.T) {
	t.Parallel()
	type testCase struct {
		name string
		mode string
		mtls *mtlsClient // nil: env.ccDPoP with DPoP
	}
	var tests []testCase
	for _, mode := range nonceModes {
		tests = append(tests,
			testCase{name: "DPoP, nonce " + mode, mode: mode},
			testCase{name: "self_signed_tls_client_auth, nonce " + mode, mode: mode, mtls: env.selfSigned},
			testCase{name: "tls_client_auth, nonce " + mode, mode: mode, mtls: env.ca},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pv := peerFor(t, tc.mode)
			md := pv.md
			ctx := testCtx(t)
			count := newCounter()
			conf := &hardened.Config{
				Config: oauth2.Config{Scopes: []string{"read"}},
				Issuer: pv.issuer,
			}
			introspected := func(ctx context.Context, at string) (json.RawMessage, error) {
				in, err := introspect(ctx, pv, at, false)
				if err != nil {
					return nil, err
				}
				return in.Raw, nil
			}
			var (
				rec     *recorder
				rsURL   string
				rsError func() error
				jkt     string
			)
			if tc.mtls != nil {
				conf.ClientID = tc.mtls.id
				conf.Certificate = mtlsCertificate(tc.mtls)
				conf.ClientAuth = tc.mtls.auth
				conf.HTTPClient = &http.Client{Transport: count.transport(t)}
				rs := newMTLSResourceServer(t, introspected)
				rsURL, rsError = rs.URL, rs.lastError
			} else {
				c := env.ccDPoP
				key, err := dpop.GenerateKey()
				require.NoError(t, err)
				jkt, err = jose.Thumbprint(key.Public())
				require.NoError(t, err)
				conf.ClientID, conf.Key, conf.KeyID, conf.DPoPKey = c.id, c.key, c.kid, key
				rec = &recorder{Base: count.transport(t)}
				rec.logOnFailure(t, "hardened.Config")
				conf.HTTPClient = &http.Client{Transport: rec}
				rsURL, rsError = newDPoPResourceServer(t, introspected)
			}

			ts := conf.ClientCredentials(ctx, hardened.ResourceOption(resourceOpaque))
			tok, err := ts.Token()
			require.NoError(t, err, "client credentials")
			again, err := ts.Token()
			require.NoError(t, err)
			require.Equal(t, tok.AccessToken, again.AccessToken, "reused while valid")

			in, err := conf.Introspect(ctx, tok.AccessToken, hardened.HintAccessToken)
			require.NoError(t, err, "Introspect")
			require.True(t, in.Active)
			require.Equal(t, conf.ClientID, in.ClientID)
			require.Equal(t, []string{resourceOpaque}, in.Audience)
			require.Equal(t, "read", in.Scope)
			if tc.mtls != nil {
				require.Equal(t, "Bearer", tok.Type())
				cnf, err := mtlsbound.ConfirmationFromClaims(in.Claims)
				require.NoError(t, err)
				require.Equal(t, certSHA256(tc.mtls.cert.Leaf), cnf.X5TS256)
			} else {
				require.Equal(t, "DPoP", tok.Type())
				cnf, err := dpop.ConfirmationFromClaims(in.Claims)
				require.NoError(t, err)
				require.Equal(t, jkt, cnf.JKT)
			}

			// The Config's client calls the resource with the bound token.
			resp, err := conf.NewClient(ctx, ts).Get(rsURL + "/data")
			require.NoError(t, err)
			_, err = readPeerResponse("resource", resp)
			require.NoError(t, err, "resource server refused: %v", rsError())

			require.NoError(t, conf.Revoke(ctx, tok.AccessToken, hardened.HintAccessToken), "Revoke")
			in, err = conf.Introspect(ctx, tok.AccessToken, hardened.HintAccessToken)
			require.NoError(t, err)
			require.False(t, in.Active, "after revocation")

			got := count.byEndpoint(md)
			t.Logf("requests: %s", formatCounts(got))
			want := map[string]int{
				"GET discovery":          1,
				"POST token":             1,
				"POST introspection":     2,
				"POST revocation":        1,
				"GET " + rsURL + "/data": 1,
			}
			for _, f := range count.sent(md, "token") {
				if tc.mtls != nil {
					require.Zero(t, f.assertions)
				} else {
					require.Equal(t, 1, f.assertions)
				}
			}
			if rec != nil {
				challenges := 0
				for _, e := range rec.exchanges("") {
					if e.NonceChallenge {
						challenges++
						require.Equal(t, "token", endpointName(md, e.URL))
					}
				}
				if tc.mode == nonceRequired {
					want["POST token"]++
					require.Equal(t, 1, challenges, "one use_dpop_nonce, at the token endpoint")
				} else {
					require.Zero(t, challenges)
				}
			}
			require.Equal(t, want, got, "requests per endpoint")
		})
	}
}

// newDPoPResourceServer starts a TLS resource server behind
// dpop.Verifier.Wrap whose tokens are checked by token; it returns its URL
// and the last error the verifier reported.
func newDPoPResourceServer(t *testing.T, token func(context.Context, string) (json.RawMessage, error)) (string, func() error) {
	t.Helper()
	var (
		mu      sync.Mutex
		lastErr error
	)
	rs := httptest.NewUnstartedServer(nil)
	v := &dpop.Verifier{
		BaseURL: "https://" + rs.Listener.Addr().String(),
		Token:   token,
		OnError: func(_ *http.Request, err error) {
			mu.Lock()
			defer mu.Unlock()
			lastErr = err
		},
	}
	rs.Config.Handler = v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := dpop.FromContext(r.Context()); !ok {
			http.Error(w, "no dpop result", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	rs.TLS = env.serverTLS()
	rs.StartTLS()
	t.Cleanup(rs.Close)
	return rs.URL, func() error {
		mu.Lock()
		defer mu.Unlock()
		return lastErr
	}
}
