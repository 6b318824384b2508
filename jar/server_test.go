package jar_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/jar"
)

// clock is a settable test clock, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func ro(jwt string, exp time.Time) *jar.RequestObject {
	return &jar.RequestObject{JWT: jwt, Expiry: exp}
}

// serve mounts s under /jar/ on a loopback TLS server and points BaseURL
// at it.
func serve(t *testing.T, s *jar.Server) (*httptest.Server, *http.Client) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/jar/", s)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	s.BaseURL = srv.URL + "/jar/"
	return srv, srv.Client()
}

func fetch(t *testing.T, c *http.Client, method, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestServerServesOnce(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	s := &jar.Server{Now: clk.Now}
	srv, c := serve(t, s)

	uri, err := s.Publish(ro("header.payload.sig", t0.Add(time.Minute)))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(uri, srv.URL+"/jar/"))
	require.LessOrEqual(t, len(uri), jar.MaxRequestURILength)
	require.Equal(t, 1, s.Len())

	// Methods other than GET do not consume it.
	resp, _ := fetch(t, c, http.MethodPost, uri)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Equal(t, "GET", resp.Header.Get("Allow"))
	resp, _ = fetch(t, c, http.MethodHead, uri)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	resp, body := fetch(t, c, http.MethodGet, uri)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, jar.MediaType, resp.Header.Get("Content-Type"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "header.payload.sig", body)
	require.Equal(t, 0, s.Len())

	resp, _ = fetch(t, c, http.MethodGet, uri)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestServerNotFound(t *testing.T) {
	t.Parallel()
	s := &jar.Server{Now: fixedNow}
	srv, c := serve(t, s)
	uri, err := s.Publish(ro("a.b.c", t0.Add(time.Minute)))
	require.NoError(t, err)
	id := uri[strings.LastIndexByte(uri, '/')+1:]
	tests := []struct{ name, method, path string }{
		{name: "unknown id", method: http.MethodGet, path: "/jar/" + strings.Repeat("A", 43)},
		{name: "short id", method: http.MethodGet, path: "/jar/" + id[:42]},
		{name: "long id", method: http.MethodGet, path: "/jar/" + id + "A"},
		{name: "not base64url", method: http.MethodGet, path: "/jar/" + id[:42] + "."},
		{name: "empty", method: http.MethodGet, path: "/jar/"},
		{name: "id as directory", method: http.MethodGet, path: "/jar/" + id + "/"},
		{name: "id in a subdirectory", method: http.MethodGet, path: "/jar/x/" + id},
		{name: "id with escaped character", method: http.MethodGet, path: "/jar/%" + fmt.Sprintf("%02X", id[0]) + id[1:]},
		{name: "id elsewhere", method: http.MethodGet, path: "/other/" + id},
		{name: "id at the root", method: http.MethodGet, path: "/" + id},
		{name: "id with a prefix of the base", method: http.MethodGet, path: "/ja/" + id},
		{name: "POST elsewhere", method: http.MethodPost, path: "/other/" + id},
	}
	mux := http.NewServeMux()
	mux.Handle("/", s) // mounted everywhere: the handler itself refuses other paths
	for _, tc := range tests {
		resp, _ := fetch(t, c, tc.method, srv.URL+tc.path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, tc.name)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		require.Equal(t, http.StatusNotFound, rec.Code, tc.name)
	}
	require.Equal(t, 1, s.Len(), "lookups of other paths must not consume the entry")
	resp, body := fetch(t, c, http.MethodGet, uri)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "a.b.c", body)
}

// TestServerOwnPathOnly mounts the handler where its BaseURL does not
// point, and behind http.StripPrefix: it serves nothing there, and the
// request object stays for the right path.
func TestServerOwnPathOnly(t *testing.T) {
	t.Parallel()
	s := &jar.Server{BaseURL: "https://client.example.org/request-objects/", Now: fixedNow}
	uri, err := s.Publish(ro("a.b.c", t0.Add(time.Minute)))
	require.NoError(t, err)
	u, err := url.Parse(uri)
	require.NoError(t, err)
	id := path.Base(u.Path)

	tests := []struct {
		name    string
		handler http.Handler
		path    string
	}{
		{name: "behind StripPrefix", handler: http.StripPrefix("/request-objects", s), path: "/request-objects/" + id},
		{name: "at the root", handler: s, path: "/" + id},
		{name: "under another prefix", handler: s, path: "/jar/" + id},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		tc.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		require.Equal(t, http.StatusNotFound, rec.Code, tc.name)
	}
	require.Equal(t, 1, s.Len())

	// A Server without a valid BaseURL serves nothing.
	rec := httptest.NewRecorder()
	(&jar.Server{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.Path, nil))
	require.Equal(t, http.StatusNotFound, rec.Code)

	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u.Path, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "a.b.c", rec.Body.String())
	require.Equal(t, 0, s.Len())
}

func TestServerExpiry(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	s := &jar.Server{Now: clk.Now, MaxEntries: 2}
	_, c := serve(t, s)

	_, err := s.Publish(ro("a.b.c", t0))
	require.ErrorIs(t, err, jar.ErrExpired)

	u1, err := s.Publish(ro("a.b.1", t0.Add(10*time.Second)))
	require.NoError(t, err)
	u2, err := s.Publish(ro("a.b.2", t0.Add(time.Minute)))
	require.NoError(t, err)
	require.NotEqual(t, u1, u2)
	_, err = s.Publish(ro("a.b.3", t0.Add(time.Minute)))
	require.ErrorIs(t, err, jar.ErrServerFull)

	clk.Add(10 * time.Second) // the first has expired
	resp, _ := fetch(t, c, http.MethodGet, u1)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	clk.Add(time.Minute) // the second has expired too, but is still held
	require.Equal(t, 1, s.Len())
	u3, err := s.Publish(ro("a.b.3", clk.Now().Add(time.Minute)))
	require.NoError(t, err, "a full server drops expired entries")
	require.Equal(t, 2, s.Len())
	u4, err := s.Publish(ro("a.b.4", clk.Now().Add(time.Minute)))
	require.NoError(t, err)
	require.Equal(t, 2, s.Len())
	resp, _ = fetch(t, c, http.MethodGet, u2)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	for _, u := range []string{u3, u4} {
		resp, _ = fetch(t, c, http.MethodGet, u)
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
}

func TestServerConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		base     string
		insecure bool
		ro       *jar.RequestObject
		err      error
	}{
		{name: "no BaseURL", base: "", ro: ro("a.b.c", t0.Add(time.Minute)), err: jar.ErrInvalidConfig},
		{name: "relative BaseURL", base: "/jar/", ro: ro("a.b.c", t0.Add(time.Minute)), err: jar.ErrInvalidConfig},
		{name: "http BaseURL", base: "http://client.example.org/jar/", ro: ro("a.b.c", t0.Add(time.Minute)), err: jar.ErrInvalidConfig},
		{name: "BaseURL with query", base: "https://client.example.org/jar?x=1", ro: ro("a.b.c", t0.Add(time.Minute)), err: jar.ErrInvalidConfig},
		{name: "BaseURL with fragment", base: "https://client.example.org/jar#x", ro: ro("a.b.c", t0.Add(time.Minute)), err: jar.ErrInvalidConfig},
		{name: "BaseURL with user", base: "https://u:p@client.example.org/jar/", ro: ro("a.b.c", t0.Add(time.Minute)), err: jar.ErrInvalidConfig},
		{name: "BaseURL too long", base: "https://client.example.org/" + strings.Repeat("x", 450), ro: ro("a.b.c", t0.Add(time.Minute)), err: jar.ErrInvalidConfig},
		{name: "BaseURL with empty query", base: "https://client.example.org/jar/?", ro: ro("a.b.c", t0.Add(time.Minute)), err: jar.ErrInvalidConfig},
		{name: "BaseURL with empty fragment", base: "https://client.example.org/jar/#", ro: ro("a.b.c", t0.Add(time.Minute)), err: jar.ErrInvalidConfig},
		{name: "nil request object", base: "https://client.example.org/jar/", ro: nil, err: jar.ErrInvalidParameter},
		{name: "empty request object", base: "https://client.example.org/jar/", ro: ro("", t0.Add(time.Minute)), err: jar.ErrInvalidParameter},
		{name: "https without slash", base: "https://client.example.org/jar", ro: ro("a.b.c", t0.Add(time.Minute))},
		{name: "http allowed by name", base: "http://127.0.0.1:8080/jar/", insecure: true, ro: ro("a.b.c", t0.Add(time.Minute))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &jar.Server{BaseURL: tc.base, InsecureAllowHTTP: tc.insecure, Now: fixedNow}
			uri, err := s.Publish(tc.ro)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Empty(t, uri)
				var ce *jar.ConfigError
				if errors.Is(tc.err, jar.ErrInvalidConfig) {
					require.ErrorAs(t, err, &ce)
					require.Equal(t, "Server.BaseURL", ce.Field)
				}
				return
			}
			require.NoError(t, err)
			base := strings.TrimSuffix(tc.base, "/") + "/"
			require.True(t, strings.HasPrefix(uri, base))
			require.Len(t, uri, len(base)+43)
		})
	}
}

// TestServerConcurrent publishes and fetches from many goroutines; every
// request object is served exactly once even when fetched concurrently.
func TestServerConcurrent(t *testing.T) {
	t.Parallel()
	s := &jar.Server{Now: fixedNow, MaxEntries: 10_000}
	_, c := serve(t, s)
	const n = 40
	uris := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			u, err := s.Publish(ro("a.b."+strings.Repeat("x", i+1), t0.Add(time.Minute)))
			if err == nil {
				uris[i] = u
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, u := range uris {
		require.NotEmpty(t, u)
		require.False(t, seen[u])
		seen[u] = true
	}
	var ok atomic.Int64
	for i := range n {
		for range 3 { // three concurrent fetches of the same URI
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodGet, uris[i], nil)
				resp, err := c.Do(req)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode == http.StatusOK && string(b) == "a.b."+strings.Repeat("x", i+1) {
					ok.Add(1)
				}
			})
		}
	}
	wg.Wait()
	require.Equal(t, int64(n), ok.Load())
	require.Equal(t, 0, s.Len())
}
