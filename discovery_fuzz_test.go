package hardened_test

import (
	"net/url"
	"testing"

	"github.com/hardened-oauth/hardened"
)

// FuzzParseMetadata feeds attacker-controlled metadata documents to the
// parser, seeded with RFC 8414 §3.2's example and RFC 8705 §5's document
// with mtls_endpoint_aliases. It checks the parser never panics and that
// whatever it accepts keeps its promises: the issuer is the one asked for,
// and every endpoint and alias is an absolute https URL.
func FuzzParseMetadata(f *testing.F) {
	for _, name := range []string{"rfc8414-metadata.json", "rfc8705-mtls-metadata.json"} {
		v := loadVector(f, name)
		f.Add(v.Issuer, []byte(v.Metadata))
	}
	f.Add("https://server.example.com", []byte(`{"issuer":"https://server.example.com","issuer":"x"}`))
	f.Add("https://server.example.com/t/", []byte(`{"issuer":"https://server.example.com/t/","response_types_supported":["code"],"mtls_endpoint_aliases":{"token_endpoint":"https://m.example/t"}}`))
	f.Add("https://server.example.com", []byte(`{"issuer":"https://server.example.com","response_types_supported":["code",null]}`))
	f.Fuzz(func(t *testing.T, issuer string, doc []byte) {
		m, err := hardened.ParseMetadata(issuer, doc)
		if err != nil {
			if m != nil {
				t.Fatal("metadata returned with an error")
			}
			return
		}
		if m.Issuer != issuer {
			t.Fatalf("issuer %q accepted for %q", m.Issuer, issuer)
		}
		if len(m.ResponseTypesSupported) == 0 {
			t.Fatal("accepted without response_types_supported")
		}
		check := func(name, s string) {
			if s == "" {
				return
			}
			u, err := url.Parse(s)
			if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
				t.Fatalf("%s %q accepted", name, s)
			}
		}
		for _, name := range []string{
			"authorization_endpoint", "token_endpoint", "pushed_authorization_request_endpoint",
			"jwks_uri", "introspection_endpoint", "revocation_endpoint", "userinfo_endpoint",
			"registration_endpoint", "device_authorization_endpoint",
		} {
			check(name, m.Endpoint(name, false))
			check(name, m.Endpoint(name, true))
		}
		for name, u := range m.MTLSEndpointAliases {
			check("mtls alias "+name, u)
		}
		for _, method := range []string{hardened.AuthMethodPrivateKeyJWT, hardened.AuthMethodTLSClientAuth, hardened.AuthMethodClientSecretBasic} {
			if ep, err := m.OAuth2Endpoint(method, true); err == nil {
				check("TokenURL", ep.TokenURL)
				if ep.AuthStyle == 0 {
					t.Fatal("AuthStyleAutoDetect returned")
				}
			}
		}
	})
}
