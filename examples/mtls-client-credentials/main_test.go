package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
)

// requestLog records every request the embedded servers receive, in order.
type requestLog struct {
	mu   sync.Mutex
	reqs []string // "as /mtls/token", "api /accounts"
}

func (l *requestLog) see(server, path string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, server+" "+path)
}

// count returns how many requests went to one of the given
// "server /path" entries.
func (l *requestLog) count(entries ...string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		for _, e := range entries {
			if r == e {
				n++
			}
		}
	}
	return n
}

// countServer returns how many requests went to server.
func (l *requestLog) countServer(server string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		if strings.HasPrefix(r, server+" ") {
			n++
		}
	}
	return n
}

// tokenEndpoint names the token endpoint and its mTLS alias.
var tokenEndpoint = []string{"as /token", "as /mtls/token"}

// TestRun runs the example with no flags against the embedded servers and
// checks every line of its output, that no token is printed in full, and
// which requests the servers received.
func TestRun(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	log := &requestLog{}
	code := runWith(t.Context(), nil, &out, &errOut, hooks{observe: log.see})
	require.Equal(t, 0, code, errOut.String())
	require.Empty(t, errOut.String())

	want := []string{
		`^   embedded   authorization server https://127\.0\.0\.1:\d+, API https://127\.0\.0\.1:\d+/accounts$`,
		`^   client     mtls-service, certificate CN=mtls-service,O=hardened demo, x5t#S256 [\w-]{8}…$`,
		`^ 1 token      Bearer [\w-]{8}… for https://127\.0\.0\.1:\d+, expires in 10m0s$`,
		`^ 2 api        200 OK \{"client_id":"mtls-service","scope":"accounts","x5t#S256":"[\w-]{8}…"\}$`,
		`^ 3 stolen     the same token from another client's certificate: 401 Unauthorized$`,
		`^ok$`,
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, got, len(want), out.String())
	for i, w := range want {
		require.Regexp(t, w, got[i])
	}
	// The thumbprint the API saw is the client's own.
	thumb := regexp.MustCompile(`x5t#S256 ([\w-]{8})…`).FindStringSubmatch(got[1])[1]
	require.Contains(t, got[3], `"x5t#S256":"`+thumb+`…"`)

	// One token request, at the mTLS alias; the API introspected the token
	// for each of the two calls, and no call reached the plain endpoint.
	require.Equal(t, 1, log.count("as /mtls/token"))
	require.Equal(t, 0, log.count("as /token"))
	require.Equal(t, 2, log.count("as /introspect", "as /mtls/introspect"))
	require.Equal(t, 2, log.count("api /accounts"))
}

// TestRunRefuses runs the example against an embedded authorization server
// that misbehaves, one way per case: the run must fail with one line on
// stderr naming the problem and exit 1, and the API must never be called
// with what the client refused.
func TestRunRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		misbehave authserver.Misbehave
		stderr    string // a part of the one error line
		tokens    int    // token requests made before the refusal
	}{
		{
			name:      "metadata for another issuer",
			misbehave: authserver.Misbehave{WrongDiscoveryIssuer: true},
			stderr:    "metadata issuer does not match",
			tokens:    0,
		},
		{
			name:      "token response without token_type",
			misbehave: authserver.Misbehave{OmitTokenType: true},
			stderr:    "token: ",
			tokens:    1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			log := &requestLog{}
			code := runWith(t.Context(), nil, &out, &errOut, hooks{misbehave: tc.misbehave, observe: log.see})
			require.Equal(t, 1, code)
			require.Contains(t, errOut.String(), tc.stderr)
			require.Regexp(t, `^mtls-client-credentials: [^\n]+\n$`, errOut.String(), "one line")
			require.NotContains(t, out.String(), "ok\n")
			require.Equal(t, tc.tokens, log.count(tokenEndpoint...))
			require.Equal(t, 0, log.countServer("api"), "nothing reaches the API")
		})
	}
}

// TestFlags checks the command line: usage errors exit 2, flags that do not
// fit together or files that cannot be read exit 1 with one line, before
// any request.
func TestFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "unknown flag", args: []string{"-nope"}, code: 2, stderr: "flag provided but not defined"},
		{name: "argument", args: []string{"extra"}, code: 2, stderr: "unexpected argument"},
		{name: "certificate without issuer", args: []string{"-cert", "c.pem"}, code: 1, stderr: "need -issuer"},
		{name: "issuer without certificate", args: []string{"-issuer", "https://as.example"}, code: 1, stderr: "-cert and -cert-key are required"},
		{
			name:   "missing certificate file",
			args:   []string{"-issuer", "https://as.example", "-cert", "/nonexistent/c.pem", "-cert-key", "/nonexistent/k.pem"},
			code:   1,
			stderr: "-cert/-cert-key",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			require.Equal(t, tc.code, run(t.Context(), tc.args, &out, &errOut))
			require.Contains(t, errOut.String(), tc.stderr)
			require.Empty(t, out.String())
		})
	}
}

// TestRunCanceled checks that a canceled run stops with exit 1 and one line.
func TestRunCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out, errOut bytes.Buffer
	require.Equal(t, 1, run(ctx, nil, &out, &errOut))
	require.Regexp(t, `^mtls-client-credentials: token: [^\n]+\n$`, errOut.String())
}

// TestBinary builds the program and runs it as a newcomer would, to prove
// the real exit statuses: 0 for the demo, 1 for a failed step.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "mtls-client-credentials")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	out, err := exec.CommandContext(t.Context(), bin).Output()
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(string(out), "\nok\n"), string(out))

	// A certificate of our own, and an issuer where nothing listens.
	cert, err := authserver.SelfSignedCertificate("someone")
	require.NoError(t, err)
	keyPEM, err := hardened.MarshalPrivateKeyPEM(cert.PrivateKey.(crypto.Signer))
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	cmd := exec.CommandContext(t.Context(), bin, "-issuer", "https://127.0.0.1:1", "-client-id", "someone", "-cert", certFile, "-cert-key", keyFile)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err = cmd.Run()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr)
	require.Equal(t, 1, exitErr.ExitCode())
	require.Regexp(t, `^mtls-client-credentials: token: [^\n]+\n$`, errOut.String())
}

// TestFlowRogueAPIEscaped runs the flow against an API that answers with
// terminal escapes, a carriage return and a bidirectional override, once
// with 200 and once with 500: what the program prints (the success line,
// or the one error line) holds none of them raw, so the API cannot forge a
// line of output ("ok") nor drive the terminal.
func TestFlowRogueAPIEscaped(t *testing.T) {
	t.Parallel()
	const rogue = "\x1b[2J\x1b]0;owned\x07\rok \u202e gnp.exe\x00"
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			demo, err := startEmbedded(hooks{})
			require.NoError(t, err)
			t.Cleanup(demo.close)
			api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(status)
				_, _ = io.WriteString(w, rogue+"\nsecond line")
			}))
			t.Cleanup(api.Close)
			roots := demo.roots.Clone()
			roots.AddCert(api.Certificate())
			conf := &hardened.Config{
				Config:      oauth2.Config{ClientID: demo.clientID, Scopes: []string{"accounts"}},
				Issuer:      demo.issuer,
				Certificate: &demo.cert,
				RootCAs:     roots,
			}
			var out bytes.Buffer
			err = flow(t.Context(), conf, []string{demo.resource}, api.URL, nil, &out)
			shown := out.String()
			if status != http.StatusOK {
				require.Error(t, err)
				shown = oneLine(err)
			} else {
				require.NoError(t, err)
			}
			for _, c := range []string{"\x1b", "\r", "\x07", "\x00", "\u202e"} {
				require.NotContains(t, shown, c, "a control character of the API reached the output")
			}
		})
	}
}
