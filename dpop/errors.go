package dpop

import (
	"errors"
	"strings"
)

// Errors returned by this package: the ones a caller can act on. Each
// failure wraps one of them, with detail text, so callers branch with
// [errors.Is]; a rejected proof or token binding is also an [*Error]
// carrying the OAuth error code to answer with. No error text carries a
// proof, a token, a nonce, a key or a header value.
var (
	// ErrInvalidConfig means a [Verifier], [Nonces], [ProoferConfig] or
	// [Transport] is misconfigured. The error is a [*ConfigError] naming
	// the field, returned by the first use. The middleware answers 500 and
	// never calls the next handler.
	ErrInvalidConfig = errors.New("dpop: invalid configuration")

	// ErrNoToken means the request carries no Authorization header with an
	// accepted scheme: DPoP, and Bearer only when the verifier can admit a
	// token sent that way ([Verifier.InsecureAllowUnbound], or "x5t#S256"
	// in [Verifier.CheckedElsewhere]). The middleware answers 401 with a
	// bare challenge (RFC 6750 §3.1: no error code when no credentials
	// were sent).
	ErrNoToken = errors.New("dpop: no access token")
	// ErrInvalidRequest means the request is malformed. On a server: a
	// repeated or malformed Authorization header, or, when
	// [Verifier.BaseURL] has a path prefix, a request path that is not in
	// clean form ("." or ".." segments, "//", percent-encoded dots, slashes
	// or backslashes), which could move the expected "htu" outside the
	// prefix. On a client: a method that is not an HTTP token, or a URI
	// that is not absolute http(s). The middleware answers 400
	// invalid_request.
	ErrInvalidRequest = errors.New("dpop: malformed request")
	// ErrInvalidToken means the access token was rejected: [Verifier.Token]
	// returned an error (wrapped as well), or the token came with a scheme
	// its binding forbids: a DPoP-bound token presented as a Bearer token
	// (RFC 9449 §7.2), or a token bound only by methods of
	// [Verifier.CheckedElsewhere] presented with the DPoP scheme. The
	// middleware answers 401 invalid_token.
	ErrInvalidToken = errors.New("dpop: invalid access token")
	// ErrInactiveToken means the claims carry an RFC 7662 "active" member
	// that is not true.
	ErrInactiveToken = errors.New("dpop: access token is not active")
	// ErrMalformedConfirmation means the claims are not one strict JSON
	// object of at most 1 MiB, or their "cnf" is not what RFC 7800 allows
	// (see [ParseConfirmation]).
	ErrMalformedConfirmation = errors.New("dpop: malformed cnf confirmation")
	// ErrUnsupportedConfirmation means "cnf" carries a method nobody checks
	// for this request: "x5t#S256" not listed in
	// [Verifier.CheckedElsewhere], "kid" or "jku" without [Verifier.Keys]
	// (unless they ride with a "x5t#S256" checked elsewhere), or an
	// unregistered member such as "jwe". Accepting the token would make a
	// bound token a bearer token.
	ErrUnsupportedConfirmation = errors.New("dpop: unsupported cnf confirmation method")
	// ErrUnbound means the token has no "cnf": refused unless
	// [Verifier.InsecureAllowUnbound] is set, and always with the DPoP
	// scheme.
	ErrUnbound = errors.New("dpop: access token is not sender-constrained")
	// ErrBindingMismatch means the proof's key is not the key the token is
	// bound to ("cnf" "jkt" or "jwk"; RFC 9449 §6, §7.1), or not the key
	// its "kid"/"jku" names (RFC 7800 §3.4, §3.5), not even of its type.
	ErrBindingMismatch = errors.New("dpop: proof key does not match the token binding")
	// ErrUnknownKey means the token's "cnf" "kid" (with "jku" or alone)
	// names no one key [Verifier.Keys] can provide: a "kid" it does not
	// know, a "jku" off its allow-list, a JWK Set without the "kid" or
	// with two keys of that "kid"; or a key other than the one "jkt" or
	// "jwk" of the same "cnf" names. The middleware answers 401
	// invalid_token.
	ErrUnknownKey = errors.New("dpop: cnf names no usable key")
	// ErrKeyUnavailable means the JWK Set a "cnf" "jku" names could not be
	// fetched and no copy of it is cached, so the binding cannot be
	// checked now. The middleware answers 503.
	ErrKeyUnavailable = errors.New("dpop: confirmation key set unavailable")

	// ErrInvalidProof is wrapped by every failure that makes a proof
	// invalid (RFC 9449 §4.3): missing, repeated, too large, malformed, a
	// wrong "typ", "alg", "jwk", signature, "htm", "htu", "iat" or "ath",
	// or replayed. The OAuth error code is "invalid_dpop_proof".
	ErrInvalidProof = errors.New("dpop: invalid proof")
	// ErrUseNonce means the server requires a nonce it issued and the proof
	// has none, or one that is forged or expired (RFC 9449 §8, §9). The
	// OAuth error code is "use_dpop_nonce" and the response carries a
	// fresh DPoP-Nonce: the client retries with it.
	ErrUseNonce = errors.New("dpop: use the server-provided nonce")
	// ErrReplay means the proof's "jti" was already used with the same key
	// within the window (RFC 9449 §11.1), or may have been: its "iat" is
	// at or before the horizon of a [MemoryStore] that had to forget
	// proofs of that age, or the store's share for proofs dated in the
	// future is used up. Wrapped together with [ErrInvalidProof]; the
	// client sends a fresh proof.
	ErrReplay = errors.New("dpop: proof replayed")
	// ErrReplayStore means the replay store failed; the proof is refused
	// (fail closed). The middleware answers 503.
	ErrReplayStore = errors.New("dpop: replay store unavailable")
)

// Proof check failures, wrapped beside [ErrInvalidProof], [ErrUseNonce] or
// a binding sentinel. They are not exported: a caller acts on the class,
// and the text says which check failed.
var (
	errNoProof          = errors.New("dpop: no DPoP proof")
	errMultipleProofs   = errors.New("dpop: more than one DPoP header")
	errProofTooLarge    = errors.New("dpop: proof too large")
	errMalformedProof   = errors.New("dpop: malformed proof")
	errProofType        = errors.New("dpop: proof typ is not dpop+jwt")
	errProofAlgorithm   = errors.New("dpop: proof algorithm not allowed")
	errProofKey         = errors.New("dpop: unusable proof key")
	errProofSignature   = errors.New("dpop: invalid proof signature")
	errProofMethod      = errors.New("dpop: htm does not match the request method")
	errProofURI         = errors.New("dpop: htu does not match the request URI")
	errProofExpired     = errors.New("dpop: proof too old")
	errProofNotYetValid = errors.New("dpop: proof issued in the future")
	errAccessTokenHash  = errors.New("dpop: ath does not match the access token")
	errNonceMissing     = errors.New("dpop: nonce required")
	errNonceInvalid     = errors.New("dpop: invalid or expired nonce")
	errHorizon          = errors.New("dpop: proof older than the replay store's horizon")
	errFutureQuota      = errors.New("dpop: too many proofs dated in the future")
	errDowngrade        = errors.New("dpop: DPoP-bound token presented as a bearer token")
	errNotDPoPBound     = errors.New("dpop: token is not DPoP-bound")
	errUncleanPath      = errors.New("dpop: request path is not in clean form")
)

// OAuth error codes used by DPoP (RFC 9449 §12.2 and RFC 6750 §3.1), the
// values of [Error.Code].
const (
	// CodeInvalidProof is "invalid_dpop_proof" (RFC 9449 §4.3, §7.1).
	CodeInvalidProof = "invalid_dpop_proof"
	// CodeUseNonce is "use_dpop_nonce" (RFC 9449 §8, §9).
	CodeUseNonce = "use_dpop_nonce"
	// CodeInvalidToken is "invalid_token" (RFC 6750 §3.1).
	CodeInvalidToken = "invalid_token"
	// CodeInvalidRequest is "invalid_request" (RFC 6750 §3.1).
	CodeInvalidRequest = "invalid_request"
)

// Error is a verifier's refusal of a proof or a token binding: the OAuth
// error code and description its response carries ([Verifier.Wrap],
// [Verifier.WriteError], [Verifier.WriteTokenError]). It is produced here,
// not received from a server. Its description is a fixed text that never
// contains request material. It unwraps to its class sentinel
// ([ErrInvalidProof], [ErrUseNonce], [ErrBindingMismatch], [ErrUnknownKey],
// [ErrUnbound] or [ErrInvalidToken]), [ErrReplay] for a replay, and the
// underlying cause.
type Error struct {
	// Code is the OAuth error code: [CodeInvalidProof], [CodeUseNonce] or
	// [CodeInvalidToken].
	Code string
	// Description is a short fixed text for error_description.
	Description string

	class, kind, cause error
}

// Error returns the failed check and the description.
func (e *Error) Error() string {
	var b strings.Builder
	if e.kind != nil {
		b.WriteString(e.kind.Error())
	} else {
		b.WriteString(e.class.Error())
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// Unwrap returns the sentinels and the cause the error wraps.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, 3)
	for _, x := range []error{e.class, e.kind, e.cause} {
		if x != nil {
			out = append(out, x)
		}
	}
	return out
}

// invalid returns an invalid_dpop_proof error.
func invalid(kind error, desc string) *Error {
	return &Error{Code: CodeInvalidProof, Description: desc, class: ErrInvalidProof, kind: kind}
}

// invalidCause is invalid with an underlying cause (never one carrying
// request material).
func invalidCause(kind error, desc string, cause error) *Error {
	e := invalid(kind, desc)
	e.cause = cause
	return e
}

func useNonce(kind error, desc string) *Error {
	return &Error{Code: CodeUseNonce, Description: desc, class: ErrUseNonce, kind: kind}
}

// badToken returns an invalid_token error of the given class.
func badToken(class, kind error, desc string) *Error {
	return &Error{Code: CodeInvalidToken, Description: desc, class: class, kind: kind}
}

// ConfigError is the error of a misconfigured [Verifier], [Nonces],
// [ProoferConfig] or [Transport], returned by the first call that uses the
// configuration. It wraps [ErrInvalidConfig].
type ConfigError struct {
	// Field is the Go path of the offending field, e.g. "Verifier.BaseURL"
	// or "ProoferConfig.Key".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error returns "dpop: invalid configuration: <Field>: <Reason>".
func (e *ConfigError) Error() string {
	return ErrInvalidConfig.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

func configError(field, reason string) error { return &ConfigError{Field: field, Reason: reason} }
