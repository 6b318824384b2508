package authserver_test

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIntrospection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints()
	dk := genEC(t)
	r := e.ccWithProof(e.proof(dk, "POST", ep.Token))
	require.Equal(t, http.StatusOK, r.status)
	dpopAT := decodeJSON(t, r)["access_token"].(string)
	r = e.post(e.tlsHC, ep.Token, url.Values{"grant_type": {"client_credentials"}, "client_id": {tlsID}, "scope": {"a b"}}, nil)
	require.Equal(t, http.StatusOK, r.status)
	certAT := decodeJSON(t, r)["access_token"].(string)

	t.Run("active DPoP-bound token", func(t *testing.T) {
		m := e.requireActive(dpopAT, true)
		require.Equal(t, map[string]any{"jkt": jktOf(t, dk)}, m["cnf"])
		require.Equal(t, "DPoP", m["token_type"])
		require.Equal(t, basicID, m["client_id"])
		require.Equal(t, e.srv.Issuer(), m["iss"])
		require.Equal(t, ep.Userinfo, m["aud"])
		now := float64(e.clock.Now().Unix())
		require.InDelta(t, now, m["iat"], 1)
		require.InDelta(t, now+600, m["exp"], 1)
	})
	t.Run("active certificate-bound token", func(t *testing.T) {
		m := e.requireActive(certAT, true)
		sum := sha256.Sum256(e.tlsCert.Leaf.Raw)
		require.Equal(t, map[string]any{"x5t#S256": b64(sum[:])}, m["cnf"])
		require.Equal(t, "Bearer", m["token_type"])
		require.Equal(t, "a b", m["scope"])
	})
	t.Run("unknown token is inactive, and nothing else is said", func(t *testing.T) {
		r := e.introspect("nope", "")
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, map[string]any{"active": false}, decodeJSON(t, r))
	})
	t.Run("expired token", func(t *testing.T) {
		e := newEnv(t, nil)
		at := decodeJSON(t, e.ccWithProof())["access_token"].(string)
		e.requireActive(at, true)
		e.clock.Advance(10*time.Minute + time.Second)
		e.requireActive(at, false)
	})
	t.Run("revoked token", func(t *testing.T) {
		at := decodeJSON(t, e.ccWithProof())["access_token"].(string)
		// Another client cannot revoke it (but is answered 200, RFC 7009 §2.2).
		r := e.post(nil, ep.Revocation, url.Values{"token": {at}, "client_id": {postID}, "client_secret": {postSecret}}, nil)
		require.Equal(t, http.StatusOK, r.status)
		e.requireActive(at, true)
		r = e.post(nil, ep.Revocation, url.Values{"token": {at}, "token_type_hint": {"access_token"}}, basicAuth(basicID, basicSecret))
		require.Equal(t, http.StatusOK, r.status)
		e.requireActive(at, false)
	})
	t.Run("revoking a refresh token revokes its grant", func(t *testing.T) {
		verifier, challenge := pkce()
		cb, err := e.authorize(directParams(basicID, challenge))
		require.NoError(t, err)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Params().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
		tok := decodeJSON(t, e.post(nil, ep.Token, form, basicAuth(basicID, basicSecret)))
		m := e.requireActive(tok["refresh_token"].(string), true)
		require.Equal(t, "refresh_token", m["token_type"])
		r := e.post(nil, ep.Revocation, url.Values{"token": {tok["refresh_token"].(string)}}, basicAuth(basicID, basicSecret))
		require.Equal(t, http.StatusOK, r.status)
		e.requireActive(tok["refresh_token"].(string), false)
		e.requireActive(tok["access_token"].(string), false)
	})
	t.Run("revocation needs client authentication", func(t *testing.T) {
		requireOAuthError(t, e.post(nil, ep.Revocation, url.Values{"token": {dpopAT}}, nil), 401, "invalid_client")
		requireOAuthError(t, e.post(nil, ep.Revocation, url.Values{}, basicAuth(basicID, basicSecret)), 400, "invalid_request")
	})
	t.Run("client that may not introspect", func(t *testing.T) {
		r := e.post(nil, ep.Introspection, url.Values{"token": {dpopAT}}, basicAuth(basicID, basicSecret))
		requireOAuthError(t, r, http.StatusForbidden, "unauthorized_client")
	})
	t.Run("unauthenticated", func(t *testing.T) {
		requireOAuthError(t, e.post(nil, ep.Introspection, url.Values{"token": {dpopAT}}, nil), 401, "invalid_client")
		r := e.post(nil, ep.Introspection, url.Values{"token": {dpopAT}}, basicAuth(rsID, "wrong"))
		requireOAuthError(t, r, 401, "invalid_client")
		require.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic "))
	})
	t.Run("no token", func(t *testing.T) {
		requireOAuthError(t, e.post(nil, ep.Introspection, url.Values{}, basicAuth(rsID, rsSecret)), 400, "invalid_request")
	})
}

// TestIntrospectionJWT checks the RFC 9701 response: it verifies with the
// server's JWK Set, has typ token-introspection+jwt, iss, aud and iat, and
// carries the RFC 7662 answer in token_introspection.
func TestIntrospectionJWT(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	dk := genEC(t)
	at := decodeJSON(t, e.ccWithProof(e.proof(dk, "POST", e.srv.Endpoints().Token)))["access_token"].(string)
	for _, tt := range []struct {
		name   string
		token  string
		active bool
	}{{"active", at, true}, {"inactive", "nope", false}} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.introspect(tt.token, "application/token-introspection+jwt")
			require.Equal(t, http.StatusOK, r.status)
			require.Equal(t, "application/token-introspection+jwt", r.header.Get("Content-Type"))
			j, c := e.verifyServerJWT(string(r.body))
			require.Equal(t, "token-introspection+jwt", j.Header.Typ)
			require.Equal(t, e.srv.Issuer(), c["iss"])
			require.Equal(t, rsID, c["aud"])
			require.InDelta(t, float64(e.clock.Now().Unix()), c["iat"], 1)
			ti, ok := c["token_introspection"].(map[string]any)
			require.True(t, ok)
			require.Equal(t, tt.active, ti["active"])
			if tt.active {
				require.Equal(t, map[string]any{"jkt": jktOf(t, dk)}, ti["cnf"])
				require.Equal(t, basicID, ti["client_id"])
			}
		})
	}
	t.Run("application/jwt returns the token as an RFC 9068 JWT", func(t *testing.T) {
		r := e.introspect(at, "application/jwt")
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "application/jwt", r.header.Get("Content-Type"))
		j, c := e.verifyServerJWT(string(r.body))
		require.Equal(t, "at+jwt", j.Header.Typ)
		require.Equal(t, map[string]any{"jkt": jktOf(t, dk)}, c["cnf"])
		r = e.introspect("nope", "application/jwt")
		require.Equal(t, map[string]any{"active": false}, decodeJSON(t, r))
	})
	t.Run("JSON by default and for application/json", func(t *testing.T) {
		for _, accept := range []string{"", "application/json", "text/html, application/json;q=0.9"} {
			r := e.introspect(at, accept)
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			require.Equal(t, true, decodeJSON(t, r)["active"])
		}
	})
}
