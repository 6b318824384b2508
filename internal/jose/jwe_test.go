package jose

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEncryptDecryptMatrix(t *testing.T) {
	t.Parallel()
	type recipient struct {
		alg  string
		priv crypto.Signer
	}
	recipients := []recipient{
		{RSAOAEP256, rsa2048()},
		{ECDHES, ecP256()},
		{ECDHES, ecP384()},
		{ECDHES, ecP521()},
		{ECDHESA128KW, ecP256()},
		{ECDHESA192KW, ecP256()},
		{ECDHESA256KW, ecP384()},
	}
	plaintext := []byte("eyJhbGciOiJFUzI1NiJ9.e30.sig")
	for _, r := range recipients {
		for _, enc := range ContentEncryptions {
			t.Run(r.alg+"/"+enc+"/"+curveName(r.priv), func(t *testing.T) {
				t.Parallel()
				tok, err := Encrypt(plaintext, r.priv.Public(), EncryptOptions{KeyAlgorithm: r.alg, ContentEncryption: enc, KeyID: "e1", ContentType: "JWT"})
				require.NoError(t, err)
				require.Equal(t, 5, Segments(tok))
				h, err := ParseJWEHeader(tok)
				require.NoError(t, err)
				require.Equal(t, JWEHeader{Alg: r.alg, Enc: enc, Kid: "e1", Cty: "JWT"}, *h)

				pt, h2, err := Decrypt(tok, []DecryptionKey{{KeyID: "e1", Key: r.priv}}, DecryptOptions{KeyAlgorithms: []string{r.alg}, ContentEncryptions: []string{enc}})
				require.NoError(t, err)
				require.Equal(t, plaintext, pt)
				require.Equal(t, h, h2)

				// Another enc in the allow-list only: refused before any key is used.
				other := A256GCM
				if enc == A256GCM {
					other = A128GCM
				}
				_, _, err = Decrypt(tok, nil, DecryptOptions{ContentEncryptions: []string{other}})
				require.ErrorIs(t, err, ErrAlgorithmNotAllowed)
			})
		}
	}
}

func curveName(k crypto.Signer) string {
	if ec, ok := k.(*ecdsa.PrivateKey); ok {
		return ec.Curve.Params().Name
	}
	return "RSA"
}

func TestEncryptDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		priv crypto.Signer
		alg  string
	}{
		{"RSA", rsa2048(), RSAOAEP256},
		{"EC", ecP256(), ECDHES},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := Encrypt([]byte("x"), tc.priv, EncryptOptions{})
			require.NoError(t, err)
			h, err := ParseJWEHeader(tok)
			require.NoError(t, err)
			require.Equal(t, tc.alg, h.Alg)
			require.Equal(t, A256GCM, h.Enc)
			require.Empty(t, h.Kid)
			pt, _, err := Decrypt(tok, []DecryptionKey{{Key: tc.priv}}, DecryptOptions{})
			require.NoError(t, err)
			require.Equal(t, []byte("x"), pt)
		})
	}
}

func TestEncryptErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		to   crypto.PublicKey
		opts EncryptOptions
		want error
	}{
		{"Ed25519 recipient", edKey().Public(), EncryptOptions{}, ErrUnsupportedKey},
		{"RSA 1024 recipient", rsa1024().Public(), EncryptOptions{}, ErrUnsupportedKey},
		{"RSA with ECDH-ES", rsa2048().Public(), EncryptOptions{KeyAlgorithm: ECDHES}, ErrKeyMismatch},
		{"EC with RSA-OAEP-256", ecP256().Public(), EncryptOptions{KeyAlgorithm: RSAOAEP256}, ErrKeyMismatch},
		{"Ed25519 with ECDH-ES", edKey().Public(), EncryptOptions{KeyAlgorithm: ECDHES}, ErrKeyMismatch},
		{"RSA1_5", rsa2048().Public(), EncryptOptions{KeyAlgorithm: "RSA1_5"}, ErrAlgorithmNotAllowed},
		{"RSA-OAEP", rsa2048().Public(), EncryptOptions{KeyAlgorithm: "RSA-OAEP"}, ErrAlgorithmNotAllowed},
		{"dir", rsa2048().Public(), EncryptOptions{KeyAlgorithm: "dir"}, ErrAlgorithmNotAllowed},
		{"unknown enc", rsa2048().Public(), EncryptOptions{ContentEncryption: "A512GCM"}, ErrAlgorithmNotAllowed},
		{"nil recipient", nil, EncryptOptions{}, ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Encrypt([]byte("x"), tc.to, tc.opts)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// withHeader replaces the protected header of a compact JWE (which breaks
// the authentication tag, so only checks made before decryption pass or
// fail on their own).
func withHeader(tok, header string) string {
	s := segments(tok)
	s[0] = b64.EncodeToString([]byte(header))
	return strings.Join(s, ".")
}

func TestDecryptRejections(t *testing.T) {
	t.Parallel()
	rsaTok, err := Encrypt([]byte("secret"), rsa2048().Public(), EncryptOptions{KeyID: "r1"})
	require.NoError(t, err)
	ecTok, err := Encrypt([]byte("secret"), ecP256().Public(), EncryptOptions{KeyAlgorithm: ECDHES, KeyID: "e1"})
	require.NoError(t, err)
	ecKWTok, err := Encrypt([]byte("secret"), ecP256().Public(), EncryptOptions{KeyAlgorithm: ECDHESA128KW})
	require.NoError(t, err)
	jws := signWith(t, ecP256(), ES256, `{"alg":"ES256"}`, `{}`)
	ecHeader := string(must(b64.DecodeString(segments(ecTok)[0])))
	var epkHeader map[string]any
	require.NoError(t, json.Unmarshal([]byte(ecHeader), &epkHeader))
	rsaKey := []DecryptionKey{{KeyID: "r1", Key: rsa2048()}}
	ecKey := []DecryptionKey{{Key: ecP256()}}
	tamper := func(tok string, i int) string {
		s := segments(tok)
		b := must(b64.DecodeString(s[i]))
		b[0] ^= 1
		s[i] = b64.EncodeToString(b)
		return strings.Join(s, ".")
	}
	ecWithKey := func() string {
		s := segments(ecTok)
		s[1] = b64.EncodeToString(make([]byte, 16))
		return strings.Join(s, ".")
	}()

	tests := []struct {
		name  string
		token string
		keys  []DecryptionKey
		opts  DecryptOptions
		want  error
	}{
		// Refused before any key is used: no key is given at all.
		{"alg outside the allow-list", rsaTok, nil, DecryptOptions{KeyAlgorithms: []string{ECDHES}}, ErrAlgorithmNotAllowed},
		{"enc outside the allow-list", rsaTok, nil, DecryptOptions{ContentEncryptions: []string{A128GCM}}, ErrAlgorithmNotAllowed},
		{"allow-list naming an unsupported alg", withHeader(rsaTok, `{"alg":"RSA1_5","enc":"A256GCM"}`), nil, DecryptOptions{KeyAlgorithms: []string{"RSA1_5"}}, ErrAlgorithmNotAllowed},
		{"RSA1_5", withHeader(rsaTok, `{"alg":"RSA1_5","enc":"A256GCM"}`), nil, DecryptOptions{}, ErrAlgorithmNotAllowed},
		{"RSA-OAEP (SHA-1)", withHeader(rsaTok, `{"alg":"RSA-OAEP","enc":"A256GCM"}`), nil, DecryptOptions{}, ErrAlgorithmNotAllowed},
		{"dir", withHeader(rsaTok, `{"alg":"dir","enc":"A256GCM"}`), nil, DecryptOptions{}, ErrAlgorithmNotAllowed},
		{"PBES2 with a huge count", withHeader(rsaTok, `{"alg":"PBES2-HS256+A128KW","enc":"A128GCM","p2s":"AAAAAAAAAAA","p2c":2000000000}`), nil, DecryptOptions{}, ErrAlgorithmNotAllowed},
		{"A128KW", withHeader(rsaTok, `{"alg":"A128KW","enc":"A128GCM"}`), nil, DecryptOptions{}, ErrAlgorithmNotAllowed},
		{"none", withHeader(rsaTok, `{"alg":"none","enc":"A128GCM"}`), nil, DecryptOptions{}, ErrAlgorithmNotAllowed},
		{"unknown enc", withHeader(rsaTok, `{"alg":"RSA-OAEP-256","enc":"A512GCM"}`), nil, DecryptOptions{}, ErrAlgorithmNotAllowed},
		{"zip", withHeader(rsaTok, `{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":"DEF"}`), rsaKey, DecryptOptions{}, ErrAlgorithmNotAllowed},
		{"zip null", withHeader(rsaTok, `{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":null}`), rsaKey, DecryptOptions{}, ErrAlgorithmNotAllowed},
		{"ZIP", withHeader(rsaTok, `{"alg":"RSA-OAEP-256","enc":"A256GCM","ZIP":"DEF"}`), rsaKey, DecryptOptions{}, ErrMalformed},
		{"crit", withHeader(rsaTok, `{"alg":"RSA-OAEP-256","enc":"A256GCM","crit":["x"],"x":1}`), rsaKey, DecryptOptions{}, ErrCritical},
		{"duplicate enc", withHeader(rsaTok, `{"alg":"RSA-OAEP-256","enc":"A128CBC-HS256","enc":"A256GCM"}`), rsaKey, DecryptOptions{}, ErrMalformed},
		{"ENC beside enc", withHeader(rsaTok, `{"alg":"RSA-OAEP-256","enc":"A128CBC-HS256","ENC":"A256GCM"}`), rsaKey, DecryptOptions{}, ErrMalformed},
		{"duplicate inside epk", withHeader(ecTok, strings.Replace(ecHeader, `"epk":{`, `"epk":{"x":"AAAA",`, 1)), ecKey, DecryptOptions{}, ErrMalformed},
		{"no enc", withHeader(rsaTok, `{"alg":"RSA-OAEP-256"}`), rsaKey, DecryptOptions{}, ErrMalformed},
		{"no alg", withHeader(rsaTok, `{"enc":"A256GCM"}`), rsaKey, DecryptOptions{}, ErrMalformed},
		{"alg a number", withHeader(rsaTok, `{"alg":1,"enc":"A256GCM"}`), rsaKey, DecryptOptions{}, ErrMalformed},
		{"header not an object", withHeader(rsaTok, `"RSA-OAEP-256"`), rsaKey, DecryptOptions{}, ErrMalformed},
		{"ECDH-ES with an encrypted key", ecWithKey, ecKey, DecryptOptions{}, ErrMalformed},
		{"a JWS", jws, rsaKey, DecryptOptions{}, ErrNotEncrypted},
		{"four segments", strings.Join(segments(rsaTok)[:4], "."), rsaKey, DecryptOptions{}, ErrMalformed},
		{"six segments", rsaTok + ".x", rsaKey, DecryptOptions{}, ErrMalformed},
		{"padding", rsaTok + "=", rsaKey, DecryptOptions{}, ErrMalformed},
		{"too large", rsaTok + strings.Repeat("A", MaxTokenSize), rsaKey, DecryptOptions{}, ErrTooLarge},
		{"empty", "", rsaKey, DecryptOptions{}, ErrMalformed},

		// Key selection.
		{"no key", rsaTok, nil, DecryptOptions{}, ErrNoMatchingKey},
		{"key of another kid only", rsaTok, []DecryptionKey{{KeyID: "r2", Key: rsa2048()}}, DecryptOptions{}, ErrNoMatchingKey},
		{"key of another type only", rsaTok, ecKey, DecryptOptions{}, ErrNoMatchingKey},
		{"a public key", rsaTok, []DecryptionKey{{Key: rsa2048().Public()}}, DecryptOptions{}, ErrNoMatchingKey},
		{"a KMS signer", rsaTok, []DecryptionKey{{Key: newKMS(rsa2048())}}, DecryptOptions{}, ErrNoMatchingKey},
		{"RSA 1024 key", rsaTok, []DecryptionKey{{Key: rsa1024()}}, DecryptOptions{}, ErrNoMatchingKey},

		// Decryption failures.
		{"wrong RSA key", rsaTok, []DecryptionKey{{Key: rsa2048b()}}, DecryptOptions{}, ErrDecrypt},
		{"wrong EC key", ecTok, []DecryptionKey{{Key: ecP256b()}}, DecryptOptions{}, ErrDecrypt},
		{"wrong EC key, key wrap", ecKWTok, []DecryptionKey{{Key: ecP256b()}}, DecryptOptions{}, ErrDecrypt},
		{"EC key of another curve", ecTok, []DecryptionKey{{Key: ecP384()}}, DecryptOptions{}, ErrDecrypt},
		{"tampered encrypted key", tamper(rsaTok, 1), rsaKey, DecryptOptions{}, ErrDecrypt},
		{"tampered iv", tamper(rsaTok, 2), rsaKey, DecryptOptions{}, ErrDecrypt},
		{"tampered ciphertext", tamper(rsaTok, 3), rsaKey, DecryptOptions{}, ErrDecrypt},
		{"tampered tag", tamper(rsaTok, 4), rsaKey, DecryptOptions{}, ErrDecrypt},
		{"header changed to another allowed enc", withHeader(rsaTok, `{"alg":"RSA-OAEP-256","enc":"A128GCM","kid":"r1"}`), rsaKey, DecryptOptions{}, ErrDecrypt},
		{"kid changed", withHeader(rsaTok, `{"alg":"RSA-OAEP-256","enc":"A256GCM"}`), rsaKey, DecryptOptions{}, ErrDecrypt},
		{"epk off the curve", withHeader(ecTok, epkOffCurve(t, epkHeader)), ecKey, DecryptOptions{}, ErrDecrypt},
		{"epk missing", withHeader(ecTok, `{"alg":"ECDH-ES","enc":"A256GCM"}`), ecKey, DecryptOptions{}, ErrDecrypt},
		{"epk a string", withHeader(ecTok, `{"alg":"ECDH-ES","enc":"A256GCM","epk":"key"}`), ecKey, DecryptOptions{}, ErrDecrypt},
		{"epk on P-384", withHeader(ecTok, `{"alg":"ECDH-ES","enc":"A256GCM","epk":`+string(must(must(NewJWK(ecP384().Public())).MarshalJSON()))+`}`), ecKey, DecryptOptions{}, ErrDecrypt},
		{"epk X25519", withHeader(ecTok, `{"alg":"ECDH-ES","enc":"A256GCM","epk":{"kty":"OKP","crv":"X25519","x":"`+b64.EncodeToString(make([]byte, 32))+`"}}`), ecKey, DecryptOptions{}, ErrDecrypt},
		{"epk with d", withHeader(ecTok, strings.Replace(ecHeader, `"epk":{`, `"epk":{"d":"AAAA",`, 1)), ecKey, DecryptOptions{}, ErrDecrypt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pt, h, err := Decrypt(tc.token, tc.keys, tc.opts)
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, pt)
			require.Nil(t, h)
			require.NotContains(t, err.Error(), "secret")
		})
	}
}

func epkOffCurve(t *testing.T, h map[string]any) string {
	t.Helper()
	c := map[string]any{}
	for k, v := range h {
		c[k] = v
	}
	epk := map[string]any{}
	for k, v := range h["epk"].(map[string]any) {
		epk[k] = v
	}
	epk["y"] = epk["x"]
	c["epk"] = epk
	return string(mustJSON(t, c))
}

func TestDecryptKeySelection(t *testing.T) {
	t.Parallel()
	tok, err := Encrypt([]byte("for e2"), ecP256b().Public(), EncryptOptions{KeyID: "e2"})
	require.NoError(t, err)
	tests := []struct {
		name string
		keys []DecryptionKey
	}{
		{"by kid", []DecryptionKey{{KeyID: "e1", Key: ecP256()}, {KeyID: "e2", Key: ecP256b()}}},
		{"kid first in the list", []DecryptionKey{{KeyID: "e2", Key: ecP256b()}, {KeyID: "e1", Key: ecP256()}}},
		{"keys without kid are tried", []DecryptionKey{{Key: ecP256()}, {Key: ecP256b()}}},
		{"other key types skipped", []DecryptionKey{{KeyID: "e2", Key: rsa2048()}, {KeyID: "e2", Key: ecP256b()}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pt, h, err := Decrypt(tok, tc.keys, DecryptOptions{})
			require.NoError(t, err)
			require.Equal(t, "for e2", string(pt))
			require.Equal(t, "e2", h.Kid)
		})
	}
	t.Run("a wrong key under the right kid is not rescued by others", func(t *testing.T) {
		t.Parallel()
		_, _, err := Decrypt(tok, []DecryptionKey{{KeyID: "e2", Key: ecP256()}, {KeyID: "e1", Key: ecP256b()}}, DecryptOptions{})
		require.ErrorIs(t, err, ErrDecrypt)
	})
}

// TestNestedJWT signs then encrypts, and decrypts then verifies (RFC 7519
// §5.2, as JARM and encrypted request objects do).
func TestNestedJWT(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sig    crypto.Signer
		sigAlg string
		enc    crypto.Signer
		encAlg string
	}{
		{"ES256 in ECDH-ES", ecP256(), ES256, ecP256b(), ECDHES},
		{"PS256 in RSA-OAEP-256", rsa2048(), PS256, rsa2048b(), RSAOAEP256},
		{"EdDSA in ECDH-ES+A256KW", edKey(), EdDSA, ecP384(), ECDHESA256KW},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewSigner(tc.sig, SignerOptions{Algorithm: tc.sigAlg, KeyID: "sig"})
			require.NoError(t, err)
			now := NewNumericDate(newClock().Now())
			inner, err := s.SignJSON(Claims{Issuer: "https://as.example", Audience: Audience{"client"}, IssuedAt: now})
			require.NoError(t, err)
			outer, err := Encrypt([]byte(inner), tc.enc.Public(), EncryptOptions{KeyAlgorithm: tc.encAlg, KeyID: "enc", ContentType: "JWT"})
			require.NoError(t, err)

			_, err = ParseCompact(outer)
			require.ErrorIs(t, err, ErrMalformed, "a JWE is not a JWS")

			pt, h, err := Decrypt(outer, []DecryptionKey{{KeyID: "enc", Key: tc.enc}}, DecryptOptions{KeyAlgorithms: []string{tc.encAlg}})
			require.NoError(t, err)
			require.Equal(t, "JWT", h.Cty)
			j, err := ParseCompact(string(pt))
			require.NoError(t, err)
			k, err := j.VerifyWith(t.Context(), StaticKeys{{Key: tc.sig.Public(), KeyID: "sig"}}, []string{tc.sigAlg})
			require.NoError(t, err)
			require.Equal(t, "sig", k.KeyID)
			var c Claims
			require.NoError(t, UnmarshalStrict(j.Payload, &c))
			require.NoError(t, c.Validate(Expected{Issuer: "https://as.example", Audience: "client", Now: now.Time(), RequireIssuedAt: true}))
		})
	}
}

func TestParseJWEHeader(t *testing.T) {
	t.Parallel()
	tok, err := Encrypt([]byte("x"), rsa2048().Public(), EncryptOptions{KeyID: "k", ContentType: "JWT"})
	require.NoError(t, err)
	h, err := ParseJWEHeader(tok)
	require.NoError(t, err)
	require.Equal(t, "k", h.Kid)
	_, err = ParseJWEHeader(withHeader(tok, `{"alg":"RSA-OAEP-256","enc":"A256GCM","typ":"oauth-authz-req+jwt"}`))
	require.NoError(t, err)
	_, err = ParseJWEHeader("a.b.c")
	require.ErrorIs(t, err, ErrNotEncrypted)
	_, err = ParseJWEHeader("a.b.c.d.e")
	require.ErrorIs(t, err, ErrMalformed)
	_, err = ParseJWEHeader(".b.c.d.e")
	require.ErrorIs(t, err, ErrMalformed)
}

// TestDecryptSegmentSizes covers segments whose sizes alg and enc rule
// out; they are rejected before any key is used (jwx v2.1.7 panics on an
// empty AES-wrapped key: see testdata/fuzz/FuzzDecrypt).
func TestDecryptSegmentSizes(t *testing.T) {
	t.Parallel()
	kw := must(Encrypt([]byte("x"), ecP256().Public(), EncryptOptions{KeyAlgorithm: ECDHESA128KW, ContentEncryption: A256CBCHS512}))
	gcm := must(Encrypt([]byte("x"), rsa2048().Public(), EncryptOptions{ContentEncryption: A128GCM}))
	set := func(tok string, i int, b []byte) string {
		s := segments(tok)
		s[i] = b64.EncodeToString(b)
		return strings.Join(s, ".")
	}
	raw := func(tok string, i int, v string) string {
		s := segments(tok)
		s[i] = v
		return strings.Join(s, ".")
	}
	keys := []DecryptionKey{{Key: ecP256()}, {Key: rsa2048()}}
	tests := []struct {
		name  string
		token string
	}{
		{"empty wrapped key", set(kw, 1, nil)},
		{"wrapped key of 8 bytes", set(kw, 1, make([]byte, 8))},
		{"wrapped key one block short", set(kw, 1, make([]byte, 64))},
		{"wrapped key not whole blocks", set(kw, 1, make([]byte, 71))},
		{"everything empty", strings.Join(segments(kw)[:1], ".") + "...."},
		{"RSA without encrypted key", set(gcm, 1, nil)},
		{"GCM IV of 16 bytes", set(gcm, 2, make([]byte, 16))},
		{"GCM IV empty", set(gcm, 2, nil)},
		{"GCM tag of 12 bytes", set(gcm, 4, make([]byte, 12))},
		{"CBC IV of 12 bytes", set(kw, 2, make([]byte, 12))},
		{"CBC tag of 16 bytes for HS512", set(kw, 4, make([]byte, 16))},
		{"CBC ciphertext empty", set(kw, 3, nil)},
		{"CBC ciphertext not whole blocks", set(kw, 3, make([]byte, 17))},
		{"non-canonical base64url in the ciphertext", raw(gcm, 3, segments(gcm)[3]+"B")},
		{"non-canonical base64url in the tag", raw(gcm, 4, segments(gcm)[4][:21]+"B")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Decrypt(tc.token, keys, DecryptOptions{})
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}
