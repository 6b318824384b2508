package mtlsbound_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/hardened-oauth/hardened/mtlsbound"
)

// benchCert returns a self-signed RSA-2048 client certificate of about
// 1 KB of DER (with its SANs), the size of a typical client certificate.
func benchCert(b *testing.B) *x509.Certificate {
	b.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{CommonName: "client.example.com", Organization: []string{"Example Org"}, Country: []string{"DE"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		DNSNames:     []string{"client.example.com", "client-1.example.com", "client-2.example.com", "client-3.example.com"},
		URIs:         []*url.URL{{Scheme: "spiffe", Host: "example.com", Path: "/ns/payments/sa/client-1"}, {Scheme: "https", Host: "client.example.com", Path: "/.well-known/client"}},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { b.ReportMetric(float64(len(cert.Raw)), "DER-bytes") })
	return cert
}

// BenchmarkBindingCheck measures the per-request binding check of
// Verifier.Check: reading cnf out of a small JWT claims set (the module's
// one cnf parser), the policy, SHA-256 of the presented certificate and a
// constant-time compare with the token's x5t#S256. Compare it with
// BenchmarkRawSHA256, the hash alone.
func BenchmarkBindingCheck(b *testing.B) {
	cert := benchCert(b)
	claims := json.RawMessage(`{"iss":"https://as.example","sub":"client-1","aud":"https://rs.example","exp":1893456000,"iat":1893455700,"jti":"Vd1kLm0","client_id":"client-1","cnf":{"x5t#S256":"` + mtlsbound.Thumbprint(cert) + `"}}`)
	r := httptest.NewRequest("GET", "https://rs.example/", nil)
	r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	v := &mtlsbound.Verifier{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Check(r, "t", claims); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseConfirmation is the cnf parse alone.
func BenchmarkParseConfirmation(b *testing.B) {
	cnf := []byte(`{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mtlsbound.ParseConfirmation(cnf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkThumbprint is the x5t#S256 string of the certificate.
func BenchmarkThumbprint(b *testing.B) {
	cert := benchCert(b)
	b.ReportAllocs()
	for b.Loop() {
		if mtlsbound.Thumbprint(cert) == "" {
			b.Fatal("empty")
		}
	}
}

// BenchmarkRawSHA256 is the baseline: SHA-256 of the same DER.
func BenchmarkRawSHA256(b *testing.B) {
	cert := benchCert(b)
	b.ReportAllocs()
	var sink [sha256.Size]byte
	for b.Loop() {
		sink = sha256.Sum256(cert.Raw)
	}
	_ = sink
}
