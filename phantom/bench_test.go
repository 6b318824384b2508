package phantom

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/hardened-oauth/hardened/dpop"
)

// The overhead benchmarks interleave, in every iteration, one request
// through a plain httputil.ReverseProxy and the same request through the
// gateway in front of the same proxy and upstream (and, for DPoP, one raw
// ECDSA verification), and compare medians, so that load from other
// processes affects both sides alike. They report the figures as metrics;
// nothing asserts on them. "added-µs" is the median of the per-iteration
// differences, which cancels most of the noise both sides share.

// benchUpstream returns a reverse proxy to a loopback upstream.
func benchUpstream(b *testing.B) *httputil.ReverseProxy {
	b.Helper()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(api.Close)
	target, _ := url.Parse(api.URL)
	p := httputil.NewSingleHostReverseProxy(target)
	p.Transport = &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: time.Minute}
	p.ErrorLog = log.New(io.Discard, "", 0)
	return p
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// BenchmarkBearerCacheHit: a Bearer token whose introspection is cached,
// beside the plain proxy. Target: at most 3 µs added per request.
func BenchmarkBearerCacheHit(b *testing.B) {
	as := newFakeAS(b)
	as.active("bench-token", nil)
	proxy := benchUpstream(b)
	g := as.gateway(ModeIntrospectionJWT)
	gw := g.Wrap(proxy)
	mk := func(auth string) *http.Request {
		r := httptest.NewRequest("GET", testBaseURL+"/orders/42", nil)
		r.Header.Set("Authorization", auth)
		r.Header.Set("Accept", "application/json")
		return r
	}
	if rec := serve(gw, mk("Bearer bench-token")); rec.Code != 200 {
		b.Fatalf("warm-up: %d", rec.Code)
	}
	plain := make([]time.Duration, b.N)
	ours := make([]time.Duration, b.N)
	added := make([]time.Duration, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r1, r2 := mk("Bearer bench-token"), mk("Bearer bench-token")
		w1, w2 := httptest.NewRecorder(), httptest.NewRecorder()
		t0 := time.Now()
		proxy.ServeHTTP(w1, r1)
		t1 := time.Now()
		gw.ServeHTTP(w2, r2)
		t2 := time.Now()
		if w1.Code != 200 || w2.Code != 200 {
			b.Fatalf("status %d %d", w1.Code, w2.Code)
		}
		plain[i], ours[i] = t1.Sub(t0), t2.Sub(t1)
		added[i] = ours[i] - plain[i]
	}
	b.StopTimer()
	b.ReportMetric(us(median(plain)), "proxy-µs")
	b.ReportMetric(us(median(ours)), "gateway-µs")
	b.ReportMetric(us(median(added)), "added-µs") // median of the paired differences
}

// BenchmarkBearerCacheHitAlone is the gateway's own cost on a cache hit,
// in front of a handler that does nothing.
func BenchmarkBearerCacheHitAlone(b *testing.B) {
	as := newFakeAS(b)
	as.active("bench-token", nil)
	g := as.gateway(ModeIntrospectionJWT)
	gw := g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", testBaseURL+"/orders/42", nil)
	r.Header.Set("Authorization", "Bearer bench-token")
	serve(gw, r)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		gw.ServeHTTP(w, r)
	}
}

// BenchmarkDPoPCacheHit: a DPoP-bound token whose introspection is cached,
// with a fresh proof per request (every RFC 9449 §4.3 check, ath, jkt,
// the in-memory replay store), against the plain proxy plus one raw ECDSA
// P-256 verification. Target: at most 1.10 times that baseline.
func BenchmarkDPoPCacheHit(b *testing.B) {
	as := newFakeAS(b)
	alice := newProofer(b)
	as.active("bench-token", map[string]any{"cnf": map[string]any{"jkt": alice.JKT()}})
	proxy := benchUpstream(b)
	g := as.gateway(ModeIntrospectionJWT)
	g.DPoP = &dpop.Verifier{BaseURL: testBaseURL, MaxAge: time.Hour}
	gw := g.Wrap(proxy)
	const target = testBaseURL + "/orders/42"
	proofs := make([]string, b.N+1)
	for i := range proofs {
		proofs[i] = proof(b, alice, "GET", "/orders/42", "bench-token", "")
	}
	mk := func(p string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("Authorization", "DPoP bench-token")
		r.Header.Set("Accept", "application/json")
		if p != "" {
			r.Header.Set("DPoP", p)
		}
		return r
	}
	if rec := serve(gw, mk(proofs[b.N])); rec.Code != 200 {
		b.Fatalf("warm-up: %d", rec.Code)
	}
	// The raw baseline: SHA-256 and ecdsa.VerifyASN1 over a proof's
	// signing input, with an already-parsed key.
	k := newKey(b)
	input := []byte(proofs[0][:len(proofs[0])-87])
	sum := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, k, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	pub := &k.PublicKey

	plain := make([]time.Duration, b.N)
	raw := make([]time.Duration, b.N)
	ours := make([]time.Duration, b.N)
	ratios := make([]float64, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r1, r2 := mk(""), mk(proofs[i])
		w1, w2 := httptest.NewRecorder(), httptest.NewRecorder()
		t0 := time.Now()
		proxy.ServeHTTP(w1, r1)
		t1 := time.Now()
		s := sha256.Sum256(input)
		if !ecdsa.VerifyASN1(pub, s[:], sig) {
			b.Fatal("verify")
		}
		t2 := time.Now()
		gw.ServeHTTP(w2, r2)
		t3 := time.Now()
		if w1.Code != 200 || w2.Code != 200 {
			b.Fatalf("status %d %d", w1.Code, w2.Code)
		}
		plain[i], raw[i], ours[i] = t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)
		ratios[i] = float64(ours[i]) / float64(plain[i]+raw[i])
	}
	b.StopTimer()
	mp, mr, mo := median(plain), median(raw), median(ours)
	b.ReportMetric(us(mp), "proxy-µs")
	b.ReportMetric(us(mr), "ecdsa-µs")
	b.ReportMetric(us(mo), "gateway-µs")
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "x-baseline") // median of the paired ratios
}
