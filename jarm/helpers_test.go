package jarm_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

const (
	testIssuer   = "https://as.example.com"
	testClientID = "client-1"
	testState    = "af0ifjsldkj-state"
	testCode     = "SplxlOBeZQQYbYS6WxSbIA"
)

// testNow is the fixed clock of the tests.
var testNow = time.Unix(1_700_000_000, 0)

func fixedNow() time.Time { return testNow }

// Keys are generated once: RSA generation is slow.
var (
	asEC  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	asEC2 = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
	asRSA = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	asEd = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	clientRSA = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	clientEC = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
)

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// claims returns a valid "code" response payload (JARM §2.1.1) with the
// given members changed; a nil value deletes the member.
func claims(changes map[string]any) map[string]any {
	c := map[string]any{
		"iss":   testIssuer,
		"aud":   testClientID,
		"exp":   testNow.Add(5 * time.Minute).Unix(),
		"iat":   testNow.Unix(),
		"code":  testCode,
		"state": testState,
	}
	maps.Copy(c, changes)
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		}
	}
	return c
}

// signJose signs payload with internal/jose's Signer.
func signJose(t testing.TB, key crypto.Signer, alg, kid string, payload any) string {
	t.Helper()
	s, err := jose.NewSigner(key, jose.SignerOptions{Algorithm: alg, KeyID: kid})
	require.NoError(t, err)
	tok, err := s.SignJSON(payload)
	require.NoError(t, err)
	return tok
}

// signStdlib signs payload with the standard-library ES256 signer of
// example_test.go, independent of internal/jose.
func signStdlib(t testing.TB, key *ecdsa.PrivateKey, kid string, payload any) string {
	t.Helper()
	tok, err := asSign(key, kid, payload)
	require.NoError(t, err)
	return tok
}

// signRawStdlib appends an ES256 signature to a signing input.
func signRawStdlib(t testing.TB, key *ecdsa.PrivateKey, input string) string {
	t.Helper()
	tok, err := es256(key, input)
	require.NoError(t, err)
	return tok
}

// encrypt wraps a JWS in a JWE to the client key (RFC 7519 §5.2).
func encrypt(t testing.TB, jws string, to crypto.PublicKey, kid string, opts jose.EncryptOptions) string {
	t.Helper()
	opts.KeyID, opts.ContentType = kid, "JWT"
	out, err := jose.Encrypt([]byte(jws), to, opts)
	require.NoError(t, err)
	return out
}

// jwksServer is an authorization server's jwks_uri over TLS that counts
// fetches and whose keys can be rotated.
type jwksServer struct {
	*httptest.Server
	hits   atomic.Int32
	mu     sync.Mutex
	body   []byte
	status int
}

func newJWKSServer(t testing.TB, keys ...*jose.JWK) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(t, keys...)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t testing.TB, keys ...*jose.JWK) {
	t.Helper()
	b, err := jose.MarshalJWKSet(keys)
	require.NoError(t, err)
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

func (s *jwksServer) fail(status int) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

func jwk(pub crypto.PublicKey, kid string) *jose.JWK {
	return &jose.JWK{Key: pub, KeyID: kid, Use: "sig"}
}

// clock is a settable clock shared between a test and a Decoder.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// staticDecoder returns a Decoder with the ES256 key "ec1", the Ed25519 key
// "ed1" and the RSA key "rsa1", changed by edit.
func staticDecoder(t testing.TB, edit func(*jarm.Config)) *jarm.Decoder {
	t.Helper()
	cfg := jarm.Config{
		Issuer:   testIssuer,
		ClientID: testClientID,
		Keys: []jarm.VerificationKey{
			{KeyID: "ec1", Key: asEC().Public()},
			{KeyID: "ed1", Key: asEd().Public()},
			{KeyID: "rsa1", Key: asRSA().Public()},
		},
		Now: fixedNow,
	}
	if edit != nil {
		edit(&cfg)
	}
	d, err := jarm.NewDecoder(cfg)
	require.NoError(t, err)
	return d
}

func ellipticP256() elliptic.Curve { return elliptic.P256() }
func ellipticP384() elliptic.Curve { return elliptic.P384() }
