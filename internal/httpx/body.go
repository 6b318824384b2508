package httpx

import (
	"fmt"
	"io"
	"math"
	"net/http"
)

// DefaultMaxBody is the default limit on a response or request body read
// by the module: 1 MiB, as x/oauth2 uses.
const DefaultMaxBody = 1 << 20

// ReadBody reads all of r, but at most limit bytes (DefaultMaxBody when
// limit <= 0). A longer body is an error wrapping ErrBodyTooLarge, so a
// truncated body is never mistaken for a whole one. A body of exactly
// limit bytes is read whole. The text of a read error is bounded
// ([BoundError]).
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if r == nil {
		return []byte{}, nil
	}
	n := limit
	if n < math.MaxInt64 {
		n++ // one more byte tells a body of limit bytes from a longer one
	}
	b, err := io.ReadAll(io.LimitReader(r, n))
	if err != nil {
		return nil, fmt.Errorf("httpx: reading body: %w", BoundError(err))
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, limit)
	}
	return b, nil
}

// CloseBody closes req.Body if it is set. RoundTrippers call it on every
// early return, as http.RoundTripper's contract requires.
func CloseBody(req *http.Request) {
	if req != nil && req.Body != nil {
		_ = req.Body.Close()
	}
}

// maxDrain bounds what DrainClose reads before closing.
const maxDrain = 64 << 10

// DrainClose reads up to 64 KiB of the body and closes it, so that the
// connection can be reused.
func DrainClose(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))
	_ = body.Close()
}
