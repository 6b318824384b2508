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
	"os"
	"slices"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// maxPEMFile bounds a certificate or key file read by [LoadKeyPair].
const maxPEMFile = 1 << 20

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
// The zero value is not usable: Certificate is required.
type Client struct {
	// Certificate is the client certificate chain, leaf first, and its
	// private key. PrivateKey may be any crypto.Signer whose public key is
	// the leaf's (an RSA, ECDSA or Ed25519 key), so keys held in an HSM, a
	// TPM or a KMS work; an RSA signer must support PSS for TLS 1.3. Leaf
	// is filled in when nil. Required; see [KeyPair] and [LoadKeyPair].
	Certificate tls.Certificate

	// RootCAs verifies the servers' certificates. Nil means the system
	// roots.
	RootCAs *x509.CertPool

	// MinVersion is the lowest TLS version offered. Zero means TLS 1.2;
	// lower values are refused with [ErrInvalidConfig].
	MinVersion uint16

	// Timeout bounds a whole exchange made with the client returned by
	// [Client.HTTPClient]. Zero means httpx.DefaultTimeout (30 s).
	Timeout time.Duration
}

// TLSConfig returns a new tls.Config that presents c.Certificate. The
// certificate is presented whenever the server asks for one, even when the
// server's list of acceptable CAs does not name its issuer (crypto/tls
// would otherwise send no certificate, and the token would silently not be
// bound; with self-signed certificates that is the common case).
func (c *Client) TLSConfig() (*tls.Config, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil Client", ErrInvalidConfig)
	}
	cert, err := checkCertificate(c.Certificate)
	if err != nil {
		return nil, err
	}
	minVersion := c.MinVersion
	if minVersion == 0 {
		minVersion = tls.VersionTLS12
	}
	if minVersion < tls.VersionTLS12 {
		return nil, fmt.Errorf("%w: MinVersion below TLS 1.2", ErrInvalidConfig)
	}
	if c.Timeout < 0 {
		return nil, fmt.Errorf("%w: negative Timeout", ErrInvalidConfig)
	}
	return &tls.Config{
		MinVersion: minVersion,
		RootCAs:    c.RootCAs,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &cert, nil
		},
	}, nil
}

// Transport returns a new transport with the timeouts of
// httpx.DefaultTransport (10 s dial, TLS handshake and response header)
// and the TLS configuration of [Client.TLSConfig]. It is an
// http.RoundTripper to put under oauth2.Transport, a DPoP transport or a
// client-authentication transport.
func (c *Client) Transport() (*http.Transport, error) {
	conf, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	t := httpx.DefaultTransport()
	t.TLSClientConfig = conf
	return t, nil
}

// HTTPClient returns a new *http.Client over [Client.Transport] with
// c.Timeout and no redirects (a 3xx response is returned as is). Put it in
// the context under oauth2.HTTPClient for x/oauth2's token requests.
func (c *Client) HTTPClient() (*http.Client, error) {
	t, err := c.Transport()
	if err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = httpx.DefaultTimeout
	}
	return &http.Client{Transport: t, Timeout: timeout, CheckRedirect: httpx.NoRedirect}, nil
}

// KeyPair parses a PEM certificate chain (leaf first) and its PEM private
// key, checks that they belong together, and fills in Leaf. Errors wrap
// [ErrInvalidCertificate] and never contain key material.
func KeyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	return checkCertificate(cert)
}

// LoadKeyPair reads a PEM certificate chain and a PEM private key from
// files (each at most 1 MiB) and returns [KeyPair] of their contents.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := readFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := readFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	return KeyPair(certPEM, keyPEM)
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
	}
	defer f.Close()
	b, err := httpx.ReadBody(f, maxPEMFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidCertificate, name, err)
	}
	return b, nil
}

// checkCertificate validates a client certificate and returns a copy with
// Leaf set.
func checkCertificate(in tls.Certificate) (tls.Certificate, error) {
	if len(in.Certificate) == 0 {
		return tls.Certificate{}, fmt.Errorf("%w: no certificate", ErrInvalidCertificate)
	}
	signer, ok := in.PrivateKey.(crypto.Signer)
	if !ok || signer == nil {
		return tls.Certificate{}, fmt.Errorf("%w: private key is not a crypto.Signer", ErrInvalidCertificate)
	}
	leaf := in.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(in.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("%w: %w", ErrInvalidCertificate, err)
		}
	} else if !bytes.Equal(leaf.Raw, in.Certificate[0]) {
		return tls.Certificate{}, fmt.Errorf("%w: Leaf is not Certificate[0]", ErrInvalidCertificate)
	}
	switch leaf.PublicKey.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return tls.Certificate{}, fmt.Errorf("%w: unsupported public key type %T", ErrInvalidCertificate, leaf.PublicKey)
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return tls.Certificate{}, fmt.Errorf("%w: private key does not match the certificate", ErrInvalidCertificate)
	}
	out := in
	out.Certificate = slices.Clone(in.Certificate)
	out.Leaf = leaf
	return out, nil
}
