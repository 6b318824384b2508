package hardened_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
)

// A token endpoint that answers 200 with a megabyte-long "expires_in"
// (a JSON number of 900,000 digits, or a string) makes x/oauth2's JSON
// decoding fail with an error quoting the whole value; tokenErr wraps that
// error as is, so server text of any size reaches the caller's error (and
// its logs), although "server text is bounded (1 KiB) everywhere".
func TestReviewASTokenErrorUnboundedServerText(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("7", 900_000)
	cases := map[string]func(tok string) string{
		"number": func(tok string) string {
			return `{"access_token":"` + tok + `","token_type":"DPoP","expires_in":` + huge + `}`
		},
		"string": func(tok string) string {
			return `{"access_token":"` + tok + `","token_type":"DPoP","expires_in":"x` + huge + `"}`
		},
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			rt := &rewriteToken{base: e.hc.Transport, path: mustURL(t, e.srv.Endpoints().Token).Path, body: body}
			conf := e.conf()
			conf.HTTPClient.Transport = rt
			tok, err := conf.ClientCredentials(t.Context()).Token()
			require.Nil(t, tok)
			require.ErrorIs(t, err, hardened.ErrInvalidResponse)
			require.LessOrEqual(t, len(err.Error()), 2048, "server text in the error is bounded")
		})
	}
}

// A server that answers with a malformed status line of megabytes: net/http
// quotes the whole line in its error, which the module wraps as is
// (discovery here; PAR, token, revocation, key set fetches alike), so the
// error text holds megabytes of server-chosen text.
func TestReviewASTransportErrorUnboundedServerText(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = buf.WriteString(strings.Repeat("Z", 2<<20) + "\r\n\r\n")
		_ = buf.Flush()
	}))
	t.Cleanup(srv.Close)
	d := &hardened.Discovery{HTTPClient: srv.Client()}
	md, err := d.Discover(t.Context(), srv.URL)
	require.Nil(t, md)
	require.ErrorIs(t, err, hardened.ErrMetadataUnavailable)
	require.LessOrEqual(t, len(err.Error()), 2048, "server text in the error is bounded")
}
