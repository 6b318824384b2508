package hardened_test

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// keyVectors are the private JWKs of RFC 7517 Appendix A.2 and RFC 8037
// Appendix A.1, copied into testdata/.
type keyVectors struct {
	Source string `json:"source"`
	Keys   []struct {
		Name string          `json:"name"`
		Kid  string          `json:"kid"`
		JWK  json.RawMessage `json:"jwk"`
	} `json:"keys"`
	Symmetric json.RawMessage `json:"symmetric"`
}

func loadKeyVectors(t testing.TB) keyVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc7517-private-keys.json")
	require.NoError(t, err)
	var v keyVectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Source)
	require.Len(t, v.Keys, 3)
	return v
}

type equaler interface {
	Equal(crypto.PrivateKey) bool
}

// usable checks that k signs a client assertion and, for ECDSA and RSA,
// decrypts a JWE encrypted to its public key: the uses ParsePrivateKey
// promises.
func usable(t *testing.T, k crypto.Signer) {
	t.Helper()
	alg, err := jose.AlgorithmFor(k.Public())
	require.NoError(t, err)
	s, err := jose.NewSigner(k, jose.SignerOptions{Algorithm: alg})
	require.NoError(t, err)
	jws, err := s.Sign([]byte(`{"iss":"c"}`))
	require.NoError(t, err)
	parsed, err := jose.ParseCompact(jws)
	require.NoError(t, err)
	require.NoError(t, parsed.Verify(k.Public(), []string{alg}))

	switch k.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey:
		jwe, err := jose.Encrypt([]byte("secret"), k.Public(), jose.EncryptOptions{})
		require.NoError(t, err)
		pt, _, err := jose.Decrypt(jwe, []jose.DecryptionKey{{Key: k}}, jose.DecryptOptions{})
		require.NoError(t, err)
		require.Equal(t, "secret", string(pt))
	case ed25519.PrivateKey:
	default:
		t.Fatalf("unexpected key type %T", k)
	}
}

func TestParsePrivateKeyRFCVectors(t *testing.T) {
	t.Parallel()
	v := loadKeyVectors(t)
	for _, vec := range v.Keys {
		t.Run(vec.Name, func(t *testing.T) {
			t.Parallel()
			k, kid, err := hardened.ParsePrivateKey(vec.JWK)
			require.NoError(t, err)
			require.Equal(t, vec.Kid, kid)
			usable(t, k)

			// The public members are the ones published.
			var members map[string]any
			require.NoError(t, json.Unmarshal(vec.JWK, &members))
			pub, err := jose.ParseJWK(mustJSON(t, maps.Collect(func(yield func(string, any) bool) {
				for n, val := range members {
					if n == "kty" || n == "crv" || n == "x" || n == "y" || n == "n" || n == "e" {
						if !yield(n, val) {
							return
						}
					}
				}
			})))
			require.NoError(t, err)
			require.True(t, pub.Key.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()))

			// Both encodings read back what they wrote.
			j, err := hardened.MarshalPrivateJWK(k, kid)
			require.NoError(t, err)
			back, backKid, err := hardened.ParsePrivateKey(j)
			require.NoError(t, err)
			require.Equal(t, kid, backKid)
			require.True(t, back.(equaler).Equal(k))
			p, err := hardened.MarshalPrivateKeyPEM(k)
			require.NoError(t, err)
			back, backKid, err = hardened.ParsePrivateKey(p)
			require.NoError(t, err)
			require.Empty(t, backKid, "PEM has no kid")
			require.True(t, back.(equaler).Equal(k))
		})
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestPrivateKeyRoundTrip(t *testing.T) {
	t.Parallel()
	ec, ed, rk := testKeys(t)
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	ec521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	edPtr := ed
	tests := []struct {
		name string
		key  crypto.Signer
		want crypto.Signer // the value returned: pointer receivers normalized
		kid  string
	}{
		{name: "P-256", key: ec, want: ec, kid: "ec-1"},
		{name: "P-384", key: ec384, want: ec384},
		{name: "P-521", key: ec521, want: ec521, kid: "ü <&> \"quoted\""},
		{name: "Ed25519", key: ed, want: ed, kid: "ed"},
		{name: "*Ed25519", key: &edPtr, want: ed},
		{name: "RSA 2048", key: rk, want: rk, kid: "rsa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, format := range []struct {
				name    string
				enc     func(crypto.Signer) ([]byte, error)
				wantKid string
			}{
				{"PEM", hardened.MarshalPrivateKeyPEM, ""},
				{"JWK", func(k crypto.Signer) ([]byte, error) { return hardened.MarshalPrivateJWK(k, tc.kid) }, tc.kid},
			} {
				data, err := format.enc(tc.key)
				require.NoError(t, err, format.name)
				back, kid, err := hardened.ParsePrivateKey(data)
				require.NoError(t, err, format.name)
				require.Equal(t, format.wantKid, kid, format.name)
				require.IsType(t, tc.want, back, format.name)
				require.True(t, back.(equaler).Equal(tc.want), format.name)
				// A restored key keeps its thumbprint: keys bound to tokens
				// (DPoP, JARM registrations) keep working after a restart.
				want, err := jose.Thumbprint(tc.want.Public())
				require.NoError(t, err)
				got, err := jose.Thumbprint(back.Public())
				require.NoError(t, err)
				require.Equal(t, want, got, format.name)
				usable(t, back)
			}
		})
	}
}

func TestMarshalPrivateJWKMembers(t *testing.T) {
	t.Parallel()
	_, _, rk := testKeys(t)
	data, err := hardened.MarshalPrivateJWK(rk, "k1")
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(data, &m))
	for _, name := range []string{"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi", "kid"} {
		require.NotEmpty(t, m[name], name)
	}
	require.Equal(t, "AQAB", m["e"])
	require.Equal(t, "k1", m["kid"])
	require.Len(t, m, 10)

	data, err = hardened.MarshalPrivateJWK(rk, "")
	require.NoError(t, err)
	require.NotContains(t, string(data), `"kid"`)
}

// TestParsePrivateKeyPEMForms checks the three PEM private key encodings,
// with text before the block as openssl writes it.
func TestParsePrivateKeyPEMForms(t *testing.T) {
	t.Parallel()
	ec, _, rk := testKeys(t)
	sec1, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(rk)
	require.NoError(t, err)
	tests := []struct {
		name string
		data []byte
		want crypto.Signer
	}{
		{"SEC 1", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), ec},
		{"PKCS #1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}), rk},
		{"PKCS #8 with text before and blank lines after", append([]byte("Bag Attributes\n    localKeyID: 01\n"),
			append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), "\n\n"...)...), rk},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, kid, err := hardened.ParsePrivateKey(tc.data)
			require.NoError(t, err)
			require.Empty(t, kid)
			require.True(t, k.(equaler).Equal(tc.want))
		})
	}
}

func TestParsePrivateKeyRejects(t *testing.T) {
	t.Parallel()
	v := loadKeyVectors(t)
	jwkOf := func(i int) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(v.Keys[i].JWK, &m))
		return m
	}
	ecJWK, rsaJWK, edJWK := jwkOf(0), jwkOf(1), jwkOf(2)
	with := func(m map[string]any, k string, val any) string {
		c := maps.Clone(m)
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return string(mustJSON(t, c))
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	otherJWK, err := hardened.MarshalPrivateJWK(other, "")
	require.NoError(t, err)
	var o map[string]string
	require.NoError(t, json.Unmarshal(otherJWK, &o))

	ec, _, _ := testKeys(t)
	good, err := hardened.MarshalPrivateKeyPEM(ec)
	require.NoError(t, err)
	ec224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	der224, err := x509.MarshalPKCS8PrivateKey(ec224)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	smallPKCS8, err := x509.MarshalPKCS8PrivateKey(small)
	require.NoError(t, err)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	derX25519, err := x509.MarshalPKCS8PrivateKey(x25519)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(ec.Public())
	require.NoError(t, err)
	block := func(typ string, der []byte, headers map[string]string) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der}))
	}
	small.Precompute()
	smallJWK := map[string]any{
		"kty": "RSA", "e": "AQAB",
		"n":  b64(small.N.Bytes()),
		"d":  b64(small.D.Bytes()),
		"p":  b64(small.Primes[0].Bytes()),
		"q":  b64(small.Primes[1].Bytes()),
		"dp": b64(small.Precomputed.Dp.Bytes()),
		"dq": b64(small.Precomputed.Dq.Bytes()),
		"qi": b64(small.Precomputed.Qinv.Bytes()),
	}

	tests := []struct {
		name string
		in   string
		want error
	}{
		// PEM.
		{"empty", "", hardened.ErrMalformedKey},
		{"neither PEM nor JWK", "hello", hardened.ErrMalformedKey},
		{"trailing data", string(good) + "junk", hardened.ErrMalformedKey},
		{"two blocks", string(good) + string(good), hardened.ErrMalformedKey},
		{"unknown block type", block("OPENSSH PRIVATE KEY", []byte{1}, nil), hardened.ErrMalformedKey},
		{"garbage DER", block("PRIVATE KEY", []byte{1, 2, 3}, nil), hardened.ErrMalformedKey},
		{"SEC 1 DER in a PKCS #1 block", block("RSA PRIVATE KEY", mustSEC1(t, ec), nil), hardened.ErrMalformedKey},
		{"other PEM headers", block("PRIVATE KEY", []byte{1}, map[string]string{"Comment": "x"}), hardened.ErrMalformedKey},
		{"encrypted PKCS #8", block("ENCRYPTED PRIVATE KEY", []byte{1}, nil), hardened.ErrUnsupportedKey},
		{"legacy encrypted PEM", block("RSA PRIVATE KEY", []byte{1}, map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}), hardened.ErrUnsupportedKey},
		{"public key", block("PUBLIC KEY", pubDER, nil), hardened.ErrUnsupportedKey},
		{"certificate", block("CERTIFICATE", []byte{1}, nil), hardened.ErrUnsupportedKey},
		{"P-224", block("PRIVATE KEY", der224, nil), hardened.ErrUnsupportedKey},
		{"X25519", block("PRIVATE KEY", derX25519, nil), hardened.ErrUnsupportedKey},
		{"RSA 1024 PKCS #1", block("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small), nil), hardened.ErrUnsupportedKey},
		{"RSA 1024 PKCS #8", block("PRIVATE KEY", smallPKCS8, nil), hardened.ErrUnsupportedKey},
		{"too large", strings.Repeat(" ", hardened.MaxKeyBytes+1), hardened.ErrMalformedKey},

		// JWK.
		{"public EC JWK", with(ecJWK, "d", nil), hardened.ErrUnsupportedKey},
		{"public RSA JWK", string(mustJSON(t, without(rsaJWK, "d", "p", "q", "dp", "dq", "qi"))), hardened.ErrUnsupportedKey},
		{"public Ed25519 JWK", with(edJWK, "d", nil), hardened.ErrUnsupportedKey},
		{"oct JWK (RFC 7517 A.3)", string(v.Symmetric), hardened.ErrUnsupportedKey},
		{"JWK Set", `{"keys":[` + string(v.Keys[0].JWK) + `]}`, hardened.ErrUnsupportedKey},
		{"RSA 1024 JWK", string(mustJSON(t, smallJWK)), hardened.ErrUnsupportedKey},
		{"RSA without primes", string(mustJSON(t, without(rsaJWK, "p", "q", "dp", "dq", "qi"))), hardened.ErrUnsupportedKey},
		{"RSA multi-prime", with(rsaJWK, "oth", []any{map[string]string{"r": "AQAB", "d": "AQAB", "t": "AQAB"}}), hardened.ErrUnsupportedKey},
		{"unknown curve", with(ecJWK, "crv", "P-192"), hardened.ErrUnsupportedKey},
		{"X25519 OKP", with(edJWK, "crv", "X25519"), hardened.ErrUnsupportedKey},
		{"unknown kty", with(ecJWK, "kty", "AKP"), hardened.ErrUnsupportedKey},
		{"x of another key", with(ecJWK, "x", o["x"]), hardened.ErrMalformedKey},
		{"d of another key", with(ecJWK, "d", o["d"]), hardened.ErrMalformedKey},
		{"short d", with(ecJWK, "d", "AAAA"), hardened.ErrMalformedKey},
		{"d is zero", with(ecJWK, "d", b64(make([]byte, 32))), hardened.ErrMalformedKey},
		{"p in an EC JWK", with(ecJWK, "p", "AQAB"), hardened.ErrMalformedKey},
		{"Ed25519 x of another key", with(edJWK, "x", b64(make([]byte, 32))), hardened.ErrMalformedKey},
		{"Ed25519 short seed", with(edJWK, "d", "AQAB"), hardened.ErrMalformedKey},
		{"RSA q of nothing", with(rsaJWK, "q", "AQAB"), hardened.ErrMalformedKey},
		{"RSA dp wrong", with(rsaJWK, "dp", "AQAB"), hardened.ErrMalformedKey},
		{"RSA qi wrong", with(rsaJWK, "qi", "AQAB"), hardened.ErrMalformedKey},
		{"RSA d wrong", with(rsaJWK, "d", "AQAB"), hardened.ErrMalformedKey},
		{"no kty", `{"d":"AAAA"}`, hardened.ErrMalformedKey},
		{"kty not a string", `{"kty":1,"d":"AAAA"}`, hardened.ErrMalformedKey},
		{"d not a string", with(ecJWK, "d", 1), hardened.ErrMalformedKey},
		{"d not base64url", with(ecJWK, "d", "***"), hardened.ErrMalformedKey},
		{"d padded", with(ecJWK, "d", ecJWK["d"].(string)+"="), hardened.ErrMalformedKey},
		{"x not canonical base64url", with(ecJWK, "x", ecJWK["x"].(string)[:42]+"F"), hardened.ErrMalformedKey},
		{"duplicate d", strings.TrimSuffix(string(v.Keys[0].JWK), "}") + `,"d":"` + o["d"] + `"}`, hardened.ErrMalformedKey},
		{"case-variant member", strings.TrimSuffix(string(v.Keys[0].JWK), "}") + `,"D":"` + o["d"] + `"}`, hardened.ErrMalformedKey},
		{"not JSON", "{nope", hardened.ErrMalformedKey},
		{"trailing data after the JWK", string(v.Keys[0].JWK) + "{}", hardened.ErrMalformedKey},
	}
	secrets := []string{ecJWK["d"].(string), rsaJWK["d"].(string), rsaJWK["p"].(string), edJWK["d"].(string), o["d"]}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, kid, err := hardened.ParsePrivateKey([]byte(tc.in))
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, k)
			require.Empty(t, kid)
			for _, s := range secrets {
				require.NotContains(t, err.Error(), s, "no key material in errors")
			}
		})
	}
}

// without returns a copy of m without the named members.
func without(m map[string]any, drop ...string) map[string]any {
	c := maps.Clone(m)
	for _, d := range drop {
		delete(c, d)
	}
	return c
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustSEC1(t testing.TB, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	require.NoError(t, err)
	return der
}

// opaqueSigner stands for a KMS or HSM key: it signs, but its private key
// cannot be read.
type opaqueSigner struct{ crypto.Signer }

func TestMarshalPrivateKeyRejects(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	ec224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	var nilEC *ecdsa.PrivateKey
	tests := []struct {
		name string
		key  crypto.Signer
	}{
		{"KMS signer", opaqueSigner{ec}},
		{"P-224", ec224},
		{"RSA 1024", small},
		{"nil", nil},
		{"typed nil", nilEC},
		{"short Ed25519", ed25519.PrivateKey{1, 2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := hardened.MarshalPrivateKeyPEM(tc.key)
			require.ErrorIs(t, err, hardened.ErrUnsupportedKey)
			_, err = hardened.MarshalPrivateJWK(tc.key, "k")
			require.ErrorIs(t, err, hardened.ErrUnsupportedKey)
		})
	}
	_, err = hardened.MarshalPrivateJWK(ec, "bad\xff")
	require.ErrorIs(t, err, hardened.ErrMalformedKey)
}

func TestLoadPrivateKey(t *testing.T) {
	t.Parallel()
	v := loadKeyVectors(t)
	dir := t.TempDir()
	jwkPath := filepath.Join(dir, "client.jwk")
	require.NoError(t, os.WriteFile(jwkPath, v.Keys[0].JWK, 0o600))
	k, kid, err := hardened.LoadPrivateKey(jwkPath)
	require.NoError(t, err)
	require.Equal(t, "1", kid)
	require.IsType(t, &ecdsa.PrivateKey{}, k)

	_, _, err = hardened.LoadPrivateKey(filepath.Join(dir, "missing.pem"))
	require.ErrorIs(t, err, fs.ErrNotExist)

	big := filepath.Join(dir, "big.pem")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat("A", hardened.MaxKeyBytes+10)), 0o600))
	_, _, err = hardened.LoadPrivateKey(big)
	require.ErrorIs(t, err, hardened.ErrMalformedKey)

	pub := filepath.Join(dir, "public.jwk")
	var m map[string]any
	require.NoError(t, json.Unmarshal(v.Keys[0].JWK, &m))
	delete(m, "d")
	require.NoError(t, os.WriteFile(pub, mustJSON(t, m), 0o600))
	_, _, err = hardened.LoadPrivateKey(pub)
	require.ErrorIs(t, err, hardened.ErrUnsupportedKey)
	require.Contains(t, err.Error(), pub, "the error names the file")
}

// TestParsedKeyAuthenticates loads a client key file and uses it for
// private_key_jwt, kid included: the key loading the module has one place
// for feeds the client authentication directly.
func TestParsedKeyAuthenticates(t *testing.T) {
	t.Parallel()
	v := loadKeyVectors(t)
	k, kid, err := hardened.ParsePrivateKey(v.Keys[0].JWK)
	require.NoError(t, err)
	form := url.Values{}
	require.NoError(t, hardened.Authenticate(hardened.PrivateKeyJWT{ClientID: testClientID, Key: k, KeyID: kid, Issuer: testIssuer}, form, nil))
	a := verifyAssertion(t, form, k.Public(), jose.ES256)
	require.Equal(t, "1", a.header.Kid)
}
