package mtlsbound_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// opaqueSigner stands for a hardware key: it exposes only crypto.Signer.
type opaqueSigner struct {
	inner crypto.Signer
	calls atomic.Int32
}

func (o *opaqueSigner) Public() crypto.PublicKey { return o.inner.Public() }

func (o *opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	o.calls.Add(1)
	return o.inner.Sign(r, digest, opts)
}

// echoThumbprint answers with the x5t#S256 of the TLS client certificate.
func echoThumbprint() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			_, _ = io.WriteString(w, "none")
			return
		}
		_, _ = io.WriteString(w, mtlsbound.Thumbprint(r.TLS.PeerCertificates[0]))
	})
}

func getBody(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer drain(resp)
	b, err := httpx.ReadBody(resp.Body, 4096)
	require.NoError(t, err)
	return string(b)
}

func TestClientPresentsCertificate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	srv := newTLSServer(t, echoThumbprint())

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecHW := &opaqueSigner{inner: ecKey}
	ecCert, err := certForKey("hsm-ec", ecHW, now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsaHW := &opaqueSigner{inner: rsaKey}
	rsaCert, err := certForKey("hsm-rsa", rsaHW, now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)

	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	edCert, err := certForKey("ed", edKey, now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)

	pemCert := newCert(t, "pem")

	tests := []struct {
		name   string
		cert   func(t *testing.T) tls.Certificate
		want   *x509.Certificate
		signer *opaqueSigner
	}{
		{name: "PEM bytes through crypto/tls, Leaf nil", want: pemCert.Leaf, cert: func(t *testing.T) tls.Certificate {
			c, err := tls.X509KeyPair(pemCert.CertPEM, pemCert.KeyPEM)
			require.NoError(t, err)
			c.Leaf = nil
			return c
		}},
		{name: "hardware ECDSA signer", want: ecCert.Leaf, signer: ecHW, cert: func(*testing.T) tls.Certificate {
			return tls.Certificate{Certificate: ecCert.TLS.Certificate, PrivateKey: ecHW}
		}},
		{name: "hardware RSA signer", want: rsaCert.Leaf, signer: rsaHW, cert: func(*testing.T) tls.Certificate {
			return tls.Certificate{Certificate: rsaCert.TLS.Certificate, PrivateKey: rsaHW}
		}},
		{name: "Ed25519 key", want: edCert.Leaf, cert: func(*testing.T) tls.Certificate { return edCert.TLS }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := (&mtlsbound.Client{Certificate: tc.cert(t), RootCAs: serverPool(srv)}).HTTPClient()
			require.NoError(t, err)
			t.Cleanup(c.CloseIdleConnections)
			require.Equal(t, mtlsbound.Thumbprint(tc.want), getBody(t, c, srv.URL))
			if tc.signer != nil {
				require.Positive(t, tc.signer.calls.Load())
			}
		})
	}
}

// TestClientPresentsToServerNamingOtherCAs: a server whose
// CertificateRequest lists CAs that did not issue the client certificate
// still receives it (crypto/tls's Certificates selection would withhold it).
func TestClientPresentsToServerNamingOtherCAs(t *testing.T) {
	t.Parallel()
	ca := newCert(t, "some other CA")
	pool := x509.NewCertPool()
	pool.AddCert(ca.Leaf)
	srv := newTLSServerConfig(t, echoThumbprint(), &tls.Config{ClientAuth: tls.RequestClientCert, ClientCAs: pool})
	c := newCert(t, "self-signed")
	hc := clientFor(t, srv, &c)
	require.Equal(t, mtlsbound.Thumbprint(c.Leaf), getBody(t, hc, srv.URL))
}

func TestClientInvalid(t *testing.T) {
	t.Parallel()
	a := newCert(t, "a")
	b := newCert(t, "b")
	tests := []struct {
		name   string
		client *mtlsbound.Client
		field  string
	}{
		{name: "nil client", client: nil, field: "Client"},
		{name: "zero value", client: &mtlsbound.Client{}, field: "Client.Certificate"},
		{name: "no private key", client: &mtlsbound.Client{Certificate: tls.Certificate{Certificate: a.TLS.Certificate}}, field: "Client.Certificate"},
		{name: "private key not a signer", client: &mtlsbound.Client{Certificate: tls.Certificate{Certificate: a.TLS.Certificate, PrivateKey: "key"}}, field: "Client.Certificate"},
		{name: "key of another certificate", client: &mtlsbound.Client{Certificate: tls.Certificate{Certificate: a.TLS.Certificate, PrivateKey: b.TLS.PrivateKey}}, field: "Client.Certificate"},
		{name: "Leaf is not Certificate[0]", client: &mtlsbound.Client{Certificate: tls.Certificate{Certificate: a.TLS.Certificate, PrivateKey: a.TLS.PrivateKey, Leaf: b.Leaf}}, field: "Client.Certificate"},
		{name: "garbage DER", client: &mtlsbound.Client{Certificate: tls.Certificate{Certificate: [][]byte{[]byte("x")}, PrivateKey: a.TLS.PrivateKey}}, field: "Client.Certificate"},
		{name: "TLS 1.1", client: &mtlsbound.Client{Certificate: a.TLS, MinVersion: tls.VersionTLS11}, field: "Client.MinVersion"},
		{name: "negative timeout", client: &mtlsbound.Client{Certificate: a.TLS, Timeout: -time.Second}, field: "Client.Timeout"},
		{name: "negative handshake timeout", client: &mtlsbound.Client{Certificate: a.TLS, TLSHandshakeTimeout: -time.Second}, field: "Client.TLSHandshakeTimeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hc, err := tc.client.HTTPClient()
			require.Nil(t, hc)
			requireConfigError(t, err, tc.field)
			tr, err := tc.client.Transport()
			require.Nil(t, tr)
			requireConfigError(t, err, tc.field)
			conf, err := tc.client.TLSConfig()
			require.Nil(t, conf)
			requireConfigError(t, err, tc.field)
		})
	}
}

func TestClientSettings(t *testing.T) {
	t.Parallel()
	a := newCert(t, "a")

	conf, err := (&mtlsbound.Client{Certificate: a.TLS}).TLSConfig()
	require.NoError(t, err)
	require.Equal(t, uint16(tls.VersionTLS12), conf.MinVersion)
	require.Nil(t, conf.RootCAs)
	conf13, err := (&mtlsbound.Client{Certificate: a.TLS, MinVersion: tls.VersionTLS13}).TLSConfig()
	require.NoError(t, err)
	require.Equal(t, uint16(tls.VersionTLS13), conf13.MinVersion)

	// The module's default TLS settings: BCP 195 suites for TLS 1.2.
	require.Equal(t, httpx.DefaultTLSConfig().CipherSuites, conf.CipherSuites)
	require.NotNil(t, conf.GetClientCertificate)

	tr, err := (&mtlsbound.Client{Certificate: a.TLS}).Transport()
	require.NoError(t, err)
	def := httpx.DefaultTransport()
	require.Equal(t, mtlsbound.DefaultTLSHandshakeTimeout, tr.TLSHandshakeTimeout)
	require.Equal(t, def.TLSHandshakeTimeout, tr.TLSHandshakeTimeout)
	require.NotNil(t, tr.DialContext)
	require.NotNil(t, tr.Proxy)
	require.True(t, tr.ForceAttemptHTTP2)
	require.Equal(t, def.MaxIdleConns, tr.MaxIdleConns)
	require.Equal(t, def.ResponseHeaderTimeout, tr.ResponseHeaderTimeout)
	require.Equal(t, def.IdleConnTimeout, tr.IdleConnTimeout)
	require.Equal(t, def.ExpectContinueTimeout, tr.ExpectContinueTimeout)

	tr, err = (&mtlsbound.Client{Certificate: a.TLS, TLSHandshakeTimeout: 42 * time.Second}).Transport()
	require.NoError(t, err)
	require.Equal(t, 42*time.Second, tr.TLSHandshakeTimeout)

	hc, err := (&mtlsbound.Client{Certificate: a.TLS}).HTTPClient()
	require.NoError(t, err)
	require.Equal(t, httpx.DefaultTimeout, hc.Timeout)
	hc, err = (&mtlsbound.Client{Certificate: a.TLS, Timeout: time.Second}).HTTPClient()
	require.NoError(t, err)
	require.Equal(t, time.Second, hc.Timeout)
}

func TestClientNoRedirects(t *testing.T) {
	t.Parallel()
	var followed atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { followed.Store(true) })
	srv := newTLSServer(t, mux)
	a := newCert(t, "a")
	resp, err := clientFor(t, srv, &a).Post(srv.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"))
	require.NoError(t, err)
	drain(resp)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	require.False(t, followed.Load())
}

// A server answering with a malformed status line of megabytes with a
// terminal escape: the error of the client HTTPClient builds quotes it
// bounded and sanitized, as every client of the module does, and still
// matches errors.As *url.Error.
func TestClientErrorsBounded(t *testing.T) {
	t.Parallel()
	srv := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = buf.WriteString("\x1b[2J" + strings.Repeat("Z", 2<<20) + "\r\n\r\n") // one status line
		_ = buf.Flush()
	}))
	a := newCert(t, "a")
	resp, err := clientFor(t, srv, &a).Get(srv.URL)
	require.Nil(t, resp)
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	require.LessOrEqual(t, len(err.Error()), 2048, "server text in the error is bounded")
	require.NotContains(t, err.Error(), "\x1b")
}

func TestClientSystemRoots(t *testing.T) {
	t.Parallel()
	srv := newTLSServer(t, echoThumbprint())
	a := newCert(t, "a")
	hc, err := (&mtlsbound.Client{Certificate: a.TLS}).HTTPClient() // RootCAs nil: system roots
	require.NoError(t, err)
	t.Cleanup(hc.CloseIdleConnections)
	_, err = hc.Get(srv.URL)
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown)
}

// TestClientHandshakeTimeout: a server that accepts connections and never
// answers the handshake costs TLSHandshakeTimeout, not the whole Timeout.
func TestClientHandshakeTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never speaks TLS
		}
	}()
	a := newCert(t, "a")
	hc, err := (&mtlsbound.Client{Certificate: a.TLS, TLSHandshakeTimeout: 200 * time.Millisecond}).HTTPClient()
	require.NoError(t, err)
	t.Cleanup(hc.CloseIdleConnections)
	start := time.Now()
	_, err = hc.Get("https://" + ln.Addr().String() + "/")
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	require.True(t, ne.Timeout())
	require.Less(t, time.Since(start), 10*time.Second)
}
