package strictjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type testCnf struct {
	JKT string `json:"jkt"`
}

type testRegistered struct {
	Issuer  string `json:"iss,omitempty"`
	Subject string `json:"sub,omitempty"`
	Expiry  int64  `json:"exp,omitempty"`
}

// testDate decodes itself, so its schema is nil.
type testDate int64

func (d *testDate) UnmarshalJSON(b []byte) error {
	if string(b) == "0" {
		return errors.New("zero date")
	}
	return json.Unmarshal(b, (*int64)(d))
}

type testClaims struct {
	testRegistered
	Aud     []string          `json:"aud"`
	Cnf     *testCnf          `json:"cnf,omitempty"`
	Scope   string            `json:"scope"`
	Details []testCnf         `json:"authorization_details"`
	Extra   map[string]string `json:"extra"`
	Raw     json.RawMessage   `json:"raw"`
	Date    testDate          `json:"date"`
	Ignored string            `json:"-"`
	NoTag   string
	hidden  string //nolint:unused // proves unexported fields are skipped
}

func TestUnmarshalStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		err  error // nil: accepted
	}{
		{"plain", `{"iss":"a","sub":"b","aud":["c"],"exp":1,"cnf":{"jkt":"x"},"scope":"s"}`, nil},
		{"unknown members", `{"iss":"a","foo":{"bar":[1,{"baz":null}]}}`, nil},
		{"map keys of any case", `{"extra":{"a":"1","B":"2"}}`, nil},
		{"raw message of any case", `{"raw":{"A":1,"b":2}}`, nil},
		{"self-decoding type", `{"date":{"A":1}}`, ErrType},
		{"untagged field, exact", `{"NoTag":"x"}`, nil},
		{"escaped name", `{"\u0069ss":"a"}`, nil},
		{"array of structs", `{"authorization_details":[{"jkt":"a"},{"jkt":"b"}]}`, nil},
		{"duplicate iss", `{"iss":"a","iss":"b"}`, ErrDuplicate},
		{"duplicate via escape", `{"iss":"a","\u0069ss":"b"}`, ErrDuplicate},
		{"ISS alone", `{"ISS":"a"}`, ErrCase},
		{"escaped ISS alone", `{"\u0049SS":"a"}`, ErrCase},
		{"Iss beside iss", `{"iss":"a","Iss":"b"}`, ErrDuplicate},
		{"sub with LONG S", `{"ſub":"admin"}`, ErrCase},
		{"cnf.JKT", `{"cnf":{"JKT":"x"}}`, ErrCase},
		{"duplicate inside cnf", `{"cnf":{"jkt":"x","jkt":"y"}}`, ErrDuplicate},
		{"JKT inside an array element", `{"authorization_details":[{"jkt":"a"},{"Jkt":"b"}]}`, ErrCase},
		{"duplicate map keys", `{"extra":{"a":"1","A":"2"}}`, ErrDuplicate},
		{"duplicate unknown members", `{"foo":1,"FOO":2}`, ErrDuplicate},
		{"untagged field, other case", `{"notag":"x"}`, ErrCase},
		{"ignored field's name", `{"Ignored":"x","ignored":"y"}`, ErrDuplicate},
		{"invalid UTF-8", "{\"sub\":\"\xff\"}", ErrUTF8},
		{"trailing data", `{"sub":"a"} {}`, ErrSyntax},
		{"too deep", `{"foo":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}`, ErrDepth},
		{"type error", `{"iss":1}`, ErrType},
		{"unmarshaler error", `{"date":0}`, ErrType},
		{"not JSON", `{"iss":`, ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c testClaims
			err := UnmarshalStrict([]byte(tc.in), &c)
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
		})
	}
	t.Run("values", func(t *testing.T) {
		t.Parallel()
		var c testClaims
		require.NoError(t, UnmarshalStrict([]byte(`{"iss":"a","exp":7,"cnf":{"jkt":"k"},"date":3}`), &c))
		require.Equal(t, "a", c.Issuer)
		require.Equal(t, int64(7), c.Expiry)
		require.Equal(t, "k", c.Cnf.JKT)
		require.Equal(t, testDate(3), c.Date)
	})
	t.Run("type errors do not quote the input", func(t *testing.T) {
		t.Parallel()
		var c testClaims
		err := UnmarshalStrict([]byte(`{"exp":123456789e99}`), &c)
		require.ErrorIs(t, err, ErrType)
		require.NotContains(t, err.Error(), "123456789")
	})
	t.Run("nil target", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, UnmarshalStrict([]byte(`{}`), nil), ErrType)
	})
	t.Run("map target", func(t *testing.T) {
		t.Parallel()
		var m map[string]any
		require.NoError(t, UnmarshalStrict([]byte(`{"a":1,"b":[true]}`), &m))
		require.ErrorIs(t, UnmarshalStrict([]byte(`{"a":1,"A":2}`), &m), ErrDuplicate)
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

func TestSchemaWith(t *testing.T) {
	t.Parallel()
	inner := SchemaOf(reflect.TypeFor[testCnf]())
	base := SchemaOf(reflect.TypeFor[struct {
		Alg string          `json:"alg"`
		JWK json.RawMessage `json:"jwk"`
	}]())
	s := base.With("jwk", inner)
	require.ErrorIs(t, CheckObject([]byte(`{"alg":"a","jwk":{"JKT":"x"}}`), s), ErrCase)
	require.NoError(t, CheckObject([]byte(`{"alg":"a","jwk":{"JKT":"x"}}`), base), "base is unchanged")
	require.ErrorIs(t, CheckObject([]byte(`{"ALG":"a"}`), s), ErrCase)
	require.ErrorIs(t, CheckObject([]byte(`{"Extra":1}`), (*Schema)(nil).With("extra", nil)), ErrCase)
	var members []string
	require.NoError(t, EachMember([]byte(`{"alg":"a","jwk":{"jkt":"x"}}`), s, func(name, _ []byte) error {
		members = append(members, string(name))
		return nil
	}))
	require.Equal(t, []string{"alg", "jwk"}, members)
}
