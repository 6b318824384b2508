package phantom

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/testpeer"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// nginxConf is the configuration the test runs nginx with: TLS on
// loopback, client certificates requested (not verified: the binding
// check compares thumbprints), every request authorized by the phantom
// auth-request endpoint, the JWT and the next DPoP nonce copied from its
// answer, the DPoP header removed on the way upstream.
const nginxConf = `daemon off;
master_process off;
worker_processes 1;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path {{dir}}/body;
  proxy_temp_path {{dir}}/proxy;
  fastcgi_temp_path {{dir}}/fastcgi;
  uwsgi_temp_path {{dir}}/uwsgi;
  scgi_temp_path {{dir}}/scgi;
  server {
    listen 127.0.0.1:{{port}} ssl;
    ssl_certificate {{dir}}/server.pem;
    ssl_certificate_key {{dir}}/server.key;
    ssl_verify_client optional_no_ca;

    location = /_phantom {
      internal;
      proxy_pass http://{{auth}}/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;
    }

    location / {
      auth_request /_phantom;
      auth_request_set $phantom_authorization $upstream_http_authorization;
      auth_request_set $phantom_nonce $upstream_http_dpop_nonce;
      add_header DPoP-Nonce $phantom_nonce always;
      proxy_set_header Authorization $phantom_authorization;
      proxy_set_header DPoP "";
      proxy_set_header X-SSL-Client-Cert "";
      proxy_pass http://{{upstream}};
    }
  }
}
`

// startNGINX runs Debian's nginx with nginxConf in front of the auth
// endpoint and the upstream (internal/testpeer), and returns its https
// URL. Without nginx the test is skipped loudly, naming `make peers`, or
// fails when peers are required.
func startNGINX(t *testing.T, auth, upstream string, pki *authserver.PKI) string {
	t.Helper()
	dir := t.TempDir()
	cert, err := pki.IssueServerCertificate("127.0.0.1")
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "server.pem"), "CERTIFICATE", cert.Certificate[0])
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "server.key"), "PRIVATE KEY", keyDER)
	addr := testpeer.Nginx(t, dir, func(port int) string {
		return strings.NewReplacer("{{dir}}", dir, "{{port}}", strconv.Itoa(port), "{{auth}}", auth, "{{upstream}}", upstream).Replace(nginxConf)
	})
	return "https://" + addr
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// TestNGINX runs the auth-request endpoint behind a real nginx
// (auth_request + auth_request_set), as a deployment would.
func TestNGINX(t *testing.T) {
	t.Parallel()
	pki, err := authserver.NewPKI()
	require.NoError(t, err)

	as := newFakeAS(t)
	alice := newProofer(t)
	clientCert, err := authserver.SelfSignedCertificate("alice")
	require.NoError(t, err)
	otherCert, err := authserver.SelfSignedCertificate("mallory")
	require.NoError(t, err)
	as.active("plain", map[string]any{"scope": "read"})
	as.active("dpop", map[string]any{"scope": "read", "cnf": map[string]any{"jkt": alice.JKT()}})
	as.active("mtls", map[string]any{"scope": "read", "cnf": map[string]any{"x5t#S256": mtlsbound.Thumbprint(clientCert.Leaf)}})

	up := &upstream{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)

	// The gateway's external URL is nginx's, known only once it runs: the
	// auth endpoint is set then.
	var current atomic.Pointer[AuthRequest]
	authSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := current.Load()
		if a == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		a.ServeHTTP(w, r)
	}))
	t.Cleanup(authSrv.Close)
	base := startNGINX(t, strings.TrimPrefix(authSrv.URL, "http://"), strings.TrimPrefix(upSrv.URL, "http://"), pki)

	nonces := &dpop.Nonces{Secrets: [][]byte{[]byte(strings.Repeat("n", 32))}}
	gw := as.gateway(ModeIntrospectionJWT)
	gw.Routes = []Route{{Prefix: "/admin", Scopes: []string{"admin"}}}
	gw.DPoP = &dpop.Verifier{BaseURL: base, Nonces: nonces, CheckedElsewhere: []string{"x5t#S256"}}
	gw.MTLS = &mtlsbound.Verifier{
		CheckedElsewhere: []string{"jkt", "jwk"},
		ProxyHeader:      "X-SSL-Client-Cert", ProxyFormat: mtlsbound.HeaderEscapedPEM,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	}
	current.Store(&AuthRequest{Gateway: gw, Protocol: ProtocolNGINX, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})

	client := func(cert *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: pki.Roots()}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	do := func(c *http.Client, method, path string, h map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		require.NoError(t, err)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}
	plain := client(nil)

	t.Run("bearer token: the upstream gets the JWT, not the opaque token", func(t *testing.T) {
		before := up.count()
		resp := do(plain, "GET", "/orders?page=2", map[string]string{"Authorization": "Bearer plain"})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, before+1, up.count())
		up.mu.Lock()
		defer up.mu.Unlock()
		auth := up.headers.Get("Authorization")
		require.True(t, strings.HasPrefix(auth, "Bearer ey"), auth)
		require.NotContains(t, auth, "plain")
		p := jwtPayload(t, strings.TrimPrefix(auth, "Bearer "))
		require.Equal(t, "read", p["token_introspection"].(map[string]any)["scope"])
	})

	t.Run("no token: 401 with the challenge", func(t *testing.T) {
		resp := do(plain, "GET", "/orders", nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		ch, err := oautherr.ParseHeader(resp.Header)
		require.NoError(t, err)
		_, ok := oautherr.Find(ch, "DPoP")
		require.True(t, ok, resp.Header)
		require.NotEmpty(t, resp.Header.Get("DPoP-Nonce"))
	})

	t.Run("inactive token: 401 invalid_token", func(t *testing.T) {
		resp := do(plain, "GET", "/orders", map[string]string{"Authorization": "Bearer revoked"})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
	})

	t.Run("spoofed original URI is overwritten by nginx", func(t *testing.T) {
		before := up.count()
		resp := do(plain, "GET", "/admin/users", map[string]string{
			"Authorization": "Bearer plain", "X-Original-URI": "/public", "X-Original-Method": "GET",
		})
		require.Equal(t, http.StatusForbidden, resp.StatusCode, "the admin route is judged, not the spoofed one")
		require.Equal(t, before, up.count())
	})

	t.Run("spoofed upstream header is replaced", func(t *testing.T) {
		// The client sends a forged JWT beside its token: nginx replaces
		// Authorization with the gateway's answer.
		resp := do(plain, "GET", "/orders", map[string]string{"Authorization": "Bearer plain", "X-SSL-Client-Cert": "forged"})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		up.mu.Lock()
		defer up.mu.Unlock()
		require.Empty(t, up.headers.Get("X-Ssl-Client-Cert"))
		require.Len(t, up.headers.Values("Authorization"), 1)
	})

	t.Run("DPoP: nonce, proof, replay, downgrade", func(t *testing.T) {
		mk := func(nonce string) string {
			p, err := alice.Proof("GET", base+"/orders", dpop.ProofOptions{AccessToken: "dpop", Nonce: nonce})
			require.NoError(t, err)
			return p
		}
		resp := do(plain, "GET", "/orders", map[string]string{"Authorization": "DPoP dpop", "DPoP": mk("")})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`)
		nonce := resp.Header.Get("DPoP-Nonce")
		require.NotEmpty(t, nonce, "the nonce reaches the client through auth_request_set")

		proof := mk(nonce)
		before := up.count()
		resp = do(plain, "GET", "/orders", map[string]string{"Authorization": "DPoP dpop", "DPoP": proof})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, before+1, up.count())
		up.mu.Lock()
		require.Empty(t, up.headers.Values("Dpop"), "the proof is not forwarded")
		require.True(t, strings.HasPrefix(up.headers.Get("Authorization"), "Bearer ey"))
		up.mu.Unlock()

		resp = do(plain, "GET", "/orders", map[string]string{"Authorization": "DPoP dpop", "DPoP": proof})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a replayed proof")
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_dpop_proof"`)

		resp = do(plain, "GET", "/orders", map[string]string{"Authorization": "Bearer dpop"})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a Bearer downgrade")
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
		require.Equal(t, before+1, up.count())
	})

	t.Run("certificate-bound token through nginx's TLS", func(t *testing.T) {
		resp := do(client(&clientCert), "GET", "/orders", map[string]string{"Authorization": "Bearer mtls"})
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp = do(client(&otherCert), "GET", "/orders", map[string]string{"Authorization": "Bearer mtls"})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "another certificate")
		resp = do(plain, "GET", "/orders", map[string]string{"Authorization": "Bearer mtls"})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "no certificate")
		resp = do(plain, "GET", "/orders", map[string]string{"Authorization": "Bearer mtls",
			"X-SSL-Client-Cert": mtlsbound.Thumbprint(clientCert.Leaf)})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a client-sent certificate header is overwritten")
	})

	t.Run("authorization server down: nginx answers 500", func(t *testing.T) {
		as.srv.Close()
		resp := do(plain, "GET", "/orders", map[string]string{"Authorization": "Bearer not-cached"})
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode, "auth_request turns the 503 into a 500, never a pass-through")
	})
}
