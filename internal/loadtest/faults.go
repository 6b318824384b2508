package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	dpopredis "github.com/hardened-oauth/hardened/dpop/redisstore"
	"github.com/hardened-oauth/hardened/phantom"
	"github.com/hardened-oauth/hardened/phantom/redisstore"
)

// Tolerances of the after-run check, against the level measured after
// the warm-up: goroutines may exceed it by this many (timers, a
// connection still closing), the live heap by this factor plus slack.
const (
	goroutineSlack = 10
	heapFactor     = 1.5
	heapSlack      = 4 << 20
)

// traffic are the request kinds sent during the fault phases.
type traffic string

const (
	kindHit   traffic = "Bearer cache hit"
	kindFresh traffic = "Bearer never-seen token"
	kindDPoP  traffic = "DPoP cache hit"
)

// tally counts outcomes per phase and kind.
type tally struct {
	mu     sync.Mutex
	phase  atomic.Int64 // index of the phase in phases; odd = settling
	phases []string
	counts map[string]map[traffic]map[int]int
}

func (t *tally) add(phase int64, k traffic, code int) {
	if phase%2 == 1 || phase/2 >= int64(len(t.phases)) { // settling between phases
		return
	}
	name := t.phases[phase/2]
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts[name] == nil {
		t.counts[name] = map[traffic]map[int]int{}
	}
	if t.counts[name][k] == nil {
		t.counts[name][k] = map[int]int{}
	}
	t.counts[name][k][code]++
}

func (t *tally) get(phase string, k traffic) map[int]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[int]int{}
	for c, n := range t.counts[phase][k] {
		out[c] = n
	}
	return out
}

func codesString(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "client error"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// redisServer is a redis-server process on a fixed loopback port.
type redisServer struct {
	r    *run
	addr string
	p    *proc
}

func (s *redisServer) start(ctx context.Context) error {
	port := s.addr[strings.LastIndexByte(s.addr, ':')+1:]
	p, err := s.r.start("redis", nil, "redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--protected-mode", "yes")
	if err != nil {
		return err
	}
	s.p = p
	return waitListen(ctx, p, s.addr)
}

// faults is phase 2: the gateway in-process (the configuration of
// examples/gateway with -redis, so that its goroutines and heap can be
// read), load from three kinds of clients, and the faults.
func (r *run) faults(ctx context.Context) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	rs := &redisServer{r: r, addr: addr}
	if err := rs.start(ctx); err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	defer rdb.Close()

	// The gateway, configured as examples/gateway configures it.
	roots := r.as.Server.PKI().Roots()
	base := &http.Transport{
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	meta, err := (&hardened.Discovery{HTTPClient: &http.Client{Transport: base, Timeout: 10 * time.Second}}).Discover(ctx, r.as.Issuer)
	if err != nil {
		return err
	}
	nonce, err := redisstore.SharedSecret(ctx, rdb, "phantom:dpop-nonce-secret")
	if err != nil {
		return err
	}
	ln, err := freeAddr()
	if err != nil {
		return err
	}
	gwURL := "http://" + ln
	g := &phantom.Gateway{
		Mode: phantom.ModeIntrospectionJWT, ClientID: r.as.ResourceServer.ID, Audience: api,
		Issuer: meta.Issuer, JWKSURL: meta.JWKSURI, IntrospectionURL: r.fault.url(),
		Cache:                &redisstore.Cache{Client: rdb},
		DPoP:                 &dpop.Verifier{BaseURL: gwURL, Nonces: &dpop.Nonces{Secrets: [][]byte{nonce}}, Replay: &dpopredis.Store{Client: rdb}},
		InsecureAllowUnbound: true,
		Logger:               nil,
	}
	g.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: &hardened.AuthTransport{
		Base: base, Auth: hardened.ClientSecretBasic{ClientID: r.as.ResourceServer.ID, ClientSecret: r.as.ResourceServer.Secret},
		Endpoints: []string{g.IntrospectionURL},
	}}
	if err := g.Validate(ctx); err != nil {
		return err
	}
	target, _ := url.Parse(r.upURL)
	upT := &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 10 * time.Second}
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
		Transport: upT, ErrorLog: log.New(io.Discard, "", 0),
	}
	srv := &http.Server{Addr: ln, Handler: g.Wrap(proxy), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ListenAndServe() }()
	defer srv.Close()
	if err := waitListen(ctx, nil, ln); err != nil {
		return err
	}

	// Clients.
	ct := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: 15 * time.Second}
	bearerC := &http.Client{Transport: ct, Timeout: 15 * time.Second}
	dpopC := &http.Client{Transport: &dpop.Transport{Proofer: r.dpopKey, Base: ct}, Timeout: 15 * time.Second}
	send := func(ctx context.Context, hc *http.Client, auth string) int {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, gwURL+"/api/fault", nil)
		if err != nil {
			return 0
		}
		req.Header.Set("Authorization", auth)
		resp, err := hc.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		return resp.StatusCode
	}
	// Warm-up: the cached tokens, then the baseline of goroutines and heap.
	for range 20 {
		if c := send(ctx, bearerC, "Bearer "+r.bearerHit); c != 200 {
			return fmt.Errorf("fault warm-up: Bearer %d", c)
		}
		if c := send(ctx, dpopC, "DPoP "+r.dpopTok); c != 200 {
			return fmt.Errorf("fault warm-up: DPoP %d", c)
		}
	}
	ct.CloseIdleConnections()
	g0, h0 := settle()

	// Fresh tokens: one that got 200 is cached and never sent again as
	// fresh; one refused by a fault stays fresh.
	fresh := make(chan string, len(r.bearers))
	for _, t := range r.bearers {
		fresh <- t
	}
	t := &tally{counts: map[string]map[traffic]map[int]int{}}
	type phaseDef struct {
		name   string
		enter  func() error
		length time.Duration
	}
	setMode := func(m string) func() error { return func() error { r.fault.mode.Store(m); return nil } }
	var faultAddr string
	phases := []phaseDef{
		{"healthy", setMode(modeOK), r.faultLen},
		{"introspection " + modeDown, func() error { faultAddr = r.fault.addr; r.fault.kill(); return nil }, r.faultLen},
		{"recovered from kill", func() error { return r.fault.listen(faultAddr) }, r.faultLen},
		{"introspection " + modeSlow, setMode(modeSlow), r.faultLen + 6*time.Second},
		{"recovered from slow", setMode(modeOK), r.faultLen},
		{"introspection " + mode500, setMode(mode500), r.faultLen},
		{"recovered from 500", setMode(modeOK), r.faultLen},
		{"introspection " + modeGarbage, setMode(modeGarbage), r.faultLen},
		{"recovered from garbage", setMode(modeOK), r.faultLen},
		{"redis killed", func() error { rs.p.kill(); return nil }, r.faultLen},
		{"recovered: redis restarted", func() error { return rs.start(ctx) }, r.faultLen},
	}
	for _, p := range phases {
		t.phases = append(t.phases, p.name)
	}
	t.phase.Store(-1)
	lctx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	worker := func(k traffic, n int, pause time.Duration, do func(ctx context.Context) int) {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for lctx.Err() == nil {
					ph := t.phase.Load()
					code := do(lctx)
					if lctx.Err() != nil {
						return
					}
					if t.phase.Load() == ph { // finished in the phase it started in
						t.add(ph, k, code)
					}
					time.Sleep(pause)
				}
			}()
		}
	}
	worker(kindHit, 2, 2*time.Millisecond, func(ctx context.Context) int { return send(ctx, bearerC, "Bearer "+r.bearerHit) })
	worker(kindDPoP, 2, 2*time.Millisecond, func(ctx context.Context) int { return send(ctx, dpopC, "DPoP "+r.dpopTok) })
	worker(kindFresh, 4, 20*time.Millisecond, func(ctx context.Context) int {
		var tok string
		select {
		case tok = <-fresh:
		default:
			return -1 // ran out: counted, and reported
		}
		code := send(ctx, bearerC, "Bearer "+tok)
		if code != http.StatusOK {
			fresh <- tok
		}
		return code
	})
	up0 := r.up.unverified.Load()
	loadStart := time.Now()
	for i, p := range phases {
		t.phase.Store(int64(2*i + 1)) // settling: requests in flight finish
		if err := p.enter(); err != nil {
			stopLoad()
			wg.Wait()
			return fmt.Errorf("entering %s: %w", p.name, err)
		}
		switch {
		case p.name == "recovered from slow":
			// Requests sent while it was slow wait out their deadline.
			time.Sleep(phantom.DefaultTimeout + time.Second)
		case strings.HasPrefix(p.name, "recovered") || p.name == "introspection "+modeSlow:
			time.Sleep(500 * time.Millisecond)
		default:
			time.Sleep(200 * time.Millisecond)
		}
		t.phase.Store(int64(2 * i))
		select {
		case <-ctx.Done():
		case <-time.After(p.length):
		}
	}
	t.phase.Store(int64(2*len(phases) + 1))
	stopLoad()
	wg.Wait()
	loadTime := time.Since(loadStart)

	// Verdicts.
	r.logf("fault phases (in-process gateway as examples/gateway -redis, introspection deadline %s; %d Bearer-hit, %d DPoP, %d fresh-token workers; %s of load):",
		phantom.DefaultTimeout, 2, 2, 4, loadTime.Round(time.Second))
	for _, p := range phases {
		hit, dp, fr := t.get(p.name, kindHit), t.get(p.name, kindDPoP), t.get(p.name, kindFresh)
		r.logf("  %-44s hit: %-22s DPoP: %-22s fresh: %s", p.name, codesString(hit), codesString(dp), codesString(fr))
		if fr[-1] > 0 {
			r.violate("%s: ran out of fresh tokens", p.name)
		}
		only := func(what string, m map[int]int, allowed ...int) {
			for c, n := range m {
				ok := false
				for _, a := range allowed {
					ok = ok || c == a
				}
				if !ok {
					r.violate("%s: %s got %d×%d (allowed %v)", p.name, what, n, c, allowed)
				}
			}
		}
		need := func(what string, m map[int]int, code int) {
			if m[code] == 0 {
				r.violate("%s: %s never got %d", p.name, what, code)
			}
		}
		switch {
		case strings.HasPrefix(p.name, "introspection"):
			// A never-seen token cannot be verified: 503, never through.
			only("fresh token", fr, 503)
			need("fresh token", fr, 503)
			// Cached verdicts stay valid (they were verified).
			only("cached Bearer", hit, 200)
			only("cached DPoP", dp, 200)
		case p.name == "redis killed":
			// The replay store is down: DPoP fails closed. A cache error is
			// a miss: Bearer tokens are introspected (verified) instead.
			only("DPoP", dp, 503)
			need("DPoP", dp, 503)
			only("cached Bearer", hit, 200, 503)
			only("fresh token", fr, 200, 503)
		default: // healthy and recovered
			only("cached Bearer", hit, 200)
			only("DPoP", dp, 200)
			only("fresh token", fr, 200)
			need("cached Bearer", hit, 200)
			need("DPoP", dp, 200)
			need("fresh token", fr, 200)
		}
	}
	if n := r.up.unverified.Load() - up0; n != 0 {
		r.violate("the upstream received %d unverified requests during the faults", n)
	}
	r.logf("upstream record after the faults: %d verified requests in all, %d unverified", r.up.ok.Load(), r.up.unverified.Load())

	// Leaks: after the load, back to the warm-up level.
	ct.CloseIdleConnections()
	upT.CloseIdleConnections()
	base.CloseIdleConnections()
	var g1 int
	var h1 uint64
	deadline := time.Now().Add(20 * time.Second)
	for {
		g1, h1 = settle()
		if (g1 <= g0+goroutineSlack && float64(h1) <= float64(h0)*heapFactor+heapSlack) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
		ct.CloseIdleConnections()
		upT.CloseIdleConnections()
		base.CloseIdleConnections()
	}
	r.logf("driver process (gateway, authorization server, upstream, clients): goroutines %d before the load → %d after (tolerance +%d); live heap %.1f MiB → %.1f MiB (tolerance ×%.1f + %d MiB)",
		g0, g1, goroutineSlack, float64(h0)/(1<<20), float64(h1)/(1<<20), heapFactor, heapSlack>>20)
	if g1 > g0+goroutineSlack {
		r.violate("goroutines grew from %d to %d", g0, g1)
	}
	if float64(h1) > float64(h0)*heapFactor+heapSlack {
		r.violate("live heap grew from %d to %d bytes", h0, h1)
	}
	return nil
}

// settle collects garbage and returns the goroutine count and live heap.
func settle() (int, uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc
}

// main runs the phases in order.
func (r *run) main(ctx context.Context) error {
	t0 := time.Now()
	if err := r.setup(ctx); err != nil {
		return err
	}
	if err := r.throughput(ctx); err != nil {
		return err
	}
	if err := r.faults(ctx); err != nil {
		return err
	}
	r.logf("total time: %s", time.Since(t0).Round(time.Second))
	return nil
}
