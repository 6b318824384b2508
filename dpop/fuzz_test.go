package dpop

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hardened-oauth/hardened/internal/cnf"
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
		v := &Verifier{BaseURL: "https://server.example.com", Now: clock(time.Unix(iat, 0)), MaxAge: 24 * time.Hour, Algorithms: clientAlgs}
		r := httptest.NewRequest("POST", "https://server.example.com/token", nil)
		r.Header["Dpop"] = []string{proof}
		p, err := v.VerifyProof(r)
		if err != nil {
			var pe *Error
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
		if p2, err := v.VerifyProof(r); !errors.Is(err, ErrReplay) || p2 != nil {
			t.Fatal("a proof verified twice")
		}
		// The binding check follows the thumbprint.
		if !(Confirmation{JKT: p.JKT}).matches(p.JKT) || !(Confirmation{JWK: p.Key}).matches(p.JKT) {
			t.Fatal("thumbprint does not match itself")
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
	f.Add([]byte(`{"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I","x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0","jwe":{}}}`))
	f.Add([]byte(`{"cnf":1,"cnf":2}`))
	f.Fuzz(func(t *testing.T, claims []byte) {
		c, err := ConfirmationFromClaims(claims)
		if err != nil {
			if c.Bound() {
				t.Fatal("bound confirmation with an error")
			}
			if !errors.Is(err, ErrMalformedConfirmation) && !errors.Is(err, ErrInactiveToken) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if c.JKT != "" && len(c.JKT) != 43 {
			t.Fatalf("non-canonical jkt %q accepted", c.JKT)
		}
	})
}

// FuzzCheck feeds arbitrary claims, Authorization headers and request
// paths to Verifier.Check behind a path prefix: no panic, typed errors,
// and nothing passes that a policy forbids.
func FuzzCheck(f *testing.F) {
	p := newProofer(f, newKey(f), fixedNow)
	f.Add(`{"cnf":{"jkt":"`+p.JKT()+`"}}`, "DPoP tok", "/resource")
	f.Add(`{"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"}}`, "Bearer tok", "/resource")
	f.Add(`{"sub":"x"}`, "Bearer tok", "/%2e%2e/admin")
	f.Add(`{"cnf":{"kid":"k"}}`, "DPoP tok", "/../admin")
	f.Add(`{"cnf":{"kid":"k"}}`, "DPoP tok", "/resource")
	f.Add(`{"cnf":{"kid":"k","jkt":"`+p.JKT()+`"}}`, "DPoP tok", "/resource")
	f.Add(`{"cnf":{"kid":"k","x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"}}`, "Bearer tok", "/resource")
	f.Add(`{"cnf":{"kid":"dup"}}`, "DPoP tok", "/resource")
	f.Add(`{"cnf":{"kid":"k","jku":"https://keys.example.net/pop-keys.json"}}`, "DPoP tok", "/resource")
	keys, err := NewJWKSResolver(JWKSConfig{JWKS: jwkSet(f, kidJWK(f, p.Public(), "k"), kidJWK(f, p.Public(), "dup"), kidJWK(f, newKey(f).Public(), "dup"))})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, claims, authorization, path string) {
		u, err := url.Parse("https://backend" + path)
		if err != nil {
			return
		}
		v := &Verifier{BaseURL: "https://rs.example/api", Now: clock(fixedNow), CheckedElsewhere: []string{"x5t#S256"}, Keys: keys}
		r := httptest.NewRequest("GET", "https://backend/", nil)
		r.URL = u
		r.Header.Set("Authorization", authorization)
		proof, err := p.Proof("GET", "https://rs.example/api"+u.EscapedPath(), ProofOptions{AccessToken: "tok"})
		if err == nil {
			r.Header.Set("DPoP", proof)
		}
		res, err := v.Check(r, "tok", json.RawMessage(claims))
		if err != nil {
			for _, s := range []error{ErrInvalidRequest, ErrInvalidToken, ErrInactiveToken, ErrMalformedConfirmation, ErrUnsupportedConfirmation, ErrUnbound, ErrBindingMismatch, ErrInvalidProof, ErrUnknownKey} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		c := res.Confirmation
		switch {
		case !c.Bound():
			t.Fatal("an unbound token passed")
		case len(c.Other) > 0 || c.JKU != "":
			t.Fatal("an unsupported method passed")
		case c.KID != "" && cnf.Confirmation(c).KIDTarget() != cnf.TargetCertificate && (c.KID != "k" || res.Proof == nil || res.Proof.JKT != p.JKT()):
			t.Fatal("a kid-bound token passed without the proof of the key it names")
		case c.keyBound() && (res.Proof == nil || !c.matches(res.Proof.JKT)):
			t.Fatal("a DPoP-bound token passed without its proof")
		case res.Proof != nil && !cleanPath(u.EscapedPath()):
			t.Fatalf("unclean path %q passed", u.EscapedPath())
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
		if err != nil && !errors.Is(err, ErrUseNonce) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && s != good {
			t.Fatalf("forged nonce %q accepted", s)
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
		v := &Verifier{BaseURL: "https://server.example.com", Now: clock(time.Unix(1562262616, 0))}
		p, err := verifyProof(v, proof, "POST", "https://server.example.com/token", nil)
		if err != nil {
			var pe *Error
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
