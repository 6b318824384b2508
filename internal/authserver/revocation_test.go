package authserver_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

// TestRevocation covers RFC 7009 with client authentication: access tokens
// revoke alone, refresh tokens revoke their grant, revoked tokens are
// inactive at introspection and refused at /userinfo.
func TestRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints()
	revoke := func(form url.Values, hdr http.Header) httpResult {
		return e.post(nil, ep.Revocation, form, hdr)
	}
	basic := func() http.Header { return basicAuth(basicID, basicSecret) }
	userinfo := func(at string) httpResult {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ep.Userinfo, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+at)
		return e.do(e.hc, req)
	}
	tokens := func() map[string]any {
		code, verifier := e.basicCode()
		r := e.basicExchange(code, verifier, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		return decodeJSON(t, r)
	}

	t.Run("access token: that token only", func(t *testing.T) {
		tok := tokens()
		at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
		require.Equal(t, http.StatusOK, userinfo(at).status)
		r := revoke(url.Values{"token": {at}, "token_type_hint": {"access_token"}}, basic())
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "no-store", r.header.Get("Cache-Control"))
		require.Empty(t, r.body)
		e.requireActive(at, false)
		requireOAuthError(t, userinfo(at), http.StatusUnauthorized, "invalid_token")
		e.requireActive(rt, true)
		r = e.refresh(rt, nil)
		require.Equal(t, http.StatusOK, r.status, "the grant lives on")
		require.Equal(t, http.StatusOK, userinfo(decodeJSON(t, r)["access_token"].(string)).status)
	})
	t.Run("refresh token: its whole grant", func(t *testing.T) {
		tok := tokens()
		at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
		r := revoke(url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}}, basic())
		require.Equal(t, http.StatusOK, r.status)
		e.requireActive(rt, false)
		e.requireActive(at, false)
		requireOAuthError(t, userinfo(at), http.StatusUnauthorized, "invalid_token")
		requireOAuthError(t, e.refresh(rt, nil), 400, "invalid_grant")
	})
	t.Run("refresh token of a rotated grant", func(t *testing.T) {
		tok := tokens()
		r := e.refresh(tok["refresh_token"].(string), nil)
		require.Equal(t, http.StatusOK, r.status)
		tok2 := decodeJSON(t, r)
		require.Equal(t, http.StatusOK, revoke(url.Values{"token": {tok2["refresh_token"].(string)}}, basic()).status)
		e.requireActive(tok2["access_token"].(string), false)
		e.requireActive(tok["access_token"].(string), false)
	})
	t.Run("a wrong hint is only a hint", func(t *testing.T) {
		tok := tokens()
		at := tok["access_token"].(string)
		require.Equal(t, http.StatusOK, revoke(url.Values{"token": {at}, "token_type_hint": {"refresh_token"}}, basic()).status)
		e.requireActive(at, false)
		e.requireActive(tok["refresh_token"].(string), true)
	})
	t.Run("unknown hint", func(t *testing.T) {
		at := tokens()["access_token"].(string)
		requireOAuthError(t, revoke(url.Values{"token": {at}, "token_type_hint": {"id_token"}}, basic()), 400, "unsupported_token_type")
		e.requireActive(at, true)
	})
	t.Run("unknown, already revoked and other clients' tokens: 200, nothing done", func(t *testing.T) {
		require.Equal(t, http.StatusOK, revoke(url.Values{"token": {"nope"}}, basic()).status)
		at := tokens()["access_token"].(string)
		require.Equal(t, http.StatusOK, revoke(url.Values{"token": {at}}, basic()).status)
		require.Equal(t, http.StatusOK, revoke(url.Values{"token": {at}}, basic()).status)
		other := tokens()["access_token"].(string)
		r := revoke(url.Values{"token": {other}, "client_id": {postID}, "client_secret": {postSecret}}, nil)
		require.Equal(t, http.StatusOK, r.status)
		e.requireActive(other, true)
	})
	t.Run("client authentication", func(t *testing.T) {
		at := tokens()["access_token"].(string)
		requireOAuthError(t, revoke(url.Values{"token": {at}}, nil), 401, "invalid_client")
		requireOAuthError(t, revoke(url.Values{"token": {at}, "client_id": {basicID}}, nil), 401, "invalid_client")
		r := revoke(url.Values{"token": {at}}, basicAuth(basicID, "wrong"))
		requireOAuthError(t, r, 401, "invalid_client")
		require.NotEmpty(t, r.header.Get("WWW-Authenticate"))
		e.requireActive(at, true)
	})
	t.Run("strict request", func(t *testing.T) {
		at := tokens()["access_token"].(string)
		requireOAuthError(t, revoke(url.Values{"token": {at, at}}, basic()), 400, "invalid_request")
		requireOAuthError(t, revoke(url.Values{"token_type_hint": {"access_token"}}, basic()), 400, "invalid_request")
		req, err := http.NewRequest(http.MethodGet, ep.Revocation+"?token="+url.QueryEscape(at), nil)
		require.NoError(t, err)
		req.Header = basic()
		requireOAuthError(t, e.do(e.hc, req), http.StatusMethodNotAllowed, "invalid_request")
		e.requireActive(at, true)
	})
	t.Run("private_key_jwt client", func(t *testing.T) {
		verifier, challenge := pkce()
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), nil)
		r := e.exchange(nil, jwtID, code, verifier, nil)
		require.Equal(t, http.StatusOK, r.status)
		tok := decodeJSON(t, r)
		form := e.withAssertion(url.Values{"token": {tok["refresh_token"].(string)}}, jwtID)
		require.Equal(t, http.StatusOK, revoke(form, nil).status)
		e.requireActive(tok["access_token"].(string), false)
		e.requireActive(tok["id_token"].(string), false) // an ID token is not a token of this server's store
	})
	t.Run("tls_client_auth client at the mTLS alias", func(t *testing.T) {
		r := e.post(e.tlsHC, e.srv.MTLSEndpoints().Token, url.Values{"grant_type": {"client_credentials"}, "client_id": {tlsID}}, nil)
		require.Equal(t, http.StatusOK, r.status)
		at := decodeJSON(t, r)["access_token"].(string)
		r = e.post(e.tlsHC, e.srv.MTLSEndpoints().Revocation, url.Values{"token": {at}, "client_id": {tlsID}}, nil)
		require.Equal(t, http.StatusOK, r.status)
		e.requireActive(at, false)
	})
}

// TestClientCredentials covers RFC 6749 §4.4 with client authentication,
// DPoP (RFC 9449 §5) and certificate (RFC 8705 §3) binding, and scopes.
func TestClientCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == postID {
				c.Clients[i].Scopes = []string{"read", "write"}
			}
		}
	})
	ep := e.srv.Endpoints()
	cc := func(hc *http.Client, endpoint string, form url.Values, hdr http.Header) (httpResult, map[string]any) {
		t.Helper()
		form.Set("grant_type", "client_credentials")
		r := e.post(hc, endpoint, form, hdr)
		if r.status != http.StatusOK {
			return r, nil
		}
		return r, decodeJSON(t, r)
	}

	t.Run("bearer token, no refresh token, no ID token", func(t *testing.T) {
		_, tok := cc(nil, ep.Token, url.Values{"scope": {"read"}, "access_token_format": {"jwt"}}, basicAuth(basicID, basicSecret))
		require.NotNil(t, tok)
		require.Equal(t, "Bearer", tok["token_type"])
		require.Equal(t, float64(600), tok["expires_in"])
		require.Equal(t, "read", tok["scope"])
		require.NotContains(t, tok, "refresh_token")
		require.NotContains(t, tok, "id_token")
		_, c := e.verifyServerJWT(tok["access_token"].(string))
		require.Equal(t, basicID, c["sub"])
		require.Equal(t, basicID, c["client_id"])
		require.Equal(t, ep.Userinfo, c["aud"])
		require.NotContains(t, c, "cnf")
	})
	t.Run("DPoP-bound", func(t *testing.T) {
		dk := genEC(t)
		hdr := basicAuth(basicID, basicSecret)
		hdr.Set("DPoP", e.proof(dk, "POST", ep.Token))
		_, tok := cc(nil, ep.Token, url.Values{}, hdr)
		require.NotNil(t, tok)
		require.Equal(t, "DPoP", tok["token_type"])
		m := e.requireActive(tok["access_token"].(string), true)
		require.Equal(t, map[string]any{"jkt": jktOf(t, dk)}, m["cnf"])
	})
	t.Run("certificate-bound, both mTLS methods", func(t *testing.T) {
		for _, c := range []struct {
			id string
			hc *http.Client
			cn []byte
		}{{tlsID, e.tlsHC, e.tlsCert.Leaf.Raw}, {selfID, e.selfHC, e.selfCert.Leaf.Raw}} {
			_, tok := cc(c.hc, e.srv.MTLSEndpoints().Token, url.Values{"client_id": {c.id}}, nil)
			require.NotNil(t, tok, c.id)
			require.Equal(t, "Bearer", tok["token_type"])
			sum := sha256.Sum256(c.cn)
			require.Equal(t, map[string]any{"x5t#S256": b64(sum[:])}, e.requireActive(tok["access_token"].(string), true)["cnf"])
			r, _ := cc(e.hc, e.srv.MTLSEndpoints().Token, url.Values{"client_id": {c.id}}, nil)
			requireOAuthError(t, r, 401, "invalid_client")
		}
	})
	t.Run("private_key_jwt and client_secret_post", func(t *testing.T) {
		_, tok := cc(nil, ep.Token, e.withAssertion(url.Values{}, jwtID), nil)
		require.NotNil(t, tok)
		require.Equal(t, jwtID, e.requireActive(tok["access_token"].(string), true)["client_id"])
		_, tok = cc(nil, ep.Token, url.Values{"client_id": {postID}, "client_secret": {postSecret}, "scope": {"write read"}}, nil)
		require.NotNil(t, tok)
		require.Equal(t, "write read", tok["scope"])
	})
	t.Run("scope", func(t *testing.T) {
		for _, tt := range []struct {
			name, client, secret, scope string
		}{
			{"openid has no end-user", basicID, basicSecret, "openid"},
			{"malformed", basicID, basicSecret, "a  b"},
			{"not in Client.Scopes", postID, postSecret, "read admin"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				form := url.Values{"scope": {tt.scope}}
				hdr := basicAuth(tt.client, tt.secret)
				if tt.client == postID {
					form.Set("client_id", postID)
					form.Set("client_secret", postSecret)
					hdr = nil
				}
				r, _ := cc(nil, ep.Token, form, hdr)
				requireOAuthError(t, r, 400, "invalid_scope")
			})
		}
	})
	t.Run("Client.Scopes at the authorization endpoint", func(t *testing.T) {
		_, challenge := pkce()
		cb, err := e.authorize(directParams(postID, challenge, func(v url.Values) { v.Set("scope", "openid") }))
		require.NoError(t, err)
		require.Equal(t, "invalid_scope", cb.Params().Get("error"))
	})
}
