package jarm

import (
	"errors"
	"strconv"
	"strings"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Errors returned by this package. Each failure wraps the one sentinel a
// caller branches on with [errors.Is]; the text after it says which check
// failed, for logs. No error text carries a code, a state, a token or a
// key.
var (
	// ErrInvalidConfig is wrapped by every [*ConfigError]: the [Config]
	// cannot be used. [HTTPStatus] maps it to 500.
	ErrInvalidConfig = errors.New("jarm: invalid configuration")
	// ErrNoExpectedState means the caller passed an empty expected state
	// without [Config.InsecureAllowNoState]: a bug of the caller, or a
	// session that lost its state. [HTTPStatus] maps it to 500.
	ErrNoExpectedState = errors.New("jarm: no expected state given")

	// ErrMalformed means the response is not a well-formed authorization
	// response: bad URL or form encoding, a repeated parameter, response
	// parameters beside the JWT or in both query and fragment, bad
	// base64url, a payload that is not strict JSON, a claim of the wrong
	// type, an invalid error code, neither or both of "code" and "error",
	// a JARM response to a Decoder without verification keys.
	ErrMalformed = errors.New("jarm: malformed authorization response")
	// ErrTooLarge means the response, URL, fragment or form body exceeds
	// its size limit. [HTTPStatus] maps it to 413.
	ErrTooLarge = errors.New("jarm: authorization response too large")
	// ErrMethodNotAllowed means [Decoder.DecodeRequest] got a request that
	// is neither GET nor POST. [HTTPStatus] maps it to 405.
	ErrMethodNotAllowed = errors.New("jarm: authorization response must use GET or POST")
	// ErrUnsupportedMediaType means [Decoder.DecodeRequest] got a POST
	// whose body is not application/x-www-form-urlencoded. [HTTPStatus]
	// maps it to 415.
	ErrUnsupportedMediaType = errors.New("jarm: form post must be application/x-www-form-urlencoded")

	// ErrPlainResponse means a plain (non-JARM) response arrived where JARM
	// is required: a downgrade, or a client registration that does not
	// ask for a JWT response mode.
	ErrPlainResponse = errors.New("jarm: plain authorization response where JARM is required")
	// ErrNotEncrypted means a signed but unencrypted response arrived where
	// the Decoder requires encryption: a downgrade, or a client
	// registration without authorization_encrypted_response_alg.
	ErrNotEncrypted = errors.New("jarm: authorization response is not encrypted")
	// ErrDecrypt means an encrypted response cannot be decrypted with the
	// configured keys, or its content is not a JWS.
	ErrDecrypt = errors.New("jarm: authorization response cannot be decrypted")
	// ErrAlgorithmNotAllowed means the JWS "alg", or the JWE "alg" or
	// "enc", is outside its allow-list ("none" always is).
	ErrAlgorithmNotAllowed = errors.New("jarm: algorithm not allowed")
	// ErrInvalidSignature means no key of the authorization server
	// verifies the response: the signature is wrong, or no key matches its
	// "kid" even after refreshing the remote key set.
	ErrInvalidSignature = errors.New("jarm: invalid signature")
	// ErrKeySetUnavailable means the authorization server's JWK Set could
	// not be fetched (network error, HTTP error, a redirect, a bad body)
	// and no earlier copy is cached. [HTTPStatus] maps it to 503.
	ErrKeySetUnavailable = errors.New("jarm: authorization server keys unavailable")

	// ErrIssuerMismatch means "iss" is not the expected issuer (a mix-up,
	// RFC 9207), or is absent: from a JARM payload, or from a plain
	// response when the server advertises
	// authorization_response_iss_parameter_supported.
	ErrIssuerMismatch = errors.New("jarm: issuer mismatch")
	// ErrAudienceMismatch means "aud" is absent or does not contain the
	// client_id.
	ErrAudienceMismatch = errors.New("jarm: audience mismatch")
	// ErrExpired means "exp" has passed, beyond the allowed skew: an old
	// redirect replayed, or a login that took too long.
	ErrExpired = errors.New("jarm: authorization response expired")
	// ErrNotYetValid means "iat" or "nbf" is in the future, beyond the
	// allowed skew: the clocks of client and server disagree.
	ErrNotYetValid = errors.New("jarm: authorization response not yet valid")
	// ErrLifetimeTooLong means the response lives longer than
	// [Config.MaxLifetime] allows: "exp" is absent, or lies beyond now +
	// MaxLifetime + Skew, or "exp" − "iat" exceeds MaxLifetime.
	ErrLifetimeTooLong = errors.New("jarm: authorization response lifetime too long")

	// ErrStateMismatch means "state" is absent although one was sent,
	// differs from the expected value, or is present when none was sent.
	ErrStateMismatch = errors.New("jarm: state mismatch")

	// ErrAuthorization is matched by every [*AuthorizationError]: the
	// authorization server answered with an error.
	ErrAuthorization = errors.New("jarm: authorization server returned an error")
)

// ConfigError reports a misconfigured [Config] field. [NewDecoder] returns
// it; it wraps [ErrInvalidConfig].
type ConfigError struct {
	// Field is the Go field path at fault, e.g. "JWKSURL" or
	// "DecryptionKeys[1].Key".
	Field string
	// Reason says what is wrong with it. It never holds the field's value.
	Reason string
}

// Error implements error: "jarm: invalid configuration: <Field>: <Reason>".
func (e *ConfigError) Error() string {
	return ErrInvalidConfig.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// AuthorizationError is an error response of the authorization server
// (RFC 6749 §4.1.2.1,
// https://datatracker.ietf.org/doc/html/rfc6749#section-4.1.2.1) that
// passed every check: inside a JARM response, after issuer, audience,
// lifetime and signature; in a plain response, after the RFC 9207 issuer
// check. In both cases the state was checked too.
//
// errors.Is(err, [ErrAuthorization]) holds for every *AuthorizationError.
// Unwrap returns the module's OAuth error value, so the root package's
// *hardened.Error is an errors.As target for it too, and
// errors.Is(err, &hardened.Error{Code: "access_denied"}) works.
type AuthorizationError struct {
	// Code is the "error" parameter, e.g. "access_denied" or
	// "interaction_required".
	Code string
	// Description is the "error_description" parameter, bounded and with
	// control characters replaced; may be empty.
	Description string
	// URI is the "error_uri" parameter; empty when absent or not made of
	// the characters RFC 6749 allows.
	URI string
	// State is the verified state.
	State string
	// Issuer is the verified issuer ("" for a plain response without
	// "iss" from a server that does not advertise it).
	Issuer string
	// JARM reports whether the error came in a signed response.
	JARM bool

	oauth *oautherr.Error
}

// newAuthorizationError builds the error of a verified error response;
// desc and uri are server text, cleaned here.
func newAuthorizationError(code, desc, uri, state, iss string, jarm bool) *AuthorizationError {
	desc = oautherr.Sanitize(desc)
	if !validErrorURI(uri) {
		uri = ""
	}
	return &AuthorizationError{
		Code: code, Description: desc, URI: uri, State: state, Issuer: iss, JARM: jarm,
		oauth: &oautherr.Error{Code: code, Description: desc, URI: uri},
	}
}

// Error implements error. The text holds the error code and description,
// never the state.
func (e *AuthorizationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrAuthorization.Error())
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(oautherr.Sanitize(e.Code))
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(truncate(oautherr.Sanitize(e.Description), 256)))
	}
	return b.String()
}

// Is reports whether target is [ErrAuthorization].
func (e *AuthorizationError) Is(target error) bool { return target == ErrAuthorization }

// Unwrap returns the OAuth error value the root package's *hardened.Error
// is filled from: Code, Description and URI (Status is 0: the error did
// not come with an HTTP status).
func (e *AuthorizationError) Unwrap() error {
	if e.oauth != nil {
		return e.oauth
	}
	return &oautherr.Error{Code: e.Code, Description: oautherr.Sanitize(e.Description), URI: e.URI}
}
