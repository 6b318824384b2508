package jose

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// Defaults of [RemoteKeySet].
const (
	DefaultJWKSMaxBytes     = 256 << 10
	DefaultJWKSRefreshLimit = 30 * time.Second
	DefaultJWKSMaxAge       = time.Hour
	DefaultJWKSFetchTimeout = 10 * time.Second
	jwksAccept              = "application/jwk-set+json, application/json"
)

// RemoteKeySet is a JWK Set fetched from a URL (an authorization server's
// jwks_uri). It caches the keys, refetches them when they are older than
// MaxAge or when a JWS names a kid it does not know (at most once per
// MinRefreshInterval), keeps the last good set when a fetch fails, and
// lets one fetch run at a time, however many goroutines ask.
//
// The zero value is not usable: URL is required. A RemoteKeySet is safe for
// concurrent use; do not copy it after first use.
type RemoteKeySet struct {
	// URL is the JWK Set location. Required.
	URL string
	// Client makes the requests. Nil means a default client with timeouts
	// that does not follow redirects.
	Client *http.Client
	// MinRefreshInterval is the least time between two fetches caused by
	// an unknown kid. Zero means 30 s.
	MinRefreshInterval time.Duration
	// MaxAge is how long a fetched set is used before it is refetched.
	// Zero means one hour.
	MaxAge time.Duration
	// MaxBytes bounds the response body. Zero means 256 KiB.
	MaxBytes int64
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	mu          sync.Mutex
	keys        []*JWK
	fetched     time.Time // last successful fetch
	lastAttempt time.Time // last fetch, successful or not
	inflight    chan struct{}
	lastErr     error
}

func (r *RemoteKeySet) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Keys returns the cached keys, fetching them first when there are none
// or they are older than MaxAge. When a refetch fails and a set was fetched
// before, the old set is returned with no error.
func (r *RemoteKeySet) Keys(ctx context.Context) ([]*JWK, error) {
	r.mu.Lock()
	keys, fetched := r.keys, r.fetched
	r.mu.Unlock()
	if keys != nil && r.now().Sub(fetched) < orDefault(r.MaxAge, DefaultJWKSMaxAge) {
		return keys, nil
	}
	if err := r.refresh(ctx, false); err != nil {
		r.mu.Lock()
		keys = r.keys
		r.mu.Unlock()
		if keys != nil {
			return keys, nil
		}
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys, nil
}

// KeysFor implements [KeyProvider]. When no cached key matches a header
// that names a kid, it refreshes the set (rate-limited) and looks again.
func (r *RemoteKeySet) KeysFor(ctx context.Context, h *Header) ([]*JWK, error) {
	keys, err := r.Keys(ctx)
	if err != nil {
		return nil, err
	}
	if m := Match(keys, h); len(m) > 0 || h.Kid == "" {
		return m, nil
	}
	if err := r.refresh(ctx, true); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoMatchingKey, err)
	}
	r.mu.Lock()
	keys = r.keys
	r.mu.Unlock()
	return Match(keys, h), nil
}

// Refresh fetches the set now, ignoring MaxAge and the rate limit; use it
// at start-up to fail early. On failure the previous set is kept.
func (r *RemoteKeySet) Refresh(ctx context.Context) error { return r.refresh(ctx, false) }

// errRateLimited is returned internally when a kid-driven refresh comes too
// soon after the previous fetch.
var errRateLimited = fmt.Errorf("%w: refresh rate-limited", ErrJWKSFetch)

func (r *RemoteKeySet) refresh(ctx context.Context, limited bool) error {
	r.mu.Lock()
	if limited && !r.lastAttempt.IsZero() && r.now().Sub(r.lastAttempt) < orDefault(r.MinRefreshInterval, DefaultJWKSRefreshLimit) {
		r.mu.Unlock()
		return errRateLimited
	}
	wait := r.inflight
	if wait == nil {
		wait = make(chan struct{})
		r.inflight = wait
		r.lastAttempt = r.now()
		r.mu.Unlock()
		// The fetch outlives a cancelled caller: other callers wait on it.
		go r.fetch(context.WithoutCancel(ctx), wait)
	} else {
		r.mu.Unlock()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wait:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastErr
}

func (r *RemoteKeySet) fetch(ctx context.Context, done chan struct{}) {
	keys, err := r.get(ctx)
	r.mu.Lock()
	if err == nil {
		r.keys, r.fetched = keys, r.now()
	}
	r.lastErr = err
	r.inflight = nil
	r.mu.Unlock()
	close(done)
}

func (r *RemoteKeySet) get(ctx context.Context) ([]*JWK, error) {
	if r.URL == "" {
		return nil, fmt.Errorf("%w: no URL", ErrJWKSFetch)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultJWKSFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJWKSFetch, err)
	}
	req.Header.Set("Accept", jwksAccept)
	resp, err := httpx.Client(r.Client).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJWKSFetch, err)
	}
	defer httpx.DrainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP %d", ErrJWKSFetch, resp.StatusCode)
	}
	body, err := httpx.ReadBody(resp.Body, orDefault(r.MaxBytes, DefaultJWKSMaxBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJWKSFetch, err)
	}
	keys, err := ParseJWKSet(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrJWKSFetch, err)
	}
	return keys, nil
}

func orDefault[T int64 | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}
