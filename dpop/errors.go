package dpop

import (
	"errors"
	"strings"
)

// Errors returned by this package. A failed proof check returns a
// [*ProofError] that wraps [ErrInvalidProof] (or [ErrUseNonce] for nonce
// failures) and exactly one of the specific sentinels below, so callers
// branch with [errors.Is] on either level. No error text carries a proof,
// a token, a nonce, a key or a header value.
var (
	// ErrInvalidProof is wrapped by every failure that makes a proof
	// invalid (RFC 9449 §4.3); the OAuth error code is
	// "invalid_dpop_proof".
	ErrInvalidProof = errors.New("dpop: invalid proof")
	// ErrUseNonce is wrapped by nonce failures ([ErrNonceMissing],
	// [ErrNonceInvalid]); the OAuth error code is "use_dpop_nonce" and the
	// response carries a fresh DPoP-Nonce (RFC 9449 §8 and §9).
	ErrUseNonce = errors.New("dpop: use the server-provided nonce")

	// ErrNoProof: the request carries no DPoP header.
	ErrNoProof = errors.New("dpop: no DPoP proof")
	// ErrMultipleProofs: the request carries more than one DPoP header
	// (RFC 9449 §4.3 check 1).
	ErrMultipleProofs = errors.New("dpop: more than one DPoP header")
	// ErrProofTooLarge: the DPoP header exceeds [Verifier.MaxProofBytes].
	ErrProofTooLarge = errors.New("dpop: proof too large")
	// ErrMalformedProof: the DPoP header is not a single well-formed JWT
	// in compact JWS form (a JWE, bad base64url or JSON, a duplicate
	// member, a "crit" header) or lacks a required claim (RFC 9449 §4.3
	// checks 2 and 3).
	ErrMalformedProof = errors.New("dpop: malformed proof")
	// ErrProofType: the "typ" header is not "dpop+jwt" (check 4).
	ErrProofType = errors.New("dpop: proof typ is not dpop+jwt")
	// ErrProofAlgorithm: the "alg" header is not in the allow-list; "none"
	// and symmetric algorithms never are (check 5).
	ErrProofAlgorithm = errors.New("dpop: proof algorithm not allowed")
	// ErrProofKey: the "jwk" header is missing, holds private key members,
	// or is not a supported public key matching "alg" (check 7).
	ErrProofKey = errors.New("dpop: unusable proof key")
	// ErrProofSignature: the signature does not verify with the "jwk"
	// header's key (check 6).
	ErrProofSignature = errors.New("dpop: invalid proof signature")
	// ErrProofMethod: "htm" is not the request's method (check 8).
	ErrProofMethod = errors.New("dpop: htm does not match the request method")
	// ErrProofURI: "htu" is not the request's URI, compared without query
	// and fragment after RFC 3986 §6.2.2/§6.2.3 normalization (check 9).
	ErrProofURI = errors.New("dpop: htu does not match the request URI")
	// ErrProofExpired: "iat" is older than the accepted window (check 11).
	ErrProofExpired = errors.New("dpop: proof too old")
	// ErrProofNotYetValid: "iat" lies in the future beyond the allowed
	// clock skew (check 11).
	ErrProofNotYetValid = errors.New("dpop: proof issued in the future")
	// ErrProofReplayed: the proof's "jti" was already used with the same
	// key within the window (RFC 9449 §11.1).
	ErrProofReplayed = errors.New("dpop: proof replayed")
	// ErrNonceMissing: the server requires a nonce and the proof has none
	// (check 10). Wrapped together with [ErrUseNonce].
	ErrNonceMissing = errors.New("dpop: nonce required")
	// ErrNonceInvalid: the proof's nonce was not issued by this server or
	// has expired (check 10). Wrapped together with [ErrUseNonce].
	ErrNonceInvalid = errors.New("dpop: invalid or expired nonce")
	// ErrAccessTokenHash: "ath" is missing or is not the hash of the
	// presented access token (check 12).
	ErrAccessTokenHash = errors.New("dpop: ath does not match the access token")

	// ErrKeyBinding: the proof's key is not the key the access token is
	// bound to (RFC 9449 §6 and §7.1 check 12). Its OAuth error code is
	// "invalid_token".
	ErrKeyBinding = errors.New("dpop: proof key does not match the token binding")
	// ErrNoBinding: the access token has no "cnf" confirmation, so it is not
	// DPoP-bound and cannot be used with the DPoP scheme.
	ErrNoBinding = errors.New("dpop: access token is not DPoP-bound")
	// ErrUnsupportedConfirmation: "cnf" names a confirmation method this
	// package cannot check (x5t#S256, jwe, jku, kid, ...), alone or beside
	// jkt/jwk. Such a token is refused, never half-checked.
	ErrUnsupportedConfirmation = errors.New("dpop: unsupported cnf confirmation method")
	// ErrMalformedConfirmation: "cnf" is not a JSON object of unique
	// members, or its jkt is not a canonical SHA-256 thumbprint, or its jwk
	// is not a public key.
	ErrMalformedConfirmation = errors.New("dpop: malformed cnf confirmation")
	// ErrMalformedClaims: the access token claims returned by
	// [Verifier.Token] are not one JSON object with unique member names.
	ErrMalformedClaims = errors.New("dpop: malformed access token claims")
	// ErrInactiveToken: the claims carry an RFC 7662 "active" member that
	// is not true.
	ErrInactiveToken = errors.New("dpop: access token is not active")
	// ErrInvalidToken wraps an error returned by [Verifier.Token].
	ErrInvalidToken = errors.New("dpop: access token rejected")
	// ErrBearerDowngrade: a DPoP-bound access token was presented with the
	// Bearer scheme (RFC 9449 §7.2).
	ErrBearerDowngrade = errors.New("dpop: DPoP-bound token presented as a bearer token")
	// ErrNoToken: the request has no Authorization header with the DPoP
	// scheme (nor Bearer, when [Verifier.InsecureAllowBearer] is set).
	ErrNoToken = errors.New("dpop: no DPoP access token")
	// ErrInvalidRequest: the Authorization header is malformed: repeated,
	// a scheme without a token, or a token that is not a token68.
	ErrInvalidRequest = errors.New("dpop: malformed authorization header")

	// ErrReplayStore: the replay store failed; the proof is refused (fail
	// closed). The middleware answers 503.
	ErrReplayStore = errors.New("dpop: replay store unavailable")
	// ErrStoreFull: the in-memory replay store holds MaxEntries unexpired
	// entries and refuses new ones (fail closed). Wrapped with
	// [ErrReplayStore].
	ErrStoreFull = errors.New("dpop: replay store full")
	// ErrInvalidConfig: a [Verifier], [Nonces], [Proofer] or [Transport] is
	// misconfigured. The middleware answers 500 and never calls the next
	// handler.
	ErrInvalidConfig = errors.New("dpop: invalid configuration")
	// ErrUnsupportedKey: a key given to [NewProofer] or to the key
	// persistence functions has an unsupported type, curve or size, or
	// cannot be exported.
	ErrUnsupportedKey = errors.New("dpop: unsupported key")
	// ErrMalformedKey: a PEM or JWK private key does not parse or its
	// members are inconsistent.
	ErrMalformedKey = errors.New("dpop: malformed private key")
)

// OAuth error codes used by DPoP (RFC 9449 §12.2 and RFC 6750 §3.1).
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

// ProofError is the error returned for a rejected proof or token binding.
// It carries the OAuth error code to send and a fixed description that
// never contains request material. It unwraps to the class sentinel
// ([ErrInvalidProof], [ErrUseNonce], or none for binding errors), the
// specific sentinel (e.g. [ErrProofURI]) and the underlying cause, if any.
type ProofError struct {
	// Code is the OAuth error code: [CodeInvalidProof], [CodeUseNonce] or
	// [CodeInvalidToken].
	Code string
	// Description is a short fixed text for error_description.
	Description string

	class, kind, cause error
}

// Error implements error.
func (e *ProofError) Error() string {
	var b strings.Builder
	b.WriteString(e.kind.Error())
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// Unwrap returns the sentinels and the cause the error wraps.
func (e *ProofError) Unwrap() []error {
	out := make([]error, 0, 3)
	for _, x := range []error{e.class, e.kind, e.cause} {
		if x != nil {
			out = append(out, x)
		}
	}
	return out
}

// invalid returns an invalid_dpop_proof error.
func invalid(kind error, desc string) *ProofError {
	return &ProofError{Code: CodeInvalidProof, Description: desc, class: ErrInvalidProof, kind: kind}
}

// invalidCause is invalid with an underlying cause (never one carrying
// request material).
func invalidCause(kind error, desc string, cause error) *ProofError {
	e := invalid(kind, desc)
	e.cause = cause
	return e
}

func useNonce(kind error, desc string) *ProofError {
	return &ProofError{Code: CodeUseNonce, Description: desc, class: ErrUseNonce, kind: kind}
}

func badToken(kind error, desc string) *ProofError {
	return &ProofError{Code: CodeInvalidToken, Description: desc, kind: kind}
}
