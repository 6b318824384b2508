package hardened_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
)

// rewriteToken is a transport that lets the token request reach the
// server (DPoP nonce and client authentication included) and replaces the
// body of its successful response.
type rewriteToken struct {
	base  http.RoundTripper
	path  string
	body  func(token string) string
	calls int
}

func (rt *rewriteToken) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(r)
	if err != nil || r.URL.Path != rt.path || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	rt.calls++
	_ = resp.Body.Close()
	body := rt.body("at-" + strconv.Itoa(rt.calls))
	resp.Body = io.NopCloser(strings.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	resp.Header.Set("Content-Type", "application/json")
	return resp, nil
}

// The token response is re-read with the strict JSON parser: a member
// repeated, or repeated in another case, is refused with
// ErrInvalidResponse although x/oauth2's encoding/json would take the last
// (or case-folded) value.
func TestTokenResponseStrictJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		body func(token string) string
		ok   bool
	}{
		{"well-formed", func(tok string) string {
			return `{"access_token":"` + tok + `","token_type":"DPoP","expires_in":60}`
		}, true},
		{"duplicate access_token", func(tok string) string {
			return `{"access_token":"a","access_token":"` + tok + `","token_type":"DPoP","expires_in":60}`
		}, false},
		{"case variant of access_token", func(tok string) string {
			return `{"Access_Token":"a","access_token":"` + tok + `","token_type":"DPoP","expires_in":60}`
		}, false},
		{"duplicate token_type", func(tok string) string {
			return `{"access_token":"` + tok + `","token_type":"Bearer","token_type":"DPoP","expires_in":60}`
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			rt := &rewriteToken{base: e.hc.Transport, path: mustURL(t, e.srv.Endpoints().Token).Path, body: tc.body}
			conf := e.conf()
			conf.HTTPClient = &http.Client{Transport: rt}
			tok, err := conf.ClientCredentials(t.Context()).Token()
			require.Equal(t, 1, rt.calls, "the server issued a token and the body was replaced")
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, "at-1", tok.AccessToken)
				return
			}
			require.ErrorIs(t, err, hardened.ErrInvalidResponse)
			require.Nil(t, tok)
			require.NotContains(t, err.Error(), "at-1", "no token in the error")
		})
	}
}

// The token response's expires_in: a negative value is refused with
// ErrNegativeExpiresIn (x/oauth2 would return a token already expired, and
// refresh before every request), below -2^31 too, where x/oauth2's int32
// wraps it around; 0 means no expiry. A value x/oauth2 cannot parse is
// ErrInvalidResponse, and x/oauth2's error, which quotes the value whole (a
// megabyte here), reaches the caller bounded.
func TestTokenResponseExpiresIn(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("7", 900_000)
	body := func(expiresIn string) func(string) string {
		return func(tok string) string {
			return `{"access_token":"` + tok + `","token_type":"DPoP"` + expiresIn + `}`
		}
	}
	cases := []struct {
		name      string
		expiresIn string // the member, with its comma
		err       error
		noExpiry  bool
	}{
		{name: "60 seconds", expiresIn: `,"expires_in":60`},
		{name: "60 seconds in a string", expiresIn: `,"expires_in":"60"`},
		{name: "absent means no expiry", noExpiry: true},
		{name: "0 means no expiry", expiresIn: `,"expires_in":0`, noExpiry: true},
		{name: "negative", expiresIn: `,"expires_in":-1`, err: hardened.ErrNegativeExpiresIn},
		{name: "negative in a string", expiresIn: `,"expires_in":"-60"`, err: hardened.ErrNegativeExpiresIn},
		{name: "negative wrapping to positive in an int32", expiresIn: `,"expires_in":-4294967196`, err: hardened.ErrNegativeExpiresIn},
		{name: "negative wrapping to 0 in an int32", expiresIn: `,"expires_in":-4294967296`, err: hardened.ErrNegativeExpiresIn},
		{name: "megabyte number", expiresIn: `,"expires_in":` + huge, err: hardened.ErrInvalidResponse},
		{name: "megabyte string", expiresIn: `,"expires_in":"x` + huge + `\u001b[2J"`, err: hardened.ErrInvalidResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			rt := &rewriteToken{base: e.hc.Transport, path: mustURL(t, e.srv.Endpoints().Token).Path, body: body(tc.expiresIn)}
			conf := e.conf()
			conf.HTTPClient = &http.Client{Transport: rt}
			tok, err := conf.ClientCredentials(t.Context()).Token()
			require.Equal(t, 1, rt.calls, "the server issued a token and the body was replaced")
			if tc.err == nil {
				require.NoError(t, err)
				require.Equal(t, tc.noExpiry, tok.Expiry.IsZero())
				require.True(t, tok.Valid())
				return
			}
			require.ErrorIs(t, err, tc.err)
			require.ErrorIs(t, err, hardened.ErrInvalidResponse)
			require.Nil(t, tok)
			require.LessOrEqual(t, len(err.Error()), 2048, "server text in the error is bounded")
			require.NotContains(t, err.Error(), "\x1b", "server text in the error is sanitized")
			require.NotContains(t, err.Error(), "at-1", "no token in the error")
		})
	}
}
