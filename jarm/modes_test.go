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

	"github.com/hardened-oauth/hardened/jarm"
)

func TestDecodeRequestRejects(t *testing.T) {
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
		{name: "GET reads the query, not a body", method: http.MethodGet, ctype: "application/x-www-form-urlencoded", body: body, err: jarm.ErrPlainResponse, status: 400},
		{name: "PUT", method: http.MethodPut, ctype: "application/x-www-form-urlencoded", body: body, err: jarm.ErrMethodNotAllowed, status: 405},
		{name: "HEAD", method: http.MethodHead, target: "/cb?response=" + tok, err: jarm.ErrMethodNotAllowed, status: 405},
		{name: "PUT with a bad query", method: http.MethodPut, target: "/cb?response=%zz", err: jarm.ErrMethodNotAllowed, status: 405},
		{name: "GET with a query over the limit", method: http.MethodGet, target: "/cb?response=" + strings.Repeat("a", 3<<10),
			edit: func(c *jarm.Config) { c.MaxBodyBytes = 2 << 10 }, err: jarm.ErrTooLarge, status: 413},
		{name: "GET with a bad query encoding", method: http.MethodGet, target: "/cb?response=%zz", err: jarm.ErrMalformed, status: 400},
		{name: "GET with a repeated response", method: http.MethodGet, target: "/cb?response=" + tok + "&response=" + tok, err: jarm.ErrMalformed, status: 400},
		{name: "GET with state beside response", method: http.MethodGet, target: "/cb?response=" + tok + "&state=" + testState, err: jarm.ErrMalformed, status: 400},
		{name: "JSON body", method: http.MethodPost, ctype: "application/json", body: `{"response":"x"}`, err: jarm.ErrUnsupportedMediaType, status: 415},
		{name: "multipart body", method: http.MethodPost, ctype: "multipart/form-data; boundary=x", body: body, err: jarm.ErrUnsupportedMediaType, status: 415},
		{name: "no content type", method: http.MethodPost, body: body, err: jarm.ErrUnsupportedMediaType, status: 415},
		{name: "body over the limit", method: http.MethodPost, ctype: "application/x-www-form-urlencoded", body: body + "&pad=" + strings.Repeat("a", 2<<10),
			edit: func(c *jarm.Config) { c.MaxBodyBytes = 2 << 10 }, err: jarm.ErrTooLarge, status: 413},
		{name: "response in the URL too", method: http.MethodPost, target: "/cb?response=" + tok, ctype: "application/x-www-form-urlencoded", body: body, err: jarm.ErrMalformed, status: 400},
		{name: "state in the URL", method: http.MethodPost, target: "/cb?state=" + testState, ctype: "application/x-www-form-urlencoded", body: body, err: jarm.ErrMalformed, status: 400},
		{name: "code beside response in the body", method: http.MethodPost, ctype: "application/x-www-form-urlencoded", body: body + "&code=x", err: jarm.ErrMalformed, status: 400},
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
			resp, err := d.DecodeRequest(context.Background(), r, testState)
			require.ErrorIs(t, err, tc.err)
			require.Nil(t, resp)
			require.Equal(t, tc.status, jarm.HTTPStatus(err))
		})
	}
}

func TestDecodeRequestParsedForm(t *testing.T) {
	t.Parallel()
	d := staticDecoder(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader("response="+signStdlib(t, asEC(), "ec1", claims(nil))))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	require.NoError(t, r.ParseForm()) // as a middleware might
	resp, err := d.DecodeRequest(context.Background(), r, testState)
	require.NoError(t, err)
	require.Equal(t, testCode, resp.Code)
}

// TestDecodeRequestServer runs form_post.jwt and query.jwt over a real HTTP
// server: the handler decodes, answers with the status HTTPStatus suggests,
// and the body limit holds on the wire.
func TestDecodeRequestServer(t *testing.T) {
	t.Parallel()
	d := staticDecoder(t, func(c *jarm.Config) { c.MaxBodyBytes = 4 << 10 })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := d.DecodeRequest(r.Context(), r, testState)
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
		for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodPut} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				t.Parallel()
				var resp *http.Response
				var err error
				switch method {
				case http.MethodPost:
					resp, err = srv.Client().PostForm(srv.URL+"/cb", tc.form)
				case http.MethodGet:
					resp, err = srv.Client().Get(srv.URL + "/cb?" + tc.form.Encode())
				default:
					req, rerr := http.NewRequest(method, srv.URL+"/cb?"+tc.form.Encode(), nil)
					require.NoError(t, rerr)
					resp, err = srv.Client().Do(req)
				}
				require.NoError(t, err)
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				if method == http.MethodPut {
					require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
					return
				}
				require.Equal(t, tc.status, resp.StatusCode)
				if tc.body != "" {
					require.Equal(t, tc.body, string(b))
				}
			})
		}
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
		}, jarm.ErrMalformed},
		{"response in query, state in fragment", func() (*jarm.Response, error) {
			return d.DecodeURL(ctx, "https://c.example/cb?response="+tok+"#state="+testState, testState)
		}, jarm.ErrMalformed},
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
		}, jarm.ErrMalformed},
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
		{"authorization error", &jarm.AuthorizationError{Code: "access_denied"}, 400},
		{"other", errors.New("x"), 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, jarm.HTTPStatus(tc.err))
		})
	}
}
