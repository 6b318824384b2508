package dpop

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
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
	// whether it was absent (fresh): exactly one of any number of
	// concurrent calls with the same unexpired key returns true. A key
	// whose expiry has passed counts as absent; an expiry that is not in
	// the future is treated as one millisecond from now. issuedAt is the
	// proof's "iat", for stores that cannot remember every key (see
	// [MemoryStore]). An error wrapping [ErrReplay] refuses the proof as
	// possibly replayed; any other error refuses it as a store failure
	// (fail closed, [ErrReplayStore]).
	CheckAndStore(ctx context.Context, key string, issuedAt, expiry time.Time) (fresh bool, err error)
}

// DefaultMaxEntries is the default capacity of a [MemoryStore]: about
// 100 MB when full (about 100 bytes an entry). The store grows as proofs
// arrive: at 100 proofs a second and the default window (six minutes) it
// holds 36,000 entries, about 4 MB.
const DefaultMaxEntries = 1 << 20

// memShards is the number of independently locked parts of a MemoryStore.
const memShards = 32

// futureTolerance is how far past the store's clock an "iat" may lie
// (whole seconds, clock drift) and still count as a present proof rather
// than one dated in the future.
const futureTolerance = 2 // seconds

// MemoryStore is the in-process [ReplayStore]: bounded memory, no
// goroutine, and a flood of valid proofs can neither lock clients out nor
// make it forget a proof in a way that lets it be replayed.
//
// It remembers each key (the first 128 bits of its SHA-256) until its
// expiry, in buckets by the proof's "iat" second. When full (MaxEntries
// keys; each of 32 shards holds an equal part, and a key's shard is
// chosen by a hash with a random per-store seed, so a client cannot aim a
// flood at one shard by choosing its jti), it first drops expired
// entries, then forgets the bucket of the oldest "iat" and raises its
// horizon to that second. From then on a proof whose "iat" is at or
// before the horizon is refused as possibly replayed (an error wrapping
// [ErrReplay]): its key may be one that was forgotten. A proof dated after
// the horizon is accepted if its key is not remembered, which is exact,
// since every key of that age is still held. So when an attacker floods
// the server with valid self-signed proofs, a client's fresh proof ("iat"
// = now) is still accepted and a replay is still refused; what the flood
// costs is the span of past seconds the store covers (MaxEntries/2 divided
// by the flood rate), so a client whose clock lags by more than that is
// refused until the flood ends.
//
// An attacker may date proofs up to the verifier's Skew in the future, and
// such a proof, if forgotten, would later look fresh. So proofs dated more
// than two seconds ahead take at most half of the store; past that share
// they are refused (an error wrapping [ErrReplay]) until time catches up
// with them. The horizon can then reach "now" only if the store receives
// more than MaxEntries/6 valid proofs a second: about 175,000 with the
// default capacity, where two cores verify about 20,000 ES256 proofs a
// second. A server that verifies more needs a larger MaxEntries.
//
// The zero value is ready to use with [DefaultMaxEntries]; a MemoryStore
// must not be copied after first use. It is safe for concurrent use; each
// check is atomic (set-if-absent under the shard's lock).
type MemoryStore struct {
	// MaxEntries bounds the number of remembered keys. Zero means
	// [DefaultMaxEntries]. Each of the 32 shards holds an equal part
	// (rounded up, at least 4).
	MaxEntries int
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	once   sync.Once
	perCap int
	// seed keys the choice of shard: with a public function of the proof
	// a client could grind its jti until a whole flood lands in one
	// shard, whose capacity is MaxEntries/32.
	seed   maphash.Seed
	shards [memShards]memShard
}

// memKey is the first 128 bits of the SHA-256 of a key: fixed-size map
// keys bound memory whatever the caller's keys, and collisions are out of
// reach (a false collision would only refuse a proof).
type memKey [16]byte

type memEntry struct {
	exp int64 // expiry, Unix nanoseconds
	sec int64 // "iat" second: the bucket listing the key
}

type memBucket struct {
	sec    int64
	keys   []memKey
	maxExp int64
}

type memShard struct {
	mu sync.Mutex
	m  map[memKey]memEntry
	// buckets list the keys by "iat" second, in ascending order of sec;
	// new proofs go to the last one or near it.
	buckets []memBucket
	// horizon is the newest "iat" second forgotten before expiry; proofs
	// at or before it are refused. math.MinInt64 until then.
	horizon int64
	// future counts the entries whose second lies beyond futureAt +
	// futureTolerance; it is recomputed when the clock's second changes.
	future   int
	futureAt int64
	// listed counts the keys listed in buckets, stale listings (of keys
	// that expired and were stored again) included.
	listed int
}

// shard returns the shard of the key whose SHA-256 is sum.
func (s *MemoryStore) shard(sum *[sha256.Size]byte) *memShard {
	return &s.shards[maphash.Bytes(s.seed, sum[:])%memShards]
}

func (s *MemoryStore) init() {
	s.once.Do(func() {
		n := s.MaxEntries
		if n <= 0 {
			n = DefaultMaxEntries
		}
		s.perCap = max((n+memShards-1)/memShards, 4)
		s.seed = maphash.MakeSeed()
		for i := range s.shards {
			sh := &s.shards[i]
			sh.m = make(map[memKey]memEntry, min(s.perCap, 256))
			sh.horizon = math.MinInt64
			sh.futureAt = math.MinInt64
		}
	})
}

// Errors of the MemoryStore, refusing a proof as possibly replayed.
var (
	errStoreHorizon = fmt.Errorf("%w: %w", ErrReplay, errHorizon)
	errStoreFuture  = fmt.Errorf("%w: %w", ErrReplay, errFutureQuota)
)

// CheckAndStore implements [ReplayStore].
func (s *MemoryStore) CheckAndStore(ctx context.Context, key string, issuedAt, expiry time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("%w: %w", ErrReplayStore, err)
	}
	s.init()
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now()
	nowNS, nowSec := t.UnixNano(), t.Unix()
	exp := expiry.UnixNano()
	if exp <= nowNS {
		exp = nowNS + int64(time.Millisecond)
	}
	sec := issuedAt.Unix()
	var sum [sha256.Size]byte
	if len(key) <= 128 {
		var kb [128]byte // hash without converting (and allocating) a copy
		sum = sha256.Sum256(append(kb[:0], key...))
	} else {
		sum = sha256.Sum256([]byte(key))
	}
	k := memKey(sum[:16])
	sh := s.shard(&sum)

	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.sweep(nowNS)
	relist := true
	if e, ok := sh.m[k]; ok {
		if e.exp > nowNS {
			return false, nil
		}
		// Expired: absent. Its listing in bucket e.sec becomes stale (and
		// is skipped) unless the key goes back to the same bucket.
		relist = e.sec != sec
		delete(sh.m, k)
	}
	if sec <= sh.horizon {
		return false, errStoreHorizon
	}
	future := sec > nowSec+futureTolerance
	if future {
		sh.countFuture(nowSec)
		if sh.future >= s.perCap/2 {
			return false, errStoreFuture
		}
	}
	for len(sh.m) >= s.perCap {
		sh.sweep(nowNS)
		if len(sh.m) < s.perCap {
			break
		}
		if len(sh.buckets) == 0 || sh.buckets[0].sec >= sec {
			// Every remembered proof is at least as recent as this one:
			// forgetting one would put this proof behind the horizon.
			return false, errStoreHorizon
		}
		sh.horizon = max(sh.horizon, sh.buckets[0].sec)
		sh.dropFront()
	}
	sh.m[k] = memEntry{exp: exp, sec: sec}
	b := sh.bucket(sec)
	if relist {
		b.keys = append(b.keys, k)
		sh.listed++
		if sh.listed > 2*s.perCap {
			sh.compact()
		}
	}
	b.maxExp = max(b.maxExp, exp)
	if future {
		sh.future++
	}
	return true, nil
}

// compact removes stale listings from every bucket, so that buckets hold
// at most twice the shard's capacity whatever the pattern of expired keys
// stored again.
func (sh *memShard) compact() {
	sh.listed = 0
	for i := range sh.buckets {
		b := &sh.buckets[i]
		b.keys = slices.DeleteFunc(b.keys, func(k memKey) bool {
			e, ok := sh.m[k]
			return !ok || e.sec != b.sec
		})
		sh.listed += len(b.keys)
	}
}

// bucket returns the bucket of second sec, adding it if needed.
func (sh *memShard) bucket(sec int64) *memBucket {
	n := len(sh.buckets)
	if n > 0 && sh.buckets[n-1].sec == sec { // the common case: now
		return &sh.buckets[n-1]
	}
	i, found := slices.BinarySearchFunc(sh.buckets, sec, func(b memBucket, sec int64) int {
		return cmp.Compare(b.sec, sec)
	})
	if !found {
		sh.buckets = slices.Insert(sh.buckets, i, memBucket{sec: sec})
	}
	return &sh.buckets[i]
}

// countFuture recomputes the count of entries dated in the future when the
// clock's second changed.
func (sh *memShard) countFuture(nowSec int64) {
	if sh.futureAt == nowSec {
		return
	}
	sh.futureAt = nowSec
	sh.future = 0
	for i := len(sh.buckets) - 1; i >= 0 && sh.buckets[i].sec > nowSec+futureTolerance; i-- {
		sh.future += sh.live(&sh.buckets[i])
	}
}

// live counts the keys of bucket b that the map still lists there.
func (sh *memShard) live(b *memBucket) int {
	n := 0
	for _, k := range b.keys {
		if e, ok := sh.m[k]; ok && e.sec == b.sec {
			n++
		}
	}
	return n
}

// sweep drops the oldest buckets whose every entry has expired.
func (sh *memShard) sweep(nowNS int64) {
	for len(sh.buckets) > 0 && sh.buckets[0].maxExp <= nowNS {
		sh.dropFront()
	}
}

// dropFront forgets the oldest bucket and its keys.
func (sh *memShard) dropFront() {
	b := &sh.buckets[0]
	for _, k := range b.keys {
		if e, ok := sh.m[k]; ok && e.sec == b.sec {
			delete(sh.m, k)
			if b.sec > sh.futureAt+futureTolerance {
				sh.future--
			}
		}
	}
	sh.listed -= len(b.keys)
	sh.buckets = slices.Delete(sh.buckets, 0, 1)
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
