package mtlsbound

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// DefaultTLSHandshakeTimeout is the TLS handshake timeout of a [Client]
// whose TLSHandshakeTimeout is zero: 10 s, the module's default.
const DefaultTLSHandshakeTimeout = 10 * time.Second

// Client builds the HTTP client side of mutual TLS: a transport that
// presents a client certificate to the authorization server (for
// tls_client_auth / self_signed_tls_client_auth, RFC 8705 §2) so that the
// access tokens it issues are bound to that certificate (§3), and to
// resource servers, which then accept them.
//
// Nothing else changes for the caller: a certificate-bound token is an
// ordinary Bearer token (its token_type stays "Bearer"), sent the usual way
// over a connection that presents the same certificate. Use the same
// Client (or one with the same Certificate) for the token endpoint and the
// resource server.
//
// A transport that presents a certificate cannot be the module's shared
// one, so each call of [Client.Transport] returns a new transport with the
// module's default settings (those every nil Base of the module uses:
// dial, TLS handshake and response header timeouts, TLS 1.2 or later with
// the BCP 195 cipher suites) plus the certificate. Build it once and reuse
// it, so that connections are pooled.
//
// The zero value is not usable: Certificate is required.
type Client struct {
	// Certificate is the client certificate chain, leaf first, and its
	// private key. PrivateKey may be any crypto.Signer whose public key is
	// the leaf's (an RSA, ECDSA or Ed25519 key), so keys held in an HSM, a
	// TPM or a KMS work; an RSA signer must support PSS for TLS 1.3. Leaf
	// is filled in when nil. Required. Build it with tls.X509KeyPair or
	// tls.LoadX509KeyPair, or from DER certificates and a signer (the root
	// package's LoadPrivateKey reads key files).
	Certificate tls.Certificate

	// RootCAs verifies the servers' certificates. Nil means the system
	// roots.
	RootCAs *x509.CertPool

	// MinVersion is the lowest TLS version offered. Zero means TLS 1.2;
	// lower values are [ErrInvalidConfig].
	MinVersion uint16

	// Timeout bounds a whole exchange made with the client returned by
	// [Client.HTTPClient]. Zero means 30 s, the module's default.
	Timeout time.Duration

	// TLSHandshakeTimeout bounds the TLS handshake of each new connection,
	// which includes the client's signature with Certificate's key (slow
	// on some HSMs and KMSs). Zero means [DefaultTLSHandshakeTimeout].
	TLSHandshakeTimeout time.Duration
}

// TLSConfig returns a new tls.Config that presents c.Certificate, built on
// the module's default TLS settings (TLS 1.2 or later, and for TLS 1.2
// only the ECDHE AES-GCM suites BCP 195 recommends). The certificate is
// presented whenever the server asks for one, even when the server's list
// of acceptable CAs does not name its issuer (crypto/tls would otherwise
// send no certificate, and the token would silently not be bound; with
// self-signed certificates that is the common case).
func (c *Client) TLSConfig() (*tls.Config, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	cert, err := checkCertificate(c.Certificate)
	if err != nil {
		return nil, err
	}
	conf := httpx.DefaultTLSConfig()
	if c.MinVersion != 0 {
		conf.MinVersion = c.MinVersion
	}
	conf.RootCAs = c.RootCAs
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &cert, nil
	}
	return conf, nil
}

// Transport returns a new transport with the module's default settings
// (10 s dial and response header timeouts, idle connection limits), the
// TLS handshake timeout of c.TLSHandshakeTimeout and the TLS configuration
// of [Client.TLSConfig]. It is an http.RoundTripper to put under
// oauth2.Transport, a DPoP transport or a client-authentication transport.
func (c *Client) Transport() (*http.Transport, error) {
	conf, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	t := httpx.DefaultTransport()
	t.TLSClientConfig = conf
	t.TLSHandshakeTimeout = c.TLSHandshakeTimeout
	if t.TLSHandshakeTimeout == 0 {
		t.TLSHandshakeTimeout = DefaultTLSHandshakeTimeout
	}
	return t, nil
}

// HTTPClient returns a new *http.Client over [Client.Transport] with
// c.Timeout and no redirects (a 3xx response is returned as is), whose
// transport errors have their text bounded, as every client of the module
// (a server's megabyte status line is not quoted whole). Put it in the
// context under oauth2.HTTPClient for x/oauth2's token requests.
func (c *Client) HTTPClient() (*http.Client, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = httpx.DefaultTimeout
	}
	return httpx.Client(&http.Client{Transport: t, Timeout: timeout}), nil
}

func (c *Client) validate() error {
	switch {
	case c == nil:
		return configError("Client", "nil *Client")
	case c.MinVersion != 0 && c.MinVersion < tls.VersionTLS12:
		return configError("Client.MinVersion", "below TLS 1.2")
	case c.Timeout < 0:
		return configError("Client.Timeout", "negative")
	case c.TLSHandshakeTimeout < 0:
		return configError("Client.TLSHandshakeTimeout", "negative")
	}
	return nil
}

// checkCertificate validates a client certificate and returns a copy with
// Leaf set. Its errors name no key material.
func checkCertificate(in tls.Certificate) (tls.Certificate, error) {
	const field = "Client.Certificate"
	if len(in.Certificate) == 0 {
		return tls.Certificate{}, configError(field, "no certificate")
	}
	signer, ok := in.PrivateKey.(crypto.Signer)
	if !ok || signer == nil {
		return tls.Certificate{}, configError(field, "PrivateKey is not a crypto.Signer")
	}
	leaf := in.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(in.Certificate[0]); err != nil {
			return tls.Certificate{}, configError(field, "Certificate[0] is not a DER certificate")
		}
	} else if !bytes.Equal(leaf.Raw, in.Certificate[0]) {
		return tls.Certificate{}, configError(field, "Leaf is not Certificate[0]")
	}
	switch leaf.PublicKey.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return tls.Certificate{}, configError(field, fmt.Sprintf("unsupported public key type %T", leaf.PublicKey))
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return tls.Certificate{}, configError(field, "PrivateKey does not match the leaf certificate")
	}
	out := in
	out.Certificate = slices.Clone(in.Certificate)
	out.Leaf = leaf
	return out, nil
}
