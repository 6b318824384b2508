package phantom

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An entry from a shared cache (Redis) is held to this gateway's own
// rules: two gateways of different audiences sharing a store, or anyone
// who can write to it, must not get a token admitted that this gateway's
// introspection would refuse. Nothing is asked of the authorization server.
func TestSharedCacheEntryIsCheckedAgain(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tc := range []struct {
		name   string
		claims map[string]any
		reason Reason
		err    error
	}{
		{"another audience", map[string]any{"aud": "https://other-api.example.com"}, ReasonWrongAudience, ErrInvalidToken},
		{"another issuer", map[string]any{"iss": "https://evil.example.com/"}, ReasonInvalidToken, ErrInvalidToken},
		{"a refresh token", map[string]any{"token_type": "refresh_token"}, ReasonInvalidToken, ErrInvalidToken},
		{"not yet valid", map[string]any{"nbf": now.Add(time.Hour).Unix()}, ReasonInvalidToken, ErrInvalidToken},
		{"active false", map[string]any{"active": false}, ReasonInactiveToken, ErrInactiveToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			claims := map[string]any{"active": true, "iss": testIssuer, "aud": testAudience, "sub": "alice", "exp": now.Add(time.Hour).Unix()}
			for k, v := range tc.claims {
				claims[k] = v
			}
			raw, err := json.Marshal(claims)
			require.NoError(t, err)
			as := newFakeAS(t)
			g := as.gateway(ModeIntrospectionJWT)
			// What redisstore hands back: no parsed claims attached.
			g.Cache = fixedCache{&Entry{Active: true, Claims: raw, JWT: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", Expires: now.Add(time.Minute)}}
			up := &upstream{}
			rec := serve(g.Wrap(up), request("GET", "/", "Bearer tok"))
			require.Equal(t, http.StatusUnauthorized, rec.Code)
			require.Zero(t, up.count(), "never reaches the upstream")
			_, verr := g.Verify(request("GET", "/", "Bearer tok"))
			requireRefusal(t, verr, http.StatusUnauthorized, tc.reason, tc.err)
			require.Zero(t, as.calls.Load(), "decided from the entry, without the authorization server")
		})
	}
}
