package authserver_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// ccWithProof is a client_credentials request of the basic client with the
// given DPoP header values.
func (e *env) ccWithProof(proofs ...string) httpResult {
	hdr := basicAuth(basicID, basicSecret)
	for _, p := range proofs {
		hdr.Add("DPoP", p)
	}
	return e.post(nil, e.srv.Endpoints().Token, url.Values{"grant_type": {"client_credentials"}}, hdr)
}

// TestDPoPProofRejected breaks each check of RFC 9449 §4.3 once.
func TestDPoPProofRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints().Token
	dk := genEC(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	now := e.clock.Now()
	good := func() claims {
		return claims{"jti": randomID(), "htm": "POST", "htu": ep, "iat": e.clock.Now().Unix()}
	}
	hdr := func(mods ...func(map[string]any)) map[string]any {
		h := map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwkMap(t, dk.Public())}
		for _, m := range mods {
			m(h)
		}
		return h
	}
	without := func(k string) func(claims) { return func(c claims) { delete(c, k) } }
	set := func(k string, v any) func(claims) { return func(c claims) { c[k] = v } }
	replayed := e.proof(dk, "POST", ep)
	require.Equal(t, http.StatusOK, e.ccWithProof(replayed).status)

	tests := []struct {
		name   string
		proofs []string
	}{
		{"1: two DPoP headers", []string{e.proof(dk, "POST", ep), e.proof(dk, "POST", ep)}},
		{"2: not a JWT", []string{"not-a-jwt"}},
		{"2: a JWE", []string{"a.b.c.d.e"}},
		{"2: bad base64", []string{"e30.e30.!!"}},
		{"3: no jwk", []string{sign(t, dk, jose.SignerOptions{Type: "dpop+jwt"}, good())}},
		{"3: no jti", []string{e.proof(dk, "POST", ep, without("jti"))}},
		{"3: no htm", []string{e.proof(dk, "POST", ep, without("htm"))}},
		{"3: no htu", []string{e.proof(dk, "POST", ep, without("htu"))}},
		{"3: no iat", []string{e.proof(dk, "POST", ep, without("iat"))}},
		{"4: typ JWT", []string{sign(t, dk, jose.SignerOptions{Type: "JWT", EmbedJWK: true}, good())}},
		{"4: no typ", []string{sign(t, dk, jose.SignerOptions{EmbedJWK: true}, good())}},
		{"5: alg none", []string{unsigned(t, hdr(func(h map[string]any) { h["alg"] = "none" }), good())}},
		{"5: alg HS256", []string{signWithHeader(t, dk, hdr(func(h map[string]any) { h["alg"] = "HS256" }), good())}},
		{"5: ES384 outside the allow-list", []string{sign(t, p384, jose.SignerOptions{Type: "dpop+jwt", EmbedJWK: true}, good())}},
		{"6: signature by another key", []string{signWithHeader(t, genEC(t), hdr(), good())}},
		{"6: alg does not fit the key", []string{signWithHeader(t, dk, hdr(func(h map[string]any) { h["alg"] = "PS256" }), good())}},
		{"7: private key in jwk", []string{signWithHeader(t, dk, hdr(func(h map[string]any) {
			d, err := dk.Bytes()
			require.NoError(t, err)
			h["jwk"].(map[string]any)["d"] = b64(d)
		}), good())}},
		{"8: htm GET", []string{e.proof(dk, "GET", ep)}},
		{"8: htm lower case", []string{e.proof(dk, "post", ep)}},
		{"9: htu of another endpoint", []string{e.proof(dk, "POST", e.srv.Endpoints().PAR)}},
		{"9: htu with a query", []string{e.proof(dk, "POST", ep+"?a=b")}},
		{"9: htu with a fragment", []string{e.proof(dk, "POST", ep+"#f")}},
		{"9: htu of another host", []string{e.proof(dk, "POST", strings.Replace(ep, "127.0.0.1", "localhost", 1))}},
		{"9: htu with http scheme", []string{e.proof(dk, "POST", strings.Replace(ep, "https:", "http:", 1))}},
		{"9: htu not a URL", []string{e.proof(dk, "POST", "token")}},
		{"10: nonce never issued", []string{e.proof(dk, "POST", ep, withNonce("made-up"))}},
		{"11: iat too old", []string{e.proof(dk, "POST", ep, set("iat", now.Add(-2*time.Minute).Unix()))}},
		{"11: iat in the future", []string{e.proof(dk, "POST", ep, set("iat", now.Add(time.Minute).Unix()))}},
		{"11: iat a string", []string{e.proof(dk, "POST", ep, set("iat", "now"))}},
		{"jti replayed", []string{replayed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireOAuthError(t, e.ccWithProof(tt.proofs...), http.StatusBadRequest, "invalid_dpop_proof")
		})
	}

	t.Run("htu normalization", func(t *testing.T) {
		u, err := url.Parse(ep)
		require.NoError(t, err)
		upper := "HTTPS://" + strings.ToUpper(u.Host) + u.Path
		r := e.ccWithProof(e.proof(dk, "POST", upper))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "DPoP", decodeJSON(t, r)["token_type"])
	})
	t.Run("EdDSA and PS256 are accepted", func(t *testing.T) {
		_, ed, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		for _, k := range []crypto.Signer{ed, rsaKey()} {
			r := e.ccWithProof(e.proof(k, "POST", ep))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			m := e.requireActive(decodeJSON(t, r)["access_token"].(string), true)
			require.Equal(t, map[string]any{"jkt": jktOf(t, k)}, m["cnf"])
		}
	})
}

// TestDPoPNonces covers the three nonce policies (RFC 9449 §8).
func TestDPoPNonces(t *testing.T) {
	t.Parallel()
	dk := genEC(t)

	t.Run("required", func(t *testing.T) {
		e := newEnv(t, func(c *authserver.Config) { c.DPoPNonce = authserver.NonceRequired })
		ep := e.srv.Endpoints().Token
		r := e.ccWithProof(e.proof(dk, "POST", ep))
		requireOAuthError(t, r, http.StatusBadRequest, "use_dpop_nonce")
		n1 := r.header.Get("DPoP-Nonce")
		require.NotEmpty(t, n1)
		requireOAuthError(t, e.ccWithProof(e.proof(dk, "POST", ep, withNonce(n1+"x"))), 400, "use_dpop_nonce")
		r = e.ccWithProof(e.proof(dk, "POST", ep, withNonce(n1)))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		n2 := r.header.Get("DPoP-Nonce")
		require.NotEmpty(t, n2)
		require.NotEqual(t, n1, n2, "a fresh nonce in every response")
		// A nonce may be used again while it lives.
		require.Equal(t, http.StatusOK, e.ccWithProof(e.proof(dk, "POST", ep, withNonce(n1))).status)
		// Errors carry a nonce too.
		r = e.post(nil, ep, url.Values{}, nil)
		require.NotEmpty(t, r.header.Get("DPoP-Nonce"))
		// Nonces expire.
		e.clock.Advance(6 * time.Minute)
		requireOAuthError(t, e.ccWithProof(e.proof(dk, "POST", ep, withNonce(n2))), 400, "use_dpop_nonce")
		// A client without DPoP is not asked for a nonce.
		require.Equal(t, http.StatusOK, e.ccWithProof().status)
	})
	t.Run("optional", func(t *testing.T) {
		e := newEnv(t, func(c *authserver.Config) { c.DPoPNonce = authserver.NonceOptional })
		ep := e.srv.Endpoints().Token
		r := e.ccWithProof(e.proof(dk, "POST", ep))
		require.Equal(t, http.StatusOK, r.status)
		n := r.header.Get("DPoP-Nonce")
		require.NotEmpty(t, n)
		require.Equal(t, http.StatusOK, e.ccWithProof(e.proof(dk, "POST", ep, withNonce(n))).status)
		requireOAuthError(t, e.ccWithProof(e.proof(dk, "POST", ep, withNonce("stale"))), 400, "use_dpop_nonce")
	})
	t.Run("off", func(t *testing.T) {
		e := newEnv(t, nil)
		ep := e.srv.Endpoints().Token
		r := e.ccWithProof(e.proof(dk, "POST", ep))
		require.Equal(t, http.StatusOK, r.status)
		require.Empty(t, r.header.Get("DPoP-Nonce"))
	})
	t.Run("userinfo nonces are not valid at the token endpoint", func(t *testing.T) {
		e := newEnv(t, func(c *authserver.Config) {
			c.DPoPNonce = authserver.NonceRequired
			c.UserinfoDPoPNonce = authserver.NonceRequired
		})
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.srv.Endpoints().Userinfo, nil)
		require.NoError(t, err)
		rsNonce := e.do(e.hc, req).header.Get("DPoP-Nonce")
		require.NotEmpty(t, rsNonce)
		requireOAuthError(t, e.ccWithProof(e.proof(dk, "POST", e.srv.Endpoints().Token, withNonce(rsNonce))), 400, "use_dpop_nonce")
	})
}

// TestUserinfo checks how the protected resource enforces token binding.
func TestUserinfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ui := e.srv.Endpoints().Userinfo
	dk := genEC(t)
	r := e.ccWithProof(e.proof(dk, "POST", e.srv.Endpoints().Token))
	require.Equal(t, http.StatusOK, r.status)
	dpopAT := decodeJSON(t, r)["access_token"].(string)
	r = e.ccWithProof()
	require.Equal(t, http.StatusOK, r.status)
	bearerAT := decodeJSON(t, r)["access_token"].(string)
	ath := func(at string) func(claims) {
		sum := sha256.Sum256([]byte(at))
		return func(c claims) { c["ath"] = b64(sum[:]) }
	}
	call := func(authz string, proofs ...string) httpResult {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ui, nil)
		require.NoError(t, err)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		for _, p := range proofs {
			req.Header.Add("DPoP", p)
		}
		return e.do(e.hc, req)
	}
	challengeOf := func(r httpResult, scheme string) oautherr.Challenge {
		t.Helper()
		cs, err := oautherr.ParseHeader(r.header)
		require.NoError(t, err)
		c, ok := oautherr.Find(cs, scheme)
		require.True(t, ok, "no %s challenge in %v", scheme, r.header.Values("WWW-Authenticate"))
		return c
	}

	r = call("DPoP "+dpopAT, e.proof(dk, "GET", ui, ath(dpopAT)))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, basicID, decodeJSON(t, r)["sub"])
	require.Equal(t, http.StatusOK, call("Bearer "+bearerAT).status)

	tests := []struct {
		name   string
		authz  string
		proofs []string
		scheme string
		code   string
	}{
		{"DPoP token as Bearer", "Bearer " + dpopAT, nil, "DPoP", "invalid_token"},
		{"DPoP token without a proof", "DPoP " + dpopAT, nil, "DPoP", "invalid_dpop_proof"},
		{"proof without ath", "DPoP " + dpopAT, []string{e.proof(dk, "GET", ui)}, "DPoP", "invalid_dpop_proof"},
		{"proof with the ath of another token", "DPoP " + dpopAT, []string{e.proof(dk, "GET", ui, ath(bearerAT))}, "DPoP", "invalid_dpop_proof"},
		{"proof by another key", "DPoP " + dpopAT, []string{e.proof(genEC(t), "GET", ui, ath(dpopAT))}, "DPoP", "invalid_token"},
		{"proof for the token endpoint", "DPoP " + dpopAT, []string{e.proof(dk, "POST", e.srv.Endpoints().Token, ath(dpopAT))}, "DPoP", "invalid_dpop_proof"},
		{"proof with the wrong method", "DPoP " + dpopAT, []string{e.proof(dk, "POST", ui, ath(dpopAT))}, "DPoP", "invalid_dpop_proof"},
		{"Bearer token with the DPoP scheme", "DPoP " + bearerAT, []string{e.proof(dk, "GET", ui, ath(bearerAT))}, "Bearer", "invalid_token"},
		{"unknown token", "Bearer nope", nil, "Bearer", "invalid_token"},
		{"unknown scheme", "Basic eDp5", nil, "DPoP", "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(tt.authz, tt.proofs...)
			status := http.StatusUnauthorized
			if tt.code == "invalid_request" {
				status = http.StatusBadRequest
			}
			requireOAuthError(t, r, status, tt.code)
			c := challengeOf(r, tt.scheme)
			require.Equal(t, tt.code, c.Get("error"))
			if tt.scheme == "DPoP" {
				require.Equal(t, "ES256 PS256 EdDSA", c.Get("algs"))
			}
		})
	}
	t.Run("no credentials", func(t *testing.T) {
		r := call("")
		require.Equal(t, http.StatusUnauthorized, r.status)
		require.Empty(t, challengeOf(r, "DPoP").Get("error"))
		require.Empty(t, challengeOf(r, "Bearer").Get("error"))
	})
	t.Run("refresh token is not an access token", func(t *testing.T) {
		verifier, challenge := pkce()
		cb, err := e.authorize(directParams(basicID, challenge))
		require.NoError(t, err)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Params().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
		r := e.post(nil, e.srv.Endpoints().Token, form, basicAuth(basicID, basicSecret))
		require.Equal(t, http.StatusOK, r.status)
		requireOAuthError(t, call("Bearer "+decodeJSON(t, r)["refresh_token"].(string)), 401, "invalid_token")
	})
	t.Run("expired token", func(t *testing.T) {
		e2 := newEnv(t, nil)
		r := e2.ccWithProof()
		at := decodeJSON(t, r)["access_token"].(string)
		e2.clock.Advance(11 * time.Minute)
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e2.srv.Endpoints().Userinfo, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+at)
		requireOAuthError(t, e2.do(e2.hc, req), 401, "invalid_token")
	})
	t.Run("nonce required at the resource", func(t *testing.T) {
		e2 := newEnv(t, func(c *authserver.Config) { c.UserinfoDPoPNonce = authserver.NonceRequired })
		r := e2.ccWithProof(e2.proof(dk, "POST", e2.srv.Endpoints().Token))
		at := decodeJSON(t, r)["access_token"].(string)
		ui := e2.srv.Endpoints().Userinfo
		send := func(p string) httpResult {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ui, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "DPoP "+at)
			req.Header.Set("DPoP", p)
			return e2.do(e2.hc, req)
		}
		r = send(e2.proof(dk, "GET", ui, ath(at)))
		requireOAuthError(t, r, http.StatusUnauthorized, "use_dpop_nonce")
		require.Equal(t, "use_dpop_nonce", challengeOf(r, "DPoP").Get("error"))
		n := r.header.Get("DPoP-Nonce")
		require.NotEmpty(t, n)
		r = send(e2.proof(dk, "GET", ui, ath(at), withNonce(n)))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	})
}
