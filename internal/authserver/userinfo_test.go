package authserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// TestUserinfoAuthorizationHeader checks how /userinfo reads the
// Authorization field (RFC 6750 §2.1 and §3.1, RFC 9449 §7.1): one field,
// a known scheme in any case, one or more spaces and a b64token.
func TestUserinfoAuthorizationHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.ccWithProof()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	at := decodeJSON(t, r)["access_token"].(string)
	call := func(fields ...string) httpResult {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.srv.Endpoints().Userinfo, nil)
		require.NoError(t, err)
		for _, f := range fields {
			req.Header.Add("Authorization", f)
		}
		return e.do(e.hc, req)
	}
	for _, tt := range []struct {
		name  string
		field string
	}{
		{"canonical", "Bearer " + at},
		{"scheme in lower case", "bearer " + at},
		{"several spaces", "Bearer   " + at},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := call(tt.field)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		})
	}
	tests := []struct {
		name   string
		fields []string
		status int
		code   string
	}{
		{"no Authorization field", nil, http.StatusUnauthorized, ""},
		{"another scheme", []string{"Basic eDp5"}, http.StatusBadRequest, "invalid_request"},
		{"empty field", []string{""}, http.StatusBadRequest, "invalid_request"},
		{"two fields", []string{"Bearer " + at, "Bearer " + at}, http.StatusBadRequest, "invalid_request"},
		{"no token", []string{"Bearer"}, http.StatusBadRequest, "invalid_request"},
		{"token followed by more", []string{"Bearer " + at + " x"}, http.StatusBadRequest, "invalid_request"},
		{"token not a b64token", []string{"Bearer " + at + ",x"}, http.StatusBadRequest, "invalid_request"},
		{"token over 64 KiB", []string{"Bearer " + strings.Repeat("a", 64<<10+1)}, http.StatusBadRequest, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(tt.fields...)
			require.Equal(t, tt.status, r.status, "body: %s", r.body)
			if tt.code != "" {
				requireOAuthError(t, r, tt.status, tt.code)
			}
			cs, err := oautherr.ParseHeader(r.header)
			require.NoError(t, err)
			for _, scheme := range []string{"DPoP", "Bearer"} {
				c, ok := oautherr.Find(cs, scheme)
				require.True(t, ok, "no %s challenge in %v", scheme, r.header.Values("WWW-Authenticate"))
				require.Equal(t, tt.code, c.Get("error"))
			}
		})
	}
}
