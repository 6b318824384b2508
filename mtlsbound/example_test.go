package mtlsbound_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/hardened-oauth/hardened/mtlsbound"
)

// appendixA is the certificate of RFC 8705 Appendix A (Figure 6).
const appendixA = `-----BEGIN CERTIFICATE-----
MIIBBjCBrAIBAjAKBggqhkjOPQQDAjAPMQ0wCwYDVQQDDARtdGxzMB4XDTE4MTAx
ODEyMzcwOVoXDTIyMDUwMjEyMzcwOVowDzENMAsGA1UEAwwEbXRsczBZMBMGByqG
SM49AgEGCCqGSM49AwEHA0IABNcnyxwqV6hY8QnhxxzFQ03C7HKW9OylMbnQZjjJ
/Au08/coZwxS7LfA4vOLS9WuneIXhbGGWvsDSb0tH6IxLm8wCgYIKoZIzj0EAwID
SQAwRgIhAP0RC1E+vwJD/D1AGHGzuri+hlV/PpQEKTWUVeORWz83AiEA5x2eXZOV
bUlJSGQgjwD5vaUaKlLR50Q2DmFfQj1L+SY=
-----END CERTIFICATE-----`

func ExampleThumbprint() {
	block, _ := pem.Decode([]byte(appendixA))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		panic(err)
	}
	fmt.Println(mtlsbound.Thumbprint(cert))
	// Output: A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0
}

func ExampleParseConfirmation() {
	block, _ := pem.Decode([]byte(appendixA))
	cert, _ := x509.ParseCertificate(block.Bytes)

	// RFC 8705 Appendix A, Figure 5.
	conf, err := mtlsbound.ParseConfirmation([]byte(`{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}`))
	fmt.Println(err, conf.X5TS256 == mtlsbound.Thumbprint(cert))

	// RFC 8705 §3.1's example value is not canonical base64url.
	_, err = mtlsbound.ParseConfirmation([]byte(`{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}`))
	fmt.Println(errors.Is(err, mtlsbound.ErrMalformedConfirmation))

	// Parsing reads every method; a Verifier decides which it accepts.
	conf, err = mtlsbound.ParseConfirmation([]byte(`{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I","jwe":"a.b.c.d.e"}`))
	fmt.Println(err, conf.JKT, conf.Other)
	// Output:
	// <nil> true
	// true
	// <nil> 0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I [jwe]
}

// A gateway that verified a token itself checks a token bound both to a
// DPoP key and to a certificate: the dpop verifier checks jkt, this one
// x5t#S256.
func ExampleVerifier_Check() {
	block, _ := pem.Decode([]byte(appendixA))
	cert, _ := x509.ParseCertificate(block.Bytes)
	claims := json.RawMessage(`{"sub":"client","cnf":{
	  "jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
	  "x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}}`)
	r := httptest.NewRequest("GET", "https://rs.example/data", nil)
	r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}

	_, err := (&mtlsbound.Verifier{}).Check(r, "opaque-token", claims)
	fmt.Println(errors.Is(err, mtlsbound.ErrUnsupportedConfirmation))

	res, err := (&mtlsbound.Verifier{CheckedElsewhere: []string{"jkt"}}).Check(r, "opaque-token", claims)
	fmt.Println(err, res.Bound, res.Thumbprint)
	// Output:
	// true
	// <nil> true A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0
}

func ExampleConfigError() {
	_, err := (&mtlsbound.Verifier{CheckedElsewhere: []string{"kid"}}).Check(httptest.NewRequest("GET", "/", nil), "t", nil)
	var ce *mtlsbound.ConfigError
	fmt.Println(errors.Is(err, mtlsbound.ErrInvalidConfig), errors.As(err, &ce) && ce.Field == "Verifier.CheckedElsewhere")
	// Output: true true
}

func ExampleAliases_Resolve() {
	// RFC 8705 §5, Figure 4 (abridged).
	metadata := []byte(`{
	  "issuer": "https://server.example.com",
	  "token_endpoint": "https://server.example.com/token",
	  "introspection_endpoint": "https://server.example.com/introspect",
	  "revocation_endpoint": "https://server.example.com/revo",
	  "userinfo_endpoint": "https://server.example.com/userinfo",
	  "tls_client_certificate_bound_access_tokens": true,
	  "mtls_endpoint_aliases": {
	    "token_endpoint": "https://mtls.example.com/token",
	    "revocation_endpoint": "https://mtls.example.com/revo",
	    "introspection_endpoint": "https://mtls.example.com/introspect"
	  }
	}`)
	aliases, err := mtlsbound.AliasesFromMetadata(metadata)
	if err != nil {
		panic(err)
	}
	fmt.Println(aliases.Resolve(mtlsbound.TokenEndpoint, "https://server.example.com/token"))
	fmt.Println(aliases.Resolve(mtlsbound.UserinfoEndpoint, "https://server.example.com/userinfo"))
	// Output:
	// https://mtls.example.com/token
	// https://server.example.com/userinfo
}

func ExampleVerifier_Wrap() {
	now := time.Now()
	bound, _ := generateCert("client", now.Add(-time.Hour), now.Add(time.Hour)) // self-signed
	other, _ := generateCert("attacker", now.Add(-time.Hour), now.Add(time.Hour))

	// The resource server: an opaque token looked up in a table stands in
	// for JWT validation or introspection.
	tokens := map[string]string{
		"token-1": fmt.Sprintf(`{"sub":"client","cnf":{"x5t#S256":%q}}`, mtlsbound.Thumbprint(bound.Leaf)),
	}
	verifier := &mtlsbound.Verifier{
		Token: func(_ context.Context, tok string) (json.RawMessage, error) {
			claims, ok := tokens[tok]
			if !ok {
				return nil, errors.New("unknown token")
			}
			return json.RawMessage(claims), nil
		},
	}
	api := verifier.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, _ := mtlsbound.FromContext(r.Context())
		_ = res.Claims // verified claims; res.Certificate is the client's
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewUnstartedServer(api)
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert} // certificate validity is TLS policy
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	call := func(name string, cert *tls.Certificate) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		if cert != nil {
			var err error
			if hc, err = (&mtlsbound.Client{Certificate: *cert, RootCAs: roots}).HTTPClient(); err != nil {
				panic(err)
			}
		}
		defer hc.CloseIdleConnections()
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Authorization", "Bearer token-1")
		resp, err := hc.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprintln(name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))))
	}
	call("bound certificate:", &bound.TLS)
	call("other certificate:", &other.TLS)
	call("no certificate:", nil)
	// Output:
	// bound certificate: 204
	// other certificate: 401 Bearer error="invalid_token"
	// no certificate: 401 Bearer error="invalid_token"
}

// A token bound by "kid" (RFC 7800 §3.4) names a key the resource server
// already knows, such as one in the client's registered JWK Set: the
// client certificate must carry it.
func ExampleJWKSResolver() {
	block, _ := pem.Decode([]byte(appendixA))
	cert, _ := x509.ParseCertificate(block.Bytes)
	// The client's registered keys: RFC 8705 Appendix A's key (Figure 7),
	// with a kid.
	registered := `{"keys":[{"kty":"EC","crv":"P-256","kid":"mtls-2018",` +
		`"x":"1yfLHCpXqFjxCeHHHMVDTcLscpb07KUxudBmOMn8C7Q","y":"8_coZwxS7LfA4vOLS9WuneIXhbGGWvsDSb0tH6IxLm8"}]}`
	keys, err := mtlsbound.NewJWKSResolver(mtlsbound.JWKSConfig{
		JWKS: []byte(registered),
		JKUs: []string{"https://keys.example.net/pop-keys.json"}, // "jku" values accepted (RFC 7800 §3.5)
	})
	if err != nil {
		panic(err)
	}
	v := &mtlsbound.Verifier{Keys: keys}
	r := httptest.NewRequest("GET", "https://rs.example/data", nil)
	r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}

	res, err := v.Check(r, "opaque-token", json.RawMessage(`{"sub":"client","cnf":{"kid":"mtls-2018"}}`))
	fmt.Println(err, res.Bound, res.Thumbprint)
	_, err = v.Check(r, "opaque-token", json.RawMessage(`{"sub":"client","cnf":{"kid":"mtls-2017"}}`))
	fmt.Println(errors.Is(err, mtlsbound.ErrUnknownKey))
	_, err = (&mtlsbound.Verifier{}).Check(r, "opaque-token", json.RawMessage(`{"sub":"client","cnf":{"kid":"mtls-2018"}}`))
	fmt.Println(errors.Is(err, mtlsbound.ErrUnsupportedConfirmation))
	// Output:
	// <nil> true A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0
	// true
	// true
}
