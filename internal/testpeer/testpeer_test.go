package testpeer

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSkipMessageNamesMakePeers(t *testing.T) {
	t.Parallel()
	for _, peer := range []string{"redis-server", "nginx"} {
		require.Contains(t, SkipMessage(peer), "make peers")
		require.Contains(t, Banner(peer), SkipMessage(peer))
	}
	require.True(t, strings.HasPrefix(SkipMessage("redis-server"), "REDIS SKIPPED"))
}

func TestRequired(t *testing.T) {
	tests := []struct {
		name, require, ci string
		want              bool
	}{
		{name: "neither", want: false},
		{name: "HARDENED_REQUIRE_PEERS=1", require: "1", want: true},
		{name: "CI=true", ci: "true", want: true},
		{name: "HARDENED_REQUIRE_PEERS=0", require: "0", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvRequirePeers, tc.require)
			t.Setenv("CI", tc.ci)
			require.Equal(t, tc.want, Required())
		})
	}
}

func TestLookPathMissing(t *testing.T) {
	t.Parallel()
	_, err := lookPath("testpeer-no-such-binary", t.TempDir())
	require.ErrorIs(t, err, ErrNotInstalled)
}

func TestPingRedisRefusesOtherAnswers(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("-ERR nope\r\n"))
			_ = c.Close()
		}
	}()
	require.Error(t, pingRedis(l.Addr().String()))
}

func TestRedis(t *testing.T) {
	t.Parallel()
	addr := Redis(t)
	require.NoError(t, pingRedis(addr))
}

func TestStartRedisStops(t *testing.T) {
	t.Parallel()
	addr, stop, err := StartRedis()
	if errors.Is(err, ErrNotInstalled) {
		Skip(t, "redis-server")
	}
	require.NoError(t, err)
	require.NoError(t, pingRedis(addr))
	stop()
	require.Error(t, pingRedis(addr), "stopped")
}

func TestNginx(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	addr := Nginx(t, dir, func(port int) string {
		return strings.NewReplacer("{{dir}}", dir, "{{port}}", strconv.Itoa(port)).Replace(`daemon off;
master_process off;
pid {{dir}}/nginx.pid;
error_log {{dir}}/error.log warn;
events { worker_connections 16; }
http {
  access_log off;
  client_body_temp_path {{dir}}/body;
  proxy_temp_path {{dir}}/proxy;
  fastcgi_temp_path {{dir}}/fastcgi;
  uwsgi_temp_path {{dir}}/uwsgi;
  scgi_temp_path {{dir}}/scgi;
  server { listen 127.0.0.1:{{port}}; return 204; }
}
`)
	})
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_, err = os.Stat(filepath.Join(dir, "nginx.conf"))
	require.NoError(t, err)
}
