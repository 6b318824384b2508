package authserver_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
)

func TestPARSucceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, challenge := pkce()
	r := e.post(nil, e.srv.Endpoints().PAR,
		e.withAssertion(url.Values{"request": {e.requestObject(e.roClaims(jwtID, challenge))}}, jwtID), nil)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))
	m := decodeJSON(t, r)
	require.Equal(t, float64(60), m["expires_in"])
	require.True(t, strings.HasPrefix(m["request_uri"].(string), "urn:ietf:params:oauth:request_uri:"))
}

// TestRequestObjectRejected pushes request objects that break one rule each
// (RFC 9101 §6, FAPI 2.0 Message Signing §5.3.1).
func TestRequestObjectRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	stranger := genEC(t)
	_, challenge := pkce()
	now := e.clock.Now()
	mod := func(f func(claims)) func() string {
		return func() string {
			c := e.roClaims(jwtID, challenge)
			f(c)
			return e.requestObject(c)
		}
	}
	tests := []struct {
		name    string
		request func() string
	}{
		{"wrong typ", func() string {
			return sign(t, e.jwtKey, jose.SignerOptions{Type: "JWT"}, e.roClaims(jwtID, challenge))
		}},
		{"no typ", func() string { return sign(t, e.jwtKey, jose.SignerOptions{}, e.roClaims(jwtID, challenge)) }},
		{"wrong iss", mod(func(c claims) { c["iss"] = basicID })},
		{"no iss", mod(func(c claims) { delete(c, "iss") })},
		{"wrong aud", mod(func(c claims) { c["aud"] = e.srv.Endpoints().PAR })},
		{"no aud", mod(func(c claims) { delete(c, "aud") })},
		{"expired", mod(func(c claims) { c["exp"] = now.Add(-time.Minute).Unix() })},
		{"no exp", mod(func(c claims) { delete(c, "exp") })},
		{"exp more than 60 minutes after nbf", mod(func(c claims) { c["exp"] = now.Add(61 * time.Minute).Unix() })},
		{"no nbf", mod(func(c claims) { delete(c, "nbf") })},
		{"nbf in the future", mod(func(c claims) { c["nbf"] = now.Add(time.Minute).Unix() })},
		{"no jti", mod(func(c claims) { delete(c, "jti") })},
		{"client_id mismatch", mod(func(c claims) { c["client_id"] = basicID })},
		{"no client_id", mod(func(c claims) { delete(c, "client_id") })},
		{"request_uri inside", mod(func(c claims) { c["request_uri"] = "urn:ietf:params:oauth:request_uri:x" })},
		{"request inside", mod(func(c claims) { c["request"] = "x.y.z" })},
		{"unsigned (alg none)", func() string {
			return unsigned(t, map[string]any{"alg": "none", "typ": "oauth-authz-req+jwt"}, e.roClaims(jwtID, challenge))
		}},
		{"unknown key", func() string {
			return sign(t, stranger, jose.SignerOptions{Type: "oauth-authz-req+jwt"}, e.roClaims(jwtID, challenge))
		}},
		{"ES384 outside the allow-list", func() string {
			return sign(t, p384, jose.SignerOptions{Type: "oauth-authz-req+jwt"}, e.roClaims(jwtID, challenge))
		}},
		{"RS256 outside the allow-list", func() string {
			return sign(t, rsaKey(), jose.SignerOptions{Type: "oauth-authz-req+jwt", Algorithm: jose.RS256}, e.roClaims(jwtID, challenge))
		}},
		{"garbage", func() string { return "not.a.jwt" }},
		{"encrypted request object to an unknown key", func() string {
			jwe, err := jose.Encrypt([]byte(e.requestObject(e.roClaims(jwtID, challenge))), stranger.Public(), jose.EncryptOptions{ContentType: "JWT"})
			require.NoError(t, err)
			return jwe
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := e.withAssertion(url.Values{"request": {tt.request()}}, jwtID)
			r := e.post(nil, e.srv.Endpoints().PAR, form, nil)
			requireOAuthError(t, r, http.StatusBadRequest, "invalid_request_object")
		})
	}

	t.Run("replayed jti", func(t *testing.T) {
		ro := e.requestObject(e.roClaims(jwtID, challenge))
		e.push(nil, e.withAssertion(url.Values{"request": {ro}}, jwtID), nil)
		r := e.post(nil, e.srv.Endpoints().PAR, e.withAssertion(url.Values{"request": {ro}}, jwtID), nil)
		requireOAuthError(t, r, http.StatusBadRequest, "invalid_request_object")
	})
	t.Run("request object of another client", func(t *testing.T) {
		ro := e.requestObject(e.roClaims(jwtID, challenge))
		form := url.Values{"request": {ro}, "client_id": {fapiID}}
		form = e.withAssertion(form, fapiID)
		r := e.post(nil, e.srv.Endpoints().PAR, form, nil)
		requireOAuthError(t, r, http.StatusBadRequest, "invalid_request_object")
	})
}

// TestEncryptedRequestObject sends nested JWTs encrypted to the server's
// keys (ECDH-ES by default, RSA-OAEP-256 when configured).
func TestEncryptedRequestObject(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) {
		c.RequestObjectKeys = []crypto.PrivateKey{genEC(t), rsaKey()}
	})
	_, challenge := pkce()
	encrypt := func(alg, enc, cty string) string {
		k := e.encKey(alg)
		out, err := jose.Encrypt([]byte(e.requestObject(e.roClaims(encROID, challenge))), k.Key,
			jose.EncryptOptions{KeyAlgorithm: alg, ContentEncryption: enc, KeyID: k.KeyID, ContentType: cty})
		require.NoError(t, err)
		return out
	}
	for _, alg := range []string{jose.ECDHES, jose.RSAOAEP256} {
		t.Run(alg, func(t *testing.T) {
			e.push(nil, e.withAssertion(url.Values{"request": {encrypt(alg, jose.A256GCM, "JWT")}}, encROID), nil)
		})
	}
	tests := []struct {
		name    string
		request func() string
		code    string
	}{
		{"plain request object when encryption is required", func() string {
			return e.requestObject(e.roClaims(encROID, challenge))
		}, "invalid_request_object"},
		{"not a nested JWT (no cty)", func() string { return encrypt(jose.ECDHES, jose.A256GCM, "") }, "invalid_request_object"},
		{"enc outside the allow-list", func() string { return encrypt(jose.ECDHES, jose.A128CBCHS256, "JWT") }, "invalid_request_object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(nil, e.srv.Endpoints().PAR, e.withAssertion(url.Values{"request": {tt.request()}}, encROID), nil)
			requireOAuthError(t, r, http.StatusBadRequest, tt.code)
		})
	}
}

// TestPARRejected covers client authentication and parameter checks at the
// PAR endpoint (RFC 9126 §2).
func TestPARRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, challenge := pkce()
	ep := e.srv.Endpoints().PAR
	plain := func(mods ...func(url.Values)) url.Values {
		v := url.Values{"client_id": {basicID}, "response_type": {"code"}, "redirect_uri": {redirectURI},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		for _, m := range mods {
			m(v)
		}
		return v
	}
	basic := basicAuth(basicID, basicSecret)
	replayed := e.assertion(jwtID, e.jwtKey)
	withReplayed := func() url.Values {
		return url.Values{"request": {e.requestObject(e.roClaims(jwtID, challenge))},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {replayed}}
	}
	e.push(nil, withReplayed(), nil)

	tests := []struct {
		name   string
		form   url.Values
		hdr    http.Header
		status int
		code   string
	}{
		{"missing client authentication", url.Values{"request": {e.requestObject(e.roClaims(jwtID, challenge))}}, nil, 401, "invalid_client"},
		{"client_id only for a private_key_jwt client", url.Values{"client_id": {jwtID},
			"request": {e.requestObject(e.roClaims(jwtID, challenge))}}, nil, 401, "invalid_client"},
		{"replayed assertion jti", withReplayed(), nil, 401, "invalid_client"},
		{"request_uri inside a push", plain(func(v url.Values) { v.Set("request_uri", "urn:ietf:params:oauth:request_uri:abc") }), basic, 400, "invalid_request"},
		{"PKCE plain", plain(func(v url.Values) { v.Set("code_challenge_method", "plain") }), basic, 400, "invalid_request"},
		{"PKCE method missing (plain by default)", plain(func(v url.Values) { v.Del("code_challenge_method") }), basic, 400, "invalid_request"},
		{"PKCE challenge missing", plain(func(v url.Values) { v.Del("code_challenge") }), basic, 400, "invalid_request"},
		{"PKCE challenge malformed", plain(func(v url.Values) { v.Set("code_challenge", "short") }), basic, 400, "invalid_request"},
		{"redirect_uri not registered", plain(func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }), basic, 400, "invalid_request"},
		{"redirect_uri missing", plain(func(v url.Values) { v.Del("redirect_uri") }), basic, 400, "invalid_request"},
		{"response_type token", plain(func(v url.Values) { v.Set("response_type", "token") }), basic, 400, "unsupported_response_type"},
		{"unknown response_mode", plain(func(v url.Values) { v.Set("response_mode", "web_message") }), basic, 400, "invalid_request"},
		{"malformed scope", plain(func(v url.Values) { v.Set("scope", "a  b") }), basic, 400, "invalid_scope"},
		{"malformed dpop_jkt", plain(func(v url.Values) { v.Set("dpop_jkt", "abc") }), basic, 400, "invalid_request"},
		{"unsigned request for a JAR client", e.withAssertion(url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}, jwtID), nil, 400, "invalid_request"},
		{"wrong secret", plain(), basicAuth(basicID, "nope"), 401, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireOAuthError(t, e.post(nil, ep, tt.form, tt.hdr), tt.status, tt.code)
		})
	}

	t.Run("dpop_jkt differs from the proof", func(t *testing.T) {
		dk := genEC(t)
		form := plain(func(v url.Values) { v.Set("dpop_jkt", jktOf(t, genEC(t))) })
		hdr := basicAuth(basicID, basicSecret)
		hdr.Set("DPoP", e.proof(dk, "POST", ep))
		requireOAuthError(t, e.post(nil, ep, form, hdr), 400, "invalid_request")
	})
	t.Run("GET", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, ep, nil)
		require.NoError(t, err)
		requireOAuthError(t, e.do(e.hc, req), http.StatusMethodNotAllowed, "invalid_request")
	})
	t.Run("JSON body", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, ep, strings.NewReader(`{"client_id":"x"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		requireOAuthError(t, e.do(e.hc, req), 400, "invalid_request")
	})
	t.Run("repeated parameter", func(t *testing.T) {
		form := plain()
		form.Add("scope", "a")
		form.Add("scope", "b")
		requireOAuthError(t, e.post(nil, ep, form, basic), 400, "invalid_request")
	})
	t.Run("oversized body", func(t *testing.T) {
		form := plain(func(v url.Values) { v.Set("state", strings.Repeat("a", 70<<10)) })
		requireOAuthError(t, e.post(nil, ep, form, basic), http.StatusRequestEntityTooLarge, "invalid_request")
	})
}
