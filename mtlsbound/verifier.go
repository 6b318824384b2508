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

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Verifier checks, on a resource server, that a request's access token is
// bound to the client certificate the request presents (RFC 8705 §3,
// https://datatracker.ietf.org/doc/html/rfc8705#section-3), and rejects it
// with 401 invalid_token when it is not.
//
// A Verifier holds no state: it is safe for concurrent use as long as its
// fields are not changed while requests are served.
type Verifier struct {
	// Token verifies an access token and returns its claims as one JSON
	// object: the payload of a JWT access token whose signature, issuer,
	// audience and expiry it has checked, or an RFC 7662 introspection
	// response. An error rejects the request with 401 invalid_token
	// (wrapped in [ErrInvalidToken]); the error is passed to OnError, never
	// written to the client. If the claims carry an "active" member, it must
	// be true. Token is required by [Verifier.Wrap] and [Verifier.Verify];
	// nil makes them fail with [ErrInvalidConfig]. A JWT library's claims
	// map is turned into this form by json.Marshal.
	Token func(ctx context.Context, token string) (json.RawMessage, error)

	// InsecureAllowUnbound accepts tokens without a "cnf" member as plain
	// bearer tokens (with or without a client certificate). The zero value
	// refuses them with [ErrNoBinding], as a FAPI 2.0 resource server must:
	// a token that is not sender-constrained can be replayed by anyone who
	// steals it. It never admits a token bound by another method (see
	// [ErrUnsupportedConfirmation]) nor a malformed "cnf".
	InsecureAllowUnbound bool

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
	// [DefaultMaxProxyHeaderBytes]; a larger value wraps [ErrTooLarge].
	MaxProxyHeaderBytes int

	// Realm, when set, is sent as the realm auth-param of every challenge.
	Realm string

	// OnError, when set, is called with the request and the error each
	// time [Verifier.Wrap] rejects a request, before the response is
	// written. It is for logging and metrics: it cannot change the
	// response, and it must not log the error's wrapped Token errors
	// verbatim if those can contain secrets.
	OnError func(r *http.Request, err error)
}

// Result is what a successful check passes to the next handler.
type Result struct {
	// Certificate is the client certificate the request presented; nil
	// only for an unbound token accepted by InsecureAllowUnbound.
	Certificate *x509.Certificate
	// Thumbprint is Certificate's x5t#S256 ("" when Certificate is nil).
	// For a bound token it equals the token's cnf x5t#S256.
	Thumbprint string
	// Claims are the claims returned by [Verifier.Token] (or given to
	// [Verifier.Check]), unmodified.
	Claims json.RawMessage
	// Bound reports whether the token was certificate-bound.
	Bound bool
}

type ctxKey struct{}

// FromContext returns the result stored by [Verifier.Wrap] in a request's
// context.
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
//   - 401 with "WWW-Authenticate: Bearer" when no Bearer token was sent
//     (RFC 6750 §3.1 sends no error code then),
//   - 400 with error="invalid_request" for a malformed Authorization header,
//   - 500 with no body for [ErrInvalidConfig],
//   - 401 with error="invalid_token" for everything else: a rejected token,
//     no certificate, a certificate that does not match, an unbound token,
//     a malformed cnf or a malformed proxy header (RFC 8705 §3 requires
//     401 invalid_token for a mismatch).
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

// Verify authenticates r: it takes the Bearer token from the single
// Authorization header ([BearerToken]), reads the presented certificate
// ([Verifier.PresentedCertificate]; a malformed proxy header fails before
// the token is verified), verifies the token with [Verifier.Token] and
// checks the binding as [Verifier.Check] does. r is not modified.
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	if err := v.validate(true); err != nil {
		return nil, err
	}
	tok, err := BearerToken(r)
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
	return v.check(claims, cert, certErr)
}

// Check verifies the binding of already-verified token claims (a JWT
// payload or an introspection response, see [Verifier.Token]) against the
// certificate r presents. It is the part of [Verifier.Verify] that
// follows token verification, for callers (a gateway, another framework)
// that verify tokens themselves. It does not look at r's Authorization
// header. The rules, in order:
//
//   - a malformed proxy header fails ([ErrMalformedHeader]);
//   - claims that are not one JSON object fail ([ErrMalformedClaims]), as
//     does an "active" member that is not true ([ErrInactiveToken]);
//   - a malformed or foreign "cnf" fails ([ParseConfirmation]);
//   - no "cnf" fails with [ErrNoBinding] unless InsecureAllowUnbound;
//   - a bound token needs a presented certificate ([ErrNoCertificate])
//     whose x5t#S256 equals the token's, compared in constant time
//     ([ErrCertificateMismatch]). The certificate's dates, chain and
//     usages are not checked here: that is the TLS layer's policy (see
//     [Confirmation.Verify]).
func (v *Verifier) Check(r *http.Request, claims json.RawMessage) (*Result, error) {
	if err := v.validate(false); err != nil {
		return nil, err
	}
	cert, certErr := v.presented(r)
	return v.check(claims, cert, certErr)
}

func (v *Verifier) check(claims json.RawMessage, cert *x509.Certificate, certErr error) (*Result, error) {
	if certErr != nil && !errors.Is(certErr, ErrNoCertificate) {
		return nil, certErr
	}
	conf, err := confirmationFrom(claims, false)
	if err != nil {
		return nil, err
	}
	if conf.Bound() {
		if certErr != nil {
			return nil, certErr
		}
		if err := conf.Verify(cert); err != nil {
			return nil, err
		}
	} else if !v.InsecureAllowUnbound {
		return nil, ErrNoBinding
	}
	res := &Result{Certificate: cert, Claims: claims, Bound: conf.Bound()}
	if res.Bound {
		res.Thumbprint = conf.Thumbprint() // equal to the certificate's; no second hash
	} else {
		res.Thumbprint = Thumbprint(cert)
	}
	return res, nil
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
		return nil, fmt.Errorf("%w: %w", ErrNoCertificate, ErrUntrustedProxy)
	}
	return nil, ErrNoCertificate
}

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
		return nil, fmt.Errorf("%w: %w: over %d bytes", ErrMalformedHeader, ErrTooLarge, limit)
	}
	if v.ProxyFormat == HeaderXFCC {
		return parseXFCC(vals[0])
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

func (v *Verifier) validate(needToken bool) error {
	if v == nil {
		return fmt.Errorf("%w: nil Verifier", ErrInvalidConfig)
	}
	if needToken && v.Token == nil {
		return fmt.Errorf("%w: Token is required", ErrInvalidConfig)
	}
	if v.MaxProxyHeaderBytes < 0 {
		return fmt.Errorf("%w: negative MaxProxyHeaderBytes", ErrInvalidConfig)
	}
	if v.ProxyHeader == "" {
		if len(v.TrustedProxies) > 0 || v.ProxyFormat != 0 {
			return fmt.Errorf("%w: TrustedProxies or ProxyFormat without ProxyHeader", ErrInvalidConfig)
		}
		return nil
	}
	if v.ProxyFormat != HeaderEscapedPEM && v.ProxyFormat != HeaderXFCC {
		return fmt.Errorf("%w: ProxyHeader needs ProxyFormat", ErrInvalidConfig)
	}
	if len(v.TrustedProxies) == 0 {
		return fmt.Errorf("%w: ProxyHeader needs TrustedProxies", ErrInvalidConfig)
	}
	if strings.EqualFold(v.ProxyHeader, "Authorization") {
		return fmt.Errorf("%w: ProxyHeader cannot be Authorization", ErrInvalidConfig)
	}
	for _, p := range v.TrustedProxies {
		if !p.IsValid() || p.Addr().Is4In6() {
			return fmt.Errorf("%w: invalid trusted proxy prefix", ErrInvalidConfig)
		}
	}
	return nil
}

// fail writes the rejection for err.
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

// BearerToken returns the access token of r's Authorization header
// (RFC 6750 §2.1, https://datatracker.ietf.org/doc/html/rfc6750#section-2.1):
// exactly one field, the Bearer scheme in any case, one or more spaces and
// a b64token. No Authorization header, or one with another scheme, wraps
// [ErrNoToken]; several Authorization fields, an empty token, one that is
// not a b64token or is followed by anything wrap [ErrInvalidRequest] (and
// [ErrTooLarge] over 64 KiB). Tokens in the query or the form body are
// never read (FAPI 2.0 forbids them).
func BearerToken(r *http.Request) (string, error) {
	_, tok, err := httpx.Authorization(r.Header, "Bearer")
	switch {
	case errors.Is(err, httpx.ErrNoCredentials):
		return "", fmt.Errorf("%w: %w", ErrNoToken, err)
	case errors.Is(err, httpx.ErrCredentialsTooLarge):
		return "", fmt.Errorf("%w: %w", ErrInvalidRequest, ErrTooLarge)
	case err != nil:
		return "", fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return tok, nil
}
