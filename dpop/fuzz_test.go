package dpop

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// rfcSeeds are the proofs of RFC 9449 Figures 2, 7 and 13
// (testdata/rfc9449-dpop.json).
func rfcSeeds(f *testing.F) []string {
	v := loadRFC(f)
	var out []string
	for _, p := range v.Proofs {
		out = append(out, p.Compact)
	}
	return out
}

// FuzzVerifyProof feeds arbitrary DPoP header values to the verifier: it
// must never panic, must fail with a typed error, and anything it accepts
// must be consistent.
func FuzzVerifyProof(f *testing.F) {
	for _, s := range rfcSeeds(f) {
		f.Add(s)
		parts := strings.Split(s, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + "." + parts[1] + "." + parts[2] + ".x.y")
	}
	f.Add("")
	f.Add("..")
	f.Add("e30.e30.e30")
	const iat = 1562262616
	f.Fuzz(func(t *testing.T, proof string) {
		v := &Verifier{Now: clock(time.Unix(iat, 0)), MaxAge: 24 * time.Hour, Algorithms: ClientAlgorithms}
		p, err := v.VerifyProof(context.Background(), proof, "POST", "https://server.example.com/token", nil)
		if err != nil {
			var pe *ProofError
			if !errors.As(err, &pe) {
				t.Fatalf("untyped error %v", err)
			}
			if !errors.Is(err, ErrInvalidProof) && !errors.Is(err, ErrUseNonce) {
				t.Fatalf("error without class: %v", err)
			}
			return
		}
		if p.JKT == "" || p.Key == nil || p.Method != "POST" || p.ID == "" {
			t.Fatalf("inconsistent proof %+v", p)
		}
		if p2, err := v.VerifyProof(context.Background(), proof, "POST", "https://server.example.com/token", nil); err == nil || p2 != nil {
			t.Fatal("a proof verified twice")
		}
		// The binding check follows the thumbprint.
		b := &Binding{AccessToken: "t", Confirmation: Confirmation{JKT: p.JKT}}
		if !b.Confirmation.Matches(p.JKT) {
			t.Fatal("thumbprint does not match itself")
		}
		if _, ok := p.Key.(crypto.PublicKey); !ok {
			t.Fatal("no key")
		}
	})
}

// FuzzConfirmationFromClaims parses arbitrary token claims.
func FuzzConfirmationFromClaims(f *testing.F) {
	v := loadRFC(f)
	f.Add([]byte(v.Introspection.Response.JSON))
	f.Add([]byte(`{"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`))
	f.Add([]byte(`{"cnf":{"jwk":{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}}}`))
	f.Add([]byte(`{"active":true,"cnf":{"x5t#S256":"x"}}`))
	f.Add([]byte(`{"cnf":1,"cnf":2}`))
	f.Fuzz(func(t *testing.T, claims []byte) {
		c, err := ConfirmationFromClaims(claims)
		if err != nil {
			if c.Bound() {
				t.Fatal("bound confirmation with an error")
			}
			return
		}
		if c.JKT != "" && !canonicalDigest([]byte(c.JKT)) {
			t.Fatalf("non-canonical jkt %q accepted", c.JKT)
		}
	})
}

// FuzzParsePrivateJWK parses arbitrary private JWKs; what it accepts
// round-trips.
func FuzzParsePrivateJWK(f *testing.F) {
	k := newKey(f)
	b, err := MarshalPrivateJWK(k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`))
	f.Add([]byte(`{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB","p":"AQAB","q":"AQAB"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ParsePrivateJWK(data)
		if err != nil {
			return
		}
		out, err := MarshalPrivateJWK(key)
		if err != nil {
			t.Fatalf("accepted key does not marshal: %v", err)
		}
		back, err := ParsePrivateJWK(out)
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !back.(interface{ Equal(crypto.PrivateKey) bool }).Equal(key) {
			t.Fatal("round trip changed the key")
		}
	})
}

// FuzzNormalizeURI checks that htu normalization never panics and is
// idempotent.
func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{"https://server.example.com/token", "HTTPS://A.example:443/%7e/../b?q#f", "http://[::1]:80", "https://a/%2f", "http://a:/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := normalizeURI(s)
		if err != nil {
			return
		}
		n2, err := normalizeURI(n)
		if err != nil || n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", s, n, n2, err)
		}
	})
}

// FuzzNonceRequested feeds arbitrary error responses to the client
// transport's nonce detection: no panic, and the body is handed back
// unchanged.
func FuzzNonceRequested(f *testing.F) {
	v := loadRFC(f)
	for _, w := range v.WWWAuthenticate {
		for _, h := range append(w.Headers, w.Response...) {
			if h[0] == "WWW-Authenticate" {
				f.Add(401, h[1], "application/json", []byte(""))
			}
		}
	}
	for _, n := range v.DPoPNonce {
		f.Add(400, "", "application/json", []byte(n.JSON))
	}
	f.Fuzz(func(t *testing.T, status int, challenge, ctype string, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}
		resp.Header.Set("WWW-Authenticate", challenge)
		resp.Header.Set("Content-Type", ctype)
		_ = nonceRequested(resp)
		got, err := io.ReadAll(resp.Body)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("body changed: %v", err)
		}
	})
}

// FuzzNonceCheck feeds arbitrary nonces to the stateless nonce checker.
func FuzzNonceCheck(f *testing.F) {
	n := &Nonces{Secrets: [][]byte{nonceSecret}, Now: clock(fixedNow)}
	good, err := n.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("eyJ7S_zG.eyJH0-Z.HX4w-7v") // RFC 9449 Figure 20
	f.Fuzz(func(t *testing.T, s string) {
		_, err := n.Check(s)
		if err != nil && !errors.Is(err, ErrNonceInvalid) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && s != good {
			t.Fatalf("forged nonce %q accepted", s)
		}
	})
}

// FuzzAuthorization feeds arbitrary Authorization headers to the
// middleware's parser.
func FuzzAuthorization(f *testing.F) {
	f.Add("DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
	f.Add("Bearer INVALID_TOKEN")
	f.Add("dpop  a==")
	f.Fuzz(func(t *testing.T, h string) {
		r := &http.Request{Header: http.Header{"Authorization": {h}}}
		scheme, tok, err := authorization(r)
		if err != nil {
			return
		}
		if !strings.EqualFold(scheme, "DPoP") && !strings.EqualFold(scheme, "Bearer") || !httpx.IsB64Token(tok) {
			t.Fatalf("accepted %q", h)
		}
	})
}

// FuzzVerifyProofJSON signs arbitrary header and claims JSON with a valid
// key, so that the fuzzer reaches the checks after the signature's
// structure: header and claims parsing, typ, alg, jwk, htm, htu, iat.
func FuzzVerifyProofJSON(f *testing.F) {
	key := newKey(f)
	jwk := publicJWK(f, key.Public())
	f.Add(`{"typ":"dpop+jwt","alg":"ES256","jwk":`+jwk+`}`, `{"jti":"a","htm":"POST","htu":"https://server.example.com/token","iat":1562262616}`)
	f.Add(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"}}`, `{"jti":"-BwC3ESc6acc2lTc","htm":"POST","htu":"https://server.example.com/token","iat":1562262616}`)
	f.Add(`{"typ":"dpop+jwt","alg":"none","jwk":`+jwk+`,"crit":["x"]}`, `{"jti":"a","htm":"POST","htu":"HTTPS://server.example.com:443/a/../token?q","iat":1.5e9,"nonce":"\u0041"}`)
	f.Fuzz(func(t *testing.T, header, claims string) {
		proof := rawES256(t, key, header, claims)
		v := &Verifier{Now: clock(time.Unix(1562262616, 0))}
		p, err := v.VerifyProof(context.Background(), proof, "POST", "https://server.example.com/token", nil)
		if err != nil {
			var pe *ProofError
			if !errors.As(err, &pe) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if p.Method != "POST" || p.ID == "" || p.JKT == "" {
			t.Fatalf("inconsistent proof %+v", p)
		}
		if n, err := normalizeURI(p.URI); err != nil || n != "https://server.example.com/token" {
			t.Fatalf("accepted htu %q", p.URI)
		}
	})
}
