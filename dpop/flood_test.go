package dpop

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
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

// predictableShard is the MemoryStore shard a proof would land in if the
// shard were a public function of the proof (a byte of the SHA-256 of its
// store key), as it was: an attacker could compute it offline.
func predictableShard(jkt, jti string) int {
	sum := sha256.Sum256(append(append([]byte(jkt), 0), jti...))
	key := b64.EncodeToString(sum[:])
	s2 := sha256.Sum256([]byte(key))
	return int(s2[16] % memShards)
}

// A flood aimed at one shard: the attacker grinds its jti (32 tries on
// average) so that every proof lands in the same shard, whose capacity is
// MaxEntries/32, at a third of the documented MaxEntries/6 a second, dated
// 2 s ahead (inside futureTolerance). With a public shard function that
// shard's horizon stays ahead of "now" and fresh proofs of a legitimate
// client that hash to it are refused as replays; with a seeded one the
// flood spreads over every shard.
func TestReplayFloodCannotBeAimedAtOneShard(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: fixedNow}
	const capacity = memShards * 64
	store := &MemoryStore{MaxEntries: capacity, Now: clk.Now}
	v := &Verifier{BaseURL: "https://as.example", Now: clk.Now, Replay: store}

	attacker := newKey(t)
	jkt, err := jose.Thumbprint(attacker.Public())
	require.NoError(t, err)
	header := `{"typ":"dpop+jwt","alg":"ES256","jwk":` + publicJWK(t, attacker.Public()) + `}`
	n := 0
	aimed := func() string {
		for {
			n++
			jti := "a" + strconv.Itoa(n)
			if predictableShard(jkt, jti) != 0 {
				continue
			}
			iat := clk.Now().Add(2 * time.Second).Unix()
			payload := claimsJSON("jti", q(jti), "htm", q("POST"), "htu", q("https://as.example/token"), "iat", strconv.FormatInt(iat, 10))
			return rawES256(t, attacker, header, payload)
		}
	}

	client := newKey(t)
	const perSecond = capacity / 16
	refused, legit := 0, 0
	for range 12 {
		clk.Advance(time.Second)
		for range perSecond {
			if _, err := v.VerifyProof(tokenRequest(aimed())); err != nil {
				require.ErrorIs(t, err, ErrReplay)
			}
		}
		for range 32 {
			p := newProofer(t, client, clk.Now())
			proof, err := p.Proof("POST", "https://as.example/token", ProofOptions{})
			require.NoError(t, err)
			legit++
			if _, err := v.VerifyProof(tokenRequest(proof)); err != nil {
				require.ErrorIs(t, err, ErrReplay)
				refused++
			}
		}
	}
	require.Zero(t, refused, "fresh proofs of a legitimate client refused as replays (%d of %d) by a flood of %d proofs/s aimed at one shard", refused, legit, perSecond)
}

// The verifier accepts a proof up to iat+MaxAge+Skew; the store must still
// remember it then, and a Skew later (another replica's clock may lag by
// that much).
func TestReplayAtWindowEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		later time.Duration // when the replay arrives, after iat
		lag   time.Duration // how far the replaying replica's clock lags
	}{
		{"last instant of the window", DefaultMaxAge + DefaultSkew, 0},
		{"replica lagging by Skew", DefaultMaxAge + 2*DefaultSkew, DefaultSkew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := &movableClock{t: fixedNow}
			store := &MemoryStore{Now: clk.Now} // the shared store's clock is right
			v := &Verifier{BaseURL: "https://as.example", Now: clk.Now, Replay: store}
			p := newProofer(t, newKey(t), fixedNow)
			proof, err := p.Proof("POST", "https://as.example/token", ProofOptions{})
			require.NoError(t, err)
			_, err = v.VerifyProof(tokenRequest(proof))
			require.NoError(t, err)

			clk.Advance(tc.later)
			lagging := &Verifier{BaseURL: "https://as.example", Now: func() time.Time { return clk.Now().Add(-tc.lag) }, Replay: store}
			_, err = lagging.VerifyProof(tokenRequest(proof))
			require.ErrorIs(t, err, ErrReplay, "the same proof was accepted twice")
		})
	}
}
