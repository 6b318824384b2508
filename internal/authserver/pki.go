package authserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// PKI is a throw-away certificate authority for tests: it issues the TLS
// server certificate of [StartTLS] and client certificates for
// tls_client_auth (RFC 8705 §2.1). Its keys are ECDSA P-256, so creating one
// is cheap. A PKI is safe for concurrent use.
type PKI struct {
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
	roots *x509.CertPool
}

// certValidity is the validity period of every certificate issued here,
// starting an hour in the past to tolerate clock differences.
const certValidity = 24 * time.Hour

// NewPKI creates a PKI with a new self-signed CA.
func NewPKI() (*PKI, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: CA key: %w", ErrStart, err)
	}
	tmpl, err := certTemplate(pkix.Name{CommonName: "hardened authserver test CA", Organization: []string{"hardened test"}})
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("%w: CA certificate: %w", ErrStart, err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: CA certificate: %w", ErrStart, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	return &PKI{ca: ca, caKey: key, roots: roots}, nil
}

// CA returns the CA certificate.
func (p *PKI) CA() *x509.Certificate { return p.ca }

// Roots returns a new pool holding the CA certificate, to trust the
// server's TLS certificate or to verify client certificates.
func (p *PKI) Roots() *x509.CertPool { return p.roots.Clone() }

// IssueServerCertificate issues a TLS server certificate for 127.0.0.1,
// ::1 and localhost, plus the given host names.
func (p *PKI) IssueServerCertificate(hosts ...string) (tls.Certificate, error) {
	tmpl, err := certTemplate(pkix.Name{CommonName: "localhost", Organization: []string{"hardened test"}})
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl.DNSNames = append([]string{"localhost"}, hosts...)
	tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	return p.issue(tmpl)
}

// IssueClientCertificate issues a TLS client certificate with the given
// subject. Register subject.String() as the client's TLSSubjectDN for
// tls_client_auth.
func (p *PKI) IssueClientCertificate(subject pkix.Name) (tls.Certificate, error) {
	tmpl, err := certTemplate(subject)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	return p.issue(tmpl)
}

func (p *PKI) issue(tmpl *x509.Certificate) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: key: %w", ErrStart, err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, key.Public(), p.caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: certificate: %w", ErrStart, err)
	}
	return keyPair(der, key)
}

// SelfSignedCertificate returns a new self-signed client certificate with
// an ECDSA P-256 key and the given common name, for
// self_signed_tls_client_auth (RFC 8705 §2.2). Register its Leaf in the
// client's Certificates.
func SelfSignedCertificate(commonName string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: key: %w", ErrStart, err)
	}
	tmpl, err := certTemplate(pkix.Name{CommonName: commonName})
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: certificate: %w", ErrStart, err)
	}
	return keyPair(der, key)
}

func keyPair(der []byte, key *ecdsa.PrivateKey) (tls.Certificate, error) {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: certificate: %w", ErrStart, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func certTemplate(subject pkix.Name) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("%w: serial: %w", ErrStart, err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
	}, nil
}
