package interop_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Peer locations, relative to this package's directory (go test's working
// directory).
const (
	peerScript    = "peer/server.mjs"
	peerModuleDir = "node_modules/oidc-provider"
	peerHost      = "127.0.0.1"
	accountID     = "alice"

	// readyTimeout bounds the start of all peers together.
	readyTimeout = 20 * time.Second
)

// Nonce modes of the DPoP feature (RFC 9449 §8), one peer each.
const (
	nonceOff      = "off"      // no nonceSecret: the peer never sends DPoP-Nonce
	nonceOptional = "optional" // nonceSecret, requireNonce false: DPoP-Nonce sent, not required
	nonceRequired = "required" // every proof must carry a fresh nonce
)

var nonceModes = []string{nonceOff, nonceOptional, nonceRequired}

// errPeerMissing means node or the npm packages are not installed.
var errPeerMissing = errors.New("node-oidc-provider not installed (run npm ci --prefix internal/interop)")

// findNode returns the node binary and checks that the pinned
// oidc-provider is installed next to this package.
func findNode() (node, version string, err error) {
	// Read the script so that go test's cache notices when it changes (the
	// test binary itself never opens it; node does).
	if _, err := os.ReadFile(peerScript); err != nil {
		return "", "", fmt.Errorf("%w: %w", errPeerMissing, err)
	}
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("%w: node not on PATH", errPeerMissing)
	}
	raw, err := os.ReadFile(filepath.Join(peerModuleDir, "package.json"))
	if err != nil {
		return "", "", fmt.Errorf("%w: %s missing", errPeerMissing, peerModuleDir)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return "", "", fmt.Errorf("%w: %s/package.json: %w", errPeerMissing, peerModuleDir, err)
	}
	if !strings.HasPrefix(pkg.Version, "9.") {
		return "", "", fmt.Errorf("%w: oidc-provider %s installed, 9.x expected", errPeerMissing, pkg.Version)
	}
	return node, pkg.Version, nil
}

// peerConfig is the JSON that peer/server.mjs reads (see its header).
type peerConfig struct {
	Host            string                    `json:"host"`
	Port            int                       `json:"port"`
	TLS             peerTLS                   `json:"tls"`
	ClientCA        string                    `json:"clientCA"`
	NonceMode       string                    `json:"nonceMode"`
	AccountID       string                    `json:"accountId"`
	Clients         []map[string]any          `json:"clients"`
	ResourceServers map[string]resourceServer `json:"resourceServers"`
	ProviderKeys    []providerKey             `json:"providerKeys"`
}

// providerKey is one of the peer's own private keys, as a PKCS #8 PEM file,
// with the JWK members to publish.
type providerKey struct {
	Path string `json:"path"`
	Kid  string `json:"kid"`
	Use  string `json:"use"`
	Alg  string `json:"alg,omitempty"`
}

type peerTLS struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// resourceServer is what getResourceServerInfo returns for one resource
// indicator (RFC 8707).
type resourceServer struct {
	Scope             string `json:"scope"`
	AccessTokenFormat string `json:"accessTokenFormat"` // "jwt" or "opaque"
}

// peer is one running node-oidc-provider process.
type peer struct {
	nonceMode string
	issuer    string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *logBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before done is closed
}

// startPeer starts node on the config and waits for its READY line.
func startPeer(ctx context.Context, node, dir string, cfg peerConfig) (*peer, error) {
	raw, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "peer-"+cfg.NonceMode+".json")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(node, peerScript, cfgPath)
	setProcessGroup(cmd)
	p := &peer{nonceMode: cfg.NonceMode, cmd: cmd, stderr: &logBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	// The peer exits when this pipe closes, even if this process is killed.
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	// Our own pipe rather than StdoutPipe: Wait may then run while the
	// reader still drains it.
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = stdoutW
	err = cmd.Start()
	stdoutW.Close()
	if err != nil {
		stdout.Close()
		return nil, err
	}
	ready := make(chan string, 1)
	go func() {
		defer stdout.Close()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "READY ") {
				select {
				case ready <- strings.TrimPrefix(line, "READY "):
				default:
				}
			} else {
				fmt.Fprintf(p.stderr, "stdout: %s\n", line)
			}
		}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	select {
	case port := <-ready:
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			p.stop()
			return nil, fmt.Errorf("peer %s: bad READY line %q", cfg.NonceMode, port)
		}
		p.issuer = "https://" + net.JoinHostPort(cfg.Host, port)
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("peer %s exited before READY (%v); stderr:\n%s", cfg.NonceMode, p.err, p.stderr.since(0))
	case <-ctx.Done():
		p.stop()
		return nil, fmt.Errorf("peer %s not READY: %w; stderr:\n%s", cfg.NonceMode, ctx.Err(), p.stderr.since(0))
	}
}

// stop ends the peer: closing stdin asks it to exit; the process group is
// killed if it has not within two seconds.
func (p *peer) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
		return
	case <-time.After(2 * time.Second):
	}
	killProcessGroup(p.cmd)
	<-p.done
}

// logOnFailure prints, if t fails, what the peer wrote to stderr while t
// ran (its provider error events), so a failure shows the peer's reason.
// Peers are shared by parallel tests, so other tests' lines may be there too.
func (p *peer) logOnFailure(t *testing.T) {
	t.Helper()
	from := p.stderr.len()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("peer (nonce %s, %s) stderr during this test:\n%s", p.nonceMode, p.issuer, p.stderr.since(from))
		}
	})
}

// logBuffer collects a peer's stderr, safe for concurrent use and bounded.
type logBuffer struct {
	mu      sync.Mutex
	b       []byte
	dropped int // bytes dropped from the front
}

const maxPeerLog = 4 << 20

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	if over := len(l.b) - maxPeerLog; over > 0 {
		l.b = append(l.b[:0], l.b[over:]...)
		l.dropped += over
	}
	return len(p), nil
}

func (l *logBuffer) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped + len(l.b)
}

func (l *logBuffer) since(off int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	off -= l.dropped
	if off < 0 {
		off = 0
	}
	return string(l.b[off:])
}

// handshakeTimeout is generous: CI machines run the race detector on two
// cores, often beside other builds.
const handshakeTimeout = 20 * time.Second

// transport returns a TLS transport that trusts the test CA. Without cert
// it is the one transport shared by all tests, so that connections are
// reused rather than each call paying a handshake; with cert it is a new
// transport that presents cert. The client side of mutual TLS under test is
// mtlsbound.Client, not this.
func (e *testEnv) transport(cert *tls.Certificate) *http.Transport {
	if cert == nil {
		return e.plain
	}
	return newTransport(e.pki, cert)
}

func newTransport(p *testPKI, cert *tls.Certificate) *http.Transport {
	tlsConf := &tls.Config{RootCAs: p.roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		tlsConf.Certificates = []tls.Certificate{*cert}
	}
	return &http.Transport{
		TLSClientConfig:     tlsConf,
		TLSHandshakeTimeout: handshakeTimeout,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     30 * time.Second,
	}
}

// httpClient returns a client over e.transport(cert). It does not follow
// redirects.
func (e *testEnv) httpClient(cert *tls.Certificate) *http.Client {
	return &http.Client{
		Transport: e.transport(cert),
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
