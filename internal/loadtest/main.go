// Command loadtest is `make load`: wrk and a DPoP-minting Go driver
// against the examples/gateway program beside a plain reverse proxy and
// nginx, then the faults of the phantom gateway's dependencies during
// load (introspection endpoint killed, slow past its deadline, answering
// 500 and garbage; Redis killed and restarted), with an upstream that
// verifies every forwarded JWT and counts.
//
// Everything listens on 127.0.0.1; every phase is bounded in time; every
// process it starts runs in its own process group and is stopped on every
// path. It prints a summary and exits non-zero on any violation.
//
//	go build -o /tmp/gw ./examples/gateway && go run ./internal/loadtest -gateway /tmp/gw
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	role := flag.String("role", "", "internal: \"proxy\" runs the plain reverse proxy")
	listen := flag.String("listen", "", "internal: the plain proxy's address")
	upstream := flag.String("upstream", "", "internal: the plain proxy's upstream")
	gateway := flag.String("gateway", "", "the built examples/gateway binary (required)")
	duration := flag.Duration("duration", 8*time.Second, "length of each wrk and Go-driver run")
	conns := flag.Int("conns", 16, "connections of each wrk run and workers of the Go driver")
	faults := flag.Duration("fault", 4*time.Second, "length of each fault phase")
	nginx := flag.String("nginx", "nginx", "the nginx binary")
	flag.Parse()
	if *role == "proxy" {
		plainProxy(*listen, *upstream)
		return
	}
	if *gateway == "" {
		fmt.Fprintln(os.Stderr, "loadtest: -gateway is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute) // the whole run, whatever happens
	defer cancel()
	r := &run{gatewayBin: *gateway, duration: *duration, conns: *conns, faultLen: *faults, nginxBin: *nginx}
	err := r.main(ctx)
	r.cleanup()
	r.summary(os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	if len(r.violations) > 0 {
		fmt.Fprintf(os.Stderr, "loadtest: %d violation(s)\n", len(r.violations))
		os.Exit(1)
	}
}

// plainProxy is the baseline: an httputil.ReverseProxy and nothing else,
// in its own process like the gateway.
func plainProxy(listen, upstream string) {
	target, err := url.Parse(upstream)
	if err != nil || listen == "" {
		log.Fatal("proxy: bad -listen or -upstream")
	}
	p := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.SetXForwarded() },
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 10 * time.Second},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	srv := &http.Server{Addr: listen, Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
		<-ch
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
