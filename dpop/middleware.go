package dpop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Result is what [Verifier.Wrap] passes to the next handler.
type Result struct {
	// Proof is the verified proof; nil only for an unbound Bearer token
	// admitted by InsecureAllowBearer.
	Proof *Proof
	// Claims are the access token claims returned by [Verifier.Token],
	// unmodified.
	Claims json.RawMessage
	// Confirmation is the token's parsed "cnf".
	Confirmation Confirmation
}

type ctxKey struct{}

// FromContext returns the result stored by [Verifier.Wrap] in a request's
// context.
func FromContext(ctx context.Context) (*Result, bool) {
	r, ok := ctx.Value(ctxKey{}).(*Result)
	return r, ok && r != nil
}

// NewContext returns a copy of ctx carrying res, as [Verifier.Wrap] does.
func NewContext(ctx context.Context, res *Result) context.Context {
	return context.WithValue(ctx, ctxKey{}, res)
}

// Wrap returns middleware for a resource server that receives DPoP-bound
// access tokens (RFC 9449 §7,
// https://datatracker.ietf.org/doc/html/rfc9449#section-7). Each request is
// checked by [Verifier.Authenticate]; on success next is called with a
// shallow copy of the request whose context carries the [Result] (read it
// with [FromContext]), and, with Nonces set, the response carries the next
// nonce when the presented one is close to its end.
//
// On failure next is never called. Responses carry Cache-Control: no-store,
// a DPoP challenge with "algs" (RFC 9449 §7.1), a fresh DPoP-Nonce when
// Nonces is set, and no body:
//
//   - 401 with a bare challenge when no DPoP token was sent;
//   - 400 invalid_request for a malformed or repeated Authorization header;
//   - 401 invalid_dpop_proof for a bad proof, use_dpop_nonce for a missing
//     or stale nonce, invalid_token for a rejected or unbound token, a
//     key binding mismatch or a Bearer downgrade;
//   - 503 when the replay store fails, 500 for a misconfiguration.
func (v *Verifier) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Authenticate(r)
		if err != nil {
			v.fail(w, r, err)
			return
		}
		if res.Proof != nil {
			v.AdvanceNonce(w.Header(), res.Proof)
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), res)))
	})
}

// Authenticate checks a resource request: exactly one Authorization header
// with the DPoP scheme (matched case-insensitively) and a token68 token,
// the token verified by [Verifier.Token], its "cnf" read by
// [ConfirmationFromClaims] and required to be bound, then the proof by
// [Verifier.Verify] with that token and confirmation. With
// InsecureAllowBearer an unbound token sent with the Bearer scheme is
// accepted without a proof; a bound one is refused with
// [ErrBearerDowngrade]. r is not modified.
func (v *Verifier) Authenticate(r *http.Request) (*Result, error) {
	if err := v.init(); err != nil {
		return nil, err
	}
	if v.Token == nil {
		return nil, fmt.Errorf("%w: Verifier.Token is required", ErrInvalidConfig)
	}
	scheme, tok, err := authorization(r)
	if err != nil {
		return nil, err
	}
	bearer := scheme == "Bearer"
	if bearer && !v.InsecureAllowBearer {
		return nil, fmt.Errorf("%w: the Bearer scheme is not accepted", ErrNoToken)
	}
	claims, err := v.Token(r.Context(), tok)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	cnf, err := ConfirmationFromClaims(claims)
	if err != nil {
		return nil, err
	}
	if bearer {
		if cnf.Bound() {
			return nil, badToken(ErrBearerDowngrade, "DPoP-bound token presented as a bearer token")
		}
		return &Result{Claims: claims}, nil
	}
	if !cnf.Bound() {
		return nil, badToken(ErrNoBinding, "access token is not DPoP-bound")
	}
	p, err := v.Verify(r, &Binding{AccessToken: tok, Confirmation: cnf})
	if err != nil {
		return nil, err
	}
	return &Result{Proof: p, Claims: claims, Confirmation: cnf}, nil
}

// authorization returns the scheme ("DPoP" or "Bearer") and token of r's
// only Authorization header, parsed by httpx.Authorization.
func authorization(r *http.Request) (scheme, token string, err error) {
	scheme, token, err = httpx.Authorization(r.Header, "DPoP", "Bearer")
	switch {
	case errors.Is(err, httpx.ErrNoCredentials):
		return "", "", fmt.Errorf("%w: %w", ErrNoToken, err)
	case err != nil:
		return "", "", fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return scheme, token, nil
}

// AdvanceNonce sets DPoP-Nonce on a successful response when Nonces is set
// and the nonce of p has less than Nonces.RefreshBefore left (RFC 9449
// §8.2), so the client moves to the next nonce before this one expires.
// [Verifier.Wrap] calls it; an authorization server calls it on its token
// responses.
func (v *Verifier) AdvanceNonce(h http.Header, p *Proof) {
	if v.Nonces == nil || p == nil || p.Nonce == "" {
		return
	}
	rb := v.Nonces.refreshBefore()
	if rb < 0 || p.nonceLeft >= rb {
		return
	}
	if n, err := v.Nonces.New(); err == nil && n != p.Nonce {
		h.Set("DPoP-Nonce", n)
	}
}

// setNonce sets a fresh DPoP-Nonce when nonces are on.
func (v *Verifier) setNonce(h http.Header) {
	if v.Nonces == nil {
		return
	}
	if n, err := v.Nonces.New(); err == nil {
		h.Set("DPoP-Nonce", n)
	}
}

// Challenge returns the WWW-Authenticate value a resource server sends for
// err (RFC 9449 §7.1): the DPoP scheme with the error code and
// description of a [*ProofError] (or invalid_token / invalid_request for
// this package's token errors), and "algs". A nil err, or [ErrNoToken],
// gives a bare challenge with "algs" only.
func (v *Verifier) Challenge(err error) string {
	code, desc := classify(err)
	return v.challenge(code, desc).String()
}

func (v *Verifier) challenge(code, desc string) oautherr.Challenge {
	ch := oautherr.Challenge{Scheme: "DPoP"}
	if v.Realm != "" {
		ch.Params = append(ch.Params, oautherr.Param{Name: "realm", Value: v.Realm})
	}
	if code != "" {
		ch.Params = append(ch.Params, oautherr.Param{Name: "error", Value: code})
		if desc != "" {
			ch.Params = append(ch.Params, oautherr.Param{Name: "error_description", Value: desc})
		}
	}
	if algs := v.Algs(); algs != "" {
		ch.Params = append(ch.Params, oautherr.Param{Name: "algs", Value: algs})
	}
	return ch
}

// classify maps an error to an OAuth error code and a fixed description.
func classify(err error) (code, desc string) {
	var pe *ProofError
	switch {
	case err == nil, errors.Is(err, ErrNoToken):
		return "", ""
	case errors.As(err, &pe):
		return pe.Code, pe.Description
	case errors.Is(err, ErrInvalidRequest):
		return CodeInvalidRequest, "malformed Authorization header"
	case errors.Is(err, ErrInactiveToken):
		return CodeInvalidToken, "access token is not active"
	case errors.Is(err, ErrUnsupportedConfirmation), errors.Is(err, ErrMalformedConfirmation):
		return CodeInvalidToken, "unsupported token binding"
	}
	return CodeInvalidToken, "invalid access token"
}

// fail writes the rejection for err.
func (v *Verifier) fail(w http.ResponseWriter, r *http.Request, err error) {
	if v.OnError != nil {
		v.OnError(r, err)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	switch {
	case errors.Is(err, ErrInvalidConfig):
		w.WriteHeader(http.StatusInternalServerError)
		return
	case errors.Is(err, ErrReplayStore):
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	v.setNonce(h)
	code, desc := classify(err)
	status := http.StatusUnauthorized
	if code == CodeInvalidRequest {
		status = http.StatusBadRequest
	}
	scheme, _, _ := strings.Cut(firstValue(r.Header["Authorization"]), " ")
	if v.InsecureAllowBearer {
		bearer := oautherr.Challenge{Scheme: "Bearer"}
		if v.Realm != "" {
			bearer.Params = append(bearer.Params, oautherr.Param{Name: "realm", Value: v.Realm})
		}
		if strings.EqualFold(scheme, "Bearer") && code != "" {
			bearer.Params = append(bearer.Params, oautherr.Param{Name: "error", Value: code}, oautherr.Param{Name: "error_description", Value: desc})
			code = ""
		}
		h.Add("WWW-Authenticate", bearer.String())
	}
	h.Add("WWW-Authenticate", v.challenge(code, desc).String())
	w.WriteHeader(status)
}

func firstValue(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	return vals[0]
}

// WriteTokenError writes the response of an authorization server's token
// (or PAR) endpoint for a proof error returned by [Verifier.Verify]
// (RFC 9449 §5 and §8): 400 with a JSON body {"error": "invalid_dpop_proof"}
// or {"error": "use_dpop_nonce"}, Cache-Control: no-store and, when Nonces
// is set, a fresh DPoP-Nonce. A replay store failure gives 503 and a
// misconfiguration 500, both with error "server_error".
func (v *Verifier) WriteTokenError(w http.ResponseWriter, err error) {
	var pe *ProofError
	e := &oautherr.Error{Code: "server_error", Status: http.StatusInternalServerError}
	switch {
	case errors.As(err, &pe):
		e = &oautherr.Error{Code: pe.Code, Description: pe.Description, Status: http.StatusBadRequest}
		if pe.Code != CodeUseNonce {
			e.Code = CodeInvalidProof
		}
	case errors.Is(err, ErrReplayStore):
		e.Status = http.StatusServiceUnavailable
	}
	v.setNonce(w.Header())
	oautherr.Write(w, e)
}
