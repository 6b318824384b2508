package authserver_test

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// The tests of this file send JSON that encoding/json would read without
// complaint but that another parser may read differently (a duplicate or
// case-variant member, invalid UTF-8, an unpaired surrogate, deep nesting;
// see internal/strictjson), in every JSON document the server receives
// from clients. Each table has hand-built controls that pass, so that a
// rejection is caused by the JSON and not by the hand-building.

// signRaw signs the exact header and payload bytes with an ES256 key, for
// JSON that jose.Signer would never write.
func signRaw(t testing.TB, key *ecdsa.PrivateKey, header, payload string) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	require.NoError(t, err)
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

// rawJSON marshals v, whose keys are then sorted and unique.
func rawJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// withMember returns the JSON object obj with the raw member m put first,
// so that, for a duplicate, encoding/json would keep the original (last)
// value and accept the document.
func withMember(obj, m string) string {
	if m == "" {
		return obj
	}
	return "{" + m + "," + obj[1:]
}

// nested returns n nested JSON arrays.
func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// strictCase is a raw member to put first in a document and the members
// to remove from it first.
type strictCase struct {
	name   string
	member string
	drop   []string
}

// tooDeep is a member whose value, in a top-level object, nests one level
// deeper than strictjson.MaxDepth.
var tooDeep = `"x_ext":` + nested(strictjson.MaxDepth)

// TestRequestObjectStrictJSON sends request objects whose claims are
// ambiguous JSON (RFC 9101 §6.3: invalid_request_object).
func TestRequestObjectStrictJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, challenge := pkce()
	header := rawJSON(t, map[string]any{"alg": "ES256", "typ": "oauth-authz-req+jwt", "kid": jktOf(t, e.jwtKey)})
	build := func(tc strictCase) string {
		c := e.roClaims(jwtID, challenge)
		for _, d := range tc.drop {
			delete(c, d)
		}
		return signRaw(t, e.jwtKey, header, withMember(rawJSON(t, c), tc.member))
	}
	push := func(ro string) httpResult {
		return e.post(nil, e.srv.Endpoints().PAR, e.withAssertion(url.Values{"request": {ro}}, jwtID), nil)
	}
	for _, tc := range []strictCase{
		{name: "hand-signed control"},
		{name: "extension member", member: `"x_ext":"v"`},
		{name: "nesting at the limit", member: `"x_ext":` + nested(strictjson.MaxDepth-1)},
		{name: "escaped name and surrogate pair", member: `"\u0069ss":"jwt-client","x_ext":"\u00e9\ud83d\ude00"`, drop: []string{"iss"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := push(build(tc))
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		})
	}
	for _, tc := range []strictCase{
		{name: "aud and AUD", member: `"AUD":"https://evil.example"`},
		{name: "aud twice", member: `"aud":"https://evil.example"`},
		{name: "iss twice", member: `"iss":"` + basicID + `"`},
		{name: "iss twice, one escaped", member: `"\u0069ss":"` + basicID + `"`},
		{name: "client_id twice", member: `"client_id":"` + basicID + `"`},
		{name: "redirect_uri twice", member: `"redirect_uri":"https://evil.example/cb"`},
		{name: "scope and a Unicode case variant", member: `"\u017fcope":"admin"`}, // U+017F folds to "s"
		{name: "ISS alone", member: `"ISS":"` + jwtID + `"`, drop: []string{"iss"}},
		{name: "invalid UTF-8 in a parameter", member: `"x_ext":"` + "\xff" + `"`},
		{name: "unpaired surrogate in a parameter", member: `"x_ext":"\ud800"`},
		{name: "duplicate in a nested object", member: `"x_ext":{"a":1,"A":2}`},
		{name: "nesting too deep", member: tooDeep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireOAuthError(t, push(build(tc)), http.StatusBadRequest, "invalid_request_object")
		})
	}
}

// TestEncryptedRequestObjectStrictJSON sends encrypted request objects
// whose JWE header, or nested JWT, is ambiguous JSON.
func TestEncryptedRequestObjectStrictJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) { c.RequestObjectKeys = []crypto.PrivateKey{rsaKey()} })
	_, challenge := pkce()
	k := e.encKey(jose.RSAOAEP256)
	pub, ok := k.Key.(*rsa.PublicKey)
	require.True(t, ok)
	// encrypt builds an RSA-OAEP-256 / A256GCM JWE (RFC 7516 §5.1) of
	// plaintext under the exact header given.
	encrypt := func(header, plaintext string) string {
		cek := make([]byte, 32)
		_, err := rand.Read(cek)
		require.NoError(t, err)
		ek, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, cek, nil)
		require.NoError(t, err)
		block, err := aes.NewCipher(cek)
		require.NoError(t, err)
		gcm, err := cipher.NewGCM(block)
		require.NoError(t, err)
		iv := make([]byte, gcm.NonceSize())
		_, err = rand.Read(iv)
		require.NoError(t, err)
		h := b64([]byte(header))
		sealed := gcm.Seal(nil, iv, []byte(plaintext), []byte(h))
		ct, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
		return strings.Join([]string{h, b64(ek), b64(iv), b64(ct), b64(tag)}, ".")
	}
	header := rawJSON(t, map[string]any{"alg": jose.RSAOAEP256, "enc": jose.A256GCM, "cty": "JWT", "kid": k.KeyID})
	roHeader := rawJSON(t, map[string]any{"alg": "ES256", "typ": "oauth-authz-req+jwt", "kid": jktOf(t, e.jwtKey)})
	inner := func(member string) string {
		return signRaw(t, e.jwtKey, roHeader, withMember(rawJSON(t, e.roClaims(encROID, challenge)), member))
	}
	push := func(jwe string) httpResult {
		return e.post(nil, e.srv.Endpoints().PAR, e.withAssertion(url.Values{"request": {jwe}}, encROID), nil)
	}
	t.Run("hand-encrypted control", func(t *testing.T) {
		r := push(encrypt(header, inner("")))
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	})
	tests := []struct {
		name, header, inner string
	}{
		{"JWE header: cty twice", withMember(header, `"cty":"JWT"`), inner("")},
		{"JWE header: enc and ENC", withMember(header, `"ENC":"A128GCM"`), inner("")},
		{"JWE header: alg twice", withMember(header, `"alg":"ECDH-ES"`), inner("")},
		{"JWE header: invalid UTF-8", withMember(header, `"x_ext":"`+"\xff"+`"`), inner("")},
		{"JWE header: nesting too deep", withMember(header, tooDeep), inner("")},
		{"nested JWT: aud and AUD", header, inner(`"AUD":"https://evil.example"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireOAuthError(t, push(encrypt(tt.header, tt.inner)), http.StatusBadRequest, "invalid_request_object")
		})
	}
}

// TestClientAssertionStrictJSON sends private_key_jwt assertions whose
// claims are ambiguous JSON (RFC 6749 §5.2: invalid_client).
func TestClientAssertionStrictJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints().Token
	header := rawJSON(t, map[string]any{"alg": "ES256", "kid": jktOf(t, e.jwtKey)})
	token := func(tc strictCase) httpResult {
		now := e.clock.Now()
		c := claims{"iss": jwtID, "sub": jwtID, "aud": e.srv.Issuer(), "jti": randomID(),
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		for _, d := range tc.drop {
			delete(c, d)
		}
		form := url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {signRaw(t, e.jwtKey, header, withMember(rawJSON(t, c), tc.member))}}
		return e.post(nil, ep, form, nil)
	}
	for _, tc := range []strictCase{
		{name: "hand-signed control"},
		{name: "extension claim", member: `"x_ext":{"a":[1,2]}`},
		{name: "escaped name", member: `"\u0073ub":"` + jwtID + `"`, drop: []string{"sub"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := token(tc)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		})
	}
	for _, tc := range []strictCase{
		{name: "iss twice", member: `"iss":"` + basicID + `"`},
		{name: "sub twice", member: `"sub":"` + basicID + `"`},
		{name: "SUB alone", member: `"SUB":"` + jwtID + `"`, drop: []string{"sub"}},
		{name: "aud and AUD", member: `"AUD":"https://evil.example"`},
		{name: "exp twice", member: `"exp":99999999999`},
		{name: "jti escaped and upper-case", member: `"j\u0074i":"x","JTI":"y"`},
		{name: "invalid UTF-8 in jti", member: `"jti":"` + randomID() + "\xff" + `"`, drop: []string{"jti"}},
		{name: "unpaired surrogate in jti", member: `"jti":"` + randomID() + `\udc00"`, drop: []string{"jti"}},
		{name: "nesting too deep", member: tooDeep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := token(tc)
			requireOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
		})
	}
}

// TestDPoPProofStrictJSON sends DPoP proofs whose header, embedded JWK or
// claims are ambiguous JSON (RFC 9449 §7.1: invalid_dpop_proof), at the
// token endpoint and at /userinfo.
func TestDPoPProofStrictJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints().Token
	dk := genEC(t)
	jwk := rawJSON(t, jwkMap(t, dk.Public()))
	header := func(jwk string) string { return `{"alg":"ES256","jwk":` + jwk + `,"typ":"dpop+jwt"}` }
	proof := func(hdr, method, htu string, tc strictCase, extra claims) string {
		c := claims{"jti": randomID(), "htm": method, "htu": htu, "iat": e.clock.Now().Unix()}
		for k, v := range extra {
			c[k] = v
		}
		for _, d := range tc.drop {
			delete(c, d)
		}
		return signRaw(t, dk, hdr, withMember(rawJSON(t, c), tc.member))
	}

	tests := []struct {
		name string
		hdr  string
		tc   strictCase
		ok   bool
	}{
		{name: "hand-signed control", hdr: header(jwk), ok: true},
		{name: "escaped claim name", hdr: header(jwk), tc: strictCase{member: `"\u0068tu":"` + ep + `"`, drop: []string{"htu"}}, ok: true},
		{name: "header extension", hdr: withMember(header(jwk), `"x_ext":[{}]`), ok: true},
		{name: "htu twice", hdr: header(jwk), tc: strictCase{member: `"htu":"https://evil.example/token"`}},
		{name: "htm and HTM", hdr: header(jwk), tc: strictCase{member: `"HTM":"GET"`}},
		{name: "HTU alone", hdr: header(jwk), tc: strictCase{member: `"HTU":"` + ep + `"`, drop: []string{"htu"}}},
		{name: "iat twice", hdr: header(jwk), tc: strictCase{member: `"iat":0`}},
		{name: "invalid UTF-8 in jti", hdr: header(jwk), tc: strictCase{member: `"jti":"` + "a\xff" + `"`, drop: []string{"jti"}}},
		{name: "claims nested too deep", hdr: header(jwk), tc: strictCase{member: tooDeep}},
		{name: "header: typ twice", hdr: withMember(header(jwk), `"typ":"JWT"`)},
		{name: "header: alg and ALG", hdr: withMember(header(jwk), `"ALG":"none"`)},
		{name: "header: jwk twice", hdr: withMember(header(jwk), `"jwk":`+rawJSON(t, jwkMap(t, genEC(t).Public())))},
		{name: "header: nested too deep", hdr: withMember(header(jwk), tooDeep)},
		{name: "jwk: crv twice", hdr: header(withMember(jwk, `"crv":"P-384"`))},
		{name: "jwk: kty and KTY", hdr: header(withMember(jwk, `"KTY":"RSA"`))},
		{name: "jwk: invalid UTF-8", hdr: header(withMember(jwk, `"kid":"`+"\xff"+`"`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.ccWithProof(proof(tt.hdr, http.MethodPost, ep, tt.tc, nil))
			if tt.ok {
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				return
			}
			requireOAuthError(t, r, http.StatusBadRequest, "invalid_dpop_proof")
		})
	}

	t.Run("userinfo", func(t *testing.T) {
		r := e.ccWithProof(e.proof(dk, http.MethodPost, ep))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		at := decodeJSON(t, r)["access_token"].(string)
		sum := sha256.Sum256([]byte(at))
		ath := b64(sum[:])
		ui := e.srv.Endpoints().Userinfo
		call := func(tc strictCase) httpResult {
			req, err := http.NewRequest(http.MethodGet, ui, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "DPoP "+at)
			req.Header.Set("DPoP", proof(header(jwk), http.MethodGet, ui, tc, claims{"ath": ath}))
			return e.do(e.hc, req)
		}
		r = call(strictCase{})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		for _, tc := range []strictCase{
			{name: "ath twice", member: `"ath":"` + ath + `"`},
			{name: "ATH alone", member: `"ATH":"` + ath + `"`, drop: []string{"ath"}},
		} {
			r := call(tc)
			requireOAuthError(t, r, http.StatusUnauthorized, "invalid_dpop_proof")
			cs, err := oautherr.ParseHeader(r.header)
			require.NoError(t, err)
			c, ok := oautherr.Find(cs, "DPoP")
			require.True(t, ok, tc.name)
			require.Equal(t, "invalid_dpop_proof", c.Get("error"), tc.name)
		}
	})
}
