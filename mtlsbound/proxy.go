package mtlsbound

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// HeaderFormat says how a TLS-terminating proxy encodes the client
// certificate in [Verifier.ProxyHeader].
type HeaderFormat int

const (
	// HeaderEscapedPEM is one URL-encoded PEM certificate, as nginx's
	// $ssl_client_escaped_cert sends it
	// (proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;).
	// An empty value means no certificate. Decoding is percent-decoding
	// only ("+" stays "+"), so AWS ALB's X-Amzn-Mtls-Clientcert, which
	// leaves "+", "=" and "/" unescaped, parses as well.
	HeaderEscapedPEM HeaderFormat = iota + 1
	// HeaderXFCC is Envoy's x-forwarded-client-cert: comma-separated
	// elements, one per proxy, each a semicolon-separated list of
	// key=value pairs, values double-quoted when they hold ',', ';' or '='
	// (with '"' escaped as '\"'). The certificate is the URL-encoded PEM of
	// the Cert key of the LAST element: each proxy appends its element at
	// the end (forward_client_cert_details APPEND_FORWARD), so the last one
	// is the trusted proxy's own view of its client; earlier elements came
	// from hops this server does not trust and are only parsed for syntax.
	// A last element without Cert means no certificate. When the element
	// also carries Hash (hex SHA-256 of the DER), it must match the Cert.
	// A [Verifier] also requires exactly [Verifier.XFCCElements] elements
	// (one by default, for SANITIZE_SET).
	HeaderXFCC
)

// DefaultMaxProxyHeaderBytes bounds a client certificate header: 16 KiB,
// room for a URL-encoded 4096-bit RSA certificate several times over.
const DefaultMaxProxyHeaderBytes = 16 << 10

// String returns the format's name.
func (f HeaderFormat) String() string {
	switch f {
	case HeaderEscapedPEM:
		return "escaped-pem"
	case HeaderXFCC:
		return "xfcc"
	}
	return fmt.Sprintf("HeaderFormat(%d)", int(f))
}

// ParseEscapedPEM decodes a URL-encoded PEM certificate header value
// (nginx $ssl_client_escaped_cert). An empty value (what nginx sends when
// the client presented no certificate) returns [ErrNoCertificate]. The
// decoded text must be exactly one "CERTIFICATE" PEM block without
// headers, surrounded by nothing but whitespace, holding one DER
// certificate with no trailing data; anything else, including a second
// certificate, wraps [ErrMalformedHeader], as does a value longer than
// [DefaultMaxProxyHeaderBytes].
func ParseEscapedPEM(value string) (*x509.Certificate, error) {
	if len(value) > DefaultMaxProxyHeaderBytes {
		return nil, errHeaderTooLarge
	}
	return parseEscapedPEM(value)
}

func parseEscapedPEM(value string) (*x509.Certificate, error) {
	value = strings.Trim(value, " \t")
	if value == "" {
		return nil, ErrNoCertificate
	}
	raw, err := url.PathUnescape(value)
	if err != nil {
		return nil, fmt.Errorf("%w: bad percent-encoding", ErrMalformedHeader)
	}
	return parsePEMCertificate([]byte(raw))
}

var errHeaderTooLarge = fmt.Errorf("%w: over %d bytes", ErrMalformedHeader, DefaultMaxProxyHeaderBytes)

var pemBegin = []byte("-----BEGIN CERTIFICATE-----")

// parsePEMCertificate parses exactly one PEM CERTIFICATE block.
func parsePEMCertificate(data []byte) (*x509.Certificate, error) {
	data = bytes.TrimSpace(data)
	// pem.Decode skips any text before "-----BEGIN"; we do not.
	if !bytes.HasPrefix(data, pemBegin) {
		return nil, fmt.Errorf("%w: not a PEM certificate", ErrMalformedHeader)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" || len(block.Headers) != 0 {
		return nil, fmt.Errorf("%w: not a PEM certificate", ErrMalformedHeader)
	}
	if rest = bytes.TrimSpace(rest); len(rest) != 0 {
		if bytes.Contains(rest, []byte("-----BEGIN")) {
			return nil, fmt.Errorf("%w: more than one PEM block", ErrMalformedHeader)
		}
		return nil, fmt.Errorf("%w: data after the PEM block", ErrMalformedHeader)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedHeader, err)
	}
	return cert, nil
}

// ParseXFCC returns the client certificate of an Envoy
// x-forwarded-client-cert value (see [HeaderXFCC]) of exactly one element,
// what Envoy's SANITIZE_SET writes. The whole value must parse: empty
// elements, empty or duplicate Cert/Hash/By keys in an element,
// unterminated quotes or text after a closing quote wrap
// [ErrMalformedHeader], as does a Cert that [ParseEscapedPEM] would
// reject, a Hash that does not match it, another number of elements, or a
// value longer than [DefaultMaxProxyHeaderBytes]. An empty value, or an
// element without Cert, returns [ErrNoCertificate].
//
// The element count is a defence: Envoy writes a certificate's URI and DNS
// SANs unquoted, so a client certificate whose SAN holds a comma adds an
// element of its own, with any Cert in it. Behind Envoys that append
// (APPEND_FORWARD), use [ParseXFCCElements] with the number of hops.
func ParseXFCC(value string) (*x509.Certificate, error) {
	return ParseXFCCElements(value, 1)
}

// ParseXFCCElements is [ParseXFCC] for a value of exactly elements
// elements, one per Envoy that appended one (APPEND_FORWARD), and returns
// the certificate of the last: the one the nearest proxy saw. Another
// count, or elements below 1, wraps [ErrMalformedHeader].
func ParseXFCCElements(value string, elements int) (*x509.Certificate, error) {
	if elements < 1 {
		return nil, fmt.Errorf("%w: XFCC element count %d, want at least 1", ErrMalformedHeader, elements)
	}
	if len(value) > DefaultMaxProxyHeaderBytes {
		return nil, errHeaderTooLarge
	}
	return parseXFCC(value, elements)
}

// parseXFCC parses value, which must hold exactly elements elements.
func parseXFCC(value string, elements int) (*x509.Certificate, error) {
	if strings.Trim(value, " \t") == "" {
		return nil, ErrNoCertificate
	}
	var last xfccElement
	p := xfccParser{s: value}
	n := 0
	for {
		el, err := p.element()
		if err != nil {
			return nil, err
		}
		last = el
		n++
		if p.eof() {
			break
		}
		p.i++ // ','
	}
	if n != elements {
		return nil, fmt.Errorf("%w: XFCC has %d elements, want %d (Verifier.XFCCElements)", ErrMalformedHeader, n, elements)
	}
	if !last.hasCert {
		return nil, ErrNoCertificate
	}
	cert, err := parseEscapedPEM(last.cert)
	if err != nil {
		if errors.Is(err, ErrNoCertificate) {
			return nil, fmt.Errorf("%w: empty Cert", ErrMalformedHeader)
		}
		return nil, err
	}
	if last.hasHash {
		want, err := hex.DecodeString(last.hash)
		sum := sha256.Sum256(cert.Raw)
		if err != nil || subtle.ConstantTimeCompare(want, sum[:]) != 1 {
			return nil, fmt.Errorf("%w: Hash does not match Cert", ErrMalformedHeader)
		}
	}
	return cert, nil
}

// xfccElement holds the keys of one XFCC element this package reads.
type xfccElement struct {
	cert, hash       string
	hasCert, hasHash bool
}

type xfccParser struct {
	s string
	i int
}

func (p *xfccParser) eof() bool { return p.i >= len(p.s) }

func (p *xfccParser) skipOWS() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *xfccParser) fail(what string) error {
	return fmt.Errorf("%w: XFCC %s at offset %d", ErrMalformedHeader, what, p.i)
}

// element parses one element, stopping at ',' or the end.
func (p *xfccParser) element() (xfccElement, error) {
	var el xfccElement
	var seenBy bool
	for {
		p.skipOWS()
		start := p.i
		for !p.eof() && p.s[p.i] != '=' && p.s[p.i] != ';' && p.s[p.i] != ',' && p.s[p.i] != '"' {
			p.i++
		}
		key := strings.TrimRight(p.s[start:p.i], " \t")
		if key == "" || p.eof() || p.s[p.i] != '=' {
			return el, p.fail("expected key=value")
		}
		p.i++ // '='
		p.skipOWS()
		val, err := p.value()
		if err != nil {
			return el, err
		}
		switch {
		case strings.EqualFold(key, "Cert"):
			if el.hasCert {
				return el, p.fail("duplicate Cert")
			}
			el.cert, el.hasCert = val, true
		case strings.EqualFold(key, "Hash"):
			if el.hasHash {
				return el, p.fail("duplicate Hash")
			}
			el.hash, el.hasHash = val, true
		case strings.EqualFold(key, "By"):
			if seenBy {
				return el, p.fail("duplicate By")
			}
			seenBy = true
		}
		p.skipOWS()
		if p.eof() || p.s[p.i] == ',' {
			return el, nil
		}
		if p.s[p.i] != ';' {
			return el, p.fail("expected ';'")
		}
		p.i++
	}
}

// value parses a quoted or bare value.
func (p *xfccParser) value() (string, error) {
	if p.eof() || p.s[p.i] != '"' {
		start := p.i
		for !p.eof() && p.s[p.i] != ';' && p.s[p.i] != ',' {
			if p.s[p.i] == '"' {
				return "", p.fail("quote inside an unquoted value")
			}
			p.i++
		}
		return strings.TrimRight(p.s[start:p.i], " \t"), nil
	}
	p.i++ // opening quote
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.i]
		switch c {
		case '"':
			p.i++
			return b.String(), nil
		case '\\':
			p.i++
			if p.eof() {
				return "", p.fail("unterminated escape")
			}
			c = p.s[p.i]
		}
		b.WriteByte(c)
		p.i++
	}
	return "", p.fail("unterminated quoted value")
}
