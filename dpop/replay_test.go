package dpop

import (
	"context"
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

func TestMemoryStoreFull(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: fixedNow}
	s := &MemoryStore{MaxEntries: 64, Now: clk.Now}
	ctx := context.Background()
	stored, full := 0, 0
	for i := range 1000 {
		fresh, err := s.CheckAndStore(ctx, "k"+strconv.Itoa(i), clk.Now().Add(time.Minute))
		if err != nil {
			require.ErrorIs(t, err, ErrStoreFull)
			require.ErrorIs(t, err, ErrReplayStore)
			require.False(t, fresh)
			full++
			continue
		}
		require.True(t, fresh)
		stored++
	}
	require.LessOrEqual(t, s.Len(), 64, "bounded")
	require.Equal(t, s.Len(), stored)
	require.Positive(t, full, "fails closed when full of unexpired entries")

	// Stored keys are still refused as replays while full.
	for i := range 1000 {
		fresh, err := s.CheckAndStore(ctx, "k"+strconv.Itoa(i), clk.Now().Add(time.Minute))
		if err == nil {
			require.False(t, fresh)
		}
	}

	// Once the entries expire, the sweep frees room.
	clk.Advance(2 * time.Minute)
	fresh, err := s.CheckAndStore(ctx, "new", clk.Now().Add(time.Minute))
	require.NoError(t, err)
	require.True(t, fresh)
	require.Less(t, s.Len(), 64)
}

func TestMemoryStoreZeroValue(t *testing.T) {
	t.Parallel()
	var s MemoryStore
	fresh, err := s.CheckAndStore(context.Background(), "k", time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = s.CheckAndStore(context.Background(), "k", time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.False(t, fresh)
	require.Equal(t, 1, s.Len())
}
