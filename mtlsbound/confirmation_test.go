package mtlsbound_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/mtlsbound"
)

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
	require.Equal(t, canonical, c.Thumbprint())
}

func TestParseConfirmation(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	good := mtlsbound.Thumbprint(v.appendixCert(t))
	tests := []struct {
		name    string
		cnf     string
		wantErr []error
	}{
		{name: "appendix A", cnf: string(v.AppendixA.CNF)},
		{name: "escaped member name", cnf: `{"x5t\u0023S256":"` + good + `"}`},
		{name: "whitespace", cnf: " {\n \"x5t#S256\" : \"" + good + "\" }\n"},
		{name: "section 3.1 non-canonical", cnf: `{"x5t#S256":"` + v.JWT.X5t + `"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "string", cnf: `"` + good + `"`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "array", cnf: `[{"x5t#S256":"` + good + `"}]`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "null", cnf: `null`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "number", cnf: `1`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "empty input", cnf: ``, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "empty object", cnf: `{}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t number", cnf: `{"x5t#S256":12}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t null", cnf: `{"x5t#S256":null}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t object", cnf: `{"x5t#S256":{}}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t empty", cnf: `{"x5t#S256":""}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t padded", cnf: `{"x5t#S256":"` + good + `="}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t too short", cnf: `{"x5t#S256":"` + good[:42] + `"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t too long", cnf: `{"x5t#S256":"` + good + `A"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t standard alphabet", cnf: `{"x5t#S256":"` + strings.NewReplacer("-", "+", "_", "/").Replace(v.canonical31()) + `"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t with newline", cnf: `{"x5t#S256":"` + good[:20] + `\n` + good[21:] + `"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t hex sha-256", cnf: `{"x5t#S256":"` + strings.Repeat("ab", 32) + `"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "duplicate x5t", cnf: `{"x5t#S256":"` + good + `","x5t#S256":"` + v.canonical31() + `"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "case-variant x5t", cnf: `{"x5t#S256":"` + good + `","X5T#s256":"` + v.canonical31() + `"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "trailing data", cnf: `{"x5t#S256":"` + good + `"} {}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "unterminated", cnf: `{"x5t#S256":"` + good + `"`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "too large", cnf: `{"x5t#S256":"` + good + `","pad":"` + strings.Repeat("a", 10<<10) + `"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation, mtlsbound.ErrTooLarge}},
		{name: "dpop jkt", cnf: `{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`, wantErr: []error{mtlsbound.ErrUnsupportedConfirmation}},
		{name: "jkt beside x5t", cnf: `{"x5t#S256":"` + good + `","jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`, wantErr: []error{mtlsbound.ErrUnsupportedConfirmation}},
		{name: "case-folded name", cnf: `{"X5T#s256":"` + good + `"}`, wantErr: []error{mtlsbound.ErrUnsupportedConfirmation}},
		{name: "x5t SHA-1 method", cnf: `{"x5t":"` + good + `"}`, wantErr: []error{mtlsbound.ErrUnsupportedConfirmation}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := mtlsbound.ParseConfirmation([]byte(tc.cnf))
			if len(tc.wantErr) == 0 {
				require.NoError(t, err)
				require.True(t, c.Bound())
				require.Equal(t, good, c.Thumbprint())
				return
			}
			for _, want := range tc.wantErr {
				require.ErrorIs(t, err, want)
			}
			require.False(t, c.Bound())
			require.Empty(t, c.Thumbprint())
		})
	}
}

func TestConfirmationVerify(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	appendix := v.appendixCert(t) // expired 2022-05-02: the dates are not checked
	other := newCert(t, "other").Leaf
	bound, err := mtlsbound.ParseConfirmation(v.AppendixA.CNF)
	require.NoError(t, err)

	tests := []struct {
		name    string
		conf    mtlsbound.Confirmation
		cert    *x509.Certificate
		wantErr error
	}{
		{name: "appendix A certificate", conf: bound, cert: appendix},
		{name: "other certificate", conf: bound, cert: other, wantErr: mtlsbound.ErrCertificateMismatch},
		{name: "no certificate", conf: bound, cert: nil, wantErr: mtlsbound.ErrNoCertificate},
		{name: "unbound", conf: mtlsbound.Confirmation{}, cert: appendix, wantErr: mtlsbound.ErrNoBinding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.conf.Verify(tc.cert)
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestConfirmationFromClaims(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	canonicalFig2 := bytes.Replace(v.JWT.Claims, []byte(v.JWT.X5t), []byte(v.canonical31()), 1)
	tests := []struct {
		name      string
		claims    string
		wantBound bool
		wantErr   []error
	}{
		{name: "figure 2 with canonical x5t", claims: string(canonicalFig2), wantBound: true},
		{name: "figure 2 as published", claims: string(v.JWT.Claims), wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "no cnf", claims: `{"iss":"https://server.example.com","sub":"x"}`},
		{name: "cnf spelled differently is not cnf", claims: `{"CNF":{"x5t#S256":"` + v.canonical31() + `"}}`},
		{name: "active true", claims: `{"active":true,"cnf":{"x5t#S256":"` + v.canonical31() + `"}}`, wantBound: true},
		{name: "active false", claims: `{"active":false,"cnf":{"x5t#S256":"` + v.canonical31() + `"}}`, wantErr: []error{mtlsbound.ErrInactiveToken}},
		{name: "active string", claims: `{"active":"true"}`, wantErr: []error{mtlsbound.ErrInactiveToken}},
		{name: "cnf null", claims: `{"cnf":null}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "cnf string", claims: `{"cnf":"` + v.canonical31() + `"}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "cnf array", claims: `{"cnf":[]}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "cnf 10 KB", claims: `{"cnf":{"x5t#S256":"` + v.canonical31() + `","p":"` + strings.Repeat("x", 10<<10) + `"}}`, wantErr: []error{mtlsbound.ErrMalformedConfirmation, mtlsbound.ErrTooLarge}},
		{name: "duplicate cnf", claims: `{"cnf":{"x5t#S256":"` + v.canonical31() + `"},"cnf":{"jkt":"x"}}`, wantErr: []error{mtlsbound.ErrMalformedClaims}},
		{name: "case-variant cnf beside cnf", claims: `{"cnf":{"x5t#S256":"` + v.canonical31() + `"},"CNF":{"jkt":"x"}}`, wantErr: []error{mtlsbound.ErrMalformedClaims}},
		{name: "duplicate in another claim", claims: `{"cnf":{"x5t#S256":"` + v.canonical31() + `"},"x":{"a":1,"A":2}}`, wantErr: []error{mtlsbound.ErrMalformedClaims}},
		{name: "invalid UTF-8 in another claim", claims: "{\"sub\":\"\xff\",\"cnf\":{\"x5t#S256\":\"" + v.canonical31() + "\"}}", wantErr: []error{mtlsbound.ErrMalformedClaims}},
		{name: "not an object", claims: `[]`, wantErr: []error{mtlsbound.ErrMalformedClaims}},
		{name: "empty", claims: ``, wantErr: []error{mtlsbound.ErrMalformedClaims}},
		{name: "invalid JSON", claims: `{"cnf":}`, wantErr: []error{mtlsbound.ErrMalformedClaims}},
		{name: "too large", claims: `{"p":"` + strings.Repeat("x", mtlsbound.MaxClaimsBytes) + `"}`, wantErr: []error{mtlsbound.ErrMalformedClaims, mtlsbound.ErrTooLarge}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := mtlsbound.ConfirmationFromClaims([]byte(tc.claims))
			for _, want := range tc.wantErr {
				require.ErrorIs(t, err, want)
			}
			if len(tc.wantErr) > 0 {
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantBound, c.Bound())
			if tc.wantBound {
				require.Equal(t, v.canonical31(), c.Thumbprint())
			}
		})
	}
}

func TestConfirmationFromIntrospection(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	canonicalFig3 := bytes.Replace(v.Introspection.JSON, []byte(v.JWT.X5t), []byte(v.canonical31()), 1)
	tests := []struct {
		name      string
		body      string
		wantBound bool
		wantErr   error
	}{
		{name: "figure 3 with canonical x5t", body: string(canonicalFig3), wantBound: true},
		{name: "figure 3 as published", body: string(v.Introspection.JSON), wantErr: mtlsbound.ErrMalformedConfirmation},
		// RFC 7662 §2.2 active response: valid, but unbound.
		{name: "rfc 7662 active response", body: `{"active":true,"client_id":"l238j323ds-23ij4","scope":"read write dolphin"}`},
		{name: "rfc 7662 inactive response", body: `{"active":false}`, wantErr: mtlsbound.ErrInactiveToken},
		{name: "no active member", body: `{"cnf":{"x5t#S256":"` + v.canonical31() + `"}}`, wantErr: mtlsbound.ErrInactiveToken},
		{name: "active 1", body: `{"active":1}`, wantErr: mtlsbound.ErrInactiveToken},
		{name: "active null", body: `{"active":null}`, wantErr: mtlsbound.ErrInactiveToken},
		{name: "duplicate active", body: `{"active":false,"active":true}`, wantErr: mtlsbound.ErrMalformedClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := mtlsbound.ConfirmationFromIntrospection([]byte(tc.body))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantBound, c.Bound())
		})
	}
}
