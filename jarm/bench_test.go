package jarm_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

// benchToken returns an ES256 query.jwt response and a Decoder whose
// remote key set is already cached.
func benchToken(b *testing.B) (*jarm.Decoder, string) {
	b.Helper()
	srv := newJWKSServer(b, jwk(asEC().Public(), "k1"))
	d, err := jarm.NewDecoder(jarm.Config{
		Issuer: testIssuer, ClientID: testClientID,
		JWKSURL: srv.URL + "/jwks", HTTPClient: srv.Client(), Now: fixedNow,
	})
	require.NoError(b, err)
	require.NoError(b, d.Refresh(context.Background()))
	return d, signJose(b, asEC(), jose.ES256, "k1", claims(nil))
}

// BenchmarkDecodeES256URL decodes a signed query.jwt redirect URL given as
// a string: BenchmarkDecodeES256 plus URL and query parsing.
func BenchmarkDecodeES256URL(b *testing.B) {
	d, tok := benchToken(b)
	redirect := "https://client.example.com/cb?response=" + tok
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r, err := d.DecodeURL(ctx, redirect, testState)
		if err != nil || r.Code != testCode {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeES256 decodes a signed query.jwt response through the
// entry point, Decode, from the redirect's parsed query (r.URL.Query() in a
// handler): JWS parsing, claims, cached key lookup, ES256 verification and
// the state check.
func BenchmarkDecodeES256(b *testing.B) {
	d, tok := benchToken(b)
	params := url.Values{"response": {tok}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r, err := d.Decode(ctx, params, testState)
		if err != nil || r.Code != testCode {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawECDSAVerify is the baseline: SHA-256 and ecdsa.VerifyASN1
// with a parsed key over a signing input as long as the JWS's.
func BenchmarkRawECDSAVerify(b *testing.B) {
	_, tok := benchToken(b)
	input := []byte(tok[:strings.LastIndexByte(tok, '.')])
	key := asEC()
	sum := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	require.NoError(b, err)
	pub := &key.PublicKey
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(input)
		if !ecdsa.VerifyASN1(pub, h[:], sig) {
			b.Fatal("verify failed")
		}
	}
}

// BenchmarkDecodeES256Ratio interleaves a decode (as in
// BenchmarkDecodeES256 and BenchmarkDecodeES256URL, and through
// DecodeRequest, a redirect handler's call) with
// BenchmarkRawECDSAVerify's verification, one of each per iteration, and
// reports the median time of each and the ratio of the medians. On a
// shared, noisy machine both see the same load, and the median ignores the
// iterations where the scheduler preempted the benchmark.
func BenchmarkDecodeES256Ratio(b *testing.B) {
	d, tok := benchToken(b)
	redirect := "https://client.example.com/cb?response=" + tok
	params := url.Values{"response": {tok}}
	input := []byte(tok[:strings.LastIndexByte(tok, '.')])
	key := asEC()
	sum := sha256.Sum256(input)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	require.NoError(b, err)
	pub := &key.PublicKey
	ctx := context.Background()
	req := httptest.NewRequest(http.MethodGet, redirect, nil)
	for _, bc := range []struct {
		name   string
		decode func() (*jarm.Response, error)
	}{
		{"Decode", func() (*jarm.Response, error) { return d.Decode(ctx, params, testState) }},
		{"DecodeURL", func() (*jarm.Response, error) { return d.DecodeURL(ctx, redirect, testState) }},
		{"DecodeRequest", func() (*jarm.Response, error) { return d.DecodeRequest(ctx, req, testState) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dec := make([]time.Duration, 0, 1<<16)
			raw := make([]time.Duration, 0, 1<<16)
			for b.Loop() {
				t0 := time.Now()
				r, err := bc.decode()
				t1 := time.Now()
				h := sha256.Sum256(input)
				ok := ecdsa.VerifyASN1(pub, h[:], sig)
				t2 := time.Now()
				if err != nil || r.Code != testCode || !ok {
					b.Fatal(err)
				}
				dec = append(dec, t1.Sub(t0))
				raw = append(raw, t2.Sub(t1))
			}
			md, mr := median(dec), median(raw)
			b.ReportMetric(float64(md.Nanoseconds()), "decode-median-ns")
			b.ReportMetric(float64(mr.Nanoseconds()), "raw-median-ns")
			b.ReportMetric(float64(md)/float64(mr), "ratio")
		})
	}
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}
