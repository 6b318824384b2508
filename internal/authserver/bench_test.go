package authserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

// BenchmarkStartDefault measures starting and closing the default server:
// a PKI, a TLS listener, keys for five clients.
func BenchmarkStartDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d, err := authserver.StartDefault()
		if err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
}

// BenchmarkBaselineHTTPTestTLSServer is the baseline: a bare httptest TLS
// server (its built-in certificate, no key generation) started and closed.
func BenchmarkBaselineHTTPTestTLSServer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		s := httptest.NewTLSServer(http.NotFoundHandler())
		s.Close()
	}
}

// BenchmarkBaselineP256KeyGen is the cost of one ECDSA P-256 key, of which
// StartDefault makes nine.
func BenchmarkBaselineP256KeyGen(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}
