package authserver

import (
	"errors"
	"net/http"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

var (
	// ErrConfig reports an invalid [Config] or [Client] given to [New],
	// [Start] or [StartTLS].
	ErrConfig = errors.New("authserver: invalid configuration")
	// ErrStart reports a failure to listen or to generate the server's keys
	// and certificates.
	ErrStart = errors.New("authserver: cannot start")
	// ErrAuthorize reports an authorization request that [Server.Authorize]
	// could not follow to a callback. When the server answered with an OAuth
	// error body, an *oautherr.Error is wrapped too.
	ErrAuthorize = errors.New("authserver: authorization did not reach the redirect URI")
)

// OAuth error codes used by the server (RFC 6749 §4.1.2.1 and §5.2,
// RFC 9101 §6.3, RFC 9449 §7.1 and §8, RFC 6750 §3.1, RFC 8707 §2,
// RFC 9396 §5, RFC 7009 §2.2.1).
const (
	codeInvalidRequest       = "invalid_request"
	codeInvalidClient        = "invalid_client"
	codeInvalidGrant         = "invalid_grant"
	codeUnauthorizedClient   = "unauthorized_client"
	codeUnsupportedGrantType = "unsupported_grant_type"
	codeUnsupportedRespType  = "unsupported_response_type"
	codeInvalidScope         = "invalid_scope"
	codeInvalidRequestObject = "invalid_request_object"
	codeInvalidRequestURI    = "invalid_request_uri"
	codeInvalidDPoPProof     = "invalid_dpop_proof"
	codeUseDPoPNonce         = "use_dpop_nonce"
	codeInvalidToken         = "invalid_token"
	codeAccessDenied         = "access_denied"
	codeInvalidTarget        = "invalid_target"
	codeInvalidDetails       = "invalid_authorization_details"
	codeUnsupportedTokenType = "unsupported_token_type"
)

// oerr builds an OAuth error with a fixed, secret-free description.
func oerr(code string, status int, desc string) *oautherr.Error {
	return &oautherr.Error{Code: code, Description: desc, Status: status}
}

func badRequest(code, desc string) *oautherr.Error {
	return oerr(code, http.StatusBadRequest, desc)
}

func invalidRequest(desc string) *oautherr.Error { return badRequest(codeInvalidRequest, desc) }

func invalidClient(desc string) *oautherr.Error {
	return oerr(codeInvalidClient, http.StatusUnauthorized, desc)
}

func invalidGrant(desc string) *oautherr.Error { return badRequest(codeInvalidGrant, desc) }
