package mtlsbound

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

type member struct {
	name  string
	value string
}

// referenceMembers is the straightforward encoding/json walk that
// eachMember must agree with: Decoder tokens for names, Decode for values.
func referenceMembers(data []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '{' {
		return nil, false
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name := tok.(string)
		if seen[name] {
			return nil, false
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, member{name, string(v)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return out, true
}

func members(data []byte) ([]member, bool) {
	var out []member
	err := eachMember(data, func(name, v []byte) error {
		out = append(out, member{string(name), string(v)})
		return nil
	})
	if err != nil {
		return nil, false
	}
	return out, true
}

func TestEachMember(t *testing.T) {
	t.Parallel()
	many := []byte(`{`)
	for i := 0; i < 40; i++ {
		if i > 0 {
			many = append(many, ',')
		}
		many = fmt.Appendf(many, `"m%d":[1,{"a":"}"}]`, i)
	}
	many = append(many, '}')
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{name: "empty object", in: ` {} `, ok: true},
		{name: "nested values", in: `{"a":{"b":[1,"]}",{"c":null}]},"d":-1.5e3,"e":"x\"y","f":true}`, ok: true},
		{name: "escaped names", in: `{"\u0063nf":1,"c\"":2}`, ok: true},
		{name: "escaped duplicate", in: `{"cnf":1,"\u0063nf":2}`},
		{name: "many members", in: string(many), ok: true},
		{name: "many members, late duplicate", in: string(many[:len(many)-1]) + `,"m0":0}`},
		{name: "invalid UTF-8 names", in: "{\"a\xff\":1,\"a\xfe\":2}"},
		{name: "array", in: `[]`},
		{name: "two values", in: `{} {}`},
		{name: "invalid", in: `{"a":}`},
		{name: "empty", in: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := members([]byte(tc.in))
			want, wantOK := referenceMembers([]byte(tc.in))
			require.Equal(t, tc.ok, ok)
			require.Equal(t, wantOK, ok)
			require.Equal(t, want, got)
		})
	}
}

// FuzzEachMember checks eachMember against encoding/json's own walk.
func FuzzEachMember(f *testing.F) {
	b, err := os.ReadFile("testdata/rfc8705-mtls.json")
	if err != nil {
		f.Fatal(err)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	for _, raw := range v {
		f.Add([]byte(raw))
	}
	f.Add(b)
	f.Add([]byte(`{"cnf":{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"},"\u0063nf":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := members(data)
		want, wantOK := referenceMembers(data)
		if ok != wantOK {
			t.Fatalf("eachMember ok=%v, encoding/json ok=%v", ok, wantOK)
		}
		if ok && len(got) != len(want) {
			t.Fatalf("%d members, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("member %d: %q, want %q", i, got[i], want[i])
			}
		}
	})
}
