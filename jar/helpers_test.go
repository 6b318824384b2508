package jar_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// t0 is the fixed clock of the tests.
var t0 = time.Unix(1_700_000_000, 0)

func fixedNow() time.Time { return t0 }

// Test keys, generated once per run.
var (
	keysOnce sync.Once
	ecKey    *ecdsa.PrivateKey // P-256
	ec384Key *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
	rsaKey   *rsa.PrivateKey // 2048 bits
	rsaEnc   *rsa.PrivateKey // the authorization server's encryption key
	ecEnc    *ecdsa.PrivateKey
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		ec384Key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		_, edKey, err = ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		rsaKey, err = rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		rsaEnc, err = rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		ecEnc, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
	})
}

// stdlibVerify checks a compact JWS with the standard library only: it
// splits the token, base64url-decodes it and verifies the signature with
// crypto/ecdsa (after converting R||S to ASN.1 DER), crypto/ed25519 or
// crypto/rsa. It returns the decoded header and claims, keeping JSON
// numbers as json.Number.
func stdlibVerify(t *testing.T, token string, pub crypto.PublicKey) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	header := decodeJSON(t, hb)
	input := []byte(parts[0] + "." + parts[1])
	digest := sha256.Sum256(input)
	switch header["alg"] {
	case "ES256":
		k, ok := pub.(*ecdsa.PublicKey)
		require.True(t, ok)
		require.Len(t, sig, 64)
		der, err := asn1.Marshal(struct{ R, S *big.Int }{
			new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]),
		})
		require.NoError(t, err)
		require.True(t, ecdsa.VerifyASN1(k, digest[:], der), "ES256 signature")
	case "EdDSA":
		k, ok := pub.(ed25519.PublicKey)
		require.True(t, ok)
		require.True(t, ed25519.Verify(k, input, sig), "EdDSA signature")
	case "PS256":
		k, ok := pub.(*rsa.PublicKey)
		require.True(t, ok)
		require.NoError(t, rsa.VerifyPSS(k, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}))
	case "RS256":
		k, ok := pub.(*rsa.PublicKey)
		require.True(t, ok)
		require.NoError(t, rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig))
	default:
		t.Fatalf("stdlibVerify: unexpected alg %v", header["alg"])
	}
	return header, decodeJSON(t, pb)
}

// joseVerify checks a compact JWS through internal/jose and returns its
// header and claims.
func joseVerify(t *testing.T, token string, pub crypto.PublicKey, algs []string) (jose.Header, map[string]any) {
	t.Helper()
	j, err := jose.ParseCompact(token)
	require.NoError(t, err)
	require.NoError(t, j.Verify(pub, algs))
	return j.Header, decodeJSON(t, j.Payload)
}

func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var m map[string]any
	require.NoError(t, d.Decode(&m))
	return m
}

var errSignerDown = errors.New("signer down")

// failingSigner is a crypto.Signer whose Sign always fails.
type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return nil, errSignerDown
}
