package strictjson

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckSyntax(t *testing.T) {
	t.Parallel()
	bad := []string{``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":[1,]}`, `{"a":[1 2]}`, `{"a":"x`, `{"a":"\`, "{\"a\":\"\x01\"}", `[`, `{"a":1}}`, `{"a"::1}`,
		`tru`, `nul`, `falsey`, `True`, `01`, `1.`, `-`, `1e`, `1e+`, `.5`, `+1`, `0x10`, `NaN`, `"\x"`, `"\u12G4"`, `"\u12"`, `'a'`, `{"a":1}x`, `[1]]`, `[,1]`, `{,"a":1}`, `[1,,2]`, "\xef\xbb\xbf{}", `{}{}`, `1 2`}
	good := []string{`{}`, `[]`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `true`, `false`, `null`, `"\u00e9\n\/\\\""`, ` [ 1 , { "a" : [ ] } ] `, `"\ud83d\ude00"`, `"😀"`, "\t\n\r {}\r\n"}
	for _, in := range good {
		t.Run("good/"+in, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, Check([]byte(in), nil))
		})
	}
	for _, in := range bad {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, Check([]byte(in), nil), ErrSyntax)
		})
	}
	t.Run("object required", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, CheckObject([]byte(`[]`), nil), ErrNotObject)
		require.ErrorIs(t, CheckObject([]byte(`"{}"`), nil), ErrNotObject)
		require.NoError(t, Check([]byte(`[]`), nil))
		require.NoError(t, CheckObject([]byte(`{"a":[],"b":{},"c":"\"}\\"}`), nil))
	})
}

func TestCheckPolicy(t *testing.T) {
	t.Parallel()
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name string
		in   string
		err  error // nil: accepted
	}{
		{"distinct names", `{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, nil},
		{"exact duplicate", `{"alg":"none","alg":"ES256"}`, ErrDuplicate},
		{"duplicate via escape", `{"iss":"a","\u0069ss":"b"}`, ErrDuplicate},
		{"case duplicate", `{"kid":"a","KID":"b"}`, ErrDuplicate},
		{"KELVIN SIGN duplicate", `{"kid":"a","\u212Aid":"b"}`, ErrDuplicate},
		{"KELVIN SIGN literal duplicate", `{"kid":"a","` + "\u212A" + `id":"b"}`, ErrDuplicate},
		{"LONG S duplicate", `{"sub":"a","ſub":"b"}`, ErrDuplicate},
		{"escaped LONG S duplicate", `{"sub":"a","\u017fub":"b"}`, ErrDuplicate},
		{"duplicate in a nested object", `{"cnf":{"jkt":"x","jkt":"y"}}`, ErrDuplicate},
		{"duplicate in an array element", `{"a":[{},{"x":1,"X":2}]}`, ErrDuplicate},
		{"same name in sibling objects", `{"a":{"x":1},"b":{"x":1}}`, nil},
		{"same name at two levels", `{"x":{"x":{"x":1}},"y":1}`, nil},
		{"names unique after escapes", `{"a\"":1,"a\\":2,"a/":3,"a\/b":4}`, nil},
		{"escaped slash duplicate", `{"a/":1,"a\/":2}`, ErrDuplicate},
		{"invalid UTF-8 in a value", "{\"sub\":\"\xff\"}", ErrUTF8},
		{"invalid UTF-8 in a name", "{\"\xff\":1}", ErrUTF8},
		{"overlong encoding", "\"\xc0\xaf\"", ErrUTF8},
		{"encoded surrogate", "\"\xed\xa0\x80\"", ErrUTF8},
		{"invalid UTF-8 outside strings", "[1,\xff]", ErrSyntax},
		{"lone high surrogate", `"\ud800"`, ErrUTF8},
		{"lone low surrogate", `"\udc00"`, ErrUTF8},
		{"high surrogate then text", `"\ud800abcdef"`, ErrUTF8},
		{"two high surrogates", `"\ud800\ud800"`, ErrUTF8},
		{"reversed pair", `"\udc00\ud800"`, ErrUTF8},
		{"truncated pair", `"\ud800\u"`, ErrUTF8},
		{"pair", `"\uD83D\uDE00"`, nil},
		{"max depth", nest(MaxDepth), nil},
		{"too deep", nest(MaxDepth + 1), ErrDepth},
		{"too deep in objects", strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1), ErrDepth},
		{"deep then shallow", `[` + nest(MaxDepth-1) + `,` + nest(MaxDepth-1) + `]`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Check([]byte(tc.in), nil)
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
		})
	}
}

// TestCheckLargeObjects covers objects past the pairwise comparison limit,
// where duplicates are found through a map of folded names, and name
// stacks past the Reader's inline storage.
func TestCheckLargeObjects(t *testing.T) {
	t.Parallel()
	obj := func(extra ...string) []byte {
		var b strings.Builder
		b.WriteString("{")
		for i := range 2000 {
			fmt.Fprintf(&b, `"m%d":{"n%d":%d},`, i, i, i)
		}
		for _, e := range extra {
			b.WriteString(e + ",")
		}
		b.WriteString(`"last":0}`)
		return []byte(b.String())
	}
	// Objects of 20 members nested 5 deep: 100 names on the stack.
	var deep strings.Builder
	for range 5 {
		for i := range 19 {
			fmt.Fprintf(&deep, `{"k%d":0,`[min(i, 1):], i)
		}
		deep.WriteString(`"inner":`)
	}
	deep.WriteString(`{"x":1,"X":2}` + strings.Repeat("}", 5))
	tests := []struct {
		name string
		data []byte
		err  error
	}{
		{"distinct", obj(), nil},
		{"exact duplicate", obj(`"m5":1`), ErrDuplicate},
		{"case duplicate", obj(`"M1999":1`), ErrDuplicate},
		{"KELVIN SIGN duplicate", obj(`"k":1`, `"\u212A":2`), ErrDuplicate},
		{"LONG S duplicate", obj(`"s":1`, `"ſ":2`), ErrDuplicate},
		{"escaped duplicate", obj(`"\u006d7":1`), ErrDuplicate},
		{"nested names deep in the stack", []byte(strings.Replace(deep.String(), `"X":2`, `"y":2`, 1)), nil},
		{"duplicate deep in the stack", []byte(deep.String()), ErrDuplicate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := CheckObject(tc.data, nil)
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
		})
	}
}

func TestFoldKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b  string // raw string contents, escapes allowed
		equal bool
	}{
		{"kid", "KID", true},
		{"kid", "\u212Aid", true},
		{"kid", `\u212Aid`, true},
		{"sub", "ſub", true},
		{"alg", "alh", false},
		{"é", "É", true},
		{"é", `\u00c9`, true},
		{"ß", "ẞ", true},
		{"a", "aa", false},
		{`\n`, "\n", true},
		{`\"`, `"`, true},
		{`\ud83d\ude00`, "😀", true},
	}
	for _, tc := range tests {
		t.Run(tc.a+"/"+tc.b, func(t *testing.T) {
			t.Parallel()
			a, b := []byte(tc.a), []byte(tc.b)
			require.Equal(t, tc.equal, foldKey(a) == foldKey(b))
			require.Equal(t, tc.equal, equalFold(a, b))
			require.Equal(t, tc.equal, strings.EqualFold(string(unescape(a)), string(unescape(b))), "agrees with strings.EqualFold")
		})
	}
}

// TestASCIIFastPaths checks the fast paths against their definitions:
// asciiEqualFold against bytes.EqualFold for every pair of ASCII bytes,
// plain8 against a byte-by-byte test for every byte in every position.
func TestASCIIFastPaths(t *testing.T) {
	t.Parallel()
	for x := range 128 {
		for y := range 128 {
			a, b := []byte{byte(x)}, []byte{byte(y)}
			require.Equal(t, bytes.EqualFold(a, b), asciiEqualFold(a, b), "%q %q", a, b)
		}
	}
	plain := func(c byte) bool { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' }
	for pos := range 8 {
		for c := range 256 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			require.Equal(t, plain(byte(c)), plain8(binary.LittleEndian.Uint64(w)), "byte %#x at %d", c, pos)
		}
	}
}
