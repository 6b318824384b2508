package httpx

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"
)

func TestReadBody(t *testing.T) {
	t.Parallel()
	errRead := errors.New("connection reset")
	tests := []struct {
		name  string
		r     io.Reader
		limit int64
		want  string
		err   error
	}{
		{"under the limit", strings.NewReader("abc"), 4, "abc", nil},
		{"exactly the limit", strings.NewReader("abcd"), 4, "abcd", nil},
		{"limit plus one", strings.NewReader("abcde"), 4, "", ErrBodyTooLarge},
		{"far over the limit", strings.NewReader(strings.Repeat("a", 1<<16)), 10, "", ErrBodyTooLarge},
		{"empty", strings.NewReader(""), 4, "", nil},
		{"nil reader", nil, 4, "", nil},
		{"zero limit means the default, exactly", bytes.NewReader(make([]byte, DefaultMaxBody)), 0, strings.Repeat("\x00", DefaultMaxBody), nil},
		{"zero limit means the default, over", bytes.NewReader(make([]byte, DefaultMaxBody+1)), 0, "", ErrBodyTooLarge},
		{"negative limit means the default", strings.NewReader("abc"), -1, "abc", nil},
		{"largest limit", strings.NewReader("abc"), math.MaxInt64, "abc", nil},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader("abcd")), 4, "abcd", nil},
		{"read error", iotest.ErrReader(errRead), 4, "", errRead},
		{"read error after data", io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(errRead)), 4, "", errRead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := ReadBody(tc.r, tc.limit)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Nil(t, b)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, string(b))
		})
	}
}

type countingBody struct {
	io.Reader
	read   int
	closed bool
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	c.read += n
	return n, err
}

func (c *countingBody) Close() error { c.closed = true; return nil }

func TestDrainClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int
		read int
	}{
		{"small body read whole", 100, 100},
		{"large body read up to the bound", 1 << 20, maxDrain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &countingBody{Reader: bytes.NewReader(make([]byte, tc.size))}
			DrainClose(b)
			require.True(t, b.closed)
			require.Equal(t, tc.read, b.read)
		})
	}
	t.Run("nil", func(t *testing.T) {
		t.Parallel()
		require.NotPanics(t, func() { DrainClose(nil) })
	})
}

func TestCloseBody(t *testing.T) {
	t.Parallel()
	b := &countingBody{Reader: strings.NewReader("x")}
	req, err := http.NewRequest(http.MethodPost, "https://as.example/token", b)
	require.NoError(t, err)
	CloseBody(req)
	require.True(t, b.closed)
	require.NotPanics(t, func() { CloseBody(nil) })
	get, err := http.NewRequest(http.MethodGet, "https://as.example/", nil)
	require.NoError(t, err)
	require.NotPanics(t, func() { CloseBody(get) })
}
