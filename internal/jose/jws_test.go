package jose

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func signers(t *testing.T) []struct {
	alg string
	key crypto.Signer
} {
	t.Helper()
	return []struct {
		alg string
		key crypto.Signer
	}{
		{ES256, ecP256()}, {ES384, ecP384()}, {ES512, ecP521()},
		{PS256, rsa2048()}, {PS384, rsa2048()}, {PS512, rsa2048()},
		{RS256, rsa2048()}, {RS384, rsa2048()}, {RS512, rsa2048()},
		{EdDSA, edKey()},
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, sk := range signers(t) {
		for _, kms := range []bool{false, true} {
			name := sk.alg
			if kms {
				name += "/kms"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var key crypto.Signer = sk.key
				var wrapper *kmsSigner
				if kms {
					wrapper = newKMS(sk.key)
					key = wrapper
				}
				s, err := NewSigner(key, SignerOptions{Algorithm: sk.alg, Type: "dpop+jwt", KeyID: "k1", EmbedJWK: true})
				require.NoError(t, err)
				require.Equal(t, sk.alg, s.Algorithm())
				payload := []byte(`{"jti":"abc","iat":1700000000}`)
				tok, err := s.Sign(payload)
				require.NoError(t, err)
				require.Equal(t, 3, Segments(tok))
				if kms {
					require.Equal(t, 1, wrapper.calls)
				}

				j, err := ParseCompact(tok)
				require.NoError(t, err)
				require.Equal(t, sk.alg, j.Header.Alg)
				require.Equal(t, "dpop+jwt", j.Header.Typ)
				require.Equal(t, "k1", j.Header.Kid)
				require.Equal(t, payload, j.Payload)

				require.NoError(t, j.Verify(sk.key.Public(), []string{sk.alg}))
				require.NoError(t, j.Verify(sk.key, []string{sk.alg}), "a crypto.Signer stands for its public key")
				emb, err := j.VerifyEmbedded([]string{sk.alg})
				require.NoError(t, err)
				tp1, err := emb.Thumbprint()
				require.NoError(t, err)
				tp2, err := Thumbprint(s.Public())
				require.NoError(t, err)
				require.Equal(t, tp2, tp1)

				used, err := j.VerifyWith(context.Background(), StaticKeys{{Key: sk.key.Public(), KeyID: "k1"}}, []string{ES256, sk.alg})
				require.NoError(t, err)
				require.Equal(t, "k1", used.KeyID)

				// The same token under another allow-list is refused.
				other := ES256
				if sk.alg == ES256 {
					other = EdDSA
				}
				require.ErrorIs(t, j.Verify(sk.key.Public(), []string{other}), ErrAlgorithmNotAllowed)
			})
		}
	}
}

func TestSignerDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"P-256", ecP256(), ES256},
		{"P-384", ecP384(), ES384},
		{"P-521", ecP521(), ES512},
		{"Ed25519", edKey(), EdDSA},
		{"RSA", rsa2048(), PS256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSigner(tc.key, SignerOptions{})
			require.NoError(t, err)
			require.Equal(t, tc.alg, s.Algorithm())
			tok, err := s.SignJSON(map[string]string{"sub": "alice"})
			require.NoError(t, err)
			j, err := ParseCompact(tok)
			require.NoError(t, err)
			require.Empty(t, j.Header.Typ)
			require.Empty(t, j.Header.Kid)
			require.Nil(t, j.Header.JWK)
			require.NoError(t, j.Verify(tc.key.Public(), []string{tc.alg}))
		})
	}
}

func TestSignerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  crypto.Signer
		alg  string
		want error
	}{
		{"nil key", nil, ES256, ErrUnsupportedKey},
		{"EC key with PS256", ecP256(), PS256, ErrKeyMismatch},
		{"P-384 key with ES256", ecP384(), ES256, ErrKeyMismatch},
		{"P-256 key with ES512", ecP256(), ES512, ErrKeyMismatch},
		{"Ed25519 key with ES256", edKey(), ES256, ErrKeyMismatch},
		{"RSA key with EdDSA", rsa2048(), EdDSA, ErrKeyMismatch},
		{"RSA key with ES256", rsa2048(), ES256, ErrKeyMismatch},
		{"RSA 1024 key", rsa1024(), PS256, ErrUnsupportedKey},
		{"RSA 1024 key, default alg", rsa1024(), "", ErrUnsupportedKey},
		{"HS256", ecP256(), "HS256", ErrAlgorithmNotAllowed},
		{"none", ecP256(), "none", ErrAlgorithmNotAllowed},
		{"lower-case es256", ecP256(), "es256", ErrAlgorithmNotAllowed},
		{"KMS with an unsupported key", fixedSigner(struct{}{}, nil, nil), ES256, ErrUnsupportedKey},
		{"KMS with a nil public key", fixedSigner(nil, nil, nil), ES256, ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewSigner(tc.key, SignerOptions{Algorithm: tc.alg})
			require.ErrorIs(t, err, tc.want)
		})
	}

	t.Run("claims that do not marshal", func(t *testing.T) {
		t.Parallel()
		s, err := NewSigner(ecP256(), SignerOptions{})
		require.NoError(t, err)
		_, err = s.SignJSON(map[string]any{"f": func() {}})
		require.ErrorIs(t, err, ErrMalformed)
	})
}

// TestSignerFaultySigner covers signers that fail or return signatures in
// a form the algorithm does not allow.
func TestSignerFaultySigner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		alg  string
		pub  crypto.PublicKey
		sig  []byte
		err  error
		want error
	}{
		{"signer error", ES256, ecP256().Public(), nil, errHSM, errHSM},
		{"ECDSA raw R||S instead of DER", ES256, ecP256().Public(), make([]byte, 64), nil, ErrMalformed},
		{"ECDSA empty", ES256, ecP256().Public(), nil, nil, ErrMalformed},
		{"ECDSA DER with r too wide", ES256, ecP256().Public(), derSig(make33(), []byte{1}), nil, ErrMalformed},
		{"ECDSA DER with trailing bytes", ES256, ecP256().Public(), append(derSig([]byte{1}, []byte{1}), 0), nil, ErrMalformed},
		{"Ed25519 short", EdDSA, edKey().Public(), make([]byte, 63), nil, ErrMalformed},
		{"RSA short", PS256, rsa2048().Public(), make([]byte, 255), nil, ErrMalformed},
		{"RSA long", RS256, rsa2048().Public(), make([]byte, 257), nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSigner(fixedSigner(tc.pub, tc.sig, tc.err), SignerOptions{Algorithm: tc.alg})
			require.NoError(t, err)
			_, err = s.Sign([]byte("{}"))
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func make33() []byte {
	b := make([]byte, 33)
	b[0] = 1
	return b
}

// derSig encodes r and s (big-endian, positive) as an ECDSA DER signature.
func derSig(r, s []byte) []byte {
	enc := func(v []byte) []byte {
		if len(v) > 0 && v[0]&0x80 != 0 {
			v = append([]byte{0}, v...)
		}
		return append([]byte{0x02, byte(len(v))}, v...)
	}
	body := append(enc(r), enc(s)...)
	if len(body) >= 0x80 {
		return append([]byte{0x30, 0x81, byte(len(body))}, body...)
	}
	return append([]byte{0x30, byte(len(body))}, body...)
}

func TestDerToRaw(t *testing.T) {
	t.Parallel()
	full := make([]byte, 32)
	for i := range full {
		full[i] = 0xff
	}
	tests := []struct {
		name string
		der  []byte
		want []byte // nil: error
	}{
		{"minimal", derSig([]byte{1}, []byte{2}), append(append(make([]byte, 31), 1), append(make([]byte, 31), 2)...)},
		{"high bit needs a zero byte", derSig(full, full), append(append([]byte{}, full...), full...)},
		{"non-minimal leading zeros", []byte{0x30, 0x08, 0x02, 0x02, 0x00, 0x01, 0x02, 0x02, 0x00, 0x02}, append(append(make([]byte, 31), 1), append(make([]byte, 31), 2)...)},
		{"long-form length", append([]byte{0x30, 0x81, 0x06}, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02), append(append(make([]byte, 31), 1), append(make([]byte, 31), 2)...)},
		{"two-octet length", append([]byte{0x30, 0x82, 0x00, 0x06}, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02), append(append(make([]byte, 31), 1), append(make([]byte, 31), 2)...)},
		{"empty", nil, nil},
		{"one byte", []byte{0x30}, nil},
		{"not a sequence", []byte{0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, nil},
		{"trailing bytes", append(derSig([]byte{1}, []byte{2}), 0), nil},
		{"sequence length beyond input", []byte{0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, nil},
		{"three-octet length", []byte{0x30, 0x83, 0x00, 0x00, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}, nil},
		{"indefinite length", []byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00, 0x00}, nil},
		{"truncated long form", []byte{0x30, 0x81}, nil},
		{"truncated two-octet form", []byte{0x30, 0x82, 0x00}, nil},
		{"r not an integer", []byte{0x30, 0x06, 0x04, 0x01, 0x01, 0x02, 0x01, 0x02}, nil},
		{"s missing", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, nil},
		{"extra element", []byte{0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03}, nil},
		{"negative r", []byte{0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02}, nil},
		{"zero r", []byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x02}, nil},
		{"zero s in two bytes", []byte{0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x00, 0x00}, nil},
		{"empty integer", []byte{0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x02}, nil},
		{"r wider than the curve", derSig(make33(), []byte{1}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := derToRaw(nil, tc.der, 32)
			if tc.want == nil {
				require.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRawToDERRoundTrip(t *testing.T) {
	t.Parallel()
	k := ecP521()
	for i := range 20 {
		h := sha256.Sum256([]byte{byte(i)})
		der, err := ecdsa.SignASN1(rand.Reader, k, h[:])
		require.NoError(t, err)
		raw, err := derToRaw([]byte("prefix"), der, 66)
		require.NoError(t, err)
		require.Equal(t, "prefix", string(raw[:6]))
		raw = raw[6:]
		require.Equal(t, der, rawToDER(nil, raw, 66))
	}
}

// TestVerifyAllowList covers algorithm confusion: a header can only name
// an asymmetric algorithm of the caller's list.
func TestVerifyAllowList(t *testing.T) {
	t.Parallel()
	key := ecP256()
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	jwk, err := NewJWK(key.Public())
	require.NoError(t, err)
	jwkBytes, err := jwk.MarshalJSON()
	require.NoError(t, err)
	hs256 := func(secret []byte) string {
		in := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64.EncodeToString([]byte(`{"sub":"admin"}`))
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + b64.EncodeToString(m.Sum(nil))
	}

	parseErrs := []struct {
		name  string
		token string
	}{
		{"none", b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + b64.EncodeToString([]byte(`{}`)) + "."},
		{"none with a signature", forge(`{"alg":"none"}`, `{}`, []byte{1})},
		{"None", forge(`{"alg":"None"}`, `{}`, []byte{1})},
		{"HS256 with the PEM public key as secret", hs256(pubPEM)},
		{"HS256 with the DER public key as secret", hs256(pubDER)},
		{"HS256 with the JWK as secret", hs256(jwkBytes)},
		{"HS384", forge(`{"alg":"HS384"}`, `{}`, make([]byte, 48))},
		{"ES256K", forge(`{"alg":"ES256K"}`, `{}`, make([]byte, 64))},
		{"Ed25519", forge(`{"alg":"Ed25519"}`, `{}`, make([]byte, 64))},
		{"empty alg", forge(`{"alg":""}`, `{}`, []byte{1})},
		{"long alg", forge(`{"alg":"`+strings.Repeat("A", 1000)+`"}`, `{}`, []byte{1})},
	}
	for _, tc := range parseErrs {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCompact(tc.token)
			require.ErrorIs(t, err, ErrAlgorithmNotAllowed)
		})
	}

	tok := signWith(t, key, ES256, `{"alg":"ES256"}`, `{}`)
	j, err := ParseCompact(tok)
	require.NoError(t, err)
	verifyErrs := []struct {
		name string
		algs []string
		want error
	}{
		{"nil list", nil, ErrNoAlgorithms},
		{"empty list", []string{}, ErrNoAlgorithms},
		{"alg not listed", []string{PS256, EdDSA}, ErrAlgorithmNotAllowed},
		{"list naming none", []string{"none"}, ErrAlgorithmNotAllowed},
		{"list naming HS256", []string{"HS256"}, ErrAlgorithmNotAllowed},
	}
	for _, tc := range verifyErrs {
		t.Run("Verify/"+tc.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, j.Verify(key.Public(), tc.algs), tc.want)
			_, err := j.VerifyWith(context.Background(), StaticKeys{jwk}, tc.algs)
			require.ErrorIs(t, err, tc.want)
			j2, err := ParseCompact(signWith(t, key, ES256, `{"alg":"ES256","jwk":`+string(jwkBytes)+`}`, `{}`))
			require.NoError(t, err)
			_, err = j2.VerifyEmbedded(tc.algs)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestCheckAlgorithms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		algs []string
		want error
	}{
		{"defaults", DefaultAlgorithms, nil},
		{"all", []string{ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512, EdDSA}, nil},
		{"empty", nil, ErrNoAlgorithms},
		{"none", []string{ES256, "none"}, ErrAlgorithmNotAllowed},
		{"HS256", []string{"HS256"}, ErrAlgorithmNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckAlgorithms(tc.algs)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestCheckKeyNil(t *testing.T) {
	t.Parallel()
	info, _ := algorithm(ES256)
	for _, k := range []crypto.PublicKey{nil, (*ecdsa.PublicKey)(nil), (*rsa.PublicKey)(nil)} {
		require.ErrorIs(t, checkKey(info, k), ErrUnsupportedKey)
	}
}

func TestAlgorithmFor(t *testing.T) {
	t.Parallel()
	_, err := AlgorithmFor(struct{}{})
	require.ErrorIs(t, err, ErrUnsupportedKey)
	alg, err := AlgorithmFor(&JWK{Key: ecP384().Public()})
	require.NoError(t, err)
	require.Equal(t, ES384, alg)
}

// TestVerifyKeyMismatch covers a header alg that does not fit the key.
func TestVerifyKeyMismatch(t *testing.T) {
	t.Parallel()
	es256 := must(ParseCompact(signWith(t, ecP256(), ES256, `{"alg":"ES256"}`, `{}`)))
	ps256 := must(ParseCompact(signWith(t, rsa2048(), PS256, `{"alg":"PS256"}`, `{}`)))
	eddsa := must(ParseCompact(signWith(t, edKey(), EdDSA, `{"alg":"EdDSA"}`, `{}`)))
	all := []string{ES256, ES384, ES512, PS256, RS256, EdDSA}
	tests := []struct {
		name string
		j    *JWS
		key  crypto.PublicKey
		want error
	}{
		{"ES256 with a P-384 key", es256, ecP384().Public(), ErrKeyMismatch},
		{"ES256 with an RSA key", es256, rsa2048().Public(), ErrKeyMismatch},
		{"ES256 with an Ed25519 key", es256, edKey().Public(), ErrKeyMismatch},
		{"PS256 with an EC key", ps256, ecP256().Public(), ErrKeyMismatch},
		{"PS256 with an RSA 1024 key", ps256, rsa1024().Public(), ErrUnsupportedKey},
		{"EdDSA with an EC key", eddsa, ecP256().Public(), ErrKeyMismatch},
		{"a JWK for ES384 only", es256, &JWK{Key: ecP256().Public(), Algorithm: ES384}, ErrKeyMismatch},
		{"a JWK for encryption", es256, &JWK{Key: ecP256().Public(), Use: "enc"}, ErrKeyMismatch},
		{"a private key type", es256, struct{}{}, ErrUnsupportedKey},
		{"nil", es256, nil, ErrUnsupportedKey},
		{"nil JWK", es256, (*JWK)(nil), ErrUnsupportedKey},
		{"short Ed25519 key", eddsa, edKey().Public().(ed25519.PublicKey)[:31], ErrUnsupportedKey},
		{"the right key type, another key", es256, ecP256b().Public(), ErrInvalidSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, tc.j.Verify(tc.key, all), tc.want)
		})
	}
}

// TestVerifyTampered covers signatures that do not verify.
func TestVerifyTampered(t *testing.T) {
	t.Parallel()
	for _, sk := range signers(t) {
		t.Run(sk.alg, func(t *testing.T) {
			t.Parallel()
			hdr := `{"alg":"` + sk.alg + `"}`
			tok := signWith(t, sk.key, sk.alg, hdr, `{"sub":"alice"}`)
			seg := segments(tok)
			sig := must(b64.DecodeString(seg[2]))
			flipped := append([]byte{}, sig...)
			flipped[len(flipped)/2] ^= 1
			cases := map[string]string{
				"payload changed":    seg[0] + "." + b64.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + seg[2],
				"signature flipped":  seg[0] + "." + seg[1] + "." + b64.EncodeToString(flipped),
				"signature short":    seg[0] + "." + seg[1] + "." + b64.EncodeToString(sig[:len(sig)-1]),
				"signature long":     seg[0] + "." + seg[1] + "." + b64.EncodeToString(append(sig, 0)),
				"signature all zero": seg[0] + "." + seg[1] + "." + b64.EncodeToString(make([]byte, len(sig))),
			}
			for name, bad := range cases {
				j, err := ParseCompact(bad)
				require.NoError(t, err, name)
				require.ErrorIs(t, j.Verify(sk.key.Public(), []string{sk.alg}), ErrInvalidSignature, name)
			}
		})
	}
}

func TestVerifyECDSASignatureLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		alg  string
		key  crypto.Signer
		n    int
	}{
		{"ES256 with 63 bytes", ES256, ecP256(), 63},
		{"ES256 with 65 bytes", ES256, ecP256(), 65},
		{"ES256 with a DER signature", ES256, ecP256(), 70},
		{"ES384 with 64 bytes", ES384, ecP384(), 64},
		{"ES512 with 130 bytes", ES512, ecP521(), 130},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sig := make([]byte, tc.n)
			sig[0], sig[tc.n-1] = 1, 1
			j, err := ParseCompact(forge(`{"alg":"`+tc.alg+`"}`, `{}`, sig))
			require.NoError(t, err)
			require.ErrorIs(t, j.Verify(tc.key.Public(), []string{tc.alg}), ErrInvalidSignature)
		})
	}
	t.Run("a real DER signature is not a JWS signature", func(t *testing.T) {
		t.Parallel()
		in := b64.EncodeToString([]byte(`{"alg":"ES256"}`)) + "." + b64.EncodeToString([]byte(`{}`))
		h := sha256.Sum256([]byte(in))
		der, err := ecdsa.SignASN1(rand.Reader, ecP256(), h[:])
		require.NoError(t, err)
		j, err := ParseCompact(in + "." + b64.EncodeToString(der))
		require.NoError(t, err)
		require.ErrorIs(t, j.Verify(ecP256().Public(), []string{ES256}), ErrInvalidSignature)
	})
}

func TestParseCompactMalformed(t *testing.T) {
	t.Parallel()
	good := signWith(t, ecP256(), ES256, `{"alg":"ES256"}`, `{}`)
	seg := segments(good)
	privJWK := jwkJSON(t, ecP256().Public())
	privJWK["d"] = "AAAA"
	octJWK := `{"kty":"oct","k":"c2VjcmV0"}`
	octNoK := `{"kty":"oct"}`
	hdr := func(h string) string { return forge(h, `{}`, []byte{1}) }
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"one segment", seg[0], ErrMalformed},
		{"two segments", seg[0] + "." + seg[1], ErrMalformed},
		{"four segments", good + ".x", ErrMalformed},
		{"five segments (a JWE)", good + ".x.y", ErrMalformed},
		{"padding", seg[0] + "." + seg[1] + "." + seg[2] + "==", ErrMalformed},
		{"padded header", base64.URLEncoding.EncodeToString([]byte(`{"alg":"ES256" }`)) + "." + seg[1] + "." + seg[2], ErrMalformed},
		{"standard base64 alphabet", seg[0] + "." + seg[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(seg[2]) + "+/", ErrMalformed},
		{"space", seg[0] + " ." + seg[1] + "." + seg[2], ErrMalformed},
		{"newline", seg[0] + "\n." + seg[1] + "." + seg[2], ErrMalformed},
		{"non-canonical last character", seg[0] + "." + seg[1] + "." + seg[2][:len(seg[2])-1] + nonCanonical(seg[2]), ErrMalformed},
		{"impossible length", seg[0] + "." + seg[1] + "." + seg[2] + "AAA", ErrMalformed}, // 4n+1 characters
		{"empty signature", seg[0] + "." + seg[1] + ".", ErrMalformed},
		{"empty header", "." + seg[1] + "." + seg[2], ErrMalformed},
		{"header not JSON", hdr(`alg=ES256`), ErrMalformed},
		{"header an array", hdr(`["alg","ES256"]`), ErrMalformed},
		{"header a string", hdr(`"ES256"`), ErrMalformed},
		{"header null", hdr(`null`), ErrMalformed},
		{"header with trailing data", hdr(`{"alg":"ES256"}{}`), ErrMalformed},
		{"header with invalid UTF-8", hdr("{\"alg\":\"ES256\",\"kid\":\"\xff\"}"), ErrMalformed},
		{"no alg", hdr(`{"typ":"JWT"}`), ErrMalformed},
		{"alg null", hdr(`{"alg":null}`), ErrMalformed},
		{"alg a number", hdr(`{"alg":256}`), ErrMalformed},
		{"alg an array", hdr(`{"alg":["ES256"]}`), ErrMalformed},
		{"typ a number", hdr(`{"alg":"ES256","typ":1}`), ErrMalformed},
		{"duplicate alg", hdr(`{"alg":"none","alg":"ES256"}`), ErrMalformed},
		{"duplicate alg, escaped", hdr(`{"alg":"ES256","\u0061lg":"ES256"}`), ErrMalformed},
		{"alg in capitals", hdr(`{"ALG":"ES256"}`), ErrMalformed},
		{"alg and Alg", hdr(`{"alg":"ES256","Alg":"PS256"}`), ErrMalformed},
		{"kid with KELVIN SIGN", hdr(`{"alg":"ES256","\u212Aid":"k1"}`), ErrMalformed},
		{"Crit", hdr(`{"alg":"ES256","Crit":["exp"]}`), ErrMalformed},
		{"duplicate in an unknown nested object", hdr(`{"alg":"ES256","x":{"a":1,"A":2}}`), ErrMalformed},
		{"nesting too deep", hdr(`{"alg":"ES256","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`), ErrMalformed},
		{"crit", hdr(`{"alg":"ES256","crit":["exp"],"exp":1}`), ErrCritical},
		{"crit empty", hdr(`{"alg":"ES256","crit":[]}`), ErrCritical},
		{"crit null", hdr(`{"alg":"ES256","crit":null}`), ErrCritical},
		{"b64 false", hdr(`{"alg":"ES256","b64":false,"crit":["b64"]}`), ErrCritical},
		{"enc", hdr(`{"alg":"ES256","enc":"A256GCM"}`), ErrMalformed},
		{"zip", hdr(`{"alg":"ES256","zip":"DEF"}`), ErrMalformed},
		{"jwk with d", hdr(`{"alg":"ES256","jwk":` + string(mustJSON(t, privJWK)) + `}`), ErrPrivateKey},
		{"jwk oct with k", hdr(`{"alg":"ES256","jwk":` + octJWK + `}`), ErrPrivateKey},
		{"jwk oct", hdr(`{"alg":"ES256","jwk":` + octNoK + `}`), ErrUnsupportedKey},
		{"jwk null", hdr(`{"alg":"ES256","jwk":null}`), ErrMalformed},
		{"jwk a string", hdr(`{"alg":"ES256","jwk":"key"}`), ErrMalformed},
		{"jwk with duplicate x", hdr(`{"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"a","x":"b","y":"c"}}`), ErrMalformed},
		{"jwk with KTY", hdr(`{"alg":"ES256","jwk":{"KTY":"EC","crv":"P-256","x":"a","y":"c"}}`), ErrMalformed},
		{"too large", forge(`{"alg":"ES256"}`, strings.Repeat("a", MaxTokenSize), []byte{1}), ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCompact(tc.token)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// nonCanonical returns a last character for a base64url string whose
// unused low bits are set, which a strict decoder rejects.
func nonCanonical(s string) string {
	last := s[len(s)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	return string(alphabet[i|1]) // the last character of a 64-byte value carries 4 unused bits
}

func TestParseCompactUnknownHeaderMembers(t *testing.T) {
	t.Parallel()
	key := ecP256()
	// Unknown members are ignored, including jku/x5u (never fetched).
	tok := signWith(t, key, ES256, `{"alg":"ES256","jku":"https://attacker.example/jwks","x5u":"https://attacker.example/c","x5c":["AA"],"cty":"JWT","custom":{"a":[1,2,{"b":null}]}}`, `{}`)
	j, err := ParseCompact(tok)
	require.NoError(t, err)
	require.Equal(t, "JWT", j.Header.Cty)
	require.NoError(t, j.Verify(key.Public(), []string{ES256}))
	_, err = j.VerifyEmbedded([]string{ES256})
	require.ErrorIs(t, err, ErrNoMatchingKey)
}

// TestRFC9449Proofs verifies the DPoP proofs printed in RFC 9449 with the
// key they embed.
func TestRFC9449Proofs(t *testing.T) {
	t.Parallel()
	v := loadRFC9449(t)
	for _, p := range v.Proofs {
		t.Run(p.Section, func(t *testing.T) {
			t.Parallel()
			j, err := ParseCompact(p.Compact)
			require.NoError(t, err)
			require.Equal(t, "dpop+jwt", j.Header.Typ)
			k, err := j.VerifyEmbedded(DefaultAlgorithms)
			require.NoError(t, err)
			tp, err := k.Thumbprint()
			require.NoError(t, err)
			require.Equal(t, v.JKT, tp)
			var claims map[string]any
			require.NoError(t, UnmarshalStrict(j.Payload, &claims))
			require.Equal(t, p.Payload, claims)
			// The same proof under an allow-list without ES256 fails.
			_, err = j.VerifyEmbedded([]string{PS256})
			require.ErrorIs(t, err, ErrAlgorithmNotAllowed)
		})
	}
	t.Run(v.AccessToken.Section, func(t *testing.T) {
		t.Parallel()
		j, err := ParseCompact(v.AccessToken.Compact)
		require.NoError(t, err)
		require.Equal(t, "BeALkb", j.Header.Kid)
		// The RFC gives no key for it: the proof key must not verify it.
		proofKey, err := ParseJWK(v.JWK)
		require.NoError(t, err)
		require.ErrorIs(t, j.Verify(proofKey, []string{ES256}), ErrInvalidSignature)
	})
}

func TestMatch(t *testing.T) {
	t.Parallel()
	set := []*JWK{
		{Key: ecP256().Public(), KeyID: "ec", Use: "sig"},
		{Key: ecP384().Public(), KeyID: "ec384"},
		{Key: rsa2048().Public(), KeyID: "rsa-ps", Algorithm: PS256},
		{Key: rsa2048b().Public(), KeyID: "rsa-enc", Use: "enc"},
		{Key: rsa2048b().Public(), KeyID: "rsa-any"},
		{Key: edKey().Public(), KeyID: "ed"},
		{Key: ecP256b().Public()},
		nil,
		{Key: struct{}{}, KeyID: "junk"},
	}
	ids := func(ks []*JWK) []string {
		out := []string{}
		for _, k := range ks {
			out = append(out, k.KeyID)
		}
		return out
	}
	tests := []struct {
		name string
		h    *Header
		want []string
	}{
		{"kid and alg", &Header{Alg: ES256, Kid: "ec"}, []string{"ec"}},
		{"kid with another curve", &Header{Alg: ES256, Kid: "ec384"}, []string{}},
		{"no kid: every fitting key", &Header{Alg: ES256}, []string{"ec", ""}},
		{"no kid, ES384", &Header{Alg: ES384}, []string{"ec384"}},
		{"RSA without kid skips use=enc", &Header{Alg: PS256}, []string{"rsa-ps", "rsa-any"}},
		{"RS256 skips a key for PS256", &Header{Alg: RS256}, []string{"rsa-any"}},
		{"use=enc with its kid", &Header{Alg: PS256, Kid: "rsa-enc"}, []string{}},
		{"alg mismatch with kid", &Header{Alg: RS256, Kid: "rsa-ps"}, []string{}},
		{"EdDSA", &Header{Alg: EdDSA}, []string{"ed"}},
		{"unknown kid", &Header{Alg: ES256, Kid: "nope"}, []string{}},
		{"kty mismatch", &Header{Alg: EdDSA, Kid: "ec"}, []string{}},
		{"unsupported alg", &Header{Alg: "HS256", Kid: "ec"}, []string{}},
		{"nil header", nil, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, ids(Match(set, tc.h)))
		})
	}
}

type errProvider struct{ err error }

func (p errProvider) KeysFor(context.Context, *Header) ([]*JWK, error) { return nil, p.err }

type listProvider []*JWK

func (p listProvider) KeysFor(context.Context, *Header) ([]*JWK, error) { return p, nil }

func TestVerifyWith(t *testing.T) {
	t.Parallel()
	key := ecP256()
	tok := signWith(t, key, ES256, `{"alg":"ES256","kid":"k2"}`, `{}`)
	j, err := ParseCompact(tok)
	require.NoError(t, err)
	algs := []string{ES256}
	tests := []struct {
		name    string
		kp      KeyProvider
		want    error
		wantKid string
	}{
		{"the kid's key among others", StaticKeys{{Key: ecP256b().Public(), KeyID: "k1"}, {Key: key.Public(), KeyID: "k2"}}, nil, "k2"},
		{"two keys with the kid, second verifies", StaticKeys{{Key: ecP256b().Public(), KeyID: "k2"}, {Key: key.Public(), KeyID: "k2", Algorithm: ES256}}, nil, "k2"},
		{"key without kid does not match a kid", StaticKeys{{Key: key.Public()}}, ErrNoMatchingKey, ""},
		{"wrong key with the kid", StaticKeys{{Key: ecP256b().Public(), KeyID: "k2"}}, ErrInvalidSignature, ""},
		{"empty set", StaticKeys{}, ErrNoMatchingKey, ""},
		{"nil provider", nil, ErrNoMatchingKey, ""},
		{"provider error", errProvider{errHSM}, errHSM, ""},
		{"custom provider: alg/use still enforced", listProvider{{Key: key.Public(), KeyID: "k2", Use: "enc"}}, ErrInvalidSignature, ""},
		{"custom provider: nil key", listProvider{nil}, ErrInvalidSignature, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := j.VerifyWith(context.Background(), tc.kp, algs)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantKid, k.KeyID)
		})
	}
}

func TestSignerHeaderEncoding(t *testing.T) {
	t.Parallel()
	s, err := NewSigner(ecP256(), SignerOptions{Type: `a"b<c>`, KeyID: "k\u00e9", EmbedJWK: true})
	require.NoError(t, err)
	tok, err := s.Sign(nil)
	require.NoError(t, err)
	j, err := ParseCompact(tok)
	require.NoError(t, err)
	require.Equal(t, `a"b<c>`, j.Header.Typ)
	require.Equal(t, "k\u00e9", j.Header.Kid)
	require.Empty(t, j.Payload)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(must(b64.DecodeString(segments(tok)[0])), &raw))
	var jwk map[string]string
	require.NoError(t, json.Unmarshal(raw["jwk"], &jwk))
	require.Equal(t, []string{"crv", "kty", "x", "y"}, sortedKeys(jwk), "the embedded jwk holds public members only")
	_, err = j.VerifyEmbedded([]string{ES256})
	require.NoError(t, err)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestSignerConcurrent(t *testing.T) {
	t.Parallel()
	s, err := NewSigner(ecP256(), SignerOptions{})
	require.NoError(t, err)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			tok, err := s.Sign([]byte(`{}`))
			if err == nil {
				var j *JWS
				if j, err = ParseCompact(tok); err == nil {
					err = j.Verify(s.Public(), []string{ES256})
				}
			}
			errs <- err
		}()
	}
	for range 16 {
		require.NoError(t, <-errs)
	}
}

func TestTypeIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ, want string
		ok        bool
	}{
		{"dpop+jwt", "dpop+jwt", true},
		{"DPoP+JWT", "dpop+jwt", true},
		{"application/dpop+jwt", "dpop+jwt", true},
		{"Application/at+jwt", "application/at+jwt", true},
		{"JWT", "jwt", true},
		{"jwt", "dpop+jwt", false},
		{"", "", false},
		{"application/", "application/", false},
		{"text/dpop+jwt", "dpop+jwt", false},
		{"dpop+jwt; charset=utf-8", "dpop+jwt", false},
		{"dpop+jwt ", "dpop+jwt", false},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"/"+tc.want, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.ok, TypeIs(tc.typ, tc.want))
		})
	}
}
