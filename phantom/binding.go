package phantom

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// bind enforces the token's sender constraint (RFC 7800 "cnf"): a DPoP
// proof for "jkt"/"jwk" (RFC 9449), the client certificate for
// "x5t#S256" (RFC 8705), both when both are present. "kid" (and "jku"
// with "kid", RFC 7800 §3.4, §3.5) names the key of its neighbour ("jkt"
// or "jwk": the DPoP key; "x5t#S256" alone: the certificate's key) and is
// resolved by that verifier's Keys; alone, it names the key the request
// presents: the DPoP proof key with the DPoP scheme, the client
// certificate's key otherwise. A verifier without Keys refuses it. Any
// other member is refused, as is a DPoP-bound token sent with the Bearer
// scheme and an unbound one sent with the DPoP scheme.
func (g *Gateway) bind(r *http.Request, c *config, scheme, token string, claims json.RawMessage, info *claimsInfo, res *Result) *Error {
	if info.cnfErr != nil {
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "malformed cnf confirmation", ReasonMalformedBinding,
			wrapf(ErrMalformedConfirmation, "%w", info.cnfErr))
	}
	cf := info.cnf
	if len(cf.Other) > 0 {
		return unsupportedBinding("confirmation method not supported")
	}
	byKID := cf.KIDTarget() == cnf.TargetPresented
	keyBound := cf.JKT != "" || cf.JWK != nil || (byKID && scheme == "DPoP")
	certBound := cf.X5TS256 != "" || (byKID && scheme != "DPoP")
	switch {
	case scheme == "Bearer" && keyBound:
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "DPoP-bound token presented as a bearer token", ReasonBearerDowngrade, ErrBearerDowngrade)
	case scheme == "DPoP" && !keyBound:
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "access token is not DPoP-bound", ReasonUnbound,
			wrapf(ErrUnbound, "the DPoP scheme needs a DPoP-bound token"))
	case !keyBound && !certBound:
		if g.InsecureAllowUnbound {
			return nil
		}
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "access token is not sender-constrained", ReasonUnbound, ErrUnbound)
	case keyBound && g.DPoP == nil:
		return unsupportedBinding("DPoP-bound tokens are not accepted here")
	case certBound && g.MTLS == nil:
		return unsupportedBinding("certificate-bound tokens are not accepted here")
	}
	if keyBound {
		dr, err := g.DPoP.Check(r, token, claims)
		if err != nil {
			return dpopError(err)
		}
		res.DPoP = dr
	}
	if certBound {
		mr, err := g.MTLS.Check(r, token, claims)
		if err != nil {
			return mtlsError(err)
		}
		res.MTLS = mr
	}
	return nil
}

func unsupportedBinding(desc string) *Error {
	return refuse(http.StatusUnauthorized, CodeInvalidToken, desc, ReasonUnsupportedBinding, ErrUnsupportedConfirmation)
}

// unknownKey refuses a token whose "cnf" "kid" (alone or with "jku")
// names no usable key: the key cannot be the presented one.
func unknownKey(err error) *Error {
	return refuse(http.StatusUnauthorized, CodeInvalidToken, "unknown confirmation key", ReasonUnknownKey,
		wrapf(ErrBindingMismatch, "%w", err))
}

// dpopError classifies an error of dpop.Verifier.Check.
func dpopError(err error) *Error {
	wrapped := wrapf(ErrBindingMismatch, "%w", err)
	switch {
	case errors.Is(err, dpop.ErrInvalidConfig):
		return refuse(http.StatusInternalServerError, "", "", ReasonConfig, wrapf(ErrInvalidConfig, "Gateway.DPoP: %w", err))
	case errors.Is(err, dpop.ErrReplayStore), errors.Is(err, dpop.ErrKeyUnavailable):
		return refuse(http.StatusServiceUnavailable, "", "", ReasonStoreUnavailable, wrapf(ErrUnavailable, "%w", err))
	case errors.Is(err, dpop.ErrInvalidRequest):
		return refuse(http.StatusBadRequest, CodeInvalidRequest, "malformed request", ReasonInvalidRequest, wrapf(ErrInvalidRequest, "%w", err))
	case errors.Is(err, dpop.ErrUnknownKey):
		return unknownKey(err)
	case errors.Is(err, dpop.ErrUseNonce):
		return refuse(http.StatusUnauthorized, CodeUseDPoPNonce, "a DPoP nonce is required", ReasonUseNonce, wrapped)
	case errors.Is(err, dpop.ErrReplay):
		return refuse(http.StatusUnauthorized, CodeInvalidDPoPProof, "DPoP proof replayed", ReasonReplayedProof, wrapped)
	case errors.Is(err, dpop.ErrInvalidProof):
		return refuse(http.StatusUnauthorized, CodeInvalidDPoPProof, "invalid DPoP proof", ReasonInvalidProof, wrapped)
	case errors.Is(err, dpop.ErrUnsupportedConfirmation):
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "confirmation method not supported", ReasonUnsupportedBinding,
			wrapf(ErrUnsupportedConfirmation, "%w", err))
	case errors.Is(err, dpop.ErrMalformedConfirmation):
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "malformed cnf confirmation", ReasonMalformedBinding,
			wrapf(ErrMalformedConfirmation, "%w", err))
	default:
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "DPoP proof key does not match the token", ReasonBindingMismatch, wrapped)
	}
}

// mtlsError classifies an error of mtlsbound.Verifier.Check.
func mtlsError(err error) *Error {
	wrapped := wrapf(ErrBindingMismatch, "%w", err)
	switch {
	case errors.Is(err, mtlsbound.ErrInvalidConfig):
		return refuse(http.StatusInternalServerError, "", "", ReasonConfig, wrapf(ErrInvalidConfig, "Gateway.MTLS: %w", err))
	case errors.Is(err, mtlsbound.ErrKeyUnavailable):
		return refuse(http.StatusServiceUnavailable, "", "", ReasonStoreUnavailable, wrapf(ErrUnavailable, "%w", err))
	case errors.Is(err, mtlsbound.ErrUnknownKey):
		return unknownKey(err)
	case errors.Is(err, mtlsbound.ErrNoCertificate):
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "client certificate required", ReasonCertificate, wrapped)
	case errors.Is(err, mtlsbound.ErrMalformedHeader):
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "client certificate unreadable", ReasonCertificate, wrapped)
	case errors.Is(err, mtlsbound.ErrUnsupportedConfirmation):
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "confirmation method not supported", ReasonUnsupportedBinding,
			wrapf(ErrUnsupportedConfirmation, "%w", err))
	case errors.Is(err, mtlsbound.ErrMalformedConfirmation):
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "malformed cnf confirmation", ReasonMalformedBinding,
			wrapf(ErrMalformedConfirmation, "%w", err))
	default:
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "client certificate does not match the token", ReasonBindingMismatch, wrapped)
	}
}
