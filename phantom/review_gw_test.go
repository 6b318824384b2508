package phantom

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// TestGWRoutePathParameterBypass: a route's scope requirement is bypassed
// with paths the gateway matches literally but common upstreams normalize
// onto the protected route: ";" path parameters (Tomcat, Jetty, Spring
// strip them per segment, and "..;" is a dot segment there) and
// backslashes (IIS/ASP.NET, WHATWG URL parsers treat them as "/"). The
// gateway refuses "..", "%2e%2e", "//" and "%2f" for exactly this reason
// ("the upstream might resolve it to another route than the gateway did"),
// and dpop refuses "\" and "%5c" under a prefix, but routes admit these.
func TestGWRoutePathParameterBypass(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("reader", map[string]any{"scope": "orders:read"})
	g := as.gateway(ModeIntrospectionJWT)
	g.Routes = []Route{
		{Prefix: "/", Scopes: []string{"orders:read"}},
		{Prefix: "/admin/", Scopes: []string{"admin"}},
	}
	for _, target := range []string{
		"/public/..;/admin/users", // Tomcat: /admin/users
		"/admin;x/users",          // Tomcat/Spring: /admin/users
		"/admin;/users",           // likewise
		`/public\..\admin\users`,  // backslash as separator: /admin/users
		"/public%5c..%5cadmin%5cusers",
	} {
		t.Run(target, func(t *testing.T) {
			up := &upstream{}
			r := request("GET", "/", "Bearer reader")
			u, err := url.ParseRequestURI(target)
			require.NoError(t, err)
			r.URL = u
			rec := serve(g.Wrap(up), r)
			require.NotEqual(t, http.StatusOK, rec.Code,
				"a reader token reaches %q, which upstreams resolve under the admin route", target)
			require.Zero(t, up.count())
		})
	}
}

// TestGWHeadSkipsGetRoute: a route limited to GET does not cover HEAD, so a
// HEAD request falls back to a less specific route (or none), while Go's
// ServeMux (the upstream the Route doc names) serves HEAD with the GET
// handler: the handler runs, status and headers (Content-Length, ...) are
// returned, for a token without the route's scope.
func TestGWHeadSkipsGetRoute(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("reader", map[string]any{"scope": "orders:read"})
	g := as.gateway(ModeIntrospectionJWT)
	g.Routes = []Route{{Prefix: "/admin", Methods: []string{"GET"}, Scopes: []string{"admin"}}}

	mux := http.NewServeMux()
	adminRan := false
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		adminRan = true
		_, _ = w.Write([]byte("secret report"))
	})
	rec := serve(g.Wrap(mux), request("GET", "/admin", "Bearer reader"))
	require.Equal(t, http.StatusForbidden, rec.Code, "GET is refused")
	rec = serve(g.Wrap(mux), request("HEAD", "/admin", "Bearer reader"))
	require.False(t, adminRan, "HEAD ran the GET-only admin handler (status %d, Content-Length %q) for a token without the admin scope",
		rec.Code, rec.Header().Get("Content-Length"))
}

// TestGWLongTokenEchoLeaksIntoLogs: the token is scrubbed from an
// introspection error's description only when the whole token survives
// sanitization; a description bounded to 1 KiB cuts a longer token (up to
// MaxTokenBytes, 4 KiB) and its first part then reaches the logs and the
// error passed to OnError.
func TestGWLongTokenEchoLeaksIntoLogs(t *testing.T) {
	t.Parallel()
	token := "SECRET" + strings.Repeat("x7Qz", 400) // 1606 bytes, a valid b64token
	as := newFakeAS(t)
	as.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		_ = r.ParseForm()
		oautherr.Write(w, &oautherr.Error{Code: "invalid_request", Description: "bad token " + r.PostForm.Get("token"), Status: 400})
		return true
	})
	var logs logBuffer
	g := as.gateway(ModeIntrospectionJWT)
	g.Logger = logs.logger()
	var seen error
	g.OnError = func(_ *http.Request, err error) { seen = err }
	rec := serve(g.Wrap(&upstream{}), request("GET", "/", "Bearer "+token))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Error(t, seen)
	prefix := token[:64]
	require.NotContains(t, seen.Error(), prefix, "the error holds the first bytes of the token")
	require.NotContains(t, logs.String(), prefix, "the logs hold the first bytes of the token")
}
