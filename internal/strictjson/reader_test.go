package strictjson

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// skipMembers reads an object with the pull API, skipping every value.
func skipMembers(data []byte) error {
	r := NewReader(data)
	if err := r.Enter(); err != nil {
		return err
	}
	for {
		_, ok, err := r.Next()
		if err != nil {
			return err
		}
		if !ok {
			return r.End()
		}
		if err := r.Skip(); err != nil {
			return err
		}
	}
}

func TestReader(t *testing.T) {
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
		{"duplicate", `{"a":1,"A":2}`, false},
		{"too deep", `{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, false},
		{"deep but bounded", `{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := skipMembers([]byte(tc.in))
			if tc.ok {
				require.NoError(t, err)
				require.NoError(t, CheckObject([]byte(tc.in), nil), "Check agrees")
			} else {
				require.Error(t, err)
				require.Error(t, CheckObject([]byte(tc.in), nil), "Check agrees")
			}
		})
	}
}

func TestReaderValues(t *testing.T) {
	t.Parallel()
	data := []byte(`{"a\u0062":"x\u0041","c":"plain","n":-1.5e3,"t":true,"f":false,"d":1562262616.9,"raw":{"k":[1,"]"]},"arr":["x",{"y":null}]}`)
	r := NewReader(data)
	require.NoError(t, r.Enter())
	got := map[string]any{}
	for {
		name, ok, err := r.Next()
		require.NoError(t, err)
		if !ok {
			break
		}
		switch k := string(name); k {
		case "ab", "c":
			off := r.Offset()
			v, err := r.Str()
			require.NoError(t, err)
			got[k] = string(v)
			if k == "c" {
				require.Equal(t, `"plain"`, string(data[skipWS(data, off):r.Offset()]), "a string without escapes is a sub-slice")
			}
		case "n":
			v, err := r.Number()
			require.NoError(t, err)
			got[k] = string(v)
		case "t", "f":
			require.Equal(t, byte(k[0]), r.Kind())
			v, err := r.Bool()
			require.NoError(t, err)
			got[k] = v
		case "d":
			v, err := r.NumericDate()
			require.NoError(t, err)
			got[k] = v
		case "raw":
			v, err := r.Raw()
			require.NoError(t, err)
			got[k] = string(v)
		case "arr":
			require.NoError(t, r.EnterArray())
			var kinds []byte
			for {
				more, err := r.NextElem()
				require.NoError(t, err)
				if !more {
					break
				}
				kinds = append(kinds, r.Kind())
				require.NoError(t, r.Skip())
			}
			got[k] = string(kinds)
		}
	}
	require.NoError(t, r.End())
	require.Equal(t, map[string]any{"ab": "xA", "c": "plain", "n": "-1.5e3", "t": true, "f": false, "d": int64(1562262616), "raw": `{"k":[1,"]"]}`, "arr": `"{`}, got)
}

func TestReaderTypes(t *testing.T) {
	t.Parallel()
	read := func(in string, f func(r *Reader) error) error {
		r := NewReader([]byte(in))
		return f(&r)
	}
	str := func(r *Reader) error { _, err := r.Str(); return err }
	num := func(r *Reader) error { _, err := r.Number(); return err }
	boolean := func(r *Reader) error { _, err := r.Bool(); return err }
	date := func(r *Reader) error { _, err := r.NumericDate(); return err }
	tests := []struct {
		name string
		in   string
		read func(r *Reader) error
		err  error
	}{
		{"string as number", `"1"`, num, ErrType},
		{"number as string", `1`, str, ErrType},
		{"null as bool", `null`, boolean, ErrType},
		{"string as date", `"1"`, date, ErrType},
		{"negative date", `-1`, date, ErrType},
		{"date over 2^40", `1099511627777`, date, ErrType},
		{"array as object", `[]`, (*Reader).Enter, ErrNotObject},
		{"object as array", `{}`, (*Reader).EnterArray, ErrType},
		{"broken string", `"\x"`, str, ErrSyntax},
		{"broken number", `1.`, num, ErrSyntax},
		{"broken bool", `tru`, boolean, ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, read(tc.in, tc.read), tc.err)
		})
	}
}

// TestReaderMisuse proves that reading out of order fails rather than
// accepting what the policy rejects.
func TestReaderMisuse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		f    func(r *Reader) error
	}{
		{"Next twice without the value", `{"a":}`, func(r *Reader) error {
			if err := r.Enter(); err != nil {
				return err
			}
			if _, _, err := r.Next(); err != nil {
				return err
			}
			_, _, err := r.Next()
			return err
		}},
		{"NextElem twice without the value", `[,]`, func(r *Reader) error {
			if err := r.EnterArray(); err != nil {
				return err
			}
			if _, err := r.NextElem(); err != nil {
				return err
			}
			_, err := r.NextElem()
			return err
		}},
		{"End inside an object", `{"a":1`, func(r *Reader) error {
			if err := r.Enter(); err != nil {
				return err
			}
			return r.End()
		}},
		{"End before any value", `   `, (*Reader).End},
		{"value without Next", `{"a":1}`, func(r *Reader) error {
			if err := r.Enter(); err != nil {
				return err
			}
			return r.Skip()
		}},
		{"second top-level value", `{} {}`, func(r *Reader) error {
			if err := r.Skip(); err != nil {
				return err
			}
			return r.Skip()
		}},
		{"Next in an array", `[1]`, func(r *Reader) error {
			if err := r.EnterArray(); err != nil {
				return err
			}
			_, _, err := r.Next()
			return err
		}},
		{"NextElem in an object", `{"a":1}`, func(r *Reader) error {
			if err := r.Enter(); err != nil {
				return err
			}
			_, err := r.NextElem()
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := NewReader([]byte(tc.in))
			require.ErrorIs(t, tc.f(&r), ErrSyntax)
		})
	}
}

// TestReaderAllocations holds the pull reader to its promise on the DPoP
// hot path: no allocation for small objects without escapes.
func TestReaderAllocations(t *testing.T) {
	header := []byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}}`)
	claims := []byte(`{"jti":"-BwC3ESc6acc2lTc","htm":"POST","htu":"https://server.example.com/token","iat":1562262616,"cnf":{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}}`)
	var sink int
	allocs := testing.AllocsPerRun(100, func() {
		if err := skipMembers(header); err != nil {
			t.Fatal(err)
		}
		if err := EachMember(claims, nil, func(name, value []byte) error {
			sink += len(name) + len(value)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := Check(claims, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := Unquote([]byte(`"abc"`)); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
	require.NotZero(t, sink)
}
