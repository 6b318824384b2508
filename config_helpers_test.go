package hardened_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/headless"
	"github.com/hardened-oauth/hardened/internal/jose"
)

const (
	appID       = "app"
	redirectURI = "https://app.example.org/cb"
)

// env is an embedded authorization server with one FAPI 2.0 client, and an
// HTTP client that counts the requests per path.
type env struct {
	srv   *authserver.Server
	key   *ecdsa.PrivateKey
	kid   string
	count *counter
	hc    *http.Client
}

// counter counts requests per URL path, through http.Transport's Proxy
// hook, which is called once per request and survives Clone.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) get(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

func genKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func jwks(t testing.TB, keys ...crypto.Signer) ([]byte, []string) {
	t.Helper()
	var set []*jose.JWK
	var kids []string
	for _, k := range keys {
		kid, err := jose.Thumbprint(k.Public())
		require.NoError(t, err)
		set = append(set, &jose.JWK{Key: k.Public(), KeyID: kid})
		kids = append(kids, kid)
	}
	b, err := jose.MarshalJWKSet(set)
	require.NoError(t, err)
	return b, kids
}

// fapiClient is the server-side registration of the test client: every
// FAPI 2.0 requirement on.
func fapiClient(t testing.TB, key crypto.Signer) authserver.Client {
	b, _ := jwks(t, key)
	return authserver.Client{
		ID: appID, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: b,
		RedirectURIs: []string{redirectURI},
		GrantTypes:   []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken, authserver.GrantClientCredentials},
		RequirePAR:   true, RequireSignedRequestObject: true, RequireDPoP: true,
	}
}

// newEnv starts a server over TLS with DPoP nonces required at the
// authorization server. mod may change the configuration and the client.
func newEnv(t testing.TB, mod func(cfg *authserver.Config, cl *authserver.Client)) *env {
	t.Helper()
	e := &env{key: genKey(t), count: &counter{n: map[string]int{}}}
	e.kid, _ = jose.Thumbprint(e.key.Public())
	cl := fapiClient(t, e.key)
	cfg := authserver.Config{DPoPNonce: authserver.NonceRequired, UserinfoDPoPNonce: authserver.NonceOptional}
	if mod != nil {
		mod(&cfg, &cl)
	}
	cfg.Clients = append([]authserver.Client{cl}, cfg.Clients...)
	srv, err := authserver.StartTLS(cfg)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	e.srv = srv
	tr := srv.HTTPClient().Transport.(*http.Transport).Clone()
	// HTTP/1.1 only: an HTTP/2 connection takes later requests past Proxy.
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	tr.TLSClientConfig = tr.TLSClientConfig.Clone()
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	tr.Proxy = func(r *http.Request) (*url.URL, error) {
		e.count.mu.Lock()
		e.count.n[r.URL.Path]++
		e.count.mu.Unlock()
		return nil, nil
	}
	e.hc = &http.Client{Transport: tr}
	return e
}

// conf returns the client's Config: private_key_jwt, signed request
// objects, PAR, DPoP, openid.
func (e *env) conf() *hardened.Config {
	return &hardened.Config{
		Config:     oauth2.Config{ClientID: appID, RedirectURL: redirectURI, Scopes: []string{"openid"}},
		Issuer:     e.srv.Issuer(),
		Key:        e.key,
		KeyID:      e.kid,
		HTTPClient: e.hc,
	}
}

// authorize plays the browser for u and returns the callback request.
func (e *env) authorize(t testing.TB, u string) *http.Request {
	t.Helper()
	r, err := headless.Authorize(t.Context(), e.srv.HTTPClient(), u, redirectURI)
	require.NoError(t, err)
	return r
}

// login runs a whole login and returns the token.
func (e *env) login(t testing.TB, conf *hardened.Config, extra ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	ctx := t.Context()
	l := hardened.NewLogin()
	u, err := conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions(extra...)...)
	require.NoError(t, err)
	code, err := conf.Callback(ctx, e.authorize(t, u), l.State)
	require.NoError(t, err)
	tok, err := conf.Exchange(ctx, code, l.ExchangeOptions()...)
	require.NoError(t, err)
	return tok
}
