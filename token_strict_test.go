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
