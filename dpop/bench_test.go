package dpop

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// The benchmarks compare DPoP with raw crypto/ecdsa P-256 in the same run:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./dpop
//
// BenchmarkProof / BenchmarkBaselineSign and BenchmarkVerify /
// BenchmarkBaselineVerify are the ratios to report.

const benchToken = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU" // RFC 9449 Figure 6

// benchInput returns a signing input as long as an ES256 proof's with ath.
func benchInput(b *testing.B, p *Proofer) []byte {
	proof, err := p.Proof("GET", rsURI, ProofOptions{AccessToken: benchToken})
	if err != nil {
		b.Fatal(err)
	}
	return []byte(proof[:strings.LastIndexByte(proof, '.')])
}

// BenchmarkBaselineSign: SHA-256 and ecdsa.SignASN1 over an input of the
// proof's length.
func BenchmarkBaselineSign(b *testing.B) {
	k := newKey(b)
	input := benchInput(b, newProofer(b, k, time.Now()))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sum := sha256.Sum256(input)
		if _, err := ecdsa.SignASN1(rand.Reader, k, sum[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProof mints an ES256 proof with ath.
func BenchmarkProof(b *testing.B) {
	p := newProofer(b, newKey(b), time.Now())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := p.Proof("GET", rsURI, ProofOptions{AccessToken: benchToken}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineVerify: SHA-256 and ecdsa.VerifyASN1 with an already
// parsed public key, over an input of the proof's length.
func BenchmarkBaselineVerify(b *testing.B) {
	k := newKey(b)
	input := benchInput(b, newProofer(b, k, time.Now()))
	sum := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	pub := &k.PublicKey
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		sum := sha256.Sum256(input)
		if !ecdsa.VerifyASN1(pub, sum[:], sig) {
			b.Fatal("verify failed")
		}
	}
}

// BenchmarkVerify verifies an ES256 resource-server proof: every check of
// RFC 9449 §4.3, ath, the cnf.jkt binding and the in-memory replay store.
// Each iteration needs a new jti, so the proofs are minted before the timer
// starts.
func BenchmarkVerify(b *testing.B) {
	k := newKey(b)
	p := newProofer(b, k, time.Now())
	proofs := make([]string, b.N)
	for i := range proofs {
		var err error
		if proofs[i], err = p.Proof("GET", rsURI, ProofOptions{AccessToken: benchToken}); err != nil {
			b.Fatal(err)
		}
	}
	v := &Verifier{MaxAge: time.Hour}
	bind := &Binding{AccessToken: benchToken, Confirmation: Confirmation{JKT: p.JKT()}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := v.VerifyProof(ctx, proofs[i], "GET", rsURI, bind); err != nil {
			b.Fatal(err)
		}
	}
}
