package oautherr

import "errors"

var (
	// ErrMalformed is returned by [Parse] when a body does not hold a
	// well-formed OAuth 2.0 error object.
	ErrMalformed = errors.New("oautherr: malformed error response")
	// ErrMalformedChallenge is returned by [ParseChallenges] and
	// [ParseHeader] for a WWW-Authenticate value that does not follow
	// RFC 9110 §11.6.1.
	ErrMalformedChallenge = errors.New("oautherr: malformed WWW-Authenticate challenge")
)
