package hardened

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
)

// BenchmarkVerifyIDToken verifies a signed ES256 ID token of a login
// (signature, iss, aud, exp, iat, nonce, at_hash, c_hash, auth_time)
// with an already-fetched key set.
func BenchmarkVerifyIDToken(b *testing.B) {
	f := newIDFixture(b)
	raw := f.sign(f.claims())
	chk := idCheck{nonce: "n", code: "code"}
	if _, err := f.verify(raw, chk); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.verify(raw, chk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineIDTokenECDSAVerify is the unavoidable part of
// BenchmarkVerifyIDToken: SHA-256 of the same signing input and
// ecdsa.VerifyASN1 with an already-parsed key.
func BenchmarkBaselineIDTokenECDSAVerify(b *testing.B) {
	f := newIDFixture(b)
	raw := f.sign(f.claims())
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	pub := &key.PublicKey
	input := []byte(raw[:strings.LastIndexByte(raw, '.')])
	sum := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(input)
		if !ecdsa.VerifyASN1(pub, h[:], sig) {
			b.Fatal("verify")
		}
	}
}
