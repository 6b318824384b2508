package mtlsbound

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Names of confirmation methods, as listed in [Verifier.CheckedElsewhere].
const (
	methodJKT     = "jkt"
	methodJWK     = "jwk"
	methodX5TS256 = "x5t#S256"
)

// Verifier checks, on a resource server, that a request's access token is
// bound to the client certificate the request presents (RFC 8705 §3,
// https://datatracker.ietf.org/doc/html/rfc8705#section-3), and rejects it
// with 401 invalid_token when it is not.
//
// The zero value (with Token set) is the strict one: a token must carry a
// "cnf" whose only method is x5t#S256, matched by the certificate of the
// TLS connection. A Verifier holds no state: it is safe for concurrent use
// as long as its fields are not changed while requests are served.
type Verifier struct {
	// Token verifies an access token and returns its claims as one JSON
	// object: the payload of a JWT access token whose signature, issuer,
	// audience and expiry it has checked, or an RFC 7662 introspection
	// response. An error rejects the request with 401 invalid_token
	// (wrapped in [ErrInvalidToken]); the error is passed to OnError, never
	// written to the client. If the claims carry an "active" member, it must
	// be true. Required by [Verifier.Verify] and [Verifier.Wrap] (nil is
	// [ErrInvalidConfig]); [Verifier.Check] does not use it. A JWT
	// library's claims map is turned into this form by json.Marshal.
	Token func(ctx context.Context, token string) (json.RawMessage, error)

	// InsecureAllowUnbound accepts tokens without a "cnf" member as plain
	// bearer tokens (with or without a client certificate). The zero value
	// refuses them with [ErrUnbound], as a FAPI 2.0 resource server must:
	// a token that is not sender-constrained can be replayed by anyone who
	// steals it. It never admits a token bound by a method nobody checks
	// (see [ErrUnsupportedConfirmation]) nor a malformed "cnf".
	InsecureAllowUnbound bool

	// CheckedElsewhere lists the cnf methods that another verifier enforces
	// for the same request, so that this one lets them pass: "jkt" and
	// "jwk" when a dpop.Verifier also checks the request (a gateway calls
	// both [Verifier.Check] methods for a token bound by both a DPoP key
	// and a certificate). Listing a method here without running that other
	// check makes its tokens bearer tokens. "x5t#S256", this verifier's own
	// method, and any other name are [ErrInvalidConfig]. The zero value
	// lists nothing: a token bound by any method but x5t#S256 is refused
	// with [ErrUnsupportedConfirmation]. When "jkt" or "jwk" is listed,
	// [Verifier.Verify] also reads tokens sent with the DPoP scheme, and
	// requires that scheme for DPoP-bound tokens.
	CheckedElsewhere []string

	// Keys resolves the key a token's "cnf" names by "kid" (RFC 7800
	// §3.4) or by "jku" and "kid" (§3.5), usually a [JWKSResolver]. Such
	// a token is then certificate-bound: the presented certificate's
	// public key must be the resolved key (same type, same RFC 7638
	// thumbprint), and its x5t#S256 must match "x5t#S256" when the "cnf"
	// has one. A "kid" beside "jkt" or "jwk" names that same DPoP key: it
	// passes with them when they are CheckedElsewhere (the dpop verifier
	// resolves and checks it). Nil means that "kid" and "jku" are refused
	// ([ErrUnsupportedConfirmation]) unless they ride with such a "jkt" or
	// "jwk".
	Keys KeyResolver

	// ProxyHeader names the request header in which a TLS-terminating
	// proxy forwards the client certificate, e.g. "X-SSL-Client-Cert" or
	// "X-Forwarded-Client-Cert". Empty (the default) means the certificate
	// is taken from the TLS connection only. When set, ProxyFormat and
	// TrustedProxies are required.
	//
	// The header is believed only when the request's immediate peer
	// (r.RemoteAddr) is in TrustedProxies. It is then authoritative: an
	// absent or empty header means no client certificate, and the TLS
	// connection's own peer certificate (the proxy's, if any) is not
	// used. From any other address the header is ignored and the TLS
	// connection's certificate is used; if there is none the error wraps
	// both [ErrNoCertificate] and [ErrUntrustedProxy]. The proxy must
	// overwrite (not append to) this header on every request it forwards.
	ProxyHeader string

	// ProxyFormat is the encoding of ProxyHeader: [HeaderEscapedPEM] or
	// [HeaderXFCC]. It has no default.
	ProxyFormat HeaderFormat

	// TrustedProxies lists the addresses of the proxies allowed to set
	// ProxyHeader. IPv4-mapped IPv6 peers are matched as IPv4, so list
	// IPv4 prefixes in IPv4 form. Unix-socket and unparsable peers are
	// never trusted.
	TrustedProxies []netip.Prefix

	// MaxProxyHeaderBytes bounds ProxyHeader's value. Zero means
	// [DefaultMaxProxyHeaderBytes]; a larger value is [ErrMalformedHeader].
	MaxProxyHeaderBytes int

	// XFCCElements is the exact number of elements a [HeaderXFCC] value
	// must hold: one per trusted proxy that adds its own. Zero means 1, the
	// value of a proxy that replaces whatever the client sent with its own
	// element (Envoy's forward_client_cert_details: SANITIZE_SET), which is
	// what this package recommends. Any other count is
	// [ErrMalformedHeader]: Envoy writes a certificate's URI and DNS SANs
	// unquoted, so a client certificate whose SAN holds
	// ",Cert=<someone else's certificate>" would otherwise add a last
	// element of the client's making. Behind APPEND_FORWARD, set it to
	// the number of trusted hops, and only if no untrusted hop can add
	// one.
	XFCCElements int

	// Realm, when set, is sent as the realm auth-param of every challenge.
	Realm string

	// OnError, when set, is called with the request and the error each
	// time [Verifier.Wrap] rejects a request, before the response is
	// written. It is for logging and metrics: it cannot change the
	// response. This package puts no token, certificate or header value in
	// its errors, but an error returned by Token is wrapped as is.
	OnError func(r *http.Request, err error)

	// The verifier checks no time itself (token expiry is Token's job,
	// certificate validity the TLS layer's), so it has no Now field.
}

// Result is what a successful check passes to the next handler.
type Result struct {
	// Claims are the claims returned by [Verifier.Token] (or given to
	// [Verifier.Check]), unmodified.
	Claims json.RawMessage
	// Confirmation is the token's parsed "cnf" (zero when unbound).
	Confirmation Confirmation
	// Bound reports whether the token is sender-constrained: it carries a
	// "cnf" whose every method was checked, here or by the verifiers of
	// [Verifier.CheckedElsewhere]. False only for an unbound token
	// accepted by InsecureAllowUnbound.
	Bound bool
	// Certificate is the client certificate the request presented, or nil
	// (possible only when the token is not bound by x5t#S256 or by a
	// "kid" this verifier resolved).
	Certificate *x509.Certificate
	// Thumbprint is Certificate's x5t#S256 ("" when Certificate is nil).
	// For a certificate-bound token it equals Confirmation.X5TS256.
	Thumbprint string
}

type ctxKey struct{}

// FromContext returns the result stored by [Verifier.Wrap] (or
// [NewContext]) in a request's context.
func FromContext(ctx context.Context) (*Result, bool) {
	r, ok := ctx.Value(ctxKey{}).(*Result)
	return r, ok && r != nil
}

// NewContext returns a copy of ctx carrying res, as [Verifier.Wrap] does.
// It lets other middleware (or tests) hand a result to handlers that read
// it with [FromContext].
func NewContext(ctx context.Context, res *Result) context.Context {
	return context.WithValue(ctx, ctxKey{}, res)
}

// Wrap returns middleware that authenticates each request with
// [Verifier.Verify] and calls next with a shallow copy of the request whose
// context carries the [Result] (read it with [FromContext]). On any
// failure next is not called; the response is
//
//   - 401 with "WWW-Authenticate: Bearer" when no token was sent
//     (RFC 6750 §3.1 sends no error code then),
//   - 400 with error="invalid_request" for a malformed Authorization header,
//   - 500 with no challenge for [ErrInvalidConfig],
//   - 503 with no challenge for [ErrKeyUnavailable],
//   - 401 with error="invalid_token" for everything else: a rejected token,
//     no certificate, a certificate that does not match, an unbound token,
//     a malformed or unsupported cnf, or a malformed proxy header (RFC 8705
//     §3 requires 401 invalid_token for a mismatch).
//
// Responses carry Cache-Control: no-store and no body.
func (v *Verifier) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r)
		if err != nil {
			v.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), res)))
	})
}

// Verify authenticates r: it takes the access token from the single
// Authorization header (RFC 6750 §2.1: the Bearer scheme, also DPoP when
// CheckedElsewhere lists "jkt" or "jwk"; never the query or the body),
// reads the presented certificate ([Verifier.PresentedCertificate]; a
// malformed proxy header fails before the token is verified), verifies the
// token with [Verifier.Token] and checks the binding as [Verifier.Check]
// does. A DPoP-bound token sent as Bearer, or a token that is not
// DPoP-bound sent as DPoP, wraps [ErrInvalidToken]. r is not modified.
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	if err := v.validate(true); err != nil {
		return nil, err
	}
	scheme, tok, err := v.authorization(r)
	if err != nil {
		return nil, err
	}
	cert, certErr := v.presented(r)
	if certErr != nil && !errors.Is(certErr, ErrNoCertificate) {
		return nil, certErr
	}
	claims, err := v.Token(r.Context(), tok)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	res, err := v.check(r.Context(), claims, cert, certErr)
	if err != nil {
		return nil, err
	}
	dpopBound := res.Confirmation.JKT != "" || res.Confirmation.JWK != nil
	switch {
	case scheme == "Bearer" && dpopBound:
		return nil, fmt.Errorf("%w: DPoP-bound token sent with the Bearer scheme", ErrInvalidToken)
	case scheme == "DPoP" && !dpopBound:
		return nil, fmt.Errorf("%w: token sent with the DPoP scheme is not DPoP-bound", ErrInvalidToken)
	}
	return res, nil
}

// Check verifies the binding of a token whose claims the caller already
// verified (a JWT payload or an introspection response, see
// [Verifier.Token]) against the certificate r presents. It is the part of
// [Verifier.Verify] that follows token verification, for callers (a
// gateway, another framework) that verify tokens themselves. token is the
// access token as sent; it must not be empty ([ErrNoToken]) and is not
// otherwise used. Check does not look at r's Authorization header, so the
// scheme rules of Verify are the caller's. The rules, in order:
//
//   - a malformed proxy header fails ([ErrMalformedHeader]);
//   - claims or a "cnf" that [ConfirmationFromClaims] cannot read fail
//     ([ErrMalformedConfirmation], [ErrInactiveToken]);
//   - a "cnf" with an unregistered member, "jkt" or "jwk" not listed in
//     CheckedElsewhere, or "kid"/"jku" without Keys (unless they ride
//     with such a "jkt" or "jwk") fails ([ErrUnsupportedConfirmation]);
//   - no "cnf" fails with [ErrUnbound] unless InsecureAllowUnbound;
//   - an x5t#S256 needs a presented certificate ([ErrNoCertificate])
//     whose thumbprint equals it, compared in constant time
//     ([ErrBindingMismatch]). The certificate's dates, chain and usages
//     are not checked here: that is the TLS layer's policy (RFC 8705 §3
//     binds the token to the certificate that was presented);
//   - a "kid" (alone, with "jku", or beside "x5t#S256") needs a presented
//     certificate whose public key is the key Keys resolves (same type,
//     same RFC 7638 thumbprint, [ErrBindingMismatch]); a "kid" Keys
//     cannot resolve to one key, or that names another key than "jkt" or
//     "jwk", is [ErrUnknownKey]; a JWK Set that cannot be fetched is
//     [ErrKeyUnavailable].
func (v *Verifier) Check(r *http.Request, token string, claims json.RawMessage) (*Result, error) {
	if err := v.validate(false); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("%w: empty token", ErrNoToken)
	}
	cert, certErr := v.presented(r)
	return v.check(r.Context(), claims, cert, certErr)
}

func (v *Verifier) check(ctx context.Context, claims json.RawMessage, cert *x509.Certificate, certErr error) (*Result, error) {
	if certErr != nil && !errors.Is(certErr, ErrNoCertificate) {
		return nil, certErr
	}
	conf, err := ConfirmationFromClaims(claims)
	if err != nil {
		return nil, err
	}
	if err := v.supported(conf); err != nil {
		return nil, err
	}
	res := &Result{Claims: claims, Confirmation: conf, Bound: conf.Bound(), Certificate: cert}
	target := cnf.Confirmation(conf).KIDTarget()
	byKey := target == cnf.TargetCertificate || target == cnf.TargetPresented
	switch {
	case conf.X5TS256 != "" || byKey:
		if cert == nil {
			return nil, certErr
		}
		if conf.X5TS256 != "" && !matches(conf.X5TS256, cert) {
			return nil, ErrBindingMismatch
		}
		if byKey {
			if err := v.checkKey(ctx, conf, claims, cert); err != nil {
				return nil, err
			}
		}
		res.Thumbprint = conf.X5TS256 // equal to the certificate's; no second encoding
		if res.Thumbprint == "" {
			res.Thumbprint = Thumbprint(cert)
		}
	case !res.Bound && !v.InsecureAllowUnbound:
		return nil, ErrUnbound
	default:
		res.Thumbprint = Thumbprint(cert)
	}
	return res, nil
}

// supported refuses the methods nobody checks for this request.
func (v *Verifier) supported(c Confirmation) error {
	switch {
	case len(c.Other) > 0:
		return fmt.Errorf("%w: unregistered member %q", ErrUnsupportedConfirmation, truncate(c.Other[0], 32))
	case c.JKT != "" && !v.elsewhere(methodJKT):
		return fmt.Errorf("%w: jkt is not in CheckedElsewhere", ErrUnsupportedConfirmation)
	case c.JWK != nil && !v.elsewhere(methodJWK):
		return fmt.Errorf("%w: jwk is not in CheckedElsewhere", ErrUnsupportedConfirmation)
	case v.Keys == nil && cnf.Confirmation(c).KIDTarget() != cnf.TargetNone && cnf.Confirmation(c).KIDTarget() != cnf.TargetDPoP:
		return fmt.Errorf("%w: kid and jku need Verifier.Keys", ErrUnsupportedConfirmation)
	}
	return nil
}

func (v *Verifier) elsewhere(method string) bool {
	for _, m := range v.CheckedElsewhere {
		if m == method {
			return true
		}
	}
	return false
}

// authorization reads the access token of r's one Authorization field.
func (v *Verifier) authorization(r *http.Request) (scheme, token string, err error) {
	schemes := []string{"Bearer"}
	if v.elsewhere(methodJKT) || v.elsewhere(methodJWK) {
		schemes = append(schemes, "DPoP")
	}
	scheme, token, err = httpx.Authorization(r.Header, schemes...)
	switch {
	case errors.Is(err, httpx.ErrNoCredentials):
		return "", "", fmt.Errorf("%w: %w", ErrNoToken, err)
	case err != nil:
		return "", "", fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return scheme, token, nil
}

// PresentedCertificate returns the client certificate of r: the leaf
// certificate of the TLS connection, or, when r comes from one of
// TrustedProxies, the one in ProxyHeader (see [Verifier.ProxyHeader] for
// the exact rules). It returns an error wrapping [ErrNoCertificate] when
// there is none, and one wrapping [ErrMalformedHeader] when a trusted
// proxy's header cannot be parsed.
func (v *Verifier) PresentedCertificate(r *http.Request) (*x509.Certificate, error) {
	if err := v.validate(false); err != nil {
		return nil, err
	}
	return v.presented(r)
}

func (v *Verifier) presented(r *http.Request) (*x509.Certificate, error) {
	untrusted := false
	if v.ProxyHeader != "" {
		vals := r.Header.Values(v.ProxyHeader)
		if v.trusted(r.RemoteAddr) {
			return v.fromHeader(vals)
		}
		untrusted = len(vals) > 0
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 && r.TLS.PeerCertificates[0] != nil {
		return r.TLS.PeerCertificates[0], nil
	}
	if untrusted {
		return nil, errUntrusted
	}
	return nil, ErrNoCertificate
}

var errUntrusted = fmt.Errorf("%w: %w", ErrNoCertificate, ErrUntrustedProxy)

func (v *Verifier) fromHeader(vals []string) (*x509.Certificate, error) {
	switch len(vals) {
	case 0:
		return nil, ErrNoCertificate
	case 1:
	default:
		return nil, fmt.Errorf("%w: header repeated", ErrMalformedHeader)
	}
	limit := v.MaxProxyHeaderBytes
	if limit == 0 {
		limit = DefaultMaxProxyHeaderBytes
	}
	if len(vals[0]) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrMalformedHeader, limit)
	}
	if v.ProxyFormat == HeaderXFCC {
		return parseXFCC(vals[0], max(v.XFCCElements, 1))
	}
	return parseEscapedPEM(vals[0])
}

// trusted reports whether remoteAddr is in TrustedProxies.
func (v *Verifier) trusted(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	var addr netip.Addr
	if err == nil {
		addr = ap.Addr()
	} else if addr, err = netip.ParseAddr(remoteAddr); err != nil {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range v.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// validate checks the configuration; it is cheap enough to run per request.
func (v *Verifier) validate(needToken bool) error {
	if v == nil {
		return configError("Verifier", "nil *Verifier")
	}
	if needToken && v.Token == nil {
		return configError("Verifier.Token", "required")
	}
	for _, m := range v.CheckedElsewhere {
		switch m {
		case methodJKT, methodJWK:
		case methodX5TS256:
			return configError("Verifier.CheckedElsewhere", `"x5t#S256" is the method this verifier checks`)
		default:
			return configError("Verifier.CheckedElsewhere", fmt.Sprintf("%q is not jkt or jwk", truncate(m, 32)))
		}
	}
	if v.MaxProxyHeaderBytes < 0 {
		return configError("Verifier.MaxProxyHeaderBytes", "negative")
	}
	if v.XFCCElements < 0 || v.XFCCElements > 0 && v.ProxyFormat != HeaderXFCC {
		return configError("Verifier.XFCCElements", "negative, or set without ProxyFormat HeaderXFCC")
	}
	if v.ProxyHeader == "" {
		switch {
		case len(v.TrustedProxies) > 0:
			return configError("Verifier.TrustedProxies", "set without ProxyHeader")
		case v.ProxyFormat != 0:
			return configError("Verifier.ProxyFormat", "set without ProxyHeader")
		}
		return nil
	}
	if v.ProxyFormat != HeaderEscapedPEM && v.ProxyFormat != HeaderXFCC {
		return configError("Verifier.ProxyFormat", "must be HeaderEscapedPEM or HeaderXFCC when ProxyHeader is set")
	}
	if len(v.TrustedProxies) == 0 {
		return configError("Verifier.TrustedProxies", "required when ProxyHeader is set")
	}
	if strings.EqualFold(v.ProxyHeader, "Authorization") {
		return configError("Verifier.ProxyHeader", "cannot be Authorization")
	}
	for _, p := range v.TrustedProxies {
		if !p.IsValid() || p.Addr().Is4In6() {
			return configError("Verifier.TrustedProxies", "invalid or IPv4-mapped prefix")
		}
	}
	return nil
}

// fail writes the rejection for err: a Bearer challenge (RFC 6750 §3)
// built with oautherr.Challenge.
func (v *Verifier) fail(w http.ResponseWriter, r *http.Request, err error) {
	if v != nil && v.OnError != nil {
		v.OnError(r, err)
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	status, code := http.StatusUnauthorized, "invalid_token"
	switch {
	case errors.Is(err, ErrInvalidToken):
	case errors.Is(err, ErrInvalidConfig):
		w.WriteHeader(http.StatusInternalServerError)
		return
	case errors.Is(err, ErrKeyUnavailable):
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case errors.Is(err, ErrNoToken):
		code = ""
	case errors.Is(err, ErrInvalidRequest):
		status, code = http.StatusBadRequest, "invalid_request"
	}
	ch := oautherr.Challenge{Scheme: "Bearer"}
	if v != nil && v.Realm != "" {
		ch.Params = append(ch.Params, oautherr.Param{Name: "realm", Value: v.Realm})
	}
	if code != "" {
		ch.Params = append(ch.Params, oautherr.Param{Name: "error", Value: code})
	}
	h.Set("WWW-Authenticate", ch.String())
	w.WriteHeader(status)
}

// truncate cuts s to at most n bytes, for names echoed in errors.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
