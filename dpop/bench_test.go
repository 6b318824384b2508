package dpop

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// benchProofs returns n ES256 proofs for a GET of rsURI with benchToken
// (a proof verifies once, so each iteration needs its own), the request
// they go with, and the claims of the token. The benchmarks put proof i in
// the request's DPoP header before checking it, as a server checks the
// request it has just parsed.
func benchProofs(b *testing.B, n int) ([]string, *http.Request, json.RawMessage) {
	p := newProofer(b, newKey(b), time.Now())
	proofs := make([]string, n)
	for i := range proofs {
		var err error
		if proofs[i], err = p.Proof("GET", rsURI, ProofOptions{AccessToken: benchToken}); err != nil {
			b.Fatal(err)
		}
	}
	r := httptest.NewRequest("GET", rsURI, nil)
	r.Header.Set("Authorization", "DPoP "+benchToken)
	return proofs, r, jktClaims(p.JKT())
}

// BenchmarkVerify checks an ES256 resource-server proof with
// Verifier.Check, as a gateway does: every check of RFC 9449 §4.3, ath,
// the cnf.jkt binding read from the token claims, and the in-memory
// replay store.
func BenchmarkVerify(b *testing.B) {
	proofs, r, claims := benchProofs(b, b.N)
	v := &Verifier{BaseURL: rsBase, MaxAge: time.Hour}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.Header["Dpop"] = proofs[i : i+1]
		if _, err := v.Check(r, benchToken, claims); err != nil {
			b.Fatal(err)
		}
	}
}
