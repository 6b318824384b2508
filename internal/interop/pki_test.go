package interop_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// testPKI is the throw-away PKI of one test run: a CA that issues the peers'
// server certificate and the tls_client_auth client certificate
// (RFC 8705 §2.1), all written as PEM files under dir for the node peers.
type testPKI struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	roots  *x509.CertPool

	caPath, serverCertPath, serverKeyPath string
	// server is the certificate of 127.0.0.1 and localhost, also used by
	// the resource servers the tests start.
	server tls.Certificate
}

func newTestPKI(dir string) (*testPKI, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := certTemplate(pkix.Name{CommonName: "hardened interop test CA", Organization: []string{"hardened interop"}})
	caTmpl.IsCA = true
	caTmpl.BasicConstraintsValid = true
	caTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	p := &testPKI{
		caCert:         caCert,
		caKey:          caKey,
		roots:          x509.NewCertPool(),
		caPath:         filepath.Join(dir, "ca.pem"),
		serverCertPath: filepath.Join(dir, "server.pem"),
		serverKeyPath:  filepath.Join(dir, "server-key.pem"),
	}
	p.roots.AddCert(caCert)
	if err := writePEM(p.caPath, "CERTIFICATE", caDER); err != nil {
		return nil, err
	}

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	srvTmpl := certTemplate(pkix.Name{CommonName: "localhost", Organization: []string{"hardened interop"}})
	srvTmpl.DNSNames = []string{"localhost"}
	srvTmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	srvTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, srvKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	srvKeyDER, err := x509.MarshalPKCS8PrivateKey(srvKey)
	if err != nil {
		return nil, err
	}
	if err := writePEM(p.serverCertPath, "CERTIFICATE", srvDER); err != nil {
		return nil, err
	}
	if err := writePEM(p.serverKeyPath, "PRIVATE KEY", srvKeyDER); err != nil {
		return nil, err
	}
	if p.server, err = tls.LoadX509KeyPair(p.serverCertPath, p.serverKeyPath); err != nil {
		return nil, err
	}
	return p, nil
}

// issueClientCert returns a client certificate for subject issued by the
// test CA, for tls_client_auth (RFC 8705 §2.1).
func (p *testPKI) issueClientCert(subject pkix.Name) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := certTemplate(subject)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return makeCert(tmpl, p.caCert, key, p.caKey)
}

// selfSignedClientCert returns a self-signed client certificate, for
// self_signed_tls_client_auth (RFC 8705 §2.2).
func selfSignedClientCert(subject pkix.Name) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := certTemplate(subject)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return makeCert(tmpl, tmpl, key, key)
}

func makeCert(tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, signer crypto.Signer) (tls.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func certTemplate(subject pkix.Name) *x509.Certificate {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // crypto/rand does not fail on Linux
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
