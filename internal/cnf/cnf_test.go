package cnf_test

import (
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/cnf"
)

// vectors is testdata/vectors.json: the cnf examples of RFC 7800, RFC 8705
// and RFC 9449, copied from the spec texts.
type vectors struct {
	JWK              json.RawMessage `json:"rfc7800_3_2_jwk"`
	KID              json.RawMessage `json:"rfc7800_3_4_kid"`
	JKU              json.RawMessage `json:"rfc7800_3_5_jku"`
	MTLSClaims       json.RawMessage `json:"rfc8705_3_1_claims"`
	MTLSIntrospect   json.RawMessage `json:"rfc8705_3_2_introspection"`
	MTLSCanonical    string          `json:"rfc8705_3_1_canonical"`
	AppendixA        json.RawMessage `json:"rfc8705_appendix_a_cnf"`
	DPoPClaims       json.RawMessage `json:"rfc9449_6_1_claims"`
	DPoPIntrospect   json.RawMessage `json:"rfc9449_6_2_introspection"`
	mtlsNonCanonical string
}

// cnfOf returns the "cnf" member of a claims object.
func cnfOf(t testing.TB, claims json.RawMessage) json.RawMessage {
	t.Helper()
	var c struct {
		CNF json.RawMessage `json:"cnf"`
	}
	require.NoError(t, json.Unmarshal(claims, &c))
	require.NotEmpty(t, c.CNF)
	return c.CNF
}

var (
	vecOnce sync.Once
	vec     vectors
	vecErr  error
)

func load(t testing.TB) vectors {
	t.Helper()
	vecOnce.Do(func() {
		var b []byte
		if b, vecErr = os.ReadFile("testdata/vectors.json"); vecErr == nil {
			vecErr = json.Unmarshal(b, &vec)
		}
		vec.mtlsNonCanonical = "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"
	})
	require.NoError(t, vecErr)
	return vec
}

const (
	jkt9449   = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" // RFC 9449 §6.1
	appendixA = "A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0" // RFC 8705 Appendix A
	kid7800   = "dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"        // RFC 7800 §3.4
	// RFC 7800 §3.5's JWK Set URL and kid.
	jku7800    = "https://keys.example.net/pop-keys.json"
	kid7800jku = "2015-08-28"
	// A private EC JWK (RFC 7517 Appendix A.2's P-256 key).
	privateJWK = `{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"}`
	// An RFC 7517 Appendix A.3 symmetric key.
	octJWK = `{"kty":"oct","alg":"A128KW","k":"GawgguFyGrWKav7AX4VKUg"}`
	// RFC 7517 Appendix A.1's public P-256 key.
	publicJWK = `{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}`
)

func TestParse(t *testing.T) {
	t.Parallel()
	v := load(t)
	tests := []struct {
		name     string
		cnf      string
		methods  []string // nil: want ErrMalformed
		keyBound bool
		check    func(t *testing.T, c cnf.Confirmation)
	}{
		// RFC examples.
		{name: "RFC 7800 §3.2 jwk", cnf: string(cnfOf(t, v.JWK)), methods: []string{"jwk"}, keyBound: true, check: func(t *testing.T, c cnf.Confirmation) {
			k, ok := c.JWK.(*ecdsa.PublicKey)
			require.True(t, ok, "%T", c.JWK)
			require.Equal(t, "P-256", k.Curve.Params().Name)
		}},
		{name: "RFC 7800 §3.4 kid", cnf: string(cnfOf(t, v.KID)), methods: []string{"kid"}, keyBound: true, check: func(t *testing.T, c cnf.Confirmation) {
			require.Equal(t, kid7800, c.KID)
		}},
		{name: "RFC 7800 §3.5 jku with kid", cnf: string(cnfOf(t, v.JKU)), methods: []string{"kid", "jku"}, keyBound: true, check: func(t *testing.T, c cnf.Confirmation) {
			require.Equal(t, jku7800, c.JKU)
			require.Equal(t, kid7800jku, c.KID)
		}},
		{name: "RFC 8705 Appendix A x5t#S256", cnf: string(v.AppendixA), methods: []string{"x5t#S256"}, check: func(t *testing.T, c cnf.Confirmation) {
			require.Equal(t, appendixA, c.X5TS256)
		}},
		{name: "RFC 8705 §3.1 x5t#S256, canonical spelling", cnf: `{"x5t#S256":"` + v.MTLSCanonical + `"}`, methods: []string{"x5t#S256"}, check: func(t *testing.T, c cnf.Confirmation) {
			require.Equal(t, v.MTLSCanonical, c.X5TS256)
		}},
		{name: "RFC 9449 §6.1 jkt", cnf: string(cnfOf(t, v.DPoPClaims)), methods: []string{"jkt"}, keyBound: true, check: func(t *testing.T, c cnf.Confirmation) {
			require.Equal(t, jkt9449, c.JKT)
		}},
		{name: "jkt and x5t#S256", cnf: `{"x5t#S256":"` + appendixA + `","jkt":"` + jkt9449 + `"}`, methods: []string{"jkt", "x5t#S256"}, keyBound: true},
		{name: "every method", cnf: `{"jku":"https://as.example/jwks","kid":"k","x5t#S256":"` + appendixA + `","jwk":` + publicJWK + `,"jkt":"` + jkt9449 + `","zz":1,"jwe":"x"}`, methods: []string{"jkt", "jwk", "x5t#S256", "kid", "jku", "jwe", "zz"}, keyBound: true},
		{name: "escaped member name", cnf: `{"x5t\u0023S256":"` + appendixA + `"}`, methods: []string{"x5t#S256"}},
		{name: "escaped digest", cnf: `{"jkt":"\u0030ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`, methods: []string{"jkt"}, keyBound: true, check: func(t *testing.T, c cnf.Confirmation) {
			require.Equal(t, jkt9449, c.JKT)
		}},
		{name: "whitespace", cnf: " {\n \"jkt\" : \"" + jkt9449 + "\" }\n", methods: []string{"jkt"}, keyBound: true},
		{name: "jku with port and query", cnf: `{"jku":"https://as.example:8443/jwks?v=1","kid":"k"}`, methods: []string{"kid", "jku"}, keyBound: true},

		// Members nobody checks are listed, sorted, so that consumers refuse them.
		{name: "jwe listed in Other", cnf: `{"jwe":"eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkExMjhHQ00ifQ.a.b.c.d"}`, methods: []string{"jwe"}, check: func(t *testing.T, c cnf.Confirmation) {
			require.Equal(t, []string{"jwe"}, c.Other)
		}},
		{name: "jwe beside x5t#S256", cnf: `{"x5t#S256":"` + appendixA + `","jwe":{}}`, methods: []string{"x5t#S256", "jwe"}},
		{name: "unregistered members sorted", cnf: `{"z":1,"x5t":"a","a":null}`, methods: []string{"a", "x5t", "z"}},
		{name: "empty member name", cnf: `{"":1}`, methods: []string{""}},

		// Digests: canonical unpadded base64url of 32 bytes only.
		{name: "RFC 8705 §3.1 x5t#S256 as published (not canonical)", cnf: string(cnfOf(t, v.MTLSClaims))},
		{name: "non-canonical jkt", cnf: `{"jkt":"` + jkt9449[:42] + `J"}`},
		{name: "padded x5t#S256", cnf: `{"x5t#S256":"` + appendixA + `="}`},
		{name: "short jkt", cnf: `{"jkt":"` + jkt9449[:42] + `"}`},
		{name: "long jkt", cnf: `{"jkt":"` + jkt9449 + `A"}`},
		{name: "standard alphabet", cnf: `{"x5t#S256":"` + strings.NewReplacer("-", "+", "_", "/").Replace(v.MTLSCanonical) + `"}`},
		{name: "newline in digest", cnf: `{"jkt":"` + jkt9449[:20] + `\n` + jkt9449[21:] + `"}`},
		{name: "hex digest", cnf: `{"x5t#S256":"` + strings.Repeat("ab", 32) + `"}`},
		{name: "empty digest", cnf: `{"jkt":""}`},
		{name: "digest not a string", cnf: `{"x5t#S256":12}`},
		{name: "digest null", cnf: `{"jkt":null}`},
		{name: "bad digest beside a good one", cnf: `{"jkt":"` + jkt9449 + `","x5t#S256":"` + v.mtlsNonCanonical + `"}`},

		// jwk: a public asymmetric key.
		{name: "private jwk", cnf: `{"jwk":` + privateJWK + `}`},
		{name: "oct jwk", cnf: `{"jwk":` + octJWK + `}`},
		{name: "jwk missing a coordinate", cnf: `{"jwk":{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"}}`},
		{name: "jwk not an object", cnf: `{"jwk":"` + jkt9449 + `"}`},
		{name: "jwk null", cnf: `{"jwk":null}`},

		// kid and jku.
		{name: "kid empty", cnf: `{"kid":""}`},
		{name: "kid not a string", cnf: `{"kid":1}`},
		{name: "jku over http", cnf: `{"jku":"http://www.example.com/jwks","kid":"` + kid7800 + `"}`},
		{name: "jku without kid", cnf: `{"jku":"https://www.example.com/jwks"}`},
		{name: "jku relative", cnf: `{"jku":"/jwks","kid":"k"}`},
		{name: "jku with user info", cnf: `{"jku":"https://u:p@www.example.com/jwks","kid":"k"}`},
		{name: "jku with fragment", cnf: `{"jku":"https://www.example.com/jwks#k","kid":"k"}`},
		{name: "jku with empty fragment", cnf: `{"jku":"https://www.example.com/jwks#","kid":"k"}`},
		{name: "jku without host name", cnf: `{"jku":"https://:443/jwks","kid":"k"}`},
		{name: "jku opaque", cnf: `{"jku":"https:www.example.com","kid":"k"}`},
		{name: "jku not a string", cnf: `{"jku":true,"kid":"k"}`},

		// Member names: exact, unique, not case variants of a method.
		{name: "duplicate member", cnf: `{"jkt":"` + jkt9449 + `","jkt":"` + jkt9449 + `"}`},
		{name: "case variant beside member", cnf: `{"x5t#S256":"` + appendixA + `","X5T#s256":"` + v.MTLSCanonical + `"}`},
		{name: "case variant alone", cnf: `{"JKT":"` + jkt9449 + `"}`},
		{name: "case variant of x5t#S256 alone", cnf: `{"x5t#s256":"` + appendixA + `"}`},
		{name: "case variant by KELVIN SIGN", cnf: `{"\u212Aid":"k"}`},
		{name: "duplicate unknown member", cnf: `{"jwe":1,"JWE":2}`},

		// Not a non-empty object.
		{name: "empty object", cnf: `{}`},
		{name: "null", cnf: `null`},
		{name: "string", cnf: `"` + jkt9449 + `"`},
		{name: "array", cnf: `[{"jkt":"` + jkt9449 + `"}]`},
		{name: "number", cnf: `1`},
		{name: "empty input", cnf: ``},
		{name: "trailing data", cnf: `{"jkt":"` + jkt9449 + `"} {}`},
		{name: "unterminated", cnf: `{"jkt":"` + jkt9449 + `"`},
		{name: "invalid UTF-8", cnf: "{\"jwe\":\"\xff\",\"jkt\":\"" + jkt9449 + "\"}"},
		{name: "oversized", cnf: `{"jkt":"` + jkt9449 + `","p":"` + strings.Repeat("a", cnf.MaxBytes) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := cnf.Parse([]byte(tc.cnf))
			if tc.methods == nil {
				require.ErrorIs(t, err, cnf.ErrMalformed)
				require.NotErrorIs(t, err, cnf.ErrInactive)
				require.Equal(t, cnf.Confirmation{}, c)
				return
			}
			require.NoError(t, err)
			require.True(t, c.Bound())
			require.Equal(t, tc.methods, c.Methods())
			require.Equal(t, tc.keyBound, c.KeyBound())
			require.Equal(t, c.X5TS256 != "", c.CertBound())
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestFromClaims(t *testing.T) {
	t.Parallel()
	v := load(t)
	canonical := func(doc json.RawMessage) string {
		return strings.Replace(string(doc), v.mtlsNonCanonical, v.MTLSCanonical, 1)
	}
	x5t := cnf.Confirmation{X5TS256: v.MTLSCanonical}
	jkt := cnf.Confirmation{JKT: jkt9449}
	tests := []struct {
		name string
		in   string
		want cnf.Confirmation
		err  error
	}{
		{name: "RFC 8705 §3.1 claims, canonical x5t#S256", in: canonical(v.MTLSClaims), want: x5t},
		{name: "RFC 8705 §3.2 introspection, canonical x5t#S256", in: canonical(v.MTLSIntrospect), want: x5t},
		{name: "RFC 8705 §3.1 claims as published", in: string(v.MTLSClaims), err: cnf.ErrMalformed},
		{name: "RFC 8705 §3.2 introspection as published", in: string(v.MTLSIntrospect), err: cnf.ErrMalformed},
		{name: "RFC 9449 §6.1 claims", in: string(v.DPoPClaims), want: jkt},
		{name: "RFC 9449 §6.2 introspection", in: string(v.DPoPIntrospect), want: jkt},
		{name: "no cnf: unbound", in: `{"iss":"https://server.example.com","sub":"x"}`},
		{name: "RFC 7662 §2.2 active, unbound", in: `{"active":true,"client_id":"l238j323ds-23ij4","scope":"read write dolphin"}`},
		{name: "cnf in a nested object is not cnf", in: `{"x":{"cnf":{"jkt":"` + jkt9449 + `"}}}`},

		{name: "RFC 7662 §2.2 inactive", in: `{"active":false}`, err: cnf.ErrInactive},
		{name: "active false with cnf", in: `{"active":false,"cnf":{"jkt":"` + jkt9449 + `"}}`, err: cnf.ErrInactive},
		{name: "active false with malformed cnf", in: `{"cnf":[],"active":false}`, err: cnf.ErrInactive},
		{name: "active string", in: `{"active":"true","cnf":{"jkt":"` + jkt9449 + `"}}`, err: cnf.ErrInactive},
		{name: "active number", in: `{"active":1}`, err: cnf.ErrInactive},
		{name: "active null", in: `{"active":null}`, err: cnf.ErrInactive},
		{name: "active object", in: `{"active":{}}`, err: cnf.ErrInactive},

		{name: "cnf null", in: `{"cnf":null}`, err: cnf.ErrMalformed},
		{name: "cnf string", in: `{"cnf":"` + jkt9449 + `"}`, err: cnf.ErrMalformed},
		{name: "cnf empty", in: `{"cnf":{}}`, err: cnf.ErrMalformed},
		{name: "duplicate cnf", in: `{"cnf":{"jkt":"` + jkt9449 + `"},"cnf":{"x5t#S256":"` + appendixA + `"}}`, err: cnf.ErrMalformed},
		{name: "case variant of cnf beside cnf", in: `{"cnf":{"jkt":"` + jkt9449 + `"},"CNF":{}}`, err: cnf.ErrMalformed},
		{name: "case variant of cnf alone", in: `{"Cnf":{"jkt":"` + jkt9449 + `"}}`, err: cnf.ErrMalformed},
		{name: "case variant of active alone", in: `{"ACTIVE":false}`, err: cnf.ErrMalformed},
		{name: "duplicate active", in: `{"active":false,"active":true}`, err: cnf.ErrMalformed},
		{name: "duplicate in another claim", in: `{"cnf":{"jkt":"` + jkt9449 + `"},"x":{"a":1,"A":2}}`, err: cnf.ErrMalformed},
		{name: "invalid UTF-8 in another claim", in: "{\"sub\":\"\xff\",\"cnf\":{\"jkt\":\"" + jkt9449 + "\"}}", err: cnf.ErrMalformed},
		{name: "not an object", in: `[]`, err: cnf.ErrMalformed},
		{name: "null", in: `null`, err: cnf.ErrMalformed},
		{name: "empty", in: ``, err: cnf.ErrMalformed},
		{name: "invalid JSON", in: `{"cnf":}`, err: cnf.ErrMalformed},
		{name: "oversized", in: `{"p":"` + strings.Repeat("x", cnf.MaxClaimsBytes) + `"}`, err: cnf.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := cnf.FromClaims([]byte(tc.in))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Equal(t, cnf.Confirmation{}, c)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, c)
			require.Equal(t, tc.want.Bound(), c.Bound())
		})
	}
}

func TestMethodsOfZero(t *testing.T) {
	t.Parallel()
	var c cnf.Confirmation
	require.False(t, c.Bound())
	require.False(t, c.KeyBound())
	require.False(t, c.CertBound())
	require.Empty(t, c.Methods())
	require.True(t, cnf.Confirmation{Other: []string{"jwe"}}.Bound())
	require.False(t, cnf.Confirmation{Other: []string{"jwe"}}.KeyBound())
}
