package authserver_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Client IDs of the test environment.
const (
	jwtID        = "jwt-client"    // private_key_jwt, PAR and signed request objects required
	fapiID       = "fapi-client"   // jwtID + DPoP and JARM required
	basicID      = "basic-client"  // client_secret_basic, every grant
	postID       = "post-client"   // client_secret_post
	tlsID        = "tls-client"    // tls_client_auth, certificate-bound tokens
	selfID       = "self-client"   // self_signed_tls_client_auth, certificate-bound tokens
	publicID     = "public-client" // none, DPoP required
	rsID         = "rs-client"     // introspection only
	jarmECID     = "jarm-ec"       // signed request objects and JARM encrypted with ECDH-ES, no PAR
	encROID      = "enc-ro-client" // encrypted request objects required
	redirectURI  = "https://client.example.org/cb"
	basicSecret  = "s3cr:t +/%&é" // needs form-url-encoding in Basic credentials
	postSecret   = "post-secret"
	rsSecret     = "rs-secret"
	tlsSubjectCN = "tls-client"
)

// rsaKey is a fixed throw-away test key, read from testdata: generating
// RSA keys is slow, and slower still under the race detector.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	raw, err := os.ReadFile("testdata/rsa-2048-test-key.pem")
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(raw)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		panic(err)
	}
	return k.(*rsa.PrivateKey)
})

// testClock is an injectable clock starting at the real time (certificates
// are checked against it).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a running server with the test clients and their credentials.
type env struct {
	t        *testing.T
	srv      *authserver.Server
	clock    *testClock
	hc       *http.Client
	jwtKey   *ecdsa.PrivateKey // jwtID, fapiID, encROID, jarm* clients
	jarmEC   *ecdsa.PrivateKey // jarmECID's decryption key
	tlsCert  tls.Certificate
	selfCert tls.Certificate
	tlsHC    *http.Client
	selfHC   *http.Client
}

func genEC(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// newEnv starts a TLS server with the test clients; mutate adjusts the
// configuration first.
func newEnv(t *testing.T, mutate func(*authserver.Config)) *env {
	t.Helper()
	pki, err := authserver.NewPKI()
	require.NoError(t, err)
	e := &env{t: t, clock: &testClock{t: time.Now()}, jwtKey: genEC(t), jarmEC: genEC(t)}
	subject := pkix.Name{CommonName: tlsSubjectCN, Organization: []string{"test"}}
	e.tlsCert, err = pki.IssueClientCertificate(subject)
	require.NoError(t, err)
	e.selfCert, err = authserver.SelfSignedCertificate(selfID)
	require.NoError(t, err)
	kid, err := jose.Thumbprint(e.jwtKey.Public())
	require.NoError(t, err)
	jwks, err := jose.MarshalJWKSet([]*jose.JWK{{Key: e.jwtKey.Public(), KeyID: kid}})
	require.NoError(t, err)
	all := []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken, authserver.GrantClientCredentials}
	ru := []string{redirectURI}
	cfg := authserver.Config{
		PKI: pki,
		Now: e.clock.Now,
		Clients: []authserver.Client{
			{ID: jwtID, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: jwks, RedirectURIs: ru, GrantTypes: all,
				RequirePAR: true, RequireSignedRequestObject: true},
			{ID: fapiID, AuthMethod: authserver.AuthPrivateKeyJWT, Keys: []crypto.PublicKey{e.jwtKey.Public()}, RedirectURIs: ru,
				RequirePAR: true, RequireSignedRequestObject: true, RequireDPoP: true, RequireJARM: true},
			{ID: basicID, AuthMethod: authserver.AuthClientSecretBasic, Secret: basicSecret, RedirectURIs: ru, GrantTypes: all},
			{ID: postID, AuthMethod: authserver.AuthClientSecretPost, Secret: postSecret, RedirectURIs: ru, GrantTypes: all},
			{ID: tlsID, AuthMethod: authserver.AuthTLSClient, TLSSubjectDN: subject.String(), RedirectURIs: ru, GrantTypes: all,
				RequireMTLSBinding: true},
			{ID: selfID, AuthMethod: authserver.AuthSelfSignedTLSClient, Certificates: []*x509.Certificate{e.selfCert.Leaf},
				RedirectURIs: ru, GrantTypes: all, RequireMTLSBinding: true},
			{ID: publicID, AuthMethod: authserver.AuthNone, RedirectURIs: ru, RequireDPoP: true},
			{ID: rsID, AuthMethod: authserver.AuthClientSecretBasic, Secret: rsSecret, GrantTypes: []string{}, Introspect: true},
			{ID: jarmECID, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: jwks, RedirectURIs: ru,
				RequireJARM: true, JARMEncryptionKey: e.jarmEC.Public(), RequireSignedRequestObject: true},
			{ID: encROID, AuthMethod: authserver.AuthPrivateKeyJWT, JWKS: jwks, RedirectURIs: ru,
				RequirePAR: true, RequireEncryptedRequestObject: true},
		},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := authserver.StartTLS(cfg)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	e.srv = srv
	e.hc = srv.HTTPClient()
	e.tlsHC = srv.HTTPClientWithCertificate(e.tlsCert)
	e.selfHC = srv.HTTPClientWithCertificate(e.selfCert)
	return e
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b64(b)
}

// sign signs claims with key under opts.
func sign(t testing.TB, key crypto.Signer, opts jose.SignerOptions, claims any) string {
	t.Helper()
	s, err := jose.NewSigner(key, opts)
	require.NoError(t, err)
	out, err := s.SignJSON(claims)
	require.NoError(t, err)
	return out
}

// unsigned builds an alg "none" JWT by hand.
func unsigned(t testing.TB, header, claims any) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	return b64(h) + "." + b64(c) + "."
}

type claims = map[string]any

// assertion returns a private_key_jwt assertion of clientID signed with key;
// mods change the claims.
func (e *env) assertion(clientID string, key crypto.Signer, mods ...func(claims)) string {
	now := e.clock.Now()
	c := claims{"iss": clientID, "sub": clientID, "aud": e.srv.Issuer(), "jti": randomID(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	for _, m := range mods {
		m(c)
	}
	return sign(e.t, key, jose.SignerOptions{}, c)
}

// withAssertion adds private_key_jwt parameters to form.
func (e *env) withAssertion(form url.Values, clientID string, mods ...func(claims)) url.Values {
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", e.assertion(clientID, e.jwtKey, mods...))
	return form
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = randomID() + randomID()
	sum := sha256.Sum256([]byte(verifier))
	return verifier, b64(sum[:])
}

// roClaims are the claims of a valid request object for clientID.
func (e *env) roClaims(clientID, challenge string) claims {
	now := e.clock.Now()
	return claims{
		"iss": clientID, "aud": e.srv.Issuer(), "client_id": clientID, "jti": randomID(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"response_type": "code", "redirect_uri": redirectURI, "scope": "openid profile",
		"state": "st-" + randomID(), "code_challenge": challenge, "code_challenge_method": "S256",
	}
}

// requestObject signs c as a request object with the clients' key.
func (e *env) requestObject(c claims) string {
	return sign(e.t, e.jwtKey, jose.SignerOptions{Type: "oauth-authz-req+jwt"}, c)
}

// httpResult is a response with its body read.
type httpResult struct {
	status int
	header http.Header
	body   []byte
}

// post sends a form with hc (e.hc when nil).
func (e *env) post(hc *http.Client, endpoint string, form url.Values, hdr http.Header) httpResult {
	e.t.Helper()
	if hc == nil {
		hc = e.hc
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	return e.do(hc, req)
}

func (e *env) do(hc *http.Client, req *http.Request) httpResult {
	e.t.Helper()
	resp, err := hc.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	body, err := httpx.ReadBody(resp.Body, 0)
	require.NoError(e.t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	return httpResult{resp.StatusCode, resp.Header, body}
}

// requireOAuthError asserts that r is an RFC 6749 error with code and
// status.
func requireOAuthError(t testing.TB, r httpResult, status int, code string) *oautherr.Error {
	t.Helper()
	oe, err := oautherr.Parse(r.status, r.header.Get("Content-Type"), r.body)
	require.NoError(t, err, "body: %s", r.body)
	require.ErrorIs(t, oe, &oautherr.Error{Code: code, Status: status}, "got %v", oe)
	return oe
}

func decodeJSON(t testing.TB, r httpResult) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// push sends a PAR request and returns its request_uri.
func (e *env) push(hc *http.Client, form url.Values, hdr http.Header) string {
	e.t.Helper()
	r := e.post(hc, e.srv.Endpoints().PAR, form, hdr)
	require.Equal(e.t, http.StatusCreated, r.status, "body: %s", r.body)
	m := decodeJSON(e.t, r)
	require.Equal(e.t, float64(60), m["expires_in"])
	uri, _ := m["request_uri"].(string)
	require.True(e.t, strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:"))
	return uri
}

// pushRO pushes a request object for clientID with private_key_jwt.
func (e *env) pushRO(clientID string, c claims, hdr http.Header) string {
	form := e.withAssertion(url.Values{"request": {e.requestObject(c)}, "client_id": {clientID}}, clientID)
	return e.push(nil, form, hdr)
}

// authorizeURL is the authorization request URL with the given parameters.
func (e *env) authorizeURL(params url.Values) string {
	return e.srv.Endpoints().Authorization + "?" + params.Encode()
}

// authorize follows the authorization request and returns the callback.
func (e *env) authorize(params url.Values) (*authserver.Callback, error) {
	return e.srv.Authorize(context.Background(), e.authorizeURL(params))
}

// code runs PAR (with a request object) and the authorization request for
// clientID and returns the code; c may be nil for the defaults.
func (e *env) code(clientID string, c claims, hdr http.Header) (code string, cb url.Values) {
	e.t.Helper()
	uri := e.pushRO(clientID, c, hdr)
	res, err := e.authorize(url.Values{"client_id": {clientID}, "request_uri": {uri}})
	require.NoError(e.t, err)
	p := res.Params()
	require.Empty(e.t, p.Get("error"), "error_description: %s", p.Get("error_description"))
	return p.Get("code"), p
}

// proof builds a DPoP proof; mods change the claims.
func (e *env) proof(key crypto.Signer, method, endpoint string, mods ...func(claims)) string {
	c := claims{"jti": randomID(), "htm": method, "htu": endpoint, "iat": e.clock.Now().Unix()}
	for _, m := range mods {
		m(c)
	}
	return sign(e.t, key, jose.SignerOptions{Type: "dpop+jwt", EmbedJWK: true}, c)
}

func withNonce(n string) func(claims) { return func(c claims) { c["nonce"] = n } }

func dpopHeader(p string) http.Header { return http.Header{"Dpop": {p}} }

func jktOf(t testing.TB, key crypto.Signer) string {
	t.Helper()
	j, err := jose.Thumbprint(key.Public())
	require.NoError(t, err)
	return j
}

// serverKeys fetches and parses the server's JWK Set.
func (e *env) serverKeys() []*jose.JWK {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.srv.Endpoints().JWKS, nil)
	require.NoError(e.t, err)
	r := e.do(e.hc, req)
	require.Equal(e.t, http.StatusOK, r.status)
	keys, err := jose.ParseJWKSet(r.body)
	require.NoError(e.t, err)
	return keys
}

// verifyServerJWT verifies a JWT signed by the server with its published
// keys and returns the header and claims.
func (e *env) verifyServerJWT(tok string) (*jose.JWS, claims) {
	e.t.Helper()
	j, err := jose.ParseCompact(tok)
	require.NoError(e.t, err)
	_, err = j.VerifyWith(context.Background(), jose.StaticKeys(e.serverKeys()), []string{jose.ES256})
	require.NoError(e.t, err)
	var c claims
	require.NoError(e.t, json.Unmarshal(j.Payload, &c))
	return j, c
}

// exchange redeems a code for clientID (authenticated by private_key_jwt
// unless form already has credentials).
func (e *env) exchange(hc *http.Client, clientID, code, verifier string, hdr http.Header) httpResult {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
	switch clientID {
	case jwtID, fapiID, jarmECID, encROID:
		e.withAssertion(form, clientID)
	default:
		form.Set("client_id", clientID)
	}
	return e.post(hc, e.srv.Endpoints().Token, form, hdr)
}

// introspect calls the introspection endpoint as the resource server.
func (e *env) introspect(token string, accept string) httpResult {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.srv.Endpoints().Introspection,
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(rsID, rsSecret)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return e.do(e.hc, req)
}

func (e *env) requireActive(token string, want bool) map[string]any {
	e.t.Helper()
	r := e.introspect(token, "")
	require.Equal(e.t, http.StatusOK, r.status)
	m := decodeJSON(e.t, r)
	require.Equal(e.t, want, m["active"])
	return m
}

// basicAuth is the client_secret_basic header with form-url-encoded
// credentials (RFC 6749 §2.3.1).
func basicAuth(id, secret string) http.Header {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(raw))}}
}

// signWithHeader signs claims with an ES256 key under a hand-made header,
// for headers jose.Signer would never write.
func signWithHeader(t testing.TB, key *ecdsa.PrivateKey, header, c any) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	p, err := json.Marshal(c)
	require.NoError(t, err)
	input := b64(h) + "." + b64(p)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	require.NoError(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

// jwkMap returns the public JWK of key as a map.
func jwkMap(t testing.TB, key crypto.PublicKey) map[string]any {
	t.Helper()
	j, err := jose.NewJWK(key)
	require.NoError(t, err)
	raw, err := json.Marshal(j)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// encKey returns the server's request object encryption key for alg.
func (e *env) encKey(alg string) *jose.JWK {
	e.t.Helper()
	for _, k := range e.serverKeys() {
		if k.Use == "enc" && k.Algorithm == alg {
			return k
		}
	}
	e.t.Fatalf("no %s key in the JWK Set", alg)
	return nil
}

func b64std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// postNoT is post for goroutines that must not call t.FailNow.
func postNoT(hc *http.Client, endpoint string, form url.Values, hdr http.Header) httpResult {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return httpResult{}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return httpResult{}
	}
	defer resp.Body.Close()
	body, _ := httpx.ReadBody(resp.Body, 0)
	return httpResult{resp.StatusCode, resp.Header, body}
}

func jsonField(body []byte, name string) string {
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	s, _ := m[name].(string)
	return s
}
