package mtlsbound_test

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hardened-oauth/hardened/mtlsbound"
)

// The seeds come from RFC 8705 (testdata/rfc8705-mtls.json): the Appendix A
// certificate and cnf, the §3.1 claims and §3.2 introspection response, and
// the §5 metadata.

func FuzzParseEscapedPEM(f *testing.F) {
	v := loadVectors(f)
	f.Add(nginxEscape(v.AppendixA.PEM))
	f.Add(albEscape(v.AppendixA.PEM))
	f.Add(v.AppendixA.PEM)
	f.Add(nginxEscape(v.AppendixA.PEM + "\n" + v.AppendixA.PEM))
	f.Add("")
	f.Add("%")
	f.Add("-----BEGIN%20CERTIFICATE-----%0A-----END%20CERTIFICATE-----")
	f.Fuzz(func(t *testing.T, value string) {
		cert, err := mtlsbound.ParseEscapedPEM(value)
		if err != nil {
			if cert != nil || !errors.Is(err, mtlsbound.ErrNoCertificate) && !errors.Is(err, mtlsbound.ErrMalformedHeader) {
				t.Fatalf("cert %v, untyped error %v", cert != nil, err)
			}
			return
		}
		// Round trip: the canonical encoding of the parsed certificate
		// parses to the same DER.
		again, err := mtlsbound.ParseEscapedPEM(nginxEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))))
		if err != nil || string(again.Raw) != string(cert.Raw) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzParseXFCC(f *testing.F) {
	v := loadVectors(f)
	cert := v.appendixCert(f)
	esc := nginxEscape(v.AppendixA.PEM)
	f.Add(`Cert="` + esc + `"`)
	f.Add(`By=spiffe://a;Hash=` + xfccHash(cert) + `;Cert="` + esc + `";Subject="CN=mtls, O=\"x\"";URI=spiffe://b;DNS=a.example`)
	f.Add(`Cert="` + esc + `",By=spiffe://p;Cert=` + esc)
	f.Add(`Cert="` + esc + `",By=x`)
	f.Add(`Subject="\`)
	f.Add(`a=b;;c=d,,`)
	f.Add("")
	f.Fuzz(func(t *testing.T, value string) {
		for _, n := range []int{1, 2} {
			c, err := mtlsbound.ParseXFCCElements(value, n)
			if err != nil {
				if c != nil || !errors.Is(err, mtlsbound.ErrNoCertificate) && !errors.Is(err, mtlsbound.ErrMalformedHeader) {
					t.Fatalf("cert %v, untyped error %v", c != nil, err)
				}
				continue
			}
			if c == nil || len(c.Raw) == 0 {
				t.Fatal("no certificate and no error")
			}
			if n == 1 {
				if c1, err := mtlsbound.ParseXFCC(value); err != nil || !c1.Equal(c) {
					t.Fatalf("ParseXFCC differs from ParseXFCCElements(value, 1): %v", err)
				}
			}
		}
	})
}

func FuzzParseConfirmation(f *testing.F) {
	v := loadVectors(f)
	f.Add([]byte(v.AppendixA.CNF))
	f.Add([]byte(`{"x5t#S256":"` + v.JWT.X5t + `"}`))
	f.Add([]byte(`{"x5t#S256":"` + v.canonical31() + `"}`))
	f.Add([]byte(`{"x5t\u0023S256":"` + v.canonical31() + `","x5t#S256":"A"}`))
	f.Add([]byte(`{"jkt":"` + jkt9449 + `"}`))
	f.Add([]byte(`{"jku":"https://keys.example.net/pop-keys.json","kid":"2015-08-28"}`)) // RFC 7800 §3.5
	f.Add([]byte(`{"kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"}`))                      // RFC 7800 §3.4
	f.Add([]byte(`{"X5T#s256":"` + v.canonical31() + `","jwe":1}`))
	f.Add([]byte(`"` + v.canonical31() + `"`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, cnf []byte) {
		c, err := mtlsbound.ParseConfirmation(cnf)
		if err != nil {
			if c.Bound() || !errors.Is(err, mtlsbound.ErrMalformedConfirmation) {
				t.Fatalf("bound %v, untyped error %v", c.Bound(), err)
			}
			return
		}
		if !c.Bound() || !json.Valid(cnf) {
			t.Fatalf("accepted %q as unbound or invalid JSON", cnf)
		}
		// An accepted x5t#S256 is canonical: it is what encoding/json
		// reads, and re-encoding its bytes gives it back.
		if c.X5TS256 != "" {
			var m map[string]any
			if json.Unmarshal(cnf, &m) != nil || m["x5t#S256"] != c.X5TS256 {
				t.Fatalf("accepted %q as %q", cnf, c.X5TS256)
			}
			b, err := base64.RawURLEncoding.DecodeString(c.X5TS256)
			if err != nil || len(b) != 32 || base64.RawURLEncoding.EncodeToString(b) != c.X5TS256 {
				t.Fatalf("non-canonical %q", c.X5TS256)
			}
		}
	})
}

func FuzzConfirmationFromClaims(f *testing.F) {
	v := loadVectors(f)
	f.Add([]byte(v.JWT.Claims))
	f.Add([]byte(v.Introspection.JSON))
	f.Add([]byte(strings.Replace(string(v.Introspection.JSON), v.JWT.X5t, v.canonical31(), 1)))
	f.Add([]byte(`{"cnf":` + string(v.AppendixA.CNF) + `,"cnf":{}}`))
	f.Add([]byte(`{"active":false}`))
	f.Add([]byte(`{"Cnf":{"jkt":"` + jkt9449 + `"}}`))
	f.Fuzz(func(t *testing.T, claims []byte) {
		c, err := mtlsbound.ConfirmationFromClaims(claims)
		if err != nil {
			switch {
			case c.Bound():
				t.Fatalf("bound with error %v", err)
			case errors.Is(err, mtlsbound.ErrMalformedConfirmation), errors.Is(err, mtlsbound.ErrInactiveToken):
			default:
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !json.Valid(claims) {
			t.Fatalf("accepted invalid JSON %q", claims)
		}
	})
}

// FuzzCheck drives the whole binding decision with arbitrary claims: it
// never panics, every error is typed, and an accepted bound token matched
// the presented certificate.
func FuzzCheck(f *testing.F) {
	v := loadVectors(f)
	cert := v.appendixCert(f)
	f.Add([]byte(`{"cnf":`+string(v.AppendixA.CNF)+`}`), false, false, false)
	f.Add([]byte(`{"cnf":{"jkt":"`+jkt9449+`","x5t#S256":"`+mtlsbound.Thumbprint(cert)+`"}}`), true, false, false)
	f.Add([]byte(v.Introspection.JSON), false, true, false)
	f.Add([]byte(`{}`), false, true, false)
	f.Add([]byte(`{"cnf":{"kid":"k"}}`), false, false, true)
	f.Add([]byte(`{"cnf":{"kid":"dup"}}`), false, false, true)
	f.Add([]byte(`{"cnf":{"kid":"k","x5t#S256":"`+mtlsbound.Thumbprint(cert)+`"}}`), false, false, true)
	f.Add([]byte(`{"cnf":{"kid":"k","jkt":"`+jkt9449+`"}}`), true, false, true)
	f.Add([]byte(`{"cnf":{"kid":"k","jku":"https://keys.example.net/pop-keys.json"}}`), false, false, true)
	keys, err := mtlsbound.NewJWKSResolver(mtlsbound.JWKSConfig{JWKS: jwkSetOf(f, map[string][]crypto.PublicKey{
		"k": {cert.PublicKey}, "dup": {cert.PublicKey, newCert(f, "other").Leaf.PublicKey},
	})})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, claims []byte, jktElsewhere, allowUnbound, withKeys bool) {
		vf := &mtlsbound.Verifier{InsecureAllowUnbound: allowUnbound}
		if jktElsewhere {
			vf.CheckedElsewhere = []string{"jkt"}
		}
		if withKeys {
			vf.Keys = keys
		}
		r := httptest.NewRequest("GET", "https://rs.example/", nil)
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		res, err := vf.Check(r, "t", claims)
		if err != nil {
			for _, want := range []error{mtlsbound.ErrMalformedConfirmation, mtlsbound.ErrInactiveToken,
				mtlsbound.ErrUnsupportedConfirmation, mtlsbound.ErrUnbound, mtlsbound.ErrBindingMismatch, mtlsbound.ErrUnknownKey} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		c := res.Confirmation
		switch {
		case c.X5TS256 != "" && c.X5TS256 != mtlsbound.Thumbprint(cert):
			t.Fatal("accepted another certificate's binding")
		case c.JWK != nil || len(c.Other) > 0:
			t.Fatalf("accepted unsupported methods %+v", c)
		case c.KID != "" && c.JKT == "" && (!withKeys || c.KID != "k" || c.JKU != "" || res.Certificate != cert):
			t.Fatalf("accepted a kid that does not name the certificate's key: %+v", c)
		case c.JKT != "" && !jktElsewhere:
			t.Fatal("accepted jkt checked by nobody")
		case !c.Bound() && !allowUnbound:
			t.Fatal("accepted an unbound token")
		}
	})
}

func FuzzParseAliases(f *testing.F) {
	v := loadVectors(f)
	var md struct {
		Aliases json.RawMessage `json:"mtls_endpoint_aliases"`
	}
	if err := json.Unmarshal(v.Metadata.JSON, &md); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(md.Aliases))
	f.Add([]byte(`{"token_endpoint":"http://mtls.example.com/token"}`))
	f.Add([]byte(`{"token_endpoint":"https://u@mtls.example.com/t#f"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, member []byte) {
		a, err := mtlsbound.ParseAliases(member)
		if err != nil {
			if a != nil || !errors.Is(err, mtlsbound.ErrMalformedMetadata) {
				t.Fatalf("aliases %v, untyped error %v", a != nil, err)
			}
			return
		}
		for name, alias := range a {
			u, err := url.Parse(alias)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.Contains(alias, "#") {
				t.Fatalf("accepted %q for %q", alias, name)
			}
			if a.Resolve(name, "https://conventional.example") != alias {
				t.Fatalf("Resolve(%q) is not the alias", name)
			}
		}
	})
}
