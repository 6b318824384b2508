package authserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// TestCodeRedemptionRejected covers RFC 6749 §4.1.3, RFC 7636 §4.6 and
// RFC 9449 §10 at the token endpoint.
func TestCodeRedemptionRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints().Token

	t.Run("code reuse revokes the tokens of the first use", func(t *testing.T) {
		verifier, challenge := pkce()
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), nil)
		r := e.exchange(nil, jwtID, code, verifier, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		tok := decodeJSON(t, r)
		e.requireActive(tok["access_token"].(string), true)
		requireOAuthError(t, e.exchange(nil, jwtID, code, verifier, nil), 400, "invalid_grant")
		e.requireActive(tok["access_token"].(string), false)
		e.requireActive(tok["refresh_token"].(string), false)
	})
	t.Run("wrong verifier burns the code", func(t *testing.T) {
		verifier, challenge := pkce()
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), nil)
		other, _ := pkce()
		requireOAuthError(t, e.exchange(nil, jwtID, code, other, nil), 400, "invalid_grant")
		requireOAuthError(t, e.exchange(nil, jwtID, code, verifier, nil), 400, "invalid_grant")
	})
	t.Run("missing verifier", func(t *testing.T) {
		_, challenge := pkce()
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), nil)
		form := e.withAssertion(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, jwtID)
		requireOAuthError(t, e.post(nil, ep, form, nil), 400, "invalid_request")
	})
	t.Run("malformed verifier", func(t *testing.T) {
		_, challenge := pkce()
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), nil)
		requireOAuthError(t, e.exchange(nil, jwtID, code, "short", nil), 400, "invalid_grant")
	})
	t.Run("wrong redirect_uri", func(t *testing.T) {
		verifier, challenge := pkce()
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), nil)
		form := e.withAssertion(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
			"redirect_uri": {redirectURI + "/x"}}, jwtID)
		requireOAuthError(t, e.post(nil, ep, form, nil), 400, "invalid_grant")
	})
	t.Run("code of another client", func(t *testing.T) {
		verifier, challenge := pkce()
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), nil)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
		requireOAuthError(t, e.post(nil, ep, form, basicAuth(basicID, basicSecret)), 400, "invalid_grant")
	})
	t.Run("unknown code", func(t *testing.T) {
		verifier, _ := pkce()
		requireOAuthError(t, e.exchange(nil, jwtID, "nope", verifier, nil), 400, "invalid_grant")
	})
	t.Run("expired code", func(t *testing.T) {
		e := newEnv(t, nil)
		verifier, challenge := pkce()
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), nil)
		e.clock.Advance(61 * time.Second)
		requireOAuthError(t, e.exchange(nil, jwtID, code, verifier, nil), 400, "invalid_grant")
	})
	t.Run("dpop_jkt mismatch", func(t *testing.T) {
		verifier, challenge := pkce()
		ro := e.roClaims(jwtID, challenge)
		ro["dpop_jkt"] = jktOf(t, genEC(t))
		code, _ := e.code(jwtID, ro, nil)
		dk := genEC(t)
		requireOAuthError(t, e.exchange(nil, jwtID, code, verifier, dpopHeader(e.proof(dk, "POST", ep))), 400, "invalid_grant")
	})
	t.Run("dpop_jkt without a proof", func(t *testing.T) {
		verifier, challenge := pkce()
		ro := e.roClaims(jwtID, challenge)
		ro["dpop_jkt"] = jktOf(t, genEC(t))
		code, _ := e.code(jwtID, ro, nil)
		requireOAuthError(t, e.exchange(nil, jwtID, code, verifier, nil), 400, "invalid_grant")
	})
	t.Run("dpop_jkt honoured", func(t *testing.T) {
		verifier, challenge := pkce()
		dk := genEC(t)
		ro := e.roClaims(jwtID, challenge)
		ro["dpop_jkt"] = jktOf(t, dk)
		code, _ := e.code(jwtID, ro, nil)
		r := e.exchange(nil, jwtID, code, verifier, dpopHeader(e.proof(dk, "POST", ep)))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "DPoP", decodeJSON(t, r)["token_type"])
	})
	t.Run("proof at PAR binds the code", func(t *testing.T) {
		verifier, challenge := pkce()
		dk := genEC(t)
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), dpopHeader(e.proof(dk, "POST", e.srv.Endpoints().PAR)))
		requireOAuthError(t, e.exchange(nil, jwtID, code, verifier, dpopHeader(e.proof(genEC(t), "POST", ep))), 400, "invalid_grant")
	})
	t.Run("DPoP required by the client", func(t *testing.T) {
		verifier, challenge := pkce()
		ro := e.roClaims(fapiID, challenge)
		ro["response_mode"] = "jwt"
		uri := e.pushRO(fapiID, ro, nil)
		cb, err := e.authorize(url.Values{"client_id": {fapiID}, "request_uri": {uri}})
		require.NoError(t, err)
		_, c := e.decodeJARM(cb.Params().Get("response"), nil)
		requireOAuthError(t, e.exchange(nil, fapiID, c["code"].(string), verifier, nil), 400, "invalid_dpop_proof")
	})
	t.Run("grant type checks", func(t *testing.T) {
		requireOAuthError(t, e.post(nil, ep, url.Values{"grant_type": {"password"}}, basicAuth(basicID, basicSecret)), 400, "unsupported_grant_type")
		requireOAuthError(t, e.post(nil, ep, url.Values{}, basicAuth(basicID, basicSecret)), 400, "invalid_request")
		requireOAuthError(t, e.post(nil, ep, url.Values{"grant_type": {"client_credentials"}}, basicAuth(rsID, rsSecret)), 400, "unauthorized_client")
		requireOAuthError(t, e.post(nil, ep, e.withAssertion(url.Values{"grant_type": {"client_credentials"}}, fapiID), nil), 400, "unauthorized_client")
	})
}

// TestClientAuthenticationRejected tries wrong credentials for every method
// at the token endpoint.
func TestClientAuthenticationRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints().Token
	cc := func(mods ...func(url.Values)) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}}
		for _, m := range mods {
			m(v)
		}
		return v
	}
	otherPKI, err := authserver.NewPKI()
	require.NoError(t, err)
	sameSubjectOtherCA, err := otherPKI.IssueClientCertificate(pkix.Name{CommonName: tlsSubjectCN, Organization: []string{"test"}})
	require.NoError(t, err)
	otherSubject, err := e.srv.PKI().IssueClientCertificate(pkix.Name{CommonName: "someone-else", Organization: []string{"test"}})
	require.NoError(t, err)
	otherSelf, err := authserver.SelfSignedCertificate(selfID)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rawBasic := http.Header{"Authorization": {"Basic " + b64std(basicID+":"+basicSecret)}}
	asr := func(mods ...func(claims)) func(url.Values) {
		return func(v url.Values) { e.withAssertion(v, jwtID, mods...) }
	}
	withAssertionValue := func(a string) func(url.Values) {
		return func(v url.Values) {
			v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			v.Set("client_assertion", a)
		}
	}
	replayed := e.assertion(jwtID, e.jwtKey)
	requireOK := func(r httpResult) {
		t.Helper()
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	}
	requireOK(e.post(nil, ep, cc(withAssertionValue(replayed)), nil))
	requireOK(e.post(nil, ep, cc(), basicAuth(basicID, basicSecret)))
	requireOK(e.post(nil, ep, cc(func(v url.Values) { v.Set("client_id", postID); v.Set("client_secret", postSecret) }), nil))
	requireOK(e.post(e.tlsHC, ep, cc(func(v url.Values) { v.Set("client_id", tlsID) }), nil))
	requireOK(e.post(e.selfHC, ep, cc(func(v url.Values) { v.Set("client_id", selfID) }), nil))

	now := e.clock.Now()
	tests := []struct {
		name string
		hc   *http.Client
		form url.Values
		hdr  http.Header
		code string
	}{
		{"no credentials", nil, cc(), nil, "invalid_client"},
		{"unknown client", nil, cc(), basicAuth("nobody", "x"), "invalid_client"},
		{"basic: wrong secret", nil, cc(), basicAuth(basicID, "wrong"), "invalid_client"},
		{"basic: credentials not form-url-encoded", nil, cc(), rawBasic, "invalid_client"},
		{"basic: not base64", nil, cc(), http.Header{"Authorization": {"Basic !!!"}}, "invalid_client"},
		{"basic: for a client_secret_post client", nil, cc(), basicAuth(postID, postSecret), "invalid_client"},
		{"basic: client_id parameter differs", nil, cc(func(v url.Values) { v.Set("client_id", postID) }), basicAuth(basicID, basicSecret), "invalid_client"},
		{"basic and post together", nil, cc(func(v url.Values) { v.Set("client_secret", basicSecret) }), basicAuth(basicID, basicSecret), "invalid_request"},
		{"bearer Authorization header", nil, cc(), http.Header{"Authorization": {"Bearer x"}}, "invalid_request"},
		{"basic: two Authorization fields", nil, cc(), http.Header{"Authorization": {basicAuth(basicID, basicSecret).Get("Authorization"),
			basicAuth(basicID, basicSecret).Get("Authorization")}}, "invalid_request"},
		{"basic: token followed by more", nil, cc(), http.Header{"Authorization": {basicAuth(basicID, basicSecret).Get("Authorization") + " x"}}, "invalid_client"},
		{"basic: no token", nil, cc(), http.Header{"Authorization": {"Basic"}}, "invalid_client"},
		{"basic: token over 64 KiB", nil, cc(), http.Header{"Authorization": {"Basic " + strings.Repeat("A", 64<<10+4)}}, "invalid_client"},
		{"empty Authorization field", nil, cc(), http.Header{"Authorization": {""}}, "invalid_request"},
		{"post: wrong secret", nil, cc(func(v url.Values) { v.Set("client_id", postID); v.Set("client_secret", "wrong") }), nil, "invalid_client"},
		{"post: for a client_secret_basic client", nil, cc(func(v url.Values) { v.Set("client_id", basicID); v.Set("client_secret", basicSecret) }), nil, "invalid_client"},
		{"post: client_id only", nil, cc(func(v url.Values) { v.Set("client_id", postID) }), nil, "invalid_client"},
		{"private_key_jwt: replayed jti", nil, cc(withAssertionValue(replayed)), nil, "invalid_client"},
		{"private_key_jwt: unknown key", nil, cc(withAssertionValue(sign(t, genEC(t), jose.SignerOptions{}, claims{"iss": jwtID, "sub": jwtID,
			"aud": e.srv.Issuer(), "jti": randomID(), "exp": now.Add(time.Minute).Unix()}))), nil, "invalid_client"},
		{"private_key_jwt: ES384", nil, cc(withAssertionValue(sign(t, p384, jose.SignerOptions{}, claims{"iss": jwtID, "sub": jwtID,
			"aud": e.srv.Issuer(), "jti": randomID(), "exp": now.Add(time.Minute).Unix()}))), nil, "invalid_client"},
		{"private_key_jwt: alg none", nil, cc(withAssertionValue(unsigned(t, map[string]any{"alg": "none"}, claims{"iss": jwtID, "sub": jwtID,
			"aud": e.srv.Issuer(), "jti": randomID(), "exp": now.Add(time.Minute).Unix()}))), nil, "invalid_client"},
		{"private_key_jwt: aud is the token endpoint", nil, cc(asr(func(c claims) { c["aud"] = ep })), nil, "invalid_client"},
		{"private_key_jwt: aud is an array", nil, cc(asr(func(c claims) { c["aud"] = []string{e.srv.Issuer()} })), nil, "invalid_client"},
		{"private_key_jwt: no aud", nil, cc(asr(func(c claims) { delete(c, "aud") })), nil, "invalid_client"},
		{"private_key_jwt: expired", nil, cc(asr(func(c claims) { c["exp"] = now.Add(-time.Minute).Unix() })), nil, "invalid_client"},
		{"private_key_jwt: no exp", nil, cc(asr(func(c claims) { delete(c, "exp") })), nil, "invalid_client"},
		{"private_key_jwt: lifetime too long", nil, cc(asr(func(c claims) { c["exp"] = now.Add(time.Hour).Unix() })), nil, "invalid_client"},
		{"private_key_jwt: no jti", nil, cc(asr(func(c claims) { delete(c, "jti") })), nil, "invalid_client"},
		{"private_key_jwt: iss differs from sub", nil, cc(asr(func(c claims) { c["iss"] = basicID })), nil, "invalid_client"},
		{"private_key_jwt: iat in the future", nil, cc(asr(func(c claims) { c["iat"] = now.Add(time.Minute).Unix() })), nil, "invalid_client"},
		{"private_key_jwt: nbf in the future", nil, cc(asr(func(c claims) { c["nbf"] = now.Add(time.Minute).Unix() })), nil, "invalid_client"},
		{"private_key_jwt: DPoP proof as assertion", nil, cc(withAssertionValue(sign(t, e.jwtKey, jose.SignerOptions{Type: "dpop+jwt"}, claims{
			"iss": jwtID, "sub": jwtID, "aud": e.srv.Issuer(), "jti": randomID(), "exp": now.Add(time.Minute).Unix()}))), nil, "invalid_client"},
		{"private_key_jwt: wrong assertion type", nil, cc(asr(), func(v url.Values) { v.Set("client_assertion_type", "urn:x") }), nil, "invalid_client"},
		{"private_key_jwt: malformed", nil, cc(withAssertionValue("a.b.c")), nil, "invalid_client"},
		{"private_key_jwt: client_id parameter differs", nil, cc(asr(), func(v url.Values) { v.Set("client_id", fapiID) }), nil, "invalid_client"},
		{"private_key_jwt: with a client secret too", nil, cc(asr(), func(v url.Values) { v.Set("client_secret", "x") }), nil, "invalid_request"},
		{"tls_client_auth: no certificate", nil, cc(func(v url.Values) { v.Set("client_id", tlsID) }), nil, "invalid_client"},
		{"tls_client_auth: same subject from another CA", e.srv.HTTPClientWithCertificate(sameSubjectOtherCA), cc(func(v url.Values) { v.Set("client_id", tlsID) }), nil, "invalid_client"},
		{"tls_client_auth: other subject", e.srv.HTTPClientWithCertificate(otherSubject), cc(func(v url.Values) { v.Set("client_id", tlsID) }), nil, "invalid_client"},
		{"tls_client_auth: self-signed certificate", e.selfHC, cc(func(v url.Values) { v.Set("client_id", tlsID) }), nil, "invalid_client"},
		{"self_signed_tls_client_auth: no certificate", nil, cc(func(v url.Values) { v.Set("client_id", selfID) }), nil, "invalid_client"},
		{"self_signed_tls_client_auth: other certificate", e.srv.HTTPClientWithCertificate(otherSelf), cc(func(v url.Values) { v.Set("client_id", selfID) }), nil, "invalid_client"},
		{"self_signed_tls_client_auth: CA-issued certificate", e.tlsHC, cc(func(v url.Values) { v.Set("client_id", selfID) }), nil, "invalid_client"},
		{"self_signed_tls_client_auth: with a secret", e.selfHC, cc(func(v url.Values) { v.Set("client_id", selfID); v.Set("client_secret", "x") }), nil, "invalid_client"},
		{"none: with a secret", nil, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {publicID}, "client_secret": {"x"}}, nil, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(tt.hc, ep, tt.form, tt.hdr)
			status := http.StatusUnauthorized
			if tt.code != "invalid_client" {
				status = http.StatusBadRequest
			}
			requireOAuthError(t, r, status, tt.code)
			if status == http.StatusUnauthorized && tt.hdr.Get("Authorization") != "" {
				require.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic "))
			}
		})
	}
}

// TestRefresh covers rotation, reuse detection, scope narrowing and the
// binding of public clients' refresh tokens.
func TestRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints().Token
	refresh := func(hc *http.Client, rt string, hdr http.Header, mods ...func(url.Values)) httpResult {
		v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		for _, m := range mods {
			m(v)
		}
		return e.post(hc, ep, v, hdr)
	}
	basicTokens := func() map[string]any {
		verifier, challenge := pkce()
		cb, err := e.authorize(directParams(basicID, challenge, func(v url.Values) { v.Set("scope", "read write") }))
		require.NoError(t, err)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Params().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
		r := e.post(nil, ep, form, basicAuth(basicID, basicSecret))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		return decodeJSON(t, r)
	}

	t.Run("rotation and reuse", func(t *testing.T) {
		tok := basicTokens()
		rt1 := tok["refresh_token"].(string)
		r := refresh(nil, rt1, basicAuth(basicID, basicSecret))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		tok2 := decodeJSON(t, r)
		rt2 := tok2["refresh_token"].(string)
		require.NotEqual(t, rt1, rt2)
		e.requireActive(rt1, false)
		e.requireActive(rt2, true)
		// Reusing the rotated token revokes the grant.
		requireOAuthError(t, refresh(nil, rt1, basicAuth(basicID, basicSecret)), 400, "invalid_grant")
		e.requireActive(rt2, false)
		e.requireActive(tok2["access_token"].(string), false)
		e.requireActive(tok["access_token"].(string), false)
		requireOAuthError(t, refresh(nil, rt2, basicAuth(basicID, basicSecret)), 400, "invalid_grant")
	})
	t.Run("scope", func(t *testing.T) {
		tok := basicTokens()
		requireOAuthError(t, refresh(nil, tok["refresh_token"].(string), basicAuth(basicID, basicSecret),
			func(v url.Values) { v.Set("scope", "read admin") }), 400, "invalid_scope")
		r := refresh(nil, tok["refresh_token"].(string), basicAuth(basicID, basicSecret), func(v url.Values) { v.Set("scope", "read") })
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "read", decodeJSON(t, r)["scope"])
	})
	t.Run("another client's refresh token", func(t *testing.T) {
		tok := basicTokens()
		requireOAuthError(t, refresh(nil, tok["refresh_token"].(string), nil, func(v url.Values) {
			v.Set("client_id", postID)
			v.Set("client_secret", postSecret)
		}), 400, "invalid_grant")
	})
	t.Run("expired refresh token", func(t *testing.T) {
		e := newEnv(t, func(c *authserver.Config) { c.RefreshTokenLifetime = time.Minute })
		verifier, challenge := pkce()
		cb, err := e.authorize(directParams(basicID, challenge))
		require.NoError(t, err)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Params().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
		r := e.post(nil, e.srv.Endpoints().Token, form, basicAuth(basicID, basicSecret))
		require.Equal(t, http.StatusOK, r.status)
		e.clock.Advance(2 * time.Minute)
		v := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {decodeJSON(t, r)["refresh_token"].(string)}}
		requireOAuthError(t, e.post(nil, e.srv.Endpoints().Token, v, basicAuth(basicID, basicSecret)), 400, "invalid_grant")
	})
	t.Run("public client refresh token is bound to the DPoP key", func(t *testing.T) {
		dk := genEC(t)
		verifier, challenge := pkce()
		cb, err := e.authorize(directParams(publicID, challenge))
		require.NoError(t, err)
		r := e.exchange(nil, publicID, cb.Params().Get("code"), verifier, dpopHeader(e.proof(dk, "POST", ep)))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		rt := decodeJSON(t, r)["refresh_token"].(string)
		m := e.requireActive(rt, true)
		require.Equal(t, map[string]any{"jkt": jktOf(t, dk)}, m["cnf"])
		pub := func(v url.Values) { v.Set("client_id", publicID) }
		requireOAuthError(t, refresh(nil, rt, dpopHeader(e.proof(genEC(t), "POST", ep)), pub), 400, "invalid_grant")
		requireOAuthError(t, refresh(nil, rt, nil, pub), 400, "invalid_dpop_proof")
		r = refresh(nil, rt, dpopHeader(e.proof(dk, "POST", ep)), pub)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "DPoP", decodeJSON(t, r)["token_type"])
	})
	t.Run("a DPoP grant is not refreshed without a proof", func(t *testing.T) {
		dk := genEC(t)
		verifier, challenge := pkce()
		code, _ := e.code(jwtID, e.roClaims(jwtID, challenge), nil)
		r := e.exchange(nil, jwtID, code, verifier, dpopHeader(e.proof(dk, "POST", ep)))
		require.Equal(t, http.StatusOK, r.status)
		rt := decodeJSON(t, r)["refresh_token"].(string)
		requireOAuthError(t, e.post(nil, ep, e.withAssertion(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, jwtID), nil), 400, "invalid_grant")
		// A confidential client's refresh token is not bound to the key: a
		// new key is fine (RFC 9449 §5).
		r = e.post(nil, ep, e.withAssertion(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, jwtID),
			dpopHeader(e.proof(genEC(t), "POST", ep)))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	})
	t.Run("certificate-bound refresh", func(t *testing.T) {
		r := e.post(e.selfHC, ep, url.Values{"grant_type": {"client_credentials"}, "client_id": {selfID}}, nil)
		require.Equal(t, http.StatusOK, r.status)
		require.Nil(t, decodeJSON(t, r)["refresh_token"], "client credentials issue no refresh token")
	})
}

// TestAccessTokenFormats checks opaque and RFC 9068 JWT access tokens.
func TestAccessTokenFormats(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints().Token
	dk := genEC(t)
	r := e.post(nil, ep, url.Values{"grant_type": {"client_credentials"}, "access_token_format": {"jwt"}, "scope": {"read"}},
		http.Header{"Authorization": basicAuth(basicID, basicSecret)["Authorization"], "Dpop": {e.proof(dk, "POST", ep)}})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	tok := decodeJSON(t, r)
	require.Equal(t, "DPoP", tok["token_type"])
	j, c := e.verifyServerJWT(tok["access_token"].(string))
	require.Equal(t, "at+jwt", j.Header.Typ)
	require.Equal(t, e.srv.Issuer(), c["iss"])
	require.Equal(t, basicID, c["client_id"])
	require.Equal(t, basicID, c["sub"])
	require.Equal(t, "read", c["scope"])
	require.Equal(t, e.srv.Endpoints().Userinfo, c["aud"])
	require.NotEmpty(t, c["jti"])
	require.Equal(t, map[string]any{"jkt": jktOf(t, dk)}, c["cnf"])
	e.requireActive(tok["access_token"].(string), true)

	r = e.post(nil, ep, url.Values{"grant_type": {"client_credentials"}}, basicAuth(basicID, basicSecret))
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, 1, jose.Segments(decodeJSON(t, r)["access_token"].(string)), "opaque by default")

	requireOAuthError(t, e.post(nil, ep, url.Values{"grant_type": {"client_credentials"}, "access_token_format": {"xml"}},
		basicAuth(basicID, basicSecret)), 400, "invalid_request")

	t.Run("per client", func(t *testing.T) {
		e := newEnv(t, func(c *authserver.Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == basicID {
					c.Clients[i].AccessTokenFormat = authserver.FormatJWT
				}
			}
		})
		r := e.post(nil, e.srv.Endpoints().Token, url.Values{"grant_type": {"client_credentials"}}, basicAuth(basicID, basicSecret))
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, 3, jose.Segments(decodeJSON(t, r)["access_token"].(string)))
	})
}

func TestMTLSBindingRequiresCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) {
		c.Clients = append(c.Clients, authserver.Client{ID: "bound-secret", AuthMethod: authserver.AuthClientSecretBasic, Secret: "x",
			GrantTypes: []string{authserver.GrantClientCredentials}, RequireMTLSBinding: true})
	})
	ep := e.srv.Endpoints().Token
	form := url.Values{"grant_type": {"client_credentials"}}
	requireOAuthError(t, e.post(nil, ep, form, basicAuth("bound-secret", "x")), 400, "invalid_request")
	r := e.post(e.tlsHC, ep, form, basicAuth("bound-secret", "x"))
	require.Equal(t, http.StatusOK, r.status)
	m := e.requireActive(decodeJSON(t, r)["access_token"].(string), true)
	require.NotNil(t, m["cnf"])
}
