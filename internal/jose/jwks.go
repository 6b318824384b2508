package jose

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
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
	DefaultJWKSMaxStale     = 24 * time.Hour
	jwksAccept              = "application/jwk-set+json, application/json"
	// jwksEmptyRetry is the least time between two failed fetches while
	// no set was ever fetched: short enough to recover quickly from an
	// authorization server that starts after its clients, long enough not
	// to turn every request into a fetch.
	jwksEmptyRetry = time.Second
)

// RemoteKeySet is a JWK Set fetched from a URL (an authorization server's
// jwks_uri). It caches the keys and:
//
//   - refetches them when they are older than MaxAge;
//   - refetches them when a JWS names a kid it does not know, at most once
//     per MinRefreshInterval, so random kids cannot turn requests into
//     fetches;
//   - keeps the last good set when a fetch fails (an HTTP error, an
//     oversized or malformed body, a set without a usable key), and then
//     waits MinRefreshInterval before the next automatic attempt, so an
//     outage of the authorization server neither fails nor slows down
//     verification with known keys;
//   - stops using that set MaxStale after it should have been refetched
//     (MaxAge + MaxStale after the fetch): whoever can block the jwks_uri
//     cannot keep a key the server rotated out alive for ever; from then
//     on every verification fails until a fetch succeeds;
//   - runs one fetch at a time, however many goroutines ask: the others
//     wait for it, each until its own context ends; a fetch is not
//     cancelled when the caller that started it goes away;
//   - fetches only from an https URL, never follows a redirect, whatever
//     Client it is given (every request goes through httpx.Client, which
//     copies a caller's client with redirects disabled), and treats a 3xx
//     as a failed fetch: a jwks_uri that redirects to http, or to another
//     host, could otherwise hand over an attacker's keys.
//
// The zero value is not usable: URL is required. A RemoteKeySet is safe for
// concurrent use; do not copy it after first use.
type RemoteKeySet struct {
	// URL is the JWK Set location, an absolute https URL. Required.
	URL string
	// Client makes the requests, through a copy that never follows a
	// redirect. Nil means the module's default client with timeouts.
	Client *http.Client
	// MinRefreshInterval is the least time between two fetches caused by
	// an unknown kid, and between a failed fetch and the next automatic
	// one. Zero means 30 s.
	MinRefreshInterval time.Duration
	// MaxAge is how long a fetched set is used before it is refetched.
	// Zero means one hour.
	MaxAge time.Duration
	// MaxStale is how long past MaxAge the last good set is still used
	// while fetches fail. Zero means 24 hours.
	MaxStale time.Duration
	// MaxBytes bounds the response body. Zero means 256 KiB.
	MaxBytes int64
	// Timeout bounds one fetch. Zero means 10 s.
	Timeout time.Duration
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	keys     []*JWK    // last good set; nil before the first success
	fetched  time.Time // end of the last successful fetch
	started  time.Time // start of the last fetch, successful or not
	retryAt  time.Time // after a failure, no automatic fetch before this
	lastErr  error     // error of the last fetch
	inflight *jwksCall
}

// jwksCall is one fetch, shared by every caller that waits for it.
type jwksCall struct {
	done chan struct{}
	err  error // set before done is closed
}

func (r *RemoteKeySet) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Keys returns the cached keys, fetching them first when there are none or
// they are older than MaxAge. When that fetch fails and a set was fetched
// less than MaxAge + MaxStale ago, the old set is returned with no error.
func (r *RemoteKeySet) Keys(ctx context.Context) ([]*JWK, error) {
	r.mu.Lock()
	now := r.now()
	if r.keys != nil && now.Sub(r.fetched) < orDefault(r.MaxAge, DefaultJWKSMaxAge) {
		keys := r.keys
		r.mu.Unlock()
		return keys, nil
	}
	call := r.inflight
	if call == nil && !now.Before(r.retryAt) {
		call = r.startLocked(ctx, now)
	}
	keys, lastErr := r.usableLocked(now), r.lastErr
	r.mu.Unlock()
	if call == nil {
		// A fetch failed recently: serve the stale set, or the failure.
		if keys != nil {
			return keys, nil
		}
		if lastErr == nil {
			lastErr = ErrJWKSFetch
		}
		return nil, r.staleError(lastErr)
	}
	err := r.wait(ctx, call)
	r.mu.Lock()
	keys = r.usableLocked(r.now())
	r.mu.Unlock()
	if keys != nil {
		return keys, nil
	}
	return nil, r.staleError(err)
}

// usableLocked returns the last good set while it may still be used (less
// than MaxAge + MaxStale old), or nil; r.mu is held.
func (r *RemoteKeySet) usableLocked(now time.Time) []*JWK {
	if r.keys == nil || now.Sub(r.fetched) >= orDefault(r.MaxAge, DefaultJWKSMaxAge)+orDefault(r.MaxStale, DefaultJWKSMaxStale) {
		return nil
	}
	return r.keys
}

// staleError is err, said to be about a set too old to use when there is
// one.
func (r *RemoteKeySet) staleError(err error) error {
	r.mu.Lock()
	stale := r.keys != nil
	r.mu.Unlock()
	if err == nil {
		err = ErrJWKSFetch
	}
	if stale {
		return fmt.Errorf("%w: the last key set fetched is too old to use (MaxAge + MaxStale) and no fetch has succeeded since", err)
	}
	return err
}

// KeysFor implements [KeyProvider]. When no cached key matches a header
// that names a kid, it refreshes the set (at most once per
// MinRefreshInterval, or by joining a fetch already running) and looks
// again. A rate-limited refresh returns no key and no error.
func (r *RemoteKeySet) KeysFor(ctx context.Context, h *Header) ([]*JWK, error) {
	keys, err := r.Keys(ctx)
	if err != nil {
		return nil, err
	}
	if m := Match(keys, h); len(m) > 0 || h == nil || h.Kid == "" {
		return m, nil
	}
	r.mu.Lock()
	now := r.now()
	call := r.inflight
	if call == nil && (r.started.IsZero() || now.Sub(r.started) >= orDefault(r.MinRefreshInterval, DefaultJWKSRefreshLimit)) {
		call = r.startLocked(ctx, now)
	}
	r.mu.Unlock()
	if call == nil {
		return nil, nil
	}
	if err := r.wait(ctx, call); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoMatchingKey, err)
	}
	r.mu.Lock()
	keys = r.keys
	r.mu.Unlock()
	return Match(keys, h), nil
}

// Refresh fetches the set now (or waits for the fetch already running),
// ignoring MaxAge and the rate limit; use it at start-up to fail early. On
// failure the previous set is kept.
func (r *RemoteKeySet) Refresh(ctx context.Context) error {
	r.mu.Lock()
	call := r.inflight
	if call == nil {
		call = r.startLocked(ctx, r.now())
	}
	r.mu.Unlock()
	return r.wait(ctx, call)
}

// startLocked starts a fetch; r.mu is held.
func (r *RemoteKeySet) startLocked(ctx context.Context, now time.Time) *jwksCall {
	call := &jwksCall{done: make(chan struct{})}
	r.inflight = call
	r.started = now
	// The fetch outlives a cancelled caller: other callers wait on it. It
	// is bounded by Timeout.
	go r.fetch(context.WithoutCancel(ctx), call)
	return call
}

func (r *RemoteKeySet) wait(ctx context.Context, call *jwksCall) error {
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrJWKSFetch, ctx.Err())
	}
}

func (r *RemoteKeySet) fetch(ctx context.Context, call *jwksCall) {
	keys, err := r.get(ctx)
	r.mu.Lock()
	now := r.now()
	if err == nil {
		r.keys, r.fetched, r.retryAt = keys, now, time.Time{}
	} else {
		backoff := orDefault(r.MinRefreshInterval, DefaultJWKSRefreshLimit)
		if r.keys == nil {
			backoff = min(backoff, jwksEmptyRetry)
		}
		r.retryAt = now.Add(backoff)
	}
	r.lastErr = err
	call.err = err
	r.inflight = nil
	r.mu.Unlock()
	close(call.done)
}

func (r *RemoteKeySet) get(ctx context.Context) ([]*JWK, error) {
	if err := CheckJWKSURL(r.URL); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, orDefault(r.Timeout, DefaultJWKSFetchTimeout))
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
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, fmt.Errorf("%w: redirect (HTTP %d) refused", ErrJWKSFetch, resp.StatusCode)
	}
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
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: JWK Set has no usable key", ErrJWKSFetch)
	}
	return slices.Clip(keys), nil
}

// CheckJWKSURL reports whether s is a URL [RemoteKeySet] fetches from: an
// absolute https URL with a host and without user information. The error
// wraps [ErrJWKSFetch].
func CheckJWKSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("%w: URL must be an absolute https URL without user information", ErrJWKSFetch)
	}
	return nil
}

func orDefault[T int64 | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}
