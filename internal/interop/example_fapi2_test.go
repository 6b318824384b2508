package interop_test

// Flow 5: examples/fapi2, built and run as a program with its flags against
// the peer, as an authorization server's test suite would run it.

import (
	"bytes"
	"context"
	"crypto"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/jarm"
)

// fapi2Package is the example's import path.
const fapi2Package = "github.com/hardened-oauth/hardened/examples/fapi2"

// buildFAPI2 builds examples/fapi2 into a temporary directory.
func buildFAPI2(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds examples/fapi2")
	bin := filepath.Join(t.TempDir(), "fapi2")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, fapi2Package).CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", fapi2Package, out)
	return bin
}

// writeFile writes a secret test file (keys) readable by the owner only.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// runFAPI2 runs the example and returns its exit status, stdout and stderr.
func runFAPI2(ctx context.Context, t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	require.NoError(t, err, "running fapi2")
	return -1, "", ""
}

// TestExampleFAPI2 runs examples/fapi2 against the peer in each nonce mode:
// its whole flow (PAR with a signed request object, headless
// authorization, JARM callback, token with the ID token checked, userinfo
// as the API, refresh, revocation) exits 0, with DPoP or, with -cert,
// certificate-bound tokens, and signed or encrypted JARM. With a wrong
// -issuer it exits 1, with one line on stderr and nothing else sent.
func TestExampleFAPI2(t *testing.T) {
	t.Parallel()
	bin := buildFAPI2(t)
	dir := t.TempDir()

	jwkFile := func(name string, key crypto.Signer, kid string) string {
		raw, err := hardened.MarshalPrivateJWK(key, kid)
		require.NoError(t, err)
		return writeFile(t, dir, name, raw)
	}
	fapiKey := jwkFile("fapi.jwk", env.fapi.key, env.fapi.kid)
	encClientKey := jwkFile("fapi-enc.jwk", env.fapiEnc.key, env.fapiEnc.kid)
	encKey := jwkFile("fapi-enc-decrypt.jwk", env.fapiEnc.encKey, env.fapiEnc.encKID)
	certClientKey := jwkFile("cert-bound.jwk", env.codeCertBound.key, env.codeCertBound.kid)
	dpopKey, err := dpop.GenerateKey()
	require.NoError(t, err)
	dpopPEM, err := hardened.MarshalPrivateKeyPEM(dpopKey)
	require.NoError(t, err)
	dpopFile := writeFile(t, dir, "dpop.pem", dpopPEM)
	cert := env.codeCertBound.mtls.cert
	certFile := writeFile(t, dir, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}))
	certKeyPEM, err := hardened.MarshalPrivateKeyPEM(cert.PrivateKey.(crypto.Signer))
	require.NoError(t, err)
	certKeyFile := writeFile(t, dir, "cert-key.pem", certKeyPEM)

	type testCase struct {
		name string
		mode string
		args []string
	}
	var tests []testCase
	for _, mode := range nonceModes {
		tests = append(tests,
			testCase{name: "DPoP, signed JARM jwt, nonce " + mode, mode: mode, args: []string{
				"-client-id", env.fapi.id, "-key", fapiKey, "-dpop-key", dpopFile, "-response-mode", jarm.ModeJWT,
			}},
			testCase{name: "DPoP, encrypted JARM query.jwt, nonce " + mode, mode: mode, args: []string{
				"-client-id", env.fapiEnc.id, "-key", encClientKey, "-enc-key", encKey, "-response-mode", jarm.ModeQueryJWT,
			}},
			testCase{name: "certificate-bound, signed JARM jwt, nonce " + mode, mode: mode, args: []string{
				"-client-id", env.codeCertBound.id, "-key", certClientKey, "-cert", certFile, "-cert-key", certKeyFile, "-response-mode", jarm.ModeJWT,
			}},
		)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pv := peerFor(t, tc.mode)
			ctx := testCtx(t)
			args := append([]string{
				"-issuer", pv.issuer,
				"-ca", env.pki.caPath,
				"-redirect-uri", redirectURI,
				"-scope", "openid email",
				"-api", pv.md.UserinfoEndpoint,
				"-headless",
			}, tc.args...)
			code, stdout, stderr := runFAPI2(ctx, t, bin, args...)
			require.Equal(t, 0, code, "fapi2 exit status; stderr:\n%s\nstdout:\n%s", stderr, stdout)
			require.Empty(t, stderr)
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			require.Equal(t, "ok", lines[len(lines)-1], stdout)
			// The API (the peer's userinfo) answered with the user's claims.
			require.Contains(t, stdout, `"sub":"`+accountID+`"`, stdout)
		})
	}

	t.Run("wrong issuer", func(t *testing.T) {
		t.Parallel()
		p := env.peers[nonceOff]
		p.logOnFailure(t)
		// The peer's host under another name: its metadata names
		// 127.0.0.1, which RFC 8414 §3.3 forbids using.
		other := "https://localhost:" + mustParseURL(t, p.issuer).Port()
		code, stdout, stderr := runFAPI2(testCtx(t), t, bin,
			"-issuer", other, "-client-id", env.fapi.id, "-key", fapiKey, "-ca", env.pki.caPath,
			"-redirect-uri", redirectURI, "-headless")
		require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		require.NotContains(t, stdout, "ok\n")
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		require.Len(t, lines, 1, stderr)
		require.True(t, strings.HasPrefix(lines[0], "fapi2: "), stderr)
		require.Contains(t, lines[0], "issuer", stderr)
	})
}
