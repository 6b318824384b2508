package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hardened-oauth/hardened/dpop"
)

// gatewayArgs are the flags of an examples/gateway process in front of
// the upstream, introspecting through the fault proxy.
func (r *run) gatewayArgs(listen string, extra ...string) []string {
	args := []string{
		"-listen", listen, "-issuer", r.as.Issuer, "-introspect", r.fault.url(),
		"-client-id", r.as.ResourceServer.ID, "-client-secret", r.as.ResourceServer.Secret,
		"-ca", r.rootsPEM, "-dpop", "optional", "-audience", api,
	}
	return append(args, extra...)
}

// startGateway starts examples/gateway; its per-request log goes to a
// file.
func (r *run) startGateway(ctx context.Context, name string, extra ...string) (*proc, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	out, err := os.Create(filepath.Join(r.dir, name+".log"))
	if err != nil {
		return nil, "", err
	}
	r.closers = append(r.closers, func() { _ = out.Close() })
	p, err := r.start(name, out, r.gatewayBin, r.gatewayArgs(addr, extra...)...)
	if err != nil {
		return nil, "", err
	}
	if err := waitListen(ctx, p, addr); err != nil {
		b, _ := os.ReadFile(filepath.Join(r.dir, name+".stderr"))
		return nil, "", fmt.Errorf("%w: %s", err, b)
	}
	return p, "http://" + addr, nil
}

// wrkResult is what one wrk run printed.
type wrkResult struct {
	rps           float64
	p50, p99      string
	non2xx, total int
	errors        string
}

var (
	reRPS    = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reP50    = regexp.MustCompile(`\n\s+50%\s+(\S+)`)
	reP99    = regexp.MustCompile(`\n\s+99%\s+(\S+)`)
	reNon2xx = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reTotal  = regexp.MustCompile(`(\d+) requests in`)
	reErrors = regexp.MustCompile(`Socket errors: [^\n]+`)
)

func (r *run) wrk(ctx context.Context, name, target string, script string, headers ...string) (*wrkResult, error) {
	args := []string{"-t2", "-c" + strconv.Itoa(r.conns), "-d" + r.duration.String(), "--latency", "--timeout", "10s"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	if script != "" {
		args = append(args, "-s", script)
	}
	args = append(args, target)
	wctx, cancel := context.WithTimeout(ctx, r.duration+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(wctx, "wrk", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("wrk %s: %w: %s", name, err, out.String())
	}
	s := out.String()
	_ = os.WriteFile(filepath.Join(r.dir, "wrk-"+name+".txt"), out.Bytes(), 0o600)
	res := &wrkResult{}
	if m := reRPS.FindStringSubmatch(s); m != nil {
		res.rps, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := reP50.FindStringSubmatch(s); m != nil {
		res.p50 = m[1]
	}
	if m := reP99.FindStringSubmatch(s); m != nil {
		res.p99 = m[1]
	}
	if m := reNon2xx.FindStringSubmatch(s); m != nil {
		res.non2xx, _ = strconv.Atoi(m[1])
	}
	if m := reTotal.FindStringSubmatch(s); m != nil {
		res.total, _ = strconv.Atoi(m[1])
	}
	if m := reErrors.FindString(s); m != "" {
		res.errors = m
	}
	if res.rps == 0 {
		return nil, fmt.Errorf("wrk %s: no Requests/sec in: %s", name, s)
	}
	r.logf("wrk %-34s %9.0f req/s  p50 %-8s p99 %-8s (%d requests, %d non-2xx%s)", name, res.rps, res.p50, res.p99, res.total, res.non2xx, strings.TrimPrefix(" "+res.errors, " "))
	if res.non2xx > 0 {
		r.violate("wrk %s: %d non-2xx responses on a healthy run", name, res.non2xx)
	}
	return res, nil
}

// missScript writes a wrk Lua script that cycles through the distinct
// tokens.
func (r *run) missScript() (string, error) {
	var b strings.Builder
	b.WriteString("local toks = {\n")
	for _, t := range r.bearers {
		fmt.Fprintf(&b, "%q,\n", t)
	}
	b.WriteString("}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format(\"GET\", \"/api/miss\", {[\"Authorization\"] = \"Bearer \" .. toks[(i % #toks) + 1]})\nend\n")
	path := filepath.Join(r.dir, "miss.lua")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

const nginxConf = `worker_processes 1;
pid {{dir}}/nginx.pid;
error_log {{dir}}/nginx-error.log warn;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path {{dir}}/nginx-body;
  proxy_temp_path {{dir}}/nginx-proxy;
  fastcgi_temp_path {{dir}}/nginx-fastcgi;
  uwsgi_temp_path {{dir}}/nginx-uwsgi;
  scgi_temp_path {{dir}}/nginx-scgi;
  upstream api { server {{upstream}}; keepalive 64; }
  upstream phantom { server {{auth}}; keepalive 64; }
  server {
    listen {{plain}};
    location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen {{guarded}};
    location = /_phantom {
      internal;
      proxy_pass http://phantom/auth;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-SSL-Client-Cert "";
    }
    location / {
      auth_request /_phantom;
      auth_request_set $phantom_authorization $upstream_http_authorization;
      proxy_set_header Authorization $phantom_authorization;
      proxy_set_header DPoP "";
      proxy_set_header X-SSL-Client-Cert "";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://api;
    }
  }
}
`

// throughput is phase 1: wrk and the Go driver against the processes.
func (r *run) throughput(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	upHost := strings.TrimPrefix(r.upURL, "http://")
	proxyAddr, err := freeAddr()
	if err != nil {
		return err
	}
	pp, err := r.start("proxy", nil, self, "-role", "proxy", "-listen", proxyAddr, "-upstream", r.upURL)
	if err != nil {
		return err
	}
	if err := waitListen(ctx, pp, proxyAddr); err != nil {
		return err
	}
	g1, g1URL, err := r.startGateway(ctx, "gateway", "-upstream", r.upURL)
	if err != nil {
		return err
	}
	g2, g2URL, err := r.startGateway(ctx, "gateway-nocache", "-upstream", r.upURL, "-cache-ttl", "-1ns")
	if err != nil {
		return err
	}
	g3, g3URL, err := r.startGateway(ctx, "gateway-authrequest", "-auth-request", "nginx")
	if err != nil {
		return err
	}
	plainNginx, err := freeAddr()
	if err != nil {
		return err
	}
	guardedNginx, err := freeAddr()
	if err != nil {
		return err
	}
	conf := strings.NewReplacer("{{dir}}", r.dir, "{{upstream}}", upHost, "{{auth}}", strings.TrimPrefix(g3URL, "http://"),
		"{{plain}}", plainNginx, "{{guarded}}", guardedNginx).Replace(nginxConf)
	confPath := filepath.Join(r.dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return err
	}
	ng, err := r.start("nginx", nil, r.nginxBin, "-p", r.dir, "-c", confPath, "-e", filepath.Join(r.dir, "nginx-error.log"))
	if err != nil {
		return err
	}
	if err := waitListen(ctx, ng, guardedNginx); err != nil {
		return err
	}

	bearer := "Authorization: Bearer " + r.bearerHit
	// Warm the caches and check each path once.
	for _, u := range []string{proxyAddr + "/open/hello", g1URL[7:] + "/api/hello", "" + plainNginx + "/open/hello", guardedNginx + "/api/hello"} {
		if code := get(ctx, "http://"+u, r.bearerHit); code != http.StatusOK {
			return fmt.Errorf("warm-up GET %s: status %d", u, code)
		}
	}
	rss0, thr0 := procStatus(g1.cmd.Process.Pid)
	up0 := r.up.unverified.Load()

	res := map[string]*wrkResult{}
	runs := []struct{ name, url, script string }{
		{"plain ReverseProxy", "http://" + proxyAddr + "/open/hello", ""},
		{"gateway, Bearer, cache hit", g1URL + "/api/hello", ""},
		{"plain nginx", "http://" + plainNginx + "/open/hello", ""},
		{"nginx + auth_request, cache hit", "http://" + guardedNginx + "/api/hello", ""},
	}
	for _, w := range runs {
		if res[w.name], err = r.wrk(ctx, w.name, w.url, w.script, bearer); err != nil {
			return err
		}
	}
	script, err := r.missScript()
	if err != nil {
		return err
	}
	calls0 := r.fault.calls.Load()
	if res["miss"], err = r.wrk(ctx, "gateway, Bearer, miss (no cache)", g2URL, script); err != nil {
		return err
	}
	r.logf("    introspections during the miss run: %d (the authorization server's own TLS endpoint behind the fault proxy)", r.fault.calls.Load()-calls0)

	// DPoP: a Go driver (wrk cannot sign proofs), a fresh proof per
	// request, beside the same driver sending Bearer through the plain proxy.
	dp, err := r.drive(ctx, "Go driver: gateway, DPoP, cache hit", g1URL+"/api/hello", r.dpopTok, r.dpopKey)
	if err != nil {
		return err
	}
	pl, err := r.drive(ctx, "Go driver: plain ReverseProxy", "http://"+proxyAddr+"/open/hello", r.bearerHit, nil)
	if err != nil {
		return err
	}
	ratio := func(a, b float64) string { return fmt.Sprintf("%.2f×", a/b) }
	r.logf("ratios (throughput): gateway/proxy %s, nginx+auth_request/nginx %s, DPoP gateway/proxy (Go driver) %s",
		ratio(res["gateway, Bearer, cache hit"].rps, res["plain ReverseProxy"].rps),
		ratio(res["nginx + auth_request, cache hit"].rps, res["plain nginx"].rps), ratio(dp, pl))
	rss1, thr1 := procStatus(g1.cmd.Process.Pid)
	r.logf("gateway process: RSS %d→%d kB, threads %d→%d over the runs", rss0, rss1, thr0, thr1)
	if n := r.up.unverified.Load() - up0; n != 0 {
		r.violate("the upstream received %d unverified requests during the throughput runs", n)
	}
	r.logf("upstream record after the throughput runs: %d verified requests (%d distinct JWTs), %d unverified", r.up.ok.Load(), r.up.nVerified.Load(), r.up.unverified.Load())
	for _, p := range []*proc{ng, g3, g2, g1, pp} {
		p.stop()
	}
	return nil
}

// get sends one GET with a Bearer token and returns the status.
func get(ctx context.Context, u, tok string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode
}

// drive runs r.conns workers for r.duration; with a proofer every request
// carries a fresh DPoP proof (the transport answers use_dpop_nonce). It
// returns requests per second.
func (r *run) drive(ctx context.Context, name, u, tok string, p *dpop.Proofer) (float64, error) {
	base := &http.Transport{MaxIdleConnsPerHost: r.conns, IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: 10 * time.Second}
	defer base.CloseIdleConnections()
	var rt http.RoundTripper = base
	scheme := "Bearer "
	if p != nil {
		rt, scheme = &dpop.Transport{Proofer: p, Base: base}, "DPoP "
	}
	hc := &http.Client{Transport: rt, Timeout: 10 * time.Second}
	dctx, cancel := context.WithTimeout(ctx, r.duration)
	defer cancel()
	var mu sync.Mutex
	var lat []time.Duration
	codes := map[int]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for range r.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			mc := map[int]int{}
			for dctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				req.Header.Set("Authorization", scheme+tok)
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					mc[0]++
					continue
				}
				_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				mine = append(mine, time.Since(t0))
				mc[resp.StatusCode]++
			}
			mu.Lock()
			lat = append(lat, mine...)
			for k, v := range mc {
				codes[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if len(lat) == 0 {
		return 0, fmt.Errorf("%s: no request completed", name)
	}
	slices.Sort(lat)
	rps := float64(len(lat)) / el.Seconds()
	r.logf("%-40s %9.0f req/s  p50 %-8s p99 %-8s (%d requests, statuses %v)", name, rps,
		lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond), len(lat), codes)
	if len(codes) != 1 || codes[http.StatusOK] == 0 {
		r.violate("%s: statuses %v on a healthy run", name, codes)
	}
	return rps, nil
}
