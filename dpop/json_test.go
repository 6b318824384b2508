package dpop

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJSONReader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"empty object", `{}`, true},
		{"spaces", " \t\n{ \"a\" : 1 , \"b\" : [ 1 , { } , \"x\" , true , null , -1.5e+3 ] } \r\n", true},
		{"escapes", `{"a\u0062":"\"\\\/\b\f\n\r\t\u00e9"}`, true},
		{"utf-8", `{"a":"héllo"}`, true},
		{"nested", `{"a":{"b":{"c":[[[]]]}}}`, true},
		{"trailing comma", `{"a":1,}`, false},
		{"missing colon", `{"a" 1}`, false},
		{"unquoted name", `{a:1}`, false},
		{"single quotes", `{'a':1}`, false},
		{"control character", "{\"a\":\"x\x01\"}", false},
		{"invalid utf-8", "{\"a\":\"\xff\"}", false},
		{"bad escape", `{"a":"\x"}`, false},
		{"short unicode escape", `{"a":"\u12"}`, false},
		{"unterminated string", `{"a":"x`, false},
		{"leading zero", `{"a":01}`, false},
		{"bare minus", `{"a":-}`, false},
		{"bad fraction", `{"a":1.}`, false},
		{"bad exponent", `{"a":1e}`, false},
		{"bad literal", `{"a":nul}`, false},
		{"two values", `{}{}`, false},
		{"array", `[]`, false},
		{"unclosed", `{"a":1`, false},
		{"unclosed array", `{"a":[1,2}`, false},
		{"too deep", `{"a":` + strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2) + `}`, false},
		{"deep but bounded", `{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := eachMember([]byte(tc.in), func(_ []byte, r *jsonReader) error { return r.skip() })
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}

	var names []string
	var vals []string
	err := eachMember([]byte(`{"a\u0062":"x\u0041","c":"plain"}`), func(name []byte, r *jsonReader) error {
		names = append(names, string(name))
		v, err := r.str()
		vals = append(vals, string(v))
		return err
	})
	require.NoError(t, err)
	require.Equal(t, []string{"ab", "c"}, names)
	require.Equal(t, []string{"xA", "plain"}, vals)
}

func TestNumericDate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1562262616", 1562262616, true},
		{"1562262616.9", 1562262616, true},
		{"1.5e9", 1500000000, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"1e300", 0, false},
		{"1099511627777", 0, false},
	} {
		r := jsonReader{b: []byte(tc.in)}
		got, err := r.numericDate()
		if tc.ok {
			require.NoError(t, err, tc.in)
			require.Equal(t, tc.want, got, tc.in)
		} else {
			require.Error(t, err, tc.in)
		}
	}
}

func TestProofTypeVariants(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, typ := range []string{"dpop+jwt", "DPoP+JWT", "application/dpop+jwt", "Application/DPOP+jwt"} {
		proof := f.proof(t, func(m map[string]string) { m["typ"] = q(typ) }, nil)
		_, err := f.verifier().VerifyProof(t.Context(), proof, "GET", rsURI, f.binding())
		require.NoError(t, err, typ)
	}
	for _, typ := range []string{"application/jwt", "dpop", "dpop+jwt ", "text/dpop+jwt", "application/application/dpop+jwt"} {
		proof := f.proof(t, func(m map[string]string) { m["typ"] = q(typ) }, nil)
		_, err := f.verifier().VerifyProof(t.Context(), proof, "GET", rsURI, f.binding())
		require.ErrorIs(t, err, ErrProofType, typ)
	}
}
