package hardened_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/jose"
)

const (
	testClientID = "s6BhdRkqt3"
	testIssuer   = "https://server.example.com"
)

// Keys shared by the tests; generated once (RSA generation is slow).
var (
	keysOnce sync.Once
	ecKey    *ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
	rsaKey   *rsa.PrivateKey
)

func testKeys(t testing.TB) (*ecdsa.PrivateKey, ed25519.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return ecKey, edKey, rsaKey
}

// verifiedAssertion is a client assertion checked with internal/jose.
type verifiedAssertion struct {
	header jose.Header
	claims jose.Claims
	raw    map[string]any // the claims as generic JSON, to check types
}

// verifyAssertion checks the form a private_key_jwt Authenticate produced
// and returns the verified assertion.
func verifyAssertion(t testing.TB, form url.Values, pub crypto.PublicKey, alg string) verifiedAssertion {
	t.Helper()
	require.Equal(t, []string{hardened.ClientAssertionType}, form["client_assertion_type"])
	require.Len(t, form["client_assertion"], 1)
	j, err := jose.ParseCompact(form.Get("client_assertion"))
	require.NoError(t, err)
	require.NoError(t, j.Verify(pub, []string{alg}))
	var v verifiedAssertion
	v.header = j.Header
	require.NoError(t, json.Unmarshal(j.Payload, &v.claims))
	require.NoError(t, json.Unmarshal(j.Payload, &v.raw))
	return v
}

func TestPrivateKeyJWTClaims(t *testing.T) {
	t.Parallel()
	ec, ed, rk := testKeys(t)
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name     string
		key      crypto.Signer
		algs     []string // configured; nil is the FAPI default
		wantAlg  string
		kid      string
		lifetime time.Duration
		wantLife int64
	}{
		{name: "ES256 inferred, default lifetime", key: ec, wantAlg: jose.ES256, wantLife: 60},
		{name: "ES256 listed, with kid", key: ec, algs: []string{jose.ES256}, wantAlg: jose.ES256, kid: "k1", lifetime: 30 * time.Second, wantLife: 30},
		{name: "EdDSA inferred", key: ed, wantAlg: jose.EdDSA, lifetime: 5 * time.Minute, wantLife: 300},
		{name: "PS256 inferred from RSA", key: rk, wantAlg: jose.PS256, kid: "rsa", lifetime: 1500 * time.Millisecond, wantLife: 1},
		{name: "PS256 listed among others", key: rk, algs: []string{jose.EdDSA, jose.PS256}, wantAlg: jose.PS256, lifetime: time.Second, wantLife: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := hardened.PrivateKeyJWT{
				ClientID:   testClientID,
				Key:        tc.key,
				Algorithms: tc.algs,
				KeyID:      tc.kid,
				Issuer:     testIssuer,
				Lifetime:   tc.lifetime,
				Now:        func() time.Time { return now },
			}
			require.Equal(t, "private_key_jwt", p.Method())
			form := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}
			header := http.Header{}
			require.NoError(t, hardened.Authenticate(p, form, header))
			require.Empty(t, header, "private_key_jwt must not touch the header")
			require.Equal(t, testClientID, form.Get("client_id"))
			require.Equal(t, "authorization_code", form.Get("grant_type"))
			require.Empty(t, form["client_secret"])

			v := verifyAssertion(t, form, tc.key.Public(), tc.wantAlg)
			require.Equal(t, tc.wantAlg, v.header.Alg)
			require.Equal(t, tc.kid, v.header.Kid)
			require.Nil(t, v.header.JWK, "the assertion must not embed a key")
			require.Equal(t, testClientID, v.claims.Issuer)
			require.Equal(t, testClientID, v.claims.Subject)
			require.Equal(t, testIssuer, v.raw["aud"], "aud must be the issuer as a single string")
			require.IsType(t, "", v.raw["aud"])
			require.NotNil(t, v.claims.IssuedAt)
			require.NotNil(t, v.claims.Expiry)
			require.Equal(t, now.Unix(), int64(*v.claims.IssuedAt))
			require.Equal(t, tc.wantLife, int64(*v.claims.Expiry-*v.claims.IssuedAt))
			jti, err := base64.RawURLEncoding.DecodeString(v.claims.ID)
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(jti)*8, 128, "jti must carry at least 128 bits")
			require.NoError(t, v.claims.Validate(jose.Expected{
				Issuer: testClientID, Audience: testIssuer, Now: now,
				RequireExpiry: true, RequireIssuedAt: true,
			}))
			require.Len(t, v.raw, 6, "iss, sub, aud, jti, iat, exp and nothing else")
		})
	}
}

func TestPrivateKeyJWTUsesClock(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	p := hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: testIssuer, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(10 * time.Second)
		return now
	}}
	var iats []int64
	for range 2 {
		form := url.Values{}
		require.NoError(t, hardened.Authenticate(p, form, nil))
		v := verifyAssertion(t, form, ec.Public(), jose.ES256)
		iats = append(iats, int64(*v.claims.IssuedAt))
	}
	require.Equal(t, []int64{1_800_000_010, 1_800_000_020}, iats)
}

// TestPrivateKeyJWTUniqueJTI makes 1000 assertions from concurrent
// goroutines with one shared configuration and checks every jti differs.
func TestPrivateKeyJWTUniqueJTI(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	auth := &hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: testIssuer}
	const workers, perWorker = 8, 125
	var (
		mu   sync.Mutex
		seen = make(map[string]bool, workers*perWorker)
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				form := url.Values{}
				if err := hardened.Authenticate(auth, form, http.Header{}); err != nil {
					errs <- err
					return
				}
				j, err := jose.ParseCompact(form.Get("client_assertion"))
				if err != nil {
					errs <- err
					return
				}
				if i%25 == 0 { // a sample: the claims tests verify every field
					if err := j.Verify(ec.Public(), []string{jose.ES256}); err != nil {
						errs <- err
						return
					}
				}
				var c jose.Claims
				if err := json.Unmarshal(j.Payload, &c); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if seen[c.ID] {
					mu.Unlock()
					errs <- fmt.Errorf("jti %q repeated", c.ID)
					return
				}
				seen[c.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, seen, workers*perWorker)
}

// failingSigner is a crypto.Signer (such as a remote KMS) that fails.
type failingSigner struct{ crypto.Signer }

var errKMS = errors.New("kms unavailable")

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return nil, errKMS }

func TestPrivateKeyJWTSignerFailure(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	p := hardened.PrivateKeyJWT{ClientID: testClientID, Key: failingSigner{ec}, Issuer: testIssuer}
	form := url.Values{}
	err := hardened.Authenticate(p, form, nil)
	require.ErrorIs(t, err, hardened.ErrClientAssertion)
	require.ErrorIs(t, err, errKMS)
	require.Empty(t, form, "nothing is added when signing fails")
}

func TestClientAuthConfigErrors(t *testing.T) {
	t.Parallel()
	ec, ed, rk := testKeys(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	good := hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: testIssuer}
	with := func(f func(*hardened.PrivateKeyJWT)) hardened.PrivateKeyJWT {
		p := good
		f(&p)
		return p
	}
	var nilKey *ecdsa.PrivateKey
	tests := []struct {
		name  string
		auth  hardened.ClientAuth
		field string
	}{
		{"jwt: empty client id", with(func(p *hardened.PrivateKeyJWT) { p.ClientID = "" }), "PrivateKeyJWT.ClientID"},
		{"jwt: client id with control char", with(func(p *hardened.PrivateKeyJWT) { p.ClientID = "a\nb" }), "PrivateKeyJWT.ClientID"},
		{"jwt: client id not ASCII", with(func(p *hardened.PrivateKeyJWT) { p.ClientID = "clé" }), "PrivateKeyJWT.ClientID"},
		{"jwt: nil key", with(func(p *hardened.PrivateKeyJWT) { p.Key = nil }), "PrivateKeyJWT.Key"},
		{"jwt: typed nil key", with(func(p *hardened.PrivateKeyJWT) { p.Key = nilKey }), "PrivateKeyJWT.Key"},
		{"jwt: empty issuer", with(func(p *hardened.PrivateKeyJWT) { p.Issuer = "" }), "PrivateKeyJWT.Issuer"},
		{"jwt: issuer with control char", with(func(p *hardened.PrivateKeyJWT) { p.Issuer = testIssuer + "\x00" }), "PrivateKeyJWT.Issuer"},
		{"jwt: negative lifetime", with(func(p *hardened.PrivateKeyJWT) { p.Lifetime = -time.Second }), "PrivateKeyJWT.Lifetime"},
		{"jwt: lifetime under a second", with(func(p *hardened.PrivateKeyJWT) { p.Lifetime = 999 * time.Millisecond }), "PrivateKeyJWT.Lifetime"},
		{"jwt: lifetime over the maximum", with(func(p *hardened.PrivateKeyJWT) { p.Lifetime = hardened.MaxAssertionLifetime + time.Second }), "PrivateKeyJWT.Lifetime"},
		{"jwt: RS256 listed", with(func(p *hardened.PrivateKeyJWT) { p.Key, p.Algorithms = rk, []string{jose.PS256, jose.RS256} }), "PrivateKeyJWT.Algorithms"},
		{"jwt: HS256 listed", with(func(p *hardened.PrivateKeyJWT) { p.Algorithms = []string{"HS256"} }), "PrivateKeyJWT.Algorithms"},
		{"jwt: none listed", with(func(p *hardened.PrivateKeyJWT) { p.Algorithms = []string{"none", jose.ES256} }), "PrivateKeyJWT.Algorithms"},
		{"jwt: ES384 listed", with(func(p *hardened.PrivateKeyJWT) { p.Key, p.Algorithms = p384, []string{jose.ES384} }), "PrivateKeyJWT.Algorithms"},
		{"jwt: P-384 key", with(func(p *hardened.PrivateKeyJWT) { p.Key = p384 }), "PrivateKeyJWT.Key"},
		{"jwt: Ed25519 key, only ES256 allowed", with(func(p *hardened.PrivateKeyJWT) { p.Key, p.Algorithms = ed, []string{jose.ES256} }), "PrivateKeyJWT.Algorithms"},
		{"jwt: EC key, only PS256 allowed", with(func(p *hardened.PrivateKeyJWT) { p.Algorithms = []string{jose.PS256} }), "PrivateKeyJWT.Algorithms"},
		{"jwt: RSA key under 2048 bits", with(func(p *hardened.PrivateKeyJWT) { p.Key = rsa1024 }), "PrivateKeyJWT.Key"},
		{"basic: empty client id", hardened.ClientSecretBasic{ClientSecret: "s"}, "ClientSecretBasic.ClientID"},
		{"basic: empty secret", hardened.ClientSecretBasic{ClientID: "c"}, "ClientSecretBasic.ClientSecret"},
		{"basic: secret with newline", hardened.ClientSecretBasic{ClientID: "c", ClientSecret: "s\r\n"}, "ClientSecretBasic.ClientSecret"},
		{"post: empty client id", hardened.ClientSecretPost{ClientSecret: "s"}, "ClientSecretPost.ClientID"},
		{"post: empty secret", hardened.ClientSecretPost{ClientID: "c"}, "ClientSecretPost.ClientSecret"},
		{"post: secret not ASCII", hardened.ClientSecretPost{ClientID: "c", ClientSecret: "pässword"}, "ClientSecretPost.ClientSecret"},
		{"tls: empty client id", hardened.TLSClientAuth{}, "TLSClientAuth.ClientID"},
		{"self-signed tls: empty client id", hardened.SelfSignedTLSClientAuth{}, "SelfSignedTLSClientAuth.ClientID"},
		{"none: empty client id", hardened.NoClientAuth{}, "NoClientAuth.ClientID"},
		{"none: client id with DEL", hardened.NoClientAuth{ClientID: "a\x7f"}, "NoClientAuth.ClientID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			form, header := url.Values{"grant_type": {"client_credentials"}}, http.Header{}
			err := hardened.Authenticate(tc.auth, form, header)
			require.ErrorIs(t, err, hardened.ErrInvalidConfig)
			var ce *hardened.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field)
			require.NotEmpty(t, ce.Reason)
			require.Equal(t, url.Values{"grant_type": {"client_credentials"}}, form, "nothing is added on error")
			require.Empty(t, header)
		})
	}
}

// TestConfigErrorShape checks the contract's text and chain of a
// ConfigError.
func TestConfigErrorShape(t *testing.T) {
	t.Parallel()
	err := error(&hardened.ConfigError{Field: "PrivateKeyJWT.Key", Reason: "required"})
	require.ErrorIs(t, err, hardened.ErrInvalidConfig)
	require.Equal(t, "hardened: invalid configuration: PrivateKeyJWT.Key: required", err.Error())
}

// allMethods returns one valid configuration of every method for
// testClientID.
func allMethods(t testing.TB) []hardened.ClientAuth {
	ec, _, _ := testKeys(t)
	return []hardened.ClientAuth{
		hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: testIssuer},
		hardened.ClientSecretBasic{ClientID: testClientID, ClientSecret: "secret"},
		hardened.ClientSecretPost{ClientID: testClientID, ClientSecret: "secret"},
		hardened.TLSClientAuth{ClientID: testClientID},
		hardened.SelfSignedTLSClientAuth{ClientID: testClientID},
		hardened.NoClientAuth{ClientID: testClientID},
	}
}

func TestClientSecretBasicEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id, secret string
		decoded          string // what the base64 holds
		header           string
	}{
		{
			// RFC 6749 §2.3.1: form-urlencode each part, then Basic.
			name: "special characters", id: "a b", secret: "p@ss:word%",
			decoded: "a+b:p%40ss%3Aword%25",
			header:  "Basic YStiOnAlNDBzcyUzQXdvcmQlMjU=", // computed with Python urllib.parse.quote_plus + base64
		},
		{
			name: "plain", id: "s6BhdRkqt3", secret: "7Fjfp0ZBr1KtDRbnfVdmIw",
			decoded: "s6BhdRkqt3:7Fjfp0ZBr1KtDRbnfVdmIw",
			// RFC 6749 §2.3.1's own example header.
			header: "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3",
		},
		{
			name: "plus and slash", id: "id+/=", secret: "s+/=&",
			decoded: "id%2B%2F%3D:s%2B%2F%3D%26",
			header:  "Basic aWQlMkIlMkYlM0Q6cyUyQiUyRiUzRCUyNg==",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			auth := hardened.ClientSecretBasic{ClientID: tc.id, ClientSecret: tc.secret}
			require.Equal(t, "client_secret_basic", auth.Method())
			form, header := url.Values{"grant_type": {"client_credentials"}}, http.Header{}
			require.NoError(t, hardened.Authenticate(auth, form, header))
			require.Equal(t, tc.header, header.Get("Authorization"))
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(tc.header, "Basic "))
			require.NoError(t, err)
			require.Equal(t, tc.decoded, string(raw))
			// What a server does: split, then form-decode each part.
			u, p, ok := strings.Cut(string(raw), ":")
			require.True(t, ok)
			gotID, err := url.QueryUnescape(u)
			require.NoError(t, err)
			gotSecret, err := url.QueryUnescape(p)
			require.NoError(t, err)
			require.Equal(t, tc.id, gotID)
			require.Equal(t, tc.secret, gotSecret)
			require.Equal(t, url.Values{"grant_type": {"client_credentials"}}, form, "basic leaves the form alone")
		})
	}
}

func TestFormMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		auth   hardened.ClientAuth
		method string
		want   url.Values
	}{
		{"client_secret_post", hardened.ClientSecretPost{ClientID: "a b", ClientSecret: "p@ss:word%"}, "client_secret_post",
			url.Values{"grant_type": {"refresh_token"}, "client_id": {"a b"}, "client_secret": {"p@ss:word%"}}},
		{"tls_client_auth", hardened.TLSClientAuth{ClientID: testClientID}, "tls_client_auth",
			url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}}},
		{"self_signed_tls_client_auth", hardened.SelfSignedTLSClientAuth{ClientID: testClientID}, "self_signed_tls_client_auth",
			url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}}},
		{"none", hardened.NoClientAuth{ClientID: testClientID}, "none",
			url.Values{"grant_type": {"refresh_token"}, "client_id": {testClientID}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.method, tc.auth.Method())
			form, header := url.Values{"grant_type": {"refresh_token"}}, http.Header{}
			require.NoError(t, hardened.Authenticate(tc.auth, form, header))
			require.Equal(t, tc.want, form)
			require.Empty(t, header)
		})
	}
}

func TestClientAuthStringRedacts(t *testing.T) {
	t.Parallel()
	ec, _, _ := testKeys(t)
	d, err := ec.Bytes()
	require.NoError(t, err)
	scalar := new(big.Int).SetBytes(d).String() // what %v of the key would print
	const secret = "very-secret-value"
	tests := []struct {
		name string
		auth hardened.ClientAuth
		hide string
	}{
		{"basic", hardened.ClientSecretBasic{ClientID: "c", ClientSecret: secret}, secret},
		{"post", hardened.ClientSecretPost{ClientID: "c", ClientSecret: secret}, secret},
		{"pointer post", &hardened.ClientSecretPost{ClientID: "c", ClientSecret: secret}, secret},
		{"private_key_jwt", hardened.PrivateKeyJWT{ClientID: "c", Key: ec, Issuer: testIssuer}, scalar},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				out := fmt.Sprintf(verb, tc.auth)
				require.NotContains(t, out, tc.hide, verb)
				require.Contains(t, out, tc.auth.Method(), verb)
			}
		})
	}
}

// BenchmarkPrivateKeyJWT measures one ES256 client assertion, against the
// baseline of the raw P-256 signature it contains.
func BenchmarkPrivateKeyJWT(b *testing.B) {
	ec, _, _ := testKeys(b)
	auth := hardened.PrivateKeyJWT{ClientID: testClientID, Key: ec, Issuer: testIssuer, KeyID: "k1"}
	b.Run("Authenticate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := hardened.Authenticate(auth, url.Values{}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline_ecdsa_P256_sign", func(b *testing.B) {
		b.ReportAllocs()
		msg := []byte(`eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJzNkJoZFJrcXQzIiwic3ViIjoiczZCaGRSa3F0MyIsImF1ZCI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tIiwianRpIjoiMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OCIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwMDYwfQ`)
		for b.Loop() {
			h := sha256.Sum256(msg)
			if _, err := ecdsa.SignASN1(rand.Reader, ec, h[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ClientSecretBasic", func(b *testing.B) {
		b.ReportAllocs()
		basic := hardened.ClientSecretBasic{ClientID: "a b", ClientSecret: "p@ss:word%"}
		for b.Loop() {
			if err := hardened.Authenticate(basic, nil, http.Header{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
