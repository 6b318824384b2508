package mtlsbound

import "errors"

// Errors returned by this package. Each failure wraps exactly the sentinels
// that describe it, so callers branch with [errors.Is]; none carries a
// token, a certificate or a header value in its text.
var (
	// ErrNoToken means the request carries no Authorization header with the
	// Bearer scheme. The middleware answers 401 with a bare Bearer
	// challenge (RFC 6750 §3.1: no error code when no credentials were sent).
	ErrNoToken = errors.New("mtlsbound: no bearer token")
	// ErrInvalidRequest means the Authorization header is malformed: several
	// Authorization fields, a Bearer scheme without a token, or a token that
	// is not a b64token. The middleware answers 400 invalid_request.
	ErrInvalidRequest = errors.New("mtlsbound: malformed authorization header")
	// ErrInvalidToken wraps an error returned by [Verifier.Token]: the token
	// itself was rejected (bad signature, expired, unknown, inactive...).
	ErrInvalidToken = errors.New("mtlsbound: access token rejected")
	// ErrInactiveToken means the token's claims carry an RFC 7662 "active"
	// member that is not the JSON value true.
	ErrInactiveToken = errors.New("mtlsbound: token is not active")
	// ErrMalformedClaims means the claims are not a single JSON object with
	// unique member names, or are too large.
	ErrMalformedClaims = errors.New("mtlsbound: malformed token claims")
	// ErrMalformedConfirmation means the "cnf" member is not a JSON object,
	// is empty, repeats a member, is too large, or holds an x5t#S256 that is
	// not a string of canonical unpadded base64url encoding 32 bytes.
	ErrMalformedConfirmation = errors.New("mtlsbound: malformed cnf confirmation")
	// ErrUnsupportedConfirmation means "cnf" names a confirmation method
	// other than x5t#S256 (for example DPoP's jkt). This package cannot
	// check it, so it never accepts such a token.
	ErrUnsupportedConfirmation = errors.New("mtlsbound: unsupported cnf confirmation method")
	// ErrNoBinding means the token has no "cnf" member: it is a plain bearer
	// token, refused unless [Verifier.InsecureAllowUnbound] is set.
	ErrNoBinding = errors.New("mtlsbound: token is not certificate-bound")
	// ErrNoCertificate means the request presented no client certificate
	// (neither on the TLS connection nor through a trusted proxy header).
	ErrNoCertificate = errors.New("mtlsbound: no client certificate")
	// ErrCertificateMismatch means the presented certificate's x5t#S256 is
	// not the one the token is bound to (RFC 8705 §3).
	ErrCertificateMismatch = errors.New("mtlsbound: client certificate does not match the token binding")
	// ErrUntrustedProxy is wrapped together with [ErrNoCertificate] when a
	// client certificate header arrived from an address outside
	// [Verifier.TrustedProxies]: the header was ignored.
	ErrUntrustedProxy = errors.New("mtlsbound: certificate header from an untrusted address ignored")
	// ErrMalformedHeader means a certificate header from a trusted proxy is
	// repeated, too large, badly escaped, not exactly one PEM certificate,
	// or (XFCC) syntactically invalid.
	ErrMalformedHeader = errors.New("mtlsbound: malformed client certificate header")
	// ErrTooLarge is wrapped together with the error of the input that
	// exceeded its size limit.
	ErrTooLarge = errors.New("mtlsbound: input too large")
	// ErrInvalidConfig means a [Verifier] or [Client] is misconfigured. The
	// middleware answers 500 and never calls the next handler.
	ErrInvalidConfig = errors.New("mtlsbound: invalid configuration")
	// ErrInvalidCertificate means a client certificate or key given to
	// [KeyPair], [LoadKeyPair] or [Client] cannot be used.
	ErrInvalidCertificate = errors.New("mtlsbound: invalid client certificate or key")
	// ErrMalformedMetadata means an mtls_endpoint_aliases member is not a
	// JSON object of unique names to absolute https URLs.
	ErrMalformedMetadata = errors.New("mtlsbound: malformed mtls_endpoint_aliases")
)
