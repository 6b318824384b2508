package jose

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/strictjson"
)

type testCnf struct {
	JKT string `json:"jkt"`
}

type testClaims struct {
	Claims
	Cnf   *testCnf `json:"cnf,omitempty"`
	Scope string   `json:"scope"`
}

// TestUnmarshalStrict covers the JOSE side of strictjson.UnmarshalStrict
// (whose own tests cover the policy): the registered claims of the
// embedded Claims are in the schema, and every failure is ErrMalformed.
func TestUnmarshalStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		cause error // nil: accepted
	}{
		{"plain", `{"iss":"a","sub":"b","aud":["c"],"exp":1,"cnf":{"jkt":"x"},"scope":"s"}`, nil},
		{"duplicate iss", `{"iss":"a","iss":"b"}`, strictjson.ErrDuplicate},
		{"ISS alone", `{"ISS":"a"}`, strictjson.ErrCase},
		{"cnf.JKT", `{"cnf":{"JKT":"x"}}`, strictjson.ErrCase},
		{"invalid UTF-8", "{\"sub\":\"\xff\"}", strictjson.ErrUTF8},
		{"NumericDate as a string", `{"exp":"1"}`, strictjson.ErrType},
		{"not JSON", `{"iss":`, strictjson.ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c testClaims
			err := UnmarshalStrict([]byte(tc.in), &c)
			if tc.cause == nil {
				require.NoError(t, err)
				require.Equal(t, "a", c.Issuer)
				require.Equal(t, "x", c.Cnf.JKT)
				return
			}
			require.ErrorIs(t, err, ErrMalformed)
			require.ErrorIs(t, err, tc.cause)
		})
	}
	t.Run("nil target", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, UnmarshalStrict([]byte(`{}`), nil), ErrMalformed)
	})
}
