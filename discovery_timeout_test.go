package hardened_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
)

// deadlineTransport records whether each request's context has a deadline,
// and how far ahead, then sends it with base.
type deadlineTransport struct {
	base http.RoundTripper
	seen chan time.Duration // -1 for no deadline
}

func (d *deadlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	left := time.Duration(-1)
	if dl, ok := req.Context().Deadline(); ok {
		left = time.Until(dl)
	}
	d.seen <- left
	return d.base.RoundTrip(req)
}

// TestDiscoverBoundedWithoutDeadline: a caller's http.Client without a
// Timeout (httptest's, or one built only to set TLS roots) and a context
// without a deadline must not let an authorization server that never
// finishes its metadata answer hold Discover for ever. Every fetch has a
// deadline: Discovery.Timeout, 30 s when zero.
func TestDiscoverBoundedWithoutDeadline(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	s := newASServer(t, "", func(s *asServer, w http.ResponseWriter, r *http.Request) {
		// Headers, then a body that never ends.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"issuer":`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	base := s.srv.Client() // no Timeout
	require.Zero(t, base.Timeout)

	t.Run("zero Timeout: a deadline of 30 s", func(t *testing.T) {
		rt := &deadlineTransport{base: base.Transport, seen: make(chan time.Duration, 4)}
		d := &hardened.Discovery{HTTPClient: &http.Client{Transport: rt}}
		ctx, cancel := context.WithCancel(context.Background()) // no deadline
		done := make(chan error, 1)
		go func() {
			_, err := d.Discover(ctx, s.issuer)
			done <- err
		}()
		left := <-rt.seen
		cancel()
		<-done
		require.Positive(t, left, "the metadata request has no deadline")
		require.LessOrEqual(t, left, 30*time.Second)
	})
	t.Run("Timeout set: the fetch ends with it", func(t *testing.T) {
		d := &hardened.Discovery{HTTPClient: base, Timeout: 200 * time.Millisecond}
		start := time.Now()
		m, err := d.Discover(context.Background(), s.issuer)
		require.Nil(t, m)
		require.ErrorIs(t, err, hardened.ErrMetadataUnavailable)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Less(t, time.Since(start), 10*time.Second)
	})
	t.Run("negative Timeout", func(t *testing.T) {
		d := &hardened.Discovery{HTTPClient: base, Timeout: -time.Second}
		_, err := d.Discover(context.Background(), s.issuer)
		var ce *hardened.ConfigError
		require.True(t, errors.As(err, &ce), "%v", err)
	})
}
