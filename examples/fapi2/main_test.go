package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/headless"
)

// requestLog records every request the embedded servers receive, in order,
// as "as /token", "gateway /me", "api /me".
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) see(server, path string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, server+" "+path)
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

// count returns how many requests went to entry ("as /token"), or to any
// path of a server when entry is just its name ("gateway").
func (l *requestLog) count(entry string) int {
	n := 0
	for _, r := range l.all() {
		if r == entry || strings.HasPrefix(r, entry+" ") {
			n++
		}
	}
	return n
}

// after returns the requests after the last one to entry.
func (l *requestLog) after(entry string) []string {
	reqs := l.all()
	i := slices.Index(reqs, entry)
	for j, r := range reqs {
		if r == entry {
			i = j
		}
	}
	if i < 0 {
		return nil
	}
	return reqs[i+1:]
}

// longRun finds runs of token characters long enough to be a token.
var longRun = regexp.MustCompile(`[A-Za-z0-9_-]{20,}`)

// requireNoToken fails when s holds something that looks like a whole
// token, code or key: a long run of base64url characters that is not a
// snake_case word.
func requireNoToken(t *testing.T, s string) {
	t.Helper()
	for _, run := range longRun.FindAllString(s, -1) {
		require.Regexp(t, `^[a-z_]+$`, run, "a token-like value was printed")
	}
}

// TestRun runs the example with no flags, as `go run ./examples/fapi2`
// does, and checks every line, that no token is printed whole, and what the
// embedded servers received.
func TestRun(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	log := &requestLog{}
	code := runWith(t.Context(), nil, &out, &errOut, hooks{observe: log.see})
	require.Equal(t, 0, code, errOut.String())
	require.Empty(t, errOut.String())

	want := []string{
		`^   embedded   authorization server https://127\.0\.0\.1:\d+, API gateway https://127\.0\.0\.1:\d+ -> API http://127\.0\.0\.1:\d+$`,
		`^ 1 pushed     PAR with a signed request object \(PKCE S256, state, nonce, dpop_jkt\); the browser gets client_id, request_uri$`,
		`^ 2 redirected back to https://client\.example\.org/callback with response$`,
		`^ 3 callback   JARM response \(signature, iss, aud, exp, state\) checked: code [\w-]{8}…$`,
		`^ 4 token      DPoP access token [\w-]{8}…, refresh token ([\w-]{8})…, expires in 10m0s$`,
		`^ 5 id token   sub test-user, ES256: signature, iss, aud, exp, iat, nonce, at_hash, c_hash verified$`,
		`^ 6 api        200 OK \{"client_id":"fapi-client","scope":"openid","sub":"test-user"\}$`,
		`^ 7 refreshed  access token [\w-]{8}…, refresh token ([\w-]{8})… -> ([\w-]{8})…$`,
		`^ 8 api        200 OK \{"client_id":"fapi-client","scope":"openid","sub":"test-user"\}$`,
		`^ 9 revoked    access token [\w-]{8}… and refresh token [\w-]{8}…$`,
		`^10 api        401 Unauthorized: the revoked token is refused$`,
		`^ok$`,
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, got, len(want), out.String())
	for i, w := range want {
		require.Regexp(t, w, got[i])
	}
	requireNoToken(t, out.String())
	// The refresh started from the login's refresh token, and rotated it.
	first := regexp.MustCompile(want[4]).FindStringSubmatch(got[4])[1]
	rotated := regexp.MustCompile(want[7]).FindStringSubmatch(got[7])
	require.Equal(t, first, rotated[1])
	require.NotEqual(t, rotated[1], rotated[2])

	// One login, the exchange and the refresh, two revocations; the API saw
	// the two calls that the gateway admitted, never the revoked token.
	require.Equal(t, 1, log.count("as /authorize"))
	require.Equal(t, 2, log.count("as /token"))
	require.Equal(t, 2, log.count("as /revoke"))
	require.Equal(t, 2, log.count("api /me"))
	require.GreaterOrEqual(t, log.count("gateway /me"), 3)
	// The gateway introspected every request it received, the refused one
	// included (caching is off in the demo).
	require.Equal(t, log.count("gateway /me"), log.count("as /introspect"))
}

// TestFlowLength holds the flow, the part a newcomer copies, to 60 lines:
// the acceptance test of hardened.Config's API.
func TestFlowLength(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(src), "// ---- flow: begin ----\n")
	require.True(t, ok)
	flow, _, ok := strings.Cut(rest, "// ---- flow: end ----")
	require.True(t, ok)
	require.LessOrEqual(t, strings.Count(flow, "\n"), 60)
}

// TestRunRefuses runs the example against an embedded authorization server
// that misbehaves, one way per case. Each run must exit 1 with one line on
// stderr naming what was wrong, and send nothing more once the check
// failed: no token request after a rejected authorization response, nothing
// after a rejected token response or ID token (the key set fetch the check
// itself needs aside), and nothing ever reaches the API with a refused token.
func TestRunRefuses(t *testing.T) {
	t.Parallel()
	const (
		atCallback = "callback" // rejected by Config.Callback
		atToken    = "token"    // rejected by Config.Exchange
		atAPI      = "api"      // refused by the gateway
	)
	query := []string{"-response-mode", "query"}
	tests := []struct {
		name      string
		args      []string
		misbehave authserver.Misbehave
		stage     string
		stderr    string // a part of the one error line
	}{
		{name: "forged JARM", misbehave: authserver.Misbehave{JARMForeignKey: true}, stage: atCallback, stderr: "invalid signature"},
		{name: "unsigned JARM", misbehave: authserver.Misbehave{JARMAlgNone: true}, stage: atCallback, stderr: "callback: hardened: authorization response rejected"},
		{name: "expired JARM", misbehave: authserver.Misbehave{JARMExpired: true}, stage: atCallback, stderr: "callback: hardened: authorization response rejected"},
		{name: "JARM for another client", misbehave: authserver.Misbehave{JARMWrongAudience: true}, stage: atCallback, stderr: "callback: hardened: authorization response rejected"},
		{name: "JARM with a wrong iss", misbehave: authserver.Misbehave{WrongIssuer: true}, stage: atCallback, stderr: "callback: hardened: authorization response rejected"},
		{name: "JARM with a wrong state", misbehave: authserver.Misbehave{WrongState: true}, stage: atCallback, stderr: "callback: hardened: authorization response rejected"},
		{name: "wrong iss", args: query, misbehave: authserver.Misbehave{WrongIssuer: true}, stage: atCallback, stderr: "callback: hardened: authorization response rejected"},
		{name: "missing iss", args: query, misbehave: authserver.Misbehave{OmitIssuer: true}, stage: atCallback, stderr: "callback: hardened: authorization response rejected"},
		{name: "wrong state", args: query, misbehave: authserver.Misbehave{WrongState: true}, stage: atCallback, stderr: "callback: hardened: authorization response rejected"},
		{name: "ID token signed by a foreign key", misbehave: authserver.Misbehave{IDTokenForeignKey: true}, stage: atToken, stderr: "invalid ID token: signature"},
		{name: "ID token with alg none", misbehave: authserver.Misbehave{IDTokenAlgNone: true}, stage: atToken, stderr: "invalid ID token"},
		{name: "ID token with HS256", misbehave: authserver.Misbehave{IDTokenHS256: true}, stage: atToken, stderr: "invalid ID token"},
		{name: "ID token from another issuer", misbehave: authserver.Misbehave{IDTokenWrongIssuer: true}, stage: atToken, stderr: "invalid ID token: iss"},
		{name: "ID token for another client", misbehave: authserver.Misbehave{IDTokenWrongAudience: true}, stage: atToken, stderr: "invalid ID token: aud"},
		{name: "expired ID token", misbehave: authserver.Misbehave{IDTokenExpired: true}, stage: atToken, stderr: "invalid ID token: exp"},
		{name: "ID token with a wrong nonce", misbehave: authserver.Misbehave{IDTokenWrongNonce: true}, stage: atToken, stderr: "invalid ID token: nonce"},
		{name: "ID token with a wrong at_hash", misbehave: authserver.Misbehave{IDTokenWrongATHash: true}, stage: atToken, stderr: "invalid ID token: at_hash"},
		{name: "ID token with a wrong c_hash", misbehave: authserver.Misbehave{IDTokenWrongCHash: true}, stage: atToken, stderr: "invalid ID token: c_hash"},
		{name: "bearer token where DPoP was used", misbehave: authserver.Misbehave{BearerTokenType: true}, stage: atToken, stderr: "not sender-constrained"},
		{name: "forged introspection response", misbehave: authserver.Misbehave{IntrospectionForeignKey: true}, stage: atAPI, stderr: "503 Service Unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			log := &requestLog{}
			code := runWith(t.Context(), tc.args, &out, &errOut, hooks{misbehave: tc.misbehave, observe: log.see})
			require.Equal(t, 1, code, out.String())
			require.Regexp(t, `^fapi2: [^\n]+\n$`, errOut.String(), "one line")
			require.Contains(t, errOut.String(), tc.stderr)
			require.Contains(t, errOut.String(), "fapi2: "+tc.stage)
			requireNoToken(t, errOut.String())
			requireNoToken(t, out.String())
			require.NotContains(t, out.String(), "\nok\n")

			require.Equal(t, 0, log.count("api"), "the API never sees a refused token")
			require.Equal(t, 0, log.count("as /revoke"))
			switch tc.stage {
			case atCallback:
				require.Equal(t, 0, log.count("as /token"), "no token request after a rejected response")
				requireOnlyKeys(t, log.after("as /authorize"))
				require.Equal(t, 0, log.count("gateway"))
			case atToken:
				require.Equal(t, 1, log.count("as /token"))
				requireOnlyKeys(t, log.after("as /token"))
				require.Equal(t, 0, log.count("gateway"))
			case atAPI:
				require.Equal(t, 1, log.count("as /token"))
				require.Positive(t, log.count("gateway /me"))
			}
		})
	}
}

// requireOnlyKeys fails unless reqs are key set fetches, which the check
// that failed may have needed.
func requireOnlyKeys(t *testing.T, reqs []string) {
	t.Helper()
	for _, r := range reqs {
		require.Equal(t, "as /jwks", r, "request after the rejection")
	}
}

// TestRunWithFlags runs the flow through the flags, against the embedded
// servers as if they were anyone's: the key files in both formats (PEM and
// JWK), an encrypted JARM response (-enc-key), the CA, the resource and the
// API.
func TestRunWithFlags(t *testing.T) {
	t.Parallel()
	encKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	demo, err := startEmbedded(hooks{jarmKey: encKey.Public()}, "https://app.example/cb", "query.jwt")
	require.NoError(t, err)
	t.Cleanup(demo.close)

	dpopKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	clientPEM, err := hardened.MarshalPrivateKeyPEM(demo.key)
	require.NoError(t, err)
	dpopJWK, err := hardened.MarshalPrivateJWK(dpopKey, "dpop-1")
	require.NoError(t, err)
	encPEM, err := hardened.MarshalPrivateKeyPEM(encKey)
	require.NoError(t, err)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		return path
	}
	keyFile := write("client.pem", clientPEM)
	dpopFile := write("dpop.jwk", dpopJWK)
	encFile := write("enc.pem", encPEM)
	caFile := write("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: demo.ca.Raw}))

	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{
		"-issuer", demo.issuer, "-client-id", demo.clientID, "-key", keyFile, "-dpop-key", dpopFile,
		"-enc-key", encFile, "-ca", caFile, "-redirect-uri", "https://app.example/cb",
		"-scope", "openid", "-resource", demo.gateway, "-response-mode", "query.jwt", "-api", demo.api,
	}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	require.Contains(t, out.String(), " 3 callback   encrypted JARM response (decrypted; signature, iss, aud, exp, state) checked")
	require.Contains(t, out.String(), "\n 6 api        200 OK {")
	require.Contains(t, out.String(), "the revoked token is refused\nok\n")
	requireNoToken(t, out.String())
}

// TestRunRogueSubjectEscaped runs the flags against an authorization
// server whose ID token "sub" holds terminal escape sequences and line
// breaks: the program prints it escaped, on its own line, so it can neither
// drive the terminal nor forge a line of output.
func TestRunRogueSubjectEscaped(t *testing.T) {
	t.Parallel()
	pki, err := authserver.NewPKI()
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	const redirect = "https://app.example/cb"
	srv, err := authserver.StartTLS(authserver.Config{
		PKI:       pki,
		DPoPNonce: authserver.NonceRequired,
		Subject:   "alice\x1b[2J\x1b]0;pwned\x07\nfapi2: everything verified\nok",
		Clients: []authserver.Client{{
			ID: "rogue-victim", AuthMethod: authserver.AuthPrivateKeyJWT, Keys: []crypto.PublicKey{key.Public()},
			RedirectURIs: []string{redirect}, RequirePAR: true, RequireSignedRequestObject: true, RequireDPoP: true,
		}},
	})
	require.NoError(t, err)
	t.Cleanup(srv.Close)

	keyFile, caFile := writeKeyAndCA(t, key, pki)

	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{
		"-issuer", srv.Issuer(), "-client-id", "rogue-victim", "-key", keyFile, "-ca", caFile,
		"-redirect-uri", redirect, "-response-mode", "query",
	}, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		for _, r := range line {
			require.False(t, unicode.IsControl(r), "control character %U from the server reached the output: %q", r, line)
		}
	}
	require.Contains(t, out.String(), ` 5 id token   sub alice\x1b[2J\x1b]0;pwned\a\nfapi2: everything verified\nok, ES256: `)
	require.NotContains(t, out.String(), "\nfapi2: everything verified\n", "a server-chosen line was printed as the program's own")
	requireNoToken(t, out.String())
}

// TestClean escapes what could drive a terminal or forge a line, and
// bounds the length.
func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		limit    int
		want     string
	}{
		{"printable", `{"sub":"test-user","name":"Zoë"}`, 200, `{"sub":"test-user","name":"Zoë"}`},
		{"line break", "a\nfapi2: ok\r", 200, `a\nfapi2: ok\r`},
		{"terminal escapes", "\x1b[2J\x1b]0;t\x07", 200, `\x1b[2J\x1b]0;t\a`},
		{"C1 control", "a\u009bb", 200, `a\u009bb`},
		{"bidirectional override", "user\u202egnp.exe", 200, `user\u202egnp.exe`},
		{"backslash", `a\nb`, 200, `a\\nb`},
		{"invalid UTF-8", "a\xffb", 200, `a\xffb`},
		{"cut", "abcdef", 4, "abcd…"},
		{"cut on a character boundary", "abcé", 4, "abc…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, clean(tc.in, tc.limit))
		})
	}
}

// TestShort shows 8 bytes of a token longer than 16, cleaned, and
// nothing of a shorter one.
func TestShort(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"none", "", "(none)"},
		{"9 bytes", "abcdefghi", "*********"},
		{"16 bytes", "abcdefghijklmnop", "****************"},
		{"17 bytes", "abcdefghijklmnopq", "abcdefgh…"},
		{"escapes", "\x1b[2J\nabcdefghijklmnop", `\x1b[2J\nabc…`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, short(tc.in))
		})
	}
}

// TestRunWithBrowser runs -headless=false: the program prints the
// authorization URL and serves the redirect URI; the test plays the user's
// browser, in each mode that reaches a server (query and form post).
func TestRunWithBrowser(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"jwt", "form_post.jwt", "query"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			redirectURI := "http://" + ln.Addr().String() + "/callback"
			require.NoError(t, ln.Close()) // the program listens there

			ctx := t.Context()
			started := make(chan *embedded, 1)
			pr, pw := io.Pipe()
			done := make(chan int, 1)
			var errOut bytes.Buffer
			go func() {
				defer pw.Close()
				done <- runWith(ctx, []string{"-headless=false", "-redirect-uri", redirectURI, "-response-mode", mode}, pw, &errOut,
					hooks{started: func(e *embedded) { started <- e }})
			}()
			var lines []string
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				line := sc.Text()
				lines = append(lines, line)
				authURL, ok := strings.CutPrefix(line, "   open       ")
				if !ok {
					continue
				}
				// The user's browser: it trusts the demo's CA, logs in, and
				// comes back to the redirect URI.
				demo := <-started
				tr := http.DefaultTransport.(*http.Transport).Clone()
				tr.TLSClientConfig = tlsConfig(demo.roots)
				cb, err := headless.Authorize(ctx, &http.Client{Transport: tr}, authURL, redirectURI)
				require.NoError(t, err)
				res, err := http.DefaultClient.Do(cb)
				require.NoError(t, err)
				body, err := io.ReadAll(res.Body)
				require.NoError(t, err)
				require.NoError(t, res.Body.Close())
				require.Equal(t, http.StatusOK, res.StatusCode)
				require.Contains(t, string(body), "Login received")
			}
			require.Equal(t, 0, <-done, errOut.String())
			require.Contains(t, lines, "   waiting    for the browser at "+redirectURI+" (at most 5m0s)")
			require.Equal(t, "ok", lines[len(lines)-1])
		})
	}
}

// TestFlags checks the command line: usage errors exit 2; flags that do not
// fit together and files that cannot be read exit 1 with one line, before
// any request.
func TestFlags(t *testing.T) {
	t.Parallel()
	issuer := []string{"-issuer", "https://127.0.0.1:1", "-client-id", "app"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "unknown flag", args: []string{"-nope"}, code: 2, stderr: "flag provided but not defined"},
		{name: "argument", args: []string{"extra"}, code: 2, stderr: "unexpected argument"},
		{name: "key without issuer", args: []string{"-key", "k.pem"}, code: 1, stderr: "need -issuer"},
		{name: "api without issuer", args: []string{"-api", "https://api.example"}, code: 1, stderr: "need -issuer"},
		{name: "missing key file", args: append(issuer, "-key", "/nonexistent/k.pem"), code: 1, stderr: "fapi2: flags: -key: "},
		{name: "missing DPoP key file", args: append(issuer, "-dpop-key", "/nonexistent/k.pem"), code: 1, stderr: "fapi2: flags: -dpop-key: "},
		{name: "missing decryption key file", args: append(issuer, "-enc-key", "/nonexistent/k.pem"), code: 1, stderr: "fapi2: flags: -enc-key: "},
		{name: "certificate without key", args: append(issuer, "-cert", "c.pem"), code: 1, stderr: "-cert and -cert-key go together"},
		{name: "missing CA file", args: append(issuer, "-ca", "/nonexistent/ca.pem"), code: 1, stderr: "fapi2: flags: -ca: "},
		{name: "unreachable server", args: issuer, code: 1, stderr: "fapi2: pushed authorization request: "},
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
	require.Regexp(t, `^fapi2: [^\n]+\n$`, errOut.String())
}

// TestBinary builds the program and runs it as a newcomer would, to prove
// the real exit statuses: 0 for the demo, 1 for a failed step.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "fapi2")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	out, err := exec.CommandContext(t.Context(), bin).Output()
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(string(out), "refused\nok\n"), string(out))

	cmd := exec.CommandContext(t.Context(), bin, "-issuer", "https://127.0.0.1:1", "-client-id", "app")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err = cmd.Run()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr)
	require.Equal(t, 1, exitErr.ExitCode())
	require.Regexp(t, `^fapi2: pushed authorization request: [^\n]+\n$`, errOut.String())
}

// writeKeyAndCA writes the client's key (PEM) and the CA of pki into a
// temporary directory, for the -key and -ca flags.
func writeKeyAndCA(t *testing.T, key crypto.Signer, pki *authserver.PKI) (keyFile, caFile string) {
	t.Helper()
	dir := t.TempDir()
	keyPEM, err := hardened.MarshalPrivateKeyPEM(key)
	require.NoError(t, err)
	keyFile = filepath.Join(dir, "client.pem")
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	caFile = filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.CA().Raw}), 0o600))
	return keyFile, caFile
}
