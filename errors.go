package hardened

import (
	"errors"
	"fmt"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Errors returned by this package. Every failure wraps the sentinel that
// describes it, so callers branch with [errors.Is]; the typed errors below
// add the data a caller may need, for [errors.As]. No error carries a
// secret, a key, a client assertion or a token in its text, and text that
// came from a server is bounded and cleaned of control characters first.
var (
	// ErrInvalidConfig means a client authentication method, an
	// [AuthTransport] or a [Discovery] is misconfigured: a required field
	// is empty, a value is out of range, a key cannot sign with an allowed
	// algorithm. It is returned on first use, as a [*ConfigError] that
	// names the field.
	ErrInvalidConfig = errors.New("hardened: invalid configuration")
	// ErrConflictingCredentials means a request to a client-authenticated
	// endpoint already carries client credentials when it reaches
	// [AuthTransport]: a client_secret, client_assertion or
	// client_assertion_type form parameter, an Authorization header, or a
	// client_id that names another client. AuthTransport is the only source
	// of client credentials, and RFC 6749 §2.3 forbids more than one
	// authentication method per request, so nothing is sent; the error text
	// names the fix (leave oauth2.Config.ClientSecret empty, use
	// oauth2.AuthStyleInParams, do not add credentials by hand).
	ErrConflictingCredentials = errors.New("hardened: request already carries client credentials")
	// ErrUnsupportedRequest means a request to a client-authenticated
	// endpoint cannot be authenticated: it is not a POST of an
	// application/x-www-form-urlencoded body within the size limit, or it
	// carries a query. Nothing is sent.
	ErrUnsupportedRequest = errors.New("hardened: request cannot be client-authenticated")
	// ErrClientAssertion means a private_key_jwt client assertion could not
	// be signed (for example, a KMS or HSM signer failed). The signer's
	// error is wrapped too.
	ErrClientAssertion = errors.New("hardened: cannot create client assertion")
	// ErrAuthMethodNotSupported means a client authentication method is
	// unknown, or is not listed in the authorization server's
	// token_endpoint_auth_methods_supported.
	ErrAuthMethodNotSupported = errors.New("hardened: client authentication method not supported")

	// ErrInvalidIssuer means the issuer identifier given to discovery is not
	// an https URL without query and fragment (RFC 8414 §2).
	ErrInvalidIssuer = errors.New("hardened: invalid issuer identifier")
	// ErrIssuerMismatch means the metadata's "issuer" is not byte for byte
	// the issuer identifier it was fetched for (RFC 8414 §3.3). It is
	// returned as an [*IssuerMismatchError].
	ErrIssuerMismatch = errors.New("hardened: metadata issuer does not match the issuer identifier")
	// ErrInvalidMetadata means the metadata response cannot be used: it is
	// not application/json (RFC 8414 §3.2), it exceeds
	// [Discovery.MaxBytes], it is not a JSON object of the types RFC 8414
	// §2 defines (invalid JSON or UTF-8, a duplicate member, a string where
	// an array is expected, a missing required member), or an endpoint in
	// it is not an absolute https URL with a host and without fragment or
	// user information.
	ErrInvalidMetadata = errors.New("hardened: invalid authorization server metadata")
	// ErrMetadataUnavailable means the metadata could not be fetched: a
	// network error, a deadline, or an HTTP status other than 200 OK,
	// redirects included (discovery never follows one). A status is
	// returned as a [*StatusError].
	ErrMetadataUnavailable = errors.New("hardened: authorization server metadata unavailable")
	// ErrMissingEndpoint means the metadata lacks an endpoint that the
	// operation needs (for example token_endpoint for [Metadata.OAuth2Endpoint]).
	ErrMissingEndpoint = errors.New("hardened: endpoint missing from metadata")

	// ErrMalformedKey means key data does not parse: not one PEM block or
	// one JSON object, bad DER, bad base64url, private and public members
	// that do not match, data over 64 KiB.
	ErrMalformedKey = errors.New("hardened: malformed private key")
	// ErrUnsupportedKey means key data parses but is not a usable private
	// key: a public key or certificate only, an encrypted PEM block
	// (decrypt it first), a symmetric ("oct") JWK, an RSA key under 2048
	// bits or a multi-prime one, a curve other than P-256, P-384, P-521 and
	// Ed25519, or (for the Marshal functions) a key that cannot be
	// exported, such as a KMS or HSM signer.
	ErrUnsupportedKey = errors.New("hardened: unsupported private key")

	// ErrInvalidOption means a per-call argument of a [Config] method is
	// missing or not allowed, and nothing was sent: an empty state or code,
	// no oauth2.S256ChallengeOption (PKCE is always required, and only
	// S256), no [NonceOption] with openid in the scope, no
	// oauth2.VerifierOption at [Config.Exchange], a resource indicator that
	// is not an absolute URI, or a parameter the Config sets itself
	// (client_id, response_mode, request, request_uri, client credentials,
	// a code_verifier in an authorization request). [NewLogin] gives the
	// options a login needs.
	ErrInvalidOption = errors.New("hardened: invalid option")
	// ErrUnsupportedGrant means a promoted oauth2.Config method was called
	// for a grant this client refuses: the resource owner password
	// credentials grant (forbidden by RFC 9700 §2.4 and FAPI 2.0) and the
	// device authorization grant (not part of FAPI 2.0). Nothing is sent.
	ErrUnsupportedGrant = errors.New("hardened: grant not supported by this client")
	// ErrAuthorizationResponse wraps every rejection of [Config.Callback]:
	// a wrong or missing issuer (RFC 9207), a wrong state, a forged,
	// expired or unencrypted JARM response, a plain response where JARM is
	// required, or an error response of the authorization server, which is
	// also a [*Error] (errors.As). The jarm package's sentinel that names
	// the failed check is in the chain too.
	ErrAuthorizationResponse = errors.New("hardened: authorization response rejected")
	// ErrRequestFailed means a request to the authorization server (PAR,
	// token, revocation or introspection endpoint) failed: a network
	// error, a deadline, or an error response, which is also a [*Error]
	// with its Code and Status (errors.As). Whether to retry depends on
	// the Code: invalid_grant means the login or refresh token is gone.
	ErrRequestFailed = errors.New("hardened: request to the authorization server failed")
	// ErrInvalidResponse means the authorization server answered with a
	// success that cannot be used: a token response that is not strict
	// JSON or lacks token_type, an introspection response without a
	// boolean "active". Nothing of it is returned.
	ErrInvalidResponse = errors.New("hardened: invalid response from the authorization server")
	// ErrNegativeExpiresIn means a token response carried a negative
	// "expires_in" (RFC 6749 §5.1: the lifetime in seconds), which
	// x/oauth2 would turn into a token already expired, refreshed before
	// every request. It wraps [ErrInvalidResponse]; the tokens are not
	// returned. An "expires_in" of 0 is accepted: x/oauth2 reads it as no
	// expiry, as it reads an absent one.
	ErrNegativeExpiresIn = fmt.Errorf("%w: negative expires_in", ErrInvalidResponse)
	// ErrNotSenderConstrained means a token response sent over DPoP came
	// back with a token_type other than DPoP (RFC 9449 §5): the access
	// token would be a bearer token, which FAPI 2.0 forbids. The token is
	// not returned. [Config.InsecureNoSenderConstraint] turns DPoP off and
	// accepts bearer tokens instead.
	ErrNotSenderConstrained = errors.New("hardened: access token is not sender-constrained")
	// ErrTokenExpired means a token source holds an expired access token
	// and no refresh token: the user has to log in again.
	ErrTokenExpired = errors.New("hardened: access token expired and cannot be refreshed")
	// ErrInvalidIDToken means an ID token failed a check of OpenID Connect
	// Core §3.1.3.7 (or §12.2 after a refresh), or is missing from the
	// response to an openid request. It is returned as an [*IDTokenError]
	// naming the check; the tokens of the response are not returned.
	ErrInvalidIDToken = errors.New("hardened: invalid ID token")
)

// ConfigError reports a misconfigured field. It wraps [ErrInvalidConfig].
type ConfigError struct {
	// Field is the Go path of the field at fault, type first, e.g.
	// "PrivateKeyJWT.Key" or "AuthTransport.Endpoints".
	Field string
	// Reason says what is wrong with it. It never holds a secret or a key.
	Reason string
}

// Error implements error: "hardened: invalid configuration: <Field>:
// <Reason>".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrInvalidConfig, e.Field, e.Reason)
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// IDTokenError reports an ID token that failed a check of OpenID Connect
// Core §3.1.3.7 (https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation).
// It wraps [ErrInvalidIDToken].
type IDTokenError struct {
	// Check names the failed check: "format" (not a compact JWS, claims
	// that are not strict JSON of the registered types, or no id_token in
	// the response of an openid request), "alg" (none, HS*, or an
	// algorithm outside the allow-list), "signature" (no key of the
	// server's jwks_uri verifies it, or the key set is unavailable), or
	// the claim at fault: "iss", "aud", "azp", "sub", "exp", "iat", "nbf",
	// "nonce", "at_hash", "c_hash" or "auth_time".
	Check string
	// Reason says what is wrong, without claim values.
	Reason string
}

// Error implements error: "hardened: invalid ID token: <Check>: <Reason>".
func (e *IDTokenError) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrInvalidIDToken, e.Check, e.Reason)
}

// Unwrap returns [ErrInvalidIDToken].
func (e *IDTokenError) Unwrap() error { return ErrInvalidIDToken }

// IssuerMismatchError reports metadata whose "issuer" differs from the issuer
// identifier it was requested for (RFC 8414 §3.3: the metadata "MUST NOT be
// used"). It wraps [ErrIssuerMismatch].
type IssuerMismatchError struct {
	// Expected is the issuer identifier discovery was asked for.
	Expected string
	// Got is the "issuer" of the document, sanitized (control characters
	// replaced) and truncated to 256 bytes.
	Got string
}

// Error implements error.
func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("%s: want %q, got %q", ErrIssuerMismatch, e.Expected, e.Got)
}

// Unwrap returns [ErrIssuerMismatch].
func (e *IssuerMismatchError) Unwrap() error { return ErrIssuerMismatch }

// StatusError reports a metadata response with an HTTP status other than
// 200 OK, a redirect included. It wraps [ErrMetadataUnavailable].
type StatusError struct {
	// URL is the well-known URL that was requested.
	URL string
	// StatusCode is the response status.
	StatusCode int
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d from %s", ErrMetadataUnavailable, e.StatusCode, e.URL)
}

// Unwrap returns [ErrMetadataUnavailable].
func (e *StatusError) Unwrap() error { return ErrMetadataUnavailable }

// Error is an OAuth 2.0 error response (RFC 6749 §5.2,
// https://datatracker.ietf.org/doc/html/rfc6749#section-5.2): the one
// errors.As target for every OAuth error that any package of this module
// surfaces — a token or PAR endpoint's error body, a JARM or plain
// authorization error response, an introspection or revocation failure, a
// resource server's WWW-Authenticate challenge:
//
//	var oe *hardened.Error
//	if errors.As(err, &oe) && oe.Code == "invalid_request_object" { … }
//
// Package-specific errors (*par.Error, *jarm.AuthorizationError, …) use the
// same field names and wrap the same value, so errors.As with a
// *hardened.Error target finds it in their chains too. Server-supplied text
// is bounded (1 KiB) and control characters are replaced before it reaches
// an Error.
//
// Two errors match under errors.Is when the target's non-zero fields equal
// the error's: errors.Is(err, &hardened.Error{Code: "invalid_grant"}).
type Error struct {
	// Code is the "error" member, e.g. "invalid_grant".
	Code string
	// Description is the "error_description" member, sanitized; may be
	// empty.
	Description string
	// URI is the "error_uri" member; may be empty.
	URI string
	// Status is the HTTP status code the error came with, or 0 when it did
	// not come over HTTP (an authorization error response).
	Status int
}

// Error implements error. The text carries the code, the status and the
// description, never request material.
func (e *Error) Error() string {
	if e == nil {
		return "oauth2: <nil>"
	}
	return (&oautherr.Error{Code: e.Code, Description: e.Description, URI: e.URI, Status: e.Status}).Error()
}

// Is reports whether target is an *Error whose non-zero fields equal e's.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t == nil || e == nil {
		return false
	}
	return matches(e.Code, e.Description, e.URI, e.Status, t)
}

func matches(code, desc, uri string, status int, t *Error) bool {
	return (t.Code == "" || t.Code == code) &&
		(t.Description == "" || t.Description == desc) &&
		(t.URI == "" || t.URI == uri) &&
		(t.Status == 0 || t.Status == status)
}

func init() {
	oautherr.SetExporter(&oautherr.Exporter{
		As: func(e *oautherr.Error, target any) bool {
			p, ok := target.(**Error)
			if !ok || p == nil {
				return false
			}
			*p = &Error{Code: e.Code, Description: e.Description, URI: e.URI, Status: e.Status}
			return true
		},
		Is: func(e *oautherr.Error, target error) bool {
			t, ok := target.(*Error)
			return ok && t != nil && matches(e.Code, e.Description, e.URI, e.Status, t)
		},
	})
}
