package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDefaultClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var targetHits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		targetHits.Add(1)
	}))
	t.Cleanup(target.Close)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			src := httptest.NewServer(http.RedirectHandler(target.URL, status))
			t.Cleanup(src.Close)
			for name, c := range map[string]*http.Client{"DefaultClient": DefaultClient(), "Client(nil)": Client(nil)} {
				resp, err := c.Post(src.URL, "application/x-www-form-urlencoded", nil)
				require.NoError(t, err, name)
				DrainClose(resp.Body)
				require.Equal(t, status, resp.StatusCode, name)
				require.Equal(t, target.URL, resp.Header.Get("Location"), name)
			}
		})
	}
	t.Cleanup(func() { require.Zero(t, targetHits.Load()) })
}

func TestClient(t *testing.T) {
	t.Parallel()
	mine := &http.Client{Timeout: time.Second}
	got := Client(mine)
	require.NotSame(t, mine, got, "a caller's client is copied, never changed")
	require.Nil(t, mine.CheckRedirect)
	require.Equal(t, time.Second, got.Timeout)
	require.ErrorIs(t, got.CheckRedirect(nil, nil), http.ErrUseLastResponse, "no redirect is followed, whatever client the caller hands in")
	require.Same(t, Transport(nil), Transport(nil))
	require.Same(t, Client(nil).Transport, Transport(nil))
	rt := &http.Transport{}
	require.Same(t, rt, Transport(rt).(*boundedTransport).base, "a caller's transport is used, its errors bounded")
	wrapped := Transport(rt)
	require.Same(t, wrapped, Transport(wrapped), "wrapped once")
	require.Same(t, rt, Client(&http.Client{Transport: rt}).Transport.(*boundedTransport).base)
	require.Same(t, Client(nil), Client(nil), "the default client is shared, so connections are reused")
	require.NotSame(t, DefaultClient(), DefaultClient())

	c := DefaultClient()
	require.Equal(t, DefaultTimeout, c.Timeout)
	tr, ok := c.Transport.(*http.Transport)
	require.True(t, ok)
	require.NotZero(t, tr.TLSHandshakeTimeout)
	require.NotZero(t, tr.ResponseHeaderTimeout)
	require.Equal(t, uint16(tls.VersionTLS12), tr.TLSClientConfig.MinVersion)
	require.NotSame(t, DefaultTransport().TLSClientConfig, DefaultTransport().TLSClientConfig, "each transport may change its own TLS settings")
}

func TestDefaultTLSConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		max     uint16
		suites  []uint16
		success bool
	}{
		{"TLS 1.3", tls.VersionTLS13, nil, true},
		{"TLS 1.2 with ECDHE-RSA-AES128-GCM", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, true},
		{"TLS 1.2 with ECDHE-RSA-AES256-GCM", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, true},
		{"TLS 1.2 with ECDHE-RSA-CHACHA20 only", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305}, false},
		{"TLS 1.2 with ECDHE-RSA-AES128-CBC only", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}, false},
		{"TLS 1.1", tls.VersionTLS11, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			srv.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tc.max, CipherSuites: tc.suites}
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
			srv.StartTLS()
			t.Cleanup(srv.Close)
			tr := DefaultTransport()
			tr.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
			if tc.success {
				require.NoError(t, err)
				DrainClose(resp.Body)
				return
			}
			require.Error(t, err)
		})
	}
}

// rogueText is what a rogue server makes an error quote: control
// characters and a forged line first, then megabytes.
var rogueText = "\x1b[2J\nhttpx: everything verified\n" + strings.Repeat("Z", 2<<20)

// rogueError is an error whose text is rogueText, wrapping cause.
type rogueError struct{ cause error }

func (e rogueError) Error() string { return rogueText }
func (e rogueError) Unwrap() error { return e.cause }

// rogueNetError is a rogueError that is a net.Error.
type rogueNetError struct {
	rogueError
	timeout bool
}

func (e rogueNetError) Timeout() bool   { return e.timeout }
func (e rogueNetError) Temporary() bool { return e.timeout }

// BoundError bounds and sanitizes the text of an error and keeps it for
// errors.Is and errors.As, a net.Error's Timeout included; a short clean
// error is returned as is.
func TestBoundError(t *testing.T) {
	t.Parallel()
	require.NoError(t, BoundError(nil))
	short := errors.New("dial tcp: connection refused")
	require.Same(t, short, BoundError(short), "a short clean error is returned as is")

	tests := []struct {
		name    string
		err     error
		netErr  bool
		timeout bool
	}{
		{name: "control characters", err: fmt.Errorf("x\x1b[2Jy: %w", io.ErrUnexpectedEOF)},
		{name: "megabytes", err: rogueError{cause: io.ErrUnexpectedEOF}},
		{name: "net.Error timeout", err: rogueNetError{rogueError{cause: io.ErrUnexpectedEOF}, true}, netErr: true, timeout: true},
		{name: "net.Error", err: rogueNetError{rogueError{cause: io.ErrUnexpectedEOF}, false}, netErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := BoundError(tc.err)
			require.LessOrEqual(t, len(got.Error()), 1024)
			require.NotContains(t, got.Error(), "\x1b")
			require.NotContains(t, got.Error(), "\n")
			require.ErrorIs(t, got, tc.err)
			require.ErrorIs(t, got, io.ErrUnexpectedEOF)
			require.Same(t, got, BoundError(got), "bounded once")
			var ne net.Error
			require.Equal(t, tc.netErr, errors.As(got, &ne))
			if tc.netErr {
				require.Equal(t, tc.timeout, ne.Timeout())
				// net/url asserts the transport's error itself.
				ue := &url.Error{Op: "Get", URL: "https://as.example", Err: got}
				require.Equal(t, tc.timeout, ue.Timeout())
			}
		})
	}
}

// A server that answers with a malformed status line of megabytes: the
// error net/http quotes it in reaches the caller of every client and
// transport of this package bounded and sanitized, and still matches
// errors.As *url.Error. A deadline still matches context.DeadlineExceeded
// and reports a timeout.
func TestTransportErrorsBounded(t *testing.T) {
	t.Parallel()
	rogue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = buf.WriteString("\x1b[2J" + strings.Repeat("Z", 2<<20) + "\r\n\r\n") // one status line
		_ = buf.Flush()
	}))
	t.Cleanup(rogue.Close)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })

	clients := []struct {
		name string
		c    *http.Client
	}{
		{"Client(nil)", Client(nil)},
		{"Client(caller's)", Client(&http.Client{Transport: &http.Transport{}})},
		{"Client(nil Transport)", Client(&http.Client{})},
		{"Transport(nil)", &http.Client{Transport: Transport(nil)}},
		{"Transport(caller's)", &http.Client{Transport: Transport(&http.Transport{})}},
	}
	for _, tc := range clients {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := tc.c.Get(rogue.URL)
			require.Nil(t, resp)
			var ue *url.Error
			require.ErrorAs(t, err, &ue)
			require.LessOrEqual(t, len(err.Error()), 2048, "server text in the error is bounded")
			require.NotContains(t, err.Error(), "\x1b")

			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, slow.URL, nil)
			require.NoError(t, err)
			resp, err = tc.c.Do(req)
			require.Nil(t, resp)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			require.True(t, ne.Timeout())
		})
	}
}

// The wrapper forwards CloseIdleConnections, so http.Client's reaches the
// caller's transport.
func TestClientCloseIdleConnections(t *testing.T) {
	t.Parallel()
	rt := &closeSpy{}
	Client(&http.Client{Transport: rt}).CloseIdleConnections()
	require.True(t, rt.closed.Load())
}

type closeSpy struct{ closed atomic.Bool }

func (s *closeSpy) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.ErrUnsupported
}
func (s *closeSpy) CloseIdleConnections() { s.closed.Store(true) }

// A server answering with megabytes of header lines (net/http's default
// bound is 10 MiB, some 40 MB of heap once parsed) is refused by the
// module's default client: the phantom gateway with a nil HTTPClient runs
// up to 256 introspections at once, which any client starts with random
// tokens.
func TestDefaultClientBoundsResponseHeaders(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/padded" {
			for i := range (1 << 20) / 16 {
				w.Header().Add(fmt.Sprintf("X-Pad-%d", i), "0123456789")
			}
		}
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	for name, c := range map[string]*http.Client{"DefaultClient": DefaultClient(), "Client(nil)": Client(nil)} {
		resp, err := c.Get(srv.URL + "/ordinary")
		require.NoError(t, err, name)
		DrainClose(resp.Body)
		resp, err = c.Get(srv.URL + "/padded")
		if err == nil {
			DrainClose(resp.Body)
		}
		require.Error(t, err, name+": 1 MiB of response headers")
	}
}
