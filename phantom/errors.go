package phantom

import (
	"errors"
	"net/http"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Errors returned by this package. A refused request is an [*Error] that
// wraps exactly one of these sentinels (and, for a sender-constraint
// failure, the dpop or mtlsbound error), so callers branch with
// [errors.Is]. No error text carries a token, a proof, a key or a JWT.
var (
	// ErrInvalidConfig means the [Gateway] or [AuthRequest] is
	// misconfigured; it is returned on first use as a [*ConfigError]. The
	// middleware answers 500 and never calls the next handler.
	ErrInvalidConfig = errors.New("phantom: invalid configuration")

	// ErrNoToken means the request carries no Authorization header with
	// the Bearer or DPoP scheme: 401 with bare challenges (RFC 6750 §3.1).
	ErrNoToken = errors.New("phantom: no access token")
	// ErrInvalidRequest means the request is malformed: several
	// Authorization fields, a scheme without a token, a token that is not
	// a b64token or is longer than [Gateway.MaxTokenBytes], or (at the
	// auth-request endpoint) missing or malformed original-request
	// headers. 400 invalid_request.
	ErrInvalidRequest = errors.New("phantom: malformed request")
	// ErrInvalidToken means the token is active but not acceptable here:
	// a refresh token, another issuer, another audience, not yet valid.
	// 401 invalid_token.
	ErrInvalidToken = errors.New("phantom: access token rejected")
	// ErrInactiveToken means the authorization server reports the token
	// inactive (unknown, revoked, expired) or its "exp" has passed. 401
	// invalid_token.
	ErrInactiveToken = errors.New("phantom: access token is not active")
	// ErrMalformedConfirmation means the token's "cnf" does not parse.
	// 401 invalid_token.
	ErrMalformedConfirmation = errors.New("phantom: malformed cnf confirmation")
	// ErrUnsupportedConfirmation means the token's "cnf" names a method the
	// gateway does not check: an unknown member, "jkt" or "jwk" without
	// [Gateway.DPoP], "x5t#S256" without [Gateway.MTLS], "kid" or "jku"
	// when the verifier that would check it has no Keys resolver
	// (dpop.Verifier.Keys, mtlsbound.Verifier.Keys). 401 invalid_token.
	ErrUnsupportedConfirmation = errors.New("phantom: unsupported cnf confirmation method")
	// ErrUnbound means the token has no "cnf" and
	// [Gateway.InsecureAllowUnbound] is false, or a token that is not
	// DPoP-bound came with the DPoP scheme. 401 invalid_token.
	ErrUnbound = errors.New("phantom: access token is not sender-constrained")
	// ErrBearerDowngrade means a DPoP-bound token came with the Bearer
	// scheme (RFC 9449 §7.2). 401 invalid_token.
	ErrBearerDowngrade = errors.New("phantom: DPoP-bound token presented as a bearer token")
	// ErrBindingMismatch means the sender constraint failed: the DPoP proof
	// or the client certificate does not match the token's "cnf", or is
	// missing or invalid, or the "cnf" "kid" names no usable key
	// (dpop.ErrUnknownKey, mtlsbound.ErrUnknownKey). The dpop or mtlsbound error is wrapped too, so
	// errors.Is(err, dpop.ErrUseNonce) and the like work. 401 with
	// invalid_token, invalid_dpop_proof or use_dpop_nonce.
	ErrBindingMismatch = errors.New("phantom: sender constraint not satisfied")
	// ErrInsufficientScope means the token lacks a scope the route
	// requires. 403 insufficient_scope.
	ErrInsufficientScope = errors.New("phantom: insufficient scope")

	// ErrIntrospection means the authorization server could not be asked
	// or did not answer usably: a network error, the deadline, a status
	// other than 200, another content type, an oversized or malformed
	// body. 503 with Retry-After; never cached.
	ErrIntrospection = errors.New("phantom: introspection failed")
	// ErrInvalidResponse means a signed introspection response (RFC 9701)
	// or access token JWT failed verification: signature, algorithm,
	// "typ", "iss", the response's "aud" or "iat". It points at a
	// misconfiguration or an attack, not at the client. 503 with
	// Retry-After; never cached.
	ErrInvalidResponse = errors.New("phantom: introspection response failed verification")
	// ErrUnavailable means a store the decision needs failed: the DPoP
	// replay store, or the JWK Set a "cnf" "jku" names could not be
	// fetched (dpop.ErrKeyUnavailable, mtlsbound.ErrKeyUnavailable). 503
	// with Retry-After.
	ErrUnavailable = errors.New("phantom: temporarily unavailable")
	// ErrUntrustedProxy means an auth-request came from an address outside
	// [AuthRequest.TrustedProxies]. 403, no challenge.
	ErrUntrustedProxy = errors.New("phantom: auth request from an untrusted address")
)

// ConfigError reports a misconfigured field. It wraps [ErrInvalidConfig].
type ConfigError struct {
	// Field is the Go field path, e.g. "Gateway.ClientID" or
	// "Gateway.DPoP.BaseURL".
	Field string
	// Reason says what is wrong with it. It never holds the field's value.
	Reason string
}

// Error implements error.
func (e *ConfigError) Error() string {
	return ErrInvalidConfig.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// Reason names why a request was refused, for logs and metrics.
type Reason string

// Reasons of refusal.
const (
	// ReasonNoToken: no Authorization header with an accepted scheme.
	ReasonNoToken Reason = "no_token"
	// ReasonInvalidRequest: a malformed Authorization header, path or
	// original request.
	ReasonInvalidRequest Reason = "invalid_request"
	// ReasonInactiveToken: the token is inactive or expired.
	ReasonInactiveToken Reason = "inactive_token"
	// ReasonInvalidToken: an active token refused whatever the request (a
	// refresh token, another issuer, not yet valid).
	ReasonInvalidToken Reason = "invalid_token"
	// ReasonWrongAudience: the token is for another audience.
	ReasonWrongAudience Reason = "wrong_audience"
	// ReasonUnbound: a token without "cnf" where one is required, or a
	// token that is not DPoP-bound sent with the DPoP scheme.
	ReasonUnbound Reason = "unbound_token"
	// ReasonBearerDowngrade: a DPoP-bound token sent as Bearer.
	ReasonBearerDowngrade Reason = "bearer_downgrade"
	// ReasonUnsupportedBinding: a "cnf" method the gateway does not check.
	ReasonUnsupportedBinding Reason = "unsupported_binding"
	// ReasonMalformedBinding: a "cnf" that does not parse.
	ReasonMalformedBinding Reason = "malformed_binding"
	// ReasonInvalidProof: a missing or invalid DPoP proof.
	ReasonInvalidProof Reason = "invalid_dpop_proof"
	// ReasonReplayedProof: a DPoP proof used before.
	ReasonReplayedProof Reason = "replayed_dpop_proof"
	// ReasonUseNonce: a DPoP proof without the server's current nonce.
	ReasonUseNonce Reason = "use_dpop_nonce"
	// ReasonBindingMismatch: the proof key or the certificate is not the
	// bound one.
	ReasonBindingMismatch Reason = "binding_mismatch"
	// ReasonUnknownKey: the "cnf" "kid" (alone or with "jku") names no
	// usable key.
	ReasonUnknownKey Reason = "unknown_confirmation_key"
	// ReasonCertificate: no usable client certificate for a
	// certificate-bound token.
	ReasonCertificate Reason = "client_certificate"
	// ReasonInsufficientScope: the route needs a scope the token lacks.
	ReasonInsufficientScope Reason = "insufficient_scope"
	// ReasonIntrospectionFailed: the authorization server could not be
	// used.
	ReasonIntrospectionFailed Reason = "introspection_failed"
	// ReasonInvalidResponse: the server's JWT failed verification.
	ReasonInvalidResponse Reason = "invalid_introspection_response"
	// ReasonStoreUnavailable: the DPoP replay store (or a confirmation key
	// set) is unavailable.
	ReasonStoreUnavailable Reason = "store_unavailable"
	// ReasonUntrustedProxy: an auth request from an untrusted address.
	ReasonUntrustedProxy Reason = "untrusted_proxy"
	// ReasonConfig: the gateway is misconfigured.
	ReasonConfig Reason = "invalid_config"
)

// OAuth error codes sent in challenges (RFC 6750 §3.1, RFC 9449 §7.1).
const (
	// CodeInvalidRequest is RFC 6750's invalid_request.
	CodeInvalidRequest = "invalid_request"
	// CodeInvalidToken is RFC 6750's invalid_token.
	CodeInvalidToken = "invalid_token"
	// CodeInsufficientScope is RFC 6750's insufficient_scope.
	CodeInsufficientScope = "insufficient_scope"
	// CodeInvalidDPoPProof is RFC 9449's invalid_dpop_proof.
	CodeInvalidDPoPProof = "invalid_dpop_proof"
	// CodeUseDPoPNonce is RFC 9449's use_dpop_nonce.
	CodeUseDPoPNonce = "use_dpop_nonce"
)

// Error is a refused request: what the client is told (status, OAuth
// error code, fixed description) and why (Reason, and the wrapped
// sentinel and cause). It unwraps to the sentinel, the cause and an
// OAuth error value that the root package's hardened.Error catches with
// errors.As.
type Error struct {
	// Status is the HTTP status sent: 400, 401, 403, 500 or 503.
	Status int
	// Code is the OAuth error code of the challenge ("invalid_token",
	// "insufficient_scope", "invalid_dpop_proof", "use_dpop_nonce",
	// "invalid_request"); empty for a bare challenge (no token) and for
	// 403/500/503 answers without a challenge.
	Code string
	// Description is a fixed, short error_description; it never holds
	// request material.
	Description string
	// URI is the error_uri; always empty today.
	URI string
	// Scope lists the scopes the route requires, for insufficient_scope.
	Scope string
	// Reason names the refusal for logs and metrics.
	Reason Reason
	// Scheme is the authentication scheme of the request ("Bearer" or
	// "DPoP"), empty when none was read.
	Scheme string

	err   error           // sentinel, with the cause wrapped inside
	oauth *oautherr.Error // the same refusal as an OAuth error
}

// Error implements error.
func (e *Error) Error() string {
	if e == nil || e.err == nil {
		return "phantom: request refused"
	}
	return e.err.Error()
}

// Unwrap returns the sentinel (wrapping the cause) and the OAuth error.
func (e *Error) Unwrap() []error {
	if e == nil {
		return nil
	}
	out := make([]error, 0, 2)
	if e.err != nil {
		out = append(out, e.err)
	}
	if e.oauth != nil {
		out = append(out, e.oauth)
	}
	return out
}

// refuse builds an *Error. err must wrap one of the sentinels.
func refuse(status int, code, desc string, reason Reason, err error) *Error {
	e := &Error{Status: status, Code: code, Description: desc, Reason: reason, err: err}
	oc := code
	switch {
	case oc != "":
	case status == http.StatusServiceUnavailable:
		oc = "temporarily_unavailable"
	case status >= 500:
		oc = "server_error"
	case status == http.StatusForbidden:
		oc = "access_denied"
	}
	e.oauth = &oautherr.Error{Code: oc, Description: desc, Status: status}
	return e
}
