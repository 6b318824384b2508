package jose

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
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Test keys are generated once per test binary: RSA generation is slow.
var (
	ecP256  = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	ecP256b = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) })
	ecP384  = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)) })
	ecP521  = sync.OnceValue(func() *ecdsa.PrivateKey { return must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader)) })
	edKey   = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	// RSA test keys are read from testdata (generating them takes seconds
	// on a loaded machine). They protect nothing.
	rsa2048  = sync.OnceValue(func() *rsa.PrivateKey { return loadRSA("testdata/rsa-2048-a.pem") })
	rsa2048b = sync.OnceValue(func() *rsa.PrivateKey { return loadRSA("testdata/rsa-2048-b.pem") })
	rsa1024  = sync.OnceValue(func() *rsa.PrivateKey { return loadRSA("testdata/rsa-1024.pem") })
)

func loadRSA(path string) *rsa.PrivateKey {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		panic("no PEM block in " + path)
	}
	return must(x509.ParsePKCS8PrivateKey(blk.Bytes)).(*rsa.PrivateKey)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// kmsSigner is a crypto.Signer that exposes nothing but Public and Sign,
// as a cloud KMS or PKCS #11 key does: the package cannot type-assert it
// to a standard library key.
type kmsSigner struct {
	pub   crypto.PublicKey
	sign  func(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error)
	calls int
	mu    sync.Mutex
}

func newKMS(k crypto.Signer) *kmsSigner {
	return &kmsSigner{pub: k.Public(), sign: k.Sign}
}

func (s *kmsSigner) Public() crypto.PublicKey { return s.pub }

func (s *kmsSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	return s.sign(r, digest, opts)
}

// fixedSigner returns a fixed signature (or error) for the public key of
// another key: a faulty HSM.
func fixedSigner(pub crypto.PublicKey, sig []byte, err error) *kmsSigner {
	return &kmsSigner{pub: pub, sign: func(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return sig, err }}
}

var errHSM = errors.New("hsm: device unavailable")

// forge builds a compact JWS from a raw header, payload and signature, so
// that tests can present any header.
func forge(header string, payload string, sig []byte) string {
	return b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(sig)
}

// signWith signs payload with key under alg with a forged header: the
// signature is valid for that header.
func signWith(t *testing.T, key crypto.Signer, alg, header, payload string) string {
	t.Helper()
	info, ok := algorithm(alg)
	require.True(t, ok)
	pub, err := publicOf(key)
	require.NoError(t, err)
	input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	sig, err := signRaw(rand.Reader, key, pub, info, []byte(input), nil)
	require.NoError(t, err)
	return input + "." + b64.EncodeToString(sig)
}

// jwkJSON returns the public JWK JSON of key as a map, for tests that edit
// members.
func jwkJSON(t *testing.T, key crypto.PublicKey) map[string]any {
	t.Helper()
	k, err := NewJWK(key)
	require.NoError(t, err)
	b, err := k.MarshalJSON()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

// rfc9449 is testdata/rfc9449-dpop.json.
type rfc9449 struct {
	JWK    json.RawMessage `json:"jwk"`
	JKT    string          `json:"jkt"`
	Proofs []struct {
		Section string         `json:"section"`
		Compact string         `json:"compact"`
		Payload map[string]any `json:"payload"`
	} `json:"proofs"`
	AccessToken struct {
		Section string `json:"section"`
		Compact string `json:"compact"`
	} `json:"access_token"`
}

func loadRFC9449(t testing.TB) rfc9449 {
	var v rfc9449
	readJSON(t, "testdata/rfc9449-dpop.json", &v)
	return v
}

// rfc7638 is testdata/rfc7638-thumbprint.json.
type rfc7638 struct {
	JWK             json.RawMessage `json:"jwk"`
	ThumbprintInput string          `json:"thumbprint_input"`
	Thumbprint      string          `json:"thumbprint"`
}

// testClock is an injectable clock safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Unix(1_700_000_000, 0)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// segments splits a compact serialization.
func segments(tok string) []string { return strings.Split(tok, ".") }
