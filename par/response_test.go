package par_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/par"
)

func TestErrorResponses(t *testing.T) {
	t.Parallel()
	codes := []string{
		"invalid_request", "invalid_client", "invalid_request_object", "unauthorized_client",
		"access_denied", "use_dpop_nonce", "invalid_scope", "invalid_dpop_proof", "server_error",
	}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			srv := newPARServer(t, func(w http.ResponseWriter, _ *http.Request) {
				oauthError(w, http.StatusBadRequest, code, "The redirect_uri is not valid for the given client")
			})
			c, _, _ := srv.authConfig(t, false)
			resp, err := c.Push(t.Context(), pushParams())
			require.Nil(t, resp)
			require.ErrorIs(t, err, par.ErrErrorResponse)

			var pe *par.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, code, pe.Code)
			require.Equal(t, "The redirect_uri is not valid for the given client", pe.Description)
			require.Equal(t, http.StatusBadRequest, pe.Status)
			require.Equal(t, "application/json", pe.Header.Get("Content-Type"))

			var oe *oautherr.Error
			require.ErrorAs(t, err, &oe)
			require.Equal(t, code, oe.Code)
			require.Equal(t, http.StatusBadRequest, oe.Status)
			require.ErrorIs(t, err, &oautherr.Error{Code: code})
			require.NotErrorIs(t, err, &oautherr.Error{Code: "other_code"})

			// The assertion that was sent is nowhere in the error text.
			sent := srv.seen()[0].form.Get("client_assertion")
			require.NotEmpty(t, sent)
			require.NotContains(t, err.Error(), sent)
			require.Contains(t, err.Error(), code)
		})
	}
}

func TestBadResponses(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2<<20)
	tests := []struct {
		name   string
		answer http.HandlerFunc
		err    []error
		status int    // for *par.Error
		code   string // for *par.Error
	}{
		{name: "401", answer: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="as"`)
			oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		}, err: []error{par.ErrErrorResponse}, status: 401, code: "invalid_client"},
		{name: "500 HTML", answer: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html><body>Internal error</body></html>"))
		}, err: []error{par.ErrErrorResponse}, status: 500},
		{name: "500 JSON", answer: func(w http.ResponseWriter, _ *http.Request) {
			oauthError(w, http.StatusInternalServerError, "server_error", "")
		}, err: []error{par.ErrErrorResponse}, status: 500, code: "server_error"},
		{name: "503 empty", answer: func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, err: []error{par.ErrErrorResponse}, status: 503},
		{name: "400 oversized", answer: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusBadRequest, `{"error":"invalid_request","error_description":"`+big+`"}`)
		}, err: []error{par.ErrErrorResponse}, status: 400},
		{name: "200 instead of 201", answer: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":60}`)
		}, err: []error{par.ErrErrorResponse}, status: 200},
		{name: "302 redirect", answer: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://evil.example/par", http.StatusFound)
		}, err: []error{par.ErrErrorResponse}, status: 302},
		{name: "307 redirect", answer: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/other", http.StatusTemporaryRedirect)
		}, err: []error{par.ErrErrorResponse}, status: 307},
		{name: "201 with 2 MB body", answer: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusCreated, `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":60,"pad":"`+big+`"}`)
		}, err: []error{par.ErrInvalidResponse, httpx.ErrBodyTooLarge}},
		{name: "201 HTML", answer: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte("<html>created</html>"))
		}, err: []error{par.ErrInvalidResponse}},
		{name: "201 JSON type, HTML body", answer: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusCreated, "<html>created</html>")
		}, err: []error{par.ErrInvalidResponse}},
		{name: "201 no content type", answer: func(w http.ResponseWriter, _ *http.Request) {
			w.Header()["Content-Type"] = nil
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":60}`))
		}, err: []error{par.ErrInvalidResponse}},
		{name: "201 empty", answer: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusCreated, "")
		}, err: []error{par.ErrInvalidResponse}},
	}
	for _, body := range []struct{ name, json string }{
		{"expires_in zero", `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":0}`},
		{"expires_in negative", `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":-60}`},
		{"expires_in string", `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":"60"}`},
		{"expires_in fraction", `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":1.5}`},
		{"expires_in below one", `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":0.5}`},
		{"expires_in null", `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":null}`},
		{"expires_in bool", `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":true}`},
		{"expires_in over a day", `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":86401}`},
		{"expires_in overflow", `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":1e400}`},
		{"expires_in missing", `{"request_uri":"urn:ietf:params:oauth:request_uri:x"}`},
		{"request_uri missing", `{"expires_in":60}`},
		{"request_uri null", `{"request_uri":null,"expires_in":60}`},
		{"request_uri number", `{"request_uri":42,"expires_in":60}`},
		{"request_uri empty", `{"request_uri":"","expires_in":60}`},
		{"request_uri relative", `{"request_uri":"/par/123","expires_in":60}`},
		{"request_uri javascript", `{"request_uri":"javascript:alert(1)","expires_in":60}`},
		{"request_uri URN without NSS", `{"request_uri":"urn:example","expires_in":60}`},
		{"request_uri URN empty NSS", `{"request_uri":"urn:example:","expires_in":60}`},
		{"request_uri URN bad NID", `{"request_uri":"urn:-x:abc","expires_in":60}`},
		{"request_uri with space", `{"request_uri":"urn:example:a b","expires_in":60}`},
		{"request_uri with newline", `{"request_uri":"urn:example:a\nb","expires_in":60}`},
		{"request_uri non-ASCII", `{"request_uri":"urn:example:é","expires_in":60}`},
		{"request_uri URL without host", `{"request_uri":"https:///x","expires_in":60}`},
		{"request_uri too long", `{"request_uri":"urn:example:` + strings.Repeat("a", 2100) + `","expires_in":60}`},
		{"repeated member", `{"request_uri":"urn:example:a","request_uri":"urn:example:b","expires_in":60}`},
		{"case-variant member", `{"request_uri":"urn:example:a","Request_URI":"urn:example:b","expires_in":60}`},
		{"repeated member in another member", `{"request_uri":"urn:example:a","expires_in":60,"x":{"a":1,"a":2}}`},
		{"invalid UTF-8 in another member", "{\"request_uri\":\"urn:example:a\",\"expires_in\":60,\"x\":\"\xff\"}"},
		{"data after object", `{"request_uri":"urn:example:a","expires_in":60} {}`},
		{"array", `[{"request_uri":"urn:example:a","expires_in":60}]`},
		{"truncated", `{"request_uri":"urn:example:a","expires_in":60`},
		{"missing value", `{"request_uri":,"expires_in":60}`},
		{"missing colon", `{"request_uri" "urn:example:a","expires_in":60}`},
		{"number as name", `{42:"urn:example:a","expires_in":60}`},
		{"request_uri bad escape", `{"request_uri":"https://as.example.com/%zz","expires_in":60}`},
		{"request_uri URN bad NID character", `{"request_uri":"urn:ex_ample:abc","expires_in":60}`},
	} {
		tests = append(tests, struct {
			name   string
			answer http.HandlerFunc
			err    []error
			status int
			code   string
		}{name: body.name, answer: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusCreated, body.json)
		}, err: []error{par.ErrInvalidResponse}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var other atomic.Int64
			srv := newPlainPARServer(t, withOther(tc.answer, &other))
			resp, err := srv.config().Push(t.Context(), pushParams())
			require.Nil(t, resp)
			for _, e := range tc.err {
				require.ErrorIs(t, err, e)
			}
			require.Zero(t, other.Load(), "redirects must not be followed")
			var pe *par.Error
			if tc.status == 0 {
				require.False(t, errors.As(err, &pe))
				return
			}
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.status, pe.Status)
			require.Equal(t, tc.code, pe.Code)
			var oe *oautherr.Error
			require.ErrorAs(t, err, &oe)
			require.Equal(t, tc.status, oe.Status)
		})
	}
}

// withOther counts requests to /other, the target of a relative redirect.
func withOther(h http.HandlerFunc, n *atomic.Int64) http.HandlerFunc {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/other" {
			n.Add(1)
			created(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// TestRedirectNotFollowedWithUserClient gives a client that would follow
// redirects, with a transport that adds credentials: the push refuses to
// follow, and the redirect target sees nothing.
func TestRedirectNotFollowedWithUserClient(t *testing.T) {
	t.Parallel()
	var followed atomic.Int64
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		created(w, r)
	}))
	t.Cleanup(target.Close)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			srv := newPARServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/par", status)
			})
			c, auth, _ := srv.authConfig(t, false)
			hc := &http.Client{Transport: auth} // CheckRedirect nil: would follow
			c.HTTPClient = hc
			_, err := c.Push(t.Context(), pushParams())
			require.ErrorIs(t, err, par.ErrErrorResponse)
			var pe *par.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, status, pe.Status)
			require.Empty(t, pe.Code)
			require.Equal(t, target.URL+"/par", pe.Header.Get("Location"))
			require.Equal(t, int64(1), auth.calls.Load(), "one attempt, not resent")
			require.Nil(t, hc.CheckRedirect, "the caller's client is not modified")
		})
	}
	t.Cleanup(func() { require.Zero(t, followed.Load(), "redirects must not be followed") })
}

// TestErrorDescriptionSanitized checks that server text reaches the error
// bounded and without control characters.
func TestErrorDescriptionSanitized(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, func(w http.ResponseWriter, _ *http.Request) {
		oauthError(w, http.StatusBadRequest, "invalid_request", "line one\nline two\x1b[31m"+strings.Repeat("x", 4000))
	})
	_, err := srv.config().Push(t.Context(), pushParams())
	var pe *par.Error
	require.ErrorAs(t, err, &pe)
	require.True(t, strings.HasPrefix(pe.Description, "line one\uFFFDline two\uFFFD[31m"))
	require.LessOrEqual(t, len(pe.Description), oautherr.MaxDescription)
	require.NotContains(t, err.Error(), "\n")
	require.NotContains(t, err.Error(), "\x1b")
	var oe *oautherr.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, pe.Description, oe.Description)
}

func TestAcceptedResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		uri  string
		exp  time.Duration
	}{
		{name: "RFC 9126 §2.2", json: `{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}`, uri: "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c", exp: time.Minute},
		{name: "RFC 9126 §1.1", json: `{"request_uri":"urn:example:bwc4JK-ESC0w8acc191e-Y1LTC2","expires_in":90}`, uri: "urn:example:bwc4JK-ESC0w8acc191e-Y1LTC2", exp: 90 * time.Second},
		{name: "https URL", json: `{"request_uri":"https://as.example.com/par/abc","expires_in":600}`, uri: "https://as.example.com/par/abc", exp: 10 * time.Minute},
		{name: "upper-case URN scheme", json: `{"request_uri":"URN:example:abc","expires_in":5}`, uri: "URN:example:abc", exp: 5 * time.Second},
		{name: "whole float", json: `{"expires_in":60.0,"request_uri":"urn:example:abc"}`, uri: "urn:example:abc", exp: time.Minute},
		{name: "exponent", json: `{"expires_in":6e1,"request_uri":"urn:example:abc"}`, uri: "urn:example:abc", exp: time.Minute},
		{name: "one day", json: `{"expires_in":86400,"request_uri":"urn:example:abc"}`, uri: "urn:example:abc", exp: 24 * time.Hour},
		{name: "extra members", json: `{"request_uri":"urn:example:abc","expires_in":60,"foo":{"bar":[1,2]}}`, uri: "urn:example:abc", exp: time.Minute},
		{name: "whitespace", json: " \n{ \"request_uri\" : \"urn:example:abc\" , \"expires_in\" : 60 }\n", uri: "urn:example:abc", exp: time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newPlainPARServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(tc.json))
			})
			resp, err := srv.config().Push(t.Context(), pushParams())
			require.NoError(t, err)
			require.Equal(t, tc.uri, resp.RequestURI)
			require.Equal(t, tc.exp, resp.ExpiresIn)
			require.Equal(t, t0.Add(tc.exp), resp.Expiry)
		})
	}
}

func TestMaxResponseBytes(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	c := srv.config()
	c.MaxResponseBytes = 16
	_, err := c.Push(t.Context(), pushParams())
	require.ErrorIs(t, err, par.ErrInvalidResponse)
	require.ErrorIs(t, err, httpx.ErrBodyTooLarge)
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, func(w http.ResponseWriter, r *http.Request) {
		// A server that echoes the request body in its error.
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(r.PostForm.Encode()))
	})
	c, auth, _ := srv.authConfig(t, false)
	auth.static = "TOP-SECRET-ASSERTION"
	_, err := c.Push(t.Context(), pushParams())
	var pe *par.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "par: PAR endpoint error (HTTP 400)", err.Error())
	require.NotContains(t, fmt.Sprintf("%+v", pe), "TOP-SECRET")
}

// TestErrorZeroValue checks that an Error built by hand still matches and
// unwraps.
func TestErrorZeroValue(t *testing.T) {
	t.Parallel()
	e := &par.Error{Status: 400, Code: "invalid_request", Description: "bad\nthing"}
	require.ErrorIs(t, e, par.ErrErrorResponse)
	require.ErrorIs(t, e, &oautherr.Error{Code: "invalid_request", Status: 400})
	require.Equal(t, "par: PAR endpoint error invalid_request (HTTP 400): \"bad\uFFFDthing\"", e.Error())
	var oe *oautherr.Error
	require.ErrorAs(t, e, &oe)
	require.Equal(t, "bad\uFFFDthing", oe.Description)
	require.Equal(t, "par: PAR endpoint redirected (HTTP 302)", (&par.Error{Status: 302}).Error())
}

func TestLongParameterName(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	p := pushParams()
	long := strings.Repeat("n", 100)
	p[long] = []string{"a", "b"}
	_, err := srv.config().Push(t.Context(), p)
	require.ErrorIs(t, err, par.ErrInvalidParameter)
	require.NotContains(t, err.Error(), long)
}
