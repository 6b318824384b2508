package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
)

// A rogue authorization server picks the ID token's "sub" (and the code,
// the tokens, the parameter names of its redirect and of its
// authorization_endpoint). The program prints these as they are: a "sub"
// with a newline and terminal escape sequences forges output lines (a
// fake "ok") and drives the user's terminal, although server text is meant
// to be sanitized before it reaches a log or a terminal.
func TestReviewASRogueServerTextReachesTerminal(t *testing.T) {
	t.Parallel()
	pki, err := authserver.NewPKI()
	require.NoError(t, err)
	key := genTestKey(t)
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

	dir := t.TempDir()
	keyPEM, err := hardened.MarshalPrivateKeyPEM(key)
	require.NoError(t, err)
	keyFile := filepath.Join(dir, "client.pem")
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.CA().Raw}), 0o600))

	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{
		"-issuer", srv.Issuer(), "-client-id", "rogue-victim", "-key", keyFile, "-ca", caFile,
		"-redirect-uri", redirect, "-response-mode", "query",
	}, &out, &errOut)
	t.Logf("exit %d\nstdout:\n%q\nstderr: %q", code, out.String(), errOut.String())
	for _, line := range strings.SplitAfter(out.String(), "\n") {
		for _, r := range strings.TrimSuffix(line, "\n") {
			require.False(t, unicode.IsControl(r), "control character %U from the server reached the output: %q", r, line)
		}
	}
	require.NotContains(t, out.String(), "\nfapi2: everything verified\n", "a server-chosen line was printed as the program's own")
}

func genTestKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}
