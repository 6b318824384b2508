// Package httpx holds the HTTP plumbing shared by the module: bounded body
// reads, a default client with timeouts that does not follow redirects, and
// request cloning for a single safe retry.
package httpx

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultMaxBody is the default limit on a response or request body read
// by the module: 1 MiB, as x/oauth2 uses.
const DefaultMaxBody = 1 << 20

var (
	// ErrBodyTooLarge is returned by [ReadBody] when the body exceeds its limit.
	ErrBodyTooLarge = errors.New("httpx: body too large")
	// ErrNotReplayable is returned by [CloneForRetry] for a request whose
	// body cannot be sent again (a body without GetBody).
	ErrNotReplayable = errors.New("httpx: request body cannot be replayed")
)

// ReadBody reads all of r, but at most limit bytes (DefaultMaxBody when
// limit <= 0). A longer body is an error wrapping ErrBodyTooLarge, so a
// truncated body is never mistaken for a whole one.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("httpx: reading body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, limit)
	}
	return b, nil
}

// DefaultTimeout bounds a whole exchange made with [DefaultClient].
const DefaultTimeout = 30 * time.Second

// DefaultClient returns a new client for calls to authorization servers: a
// 30 s overall timeout, 10 s dial, TLS handshake and response header
// timeouts, and no redirects (a 3xx is returned to the caller, which treats
// it as an error: RFC 6749 endpoints do not redirect POSTs).
func DefaultClient() *http.Client {
	return &http.Client{
		Timeout:       DefaultTimeout,
		Transport:     DefaultTransport(),
		CheckRedirect: NoRedirect,
	}
}

// DefaultTransport returns a new transport with the timeouts of
// [DefaultClient].
func DefaultTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// NoRedirect is an http.Client CheckRedirect func that returns the 3xx
// response itself instead of following it.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Client returns c, or a new [DefaultClient] when c is nil.
func Client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return DefaultClient()
}

// CloneForRetry returns a deep copy of req with a fresh body from
// req.GetBody, ready to be sent again. A request without a body clones
// as is; one with a body but no GetBody returns ErrNotReplayable.
func CloneForRetry(req *http.Request) (*http.Request, error) {
	r2 := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r2, nil
	}
	if req.GetBody == nil {
		return nil, ErrNotReplayable
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotReplayable, err)
	}
	r2.Body = body
	return r2, nil
}

// CloseBody closes req.Body if it is set. RoundTrippers call it on every
// early return, as http.RoundTripper's contract requires.
func CloseBody(req *http.Request) {
	if req != nil && req.Body != nil {
		_ = req.Body.Close()
	}
}

// DrainClose reads up to 64 KiB of the body and closes it, so that the
// connection can be reused.
func DrainClose(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
