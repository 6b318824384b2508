// Package redisstore is a Redis-backed cache for phantom gateways that run
// several replicas: an opaque token introspected by one replica is served
// from the cache by all of them, under the SHA-256 of the token (the token
// itself never reaches Redis).
//
// Each entry is one key written with "SET key value PX ttl", the time to
// live ending at the entry's Expires (never after the token's "exp"), so
// Redis forgets it by itself. Plug a [Cache] into phantom.Gateway.Cache,
// dpop/redisstore's Store into the gateway's dpop.Verifier.Replay, and a
// secret from [SharedSecret] into its dpop.Nonces, and every replica
// refuses a proof another replica accepted and accepts the nonces any
// replica issued.
//
// Redis is trusted: whoever can write to it can admit requests (a cached
// entry is an admission), and it holds the JWTs forwarded upstream and the
// nonce secret. Give the gateways their own Redis, or their own ACL user
// and key prefix, over TLS when it is not on the same host.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hardened-oauth/hardened/internal/strictjson"
	"github.com/hardened-oauth/hardened/phantom"
)

// DefaultPrefix is prepended to every key when Cache.Prefix is empty.
const DefaultPrefix = "phantom:token:"

// DefaultTimeout bounds one Redis call when the context has no deadline.
const DefaultTimeout = 2 * time.Second

// MaxEntryBytes bounds an entry read from Redis.
const MaxEntryBytes = 2 << 20

// Errors returned by this package.
var (
	// ErrInvalidConfig means a Cache or SharedSecret call is
	// misconfigured (no Client, an empty name).
	ErrInvalidConfig = errors.New("redisstore: invalid configuration")
	// ErrRedis wraps a failed Redis call (unreachable, timeout, an
	// unexpected reply) or an entry that does not decode. The gateway
	// treats a failed read as a miss.
	ErrRedis = errors.New("redisstore: redis call failed")
)

// Client is the part of a go-redis client the cache uses. *redis.Client,
// *redis.ClusterClient, *redis.Ring and redis.UniversalClient satisfy it.
type Client interface {
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// Cache is a phantom.Cache in Redis. It holds no state of its own and is
// safe for concurrent use.
type Cache struct {
	// Client talks to Redis. Required: a nil Client fails every call with
	// ErrInvalidConfig.
	Client Client
	// Prefix is prepended to keys, to share a Redis with other data. Empty
	// means [DefaultPrefix].
	Prefix string
	// Now returns the current time, used to turn an expiry into a time to
	// live and to check one. Nil means time.Now.
	Now func() time.Time
}

var _ phantom.Cache = (*Cache)(nil)

// wireEntry is the stored form of a phantom.Entry.
type wireEntry struct {
	Version int             `json:"v"`
	Active  bool            `json:"a"`
	Refusal string          `json:"r,omitempty"`
	Claims  json.RawMessage `json:"c,omitempty"`
	JWT     string          `json:"j,omitempty"`
	Expires int64           `json:"e"` // Unix milliseconds
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) key(k [32]byte) string {
	p := c.Prefix
	if p == "" {
		p = DefaultPrefix
	}
	return p + hex.EncodeToString(k[:])
}

func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// Get implements phantom.Cache with "GET prefix+hex(key)". An entry whose
// Expires has passed is a miss, whatever Redis still holds.
func (c *Cache) Get(ctx context.Context, key [32]byte) (*phantom.Entry, error) {
	if c.Client == nil {
		return nil, fmt.Errorf("%w: Cache.Client is required", ErrInvalidConfig)
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	v, err := c.Client.Do(ctx, "GET", c.key(key)).Text()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrRedis, err)
	}
	e, err := decode([]byte(v))
	if err != nil {
		return nil, err
	}
	if !c.now().Before(e.Expires) {
		return nil, nil
	}
	return e, nil
}

// Set implements phantom.Cache with "SET prefix+hex(key) value PX ttl",
// ttl the milliseconds left until e.Expires. An entry that has already
// expired is not written.
func (c *Cache) Set(ctx context.Context, key [32]byte, e *phantom.Entry) error {
	if c.Client == nil {
		return fmt.Errorf("%w: Cache.Client is required", ErrInvalidConfig)
	}
	if e == nil {
		return nil
	}
	ttl := e.Expires.Sub(c.now()).Milliseconds()
	if ttl < 1 {
		return nil
	}
	v, err := json.Marshal(wireEntry{
		Version: 1, Active: e.Active, Refusal: string(e.Refusal), Claims: e.Claims, JWT: e.JWT,
		Expires: e.Expires.UnixMilli(),
	})
	if err != nil {
		return fmt.Errorf("%w: encoding the entry: %w", ErrRedis, err)
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	if err := c.Client.Do(ctx, "SET", c.key(key), v, "PX", ttl).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrRedis, err)
	}
	return nil
}

// decode reads a stored entry, strictly.
func decode(v []byte) (*phantom.Entry, error) {
	if len(v) > MaxEntryBytes {
		return nil, fmt.Errorf("%w: entry over %d bytes", ErrRedis, MaxEntryBytes)
	}
	var w wireEntry
	if err := strictjson.UnmarshalStrict(v, &w); err != nil {
		return nil, fmt.Errorf("%w: malformed entry: %w", ErrRedis, err)
	}
	if w.Version != 1 {
		return nil, fmt.Errorf("%w: unknown entry version", ErrRedis)
	}
	if w.Active && (len(w.Claims) == 0 || w.JWT == "") {
		return nil, fmt.Errorf("%w: active entry without claims or JWT", ErrRedis)
	}
	if len(w.Claims) == 0 || string(w.Claims) == "null" {
		w.Claims = nil
	}
	return &phantom.Entry{
		Active: w.Active, Refusal: phantom.Reason(w.Refusal), Claims: w.Claims, JWT: w.JWT,
		Expires: time.UnixMilli(w.Expires),
	}, nil
}

// SharedSecret returns the secret stored in Redis under name, creating it
// (32 random bytes) when it does not exist yet, so that every replica
// started against the same Redis gets the same one: use it as the
// dpop.Nonces secret of the gateways' DPoP verifiers. The first replica's
// "SET NX" wins; the others read its value.
func SharedSecret(ctx context.Context, c Client, name string) ([]byte, error) {
	if c == nil || name == "" {
		return nil, fmt.Errorf("%w: SharedSecret needs a Client and a name", ErrInvalidConfig)
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	var fresh [32]byte
	if _, err := rand.Read(fresh[:]); err != nil {
		return nil, err
	}
	err := c.Do(ctx, "SET", name, base64.RawURLEncoding.EncodeToString(fresh[:]), "NX").Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: %w", ErrRedis, err)
	}
	v, err := c.Do(ctx, "GET", name).Text()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRedis, err)
	}
	secret, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(secret) < 32 {
		return nil, fmt.Errorf("%w: the value under the name is not a secret of 32 bytes or more", ErrRedis)
	}
	return secret, nil
}
