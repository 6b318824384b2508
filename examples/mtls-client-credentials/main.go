// Command mtls-client-credentials is a service calling an API without an
// end-user: the client credentials grant (RFC 6749 §4.4) with the client
// authenticated by its TLS certificate (tls_client_auth, RFC 8705 §2) and the
// access token bound to that certificate (RFC 8705 §3,
// https://datatracker.ietf.org/doc/html/rfc8705#section-3), then a call to an
// API that checks the binding with mtlsbound's middleware.
//
// With no flags it starts the module's embedded authorization server and an
// mTLS-protected API on loopback, so nothing but Go is needed:
//
//	go run ./examples/mtls-client-credentials
//
// With flags it runs the same flow against your authorization server:
//
//	go run ./examples/mtls-client-credentials -issuer https://as.example \
//		-client-id my-service -cert client.crt -cert-key client.key \
//		-scope accounts -resource https://api.example -api https://api.example/accounts
//
// It prints one line per step and never a whole token: tokens and
// thumbprints are shortened to their first 8 characters. A failed step is one
// line on stderr and exit status 1.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// timeout bounds the whole run.
const timeout = 30 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command line flags.
type options struct {
	issuer, clientID, cert, certKey, ca, scope, api string
	resources                                       []string
}

// run is the whole program: it parses args, runs the flow and returns the
// exit status: 0 on success, 1 when a step failed, 2 for bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, hooks{})
}

// runWith is run with the hooks tests use to make the embedded servers
// misbehave and to watch their requests.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, h hooks) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := setupAndRun(ctx, o, stdout, h); err != nil {
		fmt.Fprintln(stderr, "mtls-client-credentials:", oneLine(err))
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("mtls-client-credentials", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.issuer, "issuer", "", "authorization server's issuer identifier (https); empty starts the embedded servers")
	fs.StringVar(&o.clientID, "client-id", "", "client_id registered for tls_client_auth")
	fs.StringVar(&o.cert, "cert", "", "client certificate (PEM)")
	fs.StringVar(&o.certKey, "cert-key", "", "private key of -cert (PEM)")
	fs.StringVar(&o.ca, "ca", "", "PEM trust anchors of the servers' certificates (default: the system roots)")
	fs.StringVar(&o.scope, "scope", "accounts", "space-separated scopes to ask for")
	fs.Func("resource", "resource indicator, RFC 8707 (repeatable)", func(s string) error {
		o.resources = append(o.resources, s)
		return nil
	})
	fs.StringVar(&o.api, "api", "", "URL of an mTLS-protected API to call with the token")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "mtls-client-credentials: unexpected argument", fs.Arg(0))
		return o, errors.New("unexpected argument")
	}
	return o, nil
}

// setupAndRun builds the client from the flags, or for the embedded servers
// without -issuer, and runs the flow.
func setupAndRun(ctx context.Context, o options, w io.Writer, h hooks) error {
	var (
		cert  tls.Certificate
		roots *x509.CertPool   // nil: the system roots
		other *tls.Certificate // demo only: another client's certificate
		err   error
	)
	if o.issuer == "" {
		if o.clientID != "" || o.cert != "" || o.certKey != "" || o.ca != "" || o.api != "" {
			return errors.New("flags: -client-id, -cert, -cert-key, -ca and -api need -issuer")
		}
		demo, err := startEmbedded(h)
		if err != nil {
			return fmt.Errorf("embedded servers: %w", err)
		}
		defer demo.close()
		fmt.Fprintf(w, "   embedded   authorization server %s, API %s\n", demo.issuer, demo.api)
		o.issuer, o.clientID, o.api = demo.issuer, demo.clientID, demo.api
		if o.resources == nil {
			o.resources = []string{demo.resource}
		}
		cert, roots, other = demo.cert, demo.roots, &demo.otherCert
	} else {
		if o.cert == "" || o.certKey == "" {
			return errors.New("flags: -cert and -cert-key are required with -issuer")
		}
		if cert, err = tls.LoadX509KeyPair(o.cert, o.certKey); err != nil {
			return fmt.Errorf("flags: -cert/-cert-key: %w", err)
		}
		if cert.Leaf == nil { // set by LoadX509KeyPair unless GODEBUG=x509keypairleaf=0
			if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				return fmt.Errorf("flags: -cert: %w", err)
			}
		}
		if roots, err = loadRoots(o.ca); err != nil {
			return err
		}
	}
	conf := &hardened.Config{
		Config:      oauth2.Config{ClientID: o.clientID, Scopes: strings.Fields(o.scope)},
		Issuer:      o.issuer,
		Certificate: &cert, // client authentication and token binding: RFC 8705 §2 and §3
		RootCAs:     roots,
	}
	if err := flow(ctx, conf, o.resources, o.api, other, w); err != nil {
		return err
	}
	fmt.Fprintln(w, "ok")
	return nil
}

// flow is what a real service does: get a certificate-bound token and call
// the API with it over the same certificate. other, demo only, is another
// client's certificate, to show that the token is useless without ours.
func flow(ctx context.Context, conf *hardened.Config, resources []string, api string, other *tls.Certificate, w io.Writer) error {
	fmt.Fprintf(w, "   client     %s, certificate %s, x5t#S256 %s\n",
		conf.ClientID, conf.Certificate.Leaf.Subject, short(mtlsbound.Thumbprint(conf.Certificate.Leaf)))

	// 1. The token: the client authenticates with its certificate at the
	// token endpoint's mTLS alias (RFC 8705 §5), and the server binds the
	// token to that certificate (cnf x5t#S256). The token type stays Bearer:
	// the binding travels in the TLS handshake, not in a header.
	ts := conf.ClientCredentials(ctx, hardened.ResourceOption(resources...))
	tok, err := ts.Token()
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	fmt.Fprintf(w, " 1 token      %s %s for %s, expires in %s\n",
		tok.Type(), short(tok.AccessToken), strings.Join(resources, " "), time.Until(tok.Expiry).Round(time.Minute))
	if api == "" {
		fmt.Fprintln(w, "   (no -api: nothing to call)")
		return nil
	}

	// 2. The call: conf.NewClient sends the token over a connection that
	// presents the same certificate, so the API's mtlsbound.Verifier finds
	// the certificate the token is bound to.
	status, body, err := get(ctx, conf.NewClient(ctx, ts), api)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("api: %d %s %s", status, http.StatusText(status), body)
	}
	fmt.Fprintf(w, " 2 api        %d %s %s\n", status, http.StatusText(status), body)

	// 3. Demo only: the same token sent by another client of the same CA,
	// as a thief would: the TLS handshake succeeds, the binding does not.
	if other != nil {
		stolen := &http.Client{Transport: &oauth2.Transport{
			Source: oauth2.StaticTokenSource(tok),
			Base:   &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{*other}, RootCAs: conf.RootCAs, MinVersion: tls.VersionTLS12}},
		}, Timeout: 10 * time.Second}
		status, _, err := get(ctx, stolen, api)
		if err != nil {
			return fmt.Errorf("api with another certificate: %w", err)
		}
		if status != http.StatusUnauthorized {
			return fmt.Errorf("api with another certificate: %d, want 401", status)
		}
		fmt.Fprintf(w, " 3 stolen     the same token from another client's certificate: %d %s\n", status, http.StatusText(status))
	}
	return nil
}

// get GETs u with c and returns the status and the body's first line,
// at most 200 bytes of it, made safe to print ([clean]): the API chose it.
func get(ctx context.Context, c *http.Client, u string) (int, string, error) {
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
	return res.StatusCode, clean(strings.TrimSpace(line)), nil
}

// clean makes text a server chose safe to print on a terminal or in a log:
// every character that is not printable (a carriage return, the ESC of a
// terminal escape sequence, a bidirectional override), a backslash and
// each byte of invalid UTF-8 are written as a Go escape (\r, \x1b,
// \u202e, \\, \xff), so that the text cannot forge a line of the
// program's output nor drive the terminal.
func clean(s string) string {
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
			q := strconv.QuoteRuneToASCII(r) // '\r', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// loadRoots reads a PEM file of trust anchors; "" means the system roots.
func loadRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
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

// short returns the first 8 characters of a token and "…": enough to tell
// tokens apart, too little to use one.
func short(s string) string {
	if len(s) <= 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:8] + "…"
}

// oneLine keeps an error on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
