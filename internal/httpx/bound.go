package httpx

import (
	"net"
	"net/http"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// BoundError bounds the text of err, an error that may quote what a server
// sent (net/http quotes a malformed status line whole, up to its 10 MB
// header limit; encoding/json quotes a malformed value whole). An error
// whose text is already short and clean, as [oautherr.Sanitize] leaves it,
// is returned as is. Any other is wrapped in an error whose text is
// oautherr.Sanitize(err.Error()): at most [oautherr.MaxDescription] bytes,
// control characters replaced. The wrapper keeps err for errors.Is and
// errors.As (context.DeadlineExceeded, *net.OpError, x509 errors...) and,
// when err is a net.Error, is one too, with err's Timeout, so that
// (*url.Error).Timeout still reports a timeout. A nil err is nil.
//
// The full text stays reachable through errors.Unwrap: a caller that logs
// an unwrapped cause logs what the server sent.
func BoundError(err error) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	text := oautherr.Sanitize(s)
	if text == s {
		return err
	}
	if ne, ok := err.(net.Error); ok {
		return &boundedNetError{boundedError{text: text, err: err}, ne}
	}
	return &boundedError{text: text, err: err}
}

// boundedError is an error whose text is bounded and sanitized, wrapping
// the error it was made from.
type boundedError struct {
	text string
	err  error
}

func (e *boundedError) Error() string { return e.text }
func (e *boundedError) Unwrap() error { return e.err }

// boundedNetError is a boundedError made from a net.Error: it answers
// Timeout and Temporary as that error does (net/url's Error and net/http's
// client assert them on the error a transport returned).
type boundedNetError struct {
	boundedError
	ne net.Error
}

func (e *boundedNetError) Timeout() bool { return e.ne.Timeout() }

// Temporary reports what the wrapped net.Error reports. Deprecated in
// net.Error, it is kept because the interface requires it.
func (e *boundedNetError) Temporary() bool {
	t, ok := e.ne.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

// boundedTransport is an http.RoundTripper that passes every error of its
// base through [BoundError].
type boundedTransport struct{ base http.RoundTripper }

// RoundTrip sends req through the base transport and bounds the text of
// its error. The base closes the request body, as its contract requires.
func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, BoundError(err)
	}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the base transport,
// if it has that method, so that http.Client.CloseIdleConnections reaches it.
func (t *boundedTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// bound returns rt wrapped so that its errors go through [BoundError]; an
// rt already wrapped is returned as is, and nil means
// http.DefaultTransport (what an http.Client with a nil Transport uses).
func bound(rt http.RoundTripper) http.RoundTripper {
	switch rt.(type) {
	case *boundedTransport:
		return rt
	case nil:
		rt = http.DefaultTransport
	}
	return &boundedTransport{base: rt}
}
