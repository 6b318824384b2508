package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/phantom"
)

// buffer collects the gateway's output, safe for concurrent use.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// start runs the gateway with args until the test ends and returns its URL.
func start(t *testing.T, args []string, out io.Writer) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, out, func(u string) { urls <- u }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("the gateway did not stop")
		}
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		t.Fatalf("the gateway stopped: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the gateway did not start")
	}
	return ""
}

func TestDemo(t *testing.T) {
	t.Parallel()
	var out buffer
	start(t, nil, &out)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "demo: done") }, 30*time.Second, 20*time.Millisecond, out.String())
	got := out.String()
	for _, want := range []string{
		"gateway: listening on http://127.0.0.1:",
		"mode token-introspection+jwt, dpop required",
		"demo: got a DPoP-bound opaque access token",
		"demo: GET /hello, DPoP token and proof  -> 200 hello secret-client: the API got a token-introspection+jwt JWT",
		"demo: GET /hello, the token as Bearer     -> 401",
		"demo: GET /hello, one proof sent twice     -> 200 then 401",
		"demo: GET /hello, no token                -> 401",
		"demo: GET /hello, a token for another API -> 401",
		"gateway: tokens must have aud http://127.0.0.1:",
		"decision=deny reason=wrong_audience",
		"decision=deny reason=use_dpop_nonce",
		"decision=deny reason=bearer_downgrade",
		"decision=deny reason=replayed_dpop_proof",
		"decision=deny reason=no_token",
		"decision=allow",
	} {
		require.Contains(t, got, want)
	}
	require.NotContains(t, got, "demo: failed")
	require.Equal(t, 7, strings.Count(got, "msg=request"), "one line per request")
}

func TestFlags(t *testing.T) {
	t.Parallel()
	base := []string{"-upstream", "http://127.0.0.1:1", "-issuer", "https://as.example", "-client-id", "gw", "-client-secret", "s"}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"-nope"}},
		{"argument", with("extra")},
		{"no upstream", []string{"-issuer", "https://as.example", "-client-id", "gw", "-client-secret", "s"}},
		{"upstream and auth-request", with("-auth-request", "nginx")},
		{"no issuer", []string{"-upstream", "http://x", "-client-id", "gw", "-client-secret", "s"}},
		{"no client id", []string{"-upstream", "http://x", "-issuer", "https://as.example", "-client-secret", "s"}},
		{"no credentials", []string{"-upstream", "http://x", "-issuer", "https://as.example", "-client-id", "gw"}},
		{"secret and key", with("-key", "k.pem")},
		{"cert without key", with("-tls-cert", "c.pem")},
		{"client-ca without TLS", with("-client-ca", "ca.pem")},
		{"bad mode", with("-mode", "xml")},
		{"bad dpop", with("-dpop", "sometimes")},
		{"bad auth-request", []string{"-auth-request", "haproxy", "-issuer", "https://as.example", "-client-id", "gw", "-client-secret", "s"}},
		{"jwt mode without issuer", []string{"-upstream", "http://x", "-introspect", "https://as.example/i", "-client-id", "gw", "-client-secret", "s", "-mode", "jwt"}},
		{"client-cert-header without auth-request", with("-client-cert-header", "X-SSL-Client-Cert")},
		{"client-cert-header with traefik", []string{"-auth-request=traefik", "-client-cert-header", "X-SSL-Client-Cert", "-issuer", "https://as.example", "-client-id", "gw", "-client-secret", "s"}},
		{"client-cert-header with envoy", []string{"-auth-request=envoy", "-client-cert-header", "X-SSL-Client-Cert", "-issuer", "https://as.example", "-client-id", "gw", "-client-secret", "s"}},
		{"client-cert-header not a field name", []string{"-auth-request", "-client-cert-header", "X SSL", "-issuer", "https://as.example", "-client-id", "gw", "-client-secret", "s"}},
		{"insecure-any-audience in jwt mode", with("-mode", "jwt", "-insecure-any-audience")},
		{"insecure-any-audience and audience", with("-audience", "https://api.example", "-insecure-any-audience")},
		{"audience not absolute", with("-audience", "/orders")},
		{"audience with a fragment", with("-audience", "https://api.example/#x")},
		{"client-cert-header is the token's field", []string{"-auth-request", "-client-cert-header", "authorization", "-issuer", "https://as.example", "-client-id", "gw", "-client-secret", "s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tc.args, io.Discard, nil)
			require.ErrorIs(t, err, errUsage)
		})
	}
}

// peer is an authorization server with the clients the attack tests use.
type peer struct {
	as        *authserver.Server
	pki       *authserver.PKI
	dir       string
	caFile    string
	certFile  string
	keyFile   string
	appCert   tls.Certificate // registered for mtls-app
	otherCert tls.Certificate // issued by the same CA, registered for nobody
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	pki, err := authserver.NewPKI()
	require.NoError(t, err)
	subject := pkix.Name{CommonName: "mtls-app", Organization: []string{"test"}}
	p := &peer{pki: pki, dir: t.TempDir()}
	p.appCert, err = pki.IssueClientCertificate(subject)
	require.NoError(t, err)
	p.otherCert, err = pki.IssueClientCertificate(pkix.Name{CommonName: "mallory"})
	require.NoError(t, err)
	p.as, err = authserver.StartTLS(authserver.Config{PKI: pki, Clients: []authserver.Client{
		{ID: "dpop-app", AuthMethod: authserver.AuthClientSecretBasic, Secret: "dpop-secret",
			GrantTypes: []string{authserver.GrantClientCredentials}, RequireDPoP: true},
		{ID: "mtls-app", AuthMethod: authserver.AuthTLSClient, TLSSubjectDN: subject.String(),
			GrantTypes: []string{authserver.GrantClientCredentials}, RequireMTLSBinding: true},
		{ID: "gateway", AuthMethod: authserver.AuthClientSecretBasic, Secret: "gateway-secret",
			GrantTypes: []string{}, Introspect: true},
	}})
	require.NoError(t, err)
	t.Cleanup(p.as.Close)

	p.caFile = filepath.Join(p.dir, "ca.pem")
	writePEM(t, p.caFile, "CERTIFICATE", pki.CA().Raw)
	server, err := pki.IssueServerCertificate("127.0.0.1")
	require.NoError(t, err)
	p.certFile, p.keyFile = filepath.Join(p.dir, "gw.pem"), filepath.Join(p.dir, "gw.key")
	writePEM(t, p.certFile, "CERTIFICATE", server.Certificate[0])
	der, err := x509.MarshalPKCS8PrivateKey(server.PrivateKey)
	require.NoError(t, err)
	writePEM(t, p.keyFile, "PRIVATE KEY", der)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// testAPI is the resource the tests' gateways protect (-audience or
// -external-url): the tokens of the peer are for it.
const testAPI = "https://api.example"

// dpopToken gets a DPoP-bound token for proofer, for testAPI.
func (p *peer) dpopToken(t *testing.T, proofer *dpop.Proofer) string {
	t.Helper()
	return p.dpopTokenFor(t, proofer, testAPI)
}

// dpopTokenFor gets a DPoP-bound token for proofer and the resource; ""
// asks for none (the server's default audience, its userinfo).
func (p *peer) dpopTokenFor(t *testing.T, proofer *dpop.Proofer, resource string) string {
	t.Helper()
	tokenURL := p.as.Endpoints().Token
	proof, err := proofer.Proof("POST", tokenURL, dpop.ProofOptions{})
	require.NoError(t, err)
	form := url.Values{"grant_type": {"client_credentials"}}
	if resource != "" {
		form.Set("resource", resource)
	}
	req, err := http.NewRequest("POST", tokenURL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("dpop-app", "dpop-secret")
	req.Header.Set("DPoP", proof)
	return p.token(t, p.as.HTTPClient(), req, "DPoP")
}

// mtlsToken gets a token bound to the mtls-app certificate.
func (p *peer) mtlsToken(t *testing.T) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"mtls-app"}, "resource": {testAPI}}
	req, err := http.NewRequest("POST", p.as.MTLSEndpoints().Token, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.token(t, p.as.HTTPClientWithCertificate(p.appCert), req, "Bearer")
}

func (p *peer) token(t *testing.T, c *http.Client, req *http.Request, typ string) string {
	t.Helper()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, typ, body.TokenType)
	return body.AccessToken
}

// recorder is the upstream: it records what reaches it.
type recorder struct {
	mu      sync.Mutex
	calls   int
	headers http.Header
}

func (u *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.calls++
	u.headers = r.Header.Clone()
	u.mu.Unlock()
	_, _ = io.WriteString(w, "upstream")
}

func (u *recorder) snapshot() (int, http.Header) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls, u.headers
}

// TestAttacks runs the gateway with TLS and client certificates in front
// of an upstream and attacks it as a client would.
func TestAttacks(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	up := &recorder{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	var out buffer
	gw := start(t, []string{
		"-listen", "127.0.0.1:0", "-upstream", upSrv.URL, "-issuer", p.as.Issuer(),
		"-client-id", "gateway", "-client-secret", "gateway-secret", "-ca", p.caFile,
		"-mode", "token-introspection+jwt", "-dpop", "required", "-audience", testAPI,
		"-tls-cert", p.certFile, "-tls-key", p.keyFile, "-client-ca", p.caFile, "-cache-ttl", "30s",
	}, &out)
	require.True(t, strings.HasPrefix(gw, "https://127.0.0.1:"))

	client := func(cert *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: p.pki.Roots()}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
	}
	plain := client(nil)
	send := func(c *http.Client, headers ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", gw+"/orders", nil)
		require.NoError(t, err)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Add(headers[i], headers[i+1])
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}

	key, err := dpop.GenerateKey()
	require.NoError(t, err)
	proofer, err := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	require.NoError(t, err)
	dpopTok := p.dpopToken(t, proofer)
	mtlsTok := p.mtlsToken(t)
	mkProof := func(nonce string) string {
		v, err := proofer.Proof("GET", gw+"/orders", dpop.ProofOptions{AccessToken: dpopTok, Nonce: nonce})
		require.NoError(t, err)
		return v
	}
	// The gateway demands its nonce first.
	resp := send(plain, "Authorization", "DPoP "+dpopTok, "DPoP", mkProof(""))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	nonce := resp.Header.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)

	var goodProof string
	t.Run("a DPoP-bound token with its proof reaches the upstream as a JWT", func(t *testing.T) {
		goodProof = mkProof(nonce)
		resp := send(plain, "Authorization", "DPoP "+dpopTok, "DPoP", goodProof)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_, h := up.snapshot()
		jwt, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
		require.True(t, ok)
		j, err := jose.ParseCompact(jwt)
		require.NoError(t, err)
		require.NoError(t, j.Verify(p.as.PublicKey(), []string{jose.ES256}), "signed by the authorization server")
		require.Equal(t, "token-introspection+jwt", j.Header.Typ)
		require.Empty(t, h.Values("Dpop"))
		require.NotContains(t, h.Get("Authorization"), dpopTok)
	})

	t.Run("replayed proof", func(t *testing.T) {
		calls, _ := up.snapshot()
		resp := send(plain, "Authorization", "DPoP "+dpopTok, "DPoP", goodProof)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_dpop_proof"`)
		after, _ := up.snapshot()
		require.Equal(t, calls, after)
	})

	t.Run("Bearer downgrade of a DPoP token", func(t *testing.T) {
		calls, _ := up.snapshot()
		resp := send(plain, "Authorization", "Bearer "+dpopTok)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
		after, _ := up.snapshot()
		require.Equal(t, calls, after)
	})

	t.Run("spoofed upstream header", func(t *testing.T) {
		calls, _ := up.snapshot()
		// A JWT the client forged, as if it were the gateway's: it is only
		// ever an opaque token to introspect, and an unknown one.
		attacker, err := dpop.GenerateKey()
		require.NoError(t, err)
		s, err := jose.NewSigner(attacker, jose.SignerOptions{Type: "token-introspection+jwt"})
		require.NoError(t, err)
		forged, err := s.SignJSON(map[string]any{"iss": p.as.Issuer(), "aud": "gateway", "iat": time.Now().Unix(),
			"token_introspection": map[string]any{"active": true, "sub": "admin"}})
		require.NoError(t, err)
		resp := send(plain, "Authorization", "Bearer "+forged)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		// Beside a good token, in a second Authorization field.
		resp = send(plain, "Authorization", "DPoP "+dpopTok, "Authorization", "Bearer "+forged, "DPoP", mkProof(nonce))
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		after, _ := up.snapshot()
		require.Equal(t, calls, after, "nothing reached the upstream")
	})

	t.Run("certificate-bound token and the wrong certificate", func(t *testing.T) {
		calls, _ := up.snapshot()
		require.Equal(t, http.StatusOK, send(client(&p.appCert), "Authorization", "Bearer "+mtlsTok).StatusCode)
		require.Equal(t, http.StatusUnauthorized, send(client(&p.otherCert), "Authorization", "Bearer "+mtlsTok).StatusCode)
		require.Equal(t, http.StatusUnauthorized, send(plain, "Authorization", "Bearer "+mtlsTok).StatusCode)
		after, _ := up.snapshot()
		require.Equal(t, calls+1, after)
	})

	t.Run("one log line per request, never a token", func(t *testing.T) {
		logs := out.String()
		for _, reason := range []string{"use_dpop_nonce", "replayed_dpop_proof", "bearer_downgrade", "inactive_token", "invalid_request", "binding_mismatch", "client_certificate"} {
			require.Contains(t, logs, "decision=deny reason="+reason)
		}
		require.Contains(t, logs, "decision=allow")
		for _, secret := range []string{dpopTok, mtlsTok, goodProof, "gateway-secret"} {
			require.NotContains(t, logs, secret)
		}
	})
}

// TestModes runs the other modes and the auth-request endpoint.
func TestModes(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	up := &recorder{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	key, err := dpop.GenerateKey()
	require.NoError(t, err)
	proofer, err := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	require.NoError(t, err)
	common := []string{"-listen", "127.0.0.1:0", "-issuer", p.as.Issuer(), "-client-id", "gateway",
		"-client-secret", "gateway-secret", "-ca", p.caFile, "-dpop", "optional"}
	api := append([]string{"-audience", testAPI}, common...)

	// callAt sends tok with a proof for external (the gateway's
	// -external-url) + "/orders"; call, for the gateway's own URL.
	var callAt func(t *testing.T, gw, external, tok string, h ...string) *http.Response
	call := func(t *testing.T, gw, tok string, h ...string) *http.Response {
		t.Helper()
		return callAt(t, gw, gw, tok, h...)
	}
	callAt = func(t *testing.T, gw, external, tok string, h ...string) *http.Response {
		t.Helper()
		nonceFor := func(nonce string) string {
			v, err := proofer.Proof("GET", external+"/orders", dpop.ProofOptions{AccessToken: tok, Nonce: nonce})
			require.NoError(t, err)
			return v
		}
		do := func(nonce string) *http.Response {
			req, err := http.NewRequest("GET", gw+"/orders", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "DPoP "+tok)
			req.Header.Set("DPoP", nonceFor(nonce))
			for i := 0; i+1 < len(h); i += 2 {
				req.Header.Set(h[i], h[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return resp
		}
		resp := do("")
		if n := resp.Header.Get("DPoP-Nonce"); resp.StatusCode == http.StatusUnauthorized && n != "" {
			resp = do(n)
		}
		return resp
	}

	t.Run("json: the gateway signs, and serves its key set", func(t *testing.T) {
		var out buffer
		gw := start(t, append([]string{"-upstream", upSrv.URL, "-mode", "json"}, api...), &out)
		resp := call(t, gw, p.dpopToken(t, proofer))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_, h := up.snapshot()
		jwt := strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
		jr, err := http.Get(gw + jwksPath)
		require.NoError(t, err)
		body, _ := io.ReadAll(jr.Body)
		_ = jr.Body.Close()
		keys, err := jose.ParseJWKSet(body)
		require.NoError(t, err)
		j, err := jose.ParseCompact(jwt)
		require.NoError(t, err)
		require.NoError(t, j.Verify(keys[0], []string{jose.ES256}))
	})

	t.Run("jwt: the access token itself", func(t *testing.T) {
		var out buffer
		gw := start(t, append([]string{"-upstream", upSrv.URL, "-mode", "jwt", "-external-url", testAPI}, common...), &out)
		resp := callAt(t, gw, testAPI, p.dpopToken(t, proofer))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		// A token without the gateway's external URL in its aud: refused.
		resp = callAt(t, gw, testAPI, p.dpopTokenFor(t, proofer, ""))
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, out.String(), "reason=wrong_audience")
	})

	// The introspection modes check the aud of the introspection response
	// too: a token the server issued for another API, or for its userinfo,
	// does not pass. -audience defaults to -external-url.
	for _, mode := range []string{"token-introspection+jwt", "json"} {
		for _, aud := range [][]string{{"-audience", testAPI}, {"-external-url", testAPI}} {
			t.Run(mode+": a token for another API is refused, "+aud[0], func(t *testing.T) {
				var out buffer
				gw := start(t, append(append([]string{"-upstream", upSrv.URL, "-mode", mode}, aud...), common...), &out)
				external := gw
				if aud[0] == "-external-url" {
					external = testAPI
				}
				for _, other := range []string{"", "https://other.example", testAPI + "/"} {
					resp := callAt(t, gw, external, p.dpopTokenFor(t, proofer, other))
					require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "token for %q", other)
					require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
				}
				require.Contains(t, out.String(), "reason=wrong_audience")
				require.NotContains(t, out.String(), "decision=allow")
				require.Contains(t, out.String(), "gateway: tokens must have aud "+testAPI+"\n")
				resp := callAt(t, gw, external, p.dpopToken(t, proofer))
				require.Equal(t, http.StatusOK, resp.StatusCode)
			})
		}
	}

	t.Run("-insecure-any-audience accepts a token for another API, and says so", func(t *testing.T) {
		var out buffer
		gw := start(t, append([]string{"-upstream", upSrv.URL, "-insecure-any-audience"}, common...), &out)
		resp := call(t, gw, p.dpopTokenFor(t, proofer, ""))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, out.String(), "WARNING: -insecure-any-audience")
	})

	t.Run("auth-request for nginx", func(t *testing.T) {
		var out buffer
		gw := start(t, append([]string{"-auth-request", "nginx", "-external-url", "https://api.example"}, common...), &out)
		tok := p.dpopToken(t, proofer)
		mk := func(nonce string) *http.Request {
			proof, err := proofer.Proof("GET", "https://api.example/orders", dpop.ProofOptions{AccessToken: tok, Nonce: nonce})
			require.NoError(t, err)
			req, err := http.NewRequest("GET", gw+"/_phantom", nil)
			require.NoError(t, err)
			req.Header.Set("X-Original-Method", "GET")
			req.Header.Set("X-Original-URI", "/orders")
			req.Header.Set("Authorization", "DPoP "+tok)
			req.Header.Set("DPoP", proof)
			return req
		}
		resp, err := http.DefaultClient.Do(mk(""))
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp, err = http.DefaultClient.Do(mk(resp.Header.Get("DPoP-Nonce")))
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, strings.HasPrefix(resp.Header.Get("Authorization"), "Bearer ey"))
	})

	t.Run("the introspection endpoint unreachable: 503", func(t *testing.T) {
		var out buffer
		gw := start(t, append([]string{"-upstream", upSrv.URL, "-introspect", "https://127.0.0.1:1/introspect"}, common...), &out)
		resp := call(t, gw, "some-token")
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.NotEmpty(t, resp.Header.Get("Retry-After"))
		require.Contains(t, out.String(), "reason=introspection_failed")
	})
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	tests := []struct {
		name string
		args []string
	}{
		{"unreachable issuer", []string{"-upstream", "http://127.0.0.1:1", "-issuer", "https://127.0.0.1:1", "-client-id", "g", "-client-secret", "s", "-listen", "127.0.0.1:0"}},
		{"untrusted issuer", []string{"-upstream", "http://127.0.0.1:1", "-issuer", p.as.Issuer(), "-client-id", "g", "-client-secret", "s", "-listen", "127.0.0.1:0"}},
		{"missing key file", []string{"-upstream", "http://127.0.0.1:1", "-issuer", p.as.Issuer(), "-ca", p.caFile, "-client-id", "g", "-key", filepath.Join(p.dir, "none.pem"), "-listen", "127.0.0.1:0"}},
		{"missing CA file", []string{"-upstream", "http://127.0.0.1:1", "-issuer", p.as.Issuer(), "-ca", filepath.Join(p.dir, "none.pem"), "-client-id", "g", "-client-secret", "s", "-listen", "127.0.0.1:0"}},
		{"bad upstream", []string{"-upstream", "ftp://x", "-issuer", p.as.Issuer(), "-ca", p.caFile, "-client-id", "g", "-client-secret", "s", "-listen", "127.0.0.1:0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := run(ctx, tc.args, io.Discard, func(string) { t.Error("started") })
			require.Error(t, err)
			if !errors.Is(err, errUsage) {
				require.NotContains(t, fmt.Sprint(err), "gateway-secret")
			}
		})
	}
}

// TestRefusalIsAHardenedError: the gateway's refusals are caught by the
// module's one errors.As target for OAuth errors.
func TestRefusalIsAHardenedError(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	g := &phantom.Gateway{
		IntrospectionURL: p.as.Endpoints().Introspection,
		HTTPClient: &http.Client{Transport: &hardened.AuthTransport{
			Base:      &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pki.Roots()}},
			Auth:      hardened.ClientSecretBasic{ClientID: "gateway", ClientSecret: "gateway-secret"},
			Endpoints: []string{p.as.Endpoints().Introspection},
		}},
		Issuer: p.as.Issuer(), ClientID: "gateway", JWKSURL: p.as.Endpoints().JWKS,
	}
	req := httptest.NewRequest("GET", "https://api.example/orders", nil)
	req.Header.Set("Authorization", "Bearer unknown-token")
	_, err := g.Verify(req)
	var he *hardened.Error
	require.ErrorAs(t, err, &he)
	require.Equal(t, "invalid_token", he.Code)
	require.Equal(t, http.StatusUnauthorized, he.Status)
	require.ErrorIs(t, err, phantom.ErrInactiveToken)
	var pe *phantom.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, phantom.ReasonInactiveToken, pe.Reason)
}

// -auth-request is usable as the issue names it, alone, and with the
// gateway's name in either flag form.
func TestAuthRequestFlagForms(t *testing.T) {
	t.Parallel()
	base := []string{"-issuer", "https://as.example", "-client-id", "gw", "-client-secret", "s"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"alone", []string{"-auth-request"}, "nginx"},
		{"true", []string{"-auth-request=true"}, "nginx"},
		{"equals", []string{"-auth-request=traefik"}, "traefik"},
		{"space", []string{"-auth-request", "envoy"}, "envoy"},
		{"space nginx", []string{"-auth-request", "nginx"}, "nginx"},
		{"off", []string{"-auth-request=false", "-upstream", "http://127.0.0.1:1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := parseFlags(append(append([]string{}, tc.args...), base...), io.Discard)
			require.NoError(t, err)
			require.Equal(t, tc.want, o.authRequest)
			require.NoError(t, o.check())
		})
	}
	_, err := parseFlags(append([]string{"-auth-request", "haproxy"}, base...), io.Discard)
	require.ErrorIs(t, err, errUsage, "an unknown positional argument is refused")
}

// nginxEscape is $ssl_client_escaped_cert's encoding.
func nginxEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// TestNginxClientCertificateHeader: behind nginx, the gateway believes a
// client certificate header only when -client-cert-header names it. nginx
// passes the client's own headers to the auth subrequest, so a header the
// operator did not configure may be a forgery: with a stolen
// certificate-bound token and the victim's (public) certificate, an
// attacker would void the RFC 8705 binding. Without the flag,
// certificate-bound tokens are refused.
func TestNginxClientCertificateHeader(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	tok := p.mtlsToken(t) // bound to appCert
	certHeader := func(c tls.Certificate) string {
		return nginxEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})))
	}
	common := []string{"-auth-request", "-listen", "127.0.0.1:0", "-external-url", "https://api.example",
		"-issuer", p.as.Issuer(), "-client-id", "gateway", "-client-secret", "gateway-secret", "-ca", p.caFile}

	tests := []struct {
		name    string
		flags   []string
		headers map[string]string
		err     error // nil: admitted
		reason  phantom.Reason
	}{
		{name: "no flag: a forged X-SSL-Client-Cert is not believed",
			headers: map[string]string{"X-SSL-Client-Cert": certHeader(p.appCert)},
			err:     phantom.ErrUnsupportedConfirmation, reason: phantom.ReasonUnsupportedBinding},
		{name: "no flag: a forged X-Forwarded-Client-Cert is not believed",
			headers: map[string]string{"X-Forwarded-Client-Cert": `Cert="` + certHeader(p.appCert) + `"`},
			err:     phantom.ErrUnsupportedConfirmation, reason: phantom.ReasonUnsupportedBinding},
		{name: "configured header with the bound certificate",
			flags:   []string{"-client-cert-header", "X-SSL-Client-Cert"},
			headers: map[string]string{"X-SSL-Client-Cert": certHeader(p.appCert)}},
		{name: "configured header with another certificate",
			flags:   []string{"-client-cert-header", "X-SSL-Client-Cert"},
			headers: map[string]string{"X-SSL-Client-Cert": certHeader(p.otherCert)},
			err:     phantom.ErrBindingMismatch, reason: phantom.ReasonBindingMismatch},
		{name: "configured header absent",
			flags: []string{"-client-cert-header", "X-SSL-Client-Cert"},
			err:   phantom.ErrBindingMismatch, reason: phantom.ReasonCertificate},
		{name: "certificate in another header than the configured one",
			flags:   []string{"-client-cert-header", "X-Client-Cert-Verified"},
			headers: map[string]string{"X-SSL-Client-Cert": certHeader(p.appCert)},
			err:     phantom.ErrBindingMismatch, reason: phantom.ReasonCertificate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out buffer
			args := append(append([]string{}, common...), tc.flags...)
			gw := start(t, args, &out)

			// What nginx's auth location sends, from loopback.
			req, err := http.NewRequest("GET", gw+"/_phantom", nil)
			require.NoError(t, err)
			req.Header.Set("X-Original-Method", "GET")
			req.Header.Set("X-Original-URI", "/orders")
			req.Header.Set("Authorization", "Bearer "+tok)
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()

			// The same decision, as a typed error, from the gateway the
			// flags build.
			o, err := parseFlags(args, io.Discard)
			require.NoError(t, err)
			require.NoError(t, o.check())
			g, _, err := o.gateway(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, err)
			vr := httptest.NewRequest("GET", "https://api.example/orders", nil)
			vr.RemoteAddr = "127.0.0.1:4000"
			vr.Header = req.Header.Clone()
			_, verr := g.Verify(vr)

			if tc.err == nil {
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.True(t, strings.HasPrefix(resp.Header.Get("Authorization"), "Bearer ey"))
				require.NoError(t, verr)
				return
			}
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.Empty(t, resp.Header.Get("Authorization"), "no JWT with a refusal")
			require.Contains(t, out.String(), "decision=deny reason="+string(tc.reason))
			require.ErrorIs(t, verr, tc.err)
			var pe *phantom.Error
			require.ErrorAs(t, verr, &pe)
			require.Equal(t, tc.reason, pe.Reason)
		})
	}
}

// TestServerLimits: the listener bounds what an unauthenticated client
// can hold: idle keep-alive connections are closed, header sections are
// bounded. The values come from the function run uses; a header section
// over the bound is refused by the running gateway.
func TestServerLimits(t *testing.T) {
	t.Parallel()
	srv := newServer(http.NotFoundHandler(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.Equal(t, readHeaderTimeout, srv.ReadHeaderTimeout)
	require.Positive(t, srv.IdleTimeout, "an idle keep-alive connection is closed")
	require.LessOrEqual(t, srv.IdleTimeout, 2*time.Minute)
	require.Greater(t, srv.IdleTimeout, 60*time.Second, "longer than nginx's upstream keep-alive, so the proxy closes first")
	require.Positive(t, srv.MaxHeaderBytes)
	require.LessOrEqual(t, srv.MaxHeaderBytes, 64<<10)
	require.Greater(t, srv.MaxHeaderBytes, 16<<10, "room for a 4 KiB token, a DPoP proof and a certificate header")

	p := newPeer(t)
	var out buffer
	gw := start(t, []string{"-auth-request", "-listen", "127.0.0.1:0", "-external-url", "https://api.example",
		"-issuer", p.as.Issuer(), "-client-id", "gateway", "-client-secret", "gateway-secret", "-ca", p.caFile}, &out)
	req, err := http.NewRequest("GET", gw+"/_phantom", nil)
	require.NoError(t, err)
	req.Header.Set("X-Original-Method", "GET")
	req.Header.Set("X-Original-URI", "/orders")
	req.Header.Set("X-Padding", strings.Repeat("a", 128<<10))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

// A rogue or broken introspection endpoint (or upstream) answering with
// megabytes of header lines: net/http's default bound is 10 MiB a response,
// about 40 MB of heap once parsed into a header map, and the gateway runs
// up to 256 introspections at once (any client can start them with random
// tokens). The gateway's transport bounds a response's header section.
func TestRogueResponseHeaders(t *testing.T) {
	t.Parallel()
	const padding = 1 << 20
	pad := func(w http.ResponseWriter) {
		for i := 0; i < padding/16; i++ {
			w.Header().Add(fmt.Sprintf("X-Pad-%d", i), "0123456789")
		}
	}
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/padded/introspect" {
			pad(w)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"active":true,"scope":"orders","aud":"https://api.example"}`)
	}))
	t.Cleanup(as.Close)
	up := &recorder{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	rogueUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		pad(w)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(rogueUp.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, caFile, "CERTIFICATE", as.Certificate().Raw)

	for _, tc := range []struct {
		name, introspect, upstream string
		status                     int
		reason                     string
	}{
		{"ordinary response", "/introspect", upSrv.URL, http.StatusOK, ""},
		{"introspection response with 1 MiB of headers", "/padded/introspect", upSrv.URL, http.StatusServiceUnavailable, "introspection_failed"},
		{"upstream response with 1 MiB of headers", "/introspect", rogueUp.URL, http.StatusBadGateway, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out buffer
			gw := start(t, []string{"-listen", "127.0.0.1:0", "-upstream", tc.upstream, "-mode", "json",
				"-introspect", as.URL + tc.introspect, "-client-id", "gateway", "-client-secret", "gateway-secret",
				"-ca", caFile, "-dpop", "optional", "-audience", "https://api.example"}, &out)
			req, err := http.NewRequest("GET", gw+"/orders", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer opaque-token")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode)
			if tc.reason != "" {
				require.Contains(t, out.String(), "reason="+tc.reason)
			}
		})
	}
}

// The gateway is reached at -external-url, the origin of every DPoP htu:
// the X-Forwarded-Host and X-Forwarded-Proto it sets upstream say so. A
// client's Host header (any name, over a connection to the gateway's
// address) must not become the X-Forwarded-Host of an upstream that builds
// its links and redirects from it.
func TestForwardedHeadersNameTheExternalURL(t *testing.T) {
	t.Parallel()
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"active":true,"scope":"orders","aud":"https://api.example"}`)
	}))
	t.Cleanup(as.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, caFile, "CERTIFICATE", as.Certificate().Raw)
	up := &recorder{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	var out buffer
	gw := start(t, []string{"-listen", "127.0.0.1:0", "-upstream", upSrv.URL, "-mode", "json",
		"-introspect", as.URL + "/introspect", "-client-id", "gateway", "-client-secret", "gateway-secret",
		"-ca", caFile, "-dpop", "optional", "-external-url", "https://api.example"}, &out)
	for _, host := range []string{"evil.example", "api.example.evil.example:443"} {
		req, err := http.NewRequest("GET", gw+"/orders", nil)
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Authorization", "Bearer opaque-token")
		req.Header.Set("X-Forwarded-Host", "evil.example")
		req.Header.Set("X-Forwarded-Proto", "http")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		_, h := up.snapshot()
		require.Equal(t, []string{"api.example"}, h.Values("X-Forwarded-Host"), host)
		require.Equal(t, []string{"https"}, h.Values("X-Forwarded-Proto"), host)
	}
}
