package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hardened-oauth/hardened/dpop"
)

// DefaultPrefix is prepended to every key when Store.Prefix is empty.
const DefaultPrefix = "dpop:jti:"

// DefaultTimeout bounds one Redis call when the context has no deadline.
const DefaultTimeout = 2 * time.Second

// Client is the part of a go-redis client the store uses. *redis.Client,
// *redis.ClusterClient, *redis.Ring and redis.UniversalClient satisfy it.
type Client interface {
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// Store is a dpop.ReplayStore in Redis. It holds no state of its own and
// is safe for concurrent use.
type Store struct {
	// Client talks to Redis. Required: a nil Client fails every call.
	Client Client
	// Prefix is prepended to keys, to share a Redis with other data. Empty
	// means [DefaultPrefix].
	Prefix string
	// Now returns the current time, used to turn an expiry into a time to
	// live. Nil means time.Now.
	Now func() time.Time
}

var _ dpop.ReplayStore = (*Store)(nil)

// CheckAndStore implements dpop.ReplayStore with "SET prefix+key 1 NX PX
// ttl", where ttl is the time left until expiry in milliseconds (at least
// 1): one atomic set-if-absent. Redis answers OK when the key was created
// (fresh) and nil when it already existed. Any other outcome, including a
// canceled context or an unreachable server, is an error wrapping
// dpop.ErrReplayStore: the proof is refused, never let through. A nil
// Client is a *dpop.ConfigError (wrapped with dpop.ErrReplayStore as
// well). issuedAt is not needed: Redis remembers every key until its
// expiry, provided it is not configured to evict keys under memory
// pressure (use the default maxmemory-policy noeviction, or volatile-*
// policies only on a Redis that holds nothing else with a TTL).
func (s *Store) CheckAndStore(ctx context.Context, key string, issuedAt, expiry time.Time) (bool, error) {
	if s.Client == nil {
		return false, fmt.Errorf("%w: %w", dpop.ErrReplayStore, &dpop.ConfigError{Field: "Store.Client", Reason: "required"})
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("%w: %w", dpop.ErrReplayStore, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ttl := expiry.Sub(now()).Milliseconds()
	if ttl < 1 {
		ttl = 1
	}
	prefix := s.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	res, err := s.Client.Do(ctx, "SET", prefix+key, "1", "NX", "PX", ttl).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%w: redisstore: %w", dpop.ErrReplayStore, err)
	}
	if res != "OK" {
		return false, fmt.Errorf("%w: redisstore: unexpected reply to SET", dpop.ErrReplayStore)
	}
	return true, nil
}
