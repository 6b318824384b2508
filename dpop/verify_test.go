package dpop

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
)

const (
	rsURI   = "https://rs.example/resource"
	rsToken = "access-token-1"
)

var nonceSecret = []byte("0123456789abcdef0123456789abcdef-secret")

// fixture is a valid resource-server proof setup that cases break one
// item at a time.
type fixture struct {
	key    *ecdsa.PrivateKey
	jwk    string
	jkt    string
	nonces *Nonces
	nonce  string
}

func newFixture(t testing.TB) *fixture {
	k := newKey(t)
	jkt, err := jose.Thumbprint(k.Public())
	require.NoError(t, err)
	n := &Nonces{Secrets: [][]byte{nonceSecret}, Now: clock(fixedNow)}
	nonce, err := n.New()
	require.NoError(t, err)
	return &fixture{key: k, jwk: publicJWK(t, k.Public()), jkt: jkt, nonces: n, nonce: nonce}
}

var (
	headerOrder = []string{"typ", "alg", "jwk"}
	claimOrder  = []string{"jti", "htm", "htu", "iat", "ath", "nonce"}
)

// object renders members in a fixed order, then the extra ones sorted; an
// empty value drops the member.
func object(m map[string]string, order []string) string {
	var kv []string
	done := map[string]bool{}
	for _, k := range order {
		done[k] = true
		if v := m[k]; v != "" {
			kv = append(kv, k, v)
		}
	}
	var extra []string
	for k := range m {
		if !done[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		if v := m[k]; v != "" {
			kv = append(kv, k, v)
		}
	}
	return claimsJSON(kv...)
}

func (f *fixture) header(mod func(map[string]string)) string {
	m := map[string]string{"typ": q("dpop+jwt"), "alg": q("ES256"), "jwk": f.jwk}
	if mod != nil {
		mod(m)
	}
	return object(m, headerOrder)
}

var jtiSeq atomic.Int64

func (f *fixture) claims(mod func(map[string]string)) string {
	m := map[string]string{
		"jti":   q("jti-" + strconv.FormatInt(jtiSeq.Add(1), 10) + "-0123456789"),
		"htm":   q("GET"),
		"htu":   q(rsURI),
		"iat":   strconv.FormatInt(fixedNow.Unix(), 10),
		"ath":   q(AccessTokenHash(rsToken)),
		"nonce": q(f.nonce),
	}
	if mod != nil {
		mod(m)
	}
	return object(m, claimOrder)
}

func (f *fixture) proof(t testing.TB, hmod, cmod func(map[string]string)) string {
	return rawES256(t, f.key, f.header(hmod), f.claims(cmod))
}

func (f *fixture) verifier() *Verifier {
	return &Verifier{BaseURL: rsBase, Now: clock(fixedNow), Nonces: f.nonces}
}

func (f *fixture) binding() *binding {
	return &binding{token: rsToken, cnf: Confirmation{JKT: f.jkt}}
}

func TestVerifyValid(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	proof := f.proof(t, nil, nil)
	v := f.verifier()
	p, err := verifyProof(v, proof, "GET", rsURI, f.binding())
	require.NoError(t, err)
	require.Equal(t, f.jkt, p.JKT)
	require.Equal(t, "GET", p.Method)
	require.Equal(t, rsURI, p.URI)
	require.Equal(t, fixedNow, p.IssuedAt)
	require.Equal(t, f.nonce, p.Nonce)
	require.Equal(t, AccessTokenHash(rsToken), p.AccessTokenHash)
	require.Equal(t, jose.ES256, p.Algorithm)
	require.True(t, p.Key.(*ecdsa.PublicKey).Equal(f.key.Public()))
	require.NotEmpty(t, p.ID)

	// The same proof again is a replay.
	_, err = verifyProof(v, proof, "GET", rsURI, f.binding())
	require.ErrorIs(t, err, ErrReplay)
	require.ErrorIs(t, err, ErrInvalidProof)
	var pe *Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, CodeInvalidProof, pe.Code)
}

// TestVerifyBadInput breaks RFC 9449 §4.3 one item at a time, plus the
// attacks of the list.
func TestVerifyBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := newKey(t)
	otherJKT, err := jose.Thumbprint(other.Public())
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	// HS256 "signed" with the public key's bytes: the classic algorithm
	// confusion attack.
	hs256 := func() string {
		h := f.header(func(m map[string]string) { m["alg"] = q("HS256") })
		input := b64.EncodeToString([]byte(h)) + "." + b64.EncodeToString([]byte(f.claims(nil)))
		pub, err := f.key.PublicKey.Bytes()
		require.NoError(t, err)
		mac := hmac.New(sha256.New, pub)
		mac.Write([]byte(input))
		return input + "." + b64.EncodeToString(mac.Sum(nil))
	}()
	none := b64.EncodeToString([]byte(f.header(func(m map[string]string) { m["alg"] = q("none") }))) + "." +
		b64.EncodeToString([]byte(f.claims(nil))) + "."
	noneSig := none + "AAAA"
	privJWK := privateJWK(t, f.key)
	valid := f.proof(t, nil, nil)
	parts := strings.Split(valid, ".")
	// An EdDSA proof signed properly, for an allow-list without EdDSA.
	edProof := func() string {
		s, err := jose.NewSigner(edKey, jose.SignerOptions{Type: "dpop+jwt", EmbedJWK: true})
		require.NoError(t, err)
		tok, err := s.Sign([]byte(f.claims(nil)))
		require.NoError(t, err)
		return tok
	}()
	// A JWE-shaped value: five segments.
	jwe := "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwidHlwIjoiZHBvcCtqd3QifQ.a2V5.aXY.Y2lwaGVy.dGFn"
	rsaSmall, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)

	cases := []struct {
		name   string
		proof  string
		method string
		uri    string
		b      *binding
		v      func(*Verifier)
		want   []error
	}{
		// Check 2: a single well-formed JWT.
		{name: "empty", proof: "", want: []error{errMalformedProof}},
		{name: "one segment", proof: "abc", want: []error{errMalformedProof}},
		{name: "two segments", proof: parts[0] + "." + parts[1], want: []error{errMalformedProof}},
		{name: "four segments", proof: valid + ".x", want: []error{errMalformedProof}},
		{name: "JWE instead of JWS", proof: jwe, want: []error{errMalformedProof}},
		{name: "empty signature", proof: parts[0] + "." + parts[1] + ".", want: []error{errMalformedProof}},
		{name: "empty header", proof: "." + parts[1] + "." + parts[2], want: []error{errMalformedProof}},
		{name: "padded base64", proof: parts[0] + "=." + parts[1] + "." + parts[2], want: []error{errMalformedProof}},
		{name: "standard base64 alphabet", proof: strings.ReplaceAll(parts[0], "_", "/") + "+." + parts[1] + "." + parts[2], want: []error{errMalformedProof}},
		{name: "header not JSON", proof: b64.EncodeToString([]byte("not json")) + "." + parts[1] + "." + parts[2], want: []error{errMalformedProof}},
		{name: "header JSON array", proof: b64.EncodeToString([]byte(`["typ"]`)) + "." + parts[1] + "." + parts[2], want: []error{errMalformedProof}},
		{name: "header trailing data", proof: rawES256(t, f.key, f.header(nil)+"{}", f.claims(nil)), want: []error{errMalformedProof}},
		{name: "claims not JSON", proof: rawES256(t, f.key, f.header(nil), "nope"), want: []error{errMalformedProof}},
		{name: "duplicate header member", proof: rawES256(t, f.key, `{"typ":"dpop+jwt","alg":"ES256","alg":"ES256","jwk":`+f.jwk+`}`, f.claims(nil)), want: []error{errMalformedProof}},
		{name: "duplicate claim htu", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+`,"htu":"https://evil.example/resource"}`), want: []error{errMalformedProof}},
		{name: "duplicate claim via escape", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+`,"ht\u0075":"https://evil.example/resource"}`), want: []error{errMalformedProof}},
		{name: "case-variant claim beside htu", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+`,"HTU":"https://evil.example/resource"}`), want: []error{errMalformedProof}},
		{name: "case-variant header beside alg", proof: rawES256(t, f.key, `{"typ":"dpop+jwt","alg":"ES256","ALG":"none","jwk":`+f.jwk+`}`, f.claims(nil)), want: []error{errMalformedProof}},
		{name: "KELVIN SIGN duplicate in jwk", proof: rawES256(t, f.key, `{"typ":"dpop+jwt","alg":"ES256","jwk":`+strings.Replace(f.jwk, `"kty"`, `"\u212Aty":"RSA","kty"`, 1)+`}`, f.claims(nil)), want: []error{errMalformedProof}},
		{name: "duplicate unknown claim", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+`,"x":1,"X":2}`), want: []error{errMalformedProof}},
		{name: "invalid UTF-8 in an unknown claim", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+",\"x\":\"\xff\"}"), want: []error{errMalformedProof}},
		{name: "unpaired surrogate in jti", proof: f.proof(t, nil, func(m map[string]string) { m["jti"] = `"\ud800"` }), want: []error{errMalformedProof}},
		{name: "crit header", proof: f.proof(t, func(m map[string]string) { m["crit"] = `["exp"]` }, nil), want: []error{errMalformedProof}},
		{name: "JWE members in header", proof: f.proof(t, func(m map[string]string) { m["enc"] = q("A256GCM") }, nil), want: []error{errMalformedProof}},
		{name: "too large", proof: strings.Repeat("a", DefaultMaxProofBytes+1), want: []error{errProofTooLarge}},
		{name: "100 KB", proof: strings.Repeat("eyJ0", 25<<10), want: []error{errProofTooLarge}},

		// Check 3: required claims.
		{name: "no jti", proof: f.proof(t, nil, func(m map[string]string) { m["jti"] = "" }), want: []error{errMalformedProof}},
		{name: "empty jti", proof: f.proof(t, nil, func(m map[string]string) { m["jti"] = `""` }), want: []error{errMalformedProof}},
		{name: "no htm", proof: f.proof(t, nil, func(m map[string]string) { m["htm"] = "" }), want: []error{errMalformedProof}},
		{name: "no htu", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = "" }), want: []error{errMalformedProof}},
		{name: "no iat", proof: f.proof(t, nil, func(m map[string]string) { m["iat"] = "" }), want: []error{errMalformedProof}},
		{name: "iat as string", proof: f.proof(t, nil, func(m map[string]string) { m["iat"] = q(strconv.FormatInt(fixedNow.Unix(), 10)) }), want: []error{errMalformedProof}},
		{name: "negative iat", proof: f.proof(t, nil, func(m map[string]string) { m["iat"] = "-1" }), want: []error{errMalformedProof}},
		{name: "htu as number", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = "1" }), want: []error{errMalformedProof}},
		{name: "jti too long", proof: f.proof(t, nil, func(m map[string]string) { m["jti"] = q(strings.Repeat("j", maxJTI+1)) }), want: []error{errMalformedProof}},

		// Check 4: typ.
		{name: "no typ", proof: f.proof(t, func(m map[string]string) { m["typ"] = "" }, nil), want: []error{errProofType}},
		{name: "typ JWT", proof: f.proof(t, func(m map[string]string) { m["typ"] = q("JWT") }, nil), want: []error{errProofType}},
		{name: "typ at+jwt", proof: f.proof(t, func(m map[string]string) { m["typ"] = q("at+jwt") }, nil), want: []error{errProofType}},
		{name: "typ number", proof: f.proof(t, func(m map[string]string) { m["typ"] = "1" }, nil), want: []error{errProofType}},

		// Check 5: alg.
		{name: "alg none unsigned", proof: none, want: []error{errMalformedProof}},
		{name: "alg none with signature", proof: noneSig, want: []error{errProofAlgorithm}},
		{name: "HS256 signed with the public key", proof: hs256, want: []error{errProofAlgorithm}},
		{name: "no alg", proof: f.proof(t, func(m map[string]string) { m["alg"] = "" }, nil), want: []error{errProofAlgorithm}},
		{name: "unknown alg", proof: f.proof(t, func(m map[string]string) { m["alg"] = q("ES257") }, nil), want: []error{errProofAlgorithm}},
		{name: "RS256 not allowed", proof: f.proof(t, func(m map[string]string) { m["alg"] = q("RS256") }, nil), want: []error{errProofAlgorithm}},
		{name: "EdDSA outside the allow-list", proof: edProof, v: func(v *Verifier) { v.Algorithms = []string{"ES256"} }, want: []error{errProofAlgorithm}},

		// Check 6: signature.
		{name: "bad signature", proof: parts[0] + "." + parts[1] + "." + b64.EncodeToString(sigES256(t, f.key, "something else")), want: []error{errProofSignature}},
		{name: "signed by another key", proof: rawES256(t, other, f.header(nil), f.claims(nil)), want: []error{errProofSignature}},
		{name: "claims swapped after signing", proof: parts[0] + "." + b64.EncodeToString([]byte(f.claims(nil))) + "." + parts[2], want: []error{errProofSignature}},
		{name: "short signature", proof: parts[0] + "." + parts[1] + "." + parts[2][:40], want: []error{errProofSignature}},

		// Check 7: jwk public only, and usable.
		{name: "jwk with d", proof: f.proof(t, func(m map[string]string) { m["jwk"] = privJWK }, nil), want: []error{errProofKey}},
		{name: "no jwk", proof: f.proof(t, func(m map[string]string) { m["jwk"] = "" }, nil), want: []error{errProofKey}},
		{name: "symmetric jwk", proof: f.proof(t, func(m map[string]string) { m["jwk"] = `{"kty":"oct","k":"c2VjcmV0"}` }, nil), want: []error{errProofKey}},
		{name: "point off the curve", proof: f.proof(t, func(m map[string]string) {
			m["jwk"] = `{"kty":"EC","crv":"P-256","x":"` + b64.EncodeToString(make([]byte, 32)) + `","y":"` + b64.EncodeToString(append(make([]byte, 31), 1)) + `"}`
		}, nil), want: []error{errProofKey}},
		{name: "unknown curve", proof: f.proof(t, func(m map[string]string) { m["jwk"] = strings.Replace(f.jwk, "P-256", "P-257", 1) }, nil), want: []error{errProofKey}},
		{name: "jwk not an object", proof: f.proof(t, func(m map[string]string) { m["jwk"] = q("key") }, nil), want: []error{errMalformedProof}},
		{name: "RSA jwk under 2048 bits", proof: f.proof(t, func(m map[string]string) { m["alg"] = q("PS256"); m["jwk"] = rsaJWK(&rsaSmall.PublicKey) }, nil), want: []error{errProofKey}},
		{name: "Ed25519 jwk with alg ES256", proof: f.proof(t, func(m map[string]string) { m["jwk"] = publicJWK(t, edKey.Public()) }, nil), want: []error{errProofKey}},

		// Check 8: htm.
		{name: "htm POST for GET", proof: f.proof(t, nil, func(m map[string]string) { m["htm"] = q("POST") }), want: []error{errProofMethod}},
		{name: "htm lower case", proof: f.proof(t, nil, func(m map[string]string) { m["htm"] = q("get") }), want: []error{errProofMethod}},

		// Check 9: htu.
		{name: "htu other path", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://rs.example/other") }), want: []error{errProofURI}},
		{name: "htu other host", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://evil.example/resource") }), want: []error{errProofURI}},
		{name: "htu other port", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://rs.example:8443/resource") }), want: []error{errProofURI}},
		{name: "htu http for https", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("http://rs.example/resource") }), want: []error{errProofURI}},
		{name: "htu path case differs", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://rs.example/Resource") }), want: []error{errProofURI}},
		{name: "htu with userinfo", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://user@rs.example/resource") }), want: []error{errProofURI}},
		{name: "htu relative", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("/resource") }), want: []error{errProofURI}},
		{name: "htu encoded slash", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://rs.example%2Fresource") }), want: []error{errProofURI}},

		// Check 10: nonce.
		{name: "no nonce", proof: f.proof(t, nil, func(m map[string]string) { m["nonce"] = "" }), want: []error{errNonceMissing, ErrUseNonce}},
		{name: "forged nonce", proof: f.proof(t, nil, func(m map[string]string) { m["nonce"] = q(b64.EncodeToString(make([]byte, nonceLen))) }), want: []error{errNonceInvalid, ErrUseNonce}},
		{name: "empty nonce", proof: f.proof(t, nil, func(m map[string]string) { m["nonce"] = `""` }), want: []error{errNonceInvalid, ErrUseNonce}},
		{name: "nonce of another secret", proof: f.proof(t, nil, func(m map[string]string) {
			n, err := (&Nonces{Secrets: [][]byte{[]byte(strings.Repeat("x", 32))}, Now: clock(fixedNow)}).New()
			require.NoError(t, err)
			m["nonce"] = q(n)
		}), want: []error{errNonceInvalid, ErrUseNonce}},
		{name: "expired nonce", proof: f.proof(t, nil, func(m map[string]string) {
			n, err := (&Nonces{Secrets: [][]byte{nonceSecret}, Now: clock(fixedNow.Add(-DefaultNonceLifetime - time.Second))}).New()
			require.NoError(t, err)
			m["nonce"] = q(n)
		}), want: []error{errNonceInvalid, ErrUseNonce}},

		// Check 11: iat window.
		{name: "iat too old", proof: f.proof(t, nil, func(m map[string]string) {
			m["iat"] = strconv.FormatInt(fixedNow.Add(-DefaultMaxAge-DefaultSkew-time.Second).Unix(), 10)
		}), want: []error{errProofExpired}},
		{name: "iat in the future", proof: f.proof(t, nil, func(m map[string]string) {
			m["iat"] = strconv.FormatInt(fixedNow.Add(DefaultSkew+time.Second).Unix(), 10)
		}), want: []error{errProofNotYetValid}},
		{name: "iat far in the future", proof: f.proof(t, nil, func(m map[string]string) { m["iat"] = "1099511627776" }), want: []error{errProofNotYetValid}},
		{name: "iat older than a custom MaxAge", proof: f.proof(t, nil, func(m map[string]string) {
			m["iat"] = strconv.FormatInt(fixedNow.Add(-40*time.Second).Unix(), 10)
		}), v: func(v *Verifier) { v.MaxAge = 20 * time.Second; v.Skew = 10 * time.Second }, want: []error{errProofExpired}},

		// Check 12: ath and key binding.
		{name: "no ath", proof: f.proof(t, nil, func(m map[string]string) { m["ath"] = "" }), want: []error{errAccessTokenHash}},
		{name: "ath of another token", proof: f.proof(t, nil, func(m map[string]string) { m["ath"] = q(AccessTokenHash("another-token")) }), want: []error{errAccessTokenHash}},
		{name: "ath not base64url", proof: f.proof(t, nil, func(m map[string]string) { m["ath"] = q("not an ath") }), want: []error{errAccessTokenHash}},
		{name: "token bound to another key", proof: f.proof(t, nil, nil), b: &binding{token: rsToken, cnf: Confirmation{JKT: otherJKT}}, want: []error{ErrBindingMismatch}},
		{name: "token bound by jwk to another key", proof: f.proof(t, nil, nil), b: &binding{token: rsToken, cnf: Confirmation{JWK: other.Public()}}, want: []error{ErrBindingMismatch}},
		{name: "jkt matches but jwk does not", proof: f.proof(t, nil, nil), b: &binding{token: rsToken, cnf: Confirmation{JKT: f.jkt, JWK: other.Public()}}, want: []error{ErrBindingMismatch}},
		{name: "binding without a key matches nothing", proof: f.proof(t, nil, nil), b: &binding{token: rsToken}, want: []error{ErrBindingMismatch}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := f.verifier()
			if tc.v != nil {
				tc.v(v)
			}
			method, uri, b := "GET", rsURI, f.binding()
			if tc.method != "" {
				method = tc.method
			}
			if tc.uri != "" {
				uri = tc.uri
			}
			if tc.b != nil {
				b = tc.b
			}
			p, err := verifyProof(v, tc.proof, method, uri, b)
			require.Nil(t, p)
			for _, want := range tc.want {
				require.ErrorIs(t, err, want)
			}
			var pe *Error
			require.ErrorAs(t, err, &pe)
			switch {
			case errors.Is(err, ErrUseNonce):
				require.Equal(t, CodeUseNonce, pe.Code)
			case errors.Is(err, ErrBindingMismatch):
				require.Equal(t, CodeInvalidToken, pe.Code)
				require.NotErrorIs(t, err, ErrInvalidProof)
			default:
				require.Equal(t, CodeInvalidProof, pe.Code)
				require.ErrorIs(t, err, ErrInvalidProof)
			}
			// Nothing of the input leaks into the message.
			require.NotContains(t, err.Error(), f.nonce)
			require.NotContains(t, err.Error(), rsToken)
		})
	}
}

func rsaJWK(pub *rsa.PublicKey) string {
	e := []byte{byte(pub.E >> 16), byte(pub.E >> 8), byte(pub.E)}
	for len(e) > 1 && e[0] == 0 {
		e = e[1:]
	}
	return `{"kty":"RSA","n":"` + b64.EncodeToString(pub.N.Bytes()) + `","e":"` + b64.EncodeToString(e) + `"}`
}

// TestVerifyHTUNormalization: htu is compared ignoring query and fragment,
// after RFC 3986 §6.2.2/§6.2.3 normalization (RFC 9449 §4.3 check 9).
func TestVerifyHTUNormalization(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		name, htu, uri string
		ok             bool
	}{
		{"identical", rsURI, rsURI, true},
		{"query ignored", rsURI + "?a=1", rsURI, true},
		{"fragment ignored", rsURI + "#frag", rsURI, true},
		{"request query ignored", rsURI, rsURI + "?x=y", true},
		{"upper-case scheme and host", "HTTPS://RS.Example/resource", rsURI, true},
		{"default port", "https://rs.example:443/resource", rsURI, true},
		{"request default port", rsURI, "https://rs.example:443/resource", true},
		{"empty port", "https://rs.example:/resource", rsURI, true},
		{"percent-encoded unreserved", "https://rs.example/%72esource", rsURI, true},
		{"lower-case percent-encoding", "https://rs.example/a%2fb", "https://rs.example/a%2Fb", true},
		{"dot segments", "https://rs.example/x/../resource", rsURI, true},
		{"empty path is /", "https://rs.example", "https://rs.example/", true},
		{"different port", "https://rs.example:8443/resource", rsURI, false},
		{"http default port is not https's", "http://rs.example:443/resource", rsURI, false},
		{"encoded slash differs from slash", "https://rs.example/a%2Fb", "https://rs.example/a/b", false},
		{"path case", "https://rs.example/RESOURCE", rsURI, false},
		{"trailing slash", rsURI + "/", rsURI, false},
		{"other scheme", "ftp://rs.example/resource", "ftp://rs.example/resource", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proof := f.proof(t, nil, func(m map[string]string) { m["htu"] = q(tc.htu) })
			_, err := verifyProof(f.verifier(), proof, "GET", tc.uri, f.binding())
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, errProofURI)
			}
		})
	}
}

func TestVerifyRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	newReq := func(target string, proofs ...string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("Authorization", "DPoP "+rsToken)
		for _, p := range proofs {
			r.Header.Add("DPoP", p)
		}
		return r
	}
	check := func(v *Verifier, r *http.Request) (*Proof, error) {
		res, err := v.Check(r, rsToken, jktClaims(f.jkt))
		if err != nil {
			return nil, err
		}
		return res.Proof, nil
	}

	t.Run("from the request", func(t *testing.T) {
		t.Parallel()
		r := newReq(rsURI+"?q=1", f.proof(t, nil, nil))
		p, err := check(f.verifier(), r)
		require.NoError(t, err)
		require.Equal(t, f.jkt, p.JKT)
	})
	t.Run("two DPoP headers", func(t *testing.T) {
		t.Parallel()
		r := newReq(rsURI, f.proof(t, nil, nil), f.proof(t, nil, nil))
		_, err := check(f.verifier(), r)
		require.ErrorIs(t, err, errMultipleProofs)
		require.ErrorIs(t, err, ErrInvalidProof)
	})
	t.Run("no DPoP header", func(t *testing.T) {
		t.Parallel()
		_, err := check(f.verifier(), newReq(rsURI))
		require.ErrorIs(t, err, errNoProof)
		require.ErrorIs(t, err, ErrInvalidProof)
	})
	t.Run("empty DPoP header", func(t *testing.T) {
		t.Parallel()
		_, err := check(f.verifier(), newReq(rsURI, ""))
		require.ErrorIs(t, err, errMalformedProof)
	})
	t.Run("the origin comes from BaseURL, not from the request", func(t *testing.T) {
		t.Parallel()
		// Over plain http, to another Host: BaseURL decides, so the
		// proof for https://rs.example passes.
		r := newReq("http://internal:8080/resource", f.proof(t, nil, nil))
		r.TLS = nil
		_, err := check(f.verifier(), r)
		require.NoError(t, err)
	})
	t.Run("behind a TLS-terminating proxy", func(t *testing.T) {
		t.Parallel()
		// The proxy forwards https://api.example/v1/resource to
		// http://10.0.0.5:8080/resource, stripping /v1.
		r := httptest.NewRequest("POST", "http://10.0.0.5:8080/resource", nil)
		r.TLS = nil
		r.Header.Set("Authorization", "DPoP "+rsToken)
		r.Header.Set("X-Forwarded-Host", "evil.example")
		r.Header.Set("DPoP", f.proof(t, nil, func(m map[string]string) {
			m["htm"] = q("POST")
			m["htu"] = q("https://api.example/v1/resource")
		}))
		v := f.verifier()
		v.BaseURL = "https://API.example:443/v1/"
		require.NoError(t, v.init())
		path, err := v.requestPath(r)
		require.NoError(t, err)
		require.Equal(t, "https://api.example/v1/resource", v.base+path)
		_, err = check(v, r)
		require.NoError(t, err)

		r.Header.Set("DPoP", f.proof(t, nil, func(m map[string]string) {
			m["htm"] = q("POST")
			m["htu"] = q("https://evil.example/v1/resource")
		}))
		_, err = check(v, r)
		require.ErrorIs(t, err, errProofURI, "X-Forwarded-Host is never believed")
	})
}

// TestVerifyOriginFromConfiguration: a proof minted for host A is refused
// by a verifier configured for host B, whatever the request claims about
// its host (Host header, absolute-form target, TLS state, X-Forwarded-*).
func TestVerifyOriginFromConfiguration(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	const hostA, hostB = "https://a.example", "https://b.example"
	claims := jktClaims(p.JKT())
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"Host header says A", func() *http.Request {
			r := httptest.NewRequest("GET", hostB+"/resource", nil)
			r.Host = "a.example"
			return r
		}},
		{"absolute-form target for A", func() *http.Request {
			r := httptest.NewRequest("GET", hostA+"/resource", nil)
			return r
		}},
		{"forwarded headers say A", func() *http.Request {
			r := httptest.NewRequest("GET", "http://10.0.0.1/resource", nil)
			r.Host = "a.example"
			r.Header.Set("X-Forwarded-Host", "a.example")
			r.Header.Set("X-Forwarded-Proto", "https")
			r.Header.Set("Forwarded", "host=a.example;proto=https")
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proofFor := func(origin string) *http.Request {
				r := tc.req()
				r.Header.Set("Authorization", "DPoP tok")
				proof, err := p.Proof("GET", origin+"/resource", ProofOptions{AccessToken: "tok"})
				require.NoError(t, err)
				r.Header.Set("DPoP", proof)
				return r
			}
			b := &Verifier{BaseURL: hostB, Now: clock(fixedNow)}
			_, err := b.Check(proofFor(hostA), "tok", claims)
			require.ErrorIs(t, err, errProofURI)
			require.ErrorIs(t, err, ErrInvalidProof)

			// The same request with a proof for B passes: only the
			// configured origin counts.
			_, err = b.Check(proofFor(hostB), "tok", claims)
			require.NoError(t, err)
		})
	}

	t.Run("no BaseURL", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest("GET", hostA+"/resource", nil)
		for _, call := range []func(v *Verifier) error{
			func(v *Verifier) error { _, err := v.Check(r, "tok", claims); return err },
			func(v *Verifier) error { _, err := v.VerifyProof(r); return err },
			func(v *Verifier) error { _, err := v.Verify(r); return err },
		} {
			v := &Verifier{Token: func(context.Context, string) (json.RawMessage, error) { return claims, nil }}
			err := call(v)
			require.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "Verifier.BaseURL", ce.Field)
		}
	})
}

// TestVerifyPathPrefix: with a path prefix in BaseURL, a request path that
// is not in clean form is refused: "/../admin" at a server reached as
// https://example.com/api would otherwise expect the htu
// https://example.com/admin, and accept a proof minted for another
// service of the same origin.
func TestVerifyPathPrefix(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	claims := jktClaims(p.JKT())
	v := &Verifier{BaseURL: "https://example.com/api", Now: clock(fixedNow)}
	send := func(t *testing.T, path, htu string) error {
		t.Helper()
		r := httptest.NewRequest("GET", "http://backend:8080/", nil)
		u, err := url.Parse("http://backend:8080" + path)
		require.NoError(t, err)
		r.URL = u // as the server parsed the request target
		r.Header.Set("Authorization", "DPoP tok")
		proof, err := p.Proof("GET", htu, ProofOptions{AccessToken: "tok"})
		require.NoError(t, err)
		r.Header.Set("DPoP", proof)
		_, err = v.Check(r, "tok", claims)
		return err
	}
	for _, tc := range []struct{ name, path, htu string }{
		{"dot-dot", "/../admin", "https://example.com/admin"},
		{"dot-dot inside", "/x/../../admin", "https://example.com/admin"},
		{"dot", "/./resource", "https://example.com/api/resource"},
		{"trailing dot-dot", "/x/..", "https://example.com/api/"},
		{"encoded dot-dot", "/%2e%2e/admin", "https://example.com/admin"},
		{"upper-case encoded dot-dot", "/%2E%2E/admin", "https://example.com/admin"},
		{"half-encoded dot-dot", "/.%2e/admin", "https://example.com/admin"},
		{"encoded slash", "/..%2fadmin", "https://example.com/api/..%2Fadmin"},
		{"encoded backslash", "/..%5cadmin", "https://example.com/api/..%5Cadmin"},
		{"double slash", "//admin", "https://example.com/api//admin"},
		{"empty segment", "/a//b", "https://example.com/api/a//b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := send(t, tc.path, tc.htu)
			require.ErrorIs(t, err, ErrInvalidRequest)
			require.ErrorIs(t, err, errUncleanPath)
		})
	}
	t.Run("clean paths pass", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/resource", "/a/b/", "/", "/a.b/c..d/.e", "/%41%20b"} {
			require.NoError(t, send(t, path, "https://example.com/api"+path), path)
		}
	})
	t.Run("without a prefix, dot segments are normalized", func(t *testing.T) {
		t.Parallel()
		// There is no prefix to escape: RFC 3986 normalization applies.
		v := &Verifier{BaseURL: "https://example.com", Now: clock(fixedNow)}
		r := httptest.NewRequest("GET", "https://example.com/x/../resource", nil)
		r.Header.Set("Authorization", "DPoP tok")
		proof, err := p.Proof("GET", "https://example.com/resource", ProofOptions{AccessToken: "tok"})
		require.NoError(t, err)
		r.Header.Set("DPoP", proof)
		_, err = v.Check(r, "tok", claims)
		require.NoError(t, err)
	})
}

func TestCleanPath(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"/": true, "/a": true, "/a/": true, "/a/b": true, "/a.b": true, "/..a": true, "/a..": true, "/%41": true,
		"": false, "a": false, "//": false, "/a//b": false, "/.": false, "/..": false, "/./a": false, "/a/../b": false,
		"/a/.": false, "/%2e": false, "/%2E%2e": false, "/a%2fb": false, "/a%2F": false, "/a%5cb": false, "/a\\b": false,
		"/%": false, "/%2": false,
	} {
		require.Equal(t, want, cleanPath(path), path)
	}
}

func TestVerifyAuthorizationServer(t *testing.T) {
	t.Parallel()
	// No binding: a token request. ath, if present, is not checked.
	k := newKey(t)
	p := newProofer(t, k, fixedNow)
	v := &Verifier{BaseURL: "https://as.example", Now: clock(fixedNow)}
	proof, err := p.Proof("POST", "https://as.example/token", ProofOptions{AccessToken: "ignored"})
	require.NoError(t, err)
	r := httptest.NewRequest("POST", "/token", nil)
	r.Header.Set("DPoP", proof)
	got, err := v.VerifyProof(r)
	require.NoError(t, err)
	require.Equal(t, p.JKT(), got.JKT)
	require.Empty(t, got.Nonce)
	require.Equal(t, AccessTokenHash("ignored"), got.AccessTokenHash)

	_, err = v.VerifyProof(r)
	require.ErrorIs(t, err, ErrReplay)
	r.Header.Del("DPoP")
	_, err = v.VerifyProof(r)
	require.ErrorIs(t, err, errNoProof)
}

func TestVerifyAlgorithms(t *testing.T) {
	t.Parallel()
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	ec521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"ES256", newKey(t), "ES256"},
		{"ES384", ec384, "ES384"},
		{"ES512", ec521, "ES512"},
		{"EdDSA", ed, "EdDSA"},
		{"PS256", rk, "PS256"},
		{"PS384", rk, "PS384"},
		{"PS512", rk, "PS512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewProofer(ProoferConfig{Key: tc.key, Algorithm: tc.alg, Now: clock(fixedNow)})
			require.NoError(t, err)
			require.Equal(t, tc.alg, p.Algorithm())
			tp, err := jose.Thumbprint(tc.key.Public())
			require.NoError(t, err)
			require.Equal(t, tp, p.JKT())
			proof, err := p.Proof("GET", rsURI, ProofOptions{AccessToken: rsToken})
			require.NoError(t, err)
			b := &binding{token: rsToken, cnf: Confirmation{JKT: p.JKT()}}

			// Outside the default allow-list unless listed.
			def := &Verifier{BaseURL: rsBase, Now: clock(fixedNow)}
			_, err = verifyProof(def, proof, "GET", rsURI, b)
			if contains(jose.DefaultAlgorithms, tc.alg) {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, errProofAlgorithm)
			}
			v := &Verifier{BaseURL: rsBase, Now: clock(fixedNow), Algorithms: []string{tc.alg}}
			got, err := verifyProof(v, proof, "GET", rsURI, b)
			require.NoError(t, err)
			require.Equal(t, p.JKT(), got.JKT, "the verifier's thumbprint equals jose.Thumbprint")
			// cnf.jwk binding works for every key type.
			b.cnf = Confirmation{JWK: tc.key.Public()}
			proof, err = p.Proof("GET", rsURI, ProofOptions{AccessToken: rsToken})
			require.NoError(t, err)
			_, err = verifyProof(v, proof, "GET", rsURI, b)
			require.NoError(t, err)
		})
	}
}

func TestVerifierConfig(t *testing.T) {
	t.Parallel()
	token := func(context.Context, string) (json.RawMessage, error) { return json.RawMessage(`{}`), nil }
	for _, tc := range []struct {
		name  string
		v     *Verifier
		field string
	}{
		{"no BaseURL", &Verifier{}, "Verifier.BaseURL"},
		{"alg none", &Verifier{BaseURL: rsBase, Algorithms: []string{"none"}}, "Verifier.Algorithms"},
		{"HS256", &Verifier{BaseURL: rsBase, Algorithms: []string{"ES256", "HS256"}}, "Verifier.Algorithms"},
		{"empty list", &Verifier{BaseURL: rsBase, Algorithms: []string{}}, "Verifier.Algorithms"},
		{"negative MaxAge", &Verifier{BaseURL: rsBase, MaxAge: -time.Second}, "Verifier.MaxAge"},
		{"negative Skew", &Verifier{BaseURL: rsBase, Skew: -time.Second}, "Verifier.Skew"},
		{"negative MaxProofBytes", &Verifier{BaseURL: rsBase, MaxProofBytes: -1}, "Verifier.MaxProofBytes"},
		{"BaseURL with query", &Verifier{BaseURL: "https://a.example/?x=1"}, "Verifier.BaseURL"},
		{"BaseURL with fragment", &Verifier{BaseURL: "https://a.example/#x"}, "Verifier.BaseURL"},
		{"BaseURL with userinfo", &Verifier{BaseURL: "https://u@a.example/"}, "Verifier.BaseURL"},
		{"BaseURL with dot segments", &Verifier{BaseURL: "https://a.example/api/../x"}, "Verifier.BaseURL"},
		{"relative BaseURL", &Verifier{BaseURL: "/api"}, "Verifier.BaseURL"},
		{"ftp BaseURL", &Verifier{BaseURL: "ftp://a.example"}, "Verifier.BaseURL"},
		{"nonces without secrets", &Verifier{BaseURL: rsBase, Nonces: &Nonces{}}, "Verifier.Nonces.Secrets"},
		{"short nonce secret", &Verifier{BaseURL: rsBase, Nonces: &Nonces{Secrets: [][]byte{[]byte("short")}}}, "Verifier.Nonces.Secrets"},
		{"short nonce lifetime", &Verifier{BaseURL: rsBase, Nonces: &Nonces{Secrets: [][]byte{nonceSecret}, Lifetime: time.Second}}, "Verifier.Nonces.Lifetime"},
		{"jkt checked elsewhere", &Verifier{BaseURL: rsBase, CheckedElsewhere: []string{"jkt"}}, "Verifier.CheckedElsewhere"},
		{"jwk checked elsewhere", &Verifier{BaseURL: rsBase, CheckedElsewhere: []string{"x5t#S256", "jwk"}}, "Verifier.CheckedElsewhere"},
		{"unknown method checked elsewhere", &Verifier{BaseURL: rsBase, CheckedElsewhere: []string{"kid"}}, "Verifier.CheckedElsewhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.v.Token = token
			r := httptest.NewRequest("GET", rsURI, nil)
			r.Header.Set("Authorization", "DPoP tok")
			_, err := tc.v.VerifyProof(r)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field)
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.Equal(t, "dpop: invalid configuration: "+ce.Field+": "+ce.Reason, err.Error())
			_, err = tc.v.Verify(r)
			require.ErrorIs(t, err, ErrInvalidConfig)
			_, err = tc.v.Check(r, "tok", nil)
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.Empty(t, tc.v.Algs())
		})
	}
	t.Run("Verify needs Token", func(t *testing.T) {
		t.Parallel()
		_, err := (&Verifier{BaseURL: rsBase}).Verify(httptest.NewRequest("GET", rsURI, nil))
		var ce *ConfigError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "Verifier.Token", ce.Field)
	})
	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		v := &Verifier{BaseURL: "https://a.example/api/", CheckedElsewhere: []string{"x5t#S256"}}
		require.NoError(t, v.init())
		require.Equal(t, "ES256 PS256 EdDSA", v.Algs())
	})
}

type failingStore struct{ err error }

func (s failingStore) CheckAndStore(context.Context, string, time.Time, time.Time) (bool, error) {
	return false, s.err
}

func TestVerifyReplayStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	t.Run("store failure fails closed", func(t *testing.T) {
		t.Parallel()
		v := f.verifier()
		v.Replay = failingStore{errors.New("connection refused")}
		_, err := verifyProof(v, f.proof(t, nil, nil), "GET", rsURI, f.binding())
		require.ErrorIs(t, err, ErrReplayStore)
	})

	t.Run("key and expiry", func(t *testing.T) {
		t.Parallel()
		var got struct {
			key         string
			iat, expiry time.Time
		}
		v := f.verifier()
		v.Replay = storeFunc(func(_ context.Context, key string, iat, expiry time.Time) (bool, error) {
			got.key, got.iat, got.expiry = key, iat, expiry
			return true, nil
		})
		p, err := verifyProof(v, f.proof(t, nil, nil), "GET", rsURI, f.binding())
		require.NoError(t, err)
		sum := sha256.Sum256([]byte(p.JKT + "\x00" + p.ID))
		require.Equal(t, b64.EncodeToString(sum[:]), got.key, "keyed by SHA-256(jkt, jti)")
		require.Equal(t, fixedNow.Add(DefaultMaxAge+2*DefaultSkew+replayMargin), got.expiry, "remembered a Skew and a second past the window")
		require.Equal(t, fixedNow, got.iat)
	})

	t.Run("invalid proofs use up no jti", func(t *testing.T) {
		t.Parallel()
		calls := 0
		v := f.verifier()
		v.Replay = storeFunc(func(context.Context, string, time.Time, time.Time) (bool, error) { calls++; return true, nil })
		_, err := verifyProof(v, rawES256(t, newKey(t), f.header(nil), f.claims(nil)), "GET", rsURI, f.binding())
		require.ErrorIs(t, err, errProofSignature)
		_, err = verifyProof(v, f.proof(t, nil, nil), "GET", rsURI, &binding{token: rsToken, cnf: Confirmation{JKT: AccessTokenHash("x")}})
		require.ErrorIs(t, err, ErrBindingMismatch)
		require.Zero(t, calls)
	})

	t.Run("same jti from another key is not a replay", func(t *testing.T) {
		t.Parallel()
		v := &Verifier{BaseURL: rsBase, Now: clock(fixedNow)}
		claims := f.claims(func(m map[string]string) { m["ath"], m["nonce"] = "", "" })
		_, err := verifyProof(v, rawES256(t, f.key, f.header(nil), claims), "GET", rsURI, nil)
		require.NoError(t, err)
		k2 := newKey(t)
		h2 := f.header(func(m map[string]string) { m["jwk"] = publicJWK(t, k2.Public()) })
		_, err = verifyProof(v, rawES256(t, k2, h2, claims), "GET", rsURI, nil)
		require.NoError(t, err)
		// The same key and jti, even with a new signature, is a replay.
		_, err = verifyProof(v, rawES256(t, k2, h2, claims), "GET", rsURI, nil)
		require.ErrorIs(t, err, ErrReplay)
	})
}

type storeFunc func(ctx context.Context, key string, iat, expiry time.Time) (bool, error)

func (f storeFunc) CheckAndStore(ctx context.Context, key string, iat, expiry time.Time) (bool, error) {
	return f(ctx, key, iat, expiry)
}

// TestVerifyConcurrentReplay: one proof sent by many goroutines at the same
// instant is accepted exactly once.
func TestVerifyConcurrentReplay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	v := f.verifier()
	for round := range 5 {
		proof := f.proof(t, nil, nil)
		const n = 32
		start := make(chan struct{})
		var wg sync.WaitGroup
		var ok, replayed atomic.Int32
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := verifyProof(v, proof, "GET", rsURI, f.binding())
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrReplay):
					replayed.Add(1)
				default:
					panic(fmt.Sprint("unexpected error: ", err))
				}
			}()
		}
		close(start)
		wg.Wait()
		require.EqualValues(t, 1, ok.Load(), "round %d", round)
		require.EqualValues(t, n-1, replayed.Load())
	}
}

func TestProofTypeVariants(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, typ := range []string{"dpop+jwt", "DPoP+JWT", "application/dpop+jwt", "Application/DPOP+jwt"} {
		proof := f.proof(t, func(m map[string]string) { m["typ"] = q(typ) }, nil)
		_, err := verifyProof(f.verifier(), proof, "GET", rsURI, f.binding())
		require.NoError(t, err, typ)
	}
	for _, typ := range []string{"application/jwt", "dpop", "dpop+jwt ", "text/dpop+jwt", "application/application/dpop+jwt"} {
		proof := f.proof(t, func(m map[string]string) { m["typ"] = q(typ) }, nil)
		_, err := verifyProof(f.verifier(), proof, "GET", rsURI, f.binding())
		require.ErrorIs(t, err, errProofType, typ)
	}
}

// A proof's key is an unauthenticated client's choice, and the cost of an
// RSA verification grows with the modulus: an RSA-16384 key with a 31-bit
// exponent costs some 400 ES256 verifications. Keys over
// jose.MaxProofRSABits (4096) are refused before any signature work.
func TestVerifyProofRSAKeySize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		bits int
		want error
	}{
		{16384, errProofKey},
		{4104, errProofKey}, // 513 bytes: just over the bound
		{4096, errProofSignature},
	} {
		t.Run(strconv.Itoa(tc.bits), func(t *testing.T) {
			t.Parallel()
			n := make([]byte, (tc.bits+7)/8)
			_, _ = rand.Read(n)
			n[0] |= 0x80
			n[len(n)-1] |= 1
			e := []byte{0x7f, 0xff, 0xff, 0xff} // 2^31-1
			jwk := `{"kty":"RSA","n":"` + b64.EncodeToString(n) + `","e":"` + b64.EncodeToString(e) + `"}`
			header := `{"typ":"dpop+jwt","alg":"PS256","jwk":` + jwk + `}`
			payload := claimsJSON("jti", q("x1"), "htm", q("POST"), "htu", q("https://as.example/token"), "iat", strconv.FormatInt(fixedNow.Unix(), 10))
			sig := make([]byte, len(n))
			_, _ = rand.Read(sig)
			sig[0] = 0
			proof := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(sig)
			require.Less(t, len(proof), DefaultMaxProofBytes)
			v := &Verifier{BaseURL: "https://as.example", Now: clock(fixedNow)}
			_, err := v.VerifyProof(tokenRequest(proof))
			require.ErrorIs(t, err, tc.want)
		})
	}
}
