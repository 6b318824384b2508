package jar

import (
	"errors"
	"strconv"
)

// Errors returned by this package. Each failure wraps the sentinel that
// describes it, so callers branch with [errors.Is]; none carries a parameter
// value, a key or a request object in its text.
var (
	// ErrInvalidConfig reports a missing or malformed [Config] field.
	ErrInvalidConfig = errors.New("jar: invalid configuration")
	// ErrLifetime reports a [Config.Lifetime] that is negative or over
	// [MaxLifetime].
	ErrLifetime = errors.New("jar: request object lifetime out of range")
	// ErrAlgorithmNotAllowed reports a signing algorithm outside
	// [Config.Algorithms].
	ErrAlgorithmNotAllowed = errors.New("jar: signing algorithm not allowed")
	// ErrNestedRequest reports a "request" or "request_uri" parameter, which
	// must not appear inside a request object (RFC 9101 §4).
	ErrNestedRequest = errors.New("jar: request and request_uri must not appear in a request object")
	// ErrReservedParameter reports a parameter that would overwrite a claim
	// the package sets itself (iss, aud, exp, nbf, iat, jti), or a "sub"
	// equal to the client ID (RFC 9101 §10.8).
	ErrReservedParameter = errors.New("jar: reserved parameter")
	// ErrClientIDMismatch reports a client_id parameter other than
	// [Config.ClientID] (RFC 9101 §6.3 requires them to be identical).
	ErrClientIDMismatch = errors.New("jar: client_id does not match the configured client")
	// ErrDuplicateParameter reports a parameter given more than once
	// (RFC 6749 §3.1), or given both in Params and in a typed field.
	ErrDuplicateParameter = errors.New("jar: parameter given more than once")
	// ErrInvalidParameter reports a parameter whose value does not have the
	// required form (max_age not a non-negative integer, claims not a JSON
	// object, authorization_details not a JSON array, resource not an
	// absolute URI without fragment, invalid UTF-8, ...).
	ErrInvalidParameter = errors.New("jar: invalid parameter value")
	// ErrMissingParameter reports a required authorization parameter that
	// is absent (response_type).
	ErrMissingParameter = errors.New("jar: required parameter missing")
	// ErrSigning reports a failure of the crypto.Signer.
	ErrSigning = errors.New("jar: signing the request object failed")
	// ErrNoEncryptionKey reports that no key given in [Encryption.Keys] can
	// be used with a mutually supported algorithm.
	ErrNoEncryptionKey = errors.New("jar: no usable encryption key")
	// ErrEncryptionAlgorithm reports that the server supports no key
	// management or content encryption algorithm this package implements.
	ErrEncryptionAlgorithm = errors.New("jar: no mutually supported encryption algorithm")
	// ErrEncrypting reports a failure while encrypting the request object.
	ErrEncrypting = errors.New("jar: encrypting the request object failed")
	// ErrMalformedJWKS reports a JWK Set given to [ParseEncryptionKeys] that
	// does not parse.
	ErrMalformedJWKS = errors.New("jar: malformed JWK Set")
	// ErrServerFull reports that a [Server] holds MaxEntries live request
	// objects.
	ErrServerFull = errors.New("jar: request object server is full")
	// ErrExpired reports a request object whose expiry has passed, given to
	// [Server.Publish].
	ErrExpired = errors.New("jar: request object expired")
)

// ParameterError reports which authorization parameter was refused. It
// wraps one of the sentinels above; the parameter's value is never part of
// the error.
type ParameterError struct {
	// Parameter is the name of the refused parameter.
	Parameter string
	// Err is the reason, a sentinel of this package such as
	// [ErrInvalidParameter].
	Err error
}

// Error implements error.
func (e *ParameterError) Error() string {
	return e.Err.Error() + ": parameter " + strconv.Quote(truncate(e.Parameter, 64))
}

// Unwrap returns the reason.
func (e *ParameterError) Unwrap() error { return e.Err }

func paramErr(name string, err error) error { return &ParameterError{Parameter: name, Err: err} }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
