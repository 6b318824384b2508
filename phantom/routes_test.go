package phantom

import (
	"net/http"
	"net/url"
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
