//go:build linux

package dpop

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The Ratio benchmarks interleave one DPoP operation and one baseline
// operation per iteration and time each with the thread's CPU clock, so
// that load from other processes on a shared machine (which inflates
// wall-clock ns/op) affects both sides alike. They report the ratio as a
// custom metric ("x-baseline"); nothing asserts on it.

// threadCPU returns the calling thread's CPU time in nanoseconds.
func threadCPU() int64 {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	_, _, _ = syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func BenchmarkRatioProof(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	k := newKey(b)
	p := newProofer(b, k, time.Now())
	input := benchInput(b, p)
	var base, ours int64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		t0 := threadCPU()
		sum := sha256.Sum256(input)
		if _, err := ecdsa.SignASN1(rand.Reader, k, sum[:]); err != nil {
			b.Fatal(err)
		}
		t1 := threadCPU()
		if _, err := p.Proof("GET", rsURI, ProofOptions{AccessToken: benchToken}); err != nil {
			b.Fatal(err)
		}
		t2 := threadCPU()
		base += t1 - t0
		ours += t2 - t1
	}
	b.ReportMetric(float64(ours)/float64(base), "x-baseline")
	b.ReportMetric(float64(base)/float64(b.N), "baseline-cpu-ns/op")
	b.ReportMetric(float64(ours)/float64(b.N), "proof-cpu-ns/op")
}

func BenchmarkRatioVerify(b *testing.B) {
	proofs, r, claims := benchProofs(b, b.N)
	k := newKey(b)
	input := benchInput(b, newProofer(b, k, time.Now()))
	sum := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	pub := &k.PublicKey
	v := &Verifier{BaseURL: rsBase, MaxAge: time.Hour}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var base, ours int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.Header["Dpop"] = proofs[i : i+1]
		t0 := threadCPU()
		s := sha256.Sum256(input)
		if !ecdsa.VerifyASN1(pub, s[:], sig) {
			b.Fatal("verify failed")
		}
		t1 := threadCPU()
		if _, err := v.Check(r, benchToken, claims); err != nil {
			b.Fatal(err)
		}
		t2 := threadCPU()
		base += t1 - t0
		ours += t2 - t1
	}
	b.ReportMetric(float64(ours)/float64(base), "x-baseline")
	b.ReportMetric(float64(base)/float64(b.N), "baseline-cpu-ns/op")
	b.ReportMetric(float64(ours)/float64(b.N), "verify-cpu-ns/op")
}
