package headless_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/headless"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

const redirect = "https://client.example.org/cb"

// server answers /authorize with handle, and counts the requests.
func server(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request)
		method string
		url    string
		form   url.Values
		hops   int32
	}{
		{
			name: "query",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				http.Redirect(w, &http.Request{}, redirect+"?code=c&state=s", http.StatusFound)
			},
			method: http.MethodGet, url: redirect + "?code=c&state=s", hops: 1,
		},
		{
			name: "fragment kept",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", redirect+"#response=jwt")
				w.WriteHeader(http.StatusSeeOther)
			},
			method: http.MethodGet, url: redirect + "#response=jwt", hops: 1,
		},
		{
			name: "redirects within the origin, with cookies",
			handle: func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/authorize":
					http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1"})
					http.Redirect(w, r, "/login?x=1", http.StatusFound)
				case "/login":
					http.Redirect(w, r, "/resume", http.StatusFound)
				default:
					http.Redirect(w, r, redirect+"?code=c", http.StatusFound)
				}
			},
			method: http.MethodGet, url: redirect + "?code=c", hops: 3,
		},
		{
			name: "form_post",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprintf(w, `<html><body onload="document.forms[0].submit()"><FORM Method='POST' action="%s">`+
					`<input type="hidden" name="response" value="a.b&amp;c"><input name="x" value="y">`+
					`<input type=hidden name=state value=s></form></body></html>`, redirect)
			},
			method: http.MethodPost, url: redirect, form: url.Values{"response": {"a.b&c"}, "state": {"s"}}, hops: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, n := server(t, tc.handle)
			hc := srv.Client()
			jar, err := cookiejar.New(nil)
			require.NoError(t, err)
			hc.Jar = jar
			req, err := headless.Authorize(t.Context(), hc, srv.URL+"/authorize", redirect)
			require.NoError(t, err)
			require.Equal(t, tc.method, req.Method)
			require.Equal(t, tc.url, req.URL.String())
			require.Equal(t, tc.hops, n.Load())
			if tc.form != nil {
				require.Equal(t, "application/x-www-form-urlencoded", req.Header.Get("Content-Type"))
				b, err := io.ReadAll(req.Body)
				require.NoError(t, err)
				got, err := url.ParseQuery(string(b))
				require.NoError(t, err)
				require.Equal(t, tc.form, got)
			}
		})
	}
}

func TestAuthorizeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request)
		target error
	}{
		{name: "another origin", handle: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://evil.example/steal", http.StatusFound)
		}, target: headless.ErrOrigin},
		{name: "a look-alike redirect URI", handle: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, redirect+"evil?code=c", http.StatusFound)
		}, target: headless.ErrOrigin},
		{name: "form to another place", handle: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, `<form method="post" action="https://evil.example/"><input type="hidden" name="code" value="c"></form>`)
		}, target: headless.ErrOrigin},
		{name: "page without form", handle: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, `<p>Log in</p>`)
		}, target: headless.ErrLogin},
		{name: "JSON 200", handle: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{}`)
		}, target: headless.ErrLogin},
		{name: "redirect loop", handle: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/again", http.StatusFound)
		}, target: headless.ErrLogin},
		{name: "empty Location", handle: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusFound)
		}, target: headless.ErrMalformed},
		{name: "OAuth error", handle: func(w http.ResponseWriter, _ *http.Request) {
			oautherr.Write(w, &oautherr.Error{Code: "invalid_request_uri", Status: http.StatusBadRequest})
		}, target: &oautherr.Error{Code: "invalid_request_uri"}},
		{name: "server error", handle: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}, target: headless.ErrLogin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, n := server(t, tc.handle)
			_, err := headless.Authorize(t.Context(), srv.Client(), srv.URL+"/authorize", redirect)
			require.ErrorIs(t, err, tc.target)
			require.LessOrEqual(t, n.Load(), int32(headless.MaxRedirects+1))
		})
	}
	_, err := headless.Authorize(t.Context(), nil, "/relative", redirect)
	require.ErrorIs(t, err, headless.ErrMalformed)
	_, err = headless.Authorize(t.Context(), nil, "https://as.example/authorize", "cb")
	require.ErrorIs(t, err, headless.ErrMalformed)
}

func TestParseForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		page   string
		action string
		fields url.Values
		ok     bool
	}{
		{name: "authserver's page", page: `<!DOCTYPE html><html><body onload="document.forms[0].submit()"><form method="post" action="https://c.example/cb"><input type="hidden" name="code" value="x&#34;y"></form></body></html>`,
			action: "https://c.example/cb", fields: url.Values{"code": {`x"y`}}, ok: true},
		{name: "get form skipped", page: `<form action="/a"><input type="hidden" name="a" value="1"></form><form method=post action=/b><input type=hidden name=b value=2 /></form>`,
			action: "/b", fields: url.Values{"b": {"2"}}, ok: true},
		{name: "no action", page: `<form method="post"><input type="hidden" name="a" value="1"></form>`},
		{name: "unterminated", page: `<form method="post" action="/x`},
		{name: "inputs before the form", page: `<input type="hidden" name="a" value="1"><form method="post" action="/x"></form>`, action: "/x", fields: url.Values{}, ok: true},
		{name: "first attribute wins", page: `<form method="post" action="/a" action="/b"></form>`, action: "/a", fields: url.Values{}, ok: true},
		{name: "empty", page: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			action, fields, ok := headless.ParseForm([]byte(tc.page))
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, tc.action, action)
				require.Equal(t, tc.fields, fields)
			}
		})
	}
}

// FuzzParseForm: no page panics or loops.
func FuzzParseForm(f *testing.F) {
	f.Add([]byte(`<form method="post" action="https://c.example/cb"><input type="hidden" name="response" value="a.b.c"></form>`))
	f.Add([]byte(`<form method=post action=/x><input type=hidden name=a value='1'>`))
	f.Add([]byte(`<<form =method="post" / action=>`))
	f.Add([]byte(`<form method="post" action="&amp;&#x27;&#0;">`))
	f.Fuzz(func(t *testing.T, page []byte) {
		action, fields, ok := headless.ParseForm(page)
		if !ok {
			require.Empty(t, action)
			return
		}
		require.NotNil(t, fields)
	})
}
