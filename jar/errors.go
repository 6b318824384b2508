package jar

import (
	"errors"
	"strconv"
)

// Errors returned by this package. Each failure wraps the sentinel that
// describes it, so callers branch with [errors.Is]; none carries a parameter
// value, a key or a request object in its text.
var (
	// ErrInvalidConfig is wrapped by every [*ConfigError]: a missing or
	// malformed field of [Config], [Encryption] or [Server].
	ErrInvalidConfig = errors.New("jar: invalid configuration")
	// ErrInvalidParameter is wrapped by every [*ParameterError]: an
	// authorization request parameter that cannot go into a request object.
	// [Server.Publish] returns it for a missing request object.
	ErrInvalidParameter = errors.New("jar: invalid parameter")
	// ErrSigning reports a failure of the crypto.Signer (a KMS or HSM that
	// is unreachable, for example). The signer's error is wrapped too.
	ErrSigning = errors.New("jar: signing the request object failed")
	// ErrEncryption reports a request object that cannot be encrypted to
	// the authorization server: a JWK Set that does not parse, no key or no
	// algorithm of the server that this package can use, or a failure while
	// encrypting. Refetching the server's metadata and keys may help.
	ErrEncryption = errors.New("jar: cannot encrypt the request object")
	// ErrServerFull reports that a [Server] holds MaxEntries live request
	// objects.
	ErrServerFull = errors.New("jar: request object server is full")
	// ErrExpired reports a request object whose expiry has passed, given to
	// [Server.Publish]. Build a new one.
	ErrExpired = errors.New("jar: request object expired")
)

// ConfigError reports a misconfigured field. It is returned on first use
// ([Config.Build], [Server.Publish]) and wraps [ErrInvalidConfig].
type ConfigError struct {
	// Field is the Go field path at fault, e.g. "Config.Lifetime" or
	// "Server.BaseURL".
	Field string
	// Reason says what is wrong with it. It never holds the field's value.
	Reason string
}

// Error implements error: "jar: invalid configuration: <Field>: <Reason>".
func (e *ConfigError) Error() string {
	return ErrInvalidConfig.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// ParameterError reports which authorization request parameter was
// refused, and why. It wraps [ErrInvalidParameter]; the parameter's value
// is never part of the error.
type ParameterError struct {
	// Parameter is the name of the refused parameter.
	Parameter string
	// Reason says what is wrong with it, e.g. "given more than once".
	Reason string
}

// Error implements error: "jar: invalid parameter: <Parameter>: <Reason>",
// with the name quoted and cut to 64 bytes.
func (e *ParameterError) Error() string {
	return ErrInvalidParameter.Error() + ": " + strconv.Quote(truncate(e.Parameter, 64)) + ": " + e.Reason
}

// Unwrap returns [ErrInvalidParameter].
func (e *ParameterError) Unwrap() error { return ErrInvalidParameter }

// Reasons of ParameterError.
const (
	reasonNested    = "must not appear in a request object (RFC 9101 §4)"
	reasonReserved  = "is a claim the request object sets itself"
	reasonSubject   = "must not equal the client ID (RFC 9101 §10.8)"
	reasonClientID  = "differs from the configured client ID (RFC 9101 §6.3)"
	reasonDuplicate = "given more than once (RFC 6749 §3.1)"
	reasonMissing   = "required (RFC 6749 §4.1.1)"
	reasonName      = "empty or not valid UTF-8"
	reasonCase      = "is a case variant of another parameter or claim (RFC 8259 §4: names must be unique)"
	reasonUTF8      = "value is not valid UTF-8 (RFC 9101 §4)"
	reasonMaxAge    = "must be a non-negative integer of at most 2^53-1"
	reasonClaims    = "must be a JSON object"
	reasonDetails   = "must be a JSON array of objects, each with a string \"type\" (RFC 9396 §2)"
	reasonResource  = "must be an absolute URI without a fragment (RFC 8707 §2)"
)

func paramErr(name, reason string) error { return &ParameterError{Parameter: name, Reason: reason} }

func configErr(field, reason string) error { return &ConfigError{Field: field, Reason: reason} }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
