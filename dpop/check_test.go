package dpop

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// x5t is a canonical certificate thumbprint (the value does not matter
// here: this package never checks it).
const x5t = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"

// TestCheckPolicy: which confirmation methods a Verifier enforces, lets
// pass (CheckedElsewhere) or refuses, and with which scheme.
func TestCheckPolicy(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	other := newProofer(t, newKey(t), fixedNow)
	jkt := p.JKT()
	jwk := publicJWK(t, p.Public())
	const tok = "tok-1"
	req := func(scheme string, pr *Proofer, token string) *http.Request {
		r := httptest.NewRequest("GET", rsURI, nil)
		if scheme != "" {
			r.Header.Set("Authorization", scheme+" "+tok)
		}
		if pr != nil {
			proof, err := pr.Proof("GET", rsURI, ProofOptions{AccessToken: token})
			require.NoError(t, err)
			r.Header.Set("DPoP", proof)
		}
		return r
	}
	plain := func() *Verifier { return &Verifier{BaseURL: rsBase, Now: clock(fixedNow)} }
	mtls := func() *Verifier {
		return &Verifier{BaseURL: rsBase, Now: clock(fixedNow), CheckedElsewhere: []string{"x5t#S256"}}
	}
	unbound := func() *Verifier { return &Verifier{BaseURL: rsBase, Now: clock(fixedNow), InsecureAllowUnbound: true} }

	for _, tc := range []struct {
		name      string
		v         func() *Verifier
		claims    string
		r         *http.Request
		want      error // nil: accepted
		wantBound bool
		wantProof bool
	}{
		// jkt and x5t#S256 together: refused unless another verifier
		// checks the certificate, and then the proof is still required.
		{"jkt and x5t#S256", plain, `{"cnf":{"jkt":"` + jkt + `","x5t#S256":"` + x5t + `"}}`, req("DPoP", p, tok), ErrUnsupportedConfirmation, false, false},
		{"jkt and x5t#S256, x5t#S256 checked elsewhere", mtls, `{"cnf":{"jkt":"` + jkt + `","x5t#S256":"` + x5t + `"}}`, req("DPoP", p, tok), nil, true, true},
		{"jkt and x5t#S256 checked elsewhere, proof of another key", mtls, `{"cnf":{"jkt":"` + jkt + `","x5t#S256":"` + x5t + `"}}`, req("DPoP", other, tok), ErrBindingMismatch, false, false},
		{"jkt and x5t#S256 checked elsewhere, no proof", mtls, `{"cnf":{"jkt":"` + jkt + `","x5t#S256":"` + x5t + `"}}`, req("DPoP", nil, tok), ErrInvalidProof, false, false},
		{"jkt and x5t#S256 checked elsewhere, as Bearer", mtls, `{"cnf":{"jkt":"` + jkt + `","x5t#S256":"` + x5t + `"}}`, req("Bearer", p, tok), ErrInvalidToken, false, false},

		// x5t#S256 alone.
		{"x5t#S256 alone", plain, `{"cnf":{"x5t#S256":"` + x5t + `"}}`, req("Bearer", nil, tok), ErrUnsupportedConfirmation, false, false},
		{"x5t#S256 alone, checked elsewhere, Bearer", mtls, `{"cnf":{"x5t#S256":"` + x5t + `"}}`, req("Bearer", nil, tok), nil, true, false},
		{"x5t#S256 alone, checked elsewhere, DPoP scheme", mtls, `{"cnf":{"x5t#S256":"` + x5t + `"}}`, req("DPoP", p, tok), ErrInvalidToken, false, false},

		// jkt, jwk.
		{"jkt", plain, `{"cnf":{"jkt":"` + jkt + `"}}`, req("DPoP", p, tok), nil, true, true},
		{"jkt, scheme in lower case", plain, `{"cnf":{"jkt":"` + jkt + `"}}`, req("dpop", p, tok), nil, true, true},
		{"jkt, no Authorization header", plain, `{"cnf":{"jkt":"` + jkt + `"}}`, req("", p, tok), nil, true, true},
		{"jwk", plain, `{"cnf":{"jwk":` + jwk + `}}`, req("DPoP", p, tok), nil, true, true},
		{"jkt and jwk", plain, `{"cnf":{"jkt":"` + jkt + `","jwk":` + jwk + `}}`, req("DPoP", p, tok), nil, true, true},
		{"jwk of another key", plain, `{"cnf":{"jwk":` + publicJWK(t, other.Public()) + `}}`, req("DPoP", p, tok), ErrBindingMismatch, false, false},
		{"jkt, proof for another token", plain, `{"cnf":{"jkt":"` + jkt + `"}}`, req("DPoP", p, "tok-2"), ErrInvalidProof, false, false},
		{"jkt as Bearer, even with InsecureAllowUnbound", unbound, `{"cnf":{"jkt":"` + jkt + `"}}`, req("Bearer", p, tok), ErrInvalidToken, false, false},

		// Methods nobody checks.
		{"kid", mtls, `{"cnf":{"kid":"k1"}}`, req("DPoP", p, tok), ErrUnsupportedConfirmation, false, false},
		{"jku", mtls, `{"cnf":{"kid":"k1","jku":"https://as.example/jwks"}}`, req("DPoP", p, tok), ErrUnsupportedConfirmation, false, false},
		{"jkt and kid", mtls, `{"cnf":{"jkt":"` + jkt + `","kid":"k1"}}`, req("DPoP", p, tok), ErrUnsupportedConfirmation, false, false},
		{"jkt and jwe", mtls, `{"cnf":{"jkt":"` + jkt + `","jwe":"eyJ"}}`, req("DPoP", p, tok), ErrUnsupportedConfirmation, false, false},
		{"unregistered member", unbound, `{"cnf":{"x-custom":1}}`, req("Bearer", nil, tok), ErrUnsupportedConfirmation, false, false},

		// Unbound tokens.
		{"unbound, Bearer", plain, `{"sub":"alice"}`, req("Bearer", nil, tok), ErrUnbound, false, false},
		{"unbound, DPoP", plain, `{"sub":"alice"}`, req("DPoP", p, tok), ErrUnbound, false, false},
		{"unbound, Bearer, InsecureAllowUnbound", unbound, `{"sub":"alice"}`, req("Bearer", nil, tok), nil, false, false},
		{"unbound, DPoP, InsecureAllowUnbound", unbound, `{"sub":"alice"}`, req("DPoP", p, tok), ErrUnbound, false, false},

		// Claims.
		{"inactive", plain, `{"active":false,"cnf":{"jkt":"` + jkt + `"}}`, req("DPoP", p, tok), ErrInactiveToken, false, false},
		{"active as a string", plain, `{"active":"true","cnf":{"jkt":"` + jkt + `"}}`, req("DPoP", p, tok), ErrInactiveToken, false, false},
		{"claims not an object", plain, `[]`, req("DPoP", p, tok), ErrMalformedConfirmation, false, false},
		{"two cnf members", plain, `{"cnf":{"jkt":"` + jkt + `"},"cnf":{}}`, req("DPoP", p, tok), ErrMalformedConfirmation, false, false},
		{"jkt not canonical", plain, `{"cnf":{"jkt":"` + jkt + `="}}`, req("DPoP", p, tok), ErrMalformedConfirmation, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := tc.v().Check(tc.r, tok, json.RawMessage(tc.claims))
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				require.Nil(t, res)
				code, _ := classify(err)
				require.NotEmpty(t, code)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantBound, res.Bound)
			require.Equal(t, tc.wantProof, res.Proof != nil)
			require.JSONEq(t, tc.claims, string(res.Claims))
			if res.Proof != nil {
				require.Equal(t, jkt, res.Proof.JKT)
				require.Equal(t, AccessTokenHash(tok), res.Proof.AccessTokenHash)
			}
		})
	}

	t.Run("empty token", func(t *testing.T) {
		t.Parallel()
		_, err := plain().Check(req("DPoP", p, ""), "", jktClaims(jkt))
		require.ErrorIs(t, err, ErrNoToken)
	})
}

// TestVerifyBearerScheme: Verify reads a Bearer token only when one can be
// admitted, and then applies Check's policy.
func TestVerifyBearerScheme(t *testing.T) {
	t.Parallel()
	claims := map[string]string{
		"mtls":  `{"cnf":{"x5t#S256":"` + x5t + `"}}`,
		"plain": `{"sub":"x"}`,
	}
	for _, tc := range []struct {
		name string
		v    *Verifier
		tok  string
		want error
	}{
		{"Bearer not accepted", &Verifier{}, "plain", ErrNoToken},
		{"certificate-bound, checked elsewhere", &Verifier{CheckedElsewhere: []string{"x5t#S256"}}, "mtls", nil},
		{"unbound with x5t#S256 checked elsewhere", &Verifier{CheckedElsewhere: []string{"x5t#S256"}}, "plain", ErrUnbound},
		{"unbound, InsecureAllowUnbound", &Verifier{InsecureAllowUnbound: true}, "plain", nil},
		{"certificate-bound, InsecureAllowUnbound", &Verifier{InsecureAllowUnbound: true}, "mtls", ErrUnsupportedConfirmation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.v.BaseURL = rsBase
			tc.v.Token = func(_ context.Context, tok string) (json.RawMessage, error) { return json.RawMessage(claims[tok]), nil }
			r := httptest.NewRequest("GET", rsURI, nil)
			r.Header.Set("Authorization", "Bearer "+tc.tok)
			res, err := tc.v.Verify(r)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			require.Nil(t, res.Proof)
		})
	}
}

// TestConfirmationShape: the contract's shape, filled by the module's one
// cnf parser.
func TestConfirmationShape(t *testing.T) {
	t.Parallel()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	c, err := ParseConfirmation([]byte(`{"jkt":"` + x5t + `","jwk":` + publicJWK(t, pub) + `,"x5t#S256":"` + x5t + `","kid":"k1","jku":"https://as.example/jwks","jwe":{},"a":1}`))
	require.NoError(t, err)
	require.Equal(t, x5t, c.JKT)
	require.True(t, pub.Equal(c.JWK))
	require.Equal(t, x5t, c.X5TS256)
	require.Equal(t, "k1", c.KID)
	require.Equal(t, "https://as.example/jwks", c.JKU)
	require.Equal(t, []string{"a", "jwe"}, c.Other)
	require.True(t, c.Bound())
	require.False(t, Confirmation{}.Bound())
	require.True(t, Confirmation{Other: []string{"jwe"}}.Bound())

	for _, bad := range []string{
		`{}`, `[]`, `{"jkt":1}`, `{"jkt":"short"}`, `{"jwk":{"kty":"oct","k":"AA"}}`,
		`{"jku":"http://as.example/jwks","kid":"k"}`, `{"jku":"https://as.example/jwks"}`, `{"jkt":"` + x5t + `","JKT":"` + x5t + `"}`,
	} {
		_, err := ParseConfirmation([]byte(bad))
		require.ErrorIs(t, err, ErrMalformedConfirmation, bad)
	}
	c, err = ConfirmationFromClaims([]byte(`{"sub":"x"}`))
	require.NoError(t, err)
	require.False(t, c.Bound())
}
