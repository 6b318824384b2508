package mtlsbound_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/mtlsbound"
)

// vectors is testdata/rfc8705-mtls.json: RFC 8705 §3.1 (Figure 2), §3.2
// (Figure 3), §5 (Figure 4) and Appendix A (Figures 5-7), with the checks
// recorded when they were extracted.
type vectors struct {
	JWT struct {
		Claims json.RawMessage `json:"claims"` // §3.1 Figure 2
		X5t    string          `json:"x5t_s256"`
		Checks []struct {
			Canonical string `json:"computed_canonical_reencoding"`
		} `json:"checks"`
	} `json:"jwt_claims_with_cnf_x5t_s256"`
	Introspection struct {
		JSON json.RawMessage `json:"json"` // §3.2 Figure 3
	} `json:"introspection_response_with_cnf_x5t_s256"`
	AppendixA struct {
		CNF    json.RawMessage `json:"cnf"`             // Figure 5
		PEM    string          `json:"certificate_pem"` // Figure 6
		Checks []struct {
			Computed string `json:"computed"`
		} `json:"checks"`
	} `json:"appendix_a"`
	Metadata struct {
		JSON json.RawMessage `json:"json"` // §5 Figure 4
	} `json:"as_metadata_with_mtls_endpoint_aliases"`
}

func (v vectors) appendixCert(t testing.TB) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(v.AppendixA.PEM))
	require.NotNil(t, block)
	cert, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return cert
}

// canonical31 is the canonical spelling of the §3.1 digest, computed when
// the vector was checked.
func (v vectors) canonical31() string { return v.JWT.Checks[0].Canonical }

var (
	vecOnce sync.Once
	vec     vectors
	vecErr  error
)

func loadVectors(t testing.TB) vectors {
	t.Helper()
	vecOnce.Do(func() {
		var b []byte
		if b, vecErr = os.ReadFile("testdata/rfc8705-mtls.json"); vecErr == nil {
			vecErr = json.Unmarshal(b, &vec)
		}
	})
	require.NoError(t, vecErr)
	return vec
}

// testCert is a generated client certificate.
type testCert struct {
	TLS     tls.Certificate
	Leaf    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// generateCert makes a self-signed ECDSA P-256 client certificate.
func generateCert(cn string, notBefore, notAfter time.Time) (testCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return testCert{}, err
	}
	return certForKey(cn, key, notBefore, notAfter)
}

func certForKey(cn string, key crypto.Signer, notBefore, notAfter time.Time) (testCert, error) {
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return testCert{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return testCert{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return testCert{}, err
	}
	tc := testCert{
		TLS:     tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		Leaf:    leaf,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}
	if keyDER, err := x509.MarshalPKCS8PrivateKey(key); err == nil { // not for opaque signers
		tc.KeyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	}
	return tc, nil
}

func newCert(t testing.TB, cn string) testCert {
	t.Helper()
	now := time.Now()
	c, err := generateCert(cn, now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)
	return c
}

func newExpiredCert(t testing.TB, cn string) testCert {
	t.Helper()
	now := time.Now()
	c, err := generateCert(cn, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	require.NoError(t, err)
	return c
}

// nginxEscape percent-encodes everything but unreserved characters, as
// nginx's $ssl_client_escaped_cert does for spaces, newlines, '+', '/'
// and '='.
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

// albEscape escapes like AWS ALB's X-Amzn-Mtls-Clientcert: '+', '=' and '/'
// are left as they are.
func albEscape(s string) string {
	return strings.NewReplacer(" ", "%20", "\n", "%0A").Replace(s)
}

// boundClaims returns JWT claims bound to cert.
func boundClaims(cert *x509.Certificate) string {
	return fmt.Sprintf(`{"iss":"https://as.example","sub":"client-1","cnf":{"x5t#S256":%q}}`, mtlsbound.Thumbprint(cert))
}

// newTLSServer starts an httptest TLS server that requests, but does not
// verify, client certificates.
func newTLSServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	return newTLSServerConfig(t, h, &tls.Config{ClientAuth: tls.RequestClientCert})
}

func newTLSServerConfig(t testing.TB, h http.Handler, conf *tls.Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected in some tests
	srv.TLS = conf
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func serverPool(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}

// clientFor returns an HTTP client trusting srv that presents cert (none
// when cert is nil).
func clientFor(t testing.TB, srv *httptest.Server, cert *testCert) *http.Client {
	t.Helper()
	if cert == nil {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: serverPool(srv), MinVersion: tls.VersionTLS12}}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	c, err := (&mtlsbound.Client{Certificate: cert.TLS, RootCAs: serverPool(srv), Timeout: 10 * time.Second}).HTTPClient()
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// errRecorder keeps the errors a Verifier reports through OnError.
type errRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (e *errRecorder) record(_ *http.Request, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err)
}

func (e *errRecorder) last(t testing.TB) error {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	require.NotEmpty(t, e.errs, "no error recorded")
	return e.errs[len(e.errs)-1]
}

func (e *errRecorder) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.errs)
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

type tlsState = tls.ConnectionState
