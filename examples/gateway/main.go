// Command gateway is a phantom-token API gateway: clients send opaque
// access tokens ("Authorization: Bearer" or "DPoP"), the gateway
// introspects them at the authorization server (RFC 7662, RFC 9701),
// checks their sender constraint (DPoP proof, client certificate), and
// forwards the request upstream with "Authorization: Bearer <JWT>".
//
// With no flags it starts, on loopback, the module's embedded
// authorization server and a small upstream API, then shows a few requests
// (a DPoP-bound token, the same token as Bearer, a replayed proof) and
// keeps serving until interrupted:
//
//	go run ./examples/gateway
//
// Against a real authorization server:
//
//	go run ./examples/gateway -listen :8443 -tls-cert gw.pem -tls-key gw.key \
//		-upstream http://127.0.0.1:9000 -issuer https://as.example \
//		-client-id gateway -key gateway.jwk -external-url https://api.example
//
// With -auth-request nginx|traefik|envoy it proxies nothing and answers
// the auth subrequests of that gateway (see the phantom package's README
// for their configuration), from loopback peers only. Behind nginx,
// certificate-bound tokens are accepted only with -client-cert-header
// naming the header the auth location sets to $ssl_client_escaped_cert
// (and that every other location clears); without it they are refused.
//
// In every mode a token must be for this API: its "aud" (the introspection
// response's, or the JWT's in -mode jwt) must hold -audience, by default
// -external-url, compared exactly. Clients ask for such tokens with
// resource=<that URL> (RFC 8707); a token the server issued for another API
// is refused with 401 invalid_token. -insecure-any-audience turns the
// check off in the introspection modes, for a server without resource
// indicators.
//
// It logs one line per request with the decision and its reason, never a
// token.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	dpopredis "github.com/hardened-oauth/hardened/dpop/redisstore"
	"github.com/hardened-oauth/hardened/mtlsbound"
	"github.com/hardened-oauth/hardened/phantom"
	"github.com/hardened-oauth/hardened/phantom/redisstore"
)

// jwksPath serves the gateway's own key set in -mode json.
const jwksPath = "/.well-known/phantom-jwks.json"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, nil)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// errUsage marks bad flags.
var errUsage = errors.New("usage")

// options are the flags.
type options struct {
	listen, upstream, issuer, introspect  string
	clientID, clientSecret, keyFile, ca   string
	mode, dpop, tlsCert, tlsKey, clientCA string
	redis, externalURL, authRequest       string
	clientCertHeader, audience            string
	insecureAnyAudience                   bool
	cacheTTL                              time.Duration

	// Set by the demo (no flags): trust these roots, show the requests.
	roots *x509.CertPool
	demo  *demo
}

func parseFlags(args []string, out io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.upstream, "upstream", "", "upstream API base URL (not with -auth-request)")
	fs.StringVar(&o.issuer, "issuer", "", "authorization server issuer (discovery: introspection endpoint, jwks_uri)")
	fs.StringVar(&o.introspect, "introspect", "", "introspection endpoint (instead of, or overriding, the discovered one)")
	fs.StringVar(&o.clientID, "client-id", "", "the gateway's client_id at the authorization server")
	fs.StringVar(&o.clientSecret, "client-secret", "", "client secret (client_secret_basic)")
	fs.StringVar(&o.keyFile, "key", "", "private key file, PEM or JWK (private_key_jwt)")
	fs.StringVar(&o.ca, "ca", "", "PEM roots to trust for the authorization server and the upstream (default: the system's)")
	fs.StringVar(&o.mode, "mode", string(phantom.ModeIntrospectionJWT), "token-introspection+jwt | jwt | json")
	fs.StringVar(&o.dpop, "dpop", "required", "required | optional | off")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve TLS with this PEM certificate chain")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key of -tls-cert")
	fs.StringVar(&o.clientCA, "client-ca", "", "PEM roots of client certificates (needs -tls-cert): certificate-bound tokens")
	fs.StringVar(&o.redis, "redis", "", "Redis address or URL shared by replicas: cache, DPoP replay store, nonce secret")
	fs.StringVar(&o.externalURL, "external-url", "", "URL clients use to reach the gateway, for DPoP htu (default: from -listen)")
	fs.StringVar(&o.audience, "audience", "", "the aud every token must hold: the RFC 8707 resource clients ask tokens for (default: -external-url)")
	fs.BoolVar(&o.insecureAnyAudience, "insecure-any-audience", false, "accept a token issued for any audience, another API's too (not with -mode jwt): only for a server without RFC 8707 resource indicators")
	fs.DurationVar(&o.cacheTTL, "cache-ttl", phantom.DefaultCacheTTL, "longest reuse of an introspection result (negative: none)")
	fs.Var((*authRequestFlag)(&o.authRequest), "auth-request", "serve the auth-request endpoint instead of proxying: -auth-request (nginx), or -auth-request nginx | traefik | envoy")
	fs.StringVar(&o.clientCertHeader, "client-cert-header", "", "with -auth-request nginx: the header the auth location sets to $ssl_client_escaped_cert, e.g. X-SSL-Client-Cert (and every other location clears): certificate-bound tokens; without it they are refused")
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	// "-auth-request traefik": the flag parses as a boolean, so its value
	// may follow as the next argument.
	if o.authRequest == "nginx" && fs.NArg() > 0 {
		switch p := fs.Arg(0); p {
		case "nginx", "traefik", "envoy":
			o.authRequest = p
			if err := fs.Parse(fs.Args()[1:]); err != nil {
				return nil, fmt.Errorf("%w: %w", errUsage, err)
			}
		}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected arguments", errUsage)
	}
	return o, nil
}

// authRequestFlag is -auth-request: given alone (or =true) it serves
// nginx's auth_request; -auth-request=traefik, -auth-request traefik (and
// envoy, nginx) name the gateway; =false or an empty value turns it off.
type authRequestFlag string

func (f *authRequestFlag) String() string   { return string(*f) }
func (f *authRequestFlag) IsBoolFlag() bool { return true }
func (f *authRequestFlag) Set(v string) error {
	switch v {
	case "true":
		*f = "nginx"
	case "false", "":
		*f = ""
	default:
		*f = authRequestFlag(v)
	}
	return nil
}

// check validates the combination of flags.
func (o *options) check() error {
	bad := func(msg string) error { return fmt.Errorf("%w: %s", errUsage, msg) }
	switch {
	case o.authRequest == "" && o.upstream == "":
		return bad("-upstream is required (or -auth-request)")
	case o.authRequest != "" && o.upstream != "":
		return bad("-upstream and -auth-request exclude each other")
	case o.issuer == "" && o.introspect == "":
		return bad("-issuer or -introspect is required")
	case o.clientID == "":
		return bad("-client-id is required")
	case (o.clientSecret == "") == (o.keyFile == ""):
		return bad("exactly one of -client-secret and -key is required")
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return bad("-tls-cert and -tls-key go together")
	case o.clientCA != "" && o.tlsCert == "":
		return bad("-client-ca needs -tls-cert and -tls-key")
	case o.issuer == "" && phantom.Mode(o.mode) != phantom.ModeJSON:
		return bad("-mode " + o.mode + " verifies the server's JWTs: it needs -issuer")
	case o.clientCertHeader != "" && o.authRequest != "nginx":
		return bad("-client-cert-header is for -auth-request nginx")
	case o.clientCertHeader != "" && !validHeaderName(o.clientCertHeader):
		return bad("-client-cert-header must be a header field name")
	case o.insecureAnyAudience && phantom.Mode(o.mode) == phantom.ModeJWT:
		return bad("-insecure-any-audience is not for -mode jwt: RFC 9068 §4 requires the aud check")
	case o.insecureAnyAudience && o.audience != "":
		return bad("-audience and -insecure-any-audience exclude each other")
	case o.audience != "" && !absoluteURI(o.audience):
		return bad("-audience must be an absolute URI (RFC 8707 §2)")
	}
	switch phantom.Mode(o.mode) {
	case phantom.ModeIntrospectionJWT, phantom.ModeJWT, phantom.ModeJSON:
	default:
		return bad("-mode must be token-introspection+jwt, jwt or json")
	}
	switch o.dpop {
	case "required", "optional", "off":
	default:
		return bad("-dpop must be required, optional or off")
	}
	switch o.authRequest {
	case "", "nginx", "traefik", "envoy":
	default:
		return bad("-auth-request must be nginx, traefik or envoy")
	}
	return nil
}

// audienceOrDefault is -audience, or the external URL.
func (o *options) audienceOrDefault() string {
	if o.audience != "" {
		return o.audience
	}
	return o.externalURL
}

// httpURL parses the value of flag, which must be an absolute http(s) URL.
func httpURL(flag, s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: %s must be an absolute http(s) URL", errUsage, flag)
	}
	return u, nil
}

// absoluteURI reports whether s is an absolute URI without fragment.
func absoluteURI(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.IsAbs() && u.Host != "" && u.Fragment == "" && !strings.ContainsAny(s, "\x00\r\n #")
}

// validHeaderName reports whether s is an HTTP field name (RFC 9110 §5.1,
// a token) other than the ones the auth request carries for other
// purposes.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	switch http.CanonicalHeaderKey(s) {
	case "Authorization", "Dpop", "X-Original-Method", "X-Original-Uri", "Host", "Content-Length":
		return false
	}
	return true
}

// run is the whole program. ready, when set, is called with the
// gateway's URL once it listens.
func run(ctx context.Context, args []string, out io.Writer, ready func(url string)) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	var out2 = &syncWriter{w: out}
	if len(args) == 0 {
		d, err := startDemo(o)
		if err != nil {
			return err
		}
		defer d.close()
		o.demo = d
	}
	if err := o.check(); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(out2, nil))

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	srvTLS, err := o.serverTLS()
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	if srvTLS != nil {
		base = "https://" + ln.Addr().String()
	}
	if o.externalURL == "" {
		o.externalURL = base
	}

	g, handler, err := o.gateway(ctx, logger)
	if err != nil {
		return err
	}
	srv := newServer(logRequests(handler, g, logger), srvTLS, logger)
	errc := make(chan error, 1)
	go func() {
		if srvTLS != nil {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	what := "proxying to " + o.upstream
	if o.authRequest != "" {
		what = "answering " + o.authRequest + " auth requests"
	}
	fmt.Fprintf(out2, "gateway: listening on %s (external URL %s), %s; mode %s, dpop %s\n", base, o.externalURL, what, o.mode, o.dpop)
	if o.insecureAnyAudience {
		fmt.Fprintln(out2, "gateway: WARNING: -insecure-any-audience: tokens issued for other APIs are accepted")
	} else {
		fmt.Fprintf(out2, "gateway: tokens must have aud %s\n", o.audienceOrDefault())
	}
	if ready != nil {
		ready(base)
	}
	if o.demo != nil {
		o.demo.show(ctx, o.externalURL, out2)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// Limits of the listener's connections.
const (
	// readHeaderTimeout bounds the wait for a request's headers.
	readHeaderTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection that sends no request:
	// without it an unauthenticated client holds any number of idle
	// connections (file descriptors, goroutines, buffers). It is longer
	// than the 60 s keep-alive of nginx's upstream connections and of
	// common load balancers, so that the proxy, not the gateway, closes
	// an idle connection and never sends a request on one being closed.
	idleTimeout = 75 * time.Second
	// maxHeaderBytes bounds a request's header section: far above the
	// gateway's own limits (a 4 KiB token, a DPoP proof, a client
	// certificate header) and the cookies of an API request, far below
	// net/http's 1 MiB default.
	maxHeaderBytes = 64 << 10
	// maxResponseHeaderBytes bounds the header section of a response from
	// the authorization server (introspection, discovery, keys) or the
	// upstream. net/http's default, 10 MiB, parses into some 40 MB of
	// heap, and a client starts up to 256 introspections at once with
	// random tokens.
	maxResponseHeaderBytes = 64 << 10
)

// newServer is the gateway's HTTP server. Reads of a body and writes of
// a response have no deadline: they would cut long uploads and downloads
// the gateway proxies, and the upstream's transport bounds its own wait.
func newServer(h http.Handler, tlsConfig *tls.Config, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// roots returns the pool of -ca, or the demo's, or nil for the system's.
func (o *options) rootPool() (*x509.CertPool, error) {
	if o.roots != nil || o.ca == "" {
		return o.roots, nil
	}
	return loadPool(o.ca)
}

func loadPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// serverTLS is the listener's TLS configuration, nil for plain HTTP.
func (o *options) serverTLS() (*tls.Config, error) {
	if o.tlsCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("loading -tls-cert/-tls-key: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if o.clientCA != "" {
		pool, err := loadPool(o.clientCA)
		if err != nil {
			return nil, err
		}
		// Certificates are optional (Bearer and DPoP tokens need none),
		// verified when sent; the binding check compares thumbprints.
		cfg.ClientAuth, cfg.ClientCAs = tls.VerifyClientCertIfGiven, pool
	}
	return cfg, nil
}

// gateway builds the phantom.Gateway and the handler that serves it.
func (o *options) gateway(ctx context.Context, logger *slog.Logger) (*phantom.Gateway, http.Handler, error) {
	roots, err := o.rootPool()
	if err != nil {
		return nil, nil, err
	}
	base := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots},
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  10 * time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		ForceAttemptHTTP2:      true,
	}

	// Where to introspect, and the keys that sign the server's JWTs.
	g := &phantom.Gateway{
		Mode:     phantom.Mode(o.mode),
		ClientID: o.clientID,
		CacheTTL: o.cacheTTL,
		Logger:   logger,
	}
	if o.issuer != "" {
		meta, err := (&hardened.Discovery{HTTPClient: &http.Client{Transport: base, Timeout: 10 * time.Second}}).Discover(ctx, o.issuer)
		if err != nil {
			return nil, nil, err
		}
		g.Issuer, g.JWKSURL, g.IntrospectionURL = meta.Issuer, meta.JWKSURI, meta.IntrospectionEndpoint
	}
	if o.introspect != "" {
		g.IntrospectionURL = o.introspect
	}
	// The resource indicator clients ask tokens for: a token for another
	// API (or for the server's userinfo) is refused, in every mode.
	if !o.insecureAnyAudience {
		g.Audience = o.audienceOrDefault()
	}

	// Client authentication for the introspection calls: the module's one
	// client stack, never the gateway.
	var auth hardened.ClientAuth = hardened.ClientSecretBasic{ClientID: o.clientID, ClientSecret: o.clientSecret}
	if o.keyFile != "" {
		key, kid, err := hardened.LoadPrivateKey(o.keyFile)
		if err != nil {
			return nil, nil, err
		}
		auth = hardened.PrivateKeyJWT{ClientID: o.clientID, Key: key, KeyID: kid, Issuer: g.Issuer}
	}
	g.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: &hardened.AuthTransport{
		Base: base, Auth: auth, Endpoints: []string{g.IntrospectionURL},
	}}

	// Shared state for replicas.
	var rdb *redis.Client
	if o.redis != "" {
		opts := &redis.Options{Addr: o.redis}
		if strings.Contains(o.redis, "://") {
			if opts, err = redis.ParseURL(o.redis); err != nil {
				return nil, nil, fmt.Errorf("-redis: %w", err)
			}
		}
		rdb = redis.NewClient(opts)
		g.Cache = &redisstore.Cache{Client: rdb}
	}
	secret := func(name string) ([]byte, error) {
		if rdb != nil {
			return redisstore.SharedSecret(ctx, rdb, name)
		}
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	}
	if g.Mode == phantom.ModeJSON {
		// The gateway signs the upstream JWTs; replicas sharing a cache
		// share the key, derived from a secret kept in Redis.
		seed, err := secret("phantom:gateway-signing-key")
		if err != nil {
			return nil, nil, err
		}
		key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed[:32])
		if err != nil {
			return nil, nil, fmt.Errorf("deriving the signing key: %w", err)
		}
		g.Key = key
	}

	// Sender constraints.
	if o.dpop != "off" {
		nonce, err := secret("phantom:dpop-nonce-secret")
		if err != nil {
			return nil, nil, err
		}
		g.DPoP = &dpop.Verifier{BaseURL: o.externalURL, Nonces: &dpop.Nonces{Secrets: [][]byte{nonce}}}
		if rdb != nil {
			g.DPoP.Replay = &dpopredis.Store{Client: rdb}
		}
	}
	g.InsecureAllowUnbound = o.dpop != "required"
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	switch {
	case o.authRequest == "nginx" && o.clientCertHeader != "":
		// Only a header the operator named: nginx passes the client's own
		// headers to the auth subrequest, so an unconfigured one could be
		// the client's forgery. Without it, certificate-bound tokens are
		// refused (Gateway.MTLS nil).
		g.MTLS = &mtlsbound.Verifier{ProxyHeader: o.clientCertHeader, ProxyFormat: mtlsbound.HeaderEscapedPEM, TrustedProxies: loopback}
	case o.authRequest == "envoy":
		g.MTLS = &mtlsbound.Verifier{ProxyHeader: "X-Forwarded-Client-Cert", ProxyFormat: mtlsbound.HeaderXFCC, TrustedProxies: loopback}
	case o.clientCA != "" && o.authRequest == "":
		g.MTLS = &mtlsbound.Verifier{}
	}
	if g.DPoP != nil && g.MTLS != nil {
		g.DPoP.CheckedElsewhere = []string{"x5t#S256"}
		g.MTLS.CheckedElsewhere = []string{"jkt", "jwk"}
	}
	if err := g.Validate(ctx); err != nil {
		return nil, nil, err
	}

	mux := http.NewServeMux()
	if g.Mode == phantom.ModeJSON {
		mux.Handle("GET "+jwksPath, g.JWKSHandler())
	}
	if o.authRequest != "" {
		proto := map[string]phantom.Protocol{"nginx": phantom.ProtocolNGINX, "traefik": phantom.ProtocolTraefik, "envoy": phantom.ProtocolEnvoy}[o.authRequest]
		a := &phantom.AuthRequest{Gateway: g, Protocol: proto, TrustedProxies: loopback}
		if proto == phantom.ProtocolEnvoy {
			a.PathPrefix = "/ext_authz"
		}
		mux.Handle("/", a)
		return g, mux, nil
	}
	target, err := httpURL("-upstream", o.upstream)
	if err != nil {
		return nil, nil, err
	}
	// X-Forwarded-Host and -Proto name the URL clients use, as DPoP's htu
	// does: never the Host header, which the client chooses.
	ext, err := httpURL("-external-url", o.externalURL)
	if err != nil {
		return nil, nil, err
	}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Forwarded-Host", ext.Host)
			pr.Out.Header.Set("X-Forwarded-Proto", ext.Scheme)
		},
		Transport: base,
		ErrorLog:  slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	mux.Handle("/", g.Wrap(proxy))
	return g, mux, nil
}

// decision is filled in while a request is served, for its log line.
type decision struct {
	reason phantom.Reason
}

type decisionKey struct{}

// logRequests logs one line per request: method, path, status, decision
// and reason. Tokens are never logged: neither the headers nor the errors
// hold one.
func logRequests(next http.Handler, g *phantom.Gateway, logger *slog.Logger) http.Handler {
	g.OnError = func(r *http.Request, err error) {
		var e *phantom.Error
		if d, ok := r.Context().Value(decisionKey{}).(*decision); ok && errors.As(err, &e) {
			d.reason = e.Reason
		}
	}
	g.Logger = nil // the line below is the one record per request
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := &decision{}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), decisionKey{}, d)))
		verdict := "allow"
		if d.reason != "" {
			verdict = "deny"
		}
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status),
			slog.String("decision", verdict), slog.String("reason", string(d.reason)),
			slog.Duration("elapsed", time.Since(start).Round(time.Microsecond)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// syncWriter serializes writes from the log handler and the demo.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
