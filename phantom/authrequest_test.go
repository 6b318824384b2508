package phantom

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// authReq builds a subrequest as a gateway would send it.
func authReq(method, target, remote string, headers map[string][]string) *http.Request {
	r := httptest.NewRequest(method, "http://phantom.internal"+target, nil)
	r.RemoteAddr = remote
	for k, vs := range headers {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

func TestAuthRequestOriginal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		protocol Protocol
		prefix   string
		method   string
		target   string
		headers  map[string][]string
		wantM    string
		wantURI  string
		wantPath string
		err      error
	}{
		{name: "nginx", protocol: ProtocolNGINX, method: "GET", target: "/_auth",
			headers: map[string][]string{"X-Original-Method": {"DELETE"}, "X-Original-Uri": {"/orders/7?force=1"}},
			wantM:   "DELETE", wantURI: "/orders/7?force=1", wantPath: "/orders/7"},
		{name: "nginx encoded path", protocol: ProtocolNGINX, method: "GET", target: "/_auth",
			headers: map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/a%20b"}},
			wantM:   "GET", wantURI: "/a%20b", wantPath: "/a b"},
		{name: "nginx without method", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Uri": {"/"}}, err: ErrInvalidRequest},
		{name: "nginx without URI", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Method": {"GET"}}, err: ErrInvalidRequest},
		{name: "nginx two URIs", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/a", "/admin"}}, err: ErrInvalidRequest},
		{name: "nginx empty method", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Method": {""}, "X-Original-Uri": {"/"}}, err: ErrInvalidRequest},
		{name: "nginx bad method", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Method": {"GE T"}, "X-Original-Uri": {"/"}}, err: ErrInvalidRequest},
		{name: "absolute URI", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"https://evil.example/"}}, err: ErrInvalidRequest},
		{name: "authority-like URI", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"//evil.example/x"}}, wantM: "GET", wantURI: "//evil.example/x", wantPath: "//evil.example/x"},
		{name: "URI with a space", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/a b"}}, err: ErrInvalidRequest},
		{name: "URI with a fragment", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/a#b"}}, err: ErrInvalidRequest},
		{name: "URI too long", protocol: ProtocolNGINX, target: "/_auth", method: "GET",
			headers: map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/" + strings.Repeat("a", maxOriginalURI)}}, err: ErrInvalidRequest},
		{name: "traefik", protocol: ProtocolTraefik, method: "GET", target: "/auth",
			headers: map[string][]string{"X-Forwarded-Method": {"POST"}, "X-Forwarded-Uri": {"/orders"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"api.example.com"}},
			wantM:   "POST", wantURI: "/orders", wantPath: "/orders"},
		{name: "traefik without proto and host", protocol: ProtocolTraefik, method: "GET", target: "/auth",
			headers: map[string][]string{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/"}},
			wantM:   "GET", wantURI: "/", wantPath: "/"},
		{name: "traefik two hosts", protocol: ProtocolTraefik, method: "GET", target: "/auth",
			headers: map[string][]string{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/"}, "X-Forwarded-Host": {"a", "b"}}, err: ErrInvalidRequest},
		{name: "traefik without uri", protocol: ProtocolTraefik, method: "GET", target: "/auth",
			headers: map[string][]string{"X-Forwarded-Method": {"GET"}}, err: ErrInvalidRequest},
		{name: "envoy", protocol: ProtocolEnvoy, prefix: "/ext_authz", method: "PATCH", target: "/ext_authz/orders/1?x=y",
			wantM: "PATCH", wantURI: "/orders/1?x=y", wantPath: "/orders/1"},
		{name: "envoy root with query", protocol: ProtocolEnvoy, prefix: "/ext_authz", method: "GET", target: "/ext_authz?x=1",
			wantM: "GET", wantURI: "/?x=1", wantPath: "/"},
		{name: "envoy without prefix", protocol: ProtocolEnvoy, method: "GET", target: "/orders",
			wantM: "GET", wantURI: "/orders", wantPath: "/orders"},
		{name: "envoy outside the prefix", protocol: ProtocolEnvoy, prefix: "/ext_authz", method: "GET", target: "/other/x", err: ErrInvalidRequest},
		{name: "envoy prefix is not a segment", protocol: ProtocolEnvoy, prefix: "/ext_authz", method: "GET", target: "/ext_authzX/x", err: ErrInvalidRequest},
	}
	as := newFakeAS(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := as.gateway(ModeIntrospectionJWT)
			a := &AuthRequest{Gateway: g, Protocol: tc.protocol, TrustedProxies: loopback, PathPrefix: tc.prefix}
			r := authReq(tc.method, tc.target, "127.0.0.1:5000", tc.headers)
			r.Header.Set("Authorization", "Bearer x")
			o, err := a.Original(r)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Nil(t, o)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantM, o.Method)
			require.Equal(t, tc.wantURI, o.RequestURI)
			require.Equal(t, tc.wantPath, o.URL.Path)
			require.Equal(t, "Bearer x", o.Header.Get("Authorization"))
			require.Equal(t, "127.0.0.1:5000", o.RemoteAddr)
		})
	}
}

func TestAuthRequestHandler(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("tok", map[string]any{"scope": "read"})
	g := as.gateway(ModeIntrospectionJWT)
	g.Routes = []Route{{Prefix: "/admin", Scopes: []string{"admin"}}}
	a := &AuthRequest{Gateway: g, Protocol: ProtocolNGINX, TrustedProxies: loopback}
	orig := func(method, uri string) map[string][]string {
		return map[string][]string{"X-Original-Method": {method}, "X-Original-Uri": {uri}}
	}
	withAuth := func(h map[string][]string, v string) map[string][]string {
		h["Authorization"] = []string{v}
		return h
	}
	tests := []struct {
		name    string
		remote  string
		headers map[string][]string
		status  int
		code    string
	}{
		{"admitted", "127.0.0.1:4000", withAuth(orig("GET", "/orders"), "Bearer tok"), 200, ""},
		{"ipv6 loopback", "[::1]:4000", withAuth(orig("GET", "/orders"), "Bearer tok"), 200, ""},
		{"ipv4-mapped", "[::ffff:127.0.0.1]:4000", withAuth(orig("GET", "/orders"), "Bearer tok"), 200, ""},
		{"no token", "127.0.0.1:4000", orig("GET", "/"), 401, ""},
		{"inactive", "127.0.0.1:4000", withAuth(orig("GET", "/"), "Bearer nope"), 401, CodeInvalidToken},
		{"scope", "127.0.0.1:4000", withAuth(orig("GET", "/admin"), "Bearer tok"), 403, CodeInsufficientScope},
		{"malformed original request is 401", "127.0.0.1:4000", withAuth(map[string][]string{}, "Bearer tok"), 401, CodeInvalidRequest},
		{"malformed Authorization is 401", "127.0.0.1:4000", withAuth(orig("GET", "/"), "Bearer a b"), 401, CodeInvalidRequest},
		{"untrusted address", "192.0.2.7:4000", withAuth(orig("GET", "/orders"), "Bearer tok"), 403, ""},
		{"unix socket peer", "@", withAuth(orig("GET", "/orders"), "Bearer tok"), 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(a, authReq("GET", "/_auth", tc.remote, tc.headers))
			require.Equal(t, tc.status, rec.Code)
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			if tc.status == 200 {
				require.True(t, strings.HasPrefix(rec.Header().Get("Authorization"), "Bearer ey"))
				require.Empty(t, rec.Body.String())
				return
			}
			require.Empty(t, rec.Header().Get("Authorization"), "no JWT with a refusal")
			if tc.remote == "192.0.2.7:4000" || tc.remote == "@" {
				require.Empty(t, rec.Header().Get("WWW-Authenticate"))
				return
			}
			ch, err := oautherr.ParseChallenges(rec.Header().Get("WWW-Authenticate"))
			require.NoError(t, err)
			b, ok := oautherr.Find(ch, "Bearer")
			require.True(t, ok)
			require.Equal(t, tc.code, b.Get("error"))
		})
	}

	t.Run("unavailable", func(t *testing.T) {
		t.Parallel()
		as2 := newFakeAS(t)
		as2.srv.Close()
		a2 := &AuthRequest{Gateway: as2.gateway(ModeIntrospectionJWT), Protocol: ProtocolTraefik, TrustedProxies: loopback}
		h := map[string][]string{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/"}, "Authorization": {"Bearer tok"}}
		rec := serve(a2, authReq("GET", "/auth", "127.0.0.1:1", h))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code)
		require.Equal(t, "5", rec.Header().Get("Retry-After"))
	})

	t.Run("custom upstream header", func(t *testing.T) {
		t.Parallel()
		g2 := as.gateway(ModeIntrospectionJWT)
		g2.UpstreamHeader = "X-Phantom-JWT"
		a2 := &AuthRequest{Gateway: g2, Protocol: ProtocolEnvoy, TrustedProxies: loopback, PathPrefix: "/authz"}
		rec := serve(a2, authReq("GET", "/authz/orders", "127.0.0.1:1", map[string][]string{"Authorization": {"Bearer tok"}}))
		require.Equal(t, http.StatusOK, rec.Code)
		require.True(t, strings.HasPrefix(rec.Header().Get("X-Phantom-Jwt"), "ey"))
		require.Empty(t, rec.Header().Get("Authorization"))
	})
}

// TestAuthRequestRefusesAmbiguousPaths: the original URI a proxy reports
// goes through the same path checks as a proxied request, for every
// protocol: a path an upstream may resolve under another route is refused
// (401 invalid_request, nginx relaying only 401 and 403), never admitted.
func TestAuthRequestRefusesAmbiguousPaths(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("reader", map[string]any{"scope": "orders:read"})
	type protocol struct {
		name     string
		protocol Protocol
		prefix   string
		request  func(uri string) *http.Request
	}
	protocols := []protocol{
		{"nginx", ProtocolNGINX, "", func(uri string) *http.Request {
			return authReq("GET", "/_auth", "127.0.0.1:4000", map[string][]string{"X-Original-Method": {"GET"}, "X-Original-Uri": {uri}})
		}},
		{"traefik", ProtocolTraefik, "", func(uri string) *http.Request {
			return authReq("GET", "/auth", "127.0.0.1:4000", map[string][]string{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {uri}})
		}},
		{"envoy", ProtocolEnvoy, "/ext_authz", func(uri string) *http.Request {
			return authReq("GET", "/ext_authz"+uri, "127.0.0.1:4000", nil)
		}},
	}
	for _, p := range protocols {
		for _, tc := range []struct {
			name string
			uri  string
		}{
			{"dot segment with a path parameter", "/public/..;/admin/users"},
			{"path parameter in the prefix segment", "/admin;x/users"},
			{"encoded path parameter", "/admin%3bx/users"},
			{"backslash separators", `/public\..\admin\users`},
			{"encoded backslash separators", "/public%5c..%5cadmin%5cusers"},
			{"doubly encoded dot segments", "/public/%252e%252e/admin/users"},
		} {
			t.Run(p.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				g := as.gateway(ModeIntrospectionJWT)
				g.Routes = []Route{{Prefix: "/", Scopes: []string{"orders:read"}}, {Prefix: "/admin/", Scopes: []string{"admin"}}}
				var seen error
				g.OnError = func(_ *http.Request, err error) { seen = err }
				a := &AuthRequest{Gateway: g, Protocol: p.protocol, TrustedProxies: loopback, PathPrefix: p.prefix}
				r := p.request(tc.uri)
				r.Header.Set("Authorization", "Bearer reader")
				rec := serve(a, r)
				require.Equal(t, http.StatusUnauthorized, rec.Code)
				require.Empty(t, rec.Header().Get("Authorization"), "no JWT with a refusal")
				requireRefusal(t, seen, http.StatusBadRequest, ReasonInvalidRequest, ErrInvalidRequest)
			})
		}
	}
}

func TestAuthRequestConfig(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	g := as.gateway(ModeIntrospectionJWT)
	tests := []struct {
		name  string
		a     *AuthRequest
		field string
	}{
		{"no gateway", &AuthRequest{Protocol: ProtocolNGINX, TrustedProxies: loopback}, "AuthRequest.Gateway"},
		{"no protocol", &AuthRequest{Gateway: g, TrustedProxies: loopback}, "AuthRequest.Protocol"},
		{"unknown protocol", &AuthRequest{Gateway: g, Protocol: 9, TrustedProxies: loopback}, "AuthRequest.Protocol"},
		{"no trusted proxies", &AuthRequest{Gateway: g, Protocol: ProtocolNGINX}, "AuthRequest.TrustedProxies"},
		{"invalid prefix", &AuthRequest{Gateway: g, Protocol: ProtocolNGINX, TrustedProxies: []netip.Prefix{{}}}, "AuthRequest.TrustedProxies[0]"},
		{"path prefix for nginx", &AuthRequest{Gateway: g, Protocol: ProtocolNGINX, TrustedProxies: loopback, PathPrefix: "/x"}, "AuthRequest.PathPrefix"},
		{"relative path prefix", &AuthRequest{Gateway: g, Protocol: ProtocolEnvoy, TrustedProxies: loopback, PathPrefix: "x"}, "AuthRequest.PathPrefix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.a.init()
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.Equal(t, tc.field, ce.Field)
			rec := serve(tc.a, authReq("GET", "/", "127.0.0.1:1", map[string][]string{"Authorization": {"Bearer tok"}}))
			require.Equal(t, http.StatusInternalServerError, rec.Code)
			require.Empty(t, rec.Header().Get("Authorization"))
		})
	}
	require.Equal(t, "nginx", ProtocolNGINX.String())
	require.Equal(t, "traefik", ProtocolTraefik.String())
	require.Equal(t, "envoy", ProtocolEnvoy.String())
	require.Equal(t, "Protocol(9)", Protocol(9).String())
}
