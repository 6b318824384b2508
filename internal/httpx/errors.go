package httpx

import (
	"errors"
	"fmt"
)

var (
	// ErrBodyTooLarge is returned by [ReadBody] when the body exceeds its limit.
	ErrBodyTooLarge = errors.New("httpx: body too large")
	// ErrNotReplayable is returned by [CloneForRetry] for a request whose
	// body cannot be sent again (a body without GetBody).
	ErrNotReplayable = errors.New("httpx: request body cannot be replayed")
	// ErrNoCredentials is returned by [Authorization] for a request without
	// an Authorization field or with a scheme the caller does not accept.
	ErrNoCredentials = errors.New("httpx: no credentials of an accepted scheme")
	// ErrMalformedCredentials is returned by [Authorization] for several
	// Authorization fields or a token that is not a b64token.
	ErrMalformedCredentials = errors.New("httpx: malformed Authorization header")
	// ErrCredentialsTooLarge is returned by [Authorization] for a token
	// over [MaxCredentialsBytes]. It wraps [ErrMalformedCredentials].
	ErrCredentialsTooLarge = fmt.Errorf("%w: token too large", ErrMalformedCredentials)
)
