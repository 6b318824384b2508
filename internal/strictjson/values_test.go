package strictjson

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNumericDate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1562262616", 1562262616, true},
		{" 1562262616 ", 1562262616, true},
		{"1562262616.9", 1562262616, true},
		{"1.5e9", 1500000000, true},
		{"0", 0, true},
		{"-0", 0, true},
		{"1099511627776", 1 << 40, true},
		{"-1", 0, false},
		{"-0.5", 0, false},
		{"1e300", 0, false},
		{"1e400", 0, false},
		{"1099511627777", 0, false},
		{"1099511627776.5", 0, false},
		{"01", 0, false},
		{`"1"`, 0, false},
		{"null", 0, false},
		{"1 2", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := NumericDate([]byte(tc.in))
			r := NewReader([]byte(tc.in))
			rgot, rerr := r.NumericDate()
			if rerr == nil {
				rerr = r.End()
			}
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				require.NoError(t, rerr)
				require.Equal(t, tc.want, rgot)
				return
			}
			require.Error(t, err)
			require.Error(t, rerr)
		})
	}
}

func TestRawValues(t *testing.T) {
	t.Parallel()
	t.Run("Unquote", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ in, want string }{
			{`"abc"`, "abc"},
			{` "a\u00e9\n" `, "aé\n"},
			{`"\ud83d\ude00"`, "😀"},
			{`""`, ""},
		} {
			got, err := Unquote([]byte(tc.in))
			require.NoError(t, err, tc.in)
			require.Equal(t, tc.want, string(got))
			s, err := String([]byte(tc.in))
			require.NoError(t, err, tc.in)
			require.Equal(t, tc.want, s)
		}
		for _, tc := range []struct {
			in  string
			err error
		}{
			{`1`, ErrType},
			{`null`, ErrType},
			{``, ErrType},
			{`"a" "b"`, ErrSyntax},
			{`"a`, ErrSyntax},
			{"\"\xff\"", ErrUTF8},
			{`"\udc00"`, ErrUTF8},
		} {
			_, err := Unquote([]byte(tc.in))
			require.ErrorIs(t, err, tc.err, tc.in)
			_, err = String([]byte(tc.in))
			require.ErrorIs(t, err, tc.err, tc.in)
		}
	})
	t.Run("Bool", func(t *testing.T) {
		t.Parallel()
		v, err := Bool([]byte(" true "))
		require.NoError(t, err)
		require.True(t, v)
		v, err = Bool([]byte("false"))
		require.NoError(t, err)
		require.False(t, v)
		for _, in := range []string{"null", `"true"`, "1", "", "truex", "True"} {
			_, err := Bool([]byte(in))
			require.Error(t, err, in)
		}
	})
	t.Run("Kind and IsNull", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, byte('{'), Kind([]byte(" \n{}")))
		require.Equal(t, byte(0), Kind([]byte(" ")))
		require.True(t, IsNull([]byte(" null ")))
		require.False(t, IsNull([]byte("nullx")))
		require.False(t, IsNull([]byte(`"null"`)))
	})
}
