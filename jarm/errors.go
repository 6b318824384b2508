package jarm

import (
	"errors"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Errors returned by this package. Each failure wraps the sentinel that
// describes it, so callers branch with [errors.Is]; none carries a token, a
// code, a state or a key in its text.
var (
	// ErrInvalidConfig means the [Config] cannot be used, or a Decoder
	// without verification keys received a JARM response.
	ErrInvalidConfig = errors.New("jarm: invalid configuration")
	// ErrMalformed means the response does not parse: bad URL or form
	// encoding, a repeated parameter, bad base64url, a JWT that is not
	// valid JSON, a claim of the wrong type, an invalid error code.
	ErrMalformed = errors.New("jarm: malformed authorization response")
	// ErrTooLarge means the response, URL, fragment or form body exceeds
	// its size limit.
	ErrTooLarge = errors.New("jarm: authorization response too large")
	// ErrMixedResponse means authorization response parameters were found
	// outside the JWT of a JARM response (or in both the query and the
	// fragment, or in both the URL and the body of a form post).
	ErrMixedResponse = errors.New("jarm: authorization response parameters outside the JWT")
	// ErrPlainResponse means a plain (non-JARM) response arrived where JARM
	// is required: a downgrade.
	ErrPlainResponse = errors.New("jarm: plain authorization response where JARM is required")
	// ErrNotEncrypted means a JWS arrived where the Decoder requires a JWE.
	ErrNotEncrypted = errors.New("jarm: authorization response is not encrypted")
	// ErrDecrypt means an encrypted response cannot be decrypted with the
	// configured keys, or its content is not a JWS.
	ErrDecrypt = errors.New("jarm: authorization response cannot be decrypted")
	// ErrAlgorithmNotAllowed means the JWS "alg", or the JWE "alg" or
	// "enc", is outside its allow-list ("none" always is).
	ErrAlgorithmNotAllowed = errors.New("jarm: algorithm not allowed")
	// ErrInvalidSignature means the signature does not verify with the
	// authorization server's key.
	ErrInvalidSignature = errors.New("jarm: invalid signature")
	// ErrUnknownKey means no key of the authorization server matches the
	// response's "kid", even after refreshing the remote key set.
	ErrUnknownKey = errors.New("jarm: no matching authorization server key")
	// ErrKeySetUnavailable means the authorization server's JWK Set could
	// not be fetched and no earlier copy is cached.
	ErrKeySetUnavailable = errors.New("jarm: authorization server keys unavailable")

	// ErrMissingIssuer means "iss" is absent: from a JARM payload, or from
	// a plain response when the server advertises
	// authorization_response_iss_parameter_supported (RFC 9207 §2.4).
	ErrMissingIssuer = errors.New("jarm: issuer missing")
	// ErrIssuerMismatch means "iss" is not the expected issuer: a mix-up.
	ErrIssuerMismatch = errors.New("jarm: issuer mismatch")
	// ErrMissingAudience means the JARM payload has no "aud".
	ErrMissingAudience = errors.New("jarm: audience missing")
	// ErrAudienceMismatch means "aud" does not contain the client_id.
	ErrAudienceMismatch = errors.New("jarm: audience mismatch")
	// ErrMissingExpiry means the JARM payload has no "exp".
	ErrMissingExpiry = errors.New("jarm: expiry missing")
	// ErrExpired means "exp" has passed, beyond the allowed skew.
	ErrExpired = errors.New("jarm: authorization response expired")
	// ErrNotYetValid means "iat" or "nbf" is in the future, beyond the
	// allowed skew.
	ErrNotYetValid = errors.New("jarm: authorization response not yet valid")

	// ErrNoExpectedState means the caller passed an empty expected state
	// without [Config.InsecureAllowNoState].
	ErrNoExpectedState = errors.New("jarm: no expected state given")
	// ErrMissingState means the response carries no "state" although one
	// was sent.
	ErrMissingState = errors.New("jarm: state missing")
	// ErrStateMismatch means "state" differs from the expected value, or is
	// present when none was sent.
	ErrStateMismatch = errors.New("jarm: state mismatch")
	// ErrMissingCode means a response carries neither "code" nor "error",
	// or both.
	ErrMissingCode = errors.New("jarm: authorization code missing")

	// ErrMethodNotAllowed means [Decoder.DecodeFormPost] got a request
	// whose method is not POST.
	ErrMethodNotAllowed = errors.New("jarm: form post must use POST")
	// ErrUnsupportedMediaType means [Decoder.DecodeFormPost] got a body
	// that is not application/x-www-form-urlencoded.
	ErrUnsupportedMediaType = errors.New("jarm: form post must be application/x-www-form-urlencoded")

	// ErrAuthorization is wrapped by every [*AuthorizationError]: the
	// authorization server answered with an error.
	ErrAuthorization = errors.New("jarm: authorization server returned an error")
)

// AuthorizationError is an error response of the authorization server
// (https://datatracker.ietf.org/doc/html/rfc6749#section-4.1.2.1) that
// passed every check: inside a JARM response, after issuer, audience,
// expiry and signature; in a plain response, after the RFC 9207 issuer
// check. In both cases the state was checked too. It unwraps to
// [ErrAuthorization] and to Err, so errors.As(err, new(*oautherr.Error))
// and errors.Is(err, &oautherr.Error{Code: "access_denied"}) work.
type AuthorizationError struct {
	// Err holds "error", "error_description" and "error_uri"; its Status
	// is 0, as the error did not come with an HTTP status.
	Err *oautherr.Error
	// Issuer is the verified issuer ("" for a plain response without iss).
	Issuer string
	// State is the verified state.
	State string
	// JARM reports whether the error came in a signed response.
	JARM bool
}

// Error implements error. The text holds the error code and description,
// never the state.
func (e *AuthorizationError) Error() string {
	if e.Err == nil {
		return ErrAuthorization.Error()
	}
	return ErrAuthorization.Error() + ": " + e.Err.Error()
}

// Unwrap returns [ErrAuthorization] and Err.
func (e *AuthorizationError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrAuthorization}
	}
	return []error{ErrAuthorization, e.Err}
}
