package mtlsbound_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/mtlsbound"
)

func TestParseEscapedPEM(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	a := newCert(t, "a")
	b := newCert(t, "b")
	appendix := v.appendixCert(t)
	pemA := string(a.CertPEM)
	// DER followed by one extra byte, wrapped as PEM.
	trailingDER := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: append(append([]byte{}, a.Leaf.Raw...), 0)}))

	tests := []struct {
		name    string
		value   string
		want    *x509.Certificate
		wantErr []error
	}{
		{name: "nginx escaped", value: nginxEscape(pemA), want: a.Leaf},
		{name: "ALB escaped", value: albEscape(pemA), want: a.Leaf},
		{name: "appendix A figure 6", value: nginxEscape(v.AppendixA.PEM), want: appendix},
		{name: "CRLF line ends", value: nginxEscape(strings.ReplaceAll(pemA, "\n", "\r\n")), want: a.Leaf},
		{name: "surrounding whitespace", value: " " + nginxEscape("\n"+pemA+"\n\n") + " ", want: a.Leaf},
		{name: "empty", value: "", wantErr: []error{mtlsbound.ErrNoCertificate}},
		{name: "blank", value: "  ", wantErr: []error{mtlsbound.ErrNoCertificate}},
		{name: "bad percent-encoding", value: "%zz" + nginxEscape(pemA), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "query escaping with + for space", value: strings.ReplaceAll(nginxEscape(pemA), "%20", "+"), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "malformed PEM body", value: nginxEscape("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "PEM without end line", value: nginxEscape(strings.Split(pemA, "-----END")[0]), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "valid PEM, invalid DER", value: nginxEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("hello")}))), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "DER with trailing data", value: nginxEscape(trailingDER), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "two certificates", value: nginxEscape(pemA + string(b.CertPEM)), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "text before", value: nginxEscape("subject=CN=a\n" + pemA), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "text after", value: nginxEscape(pemA + "bye"), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "private key block", value: nginxEscape(string(a.KeyPEM)), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "PEM headers", value: nginxEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: a.Leaf.Raw}))), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "raw base64 DER", value: strings.Join(strings.Split(pemA, "\n")[1:4], ""), wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "too large", value: strings.Repeat("A", mtlsbound.DefaultMaxProxyHeaderBytes+1), wantErr: []error{mtlsbound.ErrMalformedHeader}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := mtlsbound.ParseEscapedPEM(tc.value)
			if len(tc.wantErr) > 0 {
				for _, want := range tc.wantErr {
					require.ErrorIs(t, err, want)
				}
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want.Raw, got.Raw)
		})
	}
}

// xfccHash is the Hash value Envoy sends: hex SHA-256 of the DER.
func xfccHash(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

func TestParseXFCC(t *testing.T) {
	t.Parallel()
	a := newCert(t, "a")
	b := newCert(t, "b")
	certA, certB := nginxEscape(string(a.CertPEM)), nginxEscape(string(b.CertPEM))
	envoyA := `By=spiffe://cluster.local/ns/default/sa/api;Hash=` + xfccHash(a.Leaf) +
		`;Cert="` + certA + `";Subject="CN=a,OU=Eng \"R&D\";O=Example";URI=spiffe://cluster.local/ns/default/sa/client;DNS=a.example;DNS=b.example`

	tests := []struct {
		name     string
		value    string
		elements int // ParseXFCCElements with this count; 0: ParseXFCC
		want     *x509.Certificate
		wantErr  []error
	}{
		{name: "cert only", value: `Cert="` + certA + `"`, want: a.Leaf},
		{name: "unquoted cert", value: `Cert=` + certA, want: a.Leaf},
		{name: "envoy element", value: envoyA, want: a.Leaf},
		{name: "keys are case-insensitive", value: `cert="` + certA + `";hash=` + xfccHash(a.Leaf), want: a.Leaf},
		{name: "last element wins", value: `By=spiffe://edge;Cert="` + certB + `",` + envoyA, elements: 2, want: a.Leaf},
		{name: "last element wins, whitespace", value: `Cert="` + certB + `" , Cert="` + certA + `" `, elements: 2, want: a.Leaf},
		{name: "quoted comma inside last element", value: `Cert="` + certB + `",Subject="CN=x, O=y";Cert="` + certA + `"`, elements: 2, want: a.Leaf},
		{name: "one element counted", value: envoyA, elements: 1, want: a.Leaf},
		{name: "empty", value: ``, wantErr: []error{mtlsbound.ErrNoCertificate}},
		{name: "last element without Cert", value: `Cert="` + certA + `",By=spiffe://proxy;Hash=` + xfccHash(b.Leaf), elements: 2, wantErr: []error{mtlsbound.ErrNoCertificate}},
		// A client certificate with the SAN "spiffe://x,Cert=<victim's
		// PEM>", written unquoted by Envoy, adds an element of its own.
		{name: "SAN injection: a second element", value: `By=spiffe://edge;Cert="` + certB + `";URI=spiffe://x,Cert="` + certA + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "two elements where one is expected", value: `Cert="` + certB + `",` + envoyA, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "one element where two are expected", value: envoyA, elements: 2, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "three elements where two are expected", value: `Cert="` + certB + `",Cert="` + certB + `",` + envoyA, elements: 2, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "element count 0", value: envoyA, elements: -1, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "empty Cert", value: `Cert=""`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "hash mismatch", value: `Hash=` + xfccHash(b.Leaf) + `;Cert="` + certA + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "hash not hex", value: `Hash=zz;Cert="` + certA + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "duplicate Cert", value: `Cert="` + certB + `";Cert="` + certA + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "duplicate Hash", value: `Hash=00;Hash=00;Cert="` + certA + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "duplicate By", value: `By=a;By=b;Cert="` + certA + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "two certificates in Cert", value: `Cert="` + nginxEscape(string(a.CertPEM)+string(b.CertPEM)) + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "malformed PEM in Cert", value: `Cert="` + nginxEscape("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----") + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "empty element", value: `Cert="` + certA + `",,Cert="` + certA + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "trailing comma", value: `Cert="` + certA + `",`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "trailing semicolon", value: `Cert="` + certA + `";`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "unterminated quote", value: `Cert="` + certA, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "unterminated escape", value: `Subject="\`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "text after quote", value: `Cert="` + certA + `"x`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "quote inside bare value", value: `By=a"b;Cert="` + certA + `"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "key without value", value: `Cert`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "empty key", value: `="x"`, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "too large", value: strings.Repeat("A", mtlsbound.DefaultMaxProxyHeaderBytes+1), wantErr: []error{mtlsbound.ErrMalformedHeader}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got *x509.Certificate
			var err error
			switch tc.elements {
			case 0:
				got, err = mtlsbound.ParseXFCC(tc.value)
			case -1:
				got, err = mtlsbound.ParseXFCCElements(tc.value, 0)
			default:
				got, err = mtlsbound.ParseXFCCElements(tc.value, tc.elements)
			}
			if len(tc.wantErr) > 0 {
				for _, want := range tc.wantErr {
					require.ErrorIs(t, err, want)
				}
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want.Raw, got.Raw)
		})
	}
}

func TestPresentedCertificate(t *testing.T) {
	t.Parallel()
	a := newCert(t, "a")
	proxyCert := newCert(t, "proxy")
	header := "X-SSL-Client-Cert"
	escA := nginxEscape(string(a.CertPEM))
	base := mtlsbound.Verifier{
		ProxyHeader: header,
		ProxyFormat: mtlsbound.HeaderEscapedPEM,
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("fe80::/10"),
			netip.MustParsePrefix("2001:db8::/32"),
		},
	}
	tests := []struct {
		name     string
		verifier *mtlsbound.Verifier
		remote   string
		headers  []string
		tlsPeer  *x509.Certificate
		want     *x509.Certificate
		wantErr  []error
	}{
		{name: "TLS only", verifier: &mtlsbound.Verifier{}, remote: "192.0.2.1:443", tlsPeer: a.Leaf, want: a.Leaf},
		{name: "TLS only, no cert", verifier: &mtlsbound.Verifier{}, remote: "192.0.2.1:443", wantErr: []error{mtlsbound.ErrNoCertificate}},
		{name: "TLS only ignores headers", verifier: &mtlsbound.Verifier{}, remote: "10.0.0.1:443", headers: []string{escA}, wantErr: []error{mtlsbound.ErrNoCertificate}},
		{name: "trusted IPv4", verifier: &base, remote: "10.1.2.3:5555", headers: []string{escA}, want: a.Leaf},
		{name: "trusted IPv4-mapped IPv6", verifier: &base, remote: "[::ffff:10.1.2.3]:5555", headers: []string{escA}, want: a.Leaf},
		{name: "trusted IPv6 with zone", verifier: &base, remote: "[fe80::1%eth0]:5555", headers: []string{escA}, want: a.Leaf},
		{name: "trusted IPv6", verifier: &base, remote: "[2001:db8::7]:5555", headers: []string{escA}, want: a.Leaf},
		{name: "trusted address without port", verifier: &base, remote: "10.1.2.3", headers: []string{escA}, want: a.Leaf},
		{name: "trusted header wins over the proxy's own TLS cert", verifier: &base, remote: "10.1.2.3:1", headers: []string{escA}, tlsPeer: proxyCert.Leaf, want: a.Leaf},
		{name: "trusted, no header: proxy's TLS cert not used", verifier: &base, remote: "10.1.2.3:1", tlsPeer: proxyCert.Leaf, wantErr: []error{mtlsbound.ErrNoCertificate}},
		{name: "trusted, empty header", verifier: &base, remote: "10.1.2.3:1", headers: []string{""}, wantErr: []error{mtlsbound.ErrNoCertificate}},
		{name: "trusted, repeated header", verifier: &base, remote: "10.1.2.3:1", headers: []string{escA, escA}, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "trusted, header over the limit", verifier: &mtlsbound.Verifier{ProxyHeader: header, ProxyFormat: mtlsbound.HeaderEscapedPEM, TrustedProxies: base.TrustedProxies, MaxProxyHeaderBytes: 256}, remote: "10.1.2.3:1", headers: []string{escA}, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "untrusted header ignored, TLS cert used", verifier: &base, remote: "192.0.2.1:1", headers: []string{escA}, tlsPeer: proxyCert.Leaf, want: proxyCert.Leaf},
		{name: "untrusted header ignored, no TLS cert", verifier: &base, remote: "192.0.2.1:1", headers: []string{escA}, wantErr: []error{mtlsbound.ErrNoCertificate, mtlsbound.ErrUntrustedProxy}},
		{name: "untrusted malformed header ignored", verifier: &base, remote: "192.0.2.1:1", headers: []string{"%zz"}, tlsPeer: a.Leaf, want: a.Leaf},
		{name: "unix socket peer is untrusted", verifier: &base, remote: "@", headers: []string{escA}, wantErr: []error{mtlsbound.ErrNoCertificate, mtlsbound.ErrUntrustedProxy}},
		{name: "empty peer is untrusted", verifier: &base, remote: "", headers: []string{escA}, wantErr: []error{mtlsbound.ErrNoCertificate, mtlsbound.ErrUntrustedProxy}},
		{name: "XFCC", verifier: &mtlsbound.Verifier{ProxyHeader: "X-Forwarded-Client-Cert", ProxyFormat: mtlsbound.HeaderXFCC, TrustedProxies: base.TrustedProxies}, remote: "10.0.0.9:1", headers: []string{`Hash=` + xfccHash(a.Leaf) + `;Cert="` + escA + `"`}, want: a.Leaf},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "https://rs.example/", nil)
			r.RemoteAddr = tc.remote
			name := tc.verifier.ProxyHeader
			if name == "" {
				name = header
			}
			for _, h := range tc.headers {
				r.Header.Add(name, h)
			}
			if tc.tlsPeer != nil {
				r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{tc.tlsPeer}}
			}
			got, err := tc.verifier.PresentedCertificate(r)
			if len(tc.wantErr) > 0 {
				for _, want := range tc.wantErr {
					require.ErrorIs(t, err, want)
				}
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want.Raw, got.Raw)
		})
	}
}

func TestVerifierConfig(t *testing.T) {
	t.Parallel()
	prefixes := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name     string
		verifier *mtlsbound.Verifier
		field    string
	}{
		{name: "nil verifier", verifier: nil, field: "Verifier"},
		{name: "header without format", verifier: &mtlsbound.Verifier{ProxyHeader: "X", TrustedProxies: prefixes}, field: "Verifier.ProxyFormat"},
		{name: "header with unknown format", verifier: &mtlsbound.Verifier{ProxyHeader: "X", ProxyFormat: 9, TrustedProxies: prefixes}, field: "Verifier.ProxyFormat"},
		{name: "header without trusted proxies", verifier: &mtlsbound.Verifier{ProxyHeader: "X", ProxyFormat: mtlsbound.HeaderXFCC}, field: "Verifier.TrustedProxies"},
		{name: "trusted proxies without header", verifier: &mtlsbound.Verifier{TrustedProxies: prefixes}, field: "Verifier.TrustedProxies"},
		{name: "format without header", verifier: &mtlsbound.Verifier{ProxyFormat: mtlsbound.HeaderXFCC}, field: "Verifier.ProxyFormat"},
		{name: "invalid prefix", verifier: &mtlsbound.Verifier{ProxyHeader: "X", ProxyFormat: mtlsbound.HeaderXFCC, TrustedProxies: []netip.Prefix{{}}}, field: "Verifier.TrustedProxies"},
		{name: "IPv4-mapped prefix", verifier: &mtlsbound.Verifier{ProxyHeader: "X", ProxyFormat: mtlsbound.HeaderXFCC, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")}}, field: "Verifier.TrustedProxies"},
		{name: "negative header limit", verifier: &mtlsbound.Verifier{MaxProxyHeaderBytes: -1}, field: "Verifier.MaxProxyHeaderBytes"},
		{name: "negative XFCC element count", verifier: &mtlsbound.Verifier{ProxyHeader: "X", ProxyFormat: mtlsbound.HeaderXFCC, TrustedProxies: prefixes, XFCCElements: -1}, field: "Verifier.XFCCElements"},
		{name: "XFCC element count for escaped PEM", verifier: &mtlsbound.Verifier{ProxyHeader: "X", ProxyFormat: mtlsbound.HeaderEscapedPEM, TrustedProxies: prefixes, XFCCElements: 2}, field: "Verifier.XFCCElements"},
		{name: "Authorization as proxy header", verifier: &mtlsbound.Verifier{ProxyHeader: "authorization", ProxyFormat: mtlsbound.HeaderEscapedPEM, TrustedProxies: prefixes}, field: "Verifier.ProxyHeader"},
		{name: "own method checked elsewhere", verifier: &mtlsbound.Verifier{CheckedElsewhere: []string{"x5t#S256"}}, field: "Verifier.CheckedElsewhere"},
		{name: "kid checked elsewhere", verifier: &mtlsbound.Verifier{CheckedElsewhere: []string{"jkt", "kid"}}, field: "Verifier.CheckedElsewhere"},
		{name: "case variant checked elsewhere", verifier: &mtlsbound.Verifier{CheckedElsewhere: []string{"JKT"}}, field: "Verifier.CheckedElsewhere"},
		{name: "empty name checked elsewhere", verifier: &mtlsbound.Verifier{CheckedElsewhere: []string{""}}, field: "Verifier.CheckedElsewhere"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "https://rs.example/", nil)
			_, err := tc.verifier.PresentedCertificate(r)
			requireConfigError(t, err, tc.field)
			_, err = tc.verifier.Check(r, "t", []byte(`{}`))
			requireConfigError(t, err, tc.field)
			r.Header.Set("Authorization", "Bearer x")
			_, err = tc.verifier.Verify(r)
			if tc.verifier != nil && tc.verifier.Token == nil {
				requireConfigError(t, err, "Verifier.Token")
			} else {
				requireConfigError(t, err, tc.field)
			}
		})
	}
	t.Run("Verify needs Token", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest("GET", "https://rs.example/", nil)
		r.Header.Set("Authorization", "Bearer x")
		_, err := (&mtlsbound.Verifier{}).Verify(r)
		requireConfigError(t, err, "Verifier.Token")
	})
	t.Run("jkt and jwk may be listed", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest("GET", "https://rs.example/", nil)
		_, err := (&mtlsbound.Verifier{CheckedElsewhere: []string{"jkt", "jwk"}}).PresentedCertificate(r)
		require.ErrorIs(t, err, mtlsbound.ErrNoCertificate)
	})
}

// requireConfigError asserts that err is a *ConfigError for field that
// wraps ErrInvalidConfig.
func requireConfigError(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, mtlsbound.ErrInvalidConfig)
	var ce *mtlsbound.ConfigError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, field, ce.Field)
	require.NotEmpty(t, ce.Reason)
	require.Equal(t, "mtlsbound: invalid configuration: "+ce.Field+": "+ce.Reason, ce.Error())
}

func TestHeaderFormatString(t *testing.T) {
	t.Parallel()
	require.Equal(t, "escaped-pem", mtlsbound.HeaderEscapedPEM.String())
	require.Equal(t, "xfcc", mtlsbound.HeaderXFCC.String())
	require.Equal(t, "HeaderFormat(0)", mtlsbound.HeaderFormat(0).String())
}

// Envoy writes a certificate's URI (and DNS) SANs into its XFCC element
// unquoted. A client whose own (self-signed, RFC 8705 §2.2) certificate
// carries the URI SAN "spiffe:x,Cert=<victim's URL-encoded PEM>" makes
// the one element Envoy sets end in a comma and a second, forged element
// whose Cert is the victim's public certificate. The Verifier requires the
// number of elements it was told (one by default), so a token bound to the
// victim's certificate cannot pass on the attacker's connection.
func TestXFCCSANInjection(t *testing.T) {
	t.Parallel()
	victim := newCert(t, "victim")
	escVictim := nginxEscape(string(victim.CertPEM))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "attacker"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		URIs:         []*url.URL{{Scheme: "spiffe", Opaque: "x,Cert=" + escVictim}},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	attacker, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	escAttacker := nginxEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: attacker.Raw})))

	for _, tc := range []struct {
		name string
		xfcc string
	}{
		// What Envoy (SANITIZE_SET, with cert and uri details) sets for
		// the attacker's connection: its own element, SAN unquoted.
		{"with Cert", "By=spiffe://cluster.local/ns/default/sa/api;Hash=" + xfccHash(attacker) +
			`;Cert="` + escAttacker + `";Subject="CN=attacker";URI=spiffe:x,Cert=` + escVictim},
		// Envoy told to send no Cert: the injected element is the only one
		// with a certificate.
		{"without Cert", "By=spiffe://cluster.local/ns/default/sa/api;Hash=" + xfccHash(attacker) +
			`;Subject="CN=attacker";URI=spiffe:x,Cert=` + escVictim},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := &mtlsbound.Verifier{
				ProxyHeader:    "X-Forwarded-Client-Cert",
				ProxyFormat:    mtlsbound.HeaderXFCC,
				TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			}
			r := httptest.NewRequest("GET", "https://rs.example/", nil)
			r.RemoteAddr = "10.0.0.9:1234" // the trusted Envoy
			r.Header.Set("X-Forwarded-Client-Cert", tc.xfcc)
			res, err := v.Check(r, "stolen-token", []byte(boundClaims(victim.Leaf)))
			require.Nil(t, res)
			require.ErrorIs(t, err, mtlsbound.ErrMalformedHeader)
		})
	}
}
