package dpop

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// ReplayStore remembers the proofs a server has accepted, so that a
// replayed proof is refused (RFC 9449 §11.1,
// https://datatracker.ietf.org/doc/html/rfc9449#section-11.1).
//
// Servers that run several replicas must share one store, such as
// dpop/redisstore; the default [MemoryStore] only protects one process.
type ReplayStore interface {
	// CheckAndStore atomically records key until expiry and reports
	// whether it was absent (fresh). Exactly one of any number of
	// concurrent calls with the same unexpired key returns true. A key
	// whose expiry has passed counts as absent. An expiry that is not in
	// the future is treated as one millisecond from now. On error, fresh
	// is false and the verifier refuses the proof (fail closed).
	CheckAndStore(ctx context.Context, key string, expiry time.Time) (fresh bool, err error)
}

// DefaultMaxEntries is the default capacity of a [MemoryStore]: about
// 60 MB when full. With the default proof window (5 min + 1 min of skew)
// it sustains about 1,450 proofs per second.
const DefaultMaxEntries = 1 << 19

const memShards = 32

// shardHint is the initial capacity of a shard's map (about 0.5 MB for
// the whole store), so that a warming store does not rehash on every
// doubling from empty.
const shardHint = 256

// MemoryStore is the in-process [ReplayStore]: a sharded map of keys to
// expiry times, bounded to MaxEntries.
//
// Expired entries are removed when a shard fills up. When a shard is full
// of unexpired entries, new keys are refused with an error wrapping
// [ErrStoreFull] (fail closed): evicting an unexpired entry would let that
// proof be replayed, so the store never does. A flood of valid proofs can
// therefore make the server refuse proofs until entries expire; size
// MaxEntries for the peak rate times the proof window, or use a shared
// store.
//
// The zero value is ready to use with [DefaultMaxEntries]; a MemoryStore
// must not be copied after first use. It starts no goroutine.
type MemoryStore struct {
	// MaxEntries bounds the number of remembered keys. Zero means
	// [DefaultMaxEntries]. Each of the 32 shards holds an equal part.
	MaxEntries int
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	once   sync.Once
	seed   maphash.Seed
	perCap int
	shards [memShards]memShard
}

type memShard struct {
	mu sync.Mutex
	m  map[string]int64 // key -> expiry, Unix nanoseconds
	// earliest is a lower bound of the entries' expiry times: no sweep can
	// free anything before it.
	earliest int64
	_        [40]byte // keep shards on separate cache lines
}

func (s *MemoryStore) init() {
	s.once.Do(func() {
		s.seed = maphash.MakeSeed()
		max := s.MaxEntries
		if max <= 0 {
			max = DefaultMaxEntries
		}
		s.perCap = (max + memShards - 1) / memShards
		hint := min(s.perCap, shardHint)
		for i := range s.shards {
			s.shards[i].m = make(map[string]int64, hint)
		}
	})
}

// CheckAndStore implements [ReplayStore].
func (s *MemoryStore) CheckAndStore(ctx context.Context, key string, expiry time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("%w: %w", ErrReplayStore, err)
	}
	s.init()
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UnixNano()
	exp := expiry.UnixNano()
	if exp <= t {
		exp = t + int64(time.Millisecond)
	}
	sh := &s.shards[maphash.String(s.seed, key)%memShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if old, ok := sh.m[key]; ok {
		if old > t {
			return false, nil
		}
		sh.m[key] = exp
		sh.noteExpiry(exp)
		return true, nil
	}
	if len(sh.m) >= s.perCap {
		sh.sweep(t)
		if len(sh.m) >= s.perCap {
			return false, fmt.Errorf("%w: %w", ErrReplayStore, ErrStoreFull)
		}
	}
	sh.m[key] = exp
	sh.noteExpiry(exp)
	return true, nil
}

func (sh *memShard) noteExpiry(exp int64) {
	if sh.earliest == 0 || exp < sh.earliest {
		sh.earliest = exp
	}
}

// sweep deletes expired entries, unless none can have expired yet.
func (sh *memShard) sweep(now int64) {
	if sh.earliest > now {
		return
	}
	var earliest int64
	for k, exp := range sh.m {
		if exp <= now {
			delete(sh.m, k)
			continue
		}
		if earliest == 0 || exp < earliest {
			earliest = exp
		}
	}
	sh.earliest = earliest
}

// Len returns the number of keys held, expired or not.
func (s *MemoryStore) Len() int {
	s.init()
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
