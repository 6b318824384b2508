package dpop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Result is what [Verifier.Verify] and [Verifier.Check] return, and what
// [Verifier.Wrap] passes to the next handler.
type Result struct {
	// Claims are the access token claims returned by [Verifier.Token] (or
	// given to [Verifier.Check]), unmodified.
	Claims json.RawMessage
	// Confirmation is the token's parsed "cnf" (zero when unbound).
	Confirmation Confirmation
	// Bound reports whether the token is sender-constrained: it carries a
	// "cnf" whose every method was checked, here ("jkt", "jwk", "kid",
	// "jku") or by the verifiers of [Verifier.CheckedElsewhere]. False only for an unbound
	// token admitted by InsecureAllowUnbound.
	Bound bool
	// Proof is the verified proof; nil when the token is not DPoP-bound
	// (an unbound token admitted by InsecureAllowUnbound, or a token bound
	// only by methods of [Verifier.CheckedElsewhere]).
	Proof *Proof
}

type ctxKey struct{}

// FromContext returns the result stored by [Verifier.Wrap] (or
// [NewContext]) in a request's context.
func FromContext(ctx context.Context) (*Result, bool) {
	r, ok := ctx.Value(ctxKey{}).(*Result)
	return r, ok && r != nil
}

// NewContext returns a copy of ctx carrying res, as [Verifier.Wrap] does,
// for other middleware (a gateway, tests) that hands a result to handlers
// reading it with [FromContext].
func NewContext(ctx context.Context, res *Result) context.Context {
	return context.WithValue(ctx, ctxKey{}, res)
}

// Wrap returns middleware for a resource server that receives DPoP-bound
// access tokens (RFC 9449 §7,
// https://datatracker.ietf.org/doc/html/rfc9449#section-7). Each request is
// checked by [Verifier.Verify]; on success next is called with a shallow
// copy of the request whose context carries the [Result] (read it with
// [FromContext]), and, with Nonces set, the response carries the next
// nonce when the presented one is close to its end.
//
// On failure next is never called: OnError is called, then the response
// is written by [Verifier.WriteError].
func (v *Verifier) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		if err != nil {
			if v.OnError != nil {
				v.OnError(r, err)
			}
			v.WriteError(w, r, err)
			return
		}
		v.AdvanceNonce(w.Header(), res.Proof)
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), res)))
	})
}

// Verify checks a whole resource request: exactly one Authorization header
// with the DPoP scheme (or Bearer, when a token sent that way can be
// admitted: see [ErrNoToken]), matched case-insensitively, with a b64token
// (never the query or the body); the token verified by [Verifier.Token];
// then the binding, as [Verifier.Check] does. r is not modified.
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	if err := v.init(); err != nil {
		return nil, err
	}
	if v.Token == nil {
		return nil, configError("Verifier.Token", "required by Verify and Wrap")
	}
	schemes := []string{"DPoP"}
	if v.InsecureAllowUnbound || v.x5t {
		schemes = append(schemes, "Bearer")
	}
	scheme, tok, err := httpx.Authorization(r.Header, schemes...)
	switch {
	case errors.Is(err, httpx.ErrNoCredentials):
		return nil, fmt.Errorf("%w: %w", ErrNoToken, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	claims, err := v.Token(r.Context(), tok)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return v.check(r, scheme, tok, claims)
}

// Check checks the binding of a token whose claims the caller already
// verified (a JWT access token's payload, or an RFC 7662 introspection
// response): a gateway's verb. The claims' "cnf" is read by
// [ConfirmationFromClaims] ("active" must not be false), then:
//
//   - "x5t#S256" not listed in CheckedElsewhere, "kid" or "jku" without
//     Keys (unless they ride with "x5t#S256" alone, which names the
//     certificate's key) or any unregistered member fails with
//     [ErrUnsupportedConfirmation];
//   - with Keys, "kid" (alone, with "jku", or beside "jkt"/"jwk") is
//     resolved to a key, which "jkt" and "jwk" must name too
//     ([ErrUnknownKey]; [ErrKeyUnavailable] when its set cannot be
//     fetched);
//   - a token bound by "jkt", "jwk" or a resolved "kid" needs the
//     request's proof, checked as [Verifier.VerifyProof] does, with "ath"
//     the hash of token, and a key of the resolved key's type and
//     thumbprint, whose thumbprint equals "jkt" and that of "jwk"
//     ([ErrBindingMismatch]); sent with the Bearer scheme it is refused
//     ([ErrInvalidToken], RFC 9449 §7.2);
//   - a token that is not DPoP-bound is refused with the DPoP scheme
//     ([ErrUnbound] without "cnf", [ErrInvalidToken] otherwise); without
//     "cnf" it is refused with any scheme unless InsecureAllowUnbound
//     ([ErrUnbound]); bound only by CheckedElsewhere methods, it passes
//     without a proof.
//
// The scheme is read from r's Authorization header when it holds one;
// the token itself is taken from the argument. Check does not call
// [Verifier.Token]. r is not modified.
func (v *Verifier) Check(r *http.Request, token string, claims json.RawMessage) (*Result, error) {
	if err := v.init(); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("%w: empty token", ErrNoToken)
	}
	scheme := ""
	if vals := r.Header["Authorization"]; len(vals) == 1 {
		s, _, _ := strings.Cut(vals[0], " ")
		switch {
		case strings.EqualFold(s, "DPoP"):
			scheme = "DPoP"
		case strings.EqualFold(s, "Bearer"):
			scheme = "Bearer"
		}
	}
	return v.check(r, scheme, token, claims)
}

func (v *Verifier) check(r *http.Request, scheme, token string, claims json.RawMessage) (*Result, error) {
	c, err := ConfirmationFromClaims(claims)
	if err != nil {
		return nil, err
	}
	if err := v.supported(c); err != nil {
		return nil, err
	}
	res := &Result{Claims: claims, Confirmation: c, Bound: c.Bound()}
	target := cnf.Confirmation(c).KIDTarget()
	switch {
	case c.keyBound() || target == cnf.TargetPresented:
		if scheme == "Bearer" {
			return nil, badToken(ErrInvalidToken, errDowngrade, "DPoP-bound token presented as a bearer token")
		}
		b := &binding{token: token, cnf: c}
		if target == cnf.TargetDPoP || target == cnf.TargetPresented {
			if b.key, b.keyJKT, err = v.resolve(r.Context(), c, claims); err != nil {
				return nil, err
			}
		}
		p, err := v.verifyRequest(r, b)
		if err != nil {
			return nil, err
		}
		res.Proof = p
	case scheme == "DPoP" && !c.Bound():
		return nil, badToken(ErrUnbound, errNotDPoPBound, "access token is not DPoP-bound")
	case scheme == "DPoP":
		return nil, badToken(ErrInvalidToken, errNotDPoPBound, "access token is not DPoP-bound")
	case !c.Bound() && !v.InsecureAllowUnbound:
		return nil, badToken(ErrUnbound, nil, "access token is not sender-constrained")
	}
	return res, nil
}

// supported refuses the confirmation methods nobody checks for this
// request.
func (v *Verifier) supported(c Confirmation) error {
	switch {
	case len(c.Other) > 0:
		return fmt.Errorf("%w: unregistered member %q", ErrUnsupportedConfirmation, truncate(c.Other[0], 32))
	case c.X5TS256 != "" && !v.x5t:
		return fmt.Errorf("%w: x5t#S256 is not in CheckedElsewhere", ErrUnsupportedConfirmation)
	case v.Keys == nil && cnf.Confirmation(c).KIDTarget() != cnf.TargetNone && cnf.Confirmation(c).KIDTarget() != cnf.TargetCertificate:
		return fmt.Errorf("%w: kid and jku need Verifier.Keys", ErrUnsupportedConfirmation)
	}
	return nil
}

// AdvanceNonce sets DPoP-Nonce on a successful response when Nonces is set
// and the nonce of p has less than Nonces.RefreshBefore left (RFC 9449
// §8.2), so the client moves to the next nonce before this one expires. A
// nil p does nothing. [Verifier.Wrap] calls it; an authorization server
// calls it on its token responses, a gateway on the responses it forwards.
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

// challenge is the DPoP challenge (RFC 9449 §7.1) with the error code and
// description, when set, and "algs".
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
	var e *Error
	switch {
	case err == nil, errors.Is(err, ErrNoToken):
		return "", ""
	case errors.As(err, &e):
		return e.Code, e.Description
	case errors.Is(err, ErrInvalidRequest):
		return CodeInvalidRequest, "malformed request"
	case errors.Is(err, ErrInactiveToken):
		return CodeInvalidToken, "access token is not active"
	case errors.Is(err, ErrUnsupportedConfirmation), errors.Is(err, ErrMalformedConfirmation):
		return CodeInvalidToken, "unsupported token binding"
	}
	return CodeInvalidToken, "invalid access token"
}

// WriteError writes a resource server's refusal of a request for err, an
// error of [Verifier.Verify] or [Verifier.Check] (any other error is
// answered as an invalid token): it is what [Verifier.Wrap] sends, for a
// gateway that calls Check itself. The response has Cache-Control:
// no-store and no body:
//
//   - 401 with a bare DPoP challenge (with "algs") for [ErrNoToken];
//   - 400 invalid_request for [ErrInvalidRequest];
//   - 401 invalid_dpop_proof for a bad proof, use_dpop_nonce for a
//     missing or stale nonce, invalid_token for everything else;
//   - 503 for [ErrReplayStore] and [ErrKeyUnavailable], 500 for
//     [ErrInvalidConfig], without a challenge.
//
// With Nonces set, 400 and 401 responses carry a fresh DPoP-Nonce. With
// InsecureAllowUnbound, a Bearer challenge comes first, carrying the error
// when the request used the Bearer scheme. WriteError does not call
// OnError.
func (v *Verifier) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	switch {
	case errors.Is(err, ErrInvalidConfig):
		w.WriteHeader(http.StatusInternalServerError)
		return
	case errors.Is(err, ErrReplayStore), errors.Is(err, ErrKeyUnavailable):
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	v.setNonce(h)
	code, desc := classify(err)
	status := http.StatusUnauthorized
	if code == CodeInvalidRequest {
		status = http.StatusBadRequest
	}
	if v.InsecureAllowUnbound || v.x5t {
		bearer := oautherr.Challenge{Scheme: "Bearer"}
		if v.Realm != "" {
			bearer.Params = append(bearer.Params, oautherr.Param{Name: "realm", Value: v.Realm})
		}
		scheme, _, _ := strings.Cut(firstValue(r.Header["Authorization"]), " ")
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
// (or PAR) endpoint for an error of [Verifier.VerifyProof] (RFC 9449 §5 and
// §8): 400 with a JSON body {"error": "invalid_dpop_proof"} or {"error":
// "use_dpop_nonce"}, Cache-Control: no-store and, when Nonces is set, a
// fresh DPoP-Nonce. A replay store failure gives 503 and a
// misconfiguration 500, both with error "server_error".
func (v *Verifier) WriteTokenError(w http.ResponseWriter, err error) {
	var pe *Error
	e := &oautherr.Error{Code: "server_error", Status: http.StatusInternalServerError}
	switch {
	case errors.As(err, &pe):
		e = &oautherr.Error{Code: pe.Code, Description: pe.Description, Status: http.StatusBadRequest}
		if pe.Code != CodeUseNonce {
			e.Code = CodeInvalidProof
		}
	case errors.Is(err, ErrReplayStore):
		e.Status = http.StatusServiceUnavailable
	case errors.Is(err, ErrInvalidRequest):
		e = &oautherr.Error{Code: CodeInvalidRequest, Description: "malformed request", Status: http.StatusBadRequest}
	}
	v.setNonce(w.Header())
	oautherr.Write(w, e)
}
