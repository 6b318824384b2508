package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

func TestCloneForRetry(t *testing.T) {
	t.Parallel()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}}.Encode()
	ctx := context.WithValue(context.Background(), ctxKey{}, "v")

	t.Run("with GetBody", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://as.example/token", strings.NewReader(form))
		require.NoError(t, err)
		req.Header.Set("DPoP", "proof-1")
		first, err := io.ReadAll(req.Body) // the first attempt consumed the body
		require.NoError(t, err)
		require.Equal(t, form, string(first))

		r2, err := CloneForRetry(req)
		require.NoError(t, err)
		b, err := io.ReadAll(r2.Body)
		require.NoError(t, err)
		require.Equal(t, form, string(b))
		require.Equal(t, req.ContentLength, r2.ContentLength)
		require.Equal(t, "v", r2.Context().Value(ctxKey{}))

		// The clone is deep: changing it leaves the original alone.
		r2.Header.Set("DPoP", "proof-2")
		r2.URL.Path = "/other"
		require.Equal(t, "proof-1", req.Header.Get("DPoP"))
		require.Equal(t, "/token", req.URL.Path)
	})

	t.Run("without GetBody", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequest(http.MethodPost, "https://as.example/token", io.NopCloser(strings.NewReader(form)))
		require.NoError(t, err)
		require.Nil(t, req.GetBody)
		_, err = CloneForRetry(req)
		require.ErrorIs(t, err, ErrNotReplayable)
	})

	t.Run("GetBody fails", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequest(http.MethodPost, "https://as.example/token", strings.NewReader(form))
		require.NoError(t, err)
		errGone := errors.New("body gone")
		req.GetBody = func() (io.ReadCloser, error) { return nil, errGone }
		_, err = CloneForRetry(req)
		require.ErrorIs(t, err, ErrNotReplayable)
		require.ErrorIs(t, err, errGone)
	})

	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"no body", nil},
		{"http.NoBody", http.NoBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, "https://rs.example/r", tc.body)
			require.NoError(t, err)
			req.Header.Set("Authorization", "DPoP at")
			r2, err := CloneForRetry(req)
			require.NoError(t, err)
			require.Equal(t, "DPoP at", r2.Header.Get("Authorization"))
			require.NotSame(t, req, r2)
		})
	}

	t.Run("nil request", func(t *testing.T) {
		t.Parallel()
		_, err := CloneForRetry(nil)
		require.ErrorIs(t, err, ErrNotReplayable)
	})
}
