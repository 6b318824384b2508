package phantom_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/hardened-oauth/hardened/phantom"
	"github.com/hardened-oauth/hardened/phantom/internal/cachetest"
)

func TestMemoryCacheContract(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, cachetest.Harness{New: func(*testing.T) (phantom.Cache, func() time.Time, func(time.Duration)) {
		var now atomic.Int64
		now.Store(time.Now().UnixNano())
		clock := func() time.Time { return time.Unix(0, now.Load()) }
		return &phantom.MemoryCache{Now: clock}, clock, func(d time.Duration) { now.Add(int64(d)) }
	}})
}
