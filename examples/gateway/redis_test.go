package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/dpop"
)

// startRedis runs a throwaway redis-server on loopback for the test.
// Without one the test is skipped loudly, or fails when
// HARDENED_REQUIRE_PEERS=1.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "REDIS SKIPPED: redis-server not installed (run `make peers`)"
		if os.Getenv("HARDENED_REQUIRE_PEERS") == "1" {
			t.Fatal(msg + "; HARDENED_REQUIRE_PEERS=1 makes this a failure")
		}
		fmt.Fprintln(os.Stderr, "\n"+strings.Repeat("#", 64)+"\n##  "+msg+"\n"+strings.Repeat("#", 64))
		t.Skip(msg)
	}
	for range 5 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir(), "--loglevel", "warning")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		require.NoError(t, cmd.Start())
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		c := redis.NewClient(&redis.Options{Addr: addr})
		for i := 0; i < 100; i++ {
			select {
			case <-done:
				i = 100
				continue
			default:
			}
			if c.Ping(context.Background()).Err() == nil {
				_ = c.Close()
				t.Cleanup(func() {
					_ = cmd.Process.Signal(syscall.SIGTERM)
					select {
					case <-done:
					case <-time.After(5 * time.Second):
						_ = cmd.Process.Kill()
					}
				})
				return addr
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Close()
		_ = cmd.Process.Kill()
		<-done
	}
	t.Fatal("redis-server did not start")
	return ""
}

// TestReplicasShareRedis runs two gateways with the same -redis and
// -external-url: a nonce one issues is accepted by the other, a proof one
// accepted is refused by the other, and in -mode json both sign with the
// same key.
func TestReplicasShareRedis(t *testing.T) {
	t.Parallel()
	addr := startRedis(t)
	p := newPeer(t)
	up := &recorder{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	const external = "https://api.example"
	args := []string{"-listen", "127.0.0.1:0", "-upstream", upSrv.URL, "-issuer", p.as.Issuer(), "-client-id", "gateway",
		"-client-secret", "gateway-secret", "-ca", p.caFile, "-mode", "json", "-redis", addr, "-external-url", external}
	a := start(t, args, io.Discard)
	b := start(t, args, io.Discard)

	key, err := dpop.GenerateKey()
	require.NoError(t, err)
	proofer, err := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	require.NoError(t, err)
	tok := p.dpopToken(t, proofer)
	send := func(gw, nonce, proof string) *http.Response {
		t.Helper()
		if proof == "" {
			v, err := proofer.Proof("GET", external+"/orders", dpop.ProofOptions{AccessToken: tok, Nonce: nonce})
			require.NoError(t, err)
			proof = v
		}
		req, err := http.NewRequest("GET", gw+"/orders", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "DPoP "+tok)
		req.Header.Set("DPoP", proof)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}

	resp := send(a, "", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	nonce := resp.Header.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	proof, err := proofer.Proof("GET", external+"/orders", dpop.ProofOptions{AccessToken: tok, Nonce: nonce})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, send(b, "", proof).StatusCode, "A's nonce accepted at B")
	resp = send(a, "", proof)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the proof B accepted is refused at A")
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), "invalid_dpop_proof")

	keys := func(gw string) string {
		resp, err := http.Get(gw + jwksPath)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(body)
	}
	require.Equal(t, keys(a), keys(b), "replicas sign with one key")
}
