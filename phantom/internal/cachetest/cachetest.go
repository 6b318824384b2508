// Package cachetest is the contract test suite shared by every phantom
// cache (phantom.MemoryCache, phantom/redisstore.Cache): the same
// behaviour, checked the same way, whatever the backend.
package cachetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/phantom"
)

// Harness builds caches for the suite.
type Harness struct {
	// New returns an empty cache, its current time, and a function that
	// moves its clock forward (a cache on real time sleeps).
	New func(t *testing.T) (c phantom.Cache, now func() time.Time, advance func(time.Duration))
}

// key returns a fresh random key.
func key(t *testing.T) [32]byte {
	t.Helper()
	var b [16]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return sha256.Sum256(b[:])
}

// active returns an active entry holding jwt.
func active(jwt string, expires time.Time) *phantom.Entry {
	return &phantom.Entry{Active: true, Claims: json.RawMessage(`{"active":true}`), JWT: jwt, Expires: expires}
}

// requireSame checks that got is want as the cache must return it: every
// field equal, Expires to the millisecond.
func requireSame(t *testing.T, want, got *phantom.Entry) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, want.Active, got.Active)
	require.Equal(t, want.Refusal, got.Refusal)
	require.Equal(t, string(want.Claims), string(got.Claims))
	require.Equal(t, want.JWT, got.JWT)
	require.WithinDuration(t, want.Expires, got.Expires, time.Millisecond)
}

// Run runs the contract tests against h.
func Run(t *testing.T, h Harness) {
	t.Run("miss", func(t *testing.T) {
		t.Parallel()
		c, _, _ := h.New(t)
		e, err := c.Get(context.Background(), key(t))
		require.NoError(t, err)
		require.Nil(t, e)
	})

	t.Run("positive entry round trip", func(t *testing.T) {
		t.Parallel()
		c, now, _ := h.New(t)
		ctx := context.Background()
		k := key(t)
		want := &phantom.Entry{
			Active:  true,
			Claims:  json.RawMessage(`{"active":true,"scope":"read write","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},"x":"\u00e9\n"}`),
			JWT:     "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
			Expires: now().Add(time.Hour),
		}
		require.NoError(t, c.Set(ctx, k, want))
		got, err := c.Get(ctx, k)
		require.NoError(t, err)
		requireSame(t, want, got)
	})

	t.Run("negative entries round trip", func(t *testing.T) {
		t.Parallel()
		c, now, _ := h.New(t)
		ctx := context.Background()
		for _, want := range []*phantom.Entry{
			{Expires: now().Add(time.Hour)},
			{Refusal: phantom.ReasonWrongAudience, Expires: now().Add(time.Hour)},
		} {
			k := key(t)
			require.NoError(t, c.Set(ctx, k, want))
			got, err := c.Get(ctx, k)
			require.NoError(t, err)
			requireSame(t, want, got)
		}
	})

	t.Run("keys are independent", func(t *testing.T) {
		t.Parallel()
		c, now, _ := h.New(t)
		ctx := context.Background()
		keys := make([][32]byte, 5)
		for i := range keys {
			keys[i] = key(t)
			require.NoError(t, c.Set(ctx, keys[i], active(fmt.Sprint(i), now().Add(time.Hour))))
		}
		for i, k := range keys {
			got, err := c.Get(ctx, k)
			require.NoError(t, err)
			require.Equal(t, fmt.Sprint(i), got.JWT)
		}
		other := keys[0]
		other[31] ^= 1
		got, err := c.Get(ctx, other)
		require.NoError(t, err)
		require.Nil(t, got)
	})

	t.Run("overwrite", func(t *testing.T) {
		t.Parallel()
		c, now, _ := h.New(t)
		ctx := context.Background()
		k := key(t)
		require.NoError(t, c.Set(ctx, k, active("first", now().Add(time.Hour))))
		require.NoError(t, c.Set(ctx, k, &phantom.Entry{Expires: now().Add(time.Hour)}))
		got, err := c.Get(ctx, k)
		require.NoError(t, err)
		require.False(t, got.Active)
		require.Empty(t, got.JWT)
	})

	t.Run("expired entry is a miss", func(t *testing.T) {
		t.Parallel()
		c, now, advance := h.New(t)
		ctx := context.Background()
		short, long := key(t), key(t)
		require.NoError(t, c.Set(ctx, short, active("s", now().Add(300*time.Millisecond))))
		require.NoError(t, c.Set(ctx, long, active("l", now().Add(time.Hour))))
		got, err := c.Get(ctx, short)
		require.NoError(t, err)
		require.NotNil(t, got)
		advance(600 * time.Millisecond)
		got, err = c.Get(ctx, short)
		require.NoError(t, err)
		require.Nil(t, got, "an entry is never returned at or after its Expires")
		got, err = c.Get(ctx, long)
		require.NoError(t, err)
		require.NotNil(t, got)
	})

	t.Run("past expiry stores nothing", func(t *testing.T) {
		t.Parallel()
		c, now, _ := h.New(t)
		ctx := context.Background()
		for _, exp := range []time.Time{now(), now().Add(-time.Hour), {}} {
			k := key(t)
			require.NoError(t, c.Set(ctx, k, active("x", exp)))
			got, err := c.Get(ctx, k)
			require.NoError(t, err)
			require.Nil(t, got)
		}
	})

	t.Run("concurrent use", func(t *testing.T) {
		t.Parallel()
		c, now, _ := h.New(t)
		ctx := context.Background()
		k := key(t)
		var wg sync.WaitGroup
		errs := make(chan error, 16*8*2)
		for i := range 16 {
			wg.Go(func() {
				for j := range 8 {
					if err := c.Set(ctx, k, active(fmt.Sprint(i, j), now().Add(time.Hour))); err != nil {
						errs <- err
					}
					if e, err := c.Get(ctx, k); err != nil || e == nil {
						errs <- fmt.Errorf("get: %v %v", e, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	})
}
