package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

// TestBinaryStderrIsOneLine runs the built program against an
// authorization server that, after a complete metadata response, sends
// bytes nobody asked for on the idle keep-alive connection: net/http logs
// such an "unsolicited response" (quoting the bytes) through the standard
// logger, on stderr. The server then refuses the push. The program must
// still exit 1 with its one line on stderr: nothing a server sends adds a
// line of its own.
func TestBinaryStderrIsOneLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	pki, err := authserver.NewPKI()
	require.NoError(t, err)
	cert, err := pki.IssueServerCertificate()
	require.NoError(t, err)

	var origin string // https://127.0.0.1:port, the issuer; the endpoints are on localhost
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server":
			ep := strings.Replace(origin, "127.0.0.1", "localhost", 1)
			md, _ := json.Marshal(map[string]any{
				"issuer": origin, "authorization_endpoint": ep + "/authorize", "token_endpoint": ep + "/token",
				"pushed_authorization_request_endpoint": ep + "/par", "jwks_uri": ep + "/jwks",
				"response_types_supported": []string{"code"}, "token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
				"authorization_response_iss_parameter_supported": true,
			})
			conn, bw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			fmt.Fprintf(bw, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(md), md)
			_ = bw.Flush()
			time.Sleep(50 * time.Millisecond) // the connection is idle in the client's pool by now
			_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\n\r\nfapi2: everything verified"))
			time.Sleep(5 * time.Second)
			_ = conn.Close()
		case "/par":
			time.Sleep(time.Second) // the program is still running when the unsolicited bytes arrive
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	origin = srv.URL

	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	keyFile, caFile := writeKeyAndCA(t, key, pki)

	bin := filepath.Join(dir, "fapi2")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	cmd := exec.CommandContext(t.Context(), bin, "-issuer", origin, "-client-id", "app", "-key", keyFile, "-ca", caFile,
		"-response-mode", "query")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err = cmd.Run()
	var exitErr *exec.ExitError
	require.True(t, errors.As(err, &exitErr), "%v", err)
	require.Equal(t, 1, exitErr.ExitCode())
	require.Regexp(t, `^fapi2: pushed authorization request: [^\n]+\n$`, errOut.String(), "one line on stderr")
}
