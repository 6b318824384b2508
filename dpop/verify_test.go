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
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	return &Verifier{Now: clock(fixedNow), Nonces: f.nonces}
}

func (f *fixture) binding() *Binding {
	return &Binding{AccessToken: rsToken, Confirmation: Confirmation{JKT: f.jkt}}
}

func TestVerifyValid(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	proof := f.proof(t, nil, nil)
	v := f.verifier()
	p, err := v.VerifyProof(context.Background(), proof, "GET", rsURI, f.binding())
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
	_, err = v.VerifyProof(context.Background(), proof, "GET", rsURI, f.binding())
	require.ErrorIs(t, err, ErrProofReplayed)
	require.ErrorIs(t, err, ErrInvalidProof)
	var pe *ProofError
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
	privJWK := func() string {
		b, err := MarshalPrivateJWK(f.key)
		require.NoError(t, err)
		return string(b)
	}()
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
		b      *Binding
		v      func(*Verifier)
		want   []error
	}{
		// Check 2: a single well-formed JWT.
		{name: "empty", proof: "", want: []error{ErrMalformedProof}},
		{name: "one segment", proof: "abc", want: []error{ErrMalformedProof}},
		{name: "two segments", proof: parts[0] + "." + parts[1], want: []error{ErrMalformedProof}},
		{name: "four segments", proof: valid + ".x", want: []error{ErrMalformedProof}},
		{name: "JWE instead of JWS", proof: jwe, want: []error{ErrMalformedProof}},
		{name: "empty signature", proof: parts[0] + "." + parts[1] + ".", want: []error{ErrMalformedProof}},
		{name: "empty header", proof: "." + parts[1] + "." + parts[2], want: []error{ErrMalformedProof}},
		{name: "padded base64", proof: parts[0] + "=." + parts[1] + "." + parts[2], want: []error{ErrMalformedProof}},
		{name: "standard base64 alphabet", proof: strings.ReplaceAll(parts[0], "_", "/") + "+." + parts[1] + "." + parts[2], want: []error{ErrMalformedProof}},
		{name: "header not JSON", proof: b64.EncodeToString([]byte("not json")) + "." + parts[1] + "." + parts[2], want: []error{ErrMalformedProof}},
		{name: "header JSON array", proof: b64.EncodeToString([]byte(`["typ"]`)) + "." + parts[1] + "." + parts[2], want: []error{ErrMalformedProof}},
		{name: "header trailing data", proof: rawES256(t, f.key, f.header(nil)+"{}", f.claims(nil)), want: []error{ErrMalformedProof}},
		{name: "claims not JSON", proof: rawES256(t, f.key, f.header(nil), "nope"), want: []error{ErrMalformedProof}},
		{name: "duplicate header member", proof: rawES256(t, f.key, `{"typ":"dpop+jwt","alg":"ES256","alg":"ES256","jwk":`+f.jwk+`}`, f.claims(nil)), want: []error{ErrMalformedProof}},
		{name: "duplicate claim htu", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+`,"htu":"https://evil.example/resource"}`), want: []error{ErrMalformedProof}},
		{name: "duplicate claim via escape", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+`,"ht\u0075":"https://evil.example/resource"}`), want: []error{ErrMalformedProof}},
		{name: "case-variant claim beside htu", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+`,"HTU":"https://evil.example/resource"}`), want: []error{ErrMalformedProof}},
		{name: "case-variant header beside alg", proof: rawES256(t, f.key, `{"typ":"dpop+jwt","alg":"ES256","ALG":"none","jwk":`+f.jwk+`}`, f.claims(nil)), want: []error{ErrMalformedProof}},
		{name: "KELVIN SIGN duplicate in jwk", proof: rawES256(t, f.key, `{"typ":"dpop+jwt","alg":"ES256","jwk":`+strings.Replace(f.jwk, `"kty"`, `"\u212Aty":"RSA","kty"`, 1)+`}`, f.claims(nil)), want: []error{ErrMalformedProof}},
		{name: "duplicate unknown claim", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+`,"x":1,"X":2}`), want: []error{ErrMalformedProof}},
		{name: "invalid UTF-8 in an unknown claim", proof: rawES256(t, f.key, f.header(nil), strings.TrimSuffix(f.claims(nil), "}")+",\"x\":\"\xff\"}"), want: []error{ErrMalformedProof}},
		{name: "unpaired surrogate in jti", proof: f.proof(t, nil, func(m map[string]string) { m["jti"] = `"\ud800"` }), want: []error{ErrMalformedProof}},
		{name: "crit header", proof: f.proof(t, func(m map[string]string) { m["crit"] = `["exp"]` }, nil), want: []error{ErrMalformedProof}},
		{name: "JWE members in header", proof: f.proof(t, func(m map[string]string) { m["enc"] = q("A256GCM") }, nil), want: []error{ErrMalformedProof}},
		{name: "too large", proof: strings.Repeat("a", DefaultMaxProofBytes+1), want: []error{ErrProofTooLarge}},
		{name: "100 KB", proof: strings.Repeat("eyJ0", 25<<10), want: []error{ErrProofTooLarge}},

		// Check 3: required claims.
		{name: "no jti", proof: f.proof(t, nil, func(m map[string]string) { m["jti"] = "" }), want: []error{ErrMalformedProof}},
		{name: "empty jti", proof: f.proof(t, nil, func(m map[string]string) { m["jti"] = `""` }), want: []error{ErrMalformedProof}},
		{name: "no htm", proof: f.proof(t, nil, func(m map[string]string) { m["htm"] = "" }), want: []error{ErrMalformedProof}},
		{name: "no htu", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = "" }), want: []error{ErrMalformedProof}},
		{name: "no iat", proof: f.proof(t, nil, func(m map[string]string) { m["iat"] = "" }), want: []error{ErrMalformedProof}},
		{name: "iat as string", proof: f.proof(t, nil, func(m map[string]string) { m["iat"] = q(strconv.FormatInt(fixedNow.Unix(), 10)) }), want: []error{ErrMalformedProof}},
		{name: "negative iat", proof: f.proof(t, nil, func(m map[string]string) { m["iat"] = "-1" }), want: []error{ErrMalformedProof}},
		{name: "htu as number", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = "1" }), want: []error{ErrMalformedProof}},
		{name: "jti too long", proof: f.proof(t, nil, func(m map[string]string) { m["jti"] = q(strings.Repeat("j", maxJTI+1)) }), want: []error{ErrMalformedProof}},

		// Check 4: typ.
		{name: "no typ", proof: f.proof(t, func(m map[string]string) { m["typ"] = "" }, nil), want: []error{ErrProofType}},
		{name: "typ JWT", proof: f.proof(t, func(m map[string]string) { m["typ"] = q("JWT") }, nil), want: []error{ErrProofType}},
		{name: "typ at+jwt", proof: f.proof(t, func(m map[string]string) { m["typ"] = q("at+jwt") }, nil), want: []error{ErrProofType}},
		{name: "typ number", proof: f.proof(t, func(m map[string]string) { m["typ"] = "1" }, nil), want: []error{ErrProofType}},

		// Check 5: alg.
		{name: "alg none unsigned", proof: none, want: []error{ErrMalformedProof}},
		{name: "alg none with signature", proof: noneSig, want: []error{ErrProofAlgorithm}},
		{name: "HS256 signed with the public key", proof: hs256, want: []error{ErrProofAlgorithm}},
		{name: "no alg", proof: f.proof(t, func(m map[string]string) { m["alg"] = "" }, nil), want: []error{ErrProofAlgorithm}},
		{name: "unknown alg", proof: f.proof(t, func(m map[string]string) { m["alg"] = q("ES257") }, nil), want: []error{ErrProofAlgorithm}},
		{name: "RS256 not allowed", proof: f.proof(t, func(m map[string]string) { m["alg"] = q("RS256") }, nil), want: []error{ErrProofAlgorithm}},
		{name: "EdDSA outside the allow-list", proof: edProof, v: func(v *Verifier) { v.Algorithms = []string{"ES256"} }, want: []error{ErrProofAlgorithm}},

		// Check 6: signature.
		{name: "bad signature", proof: parts[0] + "." + parts[1] + "." + b64.EncodeToString(sigES256(t, f.key, "something else")), want: []error{ErrProofSignature}},
		{name: "signed by another key", proof: rawES256(t, other, f.header(nil), f.claims(nil)), want: []error{ErrProofSignature}},
		{name: "claims swapped after signing", proof: parts[0] + "." + b64.EncodeToString([]byte(f.claims(nil))) + "." + parts[2], want: []error{ErrProofSignature}},
		{name: "short signature", proof: parts[0] + "." + parts[1] + "." + parts[2][:40], want: []error{ErrProofSignature}},

		// Check 7: jwk public only, and usable.
		{name: "jwk with d", proof: f.proof(t, func(m map[string]string) { m["jwk"] = privJWK }, nil), want: []error{ErrProofKey}},
		{name: "no jwk", proof: f.proof(t, func(m map[string]string) { m["jwk"] = "" }, nil), want: []error{ErrProofKey}},
		{name: "symmetric jwk", proof: f.proof(t, func(m map[string]string) { m["jwk"] = `{"kty":"oct","k":"c2VjcmV0"}` }, nil), want: []error{ErrProofKey}},
		{name: "point off the curve", proof: f.proof(t, func(m map[string]string) {
			m["jwk"] = `{"kty":"EC","crv":"P-256","x":"` + b64.EncodeToString(make([]byte, 32)) + `","y":"` + b64.EncodeToString(append(make([]byte, 31), 1)) + `"}`
		}, nil), want: []error{ErrProofKey}},
		{name: "unknown curve", proof: f.proof(t, func(m map[string]string) { m["jwk"] = strings.Replace(f.jwk, "P-256", "P-257", 1) }, nil), want: []error{ErrProofKey}},
		{name: "jwk not an object", proof: f.proof(t, func(m map[string]string) { m["jwk"] = q("key") }, nil), want: []error{ErrMalformedProof}},
		{name: "RSA jwk under 2048 bits", proof: f.proof(t, func(m map[string]string) { m["alg"] = q("PS256"); m["jwk"] = rsaJWK(&rsaSmall.PublicKey) }, nil), want: []error{ErrProofKey}},
		{name: "Ed25519 jwk with alg ES256", proof: f.proof(t, func(m map[string]string) { m["jwk"] = publicJWK(t, edKey.Public()) }, nil), want: []error{ErrProofKey}},

		// Check 8: htm.
		{name: "htm POST for GET", proof: f.proof(t, nil, func(m map[string]string) { m["htm"] = q("POST") }), want: []error{ErrProofMethod}},
		{name: "htm lower case", proof: f.proof(t, nil, func(m map[string]string) { m["htm"] = q("get") }), want: []error{ErrProofMethod}},

		// Check 9: htu.
		{name: "htu other path", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://rs.example/other") }), want: []error{ErrProofURI}},
		{name: "htu other host", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://evil.example/resource") }), want: []error{ErrProofURI}},
		{name: "htu other port", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://rs.example:8443/resource") }), want: []error{ErrProofURI}},
		{name: "htu http for https", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("http://rs.example/resource") }), want: []error{ErrProofURI}},
		{name: "htu path case differs", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://rs.example/Resource") }), want: []error{ErrProofURI}},
		{name: "htu with userinfo", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://user@rs.example/resource") }), want: []error{ErrProofURI}},
		{name: "htu relative", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("/resource") }), want: []error{ErrProofURI}},
		{name: "htu encoded slash", proof: f.proof(t, nil, func(m map[string]string) { m["htu"] = q("https://rs.example%2Fresource") }), want: []error{ErrProofURI}},

		// Check 10: nonce.
		{name: "no nonce", proof: f.proof(t, nil, func(m map[string]string) { m["nonce"] = "" }), want: []error{ErrNonceMissing, ErrUseNonce}},
		{name: "forged nonce", proof: f.proof(t, nil, func(m map[string]string) { m["nonce"] = q(b64.EncodeToString(make([]byte, nonceLen))) }), want: []error{ErrNonceInvalid, ErrUseNonce}},
		{name: "empty nonce", proof: f.proof(t, nil, func(m map[string]string) { m["nonce"] = `""` }), want: []error{ErrNonceInvalid, ErrUseNonce}},
		{name: "nonce of another secret", proof: f.proof(t, nil, func(m map[string]string) {
			n, err := (&Nonces{Secrets: [][]byte{[]byte(strings.Repeat("x", 32))}, Now: clock(fixedNow)}).New()
			require.NoError(t, err)
			m["nonce"] = q(n)
		}), want: []error{ErrNonceInvalid, ErrUseNonce}},
		{name: "expired nonce", proof: f.proof(t, nil, func(m map[string]string) {
			n, err := (&Nonces{Secrets: [][]byte{nonceSecret}, Now: clock(fixedNow.Add(-DefaultNonceLifetime - time.Second))}).New()
			require.NoError(t, err)
			m["nonce"] = q(n)
		}), want: []error{ErrNonceInvalid, ErrUseNonce}},

		// Check 11: iat window.
		{name: "iat too old", proof: f.proof(t, nil, func(m map[string]string) {
			m["iat"] = strconv.FormatInt(fixedNow.Add(-DefaultMaxAge-DefaultSkew-time.Second).Unix(), 10)
		}), want: []error{ErrProofExpired}},
		{name: "iat in the future", proof: f.proof(t, nil, func(m map[string]string) {
			m["iat"] = strconv.FormatInt(fixedNow.Add(DefaultSkew+time.Second).Unix(), 10)
		}), want: []error{ErrProofNotYetValid}},
		{name: "iat far in the future", proof: f.proof(t, nil, func(m map[string]string) { m["iat"] = "1099511627776" }), want: []error{ErrProofNotYetValid}},
		{name: "iat older than a custom MaxAge", proof: f.proof(t, nil, func(m map[string]string) {
			m["iat"] = strconv.FormatInt(fixedNow.Add(-40*time.Second).Unix(), 10)
		}), v: func(v *Verifier) { v.MaxAge = 20 * time.Second; v.Skew = 10 * time.Second }, want: []error{ErrProofExpired}},

		// Check 12: ath and key binding.
		{name: "no ath", proof: f.proof(t, nil, func(m map[string]string) { m["ath"] = "" }), want: []error{ErrAccessTokenHash}},
		{name: "ath of another token", proof: f.proof(t, nil, func(m map[string]string) { m["ath"] = q(AccessTokenHash("another-token")) }), want: []error{ErrAccessTokenHash}},
		{name: "ath not base64url", proof: f.proof(t, nil, func(m map[string]string) { m["ath"] = q("not an ath") }), want: []error{ErrAccessTokenHash}},
		{name: "token bound to another key", proof: f.proof(t, nil, nil), b: &Binding{AccessToken: rsToken, Confirmation: Confirmation{JKT: otherJKT}}, want: []error{ErrKeyBinding}},
		{name: "token bound by jwk to another key", proof: f.proof(t, nil, nil), b: &Binding{AccessToken: rsToken, Confirmation: Confirmation{JWK: other.Public()}}, want: []error{ErrKeyBinding}},
		{name: "jkt matches but jwk does not", proof: f.proof(t, nil, nil), b: &Binding{AccessToken: rsToken, Confirmation: Confirmation{JKT: f.jkt, JWK: other.Public()}}, want: []error{ErrKeyBinding}},
		{name: "unbound token", proof: f.proof(t, nil, nil), b: &Binding{AccessToken: rsToken}, want: []error{ErrNoBinding}},
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
			p, err := v.VerifyProof(context.Background(), tc.proof, method, uri, b)
			require.Nil(t, p)
			for _, want := range tc.want {
				require.ErrorIs(t, err, want)
			}
			var pe *ProofError
			require.ErrorAs(t, err, &pe)
			switch {
			case errors.Is(err, ErrUseNonce):
				require.Equal(t, CodeUseNonce, pe.Code)
			case errors.Is(err, ErrKeyBinding), errors.Is(err, ErrNoBinding):
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
			_, err := f.verifier().VerifyProof(context.Background(), proof, "GET", tc.uri, f.binding())
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrProofURI)
			}
		})
	}
}

func TestVerifyRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	newReq := func(target string, proofs ...string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		for _, p := range proofs {
			r.Header.Add("DPoP", p)
		}
		return r
	}

	t.Run("from the request", func(t *testing.T) {
		t.Parallel()
		r := newReq(rsURI+"?q=1", f.proof(t, nil, nil))
		p, err := f.verifier().Verify(r, f.binding())
		require.NoError(t, err)
		require.Equal(t, f.jkt, p.JKT)
	})
	t.Run("two DPoP headers", func(t *testing.T) {
		t.Parallel()
		r := newReq(rsURI, f.proof(t, nil, nil), f.proof(t, nil, nil))
		_, err := f.verifier().Verify(r, f.binding())
		require.ErrorIs(t, err, ErrMultipleProofs)
		require.ErrorIs(t, err, ErrInvalidProof)
	})
	t.Run("no DPoP header", func(t *testing.T) {
		t.Parallel()
		_, err := f.verifier().Verify(newReq(rsURI), f.binding())
		require.ErrorIs(t, err, ErrNoProof)
	})
	t.Run("empty DPoP header", func(t *testing.T) {
		t.Parallel()
		_, err := f.verifier().Verify(newReq(rsURI, ""), f.binding())
		require.ErrorIs(t, err, ErrMalformedProof)
	})
	t.Run("plain http request", func(t *testing.T) {
		t.Parallel()
		r := newReq("http://rs.example/resource", f.proof(t, nil, nil))
		r.TLS = nil
		_, err := f.verifier().Verify(r, f.binding())
		require.ErrorIs(t, err, ErrProofURI, "the request arrived over http, the proof names https")
	})
	t.Run("host header differs", func(t *testing.T) {
		t.Parallel()
		r := newReq(rsURI, f.proof(t, nil, nil))
		r.Host = "internal:8080"
		_, err := f.verifier().Verify(r, f.binding())
		require.ErrorIs(t, err, ErrProofURI)
	})
	t.Run("behind a TLS-terminating proxy", func(t *testing.T) {
		t.Parallel()
		// The proxy forwards https://api.example/v1/resource to
		// http://10.0.0.5:8080/resource, stripping /v1.
		r := httptest.NewRequest("POST", "http://10.0.0.5:8080/resource", nil)
		r.TLS = nil
		r.Header.Set("X-Forwarded-Host", "evil.example")
		r.Header.Set("DPoP", f.proof(t, nil, func(m map[string]string) {
			m["htm"] = q("POST")
			m["htu"] = q("https://api.example/v1/resource")
		}))
		v := f.verifier()
		v.BaseURL = "https://API.example:443/v1/"
		require.Equal(t, "https://api.example/v1/resource", v.RequestURI(r))
		_, err := v.Verify(r, f.binding())
		require.NoError(t, err)

		r.Header.Set("DPoP", f.proof(t, nil, func(m map[string]string) {
			m["htm"] = q("POST")
			m["htu"] = q("https://evil.example/v1/resource")
		}))
		_, err = v.Verify(r, f.binding())
		require.ErrorIs(t, err, ErrProofURI, "X-Forwarded-Host is never believed")
	})
}

func TestVerifyAuthorizationServer(t *testing.T) {
	t.Parallel()
	// No binding: a token request. ath, if present, is not checked.
	k := newKey(t)
	p := newProofer(t, k, fixedNow)
	v := &Verifier{Now: clock(fixedNow)}
	proof, err := p.Proof("POST", "https://as.example/token", ProofOptions{})
	require.NoError(t, err)
	got, err := v.VerifyProof(context.Background(), proof, "POST", "https://as.example/token", nil)
	require.NoError(t, err)
	require.Equal(t, p.JKT(), got.JKT)
	require.Empty(t, got.Nonce)
	require.Empty(t, got.AccessTokenHash)
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
			b := &Binding{AccessToken: rsToken, Confirmation: Confirmation{JKT: p.JKT()}}

			// Outside the default allow-list unless listed.
			def := &Verifier{Now: clock(fixedNow)}
			_, err = def.VerifyProof(context.Background(), proof, "GET", rsURI, b)
			if contains(jose.DefaultAlgorithms, tc.alg) {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrProofAlgorithm)
			}
			v := &Verifier{Now: clock(fixedNow), Algorithms: []string{tc.alg}}
			got, err := v.VerifyProof(context.Background(), proof, "GET", rsURI, b)
			require.NoError(t, err)
			require.Equal(t, p.JKT(), got.JKT, "the verifier's thumbprint equals jose.Thumbprint")
			// cnf.jwk binding works for every key type.
			b.Confirmation = Confirmation{JWK: tc.key.Public()}
			proof, err = p.Proof("GET", rsURI, ProofOptions{AccessToken: rsToken})
			require.NoError(t, err)
			_, err = v.VerifyProof(context.Background(), proof, "GET", rsURI, b)
			require.NoError(t, err)
		})
	}
}

func TestVerifierConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		v    *Verifier
	}{
		{"alg none", &Verifier{Algorithms: []string{"none"}}},
		{"HS256", &Verifier{Algorithms: []string{"ES256", "HS256"}}},
		{"empty list", &Verifier{Algorithms: []string{}}},
		{"negative MaxAge", &Verifier{MaxAge: -time.Second}},
		{"negative Skew", &Verifier{Skew: -time.Second}},
		{"BaseURL with query", &Verifier{BaseURL: "https://a.example/?x=1"}},
		{"relative BaseURL", &Verifier{BaseURL: "/api"}},
		{"ftp BaseURL", &Verifier{BaseURL: "ftp://a.example"}},
		{"nonces without secrets", &Verifier{Nonces: &Nonces{}}},
		{"short nonce secret", &Verifier{Nonces: &Nonces{Secrets: [][]byte{[]byte("short")}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.v.VerifyProof(context.Background(), "a.b.c", "GET", rsURI, nil)
			require.ErrorIs(t, err, ErrInvalidConfig)
			_, err = tc.v.Verify(httptest.NewRequest("GET", rsURI, nil), nil)
			require.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
	t.Run("binding without token", func(t *testing.T) {
		t.Parallel()
		_, err := (&Verifier{}).VerifyProof(context.Background(), "a.b.c", "GET", rsURI, &Binding{})
		require.ErrorIs(t, err, ErrInvalidConfig)
	})
}

type failingStore struct{ err error }

func (s failingStore) CheckAndStore(context.Context, string, time.Time) (bool, error) {
	return false, s.err
}

func TestVerifyReplayStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	t.Run("store failure fails closed", func(t *testing.T) {
		t.Parallel()
		v := f.verifier()
		v.Replay = failingStore{errors.New("connection refused")}
		_, err := v.VerifyProof(context.Background(), f.proof(t, nil, nil), "GET", rsURI, f.binding())
		require.ErrorIs(t, err, ErrReplayStore)
	})

	t.Run("key and expiry", func(t *testing.T) {
		t.Parallel()
		var got struct {
			key    string
			expiry time.Time
		}
		v := f.verifier()
		v.Replay = storeFunc(func(_ context.Context, key string, expiry time.Time) (bool, error) {
			got.key, got.expiry = key, expiry
			return true, nil
		})
		p, err := v.VerifyProof(context.Background(), f.proof(t, nil, nil), "GET", rsURI, f.binding())
		require.NoError(t, err)
		sum := sha256.Sum256([]byte(p.JKT + "\x00" + p.ID))
		require.Equal(t, b64.EncodeToString(sum[:]), got.key, "keyed by SHA-256(jkt, jti)")
		require.Equal(t, fixedNow.Add(DefaultMaxAge+DefaultSkew), got.expiry, "remembered until the proof leaves the window")
	})

	t.Run("invalid proofs use up no jti", func(t *testing.T) {
		t.Parallel()
		calls := 0
		v := f.verifier()
		v.Replay = storeFunc(func(context.Context, string, time.Time) (bool, error) { calls++; return true, nil })
		_, err := v.VerifyProof(context.Background(), rawES256(t, newKey(t), f.header(nil), f.claims(nil)), "GET", rsURI, f.binding())
		require.ErrorIs(t, err, ErrProofSignature)
		_, err = v.VerifyProof(context.Background(), f.proof(t, nil, nil), "GET", rsURI, &Binding{AccessToken: rsToken, Confirmation: Confirmation{JKT: AccessTokenHash("x")}})
		require.ErrorIs(t, err, ErrKeyBinding)
		require.Zero(t, calls)
	})

	t.Run("same jti from another key is not a replay", func(t *testing.T) {
		t.Parallel()
		v := &Verifier{Now: clock(fixedNow)}
		claims := f.claims(func(m map[string]string) { m["ath"], m["nonce"] = "", "" })
		_, err := v.VerifyProof(context.Background(), rawES256(t, f.key, f.header(nil), claims), "GET", rsURI, nil)
		require.NoError(t, err)
		k2 := newKey(t)
		h2 := f.header(func(m map[string]string) { m["jwk"] = publicJWK(t, k2.Public()) })
		_, err = v.VerifyProof(context.Background(), rawES256(t, k2, h2, claims), "GET", rsURI, nil)
		require.NoError(t, err)
		// The same key and jti, even with a new signature, is a replay.
		_, err = v.VerifyProof(context.Background(), rawES256(t, k2, h2, claims), "GET", rsURI, nil)
		require.ErrorIs(t, err, ErrProofReplayed)
	})
}

type storeFunc func(ctx context.Context, key string, expiry time.Time) (bool, error)

func (f storeFunc) CheckAndStore(ctx context.Context, key string, expiry time.Time) (bool, error) {
	return f(ctx, key, expiry)
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
				_, err := v.VerifyProof(context.Background(), proof, "GET", rsURI, f.binding())
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrProofReplayed):
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
		_, err := f.verifier().VerifyProof(t.Context(), proof, "GET", rsURI, f.binding())
		require.NoError(t, err, typ)
	}
	for _, typ := range []string{"application/jwt", "dpop", "dpop+jwt ", "text/dpop+jwt", "application/application/dpop+jwt"} {
		proof := f.proof(t, func(m map[string]string) { m["typ"] = q(typ) }, nil)
		_, err := f.verifier().VerifyProof(t.Context(), proof, "GET", rsURI, f.binding())
		require.ErrorIs(t, err, ErrProofType, typ)
	}
}
