package mtlsbound

import "errors"

// Errors returned by this package. Each failure wraps the sentinel that
// describes it, with detail text, so callers branch with [errors.Is]; none
// carries a token, a certificate or a header value in its text.
var (
	// ErrInvalidConfig means a [Verifier] or [Client] is misconfigured. The
	// error is a [*ConfigError] naming the field. The middleware answers
	// 500 and never calls the next handler.
	ErrInvalidConfig = errors.New("mtlsbound: invalid configuration")
	// ErrNoToken means the request carries no Authorization header with an
	// accepted scheme (Bearer; also DPoP when [Verifier.CheckedElsewhere]
	// lists "jkt" or "jwk"), or [Verifier.Check] was given an empty token.
	// The middleware answers 401 with a bare Bearer challenge (RFC 6750
	// §3.1: no error code when no credentials were sent).
	ErrNoToken = errors.New("mtlsbound: no access token")
	// ErrInvalidRequest means the Authorization header is malformed:
	// several Authorization fields, a scheme without a token, or a token
	// that is not a b64token (or is over 64 KiB). The middleware answers
	// 400 invalid_request.
	ErrInvalidRequest = errors.New("mtlsbound: malformed authorization header")
	// ErrInvalidToken means the access token was rejected: [Verifier.Token]
	// returned an error (wrapped as well), or the token was sent with a
	// scheme its binding forbids (a DPoP-bound token as Bearer, or a token
	// that is not DPoP-bound with the DPoP scheme).
	ErrInvalidToken = errors.New("mtlsbound: invalid access token")
	// ErrInactiveToken means the claims carry an RFC 7662 "active" member
	// that is not the JSON value true.
	ErrInactiveToken = errors.New("mtlsbound: token is not active")
	// ErrMalformedConfirmation means the claims are not one strict JSON
	// object, or their "cnf" member is not what RFC 7800 allows (see
	// [ParseConfirmation]), for example RFC 8705 §3.1's own non-canonical
	// x5t#S256.
	ErrMalformedConfirmation = errors.New("mtlsbound: malformed cnf confirmation")
	// ErrUnsupportedConfirmation means "cnf" carries a confirmation method
	// that nobody checks for this request: "jkt" or "jwk" not listed in
	// [Verifier.CheckedElsewhere], "kid" or "jku" without [Verifier.Keys]
	// (unless they ride with a "jkt" or "jwk" checked elsewhere), or an
	// unregistered member such as "jwe". Accepting the token would turn a
	// bound token into a bearer token.
	ErrUnsupportedConfirmation = errors.New("mtlsbound: unsupported cnf confirmation method")
	// ErrUnbound means the token has no "cnf" member: it is a plain bearer
	// token, refused unless [Verifier.InsecureAllowUnbound] is set.
	ErrUnbound = errors.New("mtlsbound: token is not sender-constrained")
	// ErrBindingMismatch means the presented certificate's x5t#S256 is not
	// the one the token is bound to (RFC 8705 §3), or its public key is
	// not the key the token's "kid"/"jku" names (RFC 7800 §3.4, §3.5), not
	// even of its type.
	ErrBindingMismatch = errors.New("mtlsbound: client certificate does not match the token binding")
	// ErrUnknownKey means the token's "cnf" "kid" (with "jku" or alone)
	// names no one key [Verifier.Keys] can provide: a "kid" it does not
	// know, a "jku" off its allow-list, a JWK Set without the "kid" or
	// with two keys of that "kid"; or a key other than the one "jkt" or
	// "jwk" of the same "cnf" names. The middleware answers 401
	// invalid_token.
	ErrUnknownKey = errors.New("mtlsbound: cnf names no usable key")
	// ErrKeyUnavailable means the JWK Set a "cnf" "jku" names could not be
	// fetched and no copy of it is cached, so the binding cannot be
	// checked now. The middleware answers 503.
	ErrKeyUnavailable = errors.New("mtlsbound: confirmation key set unavailable")
	// ErrNoCertificate means a certificate-bound token came without a
	// client certificate (neither on the TLS connection nor through a
	// trusted proxy's header).
	ErrNoCertificate = errors.New("mtlsbound: no client certificate")
	// ErrUntrustedProxy is wrapped together with [ErrNoCertificate] when a
	// client certificate header arrived from an address outside
	// [Verifier.TrustedProxies]: the header was ignored. It points at a
	// proxy missing from TrustedProxies, or at a forged header.
	ErrUntrustedProxy = errors.New("mtlsbound: certificate header from an untrusted address ignored")
	// ErrMalformedHeader means a certificate header from a trusted proxy
	// is repeated, too large, badly escaped, not exactly one PEM
	// certificate, or (XFCC) syntactically invalid: the proxy is
	// misconfigured.
	ErrMalformedHeader = errors.New("mtlsbound: malformed client certificate header")
	// ErrMalformedMetadata means an mtls_endpoint_aliases member is not a
	// JSON object of unique names to absolute https URLs.
	ErrMalformedMetadata = errors.New("mtlsbound: malformed mtls_endpoint_aliases")
)

// ConfigError is the error of a misconfigured [Verifier] or [Client],
// returned by the first call that uses the configuration. It wraps
// [ErrInvalidConfig].
type ConfigError struct {
	// Field is the Go path of the offending field, e.g.
	// "Verifier.TrustedProxies" or "Client.Certificate".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error returns "mtlsbound: invalid configuration: <Field>: <Reason>".
func (e *ConfigError) Error() string {
	return ErrInvalidConfig.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

func configError(field, reason string) error { return &ConfigError{Field: field, Reason: reason} }
