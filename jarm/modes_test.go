package jarm_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/jarm"
)

func TestDecodeFormPostRejects(t *testing.T) {
	t.Parallel()
	tok := signStdlib(t, asEC(), "ec1", claims(nil))
	body := "response=" + tok
	cases := []struct {
		name   string
		method string
		target string
		ctype  string
		body   string
		edit   func(*jarm.Config)
		err    error
		status int
	}{
		{name: "GET", method: http.MethodGet, ctype: "application/x-www-form-urlencoded", body: body, err: jarm.ErrMethodNotAllowed, status: 405},
		{name: "PUT", method: http.MethodPut, ctype: "application/x-www-form-urlencoded", body: body, err: jarm.ErrMethodNotAllowed, status: 405},
		{name: "JSON body", method: http.MethodPost, ctype: "application/json", body: `{"response":"x"}`, err: jarm.ErrUnsupportedMediaType, status: 415},
		{name: "multipart body", method: http.MethodPost, ctype: "multipart/form-data; boundary=x", body: body, err: jarm.ErrUnsupportedMediaType, status: 415},
		{name: "no content type", method: http.MethodPost, body: body, err: jarm.ErrUnsupportedMediaType, status: 415},
		{name: "body over the limit", method: http.MethodPost, ctype: "application/x-www-form-urlencoded", body: body + "&pad=" + strings.Repeat("a", 2<<10),
			edit: func(c *jarm.Config) { c.MaxBodyBytes = 2 << 10 }, err: jarm.ErrTooLarge, status: 413},
		{name: "response in the URL too", method: http.MethodPost, target: "/cb?response=" + tok, ctype: "application/x-www-form-urlencoded", body: body, err: jarm.ErrMixedResponse, status: 400},
		{name: "state in the URL", method: http.MethodPost, target: "/cb?state=" + testState, ctype: "application/x-www-form-urlencoded", body: body, err: jarm.ErrMixedResponse, status: 400},
		{name: "code beside response in the body", method: http.MethodPost, ctype: "application/x-www-form-urlencoded", body: body + "&code=x", err: jarm.ErrMixedResponse, status: 400},
		{name: "bad form encoding", method: http.MethodPost, ctype: "application/x-www-form-urlencoded", body: "response=%zz", err: jarm.ErrMalformed, status: 400},
		{name: "empty body", method: http.MethodPost, ctype: "application/x-www-form-urlencoded", err: jarm.ErrPlainResponse, status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := staticDecoder(t, tc.edit)
			target := tc.target
			if target == "" {
				target = "/cb"
			}
			r := httptest.NewRequest(tc.method, "https://client.example.com"+target, strings.NewReader(tc.body))
			if tc.ctype != "" {
				r.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := d.DecodeFormPost(httptest.NewRecorder(), r, testState)
			require.ErrorIs(t, err, tc.err)
			require.Nil(t, resp)
			require.Equal(t, tc.status, jarm.HTTPStatus(err))
		})
	}
}

func TestDecodeFormPostParsedForm(t *testing.T) {
	t.Parallel()
	d := staticDecoder(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader("response="+signStdlib(t, asEC(), "ec1", claims(nil))))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	require.NoError(t, r.ParseForm()) // as a middleware might
	resp, err := d.DecodeFormPost(httptest.NewRecorder(), r, testState)
	require.NoError(t, err)
	require.Equal(t, testCode, resp.Code)
}

// TestDecodeFormPostServer runs form_post.jwt over a real HTTP server: the
// handler decodes, answers with the status HTTPStatus suggests, and the body
// limit holds on the wire.
func TestDecodeFormPostServer(t *testing.T) {
	t.Parallel()
	d := staticDecoder(t, func(c *jarm.Config) { c.MaxBodyBytes = 4 << 10 })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := d.DecodeFormPost(w, r, testState)
		if err != nil {
			http.Error(w, "invalid authorization response", jarm.HTTPStatus(err))
			return
		}
		_, _ = io.WriteString(w, resp.Code)
	}))
	t.Cleanup(srv.Close)
	cases := []struct {
		name   string
		form   url.Values
		status int
		body   string
	}{
		{"valid", url.Values{"response": {signStdlib(t, asEC(), "ec1", claims(nil))}}, 200, testCode},
		{"expired", url.Values{"response": {signStdlib(t, asEC(), "ec1", claims(map[string]any{"exp": testNow.Unix() - 600}))}}, 400, ""},
		{"oversized", url.Values{"response": {strings.Repeat("a", 8<<10)}}, 413, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := srv.Client().PostForm(srv.URL+"/cb", tc.form)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tc.status, resp.StatusCode)
			if tc.body != "" {
				require.Equal(t, tc.body, string(b))
			}
		})
	}
}

func TestDecodeURLAndFragmentRejects(t *testing.T) {
	t.Parallel()
	tok := signStdlib(t, asEC(), "ec1", claims(nil))
	ctx := context.Background()
	d := staticDecoder(t, func(c *jarm.Config) { c.MaxBodyBytes = 4 << 10 })
	cases := []struct {
		name string
		run  func() (*jarm.Response, error)
		err  error
	}{
		{"query and fragment", func() (*jarm.Response, error) {
			return d.DecodeURL(ctx, "https://c.example/cb?response="+tok+"#response="+tok, testState)
		}, jarm.ErrMixedResponse},
		{"response in query, state in fragment", func() (*jarm.Response, error) {
			return d.DecodeURL(ctx, "https://c.example/cb?response="+tok+"#state="+testState, testState)
		}, jarm.ErrMixedResponse},
		{"URL over the limit", func() (*jarm.Response, error) {
			return d.DecodeURL(ctx, "https://c.example/cb?response="+strings.Repeat("a", 5<<10), testState)
		}, jarm.ErrTooLarge},
		{"unparsable URL", func() (*jarm.Response, error) { return d.DecodeURL(ctx, "https://c.example/%zz?response=x", testState) }, jarm.ErrMalformed},
		{"bad query encoding", func() (*jarm.Response, error) {
			return d.DecodeURL(ctx, "https://c.example/cb?response=%zz", testState)
		}, jarm.ErrMalformed},
		{"bad fragment encoding", func() (*jarm.Response, error) {
			return d.DecodeURL(ctx, "https://c.example/cb#response=%zz", testState)
		}, jarm.ErrMalformed},
		{"fragment over the limit", func() (*jarm.Response, error) {
			return d.DecodeFragment(ctx, "response="+strings.Repeat("a", 5<<10), testState)
		}, jarm.ErrTooLarge},
		{"fragment with state beside response", func() (*jarm.Response, error) {
			return d.DecodeFragment(ctx, "#response="+tok+"&state="+testState, testState)
		}, jarm.ErrMixedResponse},
		{"fragment with bad encoding", func() (*jarm.Response, error) { return d.DecodeFragment(ctx, "response=%", testState) }, jarm.ErrMalformed},
		{"plain fragment", func() (*jarm.Response, error) {
			return d.DecodeFragment(ctx, "code=x&state="+testState, testState)
		}, jarm.ErrPlainResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := tc.run()
			require.ErrorIs(t, err, tc.err)
			require.Nil(t, r)
		})
	}
}

func TestResponseModeOption(t *testing.T) {
	t.Parallel()
	conf := &oauth2.Config{ClientID: testClientID, Endpoint: oauth2.Endpoint{AuthURL: "https://as.example.com/authorize"}}
	for _, mode := range []string{jarm.ModeQueryJWT, jarm.ModeFragmentJWT, jarm.ModeFormPostJWT, jarm.ModeJWT} {
		u, err := url.Parse(conf.AuthCodeURL(testState, jarm.ResponseModeOption(mode)))
		require.NoError(t, err)
		require.Equal(t, mode, u.Query().Get("response_mode"))
	}
}

func TestHTTPStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 200},
		{"method", jarm.ErrMethodNotAllowed, 405},
		{"media type", jarm.ErrUnsupportedMediaType, 415},
		{"too large", jarm.ErrTooLarge, 413},
		{"keys unavailable", jarm.ErrKeySetUnavailable, 503},
		{"config", jarm.ErrInvalidConfig, 500},
		{"no expected state", jarm.ErrNoExpectedState, 500},
		{"signature", jarm.ErrInvalidSignature, 400},
		{"authorization error", &jarm.AuthorizationError{Err: &oautherr.Error{Code: "access_denied"}}, 400},
		{"other", errors.New("x"), 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, jarm.HTTPStatus(tc.err))
		})
	}
}

func TestAuthorizationErrorNilErr(t *testing.T) {
	t.Parallel()
	e := &jarm.AuthorizationError{}
	require.ErrorIs(t, e, jarm.ErrAuthorization)
	require.Equal(t, jarm.ErrAuthorization.Error(), e.Error())
}
