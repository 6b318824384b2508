package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/dpop/internal/storetest"
	"github.com/hardened-oauth/hardened/dpop/redisstore"
	"github.com/hardened-oauth/hardened/internal/testpeer"
)

// redisAddr is the address of the redis-server started by TestMain.
var redisAddr string

// TestMain runs the tests against one throwaway redis-server
// (internal/testpeer): without one they are skipped loudly, naming
// `make peers`, or fail when peers are required.
func TestMain(m *testing.M) { os.Exit(testpeer.RedisMain(m, &redisAddr)) }

func requireRedis(t *testing.T) *redis.Client {
	t.Helper()
	testpeer.NeedRedis(t, redisAddr)
	c := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestContract(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	storetest.Run(t, storetest.Harness{New: func(t *testing.T) (storetest.Store, func() time.Time, func(time.Duration)) {
		s := &redisstore.Store{Client: c, Prefix: fmt.Sprintf("test:%s:", t.Name())}
		// Redis keeps real time: advancing the clock means waiting.
		return s, time.Now, func(d time.Duration) { time.Sleep(d) }
	}})
}

func TestSetNXPX(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	ctx := context.Background()
	s := &redisstore.Store{Client: c, Prefix: "ttl-test:"}
	fresh, err := s.CheckAndStore(ctx, "k", time.Now(), time.Now().Add(90*time.Second))
	require.NoError(t, err)
	require.True(t, fresh)

	v, err := c.Get(ctx, "ttl-test:k").Result()
	require.NoError(t, err)
	require.Equal(t, "1", v)
	ttl, err := c.PTTL(ctx, "ttl-test:k").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 80*time.Second, "PX is the time left until expiry")
	require.LessOrEqual(t, ttl, 90*time.Second)

	// The default prefix.
	d := &redisstore.Store{Client: c}
	fresh, err = d.CheckAndStore(ctx, "default-prefix-test", time.Now(), time.Now().Add(time.Minute))
	require.NoError(t, err)
	require.True(t, fresh)
	n, err := c.Exists(ctx, redisstore.DefaultPrefix+"default-prefix-test").Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

func TestFailClosed(t *testing.T) {
	t.Parallel()
	// A server that is not there: the error wraps dpop.ErrReplayStore.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	s := &redisstore.Store{Client: c}
	fresh, err := s.CheckAndStore(context.Background(), "k", time.Now(), time.Now().Add(time.Minute))
	require.ErrorIs(t, err, dpop.ErrReplayStore)
	require.False(t, fresh)

	var nilClient redisstore.Store
	fresh, err = nilClient.CheckAndStore(context.Background(), "k", time.Now(), time.Now().Add(time.Minute))
	require.ErrorIs(t, err, dpop.ErrInvalidConfig)
	require.ErrorIs(t, err, dpop.ErrReplayStore)
	var ce *dpop.ConfigError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "Store.Client", ce.Field)
	require.False(t, fresh)
}

// TestVerifierWithRedis shares one Redis between two verifiers, as two
// replicas would: a proof accepted by one is a replay for the other.
func TestVerifierWithRedis(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	key, err := dpop.GenerateKey()
	require.NoError(t, err)
	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	require.NoError(t, err)
	store := &redisstore.Store{Client: c, Prefix: "replicas:"}
	a := &dpop.Verifier{BaseURL: "https://as.example", Replay: store}
	b := &dpop.Verifier{BaseURL: "https://as.example", Replay: store}
	proof, err := p.Proof("POST", "https://as.example/token", dpop.ProofOptions{})
	require.NoError(t, err)
	r := httptest.NewRequest("POST", "/token", nil)
	r.Header.Set("DPoP", proof)
	got, err := a.VerifyProof(r)
	require.NoError(t, err)
	require.Equal(t, p.JKT(), got.JKT)
	_, err = b.VerifyProof(r)
	require.ErrorIs(t, err, dpop.ErrReplay)
	require.ErrorIs(t, err, dpop.ErrInvalidProof)
}
