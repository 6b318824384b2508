package dpop

import (
	"context"
	"crypto/sha256"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/dpop/internal/storetest"
)

func TestMemoryStoreContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Harness{New: func(t *testing.T) (storetest.Store, func() time.Time, func(time.Duration)) {
		clk := &movableClock{t: fixedNow}
		return &MemoryStore{Now: clk.Now}, clk.Now, clk.Advance
	}})
}

// shardKeys returns n distinct keys that a MemoryStore puts in shard 0, so
// that tests can fill one shard exactly.
func shardKeys(s *MemoryStore, prefix string, n int) []string {
	s.init()
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		k := prefix + strconv.Itoa(i)
		if sum := sha256.Sum256([]byte(k)); s.shard(&sum) == &s.shards[0] {
			out = append(out, k)
		}
	}
	return out
}

// TestMemoryStoreHorizon: a full shard forgets its oldest "iat" second and
// refuses from then on every proof dated at or before it, while keys it
// still holds stay replays and newer proofs stay welcome.
func TestMemoryStoreHorizon(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: fixedNow}
	s := &MemoryStore{MaxEntries: memShards * 8, Now: clk.Now} // 8 keys a shard
	ctx := context.Background()
	window := 6 * time.Minute
	store := func(k string, iat time.Time) (bool, error) {
		return s.CheckAndStore(ctx, k, iat, iat.Add(window))
	}
	keys := shardKeys(s, "k", 12)
	// Eight keys, two per second, fill the shard.
	for i, k := range keys[:8] {
		fresh, err := store(k, fixedNow.Add(time.Duration(i/2)*time.Second))
		require.NoError(t, err)
		require.True(t, fresh)
	}
	clk.Advance(4 * time.Second)
	now := clk.Now()

	// A ninth key evicts the oldest second (keys 0 and 1).
	fresh, err := store(keys[8], now)
	require.NoError(t, err)
	require.True(t, fresh)
	require.Equal(t, 7, s.Len())

	// The forgotten keys, and anything else of that second, are refused
	// as possibly replayed; the remembered ones are plain replays.
	for _, k := range []string{keys[0], keys[1], keys[9]} {
		fresh, err = store(k, fixedNow)
		require.False(t, fresh)
		require.ErrorIs(t, err, ErrReplay)
		require.ErrorIs(t, err, errHorizon)
	}
	for _, k := range keys[2:9] {
		fresh, err = store(k, fixedNow.Add(3*time.Second))
		require.NoError(t, err)
		require.False(t, fresh, "a remembered key is a replay")
	}

	// A proof older than everything held is refused rather than pushing
	// the horizon past newer proofs.
	for _, k := range keys[9:11] {
		fresh, err = store(k, now)
		require.NoError(t, err)
		require.True(t, fresh)
	}
	fresh, err = store(keys[11], fixedNow.Add(time.Second))
	require.ErrorIs(t, err, ErrReplay)
	require.False(t, fresh)

	// Fresh proofs (iat = now) keep being accepted, forever bounded, as
	// long as one second brings fewer than the shard holds.
	for i, k := range shardKeys(s, "fresh", 100) {
		if i%3 == 0 {
			clk.Advance(time.Second)
		}
		fresh, err := store(k, clk.Now())
		require.NoError(t, err, i)
		require.True(t, fresh, i)
		require.LessOrEqual(t, s.Len(), 8)
	}
}

// TestMemoryStoreExpiry: expired entries are dropped without raising the
// horizon: an expired proof cannot be replayed, the verifier refuses its
// iat.
func TestMemoryStoreExpiry(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: fixedNow}
	s := &MemoryStore{MaxEntries: memShards * 4, Now: clk.Now}
	ctx := context.Background()
	for _, k := range shardKeys(s, "old", 4) {
		fresh, err := s.CheckAndStore(ctx, k, fixedNow, fixedNow.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, fresh)
	}
	clk.Advance(2 * time.Minute)
	for _, k := range shardKeys(s, "new", 4) {
		fresh, err := s.CheckAndStore(ctx, k, clk.Now(), clk.Now().Add(time.Minute))
		require.NoError(t, err)
		require.True(t, fresh)
	}
	sh := &s.shards[0]
	sh.mu.Lock()
	horizon := sh.horizon
	sh.mu.Unlock()
	require.Equal(t, int64(math.MinInt64), horizon, "expired entries are dropped, not forgotten")
	require.Equal(t, 4, s.Len())
}

// TestMemoryStoreFutureQuota: proofs dated in the future (up to the
// verifier's skew) take at most half of a shard; past that they are
// refused, while present proofs still evict old ones. Once time catches
// up with them they count as present.
func TestMemoryStoreFutureQuota(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: fixedNow}
	s := &MemoryStore{MaxEntries: memShards * 8, Now: clk.Now}
	ctx := context.Background()
	ahead := fixedNow.Add(time.Minute)
	keys := shardKeys(s, "future", 6)
	for i, k := range keys {
		fresh, err := s.CheckAndStore(ctx, k, ahead, ahead.Add(6*time.Minute))
		if i < 4 {
			require.NoError(t, err, i)
			require.True(t, fresh, i)
			continue
		}
		require.ErrorIs(t, err, ErrReplay, i)
		require.ErrorIs(t, err, errFutureQuota, i)
		require.False(t, fresh)
	}
	// Two seconds ahead is the present (clock drift, whole seconds).
	near := shardKeys(s, "near", 1)[0]
	fresh, err := s.CheckAndStore(ctx, near, fixedNow.Add(2*time.Second), fixedNow.Add(6*time.Minute))
	require.NoError(t, err)
	require.True(t, fresh)
	// Present proofs fill the rest and then evict, never the future ones.
	for i, k := range shardKeys(s, "present", 20) {
		clk.Advance(time.Second)
		fresh, err := s.CheckAndStore(ctx, k, clk.Now(), clk.Now().Add(6*time.Minute))
		require.NoError(t, err, i)
		require.True(t, fresh, i)
		require.LessOrEqual(t, s.Len(), 8)
	}
	for _, k := range keys[:4] {
		fresh, err := s.CheckAndStore(ctx, k, ahead, ahead.Add(6*time.Minute))
		require.NoError(t, err)
		require.False(t, fresh, "future proofs are remembered")
	}
	// A minute later they are present: the quota is free again.
	clk.Advance(time.Minute)
	fresh, err = s.CheckAndStore(ctx, keys[4], clk.Now().Add(30*time.Second), clk.Now().Add(6*time.Minute))
	require.NoError(t, err)
	require.True(t, fresh)
}

// TestMemoryStoreStaleListings: keys that expire and are stored again
// leave stale listings behind; they are compacted, so the store's memory
// stays bounded by its capacity.
func TestMemoryStoreStaleListings(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: fixedNow}
	s := &MemoryStore{MaxEntries: memShards * 4, Now: clk.Now}
	ctx := context.Background()
	keys := shardKeys(s, "again", 3)
	// Expiries far from the iat (a store shared by verifiers of different
	// windows keeps old buckets around): every round relists each key.
	long := shardKeys(s, "long", 1)[0]
	fresh, err := s.CheckAndStore(ctx, long, fixedNow, fixedNow.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, fresh)
	for round := range 50 {
		for _, k := range keys {
			fresh, err := s.CheckAndStore(ctx, k, clk.Now(), clk.Now().Add(time.Second))
			require.NoError(t, err, round)
			require.True(t, fresh, round)
		}
		clk.Advance(2 * time.Second)
		sh := &s.shards[0]
		sh.mu.Lock()
		listed, n := sh.listed, len(sh.m)
		sh.mu.Unlock()
		require.LessOrEqual(t, listed, 2*s.perCap+1, round)
		require.LessOrEqual(t, n, s.perCap)
	}
}

func TestMemoryStoreZeroValue(t *testing.T) {
	t.Parallel()
	var s MemoryStore
	now := time.Now()
	fresh, err := s.CheckAndStore(context.Background(), "k", now, now.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = s.CheckAndStore(context.Background(), "k", now, now.Add(time.Minute))
	require.NoError(t, err)
	require.False(t, fresh)
	require.Equal(t, 1, s.Len())
	require.Equal(t, DefaultMaxEntries/memShards, s.perCap)
}
