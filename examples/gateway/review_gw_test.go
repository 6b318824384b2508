package main

import (
	"bufio"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGWNginxModeBelievesUnconfiguredCertHeader: with -auth-request nginx
// the gateway always believes X-SSL-Client-Cert from loopback, although no
// flag asked for certificate-bound tokens (-client-ca needs -tls-cert, which
// this mode does not use). The nginx configuration the top-level README
// gives for "examples/gateway -auth-request" never sets (nor clears) that
// header in the /_phantom location, and nginx passes the client's headers to
// the auth subrequest: a client that holds a stolen certificate-bound token
// and the victim's certificate (public: sent in TLS handshakes, registered
// as x5c) sends both, and the RFC 8705 binding is void.
func TestGWNginxModeBelievesUnconfiguredCertHeader(t *testing.T) {
	t.Parallel()
	p := newPeer(t)
	var out buffer
	gw := start(t, []string{"-auth-request", "-listen", "127.0.0.1:0", "-external-url", "https://api.example",
		"-issuer", p.as.Issuer(), "-client-id", "gateway", "-client-secret", "gateway-secret", "-ca", p.caFile}, &out)
	tok := p.mtlsToken(t) // bound to the victim's certificate

	// What the attacker sends to nginx arrives, through the README's
	// auth_request location, at the gateway from 127.0.0.1 like this.
	victimPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.appCert.Certificate[0]}))
	req, err := http.NewRequest("GET", gw+"/_phantom", nil)
	require.NoError(t, err)
	req.Header.Set("X-Original-Method", "GET")
	req.Header.Set("X-Original-URI", "/orders")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-SSL-Client-Cert", nginxEscape(victimPEM)) // forged by the client, no TLS client auth at all
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.NotEqual(t, http.StatusOK, resp.StatusCode,
		"a certificate-bound token was admitted on a client-supplied certificate header (upstream header %q...)",
		truncate(resp.Header.Get("Authorization"), 16))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// nginxEscape is $ssl_client_escaped_cert's encoding.
func nginxEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// TestGWIdleKeepAliveIsUnbounded: the server sets ReadHeaderTimeout only,
// so IdleTimeout (0, and ReadTimeout 0) is unlimited: after one cheap,
// unauthenticated request (401 without any introspection), a connection can
// idle for ever. Anyone who can reach the gateway holds as many connections
// (file descriptors, goroutines, buffers) as they like, until accept fails
// for everyone. The test waits 31 s and expects the connection closed.
func TestGWIdleKeepAliveIsUnbounded(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 31 s")
	}
	t.Parallel()
	p := newPeer(t)
	var out buffer
	gw := start(t, []string{"-auth-request", "-listen", "127.0.0.1:0", "-external-url", "https://api.example",
		"-issuer", p.as.Issuer(), "-client-id", "gateway", "-client-secret", "gateway-secret", "-ca", p.caFile}, &out)
	conn, err := net.Dial("tcp", strings.TrimPrefix(gw, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	br := bufio.NewReader(conn)
	_, err = io.WriteString(conn, "GET /x HTTP/1.1\r\nHost: gw\r\nX-Original-Method: GET\r\nX-Original-URI: /\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	time.Sleep(31 * time.Second) // idle: no byte sent
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("an idle keep-alive connection is still open after 31 s: the server has no IdleTimeout")
	}
}
