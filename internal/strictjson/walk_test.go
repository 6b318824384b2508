package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

type member struct {
	name  string
	value string
}

// referenceMembers is the straightforward encoding/json walk that
// EachMember must agree with wherever the policy does not reject: Decoder
// tokens for names (exact repeats refused), Decode for values.
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

func members(data []byte) ([]member, error) {
	var out []member
	err := EachMember(data, nil, func(name, v []byte) error {
		out = append(out, member{string(name), string(v)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// policyError reports whether err rejects for a rule of the policy that
// encoding/json does not have.
func policyError(err error) bool {
	return errors.Is(err, ErrDuplicate) || errors.Is(err, ErrUTF8) || errors.Is(err, ErrDepth)
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
		err  error // nil: agrees with encoding/json
	}{
		{name: "empty object", in: ` {} `},
		{name: "nested values", in: `{"a":{"b":[1,"]}",{"c":null}]},"d":-1.5e3,"e":"x\"y","f":true}`},
		{name: "escaped names", in: `{"\u0063nf":1,"c\"":2}`},
		{name: "whitespace around values", in: "{ \"a\" :\t[ 1 ]\n, \"b\":\"x\" }"},
		{name: "escaped duplicate", in: `{"cnf":1,"\u0063nf":2}`, err: ErrDuplicate},
		{name: "case duplicate", in: `{"cnf":1,"CNF":2}`, err: ErrDuplicate},
		{name: "many members", in: string(many)},
		{name: "many members, late duplicate", in: string(many[:len(many)-1]) + `,"m0":0}`, err: ErrDuplicate},
		{name: "invalid UTF-8 names", in: "{\"a\xff\":1,\"a\xfe\":2}", err: ErrUTF8},
		{name: "array", in: `[]`, err: ErrNotObject},
		{name: "two values", in: `{} {}`, err: ErrSyntax},
		{name: "invalid", in: `{"a":}`, err: ErrSyntax},
		{name: "empty", in: ``, err: ErrNotObject},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := members([]byte(tc.in))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			want, ok := referenceMembers([]byte(tc.in))
			require.True(t, ok)
			require.Equal(t, want, got)
		})
	}
	t.Run("fn error stops the walk", func(t *testing.T) {
		t.Parallel()
		stop := errors.New("stop")
		n := 0
		err := EachMember([]byte(`{"a":1,"b":2}`), nil, func(_, _ []byte) error {
			n++
			return stop
		})
		require.ErrorIs(t, err, stop)
		require.Equal(t, 1, n)
	})
}
