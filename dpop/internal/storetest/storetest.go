// Package storetest is the contract test suite shared by every DPoP replay
// store (dpop.MemoryStore, dpop/redisstore.Store): the same behaviour,
// checked the same way, whatever the backend.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Store is the method set of dpop.ReplayStore, restated so that this
// package does not import dpop (whose own tests import it).
type Store interface {
	CheckAndStore(ctx context.Context, key string, issuedAt, expiry time.Time) (fresh bool, err error)
}

// Harness builds stores for the suite.
type Harness struct {
	// New returns an empty store, its current time, and a function that
	// moves its clock forward (a store on real time sleeps).
	New func(t *testing.T) (s Store, now func() time.Time, advance func(time.Duration))
}

// Run runs the contract tests against h.
func Run(t *testing.T, h Harness) {
	t.Run("fresh then replayed", func(t *testing.T) {
		t.Parallel()
		s, now, _ := h.New(t)
		ctx := context.Background()
		k := key(t)
		fresh, err := s.CheckAndStore(ctx, k, now(), now().Add(time.Hour))
		require.NoError(t, err)
		require.True(t, fresh)
		for range 3 {
			fresh, err = s.CheckAndStore(ctx, k, now(), now().Add(time.Hour))
			require.NoError(t, err)
			require.False(t, fresh)
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		t.Parallel()
		s, now, _ := h.New(t)
		ctx := context.Background()
		a, b := key(t), key(t)
		for _, k := range []string{a, b, a + "x", "x" + a} {
			fresh, err := s.CheckAndStore(ctx, k, now(), now().Add(time.Hour))
			require.NoError(t, err)
			require.True(t, fresh, k)
		}
	})

	t.Run("odd keys", func(t *testing.T) {
		t.Parallel()
		s, now, _ := h.New(t)
		ctx := context.Background()
		base := key(t)
		for _, k := range []string{base + "\x00\xff binary", base + strings.Repeat("k", 4096), base + " spaces and : colons", base + "é"} {
			fresh, err := s.CheckAndStore(ctx, k, now(), now().Add(time.Hour))
			require.NoError(t, err)
			require.True(t, fresh)
			fresh, err = s.CheckAndStore(ctx, k, now(), now().Add(time.Hour))
			require.NoError(t, err)
			require.False(t, fresh)
		}
	})

	t.Run("expired key is fresh again", func(t *testing.T) {
		t.Parallel()
		s, now, advance := h.New(t)
		ctx := context.Background()
		short, long := key(t), key(t)
		fresh, err := s.CheckAndStore(ctx, short, now(), now().Add(100*time.Millisecond))
		require.NoError(t, err)
		require.True(t, fresh)
		fresh, err = s.CheckAndStore(ctx, long, now(), now().Add(time.Hour))
		require.NoError(t, err)
		require.True(t, fresh)
		advance(300 * time.Millisecond)
		fresh, err = s.CheckAndStore(ctx, short, now(), now().Add(time.Hour))
		require.NoError(t, err)
		require.True(t, fresh, "an expired key counts as absent")
		fresh, err = s.CheckAndStore(ctx, long, now(), now().Add(time.Hour))
		require.NoError(t, err)
		require.False(t, fresh, "an unexpired key is still remembered")
		fresh, err = s.CheckAndStore(ctx, short, now(), now().Add(time.Hour))
		require.NoError(t, err)
		require.False(t, fresh, "the renewed key is remembered")
	})

	t.Run("expiry in the past", func(t *testing.T) {
		t.Parallel()
		s, now, _ := h.New(t)
		fresh, err := s.CheckAndStore(context.Background(), key(t), now(), now().Add(-time.Hour))
		require.NoError(t, err)
		require.True(t, fresh)
	})

	t.Run("canceled context fails closed", func(t *testing.T) {
		t.Parallel()
		s, now, _ := h.New(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		fresh, err := s.CheckAndStore(ctx, key(t), now(), now().Add(time.Hour))
		require.Error(t, err)
		require.False(t, fresh)
	})

	t.Run("one winner among concurrent replays", func(t *testing.T) {
		t.Parallel()
		s, now, _ := h.New(t)
		const n = 64
		for round := range 5 {
			k := key(t)
			start := make(chan struct{})
			var wg sync.WaitGroup
			results := make([]bool, n)
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					// Atomicity, not latency, is under test: a deadline well
					// above a store's default, for a loaded machine.
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					results[i], errs[i] = s.CheckAndStore(ctx, k, now(), now().Add(time.Hour))
				}()
			}
			close(start)
			wg.Wait()
			wins := 0
			for i := range n {
				require.NoError(t, errs[i])
				if results[i] {
					wins++
				}
			}
			require.Equal(t, 1, wins, "round %d", round)
		}
	})

	t.Run("concurrent distinct keys all fresh", func(t *testing.T) {
		t.Parallel()
		s, now, _ := h.New(t)
		const n = 200
		prefix := key(t)
		var wg sync.WaitGroup
		errs := make([]error, n)
		fresh := make([]bool, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fresh[i], errs[i] = s.CheckAndStore(context.Background(), prefix+hex.EncodeToString([]byte{byte(i), byte(i >> 8)}), now(), now().Add(time.Hour))
			}()
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			require.True(t, fresh[i])
		}
	})
}

func key(t *testing.T) string {
	var b [16]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}
