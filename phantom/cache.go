package phantom

import (
	"container/list"
	"context"
	"encoding/json"
	"sync"
	"time"
)

// DefaultMaxEntries is the default capacity of a [MemoryCache].
const DefaultMaxEntries = 10000

// Entry is a cached introspection result. The gateway creates it; a
// [Cache] stores and returns it unchanged and must treat it as read-only.
type Entry struct {
	// Active is false for a negative entry: a token the authorization
	// server reported inactive, or one the gateway refuses whatever the
	// request (a refresh token, another issuer or audience).
	Active bool
	// Refusal is the reason of a negative entry for a refused active
	// token; empty for an inactive one.
	Refusal Reason
	// Claims are the token's claims: the RFC 7662 response, the
	// "token_introspection" member of an RFC 9701 response, or the access
	// token JWT's payload. Nil for a negative entry.
	Claims json.RawMessage
	// JWT is the JWT forwarded upstream. Empty for a negative entry.
	JWT string
	// Expires is when the entry must no longer be used: never after the
	// token's "exp", nor after the forwarded JWT's.
	Expires time.Time

	info     *claimsInfo // parsed Claims; set by the gateway, never serialized
	upstream string      // the upstream header's value; likewise
}

// Cache stores introspection results under the SHA-256 of the token, so
// the token itself is never a key. Implementations: [MemoryCache] and
// phantom/redisstore. A Cache is safe for concurrent use. An error from
// Get is treated as a miss and one from Set is logged: the cache can
// only ever save an introspection, never grant access.
type Cache interface {
	// Get returns the entry stored under key, or nil, nil when there is
	// none or it has expired (now is not before its Expires).
	Get(ctx context.Context, key [32]byte) (*Entry, error)
	// Set stores e under key until e.Expires. An Expires that is not in
	// the future stores nothing.
	Set(ctx context.Context, key [32]byte, e *Entry) error
}

// MemoryCache is the in-process [Cache]: a map bounded to MaxEntries
// entries, evicting the least recently used one when full, and dropping
// expired entries when it meets them. The zero value is ready to use; a
// MemoryCache must not be copied after first use. It starts no goroutine.
type MemoryCache struct {
	// MaxEntries bounds the number of entries. Zero means
	// [DefaultMaxEntries].
	MaxEntries int
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	items map[[32]byte]*list.Element
	lru   list.List // front: most recently used; values are *memItem
}

type memItem struct {
	key [32]byte
	e   *Entry
}

func (c *MemoryCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Get implements [Cache].
func (c *MemoryCache) Get(_ context.Context, key [32]byte) (*Entry, error) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, nil
	}
	it := el.Value.(*memItem)
	if !now.Before(it.e.Expires) {
		c.lru.Remove(el)
		delete(c.items, key)
		return nil, nil
	}
	c.lru.MoveToFront(el)
	return it.e, nil
}

// Set implements [Cache].
func (c *MemoryCache) Set(_ context.Context, key [32]byte, e *Entry) error {
	if e == nil {
		return nil
	}
	now := c.now()
	if !now.Before(e.Expires) {
		return nil
	}
	max := c.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = make(map[[32]byte]*list.Element)
	}
	if el, ok := c.items[key]; ok {
		el.Value.(*memItem).e = e
		c.lru.MoveToFront(el)
		return nil
	}
	for c.lru.Len() >= max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.items, old.Value.(*memItem).key)
	}
	c.items[key] = c.lru.PushFront(&memItem{key: key, e: e})
	return nil
}

// Len returns the number of entries held, expired or not.
func (c *MemoryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// flight is one introspection shared by every request for the same token
// that misses the cache while it runs.
type flight struct {
	done  chan struct{}
	entry *Entry // set before done is closed
	err   *Error
}

// lookup returns the entry for token: from the cache, or from one
// introspection shared with concurrent requests for the same token. The
// introspection runs detached from ctx, bounded by the gateway's Timeout,
// so a caller that gives up (ctx done) returns at once without cancelling
// it for the others.
func (g *Gateway) lookup(ctx context.Context, c *config, key [32]byte, token string) (*Entry, bool, *Error) {
	if e, err := c.cache.Get(ctx, key); err != nil {
		g.logWarn(c, "cache read failed", err)
	} else if e != nil && (c.ownCache || g.now().Before(e.Expires)) {
		if m := g.Metrics.CacheHit; m != nil {
			m()
		}
		return e, true, nil
	}
	if m := g.Metrics.CacheMiss; m != nil {
		m()
	}
	g.mu.Lock()
	f, ok := g.inflight[key]
	if !ok {
		select {
		case c.slots <- struct{}{}:
		default:
			g.mu.Unlock()
			return nil, false, unavailable(wrapf(ErrIntrospection, "%d introspections in flight already", cap(c.slots)))
		}
		f = &flight{done: make(chan struct{})}
		if g.inflight == nil {
			g.inflight = make(map[[32]byte]*flight)
		}
		g.inflight[key] = f
		go g.fly(context.WithoutCancel(ctx), c, key, token, f)
	}
	g.mu.Unlock()
	select {
	case <-f.done:
		return f.entry, false, f.err
	case <-ctx.Done():
		return nil, false, refuse(503, "", "request cancelled while the token was introspected", ReasonIntrospectionFailed,
			wrapf(ErrIntrospection, "waiting for the introspection: %w", ctx.Err()))
	}
}

// fly runs one introspection, caches its result, and releases the waiters.
func (g *Gateway) fly(ctx context.Context, c *config, key [32]byte, token string, f *flight) {
	defer func() {
		g.mu.Lock()
		delete(g.inflight, key)
		g.mu.Unlock()
		<-c.slots
		close(f.done)
	}()
	e, err := g.introspect(ctx, c, token)
	f.entry, f.err = e, err
	if err != nil || e == nil || !g.now().Before(e.Expires) {
		return
	}
	if serr := c.cache.Set(ctx, key, e); serr != nil {
		g.logWarn(c, "cache write failed", serr)
	}
}
