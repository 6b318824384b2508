package hardened_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
)

// refreshServer answers every refresh itself, as a token endpoint that
// rotates refresh tokens does, and counts the refresh tokens it receives.
type refreshServer struct {
	base   http.RoundTripper
	path   string
	status int
	body   string

	mu   sync.Mutex
	sent []string // the refresh_token of each refresh
}

func (s *refreshServer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != s.path {
		return s.base.RoundTrip(r)
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.sent = append(s.sent, r.PostForm.Get("refresh_token"))
	s.mu.Unlock()
	return &http.Response{
		StatusCode: s.status,
		Header:     http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}},
		Body:       io.NopCloser(strings.NewReader(s.body)),
		Request:    r,
	}, nil
}

func (s *refreshServer) refreshes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent...)
}

// A refresh the server answered with success (and so may have rotated the
// refresh token) but that fails a check ends the source: the old refresh
// token is never sent again, since a server detecting reuse would take it
// for a stolen token's replay and revoke the grant (RFC 9700 §4.14.2).
// Later calls return ErrTokenExpired without a request. A refresh the
// server refused, or that got no answer, keeps the refresh token.
func TestRefreshRefusedAnswerEndsTheSource(t *testing.T) {
	t.Parallel()
	const rt = "the-refresh-token"
	for _, tc := range []struct {
		name   string
		status int
		body   string
		err    error
		keep   bool // the refresh token is sent again on the next call
	}{
		{name: "token_type Bearer where DPoP was used", status: 200,
			body: `{"access_token":"at2","token_type":"Bearer","refresh_token":"rotated","expires_in":60}`,
			err:  hardened.ErrNotSenderConstrained},
		{name: "negative expires_in", status: 200,
			body: `{"access_token":"at2","token_type":"DPoP","refresh_token":"rotated","expires_in":-5}`,
			err:  hardened.ErrNegativeExpiresIn},
		{name: "duplicate member", status: 200,
			body: `{"access_token":"at2","access_token":"at3","token_type":"DPoP","refresh_token":"rotated"}`,
			err:  hardened.ErrInvalidResponse},
		{name: "no access_token", status: 200,
			body: `{"token_type":"DPoP","refresh_token":"rotated"}`,
			err:  hardened.ErrInvalidResponse},
		{name: "ID token that is not a JWT", status: 200,
			body: `{"access_token":"at2","token_type":"DPoP","refresh_token":"rotated","id_token":"x"}`,
			err:  hardened.ErrInvalidIDToken},
		{name: "OAuth error: kept", status: 400,
			body: `{"error":"invalid_request"}`, err: hardened.ErrRequestFailed, keep: true},
		{name: "server error: kept", status: 503,
			body: `unavailable`, err: hardened.ErrRequestFailed, keep: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			srv := &refreshServer{base: e.hc.Transport, path: mustURL(t, e.srv.Endpoints().Token).Path, status: tc.status, body: tc.body}
			conf := e.conf()
			conf.HTTPClient = &http.Client{Transport: srv}
			var refreshed int
			conf.OnRefresh = func(*oauth2.Token) { refreshed++ }
			expired := &oauth2.Token{AccessToken: "at", TokenType: "DPoP", RefreshToken: rt, Expiry: time.Now().Add(-time.Minute)}
			ts := conf.TokenSource(t.Context(), expired)

			_, err := ts.Token()
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, []string{rt}, srv.refreshes())

			_, err = ts.Token()
			if tc.keep {
				require.ErrorIs(t, err, tc.err)
				require.Equal(t, []string{rt, rt}, srv.refreshes(), "a refused refresh keeps the refresh token")
			} else {
				require.ErrorIs(t, err, hardened.ErrTokenExpired)
				require.Equal(t, []string{rt}, srv.refreshes(), "the refresh token is not sent again")
			}
			require.Zero(t, refreshed, "OnRefresh sees no refused token")
		})
	}
}
