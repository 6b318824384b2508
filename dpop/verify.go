package dpop

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Defaults of [Verifier].
const (
	// DefaultMaxAge is how old a proof's "iat" may be.
	DefaultMaxAge = 5 * time.Minute
	// DefaultSkew is the clock difference tolerated between client and
	// server, in both directions.
	DefaultSkew = time.Minute
	// DefaultMaxProofBytes bounds the DPoP header: 8 KiB, several times a
	// proof with an RSA-4096 key.
	DefaultMaxProofBytes = 8 << 10
)

// maxJTI bounds the length of a proof's jti.
const maxJTI = 512

// replayMargin is added, with one more Skew, to the time a proof is
// remembered past the last instant the verifier accepts it (see
// [Verifier.Replay]).
const replayMargin = time.Second

// Names of cnf confirmation methods, as listed in
// [Verifier.CheckedElsewhere].
const (
	methodJKT     = "jkt"
	methodJWK     = "jwk"
	methodX5TS256 = "x5t#S256"
)

// Verifier checks DPoP proofs on an authorization server or a resource
// server: every check of RFC 9449 §4.3
// (https://datatracker.ietf.org/doc/html/rfc9449#section-4.3), the access
// token binding of §7.1, replay detection (§11.1) and, when Nonces is set,
// server-provided nonces (§8, §9).
//
// A resource server uses [Verifier.Wrap] (or [Verifier.Verify]); a gateway
// that verified the token itself uses [Verifier.Check]; an authorization
// server's token endpoint uses [Verifier.VerifyProof] and
// [Verifier.WriteTokenError]. BaseURL is required; the zero values of the
// other fields verify proofs with the FAPI 2.0 algorithms, a five-minute
// window, an in-memory replay store and no nonces. A Verifier is safe for
// concurrent use; it must not be copied, nor its fields changed, after
// first use.
type Verifier struct {
	// BaseURL is the scheme, host and optional path prefix by which clients
	// reach this server, e.g. "https://api.example.com", or
	// "https://example.com/api" behind a TLS-terminating proxy that
	// forwards "/api/x" as "/x". The expected "htu" is BaseURL followed by
	// the request's path: the origin comes from configuration only, never
	// from the request (Host, TLS state, X-Forwarded-*), which the client
	// controls. With a path prefix, a request path that is not in clean
	// form is refused ([ErrInvalidRequest]): "/../admin" would otherwise
	// make a proof for "https://example.com/admin" valid here. Required:
	// empty fails the first use with a [*ConfigError].
	BaseURL string

	// Algorithms is the allow-list of proof algorithms. Nil means ES256,
	// PS256 and EdDSA. "none" and symmetric algorithms cannot be listed:
	// an unsupported name is a [*ConfigError].
	Algorithms []string

	// MaxAge is how long after its "iat" a proof is accepted. Zero means
	// [DefaultMaxAge].
	MaxAge time.Duration
	// Skew is the clock difference tolerated: a proof may be issued up to
	// Skew in the future, and is accepted until MaxAge+Skew after "iat".
	// Zero means [DefaultSkew].
	Skew time.Duration

	// Replay remembers accepted proofs (keyed by the SHA-256 of the key
	// thumbprint and jti) until they leave the time window, and then for
	// one more Skew and a second (until iat + MaxAge + 2×Skew + 1 s): the
	// store reads its clock after the verifier, and another replica's
	// clock may lag by up to Skew, so a proof must never look expired to
	// the store while some verifier would still accept it. Nil means a
	// [MemoryStore] of [DefaultMaxEntries] owned by the Verifier, whose
	// clock is Now. Servers with several replicas need a shared store
	// (dpop/redisstore).
	Replay ReplayStore

	// Nonces, when set, makes a server-provided nonce mandatory in every
	// proof (RFC 9449 §8 for an authorization server, §9 for a resource
	// server). Error responses then carry a fresh DPoP-Nonce, and
	// successful ones carry the next nonce when the presented one is close
	// to its end ([Verifier.AdvanceNonce]).
	Nonces *Nonces

	// MaxProofBytes bounds the DPoP header. Zero means
	// [DefaultMaxProofBytes].
	MaxProofBytes int

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// Token is used by [Verifier.Verify] and [Verifier.Wrap] only, which
	// fail with a [*ConfigError] without it. It verifies an access token
	// and returns its claims as one JSON object: the payload of a JWT
	// access token whose signature, issuer, audience and expiry it has
	// checked, or an RFC 7662 introspection response. Its "cnf" claim
	// binds the token to a key. An error rejects the request with 401
	// invalid_token; the error goes to OnError, never to the client.
	Token func(ctx context.Context, token string) (json.RawMessage, error)

	// InsecureAllowUnbound admits unbound tokens (no "cnf") presented with
	// the Bearer scheme, without a proof, for a resource server that
	// serves both kinds of clients (RFC 9449 §7.2). A DPoP-bound token
	// presented as a Bearer token is refused even then, and an unbound
	// token with the DPoP scheme always is. The zero value refuses unbound
	// tokens ([ErrUnbound]).
	InsecureAllowUnbound bool

	// CheckedElsewhere lists the cnf methods another verifier enforces for
	// the same request, so that this one lets them pass: "x5t#S256" when an
	// mtlsbound verifier also checks the request (a gateway calls both
	// Check methods for a token bound by both a DPoP key and a
	// certificate). A token bound only by listed methods may then come
	// with the Bearer scheme and no proof. "jkt" and "jwk" are this
	// verifier's own methods and cannot be listed; any other name is a
	// [*ConfigError]. Nil means that a token bound by "x5t#S256" is
	// refused ([ErrUnsupportedConfirmation]).
	CheckedElsewhere []string

	// Keys resolves the key a token's "cnf" names by "kid" (RFC 7800
	// §3.4) or by "jku" and "kid" (§3.5), usually a [JWKSResolver]. Such
	// a token is then DPoP-bound: the proof's key must be the resolved
	// key (same type, same RFC 7638 thumbprint), and "jkt" or "jwk" of
	// the same "cnf" must name that key too. A "kid" beside "x5t#S256"
	// alone names the certificate's key and is left, with "x5t#S256", to
	// the mTLS verifier of CheckedElsewhere. Nil means that "kid" and
	// "jku" are refused ([ErrUnsupportedConfirmation]).
	Keys KeyResolver

	// Realm, when set, is sent as the realm of every challenge.
	Realm string

	// OnError, when set, is called by [Verifier.Wrap] with every rejected
	// request and its error, before the response is written: for logging
	// and metrics.
	OnError func(r *http.Request, err error)

	once      sync.Once
	cfgErr    error
	algs      []string
	algsParam string
	base      string // normalized scheme://host[/prefix] without trailing slash
	prefix    bool   // base has a path prefix
	x5t       bool   // "x5t#S256" is checked elsewhere
	mem       MemoryStore
	keys      jose.KeyCache
}

// Proof is a verified DPoP proof.
type Proof struct {
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof key.
	JKT string
	// Key is the proof's public key.
	Key crypto.PublicKey
	// Algorithm is the proof's "alg".
	Algorithm string
	// ID is the "jti" claim.
	ID string
	// Method is the "htm" claim.
	Method string
	// URI is the "htu" claim, as sent.
	URI string
	// IssuedAt is the "iat" claim.
	IssuedAt time.Time
	// Nonce is the "nonce" claim, or "".
	Nonce string
	// AccessTokenHash is the "ath" claim, or "".
	AccessTokenHash string

	nonceLeft time.Duration
}

// binding is what a proof sent to a resource server must match: the access
// token it accompanies ("ath") and that token's key confirmation, with the
// key its "kid" names when the Verifier resolved one.
type binding struct {
	token  string
	cnf    Confirmation
	key    crypto.PublicKey // resolved for "kid"/"jku", or nil
	keyJKT string           // key's thumbprint
}

// check reports whether a proof key with thumbprint jkt satisfies the
// binding: the resolved key, if any, then "jkt" and "jwk".
func (b *binding) check(pub crypto.PublicKey, jkt string) *Error {
	if b.key != nil {
		if err := cnf.SameKey(b.key, b.keyJKT, pub, jkt); err != nil {
			e := badToken(ErrBindingMismatch, nil, "Invalid DPoP key binding")
			e.cause = err
			return e
		}
		if !b.cnf.keyBound() {
			return nil
		}
	}
	if !b.cnf.matches(jkt) {
		return badToken(ErrBindingMismatch, nil, "Invalid DPoP key binding")
	}
	return nil
}

func (v *Verifier) init() error {
	v.once.Do(func() { v.cfgErr = v.configure() })
	return v.cfgErr
}

func (v *Verifier) configure() error {
	algs := v.Algorithms
	if algs == nil {
		algs = jose.DefaultAlgorithms
	}
	if err := jose.CheckAlgorithms(algs); err != nil {
		return configError("Verifier.Algorithms", "must name supported asymmetric algorithms only")
	}
	v.algs = append([]string(nil), algs...)
	v.algsParam = strings.Join(v.algs, " ")
	v.mem.Now = v.Now // the default store follows the verifier's clock
	switch {
	case v.MaxAge < 0:
		return configError("Verifier.MaxAge", "negative")
	case v.Skew < 0:
		return configError("Verifier.Skew", "negative")
	case v.MaxProofBytes < 0:
		return configError("Verifier.MaxProofBytes", "negative")
	}
	if v.Nonces != nil {
		if err := v.Nonces.check("Verifier.Nonces"); err != nil {
			return err
		}
	}
	for _, m := range v.CheckedElsewhere {
		switch m {
		case methodX5TS256:
			v.x5t = true
		case methodJKT, methodJWK:
			return configError("Verifier.CheckedElsewhere", fmt.Sprintf("%q is the method this verifier checks", m))
		default:
			return configError("Verifier.CheckedElsewhere", fmt.Sprintf("%q is not x5t#S256", truncate(m, 32)))
		}
	}
	if v.BaseURL == "" {
		return configError("Verifier.BaseURL", "required: the URL by which clients reach this server")
	}
	const want = "must be an absolute http(s) URL without userinfo, query or fragment, with a clean path"
	u, err := url.Parse(v.BaseURL)
	if err != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.User != nil {
		return configError("Verifier.BaseURL", want)
	}
	if p := u.EscapedPath(); p != "" && p != "/" && !cleanPath(strings.TrimSuffix(p, "/")) {
		return configError("Verifier.BaseURL", want)
	}
	n, err := normalizeURI(v.BaseURL)
	if err != nil {
		return configError("Verifier.BaseURL", want)
	}
	v.base = strings.TrimSuffix(n, "/")
	_, path, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(v.base, "https://"), "http://"), "/")
	v.prefix = path != ""
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxAge() time.Duration {
	if v.MaxAge == 0 {
		return DefaultMaxAge
	}
	return v.MaxAge
}

func (v *Verifier) skew() time.Duration {
	if v.Skew == 0 {
		return DefaultSkew
	}
	return v.Skew
}

func (v *Verifier) store() ReplayStore {
	if v.Replay != nil {
		return v.Replay
	}
	return &v.mem
}

// Algs returns the proof algorithm allow-list, space-separated: the value
// of the "algs" challenge parameter (RFC 9449 §7.1), for a gateway that
// writes its own DPoP challenges, and of an authorization server's
// dpop_signing_alg_values_supported (split on spaces). It is "" when the
// configuration is invalid.
func (v *Verifier) Algs() string {
	if v.init() != nil {
		return ""
	}
	return v.algsParam
}

// requestPath returns the request's escaped path: the URI a proof for r
// must carry as "htu" is BaseURL followed by it, before normalization.
// With a path prefix in BaseURL, a path that is not in clean form is
// refused.
func (v *Verifier) requestPath(r *http.Request) (string, error) {
	path := r.URL.EscapedPath()
	switch {
	case path == "":
		path = "/"
	case path[0] != '/':
		return "", fmt.Errorf("%w: %w: not an origin-form path", ErrInvalidRequest, errUncleanPath)
	case v.prefix && !cleanPath(path):
		return "", fmt.Errorf("%w: %w", ErrInvalidRequest, errUncleanPath)
	}
	return path, nil
}

// VerifyProof checks the proof of a request to an authorization server
// (a token or PAR request, RFC 9449 §5), which carries no access token:
// exactly one DPoP header (RFC 9449 §4.3 check 1), at most MaxProofBytes,
// a compact JWS (a JWE or anything else is refused) whose "typ", "alg"
// (allow-list) and "jwk" (public, supported, fitting "alg") pass, with the
// required claims, "htm" equal to r's method, "htu" equal to BaseURL
// followed by r's path (query and fragment ignored, after RFC 3986
// normalization), "iat" within the window, the nonce when Nonces is set,
// a valid signature, and last a "jti" the replay store has not seen, so
// that only fully valid proofs use up a jti. "ath", if present, is not
// checked. Failures are [*Error] values wrapping [ErrInvalidProof] (or
// [ErrUseNonce]); a replay store failure wraps [ErrReplayStore]. Answer a
// failure with [Verifier.WriteTokenError] and a success with
// [Verifier.AdvanceNonce]. r is not modified.
func (v *Verifier) VerifyProof(r *http.Request) (*Proof, error) {
	if err := v.init(); err != nil {
		return nil, err
	}
	return v.verifyRequest(r, nil)
}

// verifyRequest checks the proof of r, with a binding for a resource
// request.
func (v *Verifier) verifyRequest(r *http.Request, b *binding) (*Proof, error) {
	vals := r.Header["Dpop"] // http.CanonicalHeaderKey("DPoP")
	switch len(vals) {
	case 0:
		return nil, invalid(errNoProof, "missing DPoP proof")
	case 1:
	default:
		return nil, invalid(errMultipleProofs, "more than one DPoP header")
	}
	path, err := v.requestPath(r)
	if err != nil {
		return nil, err
	}
	return v.verify(r.Context(), vals[0], r.Method, v.base, path, b)
}

// proofClaims holds a proof's claims as slices of the decoded payload.
// Parsers return it by value, never through a pointer, so that the decoded
// segments can stay on the verifier's stack.
type proofClaims struct {
	jti, htm, htu, nonce, ath claim
	iat                       int64
	hasIat                    bool
}

// verify checks one proof received with a request of the given method and
// target URI (base followed by path), in the order VerifyProof documents;
// b, when set, adds "ath" and the key binding.
func (v *Verifier) verify(ctx context.Context, proof, method, base, path string, b *binding) (*Proof, error) {
	max := v.MaxProofBytes
	if max == 0 {
		max = DefaultMaxProofBytes
	}
	if len(proof) > max {
		return nil, invalid(errProofTooLarge, "proof too large")
	}
	// One buffer for the three decoded segments, on the stack when it fits
	// (a proof with a P-256 key needs about 450 bytes).
	var stack [1536]byte
	header, payload, sig, signed, err := jose.DecodeCompact(proof, stack[:0])
	if err != nil {
		return nil, invalidCause(errMalformedProof, "not a compact JWS", err)
	}
	ph, err := jose.ParseDPoPHeader(header, v.algs, &v.keys)
	if err != nil {
		return nil, headerError(err)
	}
	p, perr := parseClaims(payload)
	if perr != nil {
		return nil, perr
	}

	// Claims (checks 8 to 12).
	if string(p.htm.v) != method {
		return nil, invalid(errProofMethod, "htm does not match the request method")
	}
	if !sameHTU(p.htu.v, base, path) {
		return nil, invalid(errProofURI, "htu does not match the request URI")
	}
	now := v.now()
	iat := time.Unix(p.iat, 0)
	skew, maxAge := v.skew(), v.maxAge()
	if iat.After(now.Add(skew)) {
		return nil, invalid(errProofNotYetValid, "iat is in the future")
	}
	if now.After(iat.Add(maxAge + skew)) {
		return nil, invalid(errProofExpired, "iat is too old")
	}
	var nonceLeft time.Duration
	if v.Nonces != nil {
		if p.nonce.v == nil {
			return nil, useNonce(errNonceMissing, "nonce required")
		}
		left, err := v.Nonces.verify(string(p.nonce.v), v.Nonces.now())
		if err != nil {
			return nil, err
		}
		nonceLeft = left
	}
	if b != nil {
		var want [43]byte
		appendATH(want[:0], b.token)
		if subtle.ConstantTimeCompare(want[:], p.ath.v) != 1 {
			return nil, invalid(errAccessTokenHash, "ath does not match the access token")
		}
	}

	// Signature (check 6).
	if err := jose.VerifySignature(ph.Alg, v.algs, ph.Key, []byte(proof[:signed]), sig); err != nil {
		if errors.Is(err, jose.ErrInvalidSignature) {
			return nil, invalidCause(errProofSignature, "signature does not verify", err)
		}
		return nil, invalidCause(errProofKey, "jwk does not fit alg", err)
	}

	// Token binding (check 12).
	if b != nil {
		if err := b.check(ph.Key, ph.JKT); err != nil {
			return nil, err
		}
	}

	// Replay (§11.1), last: only a proof that passed everything uses up
	// its jti.
	var kb [64 + maxJTI]byte
	sum := sha256.Sum256(append(append(append(kb[:0], ph.JKT...), 0), p.jti.v...))
	fresh, err := v.store().CheckAndStore(ctx, b64.EncodeToString(sum[:]), iat, iat.Add(maxAge+2*skew+replayMargin))
	switch {
	case errors.Is(err, ErrReplay):
		return nil, invalidCause(ErrReplay, "proof may be replayed: send a fresh one", err)
	case errors.Is(err, ErrReplayStore):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrReplayStore, err)
	case !fresh:
		return nil, invalid(ErrReplay, "jti already used")
	}
	// One string for the claims the result keeps: they are sub-strings of
	// the payload unless they held JSON escapes.
	ps := string(payload)
	out := &Proof{
		JKT:             ph.JKT,
		Key:             ph.Key,
		Algorithm:       ph.Alg,
		ID:              p.jti.in(ps),
		Method:          method,
		URI:             p.htu.in(ps),
		IssuedAt:        iat,
		Nonce:           p.nonce.in(ps),
		AccessTokenHash: p.ath.in(ps),
		nonceLeft:       nonceLeft,
	}
	return out, nil
}

// headerError maps an error of jose.ParseDPoPHeader to the proof error.
func headerError(err error) *Error {
	switch {
	case errors.Is(err, jose.ErrType):
		return invalidCause(errProofType, "typ is not dpop+jwt", err)
	case errors.Is(err, jose.ErrAlgorithmNotAllowed):
		return invalidCause(errProofAlgorithm, "alg not allowed", err)
	case errors.Is(err, jose.ErrPrivateKey):
		return invalidCause(errProofKey, "jwk contains private key material", err)
	case errors.Is(err, jose.ErrUnsupportedKey), errors.Is(err, jose.ErrKeyMismatch):
		return invalidCause(errProofKey, "missing, unsupported or invalid jwk", err)
	}
	return invalidCause(errMalformedProof, "malformed proof header", err)
}

// claim is a string claim: its unescaped value and, when it held no
// escapes, its offset in the payload.
type claim struct {
	v   []byte
	off int // -1 when v is not a sub-slice of the payload
}

// in returns the claim as a string, sharing ps when possible.
func (c claim) in(ps string) string {
	if c.off >= 0 && c.off+len(c.v) <= len(ps) {
		return ps[c.off : c.off+len(c.v)]
	}
	return string(c.v)
}

// sameHTU reports whether htu names the request URI base+path: equal as
// is (the common case, compared without concatenating), or after
// normalization.
func sameHTU(htu []byte, base, path string) bool {
	uri := base
	if base == "" {
		uri = path
	}
	if len(htu) == len(base)+len(path) && string(htu[:len(base)]) == base && string(htu[len(base):]) == path && isHTTPURI(uri) {
		return true
	}
	return sameURI(string(htu), base+path)
}

// isHTTPURI reports whether s starts with http:// or https://; with
// the exact-match fast path, it keeps other schemes out.
func isHTTPURI(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// sameURI compares htu with the request URI after normalization.
func sameURI(htu, uri string) bool {
	a, err := normalizeURI(htu)
	if err != nil {
		return false
	}
	b, err := normalizeURI(uri)
	return err == nil && a == b
}

// String claims of a proof.
const (
	cJTI = iota + 1
	cHTM
	cHTU
	cATH
	cNonce
)

func parseClaims(payload []byte) (p proofClaims, perr *Error) {
	// The reader rejects repeated names (case variants included), so each
	// claim below is read at most once.
	r := strictjson.NewReader(payload)
	err := r.Enter()
	for err == nil {
		var name []byte
		var more bool
		if name, more, err = r.Next(); err != nil || !more {
			break
		}
		var which int
		switch string(name) {
		case "jti":
			which = cJTI
		case "htm":
			which = cHTM
		case "htu":
			which = cHTU
		case "ath":
			which = cATH
		case "nonce":
			which = cNonce
		case "iat":
			p.iat, err = r.NumericDate()
			p.hasIat = err == nil
			continue
		default:
			err = r.Skip()
			continue
		}
		r.Kind()              // skip whitespace: the value starts at Offset
		off := r.Offset() + 1 // after the opening quote
		var v []byte
		if v, err = r.Str(); err == nil && v == nil {
			v = []byte{}
		}
		if r.Offset()-1-off != len(v) { // escapes were decoded: not a sub-slice
			off = -1
		}
		c := claim{v: v, off: off}
		switch which {
		case cJTI:
			p.jti = c
		case cHTM:
			p.htm = c
		case cHTU:
			p.htu = c
		case cATH:
			p.ath = c
		case cNonce:
			p.nonce = c
		}
	}
	if err == nil {
		err = r.End()
	}
	switch {
	case errors.Is(err, strictjson.ErrDuplicate):
		return p, invalid(errMalformedProof, "duplicate claim")
	case err != nil:
		return p, invalid(errMalformedProof, "claims are not a JSON object of the expected types")
	case len(p.jti.v) == 0 || !p.hasIat || len(p.htm.v) == 0 || len(p.htu.v) == 0:
		return p, invalid(errMalformedProof, "missing jti, htm, htu or iat")
	case len(p.jti.v) > maxJTI:
		return p, invalid(errMalformedProof, "jti too long")
	}
	return p, nil
}
