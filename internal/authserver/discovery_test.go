package authserver_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

func (e *env) metadata(path string) map[string]any {
	e.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.srv.URL()+path, nil)
	require.NoError(e.t, err)
	r := e.do(e.hc, req)
	require.Equal(e.t, http.StatusOK, r.status)
	return decodeJSON(e.t, r)
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints()
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		t.Run(path, func(t *testing.T) {
			md := e.metadata(path)
			require.Equal(t, e.srv.Issuer(), md["issuer"])
			want := map[string]any{
				"authorization_endpoint":                         ep.Authorization,
				"token_endpoint":                                 ep.Token,
				"pushed_authorization_request_endpoint":          ep.PAR,
				"introspection_endpoint":                         ep.Introspection,
				"revocation_endpoint":                            ep.Revocation,
				"userinfo_endpoint":                              ep.Userinfo,
				"jwks_uri":                                       ep.JWKS,
				"require_pushed_authorization_requests":          false, // the basic client may skip PAR
				"tls_client_certificate_bound_access_tokens":     true,
				"authorization_response_iss_parameter_supported": true,
				"code_challenge_methods_supported":               []any{"S256"},
				"response_modes_supported":                       []any{"query", "fragment", "form_post", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt"},
				"request_object_signing_alg_values_supported":    []any{"ES256", "PS256", "EdDSA"},
				"request_object_encryption_alg_values_supported": []any{"ECDH-ES"},
				"request_object_encryption_enc_values_supported": []any{"A256GCM"},
				"authorization_signing_alg_values_supported":     []any{"ES256"},
				"authorization_encryption_alg_values_supported":  []any{"RSA-OAEP-256", "ECDH-ES"},
				"authorization_encryption_enc_values_supported":  []any{"A256GCM"},
				"dpop_signing_alg_values_supported":              []any{"ES256", "PS256", "EdDSA"},
				"introspection_signing_alg_values_supported":     []any{"ES256"},
				"id_token_signing_alg_values_supported":          []any{"ES256"},
				"subject_types_supported":                        []any{"public"},
				"claims_parameter_supported":                     false,
				"token_endpoint_auth_methods_supported": []any{"private_key_jwt", "client_secret_basic", "client_secret_post",
					"tls_client_auth", "self_signed_tls_client_auth", "none"},
			}
			for k, v := range want {
				require.Equal(t, v, md[k], k)
			}
			require.Contains(t, md["scopes_supported"], "openid")
			for _, c := range []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash", "azp"} {
				require.Contains(t, md["claims_supported"], c)
			}
			require.NotContains(t, md, "authorization_details_types_supported", "no client restricts the types")
			aliases, ok := md["mtls_endpoint_aliases"].(map[string]any)
			require.True(t, ok)
			a := e.srv.MTLSEndpoints()
			require.Equal(t, a.Token, aliases["token_endpoint"])
			require.Equal(t, a.PAR, aliases["pushed_authorization_request_endpoint"])
			require.Equal(t, a.Introspection, aliases["introspection_endpoint"])
		})
	}
	t.Run("JWKS", func(t *testing.T) {
		keys := e.serverKeys()
		require.Len(t, keys, 2)
		require.Equal(t, "sig", keys[0].Use)
		require.Equal(t, "ES256", keys[0].Algorithm)
		require.Equal(t, e.srv.KeyID(), keys[0].KeyID)
		require.Equal(t, "enc", keys[1].Use)
		require.Equal(t, "ECDH-ES", keys[1].Algorithm)
	})
	t.Run("methods and paths", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, ep.JWKS, nil)
		require.NoError(t, err)
		requireOAuthError(t, e.do(e.hc, req), http.StatusMethodNotAllowed, "invalid_request")
		req, err = http.NewRequest(http.MethodGet, e.srv.URL()+"/nothing", nil)
		require.NoError(t, err)
		requireOAuthError(t, e.do(e.hc, req), http.StatusNotFound, "invalid_request")
	})
}

func TestStartPlainHTTP(t *testing.T) {
	t.Parallel()
	srv, err := authserver.Start(authserver.Config{Clients: []authserver.Client{{ID: "c", AuthMethod: authserver.AuthClientSecretBasic,
		Secret: "s", GrantTypes: []string{authserver.GrantClientCredentials}}}})
	require.NoError(t, err)
	defer srv.Close()
	require.True(t, strings.HasPrefix(srv.Issuer(), "http://127.0.0.1:"))
	require.Equal(t, srv.Issuer(), srv.URL())
	require.Nil(t, srv.PKI())
	resp, err := srv.HTTPClient().Get(srv.URL() + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	md := srv.Metadata()
	require.Equal(t, false, md["tls_client_certificate_bound_access_tokens"])
	require.NotContains(t, md, "mtls_endpoint_aliases")
	require.Equal(t, true, md["require_pushed_authorization_requests"], "no client uses the authorization code")
	srv.Close()
	srv.Close() // idempotent
}

// TestNewWithIssuerPath serves the handler under an issuer with a path
// (RFC 8414 §3.1) without a listener.
func TestNewWithIssuerPath(t *testing.T) {
	t.Parallel()
	srv, err := authserver.New(authserver.Config{Issuer: "https://as.example.com/tenant", Clients: []authserver.Client{
		{ID: "c", AuthMethod: authserver.AuthClientSecretBasic, Secret: "s", GrantTypes: []string{}}}})
	require.NoError(t, err)
	srv.Close()
	require.Equal(t, "https://as.example.com/tenant/token", srv.Endpoints().Token)
	for _, p := range []string{"/.well-known/oauth-authorization-server/tenant", "/tenant/.well-known/openid-configuration", "/tenant/jwks"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://as.example.com"+p, nil))
		require.Equal(t, http.StatusOK, rec.Code, p)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://as.example.com/.well-known/oauth-authorization-server", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestConfigRejected(t *testing.T) {
	t.Parallel()
	ok := authserver.Client{ID: "c", AuthMethod: authserver.AuthClientSecretBasic, Secret: "s", RedirectURIs: []string{"https://c.example/cb"}}
	with := func(f func(*authserver.Client)) []authserver.Client {
		c := ok
		f(&c)
		return []authserver.Client{c}
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	tests := []struct {
		name string
		cfg  authserver.Config
	}{
		{"no issuer", authserver.Config{Clients: []authserver.Client{ok}}},
		{"issuer with query", authserver.Config{Issuer: "https://as.example?x=1", Clients: []authserver.Client{ok}}},
		{"issuer not http", authserver.Config{Issuer: "ftp://as.example", Clients: []authserver.Client{ok}}},
		{"no clients", authserver.Config{Issuer: "https://as.example"}},
		{"duplicate client", authserver.Config{Issuer: "https://as.example", Clients: []authserver.Client{ok, ok}}},
		{"client without ID", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.ID = "" })}},
		{"unknown auth method", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.AuthMethod = "client_secret_jwt" })}},
		{"secret method without secret", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.Secret = "" })}},
		{"private_key_jwt without keys", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.AuthMethod = authserver.AuthPrivateKeyJWT })}},
		{"tls_client_auth without DN", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.AuthMethod = authserver.AuthTLSClient })}},
		{"self-signed without certificates", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.AuthMethod = authserver.AuthSelfSignedTLSClient })}},
		{"public client with client_credentials", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) {
			c.AuthMethod = authserver.AuthNone
			c.GrantTypes = []string{authserver.GrantClientCredentials}
		})}},
		{"unknown grant", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.GrantTypes = []string{"password"} })}},
		{"code without redirect URIs", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.RedirectURIs = nil })}},
		{"relative redirect URI", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.RedirectURIs = []string{"/cb"} })}},
		{"redirect URI with fragment", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.RedirectURIs = []string{"https://c.example/cb#x"} })}},
		{"request objects without keys", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.RequireSignedRequestObject = true })}},
		{"bad JWKS", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.JWKS = []byte("{") })}},
		{"bad key", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.Keys = []crypto.PublicKey{"x"} })}},
		{"bad JARM key", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.JARMEncryptionKey = "x" })}},
		{"bad scope", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.Scopes = []string{"a b"} })}},
		{"empty scope", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.Scopes = []string{""} })}},
		{"relative resource", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.Resources = []string{"/api"} })}},
		{"resource with fragment", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.Resources = []string{"https://a/#f"} })}},
		{"empty details type", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.AuthorizationDetailsTypes = []string{""} })}},
		{"ID token audience is the client", authserver.Config{Issuer: "https://as.example", Clients: with(func(c *authserver.Client) { c.IDTokenAudiences = []string{"c"} })}},
		{"bad DPoP algorithms", authserver.Config{Issuer: "https://as.example", Clients: []authserver.Client{ok}, DPoPAlgorithms: []string{"HS256"}}},
		{"bad request object key", authserver.Config{Issuer: "https://as.example", Clients: []authserver.Client{ok}, RequestObjectKeys: []crypto.PrivateKey{"x"}}},
		{"bad signing key", authserver.Config{Issuer: "https://as.example", Clients: []authserver.Client{ok}, SigningKey: badSigner{p384}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := authserver.New(tt.cfg)
			require.ErrorIs(t, err, authserver.ErrConfig)
		})
	}
	t.Run("Start checks the issuer too", func(t *testing.T) {
		_, err := authserver.Start(authserver.Config{Issuer: "nope", Clients: []authserver.Client{ok}})
		require.ErrorIs(t, err, authserver.ErrConfig)
	})
}

// badSigner is a crypto.Signer whose public key is not a supported key.
type badSigner struct{ k *ecdsa.PrivateKey }

func (b badSigner) Public() crypto.PublicKey { return struct{}{} }
func (b badSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return b.k.Sign(r, d, o)
}

func TestBoundedStores(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) { c.MaxEntries = 2 })
	_, challenge := pkce()
	form := func() url.Values {
		return url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	}
	first := e.push(nil, form(), basicAuth(basicID, basicSecret))
	e.clock.Advance(1)
	second := e.push(nil, form(), basicAuth(basicID, basicSecret))
	e.clock.Advance(1)
	third := e.push(nil, form(), basicAuth(basicID, basicSecret))
	_, err := e.authorize(url.Values{"client_id": {basicID}, "request_uri": {first}})
	requireAuthorizeError(t, err, "invalid_request_uri")
	for _, uri := range []string{second, third} {
		_, err := e.authorize(url.Values{"client_id": {basicID}, "request_uri": {uri}})
		require.NoError(t, err)
	}
}
