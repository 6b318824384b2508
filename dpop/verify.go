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

// Verifier checks DPoP proofs on an authorization server or a resource
// server: every check of RFC 9449 §4.3
// (https://datatracker.ietf.org/doc/html/rfc9449#section-4.3), the access
// token binding of §7.1, replay detection (§11.1) and, when Nonces is set,
// server-provided nonces (§8, §9).
//
// The zero value verifies proofs with the FAPI 2.0 algorithms, a five
// minute window, an in-memory replay store and no nonces. As middleware
// ([Verifier.Wrap]) it also needs Token. A Verifier is safe for concurrent
// use; it must not be copied, nor its fields changed, after first use.
type Verifier struct {
	// Algorithms is the allow-list of proof algorithms. Nil means ES256,
	// PS256 and EdDSA. "none" and symmetric algorithms cannot be listed:
	// an unsupported name fails every call with [ErrInvalidConfig].
	Algorithms []string

	// BaseURL is the scheme, host and optional path prefix by which clients
	// reach this server, e.g. "https://api.example.com" or
	// "https://example.com/api" behind a TLS-terminating proxy that strips
	// "/api". The expected "htu" is BaseURL followed by the request's path.
	// Empty means the request's own view: https if it arrived over TLS,
	// http otherwise, and r.Host. X-Forwarded-* headers are never
	// believed; set BaseURL instead.
	BaseURL string

	// MaxAge is how long after its "iat" a proof is accepted. Zero means
	// [DefaultMaxAge].
	MaxAge time.Duration
	// Skew is the clock difference tolerated: a proof may be issued up to
	// Skew in the future, and is accepted until MaxAge+Skew after "iat".
	// Zero means [DefaultSkew].
	Skew time.Duration

	// Replay remembers accepted proofs (keyed by the SHA-256 of the key
	// thumbprint and jti) until they leave the time window. Nil means a
	// [MemoryStore] of [DefaultMaxEntries] owned by the Verifier. Servers
	// with several replicas need a shared store (dpop/redisstore).
	Replay ReplayStore

	// Nonces, when set, makes a server-provided nonce mandatory in every
	// proof (RFC 9449 §8 for an authorization server, §9 for a resource
	// server). Error responses then carry a fresh DPoP-Nonce, and
	// successful ones carry the next nonce when the presented one is close
	// to its end.
	Nonces *Nonces

	// MaxProofBytes bounds the DPoP header. Zero means
	// [DefaultMaxProofBytes].
	MaxProofBytes int

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// Token is used by [Verifier.Wrap] and [Verifier.Authenticate] only. It
	// verifies an access token and returns its claims as one JSON object:
	// the payload of a JWT access token whose signature, issuer, audience
	// and expiry it has checked, or an RFC 7662 introspection response. Its
	// "cnf" claim binds the token to a key. An error rejects the request
	// with 401 invalid_token; the error goes to OnError, never to the
	// client.
	Token func(ctx context.Context, token string) (json.RawMessage, error)

	// InsecureAllowBearer makes [Verifier.Wrap] also accept unbound tokens
	// (no "cnf") presented with the Bearer scheme, without a proof, for a
	// resource server that serves both kinds of clients (RFC 9449 §7.2). A
	// DPoP-bound token presented as a Bearer token is refused even then
	// ([ErrBearerDowngrade]). The zero value accepts the DPoP scheme only.
	InsecureAllowBearer bool

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
	mem       MemoryStore
	keys      jose.KeyCache
}

// Binding is what a proof sent to a resource server must match: the access
// token it accompanies ("ath") and that token's confirmation (the proof
// key's thumbprint).
type Binding struct {
	// AccessToken is the token of the Authorization header. Required.
	AccessToken string
	// Confirmation is the token's "cnf". It must be bound.
	Confirmation Confirmation
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

func (v *Verifier) init() error {
	v.once.Do(func() {
		algs := v.Algorithms
		if algs == nil {
			algs = jose.DefaultAlgorithms
		}
		if err := jose.CheckAlgorithms(algs); err != nil {
			v.cfgErr = fmt.Errorf("%w: Algorithms: %w", ErrInvalidConfig, err)
			return
		}
		v.algs = append([]string(nil), algs...)
		v.mem.Now = v.Now // the default store follows the verifier's clock
		v.algsParam = strings.Join(v.algs, " ")
		if v.MaxAge < 0 || v.Skew < 0 || v.MaxProofBytes < 0 {
			v.cfgErr = fmt.Errorf("%w: negative MaxAge, Skew or MaxProofBytes", ErrInvalidConfig)
			return
		}
		if v.Nonces != nil {
			if err := v.Nonces.check(); err != nil {
				v.cfgErr = err
				return
			}
		}
		if v.BaseURL != "" {
			u, err := url.Parse(v.BaseURL)
			if err != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
				v.cfgErr = fmt.Errorf("%w: BaseURL must be an absolute http(s) URL without query or fragment", ErrInvalidConfig)
				return
			}
			n, err := normalizeURI(v.BaseURL)
			if err != nil {
				v.cfgErr = fmt.Errorf("%w: BaseURL must be an absolute http(s) URL without query or fragment", ErrInvalidConfig)
				return
			}
			v.base = strings.TrimSuffix(n, "/")
		}
	})
	return v.cfgErr
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

// Algs returns the space-separated allow-list, as sent in the "algs"
// challenge parameter and as dpop_signing_alg_values_supported.
func (v *Verifier) Algs() string {
	if v.init() != nil {
		return ""
	}
	return v.algsParam
}

// RequestURI returns the URI a proof for r must carry as "htu", before
// normalization: BaseURL (or the request's scheme and Host) followed by
// the request's escaped path.
func (v *Verifier) RequestURI(r *http.Request) string {
	_ = v.init()
	path := r.URL.EscapedPath()
	if v.base != "" {
		if path == "" {
			path = "/"
		}
		return v.base + path
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return scheme + r.Host + path
}

// Verify checks the proof of an HTTP request: the single DPoP header (RFC
// 9449 §4.3 check 1), then everything [Verifier.VerifyProof] checks, with
// r's method and [Verifier.RequestURI]. A nil b verifies a proof sent to an
// authorization server; a resource server passes the access token and its
// confirmation. r is not modified.
func (v *Verifier) Verify(r *http.Request, b *Binding) (*Proof, error) {
	if err := v.init(); err != nil {
		return nil, err
	}
	vals := r.Header["Dpop"] // http.CanonicalHeaderKey("DPoP")
	switch len(vals) {
	case 0:
		return nil, invalid(ErrNoProof, "missing DPoP proof")
	case 1:
	default:
		return nil, invalid(ErrMultipleProofs, "more than one DPoP header")
	}
	return v.verify(r.Context(), vals[0], r.Method, v.RequestURI(r), b)
}

// VerifyProof checks one proof (the DPoP header's value) received with an
// HTTP request of the given method and target URI (query and fragment are
// ignored), in this order: size, compact JWS structure (a JWE or
// anything else is refused), "typ", "alg" against the allow-list, the
// "jwk" (public, supported, fitting "alg"), the required claims, "htm",
// "htu" (after normalization), "iat" within the window, the nonce when
// Nonces is set, "ath" and the token binding when b is not nil, the
// signature, and last the replay store, so that only fully valid proofs
// use up a jti. Failures are [*ProofError] values wrapping the sentinels
// of errors.go; a replay store failure wraps [ErrReplayStore].
func (v *Verifier) VerifyProof(ctx context.Context, proof, method, uri string, b *Binding) (*Proof, error) {
	if err := v.init(); err != nil {
		return nil, err
	}
	return v.verify(ctx, proof, method, uri, b)
}

// proofClaims holds a proof's claims as slices of the decoded payload.
// Parsers return it by value, never through a pointer, so that the decoded
// segments can stay on the verifier's stack.
type proofClaims struct {
	jti, htm, htu, nonce, ath claim
	iat                       int64
	hasIat                    bool
}

func (v *Verifier) verify(ctx context.Context, proof, method, uri string, b *Binding) (*Proof, error) {
	max := v.MaxProofBytes
	if max == 0 {
		max = DefaultMaxProofBytes
	}
	if len(proof) > max {
		return nil, invalid(ErrProofTooLarge, "proof too large")
	}
	if b != nil && b.AccessToken == "" {
		return nil, fmt.Errorf("%w: Binding.AccessToken is required", ErrInvalidConfig)
	}
	// One buffer for the three decoded segments, on the stack when it fits
	// (a proof with a P-256 key needs about 450 bytes).
	var stack [1536]byte
	header, payload, sig, signed, err := jose.DecodeCompact(proof, stack[:0])
	if err != nil {
		return nil, invalidCause(ErrMalformedProof, "not a compact JWS", err)
	}
	raw := []byte(proof)
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
		return nil, invalid(ErrProofMethod, "htm does not match the request method")
	}
	if !(string(p.htu.v) == uri && isHTTPURI(uri)) && !sameURI(string(p.htu.v), uri) {
		return nil, invalid(ErrProofURI, "htu does not match the request URI")
	}
	now := v.now()
	iat := time.Unix(p.iat, 0)
	skew, maxAge := v.skew(), v.maxAge()
	if iat.After(now.Add(skew)) {
		return nil, invalid(ErrProofNotYetValid, "iat is in the future")
	}
	if now.After(iat.Add(maxAge + skew)) {
		return nil, invalid(ErrProofExpired, "iat is too old")
	}
	var nonceLeft time.Duration
	if v.Nonces != nil {
		if p.nonce.v == nil {
			return nil, useNonce(ErrNonceMissing, "nonce required")
		}
		left, err := v.Nonces.verify(string(p.nonce.v), v.Nonces.now())
		if err != nil {
			return nil, err
		}
		nonceLeft = left
	}
	if b != nil {
		var want [43]byte
		appendATH(want[:0], b.AccessToken)
		if subtle.ConstantTimeCompare(want[:], p.ath.v) != 1 {
			return nil, invalid(ErrAccessTokenHash, "ath does not match the access token")
		}
	}

	// Signature (check 6).
	if err := jose.VerifySignature(ph.Alg, v.algs, ph.Key, raw[:signed], sig); err != nil {
		switch {
		case errors.Is(err, jose.ErrInvalidSignature):
			return nil, invalid(ErrProofSignature, "signature does not verify")
		case errors.Is(err, jose.ErrAlgorithmNotAllowed), errors.Is(err, jose.ErrNoAlgorithms):
			return nil, invalid(ErrProofAlgorithm, "alg not allowed")
		default:
			return nil, invalid(ErrProofKey, "jwk does not fit alg")
		}
	}

	// Token binding (check 12).
	if b != nil {
		if !b.Confirmation.Bound() {
			return nil, badToken(ErrNoBinding, "access token is not DPoP-bound")
		}
		if !b.Confirmation.Matches(ph.JKT) {
			return nil, badToken(ErrKeyBinding, "Invalid DPoP key binding")
		}
	}

	// Replay (§11.1), last: only a proof that passed everything uses up
	// its jti.
	var kb [64 + maxJTI]byte
	sum := sha256.Sum256(append(append(append(kb[:0], ph.JKT...), 0), p.jti.v...))
	fresh, err := v.store().CheckAndStore(ctx, b64.EncodeToString(sum[:]), iat.Add(maxAge+skew))
	if err != nil {
		if errors.Is(err, ErrReplayStore) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrReplayStore, err)
	}
	if !fresh {
		return nil, invalid(ErrProofReplayed, "jti already used")
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

// headerError maps an error of jose.ParseDPoPHeader to the proof error.
func headerError(err error) *ProofError {
	switch {
	case errors.Is(err, jose.ErrType):
		return invalidCause(ErrProofType, "typ is not dpop+jwt", err)
	case errors.Is(err, jose.ErrAlgorithmNotAllowed):
		return invalidCause(ErrProofAlgorithm, "alg not allowed", err)
	case errors.Is(err, jose.ErrPrivateKey):
		return invalidCause(ErrProofKey, "jwk contains private key material", err)
	case errors.Is(err, jose.ErrUnsupportedKey), errors.Is(err, jose.ErrKeyMismatch):
		return invalidCause(ErrProofKey, "missing, unsupported or invalid jwk", err)
	}
	return invalidCause(ErrMalformedProof, "malformed proof header", err)
}

// String claims of a proof.
const (
	cJTI = iota + 1
	cHTM
	cHTU
	cATH
	cNonce
)

func parseClaims(payload []byte) (p proofClaims, perr *ProofError) {
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
		return p, invalid(ErrMalformedProof, "duplicate claim")
	case err != nil:
		return p, invalid(ErrMalformedProof, "claims are not a JSON object of the expected types")
	case len(p.jti.v) == 0 || !p.hasIat || len(p.htm.v) == 0 || len(p.htu.v) == 0:
		return p, invalid(ErrMalformedProof, "missing jti, htm, htu or iat")
	case len(p.jti.v) > maxJTI:
		return p, invalid(ErrMalformedProof, "jti too long")
	}
	return p, nil
}
