package jose

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
)

// benchPayload is a ~200-byte claim set, the size of a DPoP proof or a
// client assertion.
var benchPayload = []byte(`{"jti":"-BwC3ESc6acc2lTc","htm":"POST","htu":"https://server.example.com/token","iat":1562262616,"ath":"fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo","nonce":"eyJ7S_zG.eyJH0-Z.HX4w-7v"}`)

func benchKey(b *testing.B) *ecdsa.PrivateKey {
	b.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func BenchmarkSignES256(b *testing.B) {
	k := benchKey(b)
	s, err := NewSigner(k, SignerOptions{Algorithm: ES256, Type: "dpop+jwt", EmbedJWK: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawECDSASign(b *testing.B) {
	k := benchKey(b)
	s, err := NewSigner(k, SignerOptions{Algorithm: ES256, Type: "dpop+jwt", EmbedJWK: true})
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := s.Sign(benchPayload)
	input := []byte(tok[:strings.LastIndexByte(tok, '.')])
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(input)
		if _, err := ecdsa.SignASN1(rand.Reader, k, h[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyES256(b *testing.B) {
	k := benchKey(b)
	s, _ := NewSigner(k, SignerOptions{Algorithm: ES256, Type: "at+jwt", KeyID: "k1"})
	tok, _ := s.Sign(benchPayload)
	pub, _ := NewJWK(&k.PublicKey)
	algs := []string{ES256}
	b.ReportAllocs()
	for b.Loop() {
		j, err := ParseCompact(tok)
		if err != nil {
			b.Fatal(err)
		}
		if err := j.Verify(pub, algs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawECDSAVerify(b *testing.B) {
	k := benchKey(b)
	input := []byte("header." + string(benchPayload))
	h := sha256.Sum256(input)
	sig, _ := ecdsa.SignASN1(rand.Reader, k, h[:])
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(input)
		if !ecdsa.VerifyASN1(&k.PublicKey, h[:], sig) {
			b.Fatal("verify")
		}
	}
}

func BenchmarkThumbprint(b *testing.B) {
	k := benchKey(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Thumbprint(&k.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawSHA256(b *testing.B) {
	k := benchKey(b)
	c, err := appendCanonical(nil, &k.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = sha256.Sum256(c)
	}
}
