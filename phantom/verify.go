package phantom

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// Result is the gateway's decision for an admitted request, passed to the
// next handler (read it with [FromContext]).
type Result struct {
	// Scheme is the authentication scheme the client used: "Bearer" or
	// "DPoP".
	Scheme string
	// Claims are the token's claims: the RFC 7662 response, the
	// "token_introspection" member of the RFC 9701 response, or the access
	// token JWT's payload. They must not be modified.
	Claims json.RawMessage
	// JWT is the JWT forwarded upstream.
	JWT string
	// Expires is when the cached decision lapses: the token is introspected
	// again after it.
	Expires time.Time
	// Cached reports whether the decision came from the cache.
	Cached bool
	// DPoP is the DPoP check of a DPoP-bound token; nil otherwise.
	DPoP *dpop.Result
	// MTLS is the certificate check of a certificate-bound token; nil
	// otherwise.
	MTLS *mtlsbound.Result

	upstream string         // the upstream header's value
	holder   *resultContext // the context value made for this Result
}

// resultContext is a context carrying a Result, allocated with it: the
// hot path saves context.WithValue's allocation.
type resultContext struct {
	context.Context
	res Result
}

// Value implements context.Context.
func (c *resultContext) Value(key any) any {
	if key == (ctxKey{}) {
		return &c.res
	}
	return c.Context.Value(key)
}

// withResult returns ctx carrying res, as NewContext does.
func withResult(ctx context.Context, res *Result) context.Context {
	if rc := res.holder; rc != nil && rc.Context == nil {
		rc.Context = ctx
		return rc
	}
	return NewContext(ctx, res)
}

type ctxKey struct{}

// FromContext returns the Result stored by [Gateway.Wrap] in a request's
// context.
func FromContext(ctx context.Context) (*Result, bool) {
	r, ok := ctx.Value(ctxKey{}).(*Result)
	return r, ok && r != nil
}

// NewContext returns a copy of ctx carrying res, as [Gateway.Wrap] does.
func NewContext(ctx context.Context, res *Result) context.Context {
	return context.WithValue(ctx, ctxKey{}, res)
}

// Verify makes the gateway's decision for r without forwarding anything:
// the token of the single Authorization header (Bearer or DPoP, the
// scheme matched case-insensitively as RFC 9110 §11.1 says), its
// introspection (cached, shared by concurrent requests), its sender
// constraint, and the route's requirements. A refusal is an [*Error]. r is
// not modified.
func (g *Gateway) Verify(r *http.Request) (*Result, error) {
	res, e := g.verify(r)
	if e != nil {
		return nil, e
	}
	return res, nil
}

func (g *Gateway) verify(r *http.Request) (*Result, *Error) {
	c, err := g.init()
	if err != nil {
		return nil, refuse(http.StatusInternalServerError, "", "", ReasonConfig, err)
	}
	return g.decide(r, c, r.URL.Path, r.URL.EscapedPath())
}

// decide is the decision for r, whose path (decoded and escaped) is the
// one the routes are matched against.
func (g *Gateway) decide(r *http.Request, c *config, decoded, escaped string) (*Result, *Error) {
	scheme, token, err := httpx.Authorization(r.Header, "DPoP", "Bearer")
	switch {
	case errors.Is(err, httpx.ErrNoCredentials):
		return nil, refuse(http.StatusUnauthorized, "", "", ReasonNoToken, wrapf(ErrNoToken, "%w", err))
	case err != nil:
		return nil, refuse(http.StatusBadRequest, CodeInvalidRequest, "malformed Authorization header", ReasonInvalidRequest,
			wrapf(ErrInvalidRequest, "%w", err))
	case len(token) > c.maxToken:
		return nil, refuse(http.StatusBadRequest, CodeInvalidRequest, "access token too long", ReasonInvalidRequest,
			wrapf(ErrInvalidRequest, "token over %d bytes", c.maxToken))
	}
	rts, err := matchRoutes(c.routes, r.Method, r.Header, decoded, escaped)
	if err != nil {
		desc := "ambiguous request path"
		if errors.Is(err, errAmbiguousMethod) {
			desc = "ambiguous request method"
		}
		return nil, withScheme(refuse(http.StatusBadRequest, CodeInvalidRequest, desc, ReasonInvalidRequest, err), scheme)
	}
	key := sha256.Sum256([]byte(token))
	e, cached, rerr := g.lookup(r.Context(), c, key, token)
	if rerr != nil {
		return nil, withScheme(rerr, scheme)
	}
	if !e.Active {
		return nil, withScheme(negativeError(e.Refusal), scheme)
	}
	info := e.info
	if info == nil {
		// An entry from a shared cache: parse its claims again.
		ci, err := parseClaims(e.Claims)
		if err != nil {
			return nil, withScheme(invalidResponse(wrapf(ErrInvalidResponse, "cached claims: %w", err)), scheme)
		}
		// And hold them to this gateway's own rules: a store shared with a
		// gateway of another Audience or Issuer (or written by anyone who
		// can reach it) must not admit what this one would refuse.
		if reason, ok := g.refusal(c, g.now(), &ci); !ok {
			return nil, withScheme(negativeError(reason), scheme)
		}
		info = &ci
	}
	rc := new(resultContext) // the Result and the context value that carries it, in one allocation
	res := &rc.res
	*res = Result{Scheme: scheme, Claims: e.Claims, JWT: e.JWT, Expires: e.Expires, Cached: cached, upstream: e.upstream, holder: rc}
	if res.upstream == "" {
		res.upstream = c.upstreamValue(e.JWT)
	}
	if be := g.bind(r, c, scheme, token, e.Claims, info, res); be != nil {
		return nil, withScheme(be, scheme)
	}
	for _, rt := range rts {
		if rt.audience != "" && !info.audience.Contains(rt.audience) {
			return nil, withScheme(refuse(http.StatusUnauthorized, CodeInvalidToken, "access token is not for this resource", ReasonWrongAudience,
				wrapf(ErrInvalidToken, "audience")), scheme)
		}
	}
	for _, rt := range rts {
		if !hasScopes(info.scope, rt.scopes) {
			e := refuse(http.StatusForbidden, CodeInsufficientScope, "access token lacks a required scope", ReasonInsufficientScope, ErrInsufficientScope)
			e.Scope = rt.scope
			return nil, withScheme(e, scheme)
		}
	}
	return res, nil
}

// withScheme returns a copy of e for a request that used scheme. It never
// writes to e: a refusal from an introspection is shared by every request
// that waited for it (the singleflight in lookup), and each request has
// its own scheme.
func withScheme(e *Error, scheme string) *Error {
	c := *e
	c.Scheme = scheme
	return &c
}

// negativeError is the refusal of a negative cache entry.
func negativeError(reason Reason) *Error {
	switch reason {
	case "", ReasonInactiveToken:
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "access token is not active", ReasonInactiveToken, ErrInactiveToken)
	case ReasonWrongAudience:
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "access token is not for this resource", ReasonWrongAudience,
			wrapf(ErrInvalidToken, "audience"))
	default:
		return refuse(http.StatusUnauthorized, CodeInvalidToken, "access token rejected", ReasonInvalidToken, ErrInvalidToken)
	}
}
