package hardened_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
)

// specVector is a metadata document copied from an RFC into testdata/.
type specVector struct {
	Source   string          `json:"source"`
	Issuer   string          `json:"issuer"`
	Metadata json.RawMessage `json:"metadata"`
}

func loadVector(t testing.TB, name string) specVector {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	var v specVector
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Source)
	return v
}

func TestParseMetadataRFC8414Example(t *testing.T) {
	t.Parallel()
	v := loadVector(t, "rfc8414-metadata.json")
	m, err := hardened.ParseMetadata(v.Issuer, v.Metadata)
	require.NoError(t, err)
	require.Equal(t, "https://server.example.com", m.Issuer)
	require.Equal(t, "https://server.example.com/authorize", m.AuthorizationEndpoint)
	require.Equal(t, "https://server.example.com/token", m.TokenEndpoint)
	require.Equal(t, "https://server.example.com/userinfo", m.UserinfoEndpoint)
	require.Equal(t, "https://server.example.com/jwks.json", m.JWKSURI)
	require.Equal(t, "https://server.example.com/register", m.RegistrationEndpoint)
	require.Equal(t, []string{"client_secret_basic", "private_key_jwt"}, m.TokenEndpointAuthMethodsSupported)
	require.Equal(t, []string{"RS256", "ES256"}, m.TokenEndpointAuthSigningAlgValuesSupported)
	require.Equal(t, []string{"code", "code token"}, m.ResponseTypesSupported)
	require.Len(t, m.ScopesSupported, 6)
	// service_documentation is http in the RFC: it is not an endpoint the
	// library calls, so it is kept, unchecked, in Raw.
	require.JSONEq(t, `"http://server.example.com/service_documentation.html"`, string(m.Raw["service_documentation"]))
	require.JSONEq(t, `["en-US", "en-GB", "en-CA", "fr-FR", "fr-CA"]`, string(m.Raw["ui_locales_supported"]))
	require.Empty(t, m.PushedAuthorizationRequestEndpoint)
	require.Empty(t, m.MTLSEndpointAliases)
}

func TestParseMetadataRFC8705Aliases(t *testing.T) {
	t.Parallel()
	v := loadVector(t, "rfc8705-mtls-metadata.json")
	m, err := hardened.ParseMetadata(v.Issuer, v.Metadata)
	require.NoError(t, err)
	require.True(t, m.TLSClientCertificateBoundAccessTokens)
	require.Equal(t, map[string]string{
		"token_endpoint":         "https://mtls.example.com/token",
		"revocation_endpoint":    "https://mtls.example.com/revo",
		"introspection_endpoint": "https://mtls.example.com/introspect",
	}, m.MTLSEndpointAliases)
	tests := []struct {
		name string
		mtls bool
		want string
	}{
		{"token_endpoint", false, "https://server.example.com/token"},
		{"token_endpoint", true, "https://mtls.example.com/token"},
		{"introspection_endpoint", true, "https://mtls.example.com/introspect"},
		{"revocation_endpoint", false, "https://server.example.com/revo"},
		{"authorization_endpoint", true, "https://server.example.com/authz"}, // no alias: the plain endpoint
		{"jwks_uri", true, "https://server.example.com/jwks"},
		{"pushed_authorization_request_endpoint", true, ""},
		{"no_such_endpoint", false, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/mtls=%v", tc.name, tc.mtls), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, m.Endpoint(tc.name, tc.mtls))
		})
	}
}

func TestOAuth2Endpoint(t *testing.T) {
	t.Parallel()
	v := loadVector(t, "rfc8705-mtls-metadata.json")
	mtlsMD, err := hardened.ParseMetadata(v.Issuer, v.Metadata)
	require.NoError(t, err)
	noList, err := hardened.ParseMetadata("https://as.example", []byte(`{"issuer":"https://as.example","token_endpoint":"https://as.example/t","response_types_supported":["code"]}`))
	require.NoError(t, err)
	noToken, err := hardened.ParseMetadata("https://as.example", []byte(`{"issuer":"https://as.example","authorization_endpoint":"https://as.example/a","response_types_supported":["code"],"token_endpoint_auth_methods_supported":["private_key_jwt"]}`))
	require.NoError(t, err)
	tests := []struct {
		name   string
		md     *hardened.Metadata
		method string
		mtls   bool
		want   oauth2.Endpoint
		wantIs error
	}{
		{name: "tls_client_auth uses the mtls alias", md: mtlsMD, method: "tls_client_auth",
			want: oauth2.Endpoint{AuthURL: "https://server.example.com/authz", TokenURL: "https://mtls.example.com/token", AuthStyle: oauth2.AuthStyleInParams}},
		{name: "client_secret_basic: AuthTransport adds the header", md: mtlsMD, method: "client_secret_basic",
			want: oauth2.Endpoint{AuthURL: "https://server.example.com/authz", TokenURL: "https://server.example.com/token", AuthStyle: oauth2.AuthStyleInParams}},
		{name: "none with mtls for bound tokens", md: mtlsMD, method: "none", mtls: true,
			want: oauth2.Endpoint{AuthURL: "https://server.example.com/authz", TokenURL: "https://mtls.example.com/token", AuthStyle: oauth2.AuthStyleInParams}},
		{name: "private_key_jwt not offered", md: mtlsMD, method: "private_key_jwt", wantIs: hardened.ErrAuthMethodNotSupported},
		{name: "absent list means client_secret_basic", md: noList, method: "client_secret_basic",
			want: oauth2.Endpoint{TokenURL: "https://as.example/t", AuthStyle: oauth2.AuthStyleInParams}},
		{name: "absent list excludes private_key_jwt", md: noList, method: "private_key_jwt", wantIs: hardened.ErrAuthMethodNotSupported},
		{name: "unknown method", md: mtlsMD, method: "client_secret_jwt", wantIs: hardened.ErrAuthMethodNotSupported},
		{name: "method in another case", md: noList, method: "Client_Secret_Basic", wantIs: hardened.ErrAuthMethodNotSupported},
		{name: "empty method", md: noList, method: "", wantIs: hardened.ErrAuthMethodNotSupported},
		{name: "no token endpoint", md: noToken, method: "private_key_jwt", wantIs: hardened.ErrMissingEndpoint},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ep, err := tc.md.OAuth2Endpoint(tc.method, tc.mtls)
			if tc.wantIs != nil {
				require.ErrorIs(t, err, tc.wantIs)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, ep)
			require.NotEqual(t, oauth2.AuthStyleAutoDetect, ep.AuthStyle)
		})
	}
}

// TestOAuth2EndpointEveryMethod checks that every method of this package
// gets AuthStyleInParams: with oauth2.Config's ClientSecret empty, x/oauth2
// then adds only the client_id, which AuthTransport accepts.
func TestOAuth2EndpointEveryMethod(t *testing.T) {
	t.Parallel()
	md, err := hardened.ParseMetadata("https://as.example", []byte(`{"issuer":"https://as.example","token_endpoint":"https://as.example/t","response_types_supported":["code"],
		"token_endpoint_auth_methods_supported":["private_key_jwt","client_secret_basic","client_secret_post","tls_client_auth","self_signed_tls_client_auth","none"]}`))
	require.NoError(t, err)
	for _, auth := range allMethods(t) {
		ep, err := md.OAuth2Endpoint(auth.Method(), false)
		require.NoError(t, err, auth.Method())
		require.Equal(t, oauth2.AuthStyleInParams, ep.AuthStyle, auth.Method())
	}
}

func TestClientAuthEndpoints(t *testing.T) {
	t.Parallel()
	const doc = `{"issuer":"https://as.example","response_types_supported":["code"],
		"authorization_endpoint":"https://as.example/authorize",
		"token_endpoint":"https://as.example/token",
		"pushed_authorization_request_endpoint":"https://as.example/par",
		"introspection_endpoint":"https://as.example/introspect",
		"revocation_endpoint":"https://as.example/revoke",
		"userinfo_endpoint":"https://as.example/userinfo",
		"jwks_uri":"https://as.example/jwks",
		"mtls_endpoint_aliases":{
			"token_endpoint":"https://mtls.as.example/token",
			"pushed_authorization_request_endpoint":"https://mtls.as.example/par",
			"introspection_endpoint":"https://mtls.as.example/introspect",
			"revocation_endpoint":"https://as.example/revoke",
			"userinfo_endpoint":"https://mtls.as.example/userinfo"}}`
	md, err := hardened.ParseMetadata("https://as.example", []byte(doc))
	require.NoError(t, err)
	v := loadVector(t, "rfc8705-mtls-metadata.json")
	rfc8705, err := hardened.ParseMetadata(v.Issuer, v.Metadata)
	require.NoError(t, err)
	tokenOnly, err := hardened.ParseMetadata("https://as.example", []byte(`{"issuer":"https://as.example","response_types_supported":["code"],"token_endpoint":"https://as.example/token"}`))
	require.NoError(t, err)
	none, err := hardened.ParseMetadata("https://as.example", []byte(`{"issuer":"https://as.example","response_types_supported":["code"],"authorization_endpoint":"https://as.example/a"}`))
	require.NoError(t, err)
	tests := []struct {
		name string
		md   *hardened.Metadata
		mtls bool
		want []string
	}{
		{name: "plain", md: md, want: []string{
			"https://as.example/par", "https://as.example/token", "https://as.example/introspect", "https://as.example/revoke",
		}},
		{name: "mtls: aliases after their endpoints, duplicates once, no userinfo", md: md, mtls: true, want: []string{
			"https://as.example/par", "https://mtls.as.example/par",
			"https://as.example/token", "https://mtls.as.example/token",
			"https://as.example/introspect", "https://mtls.as.example/introspect",
			"https://as.example/revoke",
		}},
		{name: "RFC 8705 §5 example, mtls", md: rfc8705, mtls: true, want: []string{
			"https://server.example.com/token", "https://mtls.example.com/token",
			"https://server.example.com/introspect", "https://mtls.example.com/introspect",
			"https://server.example.com/revo", "https://mtls.example.com/revo",
		}},
		{name: "token only", md: tokenOnly, mtls: true, want: []string{"https://as.example/token"}},
		{name: "none", md: none, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.md.ClientAuthEndpoints(tc.mtls)
			require.Equal(t, tc.want, got)
			if got != nil {
				// The list is what AuthTransport accepts.
				tr := &hardened.AuthTransport{Auth: hardened.NoClientAuth{ClientID: "c"}, Endpoints: got,
					Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
						return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
					})}
				req, err := http.NewRequest(http.MethodGet, "https://rs.example/", nil)
				require.NoError(t, err)
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
			}
		})
	}
}

// asServer is a TLS authorization server whose metadata handler a test
// chooses; it records the paths requested.
type asServer struct {
	srv    *httptest.Server
	issuer string
	handle func(s *asServer, w http.ResponseWriter, r *http.Request)

	mu    sync.Mutex
	paths []string
}

func newASServer(t *testing.T, issuerPath string, handle func(s *asServer, w http.ResponseWriter, r *http.Request)) *asServer {
	t.Helper()
	s := &asServer{handle: handle}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path)
		s.mu.Unlock()
		s.handle(s, w, r)
	}))
	t.Cleanup(s.srv.Close)
	s.issuer = s.srv.URL + issuerPath
	return s
}

func (s *asServer) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.paths...)
}

// doc returns a valid metadata document for the server's issuer, with the
// members of change set (a nil value deletes the member).
func (s *asServer) doc(change map[string]any) map[string]any {
	o := s.srv.URL
	m := map[string]any{
		"issuer":                                         s.issuer,
		"authorization_endpoint":                         o + "/authorize",
		"token_endpoint":                                 o + "/token",
		"pushed_authorization_request_endpoint":          o + "/par",
		"require_pushed_authorization_requests":          true,
		"jwks_uri":                                       o + "/jwks",
		"response_types_supported":                       []string{"code"},
		"token_endpoint_auth_methods_supported":          []string{"private_key_jwt", "tls_client_auth"},
		"dpop_signing_alg_values_supported":              []string{"ES256", "EdDSA"},
		"code_challenge_methods_supported":               []string{"S256"},
		"authorization_response_iss_parameter_supported": true,
		"mtls_endpoint_aliases":                          map[string]string{"token_endpoint": o + "/mtls/token"},
	}
	for k, v := range change {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// serveAt serves doc (built by change) at the RFC 8414 URL only.
func serveOAuth(change map[string]any) func(s *asServer, w http.ResponseWriter, r *http.Request) {
	return func(s *asServer, w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, hardened.WellKnownOAuth) {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, s.doc(change))
	}
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		issuerPath string
		handle     func(s *asServer, w http.ResponseWriter, r *http.Request)
		wantPaths  []string
	}{
		{
			name: "RFC 8414 well-known URL", handle: serveOAuth(nil),
			wantPaths: []string{"/.well-known/oauth-authorization-server"},
		},
		{
			name: "issuer with a path: suffix inserted", issuerPath: "/tenant/a", handle: serveOAuth(nil),
			wantPaths: []string{"/.well-known/oauth-authorization-server/tenant/a"},
		},
		{
			name: "issuer with a trailing slash", issuerPath: "/", handle: serveOAuth(nil),
			wantPaths: []string{"/.well-known/oauth-authorization-server"},
		},
		{
			name: "issuer with a path and a trailing slash", issuerPath: "/tenant/", handle: serveOAuth(nil),
			wantPaths: []string{"/.well-known/oauth-authorization-server/tenant"},
		},
		{
			name: "fallback to OpenID configuration on 404", issuerPath: "/tenant",
			handle: func(s *asServer, w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/tenant"+hardened.WellKnownOpenID {
					http.NotFound(w, r)
					return
				}
				writeJSON(w, s.doc(nil))
			},
			wantPaths: []string{"/.well-known/oauth-authorization-server/tenant", "/tenant/.well-known/openid-configuration"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newASServer(t, tc.issuerPath, tc.handle)
			d := &hardened.Discovery{HTTPClient: s.srv.Client()}
			m, err := d.Discover(t.Context(), s.issuer)
			require.NoError(t, err)
			require.Equal(t, tc.wantPaths, s.requested())
			require.Equal(t, s.issuer, m.Issuer)
			require.Equal(t, s.srv.URL+"/par", m.PushedAuthorizationRequestEndpoint)
			require.True(t, m.RequirePushedAuthorizationRequests)
			require.True(t, m.AuthorizationResponseIssParameterSupported)
			require.Equal(t, []string{"ES256", "EdDSA"}, m.DPoPSigningAlgValuesSupported)
			require.Equal(t, s.srv.URL+"/mtls/token", m.Endpoint("token_endpoint", true))
			require.Equal(t, s.srv.URL+"/token", m.Endpoint("token_endpoint", false))
			require.Contains(t, m.Raw, "mtls_endpoint_aliases")
		})
	}
}

func TestDiscoverRejects(t *testing.T) {
	t.Parallel()
	type handler = func(s *asServer, w http.ResponseWriter, r *http.Request)
	raw := func(ctype, body string) handler {
		return func(s *asServer, w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil // no sniffing
			if ctype != "" {
				w.Header().Set("Content-Type", ctype)
			}
			_, _ = w.Write([]byte(strings.ReplaceAll(body, "ISSUER", s.issuer)))
		}
	}
	status := func(code int) handler {
		return func(s *asServer, w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
	}
	big := strings.Repeat(" ", hardened.DefaultMaxMetadataBytes)
	tests := []struct {
		name       string
		issuerPath string
		handle     handler
		wantIs     error
		wantStatus int
		wantPaths  int // requests expected (fallback only on 404)
	}{
		// Issuer mismatch (RFC 8414 §3.3).
		{name: "issuer with trailing slash", handle: func(s *asServer, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, s.doc(map[string]any{"issuer": s.issuer + "/"}))
		}, wantIs: hardened.ErrIssuerMismatch, wantPaths: 1},
		{name: "issuer missing trailing slash", issuerPath: "/", handle: func(s *asServer, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, s.doc(map[string]any{"issuer": strings.TrimSuffix(s.issuer, "/")}))
		}, wantIs: hardened.ErrIssuerMismatch, wantPaths: 1},
		{name: "issuer differs in case", issuerPath: "/Tenant", handle: func(s *asServer, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, s.doc(map[string]any{"issuer": strings.ToLower(s.issuer)}))
		}, wantIs: hardened.ErrIssuerMismatch, wantPaths: 1},
		{name: "issuer scheme differs in case", handle: func(s *asServer, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, s.doc(map[string]any{"issuer": "HTTPS" + strings.TrimPrefix(s.issuer, "https")}))
		}, wantIs: hardened.ErrIssuerMismatch, wantPaths: 1},
		{name: "issuer of another host", handle: serveOAuth(map[string]any{"issuer": "https://evil.example"}), wantIs: hardened.ErrIssuerMismatch, wantPaths: 1},
		{name: "issuer mismatch in fallback document", handle: func(s *asServer, w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == hardened.WellKnownOpenID {
				writeJSON(w, s.doc(map[string]any{"issuer": "https://evil.example"}))
				return
			}
			http.NotFound(w, r)
		}, wantIs: hardened.ErrIssuerMismatch, wantPaths: 2},
		{name: "no issuer", handle: serveOAuth(map[string]any{"issuer": nil}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "issuer is a number", handle: serveOAuth(map[string]any{"issuer": 42}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},

		// Endpoints must be absolute https URLs.
		{name: "http token endpoint", handle: serveOAuth(map[string]any{"token_endpoint": "http://as.example/token"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "http jwks_uri", handle: serveOAuth(map[string]any{"jwks_uri": "http://as.example/jwks"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "http PAR endpoint", handle: serveOAuth(map[string]any{"pushed_authorization_request_endpoint": "http://as.example/par"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "http mtls alias", handle: serveOAuth(map[string]any{"mtls_endpoint_aliases": map[string]string{"token_endpoint": "http://mtls.example/token"}}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "relative endpoint", handle: serveOAuth(map[string]any{"token_endpoint": "/token"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "javascript endpoint", handle: serveOAuth(map[string]any{"authorization_endpoint": "javascript:alert(1)"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "endpoint with fragment", handle: serveOAuth(map[string]any{"authorization_endpoint": "https://as.example/a#x"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "endpoint with user info", handle: serveOAuth(map[string]any{"token_endpoint": "https://user:pw@as.example/token"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "loopback http endpoint without the flag", handle: serveOAuth(map[string]any{"token_endpoint": "http://127.0.0.1/token"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},

		// Wrong JSON types and malformed documents.
		{name: "string where array expected", handle: serveOAuth(map[string]any{"response_types_supported": "code"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "number in string array", handle: serveOAuth(map[string]any{"dpop_signing_alg_values_supported": []any{"ES256", 1}}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "null in string array", handle: serveOAuth(map[string]any{"token_endpoint_auth_methods_supported": []any{"private_key_jwt", nil}}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "number where string expected", handle: serveOAuth(map[string]any{"token_endpoint": 443}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "string where boolean expected", handle: serveOAuth(map[string]any{"require_pushed_authorization_requests": "true"}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "array where object expected", handle: serveOAuth(map[string]any{"mtls_endpoint_aliases": []string{"https://mtls.example/token"}}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "number in aliases", handle: serveOAuth(map[string]any{"mtls_endpoint_aliases": map[string]any{"token_endpoint": 1}}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "missing response_types_supported", handle: serveOAuth(map[string]any{"response_types_supported": nil}), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "top-level array", handle: raw("application/json", `["ISSUER"]`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "duplicate issuer member", handle: raw("application/json", `{"issuer":"https://evil.example","issuer":"ISSUER","response_types_supported":["code"]}`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "case-folded member name is not the issuer", handle: raw("application/json", `{"ISSUER":"ISSUER","response_types_supported":["code"]}`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "case-variant member beside a known one", handle: raw("application/json", `{"issuer":"ISSUER","response_types_supported":["code"],"Token_Endpoint":"https://evil.example/t","token_endpoint":"https://as.example/t"}`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "duplicate inside mtls_endpoint_aliases", handle: raw("application/json", `{"issuer":"ISSUER","response_types_supported":["code"],"mtls_endpoint_aliases":{"token_endpoint":"https://a.example/t","token_endpoint":"https://b.example/t"}}`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "unpaired surrogate", handle: raw("application/json", `{"issuer":"ISSUER","response_types_supported":["code\ud800"]}`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "trailing data", handle: raw("application/json", `{"issuer":"ISSUER","response_types_supported":["code"]} {}`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "truncated JSON", handle: raw("application/json", `{"issuer":"ISSUER","response_types_supported":["code"]`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "invalid UTF-8", handle: raw("application/json", "{\"issuer\":\"ISSUER\",\"response_types_supported\":[\"code\xff\"]}"), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},

		// Transport-level failures.
		{name: "oversized document", handle: raw("application/json", `{"issuer":"ISSUER","response_types_supported":["code"]}`+big), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "oversized chunked document", handle: func(s *asServer, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for range 9 {
				_, _ = w.Write([]byte(strings.Repeat(" ", 64<<10)))
				w.(http.Flusher).Flush()
			}
		}, wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "text/html", handle: raw("text/html", `{"issuer":"ISSUER","response_types_supported":["code"]}`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "no content type", handle: raw("", `{"issuer":"ISSUER","response_types_supported":["code"]}`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "jrd+json", handle: raw("application/jrd+json", `{"issuer":"ISSUER","response_types_supported":["code"]}`), wantIs: hardened.ErrInvalidMetadata, wantPaths: 1},
		{name: "404 on both URLs", handle: status(http.StatusNotFound), wantIs: hardened.ErrMetadataUnavailable, wantStatus: 404, wantPaths: 2},
		{name: "500 without fallback", handle: status(http.StatusInternalServerError), wantIs: hardened.ErrMetadataUnavailable, wantStatus: 500, wantPaths: 1},
		{name: "401 without fallback", handle: status(http.StatusUnauthorized), wantIs: hardened.ErrMetadataUnavailable, wantStatus: 401, wantPaths: 1},
		{name: "redirect", handle: func(s *asServer, w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/elsewhere" {
				writeJSON(w, s.doc(nil))
				return
			}
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}, wantIs: hardened.ErrMetadataUnavailable, wantStatus: http.StatusFound, wantPaths: 1},
		{name: "permanent redirect", handle: func(s *asServer, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://evil.example/.well-known/oauth-authorization-server", http.StatusPermanentRedirect)
		}, wantIs: hardened.ErrMetadataUnavailable, wantStatus: http.StatusPermanentRedirect, wantPaths: 1},
		{name: "issuer with control characters", handle: serveOAuth(map[string]any{"issuer": "https://evil.example/\x1b[2J\r\nforged"}), wantIs: hardened.ErrIssuerMismatch, wantPaths: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newASServer(t, tc.issuerPath, tc.handle)
			// srv.Client() follows redirects; Discover must not.
			d := &hardened.Discovery{HTTPClient: s.srv.Client()}
			m, err := d.Discover(t.Context(), s.issuer)
			require.Nil(t, m)
			require.ErrorIs(t, err, tc.wantIs)
			require.Len(t, s.requested(), tc.wantPaths)
			if tc.wantStatus != 0 {
				var se *hardened.StatusError
				require.ErrorAs(t, err, &se)
				require.Equal(t, tc.wantStatus, se.StatusCode)
			}
			if tc.wantIs == hardened.ErrIssuerMismatch {
				var ie *hardened.IssuerMismatchError
				require.ErrorAs(t, err, &ie)
				require.Equal(t, s.issuer, ie.Expected)
				require.NotEqual(t, ie.Expected, ie.Got)
				// Server text is sanitized before it reaches an error.
				require.NotContains(t, ie.Got, "\x1b")
				require.NotContains(t, ie.Got, "\n")
				require.NotContains(t, err.Error(), "\x1b")
			}
		})
	}
}

func TestDiscoverContextDeadline(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := newASServer(t, "", func(s *asServer, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	d := &hardened.Discovery{HTTPClient: s.srv.Client()}
	m, err := d.Discover(ctx, s.issuer)
	require.Nil(t, m)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// A server that answers with a malformed status line of megabytes, with
// control characters: net/http quotes the whole line in its error, which
// reaches the caller bounded and sanitized (internal/httpx's transport).
func TestDiscoverMalformedStatusLineBounded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = buf.WriteString("\x1b[2J" + strings.Repeat("Z", 2<<20) + "\r\n\r\n")
		_ = buf.Flush()
	}))
	t.Cleanup(srv.Close)
	d := &hardened.Discovery{HTTPClient: srv.Client()}
	md, err := d.Discover(t.Context(), srv.URL)
	require.Nil(t, md)
	require.ErrorIs(t, err, hardened.ErrMetadataUnavailable)
	require.LessOrEqual(t, len(err.Error()), 2048, "server text in the error is bounded")
	require.NotContains(t, err.Error(), "\x1b", "server text in the error is sanitized")
}

func TestDiscoverIssuerValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		issuer string
	}{
		{"empty", ""},
		{"http", "http://as.example"},
		{"no scheme", "as.example"},
		{"query", "https://as.example?tenant=a"},
		{"empty query", "https://as.example?"},
		{"fragment", "https://as.example#a"},
		{"user info", "https://user@as.example"},
		{"no host", "https:///path"},
		{"opaque", "https:as.example"},
		{"ftp", "ftp://as.example"},
		{"http loopback without the flag", "http://127.0.0.1:8080"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var d hardened.Discovery
			_, err := d.Discover(t.Context(), tc.issuer)
			require.ErrorIs(t, err, hardened.ErrInvalidIssuer)
			_, err = hardened.ParseMetadata(tc.issuer, []byte(`{"issuer":"`+tc.issuer+`","response_types_supported":["code"]}`))
			require.ErrorIs(t, err, hardened.ErrInvalidIssuer)
		})
	}
}

func TestDiscoverInsecureAllowHTTPLoopback(t *testing.T) {
	t.Parallel()
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := issuer + "/token"
		if r.URL.Query().Get("t") != "" {
			token = "http://as.example/token"
		}
		writeJSON(w, map[string]any{"issuer": issuer, "token_endpoint": token, "response_types_supported": []string{"code"}})
	}))
	defer srv.Close()
	issuer = srv.URL

	_, err := hardened.Discover(t.Context(), issuer)
	require.ErrorIs(t, err, hardened.ErrInvalidIssuer, "http needs the flag")

	d := &hardened.Discovery{InsecureAllowHTTPLoopback: true}
	m, err := d.Discover(t.Context(), issuer)
	require.NoError(t, err)
	require.Equal(t, issuer+"/token", m.TokenEndpoint)

	// The flag never allows http to a host that is not loopback.
	_, err = d.Parse(issuer, []byte(`{"issuer":"`+issuer+`","token_endpoint":"http://as.example/token","response_types_supported":["code"]}`))
	require.ErrorIs(t, err, hardened.ErrInvalidMetadata)
	_, err = d.Parse("http://as.example", []byte(`{"issuer":"http://as.example","response_types_supported":["code"]}`))
	require.ErrorIs(t, err, hardened.ErrInvalidIssuer)
	for _, host := range []string{"http://localhost:1", "http://[::1]:1", "http://127.0.0.2"} {
		_, err = d.Parse(host, []byte(`{"issuer":"`+host+`","token_endpoint":"`+host+`/t","response_types_supported":["code"]}`))
		require.NoError(t, err, host)
	}
}

func TestParseMetadataSizeLimit(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"issuer":"https://as.example","response_types_supported":["code"]}`)
	d := &hardened.Discovery{MaxBytes: int64(len(doc))}
	_, err := d.Parse("https://as.example", doc)
	require.NoError(t, err)
	d.MaxBytes--
	_, err = d.Parse("https://as.example", doc)
	require.ErrorIs(t, err, hardened.ErrInvalidMetadata)

	// A negative limit is a configuration error, not "no limit".
	d.MaxBytes = -1
	_, err = d.Parse("https://as.example", doc)
	var ce *hardened.ConfigError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "Discovery.MaxBytes", ce.Field)
	_, err = d.Discover(t.Context(), "https://as.example")
	require.ErrorIs(t, err, hardened.ErrInvalidConfig)
}

// TestDiscoverNeverFollowsRedirects gives Discovery a client whose own
// policy follows every redirect: the redirect is still refused, and the
// target is never requested.
func TestDiscoverNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	s := newASServer(t, "", func(s *asServer, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			writeJSON(w, s.doc(nil))
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	hc := s.srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
	d := &hardened.Discovery{HTTPClient: hc}
	_, err := d.Discover(t.Context(), s.issuer)
	var se *hardened.StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusTemporaryRedirect, se.StatusCode)
	require.ErrorIs(t, err, hardened.ErrMetadataUnavailable)
	require.Equal(t, []string{hardened.WellKnownOAuth}, s.requested())
	require.NotNil(t, hc.CheckRedirect, "the caller's client is not modified")
}

func TestDiscoverConcurrent(t *testing.T) {
	t.Parallel()
	s := newASServer(t, "/t", serveOAuth(nil))
	d := &hardened.Discovery{HTTPClient: s.srv.Client()}
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, err := d.Discover(t.Context(), s.issuer)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func BenchmarkParseMetadata(b *testing.B) {
	v := loadVector(b, "rfc8705-mtls-metadata.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hardened.ParseMetadata(v.Issuer, v.Metadata); err != nil {
			b.Fatal(err)
		}
	}
}
