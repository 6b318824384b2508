package testpeer

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvRequirePeers is the environment variable that, set to "1", makes a
// missing peer a failure instead of a skip. CI=true does the same.
const EnvRequirePeers = "HARDENED_REQUIRE_PEERS"

// Bounds of every wait.
const (
	// ReadyTimeout bounds the wait for a started peer to accept
	// connections.
	ReadyTimeout = 10 * time.Second
	// StopTimeout bounds the wait for a peer to exit after its stop
	// signal; past it the process group is killed.
	StopTimeout = 5 * time.Second
	// attempts is how many free ports are tried, in case another process
	// takes the probed port before the peer binds it.
	attempts = 5
)

// ErrNotInstalled means the peer's binary is not installed.
var ErrNotInstalled = errors.New("testpeer: peer not installed")

// Required reports whether a missing peer is a failure:
// HARDENED_REQUIRE_PEERS=1 or CI=true.
func Required() bool {
	return os.Getenv(EnvRequirePeers) == "1" || os.Getenv("CI") == "true"
}

// SkipMessage is the one-line reason a test without peer (e.g.
// "redis-server") is skipped; it names `make peers`.
func SkipMessage(peer string) string {
	return strings.ToUpper(strings.TrimSuffix(peer, "-server")) + " SKIPPED: " + peer +
		" not installed (run `make peers`; " + EnvRequirePeers + "=1 or CI=true makes this a failure)"
}

// Banner is SkipMessage framed to be seen in a long test log.
func Banner(peer string) string {
	line := strings.Repeat("#", 72)
	return "\n" + line + "\n##  " + SkipMessage(peer) + "\n" + line + "\n"
}

// Skip ends tb because peer is missing: a skip with the banner on stderr,
// or a failure when [Required].
func Skip(tb testing.TB, peer string) {
	tb.Helper()
	if Required() {
		tb.Fatal(SkipMessage(peer) + "; peers are required here")
	}
	fmt.Fprint(os.Stderr, Banner(peer))
	tb.Skip(SkipMessage(peer))
}

// lookPath finds name on PATH or in the extra directories (sbin is often
// not on a user's PATH); a miss wraps [ErrNotInstalled].
func lookPath(name string, extra ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range extra {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNotInstalled, name)
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// process is a started peer in its own process group.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func start(cmd *exec.Cmd) (*process, error) {
	setGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends the peer's stop signal to its process group, waits at most
// StopTimeout, then kills the group and waits for the exit.
func (p *process) stop(graceful stopSignal) {
	signalGroup(p.cmd, graceful)
	select {
	case <-p.done:
		return
	case <-time.After(StopTimeout):
	}
	killGroup(p.cmd)
	<-p.done
}

// waitReady polls ready until it succeeds, the process exits, or
// ReadyTimeout passes.
func (p *process) waitReady(ready func() error) error {
	deadline := time.Now().Add(ReadyTimeout)
	err := errors.New("not started")
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("exited: %w", err)
		}
		if err = ready(); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %w", ReadyTimeout, err)
}

// StartRedis starts a throwaway redis-server on a free loopback port, with
// persistence off and its working directory in a fresh temporary
// directory, for a TestMain: it returns the address and the function that
// stops the server and removes the directory. A missing binary is an
// error wrapping [ErrNotInstalled]; see [RedisMain].
func StartRedis() (addr string, stop func(), err error) {
	bin, err := lookPath("redis-server", "/usr/bin", "/usr/local/bin")
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "testpeer-redis-")
	if err != nil {
		return "", nil, err
	}
	var last error
	for range attempts {
		port, err := freePort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return "", nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		p, err := start(exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
			"--dir", dir, "--loglevel", "warning"))
		if err != nil {
			_ = os.RemoveAll(dir)
			return "", nil, err
		}
		if last = p.waitReady(func() error { return pingRedis(addr) }); last == nil {
			return addr, func() { p.stop(stopTerm); _ = os.RemoveAll(dir) }, nil
		}
		p.stop(stopTerm)
	}
	_ = os.RemoveAll(dir)
	return "", nil, fmt.Errorf("testpeer: redis-server did not start: %w", last)
}

// pingRedis sends a RESP PING and expects +PONG, within one second.
func pingRedis(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %.40q", line)
	}
	return nil
}

// Redis starts a redis-server for tb (see [StartRedis]), stopped when tb
// ends, and returns its address. A missing binary is [Skip]; another
// start failure fails tb.
func Redis(tb testing.TB) string {
	tb.Helper()
	addr, stop, err := StartRedis()
	if errors.Is(err, ErrNotInstalled) {
		Skip(tb, "redis-server")
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return addr
}

// RedisMain is a TestMain body: it starts a redis-server, stores its
// address in *addr, runs m and stops the server; it returns the exit
// code. Without redis-server it prints the banner and runs the tests with
// *addr empty (each calls [NeedRedis] and is skipped), or returns 1 at
// once when peers are [Required].
//
//	func TestMain(m *testing.M) { os.Exit(testpeer.RedisMain(m, &redisAddr)) }
func RedisMain(m *testing.M, addr *string) int {
	a, stop, err := StartRedis()
	switch {
	case errors.Is(err, ErrNotInstalled):
		fmt.Fprint(os.Stderr, Banner("redis-server"))
		if Required() {
			return 1
		}
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	default:
		*addr = a
		defer stop()
	}
	return m.Run()
}

// NeedRedis skips tb (see [Skip]) when addr, set by [RedisMain], is
// empty.
func NeedRedis(tb testing.TB, addr string) {
	tb.Helper()
	if addr == "" {
		Skip(tb, "redis-server")
	}
}

// Nginx starts nginx for tb, stopped when tb ends: conf renders the
// configuration for a free loopback port (it must listen on
// 127.0.0.1:port, run in the foreground, and keep its pid, logs and
// temporary paths in dir, a fresh directory of tb). Nginx returns
// "127.0.0.1:port" once the port accepts connections; on a failure of tb
// the error log is logged. A missing nginx is [Skip].
func Nginx(tb testing.TB, dir string, conf func(port int) string) string {
	tb.Helper()
	bin, err := lookPath("nginx", "/usr/sbin", "/usr/local/sbin")
	if err != nil {
		Skip(tb, "nginx")
	}
	errLog := filepath.Join(dir, "error.log")
	for attempt := range attempts {
		port, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		confPath := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(confPath, []byte(conf(port)), 0o600); err != nil {
			tb.Fatal(err)
		}
		var stderr strings.Builder
		cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-e", errLog)
		cmd.Stderr = &stderr // read only after the exit
		p, err := start(cmd)
		if err != nil {
			tb.Fatal(err)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err = p.waitReady(func() error {
			c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			if err == nil {
				_ = c.Close()
			}
			return err
		})
		if err == nil {
			tb.Cleanup(func() {
				p.stop(stopQuit)
				if tb.Failed() {
					log, _ := os.ReadFile(errLog)
					tb.Logf("nginx error log:\n%s%s", log, stderr.String())
				}
			})
			return addr
		}
		p.stop(stopQuit)
		log, _ := os.ReadFile(errLog)
		tb.Logf("nginx did not start (attempt %d): %v %s %s", attempt+1, err, stderr.String(), log)
	}
	tb.Fatal("testpeer: nginx did not start")
	return ""
}
