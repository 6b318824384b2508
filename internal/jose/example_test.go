package jose_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
)

func ExampleThumbprint() {
	// The example key of RFC 7638 §3.1.
	k, err := jose.ParseJWK([]byte(`{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29",` +
		`"n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`))
	if err != nil {
		panic(err)
	}
	tp, err := jose.Thumbprint(k)
	if err != nil {
		panic(err)
	}
	fmt.Println(tp)
	// Output: NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs
}

func ExampleNewSigner() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // or a KMS crypto.Signer
	if err != nil {
		panic(err)
	}
	s, err := jose.NewSigner(key, jose.SignerOptions{Type: "dpop+jwt", EmbedJWK: true})
	if err != nil {
		panic(err)
	}
	token, err := s.SignJSON(map[string]any{"htm": "POST", "htu": "https://as.example/token"})
	if err != nil {
		panic(err)
	}

	j, err := jose.ParseCompact(token)
	if err != nil {
		panic(err)
	}
	if _, err := j.VerifyEmbedded(jose.DefaultAlgorithms); err != nil {
		panic(err)
	}
	var claims struct {
		Method string `json:"htm"`
		URI    string `json:"htu"`
	}
	if err := jose.UnmarshalStrict(j.Payload, &claims); err != nil {
		panic(err)
	}
	fmt.Println(j.Header.Alg, j.Header.Typ, claims.Method, claims.URI)
	// Output: ES256 dpop+jwt POST https://as.example/token
}

func ExampleJWS_VerifyWith() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := jose.NewSigner(key, jose.SignerOptions{KeyID: "2024-01"})
	token, _ := s.Sign([]byte(`{"iss":"https://as.example"}`))

	// The authorization server publishes its jwks_uri.
	jwk, _ := jose.NewJWK(key)
	jwk.KeyID = "2024-01"
	set, _ := jose.MarshalJWKSet([]*jose.JWK{jwk})
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(set)
	}))
	defer as.Close()

	keys := &jose.RemoteKeySet{URL: as.URL, Client: as.Client()} // https only
	j, err := jose.ParseCompact(token)
	if err != nil {
		panic(err)
	}
	k, err := j.VerifyWith(context.Background(), keys, []string{jose.ES256})
	if err != nil {
		panic(err)
	}
	fmt.Println("verified with", k.KeyID)
	// Output: verified with 2024-01
}

func ExampleEncrypt() {
	sigKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	encKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	// Sign, then encrypt (RFC 7519 §5.2).
	s, _ := jose.NewSigner(sigKey, jose.SignerOptions{})
	inner, _ := s.SignJSON(jose.Claims{Issuer: "https://as.example"})
	outer, err := jose.Encrypt([]byte(inner), encKey.Public(), jose.EncryptOptions{
		KeyAlgorithm: jose.ECDHES, ContentEncryption: jose.A256GCM, ContentType: "JWT",
	})
	if err != nil {
		panic(err)
	}

	// Decrypt, then verify.
	pt, h, err := jose.Decrypt(outer, []jose.DecryptionKey{{Key: encKey}}, jose.DecryptOptions{
		KeyAlgorithms: []string{jose.ECDHES}, ContentEncryptions: []string{jose.A256GCM},
	})
	if err != nil {
		panic(err)
	}
	j, err := jose.ParseCompact(string(pt))
	if err != nil {
		panic(err)
	}
	if err := j.Verify(sigKey.Public(), []string{jose.ES256}); err != nil {
		panic(err)
	}
	fmt.Println(h.Alg, h.Enc, h.Cty, j.Header.Alg)
	// Output: ECDH-ES A256GCM JWT ES256
}

func ExampleClaims_Validate() {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	c := jose.Claims{
		Issuer:   "https://as.example",
		Audience: jose.Audience{"client-1"},
		Expiry:   jose.NewNumericDate(now.Add(-time.Minute)),
	}
	err := c.Validate(jose.Expected{Issuer: "https://as.example", Audience: "client-1", Now: now, Skew: 30 * time.Second})
	fmt.Println(err)
	// Output: jose: token expired
}
