package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/testpeer"
	"github.com/hardened-oauth/hardened/phantom"
	"github.com/hardened-oauth/hardened/phantom/internal/cachetest"
	"github.com/hardened-oauth/hardened/phantom/redisstore"
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
	cachetest.Run(t, cachetest.Harness{New: func(t *testing.T) (phantom.Cache, func() time.Time, func(time.Duration)) {
		// Redis keeps real time: advancing the clock means waiting.
		return &redisstore.Cache{Client: c, Prefix: fmt.Sprintf("test:%s:", t.Name())}, time.Now, time.Sleep
	}})
}

func TestSetPX(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	ctx := context.Background()
	s := &redisstore.Cache{Client: c, Prefix: "px-test:"}
	key := [32]byte{0xab}
	require.NoError(t, s.Set(ctx, key, &phantom.Entry{Active: true, Claims: []byte(`{"active":true}`), JWT: "a.b.c", Expires: time.Now().Add(90 * time.Second)}))
	name := "px-test:ab" + fmt.Sprintf("%062x", 0)
	ttl, err := c.PTTL(ctx, name).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 80*time.Second, "PX is the time left until Expires")
	require.LessOrEqual(t, ttl, 90*time.Second)
	v, err := c.Get(ctx, name).Result()
	require.NoError(t, err)
	require.NotContains(t, v, "px-test", "the value holds the entry only")

	d := &redisstore.Cache{Client: c}
	require.NoError(t, d.Set(ctx, key, &phantom.Entry{Expires: time.Now().Add(time.Minute)}))
	n, err := c.Exists(ctx, redisstore.DefaultPrefix+"ab"+fmt.Sprintf("%062x", 0)).Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
}

func TestCorruptEntries(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	ctx := context.Background()
	s := &redisstore.Cache{Client: c, Prefix: "corrupt-test:"}
	for i, v := range []string{
		"not json",
		`{"v":2,"a":false,"e":99999999999999}`,
		`{"v":1,"a":true,"e":99999999999999}`,
		`{"v":1,"a":false,"e":99999999999999,"A":true}`,
		`{"v":1,"a":false,"a":true,"e":99999999999999}`,
	} {
		key := [32]byte{byte(i)}
		require.NoError(t, c.Set(ctx, "corrupt-test:"+fmt.Sprintf("%02x%062x", i, 0), v, time.Minute).Err())
		e, err := s.Get(ctx, key)
		require.ErrorIs(t, err, redisstore.ErrRedis, v)
		require.Nil(t, e)
	}
	// An entry past its Expires is a miss even while Redis keeps it.
	key := [32]byte{0x77}
	require.NoError(t, c.Set(ctx, "corrupt-test:77"+fmt.Sprintf("%062x", 0), `{"v":1,"a":false,"e":1000}`, time.Minute).Err())
	e, err := s.Get(ctx, key)
	require.NoError(t, err)
	require.Nil(t, e)
}

func TestFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var none *redisstore.Cache = &redisstore.Cache{}
	_, err := none.Get(ctx, [32]byte{})
	require.ErrorIs(t, err, redisstore.ErrInvalidConfig)
	require.ErrorIs(t, none.Set(ctx, [32]byte{}, &phantom.Entry{Expires: time.Now().Add(time.Hour)}), redisstore.ErrInvalidConfig)
	_, err = redisstore.SharedSecret(ctx, nil, "x")
	require.ErrorIs(t, err, redisstore.ErrInvalidConfig)

	// Nobody listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	dead := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = dead.Close() })
	s := &redisstore.Cache{Client: dead}
	_, err = s.Get(ctx, [32]byte{})
	require.ErrorIs(t, err, redisstore.ErrRedis)
	require.ErrorIs(t, s.Set(ctx, [32]byte{}, &phantom.Entry{Expires: time.Now().Add(time.Hour)}), redisstore.ErrRedis)
	_, err = redisstore.SharedSecret(ctx, dead, "x")
	require.ErrorIs(t, err, redisstore.ErrRedis)
}

func TestSharedSecret(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	ctx := context.Background()
	a, err := redisstore.SharedSecret(ctx, c, "secret-test:nonce")
	require.NoError(t, err)
	require.Len(t, a, 32)
	b, err := redisstore.SharedSecret(ctx, c, "secret-test:nonce")
	require.NoError(t, err)
	require.Equal(t, a, b, "the second replica reads the first one's secret")
	other, err := redisstore.SharedSecret(ctx, c, "secret-test:other")
	require.NoError(t, err)
	require.NotEqual(t, a, other)
	require.NoError(t, c.Set(ctx, "secret-test:short", "c2hvcnQ", 0).Err())
	_, err = redisstore.SharedSecret(ctx, c, "secret-test:short")
	require.ErrorIs(t, err, redisstore.ErrRedis)
}
