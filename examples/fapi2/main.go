// Command fapi2 is a whole FAPI 2.0 client
// (https://openid.net/specs/fapi-security-profile-2_0-final.html) built on
// hardened.Config: a pushed (RFC 9126), signed (RFC 9101) authorization
// request with PKCE (RFC 7636), a JARM or RFC 9207 authorization response
// checked before the code is used, DPoP-bound tokens (RFC 9449) with server
// nonces, private_key_jwt client authentication (RFC 7523), a verified ID
// token, calls to an API, a refresh and a revocation (RFC 7009).
//
// With no flags it starts, on loopback, the module's embedded authorization
// server and a small API behind a phantom gateway (opaque token in, JWT to
// the API), plays the browser itself, and prints one line per step:
//
//	go run ./examples/fapi2
//
// With flags it runs the same flow against any authorization server:
//
//	go run ./examples/fapi2 -issuer https://as.example -client-id my-app \
//		-key client.jwk -redirect-uri https://app.example/cb -api https://api.example/me
//
// Run it with -h for every flag. Tokens and codes are printed shortened to
// their first 8 characters, never whole, and never in errors. What the
// servers chose (the subject, parameter names, the API's answer) is
// printed bounded, with control characters escaped. A failed check
// is one line on stderr and exit status 1; after a rejected authorization
// response or ID token nothing more is sent to any server.
package main

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/headless"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/jarm"
)

// Time limits: a headless run, and the wait for a real browser's callback.
const (
	runTimeout      = time.Minute
	callbackTimeout = 5 * time.Minute
)

func main() {
	// net/http reports some anomalies of a server's answers (bytes sent on
	// an idle connection, HTTP/2 protocol errors) through the standard
	// logger, on stderr, quoting what the server sent. A server must not
	// add lines to the program's output: a failure is the one line run
	// prints.
	log.SetOutput(io.Discard)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: it parses args, runs the flow and returns the
// exit status: 0 on success, 1 when a check or a step failed, 2 for bad
// flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, hooks{})
}

// runWith is run with the hooks tests use to make the embedded servers
// misbehave and to watch the requests they receive.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, h hooks) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	timeout := runTimeout
	if !o.headless {
		timeout += callbackTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := setupAndRun(ctx, o, stdout, h); err != nil {
		fmt.Fprintln(stderr, "fapi2:", clean(strings.Join(strings.Fields(err.Error()), " "), maxErrorLine))
		return 1
	}
	return 0
}

// options are the command line flags.
type options struct {
	issuer, clientID, key, dpopKey, encKey, cert, certKey, ca string
	redirectURI, scope, responseMode, api                     string
	resources                                                 []string
	headless                                                  bool
}

// parseFlags reads the flags. The names are stable: test suites of
// authorization servers run this program with them.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("fapi2", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.issuer, "issuer", "", "issuer identifier of the authorization server (https); empty starts the embedded servers")
	fs.StringVar(&o.clientID, "client-id", "", "client_id")
	fs.StringVar(&o.key, "key", "", "client's signing key, PEM or JWK (private_key_jwt and the request object)")
	fs.StringVar(&o.dpopKey, "dpop-key", "", "DPoP key, PEM or JWK (generated when absent, unless -cert binds the tokens)")
	fs.StringVar(&o.encKey, "enc-key", "", "key that decrypts encrypted JARM responses, PEM or JWK")
	fs.StringVar(&o.cert, "cert", "", "client certificate for mutual TLS, PEM")
	fs.StringVar(&o.certKey, "cert-key", "", "private key of -cert, PEM")
	fs.StringVar(&o.ca, "ca", "", "trust anchors of the servers' certificates, PEM (default: the system roots)")
	fs.StringVar(&o.redirectURI, "redirect-uri", "https://client.example.org/callback", "registered redirect URI")
	fs.StringVar(&o.scope, "scope", "openid", "space-separated scopes")
	fs.Func("resource", "resource indicator, RFC 8707 (repeatable)", func(s string) error {
		o.resources = append(o.resources, s)
		return nil
	})
	fs.StringVar(&o.responseMode, "response-mode", jarm.ModeJWT, `response mode: jwt, query.jwt, fragment.jwt, form_post.jwt (JARM), query, form_post, or "" for the server's default`)
	fs.StringVar(&o.api, "api", "", "URL to call with the access token (default: none; the embedded gateway without -issuer)")
	fs.BoolVar(&o.headless, "headless", true, "follow the authorization redirects without a browser; false prints the URL and serves the callback on the redirect URI")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "fapi2: unexpected argument", fs.Arg(0))
		return o, errors.New("unexpected argument")
	}
	return o, nil
}

// env is what the flow needs besides the Config.
type env struct {
	// authorize plays the browser: it takes the user to the authorization
	// URL and returns the request that came back to the redirect URI.
	authorize func(ctx context.Context, authURL string) (*http.Request, error)
	resources []string // RFC 8707 resource indicators
	api       string   // the URL to call with the token; "" for none
}

// setupAndRun builds the Config and env from the flags, or for the embedded
// servers without -issuer, and runs the flow.
func setupAndRun(ctx context.Context, o options, w io.Writer, h hooks) error {
	conf := &hardened.Config{
		Config: oauth2.Config{
			ClientID:    o.clientID,
			RedirectURL: o.redirectURI,
			Scopes:      strings.Fields(o.scope),
		},
		Issuer:       o.issuer,
		ResponseMode: o.responseMode,
	}
	if o.issuer == "" {
		if o.clientID != "" || o.key != "" || o.encKey != "" || o.cert != "" || o.certKey != "" || o.ca != "" || o.api != "" {
			return errors.New("flags: -client-id, -key, -enc-key, -cert, -cert-key, -ca and -api need -issuer")
		}
		demo, err := startEmbedded(h, o.redirectURI, o.responseMode)
		if err != nil {
			return fmt.Errorf("embedded servers: %w", err)
		}
		defer demo.close()
		fmt.Fprintf(w, "   embedded   authorization server %s, API gateway %s -> API %s\n", demo.issuer, demo.gateway, demo.upstream)
		conf.Issuer, conf.ClientID, conf.Key, conf.KeyID = demo.issuer, demo.clientID, demo.key, demo.keyID
		conf.RootCAs, o.api = demo.roots, demo.api
		if o.resources == nil {
			o.resources = []string{demo.gateway}
		}
	} else if err := loadFlagKeys(o, conf); err != nil {
		return err
	}
	if o.dpopKey != "" {
		key, _, err := hardened.LoadPrivateKey(o.dpopKey)
		if err != nil {
			return fmt.Errorf("flags: -dpop-key: %w", err)
		}
		conf.DPoPKey = key
	}
	e := env{resources: o.resources, api: o.api, authorize: headlessBrowser(conf.RootCAs, o.redirectURI)}
	if !o.headless {
		e.authorize = realBrowser(w, o.redirectURI)
	}
	if err := flow(ctx, conf, e, &printer{w: w}); err != nil {
		return err
	}
	fmt.Fprintln(w, "ok")
	return nil
}

// loadFlagKeys reads the key, certificate and trust anchor files the flags
// name into conf.
func loadFlagKeys(o options, conf *hardened.Config) error {
	if o.key != "" {
		key, kid, err := hardened.LoadPrivateKey(o.key) // PEM or JWK; a JWK's kid comes with it
		if err != nil {
			return fmt.Errorf("flags: -key: %w", err)
		}
		conf.Key, conf.KeyID = key, kid
	}
	if o.encKey != "" {
		key, kid, err := hardened.LoadPrivateKey(o.encKey)
		if err != nil {
			return fmt.Errorf("flags: -enc-key: %w", err)
		}
		conf.DecryptionKeys = []jarm.DecryptionKey{{KeyID: kid, Key: crypto.PrivateKey(key)}}
	}
	if (o.cert == "") != (o.certKey == "") {
		return errors.New("flags: -cert and -cert-key go together")
	}
	if o.cert != "" {
		cert, err := loadCertificate(o.cert, o.certKey)
		if err != nil {
			return err
		}
		conf.Certificate = cert
	}
	if o.ca != "" {
		roots, err := loadRoots(o.ca)
		if err != nil {
			return err
		}
		conf.RootCAs = roots
	}
	return nil
}

// ---- flow: begin ----
// flow is the client: the part to copy. Everything it sends goes through
// conf's one stack (DPoP with nonce retry, private_key_jwt, mTLS), and it
// stops at the first failed check.
func flow(ctx context.Context, conf *hardened.Config, e env, p *printer) error {
	// Login: state, PKCE verifier and nonce (a web app keeps them in the
	// user's session), pushed in a signed request object.
	login := hardened.NewLogin()
	authURL, err := conf.AuthCodeURL(ctx, login.State, login.AuthCodeOptions(hardened.ResourceOption(e.resources...))...)
	if err != nil {
		return fmt.Errorf("pushed authorization request: %w", err)
	}
	p.step("pushed", "PAR with a signed request object (PKCE S256, state, nonce, dpop_jkt); the browser gets %s", paramNames(authURL))
	callback, err := e.authorize(ctx, authURL)
	if err != nil {
		return fmt.Errorf("authorization: %w", err)
	}
	p.step("redirected", "back to %s with %s", conf.RedirectURL, responseNames(callback))
	// The response is checked before the code is touched: JARM signature
	// and claims, iss (RFC 9207), state, error responses.
	code, err := conf.Callback(ctx, callback, login.State)
	if err != nil {
		return fmt.Errorf("callback: %w", err)
	}
	p.step("callback", "%s checked: code %s", callbackChecks(conf), short(code))
	// The code, the PKCE verifier, a DPoP proof and a client assertion; the
	// ID token is verified before the tokens are returned.
	tok, err := conf.Exchange(ctx, code, login.ExchangeOptions(hardened.ResourceOption(e.resources...))...)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	p.step("token", "%s access token %s, refresh token %s, expires in %s", tok.Type(), short(tok.AccessToken), short(tok.RefreshToken), time.Until(tok.Expiry).Round(time.Minute))
	if idt, ok := hardened.IDTokenFrom(tok); ok {
		p.step("id token", "sub %s, %s: signature, iss, aud, exp, iat, nonce%s verified", clean(idt.Subject, maxShown), idt.Algorithm, hashChecks(idt))
	}
	// The API: "Authorization: DPoP <token>" with a proof carrying ath.
	if err := p.call(ctx, "api", conf.Client(ctx, tok), e.api, true, tok.AccessToken); err != nil {
		return err
	}
	// Demo: as if the token had expired. The refresh rotates the refresh token.
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	p.step("refreshed", "access token %s, refresh token %s -> %s", short(fresh.AccessToken), short(tok.RefreshToken), short(fresh.RefreshToken))
	if err := p.call(ctx, "api", conf.Client(ctx, fresh), e.api, true, fresh.AccessToken); err != nil {
		return err
	}
	// Logout: revoke the access token, then the refresh token (the grant).
	if err := conf.Revoke(ctx, fresh.AccessToken, hardened.HintAccessToken); err != nil {
		return fmt.Errorf("revocation: %w", err)
	}
	if err := conf.Revoke(ctx, fresh.RefreshToken, hardened.HintRefreshToken); err != nil {
		return fmt.Errorf("revocation: %w", err)
	}
	p.step("revoked", "access token %s and refresh token %s", short(fresh.AccessToken), short(fresh.RefreshToken))
	return p.call(ctx, "api", conf.Client(ctx, fresh), e.api, false, fresh.AccessToken)
}

// ---- flow: end ----

// headlessBrowser returns the authorize function of -headless: it follows
// the authorization server's redirects itself, within its origin, and stops
// at the redirect URI without connecting to it (internal/headless).
func headlessBrowser(roots *x509.CertPool, redirectURI string) func(context.Context, string) (*http.Request, error) {
	jar, _ := cookiejar.New(nil) // never fails
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig(roots)
	hc := &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second}
	return func(ctx context.Context, authURL string) (*http.Request, error) {
		return headless.Authorize(ctx, hc, authURL, redirectURI)
	}
}

// printer writes one numbered line per step.
type printer struct {
	w io.Writer
	n int
}

func (p *printer) step(name, format string, args ...any) {
	p.n++
	fmt.Fprintf(p.w, "%2d %-10s %s\n", p.n, name, fmt.Sprintf(format, args...))
}

// call GETs api with c, which sends token, and prints the answer. With
// want true the API must accept the token (a 2xx), else the flow fails;
// with want false (the revoked token) it should refuse it. "" calls
// nothing. What the API answers is printed without the token or a proof
// it may echo ([redact]).
func (p *printer) call(ctx context.Context, name string, c *http.Client, api string, want bool, token string) error {
	if api == "" {
		return nil
	}
	status, body, err := get(ctx, c, api, token)
	switch {
	case err != nil:
		return fmt.Errorf("api %s: %w", api, err)
	case want && status/100 != 2:
		return fmt.Errorf("api %s: %d %s %s", api, status, http.StatusText(status), body)
	case want:
		p.step(name, "%d %s %s", status, http.StatusText(status), body)
	case status/100 == 2:
		p.step(name, "%d %s: the revoked token is still accepted (this API does not check revocation)", status, http.StatusText(status))
	default:
		p.step(name, "%d %s: the revoked token is refused", status, http.StatusText(status))
	}
	return nil
}

// get GETs u with c and returns the status and the body's first line, at
// most 200 bytes of it, without secret (the access token) nor anything
// shaped like a JWT ([redact]), cleaned for printing ([clean]).
func get(ctx context.Context, c *http.Client, u, secret string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 200))
	if err != nil {
		return 0, "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return res.StatusCode, clean(redact(strings.TrimSpace(line), secret), maxShown), nil
}

// redact returns s, text an API chose, without what the request to it
// carried: each occurrence of secret (the access token), as is or
// form-encoded, and each run of base64url characters and dots that starts
// like a JOSE header ("eyJ": the DPoP proof, a JWT access token), become
// "[redacted]". If what is left still holds 16 bytes of secret (a cut or
// altered echo), all of s is withheld. An API that echoes the
// Authorization or DPoP header thus cannot make the program print them.
func redact(s, secret string) string {
	s, leak := oautherr.Redact(s, secret)
	if leak {
		return "[withheld: the answer echoes the access token]"
	}
	return s
}

// paramNames lists the names of a URL's query parameters, for printing
// without values.
func paramNames(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return names(u.Query())
}

// responseNames lists the names of the response parameters a callback
// request carries, wherever the response mode put them.
func responseNames(r *http.Request) string {
	if r.Method == http.MethodPost {
		return "a form post"
	}
	if r.URL.Fragment != "" {
		params, _ := url.ParseQuery(r.URL.Fragment)
		return names(params) + " in the fragment"
	}
	return names(r.URL.Query())
}

func names(v url.Values) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return clean(strings.Join(keys, ", "), maxShown) // the server chose them
}

// callbackChecks says what Config.Callback checked in this response mode.
func callbackChecks(conf *hardened.Config) string {
	if strings.HasSuffix(conf.ResponseMode, "jwt") {
		if conf.DecryptionKeys != nil {
			return "encrypted JARM response (decrypted; signature, iss, aud, exp, state)"
		}
		return "JARM response (signature, iss, aud, exp, state)"
	}
	return "response (iss per RFC 9207, state)"
}

// hashChecks names the token hashes an ID token carried, which were
// verified.
func hashChecks(idt *hardened.IDToken) string {
	var s string
	if idt.AccessTokenHash != "" {
		s += ", at_hash"
	}
	if idt.CodeHash != "" {
		s += ", c_hash"
	}
	return s
}

// short returns the first 8 bytes of a token or code, cleaned, and "…":
// enough to tell tokens apart, too little to use one. Of a token of 16
// bytes or less, too short for 8 bytes to be a small part, it shows only
// the length.
func short(s string) string {
	switch {
	case s == "":
		return "(none)"
	case len(s) <= 16:
		return strings.Repeat("*", len(s))
	}
	return clean(s[:8], 8) + "…"
}

// What the program prints of text a server chose (a subject, parameter
// names, an API's answer), and of an error line, at most.
const (
	maxShown     = 200
	maxErrorLine = 4096
)

// clean makes text a server chose safe to print on a terminal or in a log:
// at most limit bytes of it, cut on a character boundary ("…" marks the
// cut), with every character that is not printable (a line break, the ESC
// of a terminal escape sequence, a bidirectional override), a backslash
// and each byte of invalid UTF-8 written as a Go escape (\n, \x1b,
// \u202e, \\, \xff). Such text cannot forge a line of the program's
// output, nor drive the terminal.
func clean(s string, limit int) string {
	cut := len(s) > limit
	if cut {
		for limit > 0 && !utf8.RuneStart(s[limit]) {
			limit--
		}
		s = s[:limit]
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case strconv.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r) // '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	if cut {
		b.WriteString("…")
	}
	return b.String()
}

// loadCertificate reads a PEM certificate and its PEM private key.
func loadCertificate(certFile, keyFile string) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("flags: -cert/-cert-key: %w", err)
	}
	return &cert, nil
}

// loadRoots reads a PEM file of trust anchors.
func loadRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("flags: -ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("flags: -ca: no PEM certificate in %s", path)
	}
	return pool, nil
}
