package dpop

import (
	"crypto/ecdsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flooder mints valid, self-signed proofs as an unauthenticated attacker
// can: any key, a fresh jti each, dated now or up to the verifier's skew
// ahead. The verifier accepts every one of them until its replay store
// pushes back.
type flooder struct {
	t      testing.TB
	keys   []*ecdsa.PrivateKey
	now    func() time.Time
	ahead  time.Duration
	issued int
}

func (f *flooder) proof() string {
	k := f.keys[f.issued%len(f.keys)]
	f.issued++
	at := f.now().Add(f.ahead)
	p := newProofer(f.t, k, at)
	proof, err := p.Proof("POST", "https://as.example/token", ProofOptions{})
	require.NoError(f.t, err)
	return proof
}

func tokenRequest(proof string) *http.Request {
	r := httptest.NewRequest("POST", "/token", nil)
	r.Header.Set("DPoP", proof)
	return r
}

// TestReplayFlood: an unauthenticated flood of valid self-signed proofs,
// many times the replay store's capacity, never locks out a client's fresh
// proof, while replays stay refused: of a proof the store remembers, and
// of one it had to forget (behind its horizon). The store stays bounded.
func TestReplayFlood(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: fixedNow}
	const capacity = memShards * 64
	store := &MemoryStore{MaxEntries: capacity, Now: clk.Now}
	v := &Verifier{BaseURL: "https://as.example", Now: clk.Now, Replay: store}

	client := newKey(t)
	fresh := func() string {
		p := newProofer(t, client, clk.Now())
		proof, err := p.Proof("POST", "https://as.example/token", ProofOptions{})
		require.NoError(t, err)
		return proof
	}
	first := fresh()
	_, err := v.VerifyProof(tokenRequest(first))
	require.NoError(t, err)

	attacker := &flooder{t: t, keys: []*ecdsa.PrivateKey{newKey(t), newKey(t), newKey(t)}, now: clk.Now}
	future := &flooder{t: t, keys: attacker.keys, now: clk.Now, ahead: DefaultSkew}
	var accepted, refusedFuture int
	var lastClient string
	for i := range 4 * capacity {
		if i%(capacity/16) == 0 {
			clk.Advance(time.Second) // the flood runs at capacity/16 proofs a second
		}
		// Half the flood is dated as far ahead as the verifier allows.
		proof := attacker.proof()
		if i%2 == 1 {
			proof = future.proof()
		}
		_, err := v.VerifyProof(tokenRequest(proof))
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, ErrReplay) && errors.Is(err, errFutureQuota):
			refusedFuture++
		default:
			require.NoError(t, err, "flood proof %d", i)
		}
		require.LessOrEqual(t, store.Len(), capacity, "bounded")

		if i%(capacity/2) == 0 {
			// Throughout the flood, the client's fresh proofs pass.
			lastClient = fresh()
			_, err := v.VerifyProof(tokenRequest(lastClient))
			require.NoError(t, err, "fresh proof locked out after %d flood proofs", i)
		}
	}
	require.Greater(t, accepted, 2*capacity, "the store took the flood in")
	require.Positive(t, refusedFuture, "proofs dated ahead are held to their share")

	// A fresh proof after the flood passes, and its replay, which the
	// store remembers, is refused.
	lastClient = fresh()
	_, err = v.VerifyProof(tokenRequest(lastClient))
	require.NoError(t, err)
	_, err = v.VerifyProof(tokenRequest(lastClient))
	require.ErrorIs(t, err, ErrReplay)
	require.ErrorIs(t, err, ErrInvalidProof)
	require.NotErrorIs(t, err, errHorizon)
	// A replay of the first proof, which the flood pushed out of the
	// store while still inside the verifier's window, is refused too.
	require.Less(t, clk.Now().Sub(fixedNow), DefaultMaxAge, "still inside the window")
	_, err = v.VerifyProof(tokenRequest(first))
	require.ErrorIs(t, err, ErrReplay)
	require.ErrorIs(t, err, errHorizon)
}

// BenchmarkReplayFlood measures the rate at which a Verifier and its
// in-memory replay store verify a flood of valid self-signed ES256 proofs
// on all cores, in proofs/s, while a client's fresh proof, checked every
// 512 flood proofs, must pass. The store is small (2,048 entries) and the
// flood dense (256 proofs per second of "iat", on a clock that advances
// with the flood), so it runs full and evicting, as under attack. The
// proofs are minted before the timer starts.
func BenchmarkReplayFlood(b *testing.B) {
	const (
		capacity = memShards * 64
		step     = time.Second / 256 // of the flood's clock per proof
	)
	base := time.Unix(1_700_000_000, 0)
	keys := []*ecdsa.PrivateKey{newKey(b), newKey(b), newKey(b), newKey(b)}
	proofs := make([]string, b.N)
	for i := range proofs {
		p := newProofer(b, keys[i%len(keys)], base.Add(time.Duration(i)*step))
		var err error
		if proofs[i], err = p.Proof("POST", "https://as.example/token", ProofOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	now := func() time.Time { return base.Add(time.Duration(next.Load()) * step) }
	client, err := NewProofer(ProoferConfig{Key: newKey(b), Now: now})
	if err != nil {
		b.Fatal(err)
	}
	v := &Verifier{BaseURL: "https://as.example", Now: now, Replay: &MemoryStore{MaxEntries: capacity, Now: now}}
	var mu sync.Mutex
	var failure error
	fail := func(err error) {
		mu.Lock()
		if failure == nil {
			failure = err
		}
		mu.Unlock()
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			if _, err := v.VerifyProof(tokenRequest(proofs[i])); err != nil {
				fail(err)
			}
			if i%512 == 0 {
				proof, err := client.Proof("POST", "https://as.example/token", ProofOptions{})
				if err == nil {
					_, err = v.VerifyProof(tokenRequest(proof))
				}
				if err != nil {
					fail(errors.Join(errors.New("fresh proof refused"), err))
				}
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if failure != nil {
		b.Fatal(failure)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "proofs/s")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}
