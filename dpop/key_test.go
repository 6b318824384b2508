package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type equaler interface {
	Equal(crypto.PrivateKey) bool
}

func TestKeyPersistence(t *testing.T) {
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
	}{
		{"P-256", newKey(t)},
		{"P-384", ec384},
		{"P-521", ec521},
		{"Ed25519", ed},
		{"RSA", rk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			orig := newProofer(t, tc.key, fixedNow)
			for _, format := range []struct {
				name string
				enc  func(crypto.Signer) ([]byte, error)
				dec  func([]byte) (crypto.Signer, error)
			}{
				{"PEM", MarshalPrivateKeyPEM, ParsePrivateKeyPEM},
				{"JWK", MarshalPrivateJWK, ParsePrivateJWK},
			} {
				data, err := format.enc(tc.key)
				require.NoError(t, err, format.name)
				back, err := format.dec(data)
				require.NoError(t, err, format.name)
				require.True(t, back.(equaler).Equal(tc.key), format.name)
				// A restored key keeps its thumbprint: DPoP-bound refresh
				// tokens keep working after a restart.
				restored := newProofer(t, back, fixedNow)
				require.Equal(t, orig.JKT(), restored.JKT(), format.name)
				proof, err := restored.Proof("POST", "https://as.example/token", ProofOptions{})
				require.NoError(t, err)
				v := &Verifier{Now: clock(fixedNow), Algorithms: ClientAlgorithms}
				p, err := v.VerifyProof(t.Context(), proof, "POST", "https://as.example/token", nil)
				require.NoError(t, err)
				require.Equal(t, orig.JKT(), p.JKT)
			}
		})
	}
}

func TestPrivateJWKMembers(t *testing.T) {
	t.Parallel()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	data, err := MarshalPrivateJWK(rk)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(data, &m))
	for _, name := range []string{"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"} {
		require.NotEmpty(t, m[name], name)
	}
	require.Equal(t, "AQAB", m["e"])
}

func TestParsePrivateJWKRejects(t *testing.T) {
	t.Parallel()
	ec := newKey(t)
	ecJWK, err := MarshalPrivateJWK(ec)
	require.NoError(t, err)
	other := newKey(t)
	otherJWK, err := MarshalPrivateJWK(other)
	require.NoError(t, err)
	var e, o map[string]string
	require.NoError(t, json.Unmarshal(ecJWK, &e))
	require.NoError(t, json.Unmarshal(otherJWK, &o))
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsaJWK, err := MarshalPrivateJWK(rk)
	require.NoError(t, err)
	var r map[string]string
	require.NoError(t, json.Unmarshal(rsaJWK, &r))
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	edJWK, err := MarshalPrivateJWK(ed)
	require.NoError(t, err)
	var d map[string]string
	require.NoError(t, json.Unmarshal(edJWK, &d))

	with := func(m map[string]string, k, v string) string {
		c := map[string]string{}
		for a, b := range m {
			c[a] = b
		}
		if v == "" {
			delete(c, k)
		} else {
			c[k] = v
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	for _, tc := range []struct {
		name string
		in   string
		want error
	}{
		{"public only", with(e, "d", ""), ErrMalformedKey},
		{"x of another key", with(e, "x", o["x"]), ErrMalformedKey},
		{"d of another key", with(e, "d", o["d"]), ErrMalformedKey},
		{"short d", with(e, "d", "AAAA"), ErrMalformedKey},
		{"unknown curve", with(e, "crv", "P-192"), ErrUnsupportedKey},
		{"Ed25519 x mismatch", with(d, "x", e["x"]), ErrMalformedKey},
		{"RSA q of nothing", with(r, "q", "AQAB"), ErrMalformedKey},
		{"RSA dp wrong", with(r, "dp", "AQAB"), ErrMalformedKey},
		{"RSA multi-prime", with(r, "oth", "x"), ErrUnsupportedKey},
		{"oct", `{"kty":"oct","k":"c2VjcmV0"}`, ErrUnsupportedKey},
		{"no kty", `{"d":"AAAA"}`, ErrMalformedKey},
		{"duplicate member", strings.TrimSuffix(string(ecJWK), "}") + `,"d":"` + o["d"] + `"}`, ErrMalformedKey},
		{"not base64url", with(e, "d", "***"), ErrMalformedKey},
		{"not JSON", "nope", ErrMalformedKey},
		{"kty not a string", `{"kty":1}`, ErrMalformedKey},
		{"too large", strings.Repeat(" ", maxKeyBytes+1), ErrMalformedKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePrivateJWK([]byte(tc.in))
			require.ErrorIs(t, err, tc.want)
			for _, secret := range []string{e["d"], r["d"], d["d"]} {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestParsePrivateKeyPEMRejects(t *testing.T) {
	t.Parallel()
	ec := newKey(t)
	good, err := MarshalPrivateKeyPEM(ec)
	require.NoError(t, err)
	sec1, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)
	ec224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	der224, err := x509.MarshalPKCS8PrivateKey(ec224)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)

	// SEC 1 and PKCS#1 blocks are accepted too.
	k, err := ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	require.NoError(t, err)
	require.True(t, k.(equaler).Equal(ec))

	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"no PEM", []byte("hello"), ErrMalformedKey},
		{"trailing data", append(append([]byte{}, good...), "junk"...), ErrMalformedKey},
		{"two blocks", append(append([]byte{}, good...), good...), ErrMalformedKey},
		{"certificate block", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), ErrMalformedKey},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), ErrMalformedKey},
		{"encrypted headers", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), ErrMalformedKey},
		{"P-224", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der224}), ErrUnsupportedKey},
		{"RSA 1024", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}), ErrUnsupportedKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePrivateKeyPEM(tc.in)
			require.ErrorIs(t, err, tc.want)
		})
	}

	// A hardware key cannot be exported.
	_, err = MarshalPrivateKeyPEM(opaqueSigner{ec})
	require.ErrorIs(t, err, ErrUnsupportedKey)
	_, err = MarshalPrivateJWK(opaqueSigner{ec})
	require.ErrorIs(t, err, ErrUnsupportedKey)
	_, err = MarshalPrivateJWK(ec224)
	require.ErrorIs(t, err, ErrUnsupportedKey)
}
