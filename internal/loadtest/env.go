package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// run holds everything one `make load` starts.
type run struct {
	gatewayBin string
	duration   time.Duration
	conns      int
	faultLen   time.Duration
	nginxBin   string

	dir      string
	as       *authserver.Default
	rootsPEM string
	up       *upstream
	upURL    string
	fault    *faultProxy
	procs    []*proc
	closers  []func()

	bearerHit string   // one Bearer token (cache hits)
	bearers   []string // distinct Bearer tokens (cache misses)
	dpopTok   string   // a DPoP-bound token
	dpopKey   *dpop.Proofer

	lines      []string // the summary
	violations []string
}

func (r *run) logf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	r.lines = append(r.lines, s)
	fmt.Println("load:", s)
}

func (r *run) violate(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	r.violations = append(r.violations, s)
	fmt.Println("load: VIOLATION:", s)
}

func (r *run) summary(w io.Writer) {
	fmt.Fprintln(w, "==== make load: summary ====")
	for _, l := range r.lines {
		fmt.Fprintln(w, l)
	}
	if len(r.violations) == 0 {
		fmt.Fprintln(w, "violations: none")
	}
	for _, v := range r.violations {
		fmt.Fprintln(w, "VIOLATION:", v)
	}
}

// cleanup stops every process (its whole group) and server, in reverse.
func (r *run) cleanup() {
	for i := len(r.procs) - 1; i >= 0; i-- {
		r.procs[i].stop()
	}
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
	if r.dir != "" {
		_ = os.RemoveAll(r.dir)
	}
}

// proc is a child process in its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

func (r *run) start(name string, stdout io.Writer, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if stdout == nil {
		stdout = io.Discard
	}
	cmd.Stdout = stdout
	logf, err := os.Create(filepath.Join(r.dir, name+".stderr"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(p.done) }()
	r.procs = append(r.procs, p)
	return p, nil
}

// stop sends SIGTERM to the group, then SIGKILL after 5 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// kill is SIGKILL to the group, at once.
func (p *proc) kill() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// freeAddr returns a loopback address nobody listens on (yet).
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListen waits until addr accepts connections, at most 10 s.
func waitListen(ctx context.Context, p *proc, addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if p != nil {
			select {
			case <-p.done:
				return fmt.Errorf("%s exited before listening on %s", p.name, addr)
			default:
			}
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after 10 s", addr)
}

// setup starts the authorization server, the upstream and the fault
// proxy, and issues the tokens.
func (r *run) setup(ctx context.Context) error {
	var err error
	if r.dir, err = os.MkdirTemp("", "hardened-load-"); err != nil {
		return err
	}
	if r.as, err = authserver.StartDefault(); err != nil {
		return err
	}
	r.closers = append(r.closers, r.as.Close)
	r.rootsPEM = filepath.Join(r.dir, "roots.pem")
	ca := r.as.Server.PKI().CA()
	if err := os.WriteFile(r.rootsPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600); err != nil {
		return err
	}
	r.up = &upstream{key: r.as.Server.PublicKey()}
	if r.upURL, err = r.serve(r.up, nil); err != nil {
		return err
	}
	cert, err := r.as.Server.PKI().IssueServerCertificate("127.0.0.1")
	if err != nil {
		return err
	}
	r.fault = &faultProxy{target: r.as.Server.Endpoints().Introspection, client: r.as.HTTPClient, cert: cert}
	if err := r.fault.listen(""); err != nil {
		return err
	}
	r.closers = append(r.closers, r.fault.kill)

	t0 := time.Now()
	toks, err := r.issueBearers(ctx, 1+8000)
	if err != nil {
		return err
	}
	r.bearerHit, r.bearers = toks[0], toks[1:]
	if r.dpopTok, r.dpopKey, err = r.issueDPoP(ctx); err != nil {
		return err
	}
	r.logf("setup: authorization server %s, %d Bearer tokens and 1 DPoP-bound token issued in %s", r.as.Issuer, len(toks), time.Since(t0).Round(time.Millisecond))
	return nil
}

// serve serves h on a new loopback listener (TLS when cert is set).
func (r *run) serve(h http.Handler, cert *tls.Certificate) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if cert != nil {
		scheme = "https"
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
		go func() { _ = srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { _ = srv.Serve(ln) }()
	}
	r.closers = append(r.closers, func() { _ = srv.Close() })
	return scheme + "://" + ln.Addr().String(), nil
}

// issueBearers gets n unbound tokens with client_credentials (the
// secret client), four requests at a time.
func (r *run) issueBearers(ctx context.Context, n int) ([]string, error) {
	toks := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				tok, err := r.token(ctx, r.as.HTTPClient)
				if err != nil {
					errs <- err
					return
				}
				toks[i] = tok
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	return toks, nil
}

// api is the resource (RFC 8707) the gateways protect: the tokens are for
// it, and the gateways refuse tokens for another audience.
const api = "https://api.loadtest.example"

func (r *run) token(ctx context.Context, hc *http.Client) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {api}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.as.Server.Endpoints().Token, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(form.Encode())), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(r.as.Secret.ID), url.QueryEscape(r.as.Secret.Secret))
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tr) != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("token endpoint: status %d", resp.StatusCode)
	}
	return tr.AccessToken, nil
}

func (r *run) issueDPoP(ctx context.Context) (string, *dpop.Proofer, error) {
	key, err := dpop.GenerateKey()
	if err != nil {
		return "", nil, err
	}
	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	if err != nil {
		return "", nil, err
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &dpop.Transport{Proofer: p, Base: r.as.HTTPClient.Transport}}
	tok, err := r.token(ctx, hc)
	return tok, p, err
}

// upstream is the API behind the gateways. On /open/ it answers without
// looking (the plain proxies' path); everywhere else it verifies the
// forwarded JWT (the authorization server's RFC 9701 response) and counts
// what reached it unverified. Verified JWTs are remembered, so that the
// cache-hit runs do not measure the upstream's ECDSA.
type upstream struct {
	key        any
	verified   sync.Map // JWT string → struct{}
	nVerified  atomic.Int64
	ok         atomic.Int64
	unverified atomic.Int64
	open       atomic.Int64
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/open/") {
		u.open.Add(1)
		_, _ = io.WriteString(w, "ok")
		return
	}
	jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !u.check(jwt) || r.Header.Get("DPoP") != "" {
		u.unverified.Add(1)
		http.Error(w, "unverified", http.StatusUnauthorized)
		return
	}
	u.ok.Add(1)
	_, _ = io.WriteString(w, "ok")
}

func (u *upstream) check(jwt string) bool {
	if _, ok := u.verified.Load(jwt); ok {
		return true
	}
	j, err := jose.ParseCompact(jwt)
	if err != nil || j.Verify(u.key, []string{jose.ES256}) != nil || j.Header.Typ != "token-introspection+jwt" {
		return false
	}
	var c struct {
		Intro struct {
			Active bool `json:"active"`
		} `json:"token_introspection"`
	}
	if json.Unmarshal(j.Payload, &c) != nil || !c.Intro.Active {
		return false
	}
	if u.nVerified.Add(1) < 200_000 { // bounded
		u.verified.Store(jwt, struct{}{})
	}
	return true
}

// Fault modes of the introspection endpoint.
const (
	modeOK      = "ok"
	modeDown    = "killed (connection refused)"
	modeSlow    = "slow (7 s, past the 5 s deadline)"
	mode500     = "500"
	modeGarbage = "200 with garbage"
)

// faultProxy stands in front of the authorization server's introspection
// endpoint (HTTPS, a certificate of the server's PKI) and misbehaves on
// command.
type faultProxy struct {
	target string
	client *http.Client
	cert   tls.Certificate

	mu    sync.Mutex
	addr  string
	srv   *http.Server
	mode  atomic.Value // string
	calls atomic.Int64
}

func (f *faultProxy) url() string { return "https://" + f.addr + "/introspect" }

// listen starts serving on addr ("" picks a port, later restarts reuse it).
func (f *faultProxy) listen(addr string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger a moment after a kill
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	f.addr = ln.Addr().String()
	f.mode.Store(modeOK)
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{f.cert}, MinVersion: tls.VersionTLS12}}
	srv := f.srv
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return nil
}

// kill closes the listener and every connection: connection refused.
func (f *faultProxy) kill() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		_ = f.srv.Close()
		f.srv = nil
	}
}

func (f *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	switch f.mode.Load().(string) {
	case modeSlow:
		select {
		case <-r.Context().Done():
		case <-time.After(7 * time.Second):
		}
		http.Error(w, "too late", http.StatusServiceUnavailable)
		return
	case mode500:
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	case modeGarbage:
		w.Header().Set("Content-Type", "application/token-introspection+jwt")
		_, _ = io.WriteString(w, "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln\x00\xff garbage")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, f.target, bytes.NewReader(body))
	if err != nil {
		http.Error(w, "bad", http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Authorization", "Content-Type", "Accept"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "Cache-Control"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}

// procStatus reads VmRSS (kB) and Threads of a process.
func procStatus(pid int) (rssKB, threads int) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rssKB, _ = strconv.Atoi(f[1])
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		}
	}
	return rssKB, threads
}
