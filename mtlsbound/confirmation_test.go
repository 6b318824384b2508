package mtlsbound_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/mtlsbound"
)

const jkt9449 = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" // RFC 9449 §6.1

func TestThumbprintAppendixA(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	cert := v.appendixCert(t)
	var cnf struct {
		X5t string `json:"x5t#S256"`
	}
	require.NoError(t, json.Unmarshal(v.AppendixA.CNF, &cnf))
	// Figure 5's value, independently recomputed when the vector was made.
	require.Equal(t, cnf.X5t, v.AppendixA.Checks[0].Computed)
	require.Equal(t, cnf.X5t, mtlsbound.Thumbprint(cert))
	require.Empty(t, mtlsbound.Thumbprint(nil))
	c, err := mtlsbound.ParseConfirmation(v.AppendixA.CNF)
	require.NoError(t, err)
	require.Equal(t, mtlsbound.Thumbprint(cert), c.X5TS256)
}

// TestConfirmationShape holds Confirmation to the family contract: the
// same fields, in the same order, as dpop.Confirmation.
func TestConfirmationShape(t *testing.T) {
	t.Parallel()
	want := []struct {
		name string
		typ  reflect.Type
	}{
		{"JKT", reflect.TypeFor[string]()},
		{"JWK", reflect.TypeFor[crypto.PublicKey]()},
		{"X5TS256", reflect.TypeFor[string]()},
		{"KID", reflect.TypeFor[string]()},
		{"JKU", reflect.TypeFor[string]()},
		{"Other", reflect.TypeFor[[]string]()},
	}
	typ := reflect.TypeFor[mtlsbound.Confirmation]()
	require.Equal(t, len(want), typ.NumField())
	for i, w := range want {
		require.Equal(t, w.name, typ.Field(i).Name)
		require.Equal(t, w.typ, typ.Field(i).Type)
	}
}

// TestNonCanonicalSection31 documents the §3.1/§3.2 example value: it is
// not canonical base64url, so this package rejects it, although a lenient
// decoder maps it to the same 32 bytes as its canonical spelling.
func TestNonCanonicalSection31(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	nonCanonical, canonical := v.JWT.X5t, v.canonical31()
	require.NotEqual(t, nonCanonical, canonical)

	// Why it matters: two strings, one digest, under a lenient decoder.
	a, err := base64.RawURLEncoding.DecodeString(nonCanonical)
	require.NoError(t, err)
	b, err := base64.RawURLEncoding.DecodeString(canonical)
	require.NoError(t, err)
	require.Equal(t, a, b)

	_, err = mtlsbound.ParseConfirmation([]byte(fmt.Sprintf(`{"x5t#S256":%q}`, nonCanonical)))
	require.ErrorIs(t, err, mtlsbound.ErrMalformedConfirmation)

	c, err := mtlsbound.ParseConfirmation([]byte(fmt.Sprintf(`{"x5t#S256":%q}`, canonical)))
	require.NoError(t, err)
	require.True(t, c.Bound())
	require.Equal(t, canonical, c.X5TS256)
}

func TestParseConfirmation(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	good := mtlsbound.Thumbprint(v.appendixCert(t))
	tests := []struct {
		name    string
		cnf     string
		want    mtlsbound.Confirmation // compared without JWK
		jwk     bool
		wantErr bool
	}{
		{name: "appendix A", cnf: string(v.AppendixA.CNF), want: mtlsbound.Confirmation{X5TS256: good}},
		{name: "escaped member name", cnf: `{"x5t\u0023S256":"` + good + `"}`, want: mtlsbound.Confirmation{X5TS256: good}},
		{name: "whitespace", cnf: " {\n \"x5t#S256\" : \"" + good + "\" }\n", want: mtlsbound.Confirmation{X5TS256: good}},
		// Parsing reads every method; the Verifier decides.
		{name: "dpop jkt", cnf: `{"jkt":"` + jkt9449 + `"}`, want: mtlsbound.Confirmation{JKT: jkt9449}},
		{name: "jkt beside x5t", cnf: `{"x5t#S256":"` + good + `","jkt":"` + jkt9449 + `"}`, want: mtlsbound.Confirmation{X5TS256: good, JKT: jkt9449}},
		{name: "RFC 7800 §3.2 jwk", cnf: `{"jwk":{"kty":"EC","use":"sig","crv":"P-256","x":"18wHLeIgW9wVN6VD1Txgpqy2LszYkMf6J8njVAibvhM","y":"-V4dS4UaLMgP_4fY4j8ir7cl1TXlFdAgcx55o7TkcSA"}}`, jwk: true},
		{name: "RFC 7800 §3.4 kid", cnf: `{"kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"}`, want: mtlsbound.Confirmation{KID: "dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"}},
		{name: "RFC 7800 §3.5 jku", cnf: `{"jku":"https://keys.example.net/pop-keys.json","kid":"2015-08-28"}`, want: mtlsbound.Confirmation{JKU: "https://keys.example.net/pop-keys.json", KID: "2015-08-28"}},
		{name: "x5t SHA-1 method is another member", cnf: `{"x5t":"` + good + `"}`, want: mtlsbound.Confirmation{Other: []string{"x5t"}}},
		{name: "jwe is another member", cnf: `{"x5t#S256":"` + good + `","jwe":"a.b.c.d.e"}`, want: mtlsbound.Confirmation{X5TS256: good, Other: []string{"jwe"}}},

		{name: "section 3.1 non-canonical", cnf: `{"x5t#S256":"` + v.JWT.X5t + `"}`, wantErr: true},
		{name: "string", cnf: `"` + good + `"`, wantErr: true},
		{name: "array", cnf: `[{"x5t#S256":"` + good + `"}]`, wantErr: true},
		{name: "null", cnf: `null`, wantErr: true},
		{name: "number", cnf: `1`, wantErr: true},
		{name: "empty input", cnf: ``, wantErr: true},
		{name: "empty object", cnf: `{}`, wantErr: true},
		{name: "x5t number", cnf: `{"x5t#S256":12}`, wantErr: true},
		{name: "x5t null", cnf: `{"x5t#S256":null}`, wantErr: true},
		{name: "x5t object", cnf: `{"x5t#S256":{}}`, wantErr: true},
		{name: "x5t empty", cnf: `{"x5t#S256":""}`, wantErr: true},
		{name: "x5t padded", cnf: `{"x5t#S256":"` + good + `="}`, wantErr: true},
		{name: "x5t too short", cnf: `{"x5t#S256":"` + good[:42] + `"}`, wantErr: true},
		{name: "x5t too long", cnf: `{"x5t#S256":"` + good + `A"}`, wantErr: true},
		{name: "x5t standard alphabet", cnf: `{"x5t#S256":"` + strings.NewReplacer("-", "+", "_", "/").Replace(v.canonical31()) + `"}`, wantErr: true},
		{name: "x5t with newline", cnf: `{"x5t#S256":"` + good[:20] + `\n` + good[21:] + `"}`, wantErr: true},
		{name: "x5t hex sha-256", cnf: `{"x5t#S256":"` + strings.Repeat("ab", 32) + `"}`, wantErr: true},
		{name: "duplicate x5t", cnf: `{"x5t#S256":"` + good + `","x5t#S256":"` + v.canonical31() + `"}`, wantErr: true},
		{name: "case-variant x5t beside x5t", cnf: `{"x5t#S256":"` + good + `","X5T#s256":"` + v.canonical31() + `"}`, wantErr: true},
		{name: "case-variant x5t alone", cnf: `{"X5T#s256":"` + good + `"}`, wantErr: true},
		{name: "trailing data", cnf: `{"x5t#S256":"` + good + `"} {}`, wantErr: true},
		{name: "unterminated", cnf: `{"x5t#S256":"` + good + `"`, wantErr: true},
		{name: "too large", cnf: `{"x5t#S256":"` + good + `","pad":"` + strings.Repeat("a", 16<<10) + `"}`, wantErr: true},
		{name: "private jwk", cnf: `{"jwk":{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"}}`, wantErr: true},
		{name: "jku without kid", cnf: `{"jku":"https://www.example.com/jwks"}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := mtlsbound.ParseConfirmation([]byte(tc.cnf))
			if tc.wantErr {
				require.ErrorIs(t, err, mtlsbound.ErrMalformedConfirmation)
				require.False(t, c.Bound())
				return
			}
			require.NoError(t, err)
			require.True(t, c.Bound())
			if tc.jwk {
				require.IsType(t, &ecdsa.PublicKey{}, c.JWK)
				c.JWK = nil
			}
			require.Equal(t, tc.want, c)
		})
	}
}

func TestConfirmationFromClaims(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	canonicalFig2 := bytes.Replace(v.JWT.Claims, []byte(v.JWT.X5t), []byte(v.canonical31()), 1)
	canonicalFig3 := bytes.Replace(v.Introspection.JSON, []byte(v.JWT.X5t), []byte(v.canonical31()), 1)
	bound := mtlsbound.Confirmation{X5TS256: v.canonical31()}
	tests := []struct {
		name    string
		claims  string
		want    mtlsbound.Confirmation
		wantErr error
	}{
		{name: "figure 2 with canonical x5t", claims: string(canonicalFig2), want: bound},
		{name: "figure 3 with canonical x5t", claims: string(canonicalFig3), want: bound},
		{name: "figure 2 as published", claims: string(v.JWT.Claims), wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "figure 3 as published", claims: string(v.Introspection.JSON), wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "RFC 9449 §6.2 introspection", claims: `{"active":true,"sub":"someone@example.com","cnf":{"jkt":"` + jkt9449 + `"}}`, want: mtlsbound.Confirmation{JKT: jkt9449}},
		{name: "no cnf", claims: `{"iss":"https://server.example.com","sub":"x"}`},
		// RFC 7662 §2.2 active response: valid, but unbound.
		{name: "rfc 7662 active response", claims: `{"active":true,"client_id":"l238j323ds-23ij4","scope":"read write dolphin"}`},
		{name: "rfc 7662 inactive response", claims: `{"active":false}`, wantErr: mtlsbound.ErrInactiveToken},
		{name: "active false", claims: `{"active":false,"cnf":{"x5t#S256":"` + v.canonical31() + `"}}`, wantErr: mtlsbound.ErrInactiveToken},
		{name: "active string", claims: `{"active":"true"}`, wantErr: mtlsbound.ErrInactiveToken},
		{name: "active 1", claims: `{"active":1}`, wantErr: mtlsbound.ErrInactiveToken},
		{name: "active null", claims: `{"active":null}`, wantErr: mtlsbound.ErrInactiveToken},
		{name: "duplicate active", claims: `{"active":false,"active":true}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "case-variant cnf alone", claims: `{"CNF":{"x5t#S256":"` + v.canonical31() + `"}}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "case-variant active alone", claims: `{"Active":false}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "cnf null", claims: `{"cnf":null}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "cnf string", claims: `{"cnf":"` + v.canonical31() + `"}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "cnf array", claims: `{"cnf":[]}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "cnf 17 KB", claims: `{"cnf":{"x5t#S256":"` + v.canonical31() + `","p":"` + strings.Repeat("x", 17<<10) + `"}}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "duplicate cnf", claims: `{"cnf":{"x5t#S256":"` + v.canonical31() + `"},"cnf":{"jkt":"x"}}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "case-variant cnf beside cnf", claims: `{"cnf":{"x5t#S256":"` + v.canonical31() + `"},"CNF":{"jkt":"x"}}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "duplicate in another claim", claims: `{"cnf":{"x5t#S256":"` + v.canonical31() + `"},"x":{"a":1,"A":2}}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "invalid UTF-8 in another claim", claims: "{\"sub\":\"\xff\",\"cnf\":{\"x5t#S256\":\"" + v.canonical31() + "\"}}", wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "not an object", claims: `[]`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "empty", claims: ``, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "invalid JSON", claims: `{"cnf":}`, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "too large", claims: `{"p":"` + strings.Repeat("x", 1<<20) + `"}`, wantErr: mtlsbound.ErrMalformedConfirmation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := mtlsbound.ConfirmationFromClaims([]byte(tc.claims))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.False(t, c.Bound())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, c)
			require.Equal(t, tc.want.X5TS256 != "" || tc.want.JKT != "", c.Bound())
		})
	}
}
