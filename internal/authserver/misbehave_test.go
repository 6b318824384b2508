package authserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// misbehaving starts a test environment with one switch on.
func misbehaving(t *testing.T, set func(*authserver.Misbehave), mods ...func(*authserver.Config)) *env {
	return newEnv(t, func(c *authserver.Config) {
		set(&c.Misbehave)
		for _, m := range mods {
			m(c)
		}
	})
}

// plainCallback runs a direct authorization request of the basic client.
func (e *env) plainCallback(mode string) url.Values {
	e.t.Helper()
	_, challenge := pkce()
	cb, err := e.authorize(directParams(basicID, challenge, func(v url.Values) {
		if mode != "" {
			v.Set("response_mode", mode)
		}
	}))
	require.NoError(e.t, err)
	return cb.Params()
}

// rawJARM returns the JARM response of the basic client, undecoded.
func (e *env) rawJARM() string {
	e.t.Helper()
	return e.plainCallback("jwt").Get("response")
}

// jarmClaims reads a JARM response's claims without verifying it.
func jarmClaims(t *testing.T, resp string) claims {
	t.Helper()
	j, err := jose.ParseCompact(resp)
	require.NoError(t, err)
	var c claims
	require.NoError(t, json.Unmarshal(j.Payload, &c))
	return c
}

func TestMisbehave(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		set   func(*authserver.Misbehave)
		check func(t *testing.T, e *env)
	}{
		{"WrongDiscoveryIssuer", func(m *authserver.Misbehave) { m.WrongDiscoveryIssuer = true }, func(t *testing.T, e *env) {
			md := e.metadata("/.well-known/oauth-authorization-server")
			require.NotEqual(t, e.srv.Issuer(), md["issuer"])
		}},
		{"WrongIssuer", func(m *authserver.Misbehave) { m.WrongIssuer = true }, func(t *testing.T, e *env) {
			p := e.plainCallback("")
			require.NotEmpty(t, p.Get("iss"))
			require.NotEqual(t, e.srv.Issuer(), p.Get("iss"))
			c := jarmClaims(t, e.rawJARM())
			require.NotEqual(t, e.srv.Issuer(), c["iss"])
		}},
		{"OmitIssuer", func(m *authserver.Misbehave) { m.OmitIssuer = true }, func(t *testing.T, e *env) {
			p := e.plainCallback("")
			require.NotEmpty(t, p.Get("code"))
			_, has := p["iss"]
			require.False(t, has)
			_, has = jarmClaims(t, e.rawJARM())["iss"]
			require.False(t, has)
		}},
		{"WrongState", func(m *authserver.Misbehave) { m.WrongState = true }, func(t *testing.T, e *env) {
			require.NotEqual(t, "st", e.plainCallback("").Get("state"))
		}},
		{"JARMForeignKey", func(m *authserver.Misbehave) { m.JARMForeignKey = true }, func(t *testing.T, e *env) {
			j, err := jose.ParseCompact(e.rawJARM())
			require.NoError(t, err)
			require.Equal(t, e.srv.KeyID(), j.Header.Kid, "same kid, other key")
			_, err = j.VerifyWith(context.Background(), jose.StaticKeys(e.serverKeys()), []string{jose.ES256})
			require.ErrorIs(t, err, jose.ErrInvalidSignature)
		}},
		{"JARMExpired", func(m *authserver.Misbehave) { m.JARMExpired = true }, func(t *testing.T, e *env) {
			j, err := jose.ParseCompact(e.rawJARM())
			require.NoError(t, err)
			var c jose.Claims
			require.NoError(t, json.Unmarshal(j.Payload, &c))
			require.ErrorIs(t, c.Validate(jose.Expected{Now: e.clock.Now()}), jose.ErrExpired)
		}},
		{"JARMWrongAudience", func(m *authserver.Misbehave) { m.JARMWrongAudience = true }, func(t *testing.T, e *env) {
			j, err := jose.ParseCompact(e.rawJARM())
			require.NoError(t, err)
			var c jose.Claims
			require.NoError(t, json.Unmarshal(j.Payload, &c))
			require.ErrorIs(t, c.Validate(jose.Expected{Now: e.clock.Now(), Audience: basicID}), jose.ErrAudience)
		}},
		{"JARMAlgNone", func(m *authserver.Misbehave) { m.JARMAlgNone = true }, func(t *testing.T, e *env) {
			_, err := jose.ParseCompact(e.rawJARM())
			require.ErrorIs(t, err, jose.ErrAlgorithmNotAllowed)
		}},
		{"JARMUnencrypted", func(m *authserver.Misbehave) { m.JARMUnencrypted = true }, func(t *testing.T, e *env) {
			_, challenge := pkce()
			ro := e.roClaims(jarmECID, challenge)
			ro["response_mode"] = "jwt"
			cb, err := e.authorize(url.Values{"client_id": {jarmECID}, "request": {e.requestObject(ro)}})
			require.NoError(t, err)
			require.Equal(t, 3, jose.Segments(cb.Params().Get("response")))
		}},
		{"PARExpiresIn", func(m *authserver.Misbehave) { m.PARExpiresIn = `"60"` }, func(t *testing.T, e *env) {
			r := e.post(nil, e.srv.Endpoints().PAR, url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI},
				"code_challenge": {b64(make([]byte, 32))}, "code_challenge_method": {"S256"}}, basicAuth(basicID, basicSecret))
			require.Equal(t, http.StatusCreated, r.status)
			require.Equal(t, "60", decodeJSON(t, r)["expires_in"], "a string, not a number")
		}},
		{"DemandNonceTwice", func(m *authserver.Misbehave) { m.DemandNonceTwice = true }, func(t *testing.T, e *env) {
			dk := genEC(t)
			ep := e.srv.Endpoints().Token
			r := e.ccWithProof(e.proof(dk, "POST", ep))
			requireOAuthError(t, r, 400, "use_dpop_nonce")
			r = e.ccWithProof(e.proof(dk, "POST", ep, withNonce(r.header.Get("DPoP-Nonce"))))
			requireOAuthError(t, r, 400, "use_dpop_nonce")
			require.NotEmpty(t, r.header.Get("DPoP-Nonce"))
		}},
		{"OmitNonceHeader", func(m *authserver.Misbehave) { m.OmitNonceHeader = true }, func(t *testing.T, e *env) {
			r := e.ccWithProof(e.proof(genEC(t), "POST", e.srv.Endpoints().Token))
			requireOAuthError(t, r, 400, "use_dpop_nonce")
			require.Empty(t, r.header.Get("DPoP-Nonce"))
		}},
		{"BearerTokenType", func(m *authserver.Misbehave) { m.BearerTokenType = true }, func(t *testing.T, e *env) {
			dk := genEC(t)
			tok := decodeJSON(t, e.ccWithProof(e.proof(dk, "POST", e.srv.Endpoints().Token)))
			require.Equal(t, "Bearer", tok["token_type"])
			m := e.requireActive(tok["access_token"].(string), true)
			require.Equal(t, map[string]any{"jkt": jktOf(t, dk)}, m["cnf"], "the token is DPoP-bound all the same")
		}},
		{"OmitTokenType", func(m *authserver.Misbehave) { m.OmitTokenType = true }, func(t *testing.T, e *env) {
			tok := decodeJSON(t, e.ccWithProof())
			require.NotEmpty(t, tok["access_token"])
			_, has := tok["token_type"]
			require.False(t, has)
		}},
		{"IntrospectionWrongType", func(m *authserver.Misbehave) { m.IntrospectionWrongType = true }, func(t *testing.T, e *env) {
			at := decodeJSON(t, e.ccWithProof())["access_token"].(string)
			j, _ := e.verifyServerJWT(string(e.introspect(at, "application/token-introspection+jwt").body))
			require.Equal(t, "JWT", j.Header.Typ)
		}},
		{"IntrospectionForeignKey", func(m *authserver.Misbehave) { m.IntrospectionForeignKey = true }, func(t *testing.T, e *env) {
			at := decodeJSON(t, e.ccWithProof())["access_token"].(string)
			j, err := jose.ParseCompact(string(e.introspect(at, "application/token-introspection+jwt").body))
			require.NoError(t, err)
			require.Equal(t, "token-introspection+jwt", j.Header.Typ)
			_, err = j.VerifyWith(context.Background(), jose.StaticKeys(e.serverKeys()), []string{jose.ES256})
			require.ErrorIs(t, err, jose.ErrInvalidSignature)
		}},
		{"IntrospectionWrongAudience", func(m *authserver.Misbehave) { m.IntrospectionWrongAudience = true }, func(t *testing.T, e *env) {
			at := decodeJSON(t, e.ccWithProof())["access_token"].(string)
			_, c := e.verifyServerJWT(string(e.introspect(at, "application/token-introspection+jwt").body))
			require.NotEqual(t, rsID, c["aud"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := misbehaving(t, tt.set, func(c *authserver.Config) {
				if tt.name == "DemandNonceTwice" || tt.name == "OmitNonceHeader" {
					c.DPoPNonce = authserver.NonceRequired
				}
			})
			tt.check(t, e)
		})
	}
}
