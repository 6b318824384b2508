package phantom

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

func TestRoutes(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("reader", map[string]any{"scope": "orders:read", "aud": []string{testAudience, "https://orders.example"}})
	as.active("admin", map[string]any{"scope": "orders:read admin"})
	g := as.gateway(ModeIntrospectionJWT)
	g.Realm = "api"
	g.Routes = []Route{
		{Prefix: "/", Scopes: []string{"orders:read"}},
		{Prefix: "/admin/", Scopes: []string{"admin"}},
		{Prefix: "/orders", Methods: []string{"POST", "DELETE"}, Scopes: []string{"orders:write"}},
		{Prefix: "/orders/export", Audience: "https://orders.example"},
		{Prefix: "/reports", Methods: []string{"GET"}, Scopes: []string{"admin"}},
	}
	tests := []struct {
		name   string
		method string
		target string
		token  string
		status int
		reason Reason
		scope  string
	}{
		{"root", "GET", "/", "reader", 200, "", ""},
		{"read", "GET", "/orders/1", "reader", 200, "", ""},
		{"write needs orders:write", "POST", "/orders/1", "reader", 403, ReasonInsufficientScope, "orders:write"},
		{"delete needs orders:write", "DELETE", "/orders", "reader", 403, ReasonInsufficientScope, "orders:write"},
		{"admin area", "GET", "/admin/users", "reader", 403, ReasonInsufficientScope, "admin"},
		{"admin without trailing slash", "GET", "/admin", "reader", 403, ReasonInsufficientScope, "admin"},
		{"admin token", "GET", "/admin/users", "admin", 200, "", ""},
		{"segment boundary", "GET", "/administrator", "reader", 200, "", ""},
		{"audience route", "GET", "/orders/export/all", "reader", 200, "", ""},
		{"audience route, other token", "GET", "/orders/export", "admin", 401, ReasonWrongAudience, ""},
		{"dot segments", "GET", "/public/../admin/users", "reader", 400, ReasonInvalidRequest, ""},
		{"encoded dot segments", "GET", "/public/%2e%2e/admin/users", "reader", 400, ReasonInvalidRequest, ""},
		{"empty segment", "GET", "//admin/users", "reader", 400, ReasonInvalidRequest, ""},
		{"encoded slash", "GET", "/admin%2Fusers", "reader", 400, ReasonInvalidRequest, ""},
		{"case differs: not the admin route", "GET", "/Admin/users", "reader", 200, "", ""},
		// Upstreams that strip ";..." per segment (Tomcat, Jetty, Spring)
		// or read "\" as "/" (IIS, ASP.NET, WHATWG) resolve these under
		// the admin route.
		{"dot segment with a path parameter", "GET", "/public/..;/admin/users", "reader", 400, ReasonInvalidRequest, ""},
		{"path parameter in the prefix segment", "GET", "/admin;x/users", "reader", 400, ReasonInvalidRequest, ""},
		{"empty path parameter", "GET", "/admin;/users", "reader", 400, ReasonInvalidRequest, ""},
		{"encoded path parameter", "GET", "/public/..%3b/admin/users", "reader", 400, ReasonInvalidRequest, ""},
		{"backslash separators", "GET", `/public\..\admin\users`, "reader", 400, ReasonInvalidRequest, ""},
		{"encoded backslash separators", "GET", "/public%5c..%5cadmin%5cusers", "reader", 400, ReasonInvalidRequest, ""},
		{"encoded upper-case backslash", "GET", "/public%5C..%5Cadmin%5Cusers", "reader", 400, ReasonInvalidRequest, ""},
		{"encoded NUL", "GET", "/admin%00/users", "reader", 400, ReasonInvalidRequest, ""},
		// An upstream (or a proxy before it) that decodes once more sees
		// "/public/../admin/users".
		{"doubly encoded dot segments", "GET", "/public/%252e%252e/admin/users", "reader", 400, ReasonInvalidRequest, ""},
		{"doubly encoded upper-case dots", "GET", "/public/%252E%252E/admin/users", "reader", 400, ReasonInvalidRequest, ""},
		{"doubly encoded slash", "GET", "/public%252f..%252fadmin/users", "reader", 400, ReasonInvalidRequest, ""},
		{"doubly encoded backslash", "GET", "/public%255c..%255cadmin", "reader", 400, ReasonInvalidRequest, ""},
		{"doubly encoded path parameter", "GET", "/admin%253bx/users", "reader", 400, ReasonInvalidRequest, ""},
		{"triply encoded dot", "GET", "/public/%25252e%25252e/admin", "reader", 400, ReasonInvalidRequest, ""},
		{"doubly encoded percent", "GET", "/orders/100%2525", "reader", 400, ReasonInvalidRequest, ""},
		{"encoded space is an ordinary byte", "GET", "/orders/a%20b", "reader", 200, "", ""},
		{"doubly encoded letter is an ordinary path", "GET", "/orders/%2541", "reader", 200, "", ""},
		{"GET-only route", "GET", "/reports", "reader", 403, ReasonInsufficientScope, "admin"},
		{"GET-only route covers HEAD", "HEAD", "/reports", "reader", 403, ReasonInsufficientScope, "admin"},
		{"GET-only route, admin token with HEAD", "HEAD", "/reports/q1", "admin", 200, "", ""},
		{"GET-only route does not cover POST", "POST", "/reports", "reader", 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := &upstream{}
			r := request(tc.method, "/", "Bearer "+tc.token)
			u, err := url.ParseRequestURI(tc.target)
			require.NoError(t, err)
			r.URL = u
			rec := serve(g.Wrap(up), r)
			require.Equal(t, tc.status, rec.Code)
			if tc.status == 200 {
				require.Equal(t, 1, up.count())
				return
			}
			require.Zero(t, up.count())
			_, verr := g.Verify(r)
			e := requireRefusal(t, verr, tc.status, tc.reason, nil)
			if tc.status == http.StatusBadRequest {
				require.ErrorIs(t, verr, ErrInvalidRequest)
			}
			ch, err := oautherr.ParseChallenges(rec.Header().Get("WWW-Authenticate"))
			require.NoError(t, err)
			b, ok := oautherr.Find(ch, "Bearer")
			require.True(t, ok)
			require.Equal(t, "api", b.Get("realm"))
			require.Equal(t, e.Code, b.Get("error"))
			if tc.status == http.StatusForbidden {
				require.ErrorIs(t, verr, ErrInsufficientScope)
				require.Equal(t, CodeInsufficientScope, b.Get("error"))
				require.Equal(t, tc.scope, b.Get("scope"))
			}
		})
	}
}

func TestMatchRoute(t *testing.T) {
	t.Parallel()
	routes, err := buildRoutes([]Route{{Prefix: "/a"}, {Prefix: "/a/b/"}, {Prefix: "/a/b", Methods: []string{"PUT"}}})
	require.NoError(t, err)
	tests := []struct {
		method, path string
		want         int // index, -1 none
	}{
		{"GET", "/", -1},
		{"GET", "/a", 0},
		{"GET", "/a/", 0},
		{"GET", "/ab", -1},
		{"GET", "/a/b", 1},
		{"GET", "/a/b/c", 1},
		{"PUT", "/a/b/c", 1}, // first of equal length wins
	}
	for _, tc := range tests {
		r, err := matchRoute(routes, tc.method, tc.path, tc.path)
		require.NoError(t, err)
		if tc.want < 0 {
			require.Nil(t, r, tc.path)
			continue
		}
		require.Same(t, &routes[tc.want], r, tc.path)
	}
	r, err := matchRoute(nil, "GET", "/../x", "/../x")
	require.NoError(t, err, "without routes the path is the upstream's business")
	require.Nil(t, r)

	t.Run("GET covers HEAD", func(t *testing.T) {
		t.Parallel()
		routes, err := buildRoutes([]Route{{Prefix: "/get", Methods: []string{"GET"}}, {Prefix: "/head", Methods: []string{"HEAD"}}, {Prefix: "/both", Methods: []string{"HEAD", "GET"}}})
		require.NoError(t, err)
		require.Equal(t, []string{"GET", "HEAD"}, routes[0].methods)
		require.Equal(t, []string{"HEAD"}, routes[1].methods, "HEAD does not add GET")
		require.Equal(t, []string{"HEAD", "GET"}, routes[2].methods)
		r, err := matchRoute(routes, "HEAD", "/get/x", "/get/x")
		require.NoError(t, err)
		require.Same(t, &routes[0], r)
		r, err = matchRoute(routes, "GET", "/head", "/head")
		require.NoError(t, err)
		require.Nil(t, r)
	})
}

func TestHasScopes(t *testing.T) {
	t.Parallel()
	require.True(t, hasScopes("a b c", []string{"c", "a"}))
	require.True(t, hasScopes("", nil))
	require.False(t, hasScopes("ab", []string{"a"}))
	require.False(t, hasScopes("a  b", []string{"c"}))
	require.False(t, hasScopes("", []string{"a"}))
}

// An upstream may take a request for another method than the one on its
// request line: Django and Werkzeug upper-case it ("delete" is DELETE),
// and Symfony, Laravel and Rack (Rails) serve a POST carrying
// X-HTTP-Method-Override (or X-HTTP-Method, X-Method-Override; "_" for "-"
// in a CGI-style environment) as the method it names. A route limited to
// some methods must hold such a request to its requirements, or a token
// without the route's scope passes the gateway and runs the upstream's
// handler for that method.
func TestRoutesMethodAsUpstreamsReadIt(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("reader", map[string]any{"scope": "orders:read"})
	as.active("writer", map[string]any{"scope": "orders:read orders:write"})
	newGateway := func() *Gateway {
		g := as.gateway(ModeIntrospectionJWT)
		g.Routes = []Route{
			{Prefix: "/", Scopes: []string{"orders:read"}},
			{Prefix: "/orders", Methods: []string{"PUT", "DELETE"}, Scopes: []string{"orders:write"}},
			{Prefix: "/reports", Methods: []string{"GET"}, Scopes: []string{"admin"}},
		}
		return g
	}
	g := newGateway()
	tests := []struct {
		name   string
		method string
		target string
		token  string
		header map[string][]string // set as is, names not canonicalized
		status int
		reason Reason
		scope  string
	}{
		{"lower-case method", "delete", "/orders/1", "reader", nil, 403, ReasonInsufficientScope, "orders:write"},
		{"mixed-case method", "Put", "/orders/1", "reader", nil, 403, ReasonInsufficientScope, "orders:write"},
		{"lower-case get on a GET-only route", "get", "/reports", "reader", nil, 403, ReasonInsufficientScope, "admin"},
		{"X-HTTP-Method-Override", "POST", "/orders/1", "reader", map[string][]string{"X-Http-Method-Override": {"DELETE"}}, 403, ReasonInsufficientScope, "orders:write"},
		{"X-HTTP-Method", "POST", "/orders/1", "reader", map[string][]string{"X-Http-Method": {"PUT"}}, 403, ReasonInsufficientScope, "orders:write"},
		{"X-Method-Override", "POST", "/orders/1", "reader", map[string][]string{"X-Method-Override": {"DELETE"}}, 403, ReasonInsufficientScope, "orders:write"},
		{"override in lower case", "POST", "/orders/1", "reader", map[string][]string{"X-Http-Method-Override": {"delete"}}, 403, ReasonInsufficientScope, "orders:write"},
		{"override with underscores", "POST", "/orders/1", "reader", map[string][]string{"X_http_method_override": {"DELETE"}}, 403, ReasonInsufficientScope, "orders:write"},
		{"override in a list", "POST", "/orders/1", "reader", map[string][]string{"X-Http-Method-Override": {"PATCH, DELETE"}}, 403, ReasonInsufficientScope, "orders:write"},
		{"override in a second field", "POST", "/orders/1", "reader", map[string][]string{"X-Http-Method-Override": {"PATCH", " DELETE "}}, 403, ReasonInsufficientScope, "orders:write"},
		{"override to GET on a GET-only route", "POST", "/reports", "reader", map[string][]string{"X-Http-Method-Override": {"GET"}}, 403, ReasonInsufficientScope, "admin"},
		{"override to HEAD on a GET-only route", "POST", "/reports", "reader", map[string][]string{"X-Http-Method-Override": {"HEAD"}}, 403, ReasonInsufficientScope, "admin"},
		{"too many overrides", "POST", "/orders/1", "writer", map[string][]string{"X-Http-Method-Override": {strings.Repeat("A,", 64)}}, 400, ReasonInvalidRequest, ""},
		// What was admitted still is.
		{"POST without override", "POST", "/orders/1", "reader", nil, 200, "", ""},
		{"override naming POST", "POST", "/orders/1", "reader", map[string][]string{"X-Http-Method-Override": {"POST"}}, 200, "", ""},
		{"override with the scope", "POST", "/orders/1", "writer", map[string][]string{"X-Http-Method-Override": {"DELETE"}}, 200, "", ""},
		{"lower-case method with the scope", "delete", "/orders/1", "writer", nil, 200, "", ""},
		{"unrelated header", "POST", "/orders/1", "reader", map[string][]string{"X-Method": {"DELETE"}}, 200, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			up := &upstream{}
			r := request(tc.method, tc.target, "Bearer "+tc.token)
			maps.Copy(r.Header, tc.header)
			rec := serve(g.Wrap(up), r)
			require.Equal(t, tc.status, rec.Code)
			if tc.status == http.StatusOK {
				require.Equal(t, 1, up.count())
				return
			}
			require.Zero(t, up.count(), "the upstream never sees the request")
			_, verr := g.Verify(r)
			requireRefusal(t, verr, tc.status, tc.reason, nil)
			if tc.status == http.StatusForbidden {
				require.ErrorIs(t, verr, ErrInsufficientScope)
				ch, err := oautherr.ParseChallenges(rec.Header().Get("WWW-Authenticate"))
				require.NoError(t, err)
				b, ok := oautherr.Find(ch, "Bearer")
				require.True(t, ok)
				require.Equal(t, tc.scope, b.Get("scope"))
			} else {
				require.ErrorIs(t, verr, ErrInvalidRequest)
			}
		})
	}

	// The auth-request endpoint decides the same: Traefik passes the
	// client's method as it came, nginx the client's headers.
	for _, tc := range []struct {
		name     string
		protocol Protocol
		header   map[string][]string
	}{
		{"traefik/lower-case method", ProtocolTraefik, map[string][]string{"X-Forwarded-Method": {"delete"}, "X-Forwarded-Uri": {"/orders/1"}}},
		{"nginx/X-HTTP-Method-Override", ProtocolNGINX, map[string][]string{"X-Original-Method": {"POST"}, "X-Original-Uri": {"/orders/1"}, "X-Http-Method-Override": {"DELETE"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGateway()
			var seen error
			g.OnError = func(_ *http.Request, err error) { seen = err }
			a := &AuthRequest{Gateway: g, Protocol: tc.protocol, TrustedProxies: loopback}
			r := authReq("GET", "/auth", "127.0.0.1:4000", tc.header)
			r.Header.Set("Authorization", "Bearer reader")
			rec := serve(a, r)
			require.Equal(t, http.StatusForbidden, rec.Code)
			require.Empty(t, rec.Header().Get("Authorization"), "no JWT with a refusal")
			requireRefusal(t, seen, http.StatusForbidden, ReasonInsufficientScope, ErrInsufficientScope)
		})
	}
}
