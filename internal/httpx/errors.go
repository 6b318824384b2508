package httpx

import "errors"

var (
	// ErrBodyTooLarge is returned by [ReadBody] when the body exceeds its limit.
	ErrBodyTooLarge = errors.New("httpx: body too large")
	// ErrNotReplayable is returned by [CloneForRetry] for a request whose
	// body cannot be sent again (a body without GetBody).
	ErrNotReplayable = errors.New("httpx: request body cannot be replayed")
)
