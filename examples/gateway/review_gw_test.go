package main

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"

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
