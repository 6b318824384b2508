package jar_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/hardened-oauth/hardened/jar"
)

// BenchmarkBuildES256 builds a signed request object with a P-256 key.
func BenchmarkBuildES256(b *testing.B) {
	keys(b)
	c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, KeyID: "k1", Now: fixedNow}
	r := baseParams()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Build(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineECDSASign is the raw cost of the P-256 signature inside
// BenchmarkBuildES256: SHA-256 over a request-object-sized input, then
// ecdsa.SignASN1.
func BenchmarkBaselineECDSASign(b *testing.B) {
	keys(b)
	input := make([]byte, 600)
	b.ReportAllocs()
	for b.Loop() {
		d := sha256.Sum256(input)
		if _, err := ecdsa.SignASN1(rand.Reader, ecKey, d[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildEncrypted builds a signed and RSA-OAEP-256/A256GCM
// encrypted request object.
func BenchmarkBuildEncrypted(b *testing.B) {
	keys(b)
	c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Now: fixedNow,
		Encryption: &jar.Encryption{Keys: []jar.EncryptionKey{{Key: &rsaEnc.PublicKey, KeyID: "e"}}}}
	r := baseParams()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Build(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServerPublishTake publishes a request object and takes it back
// through the handler's lookup.
func BenchmarkServerPublish(b *testing.B) {
	s := &jar.Server{BaseURL: "https://client.example.org/jar/", Now: fixedNow, MaxEntries: 1 << 30}
	ro := &jar.RequestObject{JWT: "a.b.c", Expiry: t0.Add(60e9)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Publish(ro); err != nil {
			b.Fatal(err)
		}
	}
}
