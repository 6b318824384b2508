package mtlsbound_test

import (
	"encoding/json"
	"encoding/pem"
	"errors"
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
		c, err := mtlsbound.ParseXFCC(value)
		if err != nil {
			if c != nil || !errors.Is(err, mtlsbound.ErrNoCertificate) && !errors.Is(err, mtlsbound.ErrMalformedHeader) {
				t.Fatalf("cert %v, untyped error %v", c != nil, err)
			}
			return
		}
		if c == nil || len(c.Raw) == 0 {
			t.Fatal("no certificate and no error")
		}
	})
}

func FuzzParseConfirmation(f *testing.F) {
	v := loadVectors(f)
	f.Add([]byte(v.AppendixA.CNF))
	f.Add([]byte(`{"x5t#S256":"` + v.JWT.X5t + `"}`))
	f.Add([]byte(`{"x5t#S256":"` + v.canonical31() + `"}`))
	f.Add([]byte(`{"x5t\u0023S256":"` + v.canonical31() + `","x5t#S256":"A"}`))
	f.Add([]byte(`{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`))
	f.Add([]byte(`"` + v.canonical31() + `"`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, cnf []byte) {
		c, err := mtlsbound.ParseConfirmation(cnf)
		if err != nil {
			if c.Bound() || !errors.Is(err, mtlsbound.ErrMalformedConfirmation) && !errors.Is(err, mtlsbound.ErrUnsupportedConfirmation) {
				t.Fatalf("bound %v, untyped error %v", c.Bound(), err)
			}
			return
		}
		// Accepted: exactly one member, x5t#S256, spelled canonically.
		var m map[string]string
		if json.Unmarshal(cnf, &m) != nil || len(m) != 1 || m["x5t#S256"] != c.Thumbprint() {
			t.Fatalf("accepted %q as %q", cnf, c.Thumbprint())
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
	f.Fuzz(func(t *testing.T, claims []byte) {
		c, err := mtlsbound.ConfirmationFromClaims(claims)
		if err != nil {
			switch {
			case c.Bound():
				t.Fatalf("bound with error %v", err)
			case errors.Is(err, mtlsbound.ErrMalformedClaims), errors.Is(err, mtlsbound.ErrMalformedConfirmation),
				errors.Is(err, mtlsbound.ErrUnsupportedConfirmation), errors.Is(err, mtlsbound.ErrInactiveToken):
			default:
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !json.Valid(claims) {
			t.Fatalf("accepted invalid JSON %q", claims)
		}
		_, ierr := mtlsbound.ConfirmationFromIntrospection(claims)
		if ierr != nil && !errors.Is(ierr, mtlsbound.ErrInactiveToken) {
			t.Fatalf("introspection disagrees: %v", ierr)
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
