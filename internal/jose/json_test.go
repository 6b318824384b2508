package jose

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type testCnf struct {
	JKT string `json:"jkt"`
}

type testClaims struct {
	Claims
	Cnf     *testCnf          `json:"cnf,omitempty"`
	Scope   string            `json:"scope"`
	Details []testCnf         `json:"authorization_details"`
	Extra   map[string]string `json:"extra"`
	Raw     json.RawMessage   `json:"raw"`
	Ignored string            `json:"-"`
	NoTag   string
	hidden  string //nolint:unused // proves unexported fields are skipped
}

func TestUnmarshalStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"plain", `{"iss":"a","sub":"b","aud":["c"],"exp":1,"cnf":{"jkt":"x"},"scope":"s"}`, true},
		{"unknown members", `{"iss":"a","foo":{"bar":[1,{"baz":null}]}}`, true},
		{"map keys of any case", `{"extra":{"a":"1","B":"2"}}`, true},
		{"raw message of any case", `{"raw":{"A":1,"b":2}}`, true},
		{"untagged field, exact", `{"NoTag":"x"}`, true},
		{"escaped name", `{"\u0069ss":"a"}`, true},
		{"array of structs", `{"authorization_details":[{"jkt":"a"},{"jkt":"b"}]}`, true},
		{"duplicate iss", `{"iss":"a","iss":"b"}`, false},
		{"duplicate via escape", `{"iss":"a","\u0069ss":"b"}`, false},
		{"ISS alone", `{"ISS":"a"}`, false},
		{"Iss beside iss", `{"iss":"a","Iss":"b"}`, false},
		{"sub with LONG S", `{"ſub":"admin"}`, false},
		{"cnf.JKT", `{"cnf":{"JKT":"x"}}`, false},
		{"duplicate inside cnf", `{"cnf":{"jkt":"x","jkt":"y"}}`, false},
		{"JKT inside an array element", `{"authorization_details":[{"jkt":"a"},{"Jkt":"b"}]}`, false},
		{"duplicate map keys", `{"extra":{"a":"1","A":"2"}}`, false},
		{"duplicate unknown members", `{"foo":1,"FOO":2}`, false},
		{"untagged field, other case", `{"notag":"x"}`, false},
		{"invalid UTF-8", "{\"sub\":\"\xff\"}", false},
		{"trailing data", `{"sub":"a"} {}`, false},
		{"too deep", `{"foo":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}`, false},
		{"type error", `{"iss":1}`, false},
		{"not JSON", `{"iss":`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c testClaims
			err := UnmarshalStrict([]byte(tc.in), &c)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
	t.Run("nil target", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, UnmarshalStrict([]byte(`{}`), nil), ErrMalformed)
	})
	t.Run("map target", func(t *testing.T) {
		t.Parallel()
		var m map[string]any
		require.NoError(t, UnmarshalStrict([]byte(`{"a":1,"b":[true]}`), &m))
		require.ErrorIs(t, UnmarshalStrict([]byte(`{"a":1,"A":2}`), &m), ErrMalformed)
	})
	t.Run("non-object values", func(t *testing.T) {
		t.Parallel()
		var s []string
		require.NoError(t, UnmarshalStrict([]byte(` ["a","b"] `), &s))
		require.Equal(t, []string{"a", "b"}, s)
		var n int
		require.NoError(t, UnmarshalStrict([]byte(`5`), &n))
		require.Equal(t, 5, n)
	})
}

// TestCheckJSONLargeObjects covers objects past the pairwise comparison
// limit, where duplicates are found through a map of folded names.
func TestCheckJSONLargeObjects(t *testing.T) {
	t.Parallel()
	obj := func(extra ...string) []byte {
		var b strings.Builder
		b.WriteString("{")
		for i := range 2000 {
			fmt.Fprintf(&b, `"m%d":%d,`, i, i)
		}
		for _, e := range extra {
			b.WriteString(e + ",")
		}
		b.WriteString(`"last":0}`)
		return []byte(b.String())
	}
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"distinct", obj(), true},
		{"exact duplicate", obj(`"m5":1`), false},
		{"case duplicate", obj(`"M1999":1`), false},
		{"KELVIN SIGN duplicate", obj(`"k":1`, `"\u212A":2`), false},
		{"LONG S duplicate", obj(`"s":1`, `"ſ":2`), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkJSON(tc.data, nil, true)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func TestCheckJSONSyntax(t *testing.T) {
	t.Parallel()
	bad := []string{``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{"a":"x`, `{"a":"\`, "{\"a\":\"\x01\"}", `[`, `{"a":1}}`, `{"a"::1}`,
		`tru`, `nul`, `falsey`, `True`, `01`, `1.`, `-`, `1e`, `1e+`, `.5`, `+1`, `0x10`, `NaN`, `"\x"`, `"\u12G4"`, `"\u12"`, `'a'`, `{"a":1}x`, `[1]]`}
	good := []string{`{}`, `[]`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `true`, `false`, `null`, `"\u00e9\n\/\\\""`, ` [ 1 , { "a" : [ ] } ] `}
	for _, in := range good {
		t.Run("good/"+in, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, checkJSON([]byte(in), nil, false))
		})
	}
	for _, in := range bad {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, checkJSON([]byte(in), nil, false), ErrMalformed)
		})
	}
	t.Run("object required", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, checkJSON([]byte(`[]`), nil, true), ErrMalformed)
		require.NoError(t, checkJSON([]byte(`[]`), nil, false))
		require.NoError(t, checkJSON([]byte(`{"a":[],"b":{},"c":"\"}\\"}`), nil, true))
	})
}

func TestFoldName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b  string
		equal bool
	}{
		{"kid", "KID", true},
		{"kid", "\u212Aid", true},
		{"sub", "ſub", true},
		{"alg", "alh", false},
		{"é", "É", true},
		{"ß", "ẞ", true},
		{"a", "aa", false},
	}
	for _, tc := range tests {
		t.Run(tc.a+"/"+tc.b, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.equal, foldName([]byte(tc.a)) == foldName([]byte(tc.b)))
			require.Equal(t, tc.equal, strings.EqualFold(tc.a, tc.b), "foldName agrees with EqualFold")
		})
	}
}
