package dpop

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
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
	keys      keyCache
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

// proofHeader is what the verifier keeps of a proof's header.
type proofHeader struct {
	alg string
	key crypto.PublicKey
	jkt string
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
	d1 := strings.IndexByte(proof, '.')
	d2 := -1
	if d1 >= 0 {
		if d2 = strings.IndexByte(proof[d1+1:], '.'); d2 >= 0 {
			d2 += d1 + 1
		}
	}
	if d1 <= 0 || d2 < 0 || d2 == d1+1 || d2 == len(proof)-1 {
		return nil, invalid(ErrMalformedProof, "not a compact JWS")
	}
	if strings.IndexByte(proof[d2+1:], '.') >= 0 {
		if strings.Count(proof, ".") == 4 {
			return nil, invalid(ErrMalformedProof, "a JWE is not a DPoP proof")
		}
		return nil, invalid(ErrMalformedProof, "not a compact JWS")
	}
	raw := []byte(proof)
	// One buffer for the three decoded segments, on the stack when it fits
	// (a proof with a P-256 key needs about 450 bytes).
	var stack [1536]byte
	var buf []byte
	if n := b64.DecodedLen(d1) + b64.DecodedLen(d2-d1-1) + b64.DecodedLen(len(proof)-d2-1); n <= len(stack) {
		buf = stack[:n]
	} else {
		buf = make([]byte, n)
	}
	hn, err := b64.Decode(buf, raw[:d1])
	if err != nil {
		return nil, invalid(ErrMalformedProof, "header is not base64url")
	}
	header := buf[:hn:hn]
	rest := buf[hn:]
	pn, err := b64.Decode(rest, raw[d1+1:d2])
	if err != nil {
		return nil, invalid(ErrMalformedProof, "payload is not base64url")
	}
	payload := rest[:pn:pn]
	rest = rest[pn:]
	sn, err := b64.Decode(rest, raw[d2+1:])
	if err != nil || sn == 0 {
		return nil, invalid(ErrMalformedProof, "signature is not base64url")
	}
	sig := rest[:sn]

	ph, perr := v.parseHeader(header)
	if perr != nil {
		return nil, perr
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
	if err := jose.VerifySignature(ph.alg, v.algs, ph.key, raw[:d2], sig); err != nil {
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
		if !b.Confirmation.Matches(ph.jkt) {
			return nil, badToken(ErrKeyBinding, "Invalid DPoP key binding")
		}
	}

	// Replay (§11.1), last: only a proof that passed everything uses up
	// its jti.
	var kb [64 + maxJTI]byte
	sum := sha256.Sum256(append(append(append(kb[:0], ph.jkt...), 0), p.jti.v...))
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
		JKT:             ph.jkt,
		Key:             ph.key,
		Algorithm:       ph.alg,
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

// isProofType reports whether typ is "dpop+jwt", case-insensitively, with
// or without the "application/" prefix RFC 7515 §4.1.9 allows.
func isProofType(typ []byte) bool {
	if len(typ) == len("application/")+len(ProofType) && strings.EqualFold(string(typ[:len("application/")]), "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(string(typ), ProofType)
}

// signatureAlgorithms are the algorithm names algName knows.
var signatureAlgorithms = [...]string{
	jose.ES256, jose.ES384, jose.ES512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.RS256, jose.RS384, jose.RS512,
	jose.EdDSA,
}

// algName maps a header's alg to the package constant, without allocating
// (the compiler compares string(a) without converting it).
func algName(a []byte) string {
	for _, n := range signatureAlgorithms {
		if string(a) == n {
			return n
		}
	}
	return ""
}

// jwkMembers are the members of a proof's "jwk" header.
type jwkMembers struct {
	kty, crv, x, y, n, e []byte
	private              bool
}

// jwkMember returns the index of a jwk member this package reads, or -1.
func jwkMember(name []byte) int {
	switch string(name) {
	case "kty":
		return 0
	case "crv":
		return 1
	case "x":
		return 2
	case "y":
		return 3
	case "n":
		return 4
	case "e":
		return 5
	}
	return -1
}

func (v *Verifier) parseHeader(header []byte) (ph proofHeader, perr *ProofError) {
	var (
		typ, alg       []byte
		hasTyp, hasAlg bool
		hasJWK, crit   bool
		jwe, typeErr   bool
		jwk            jwkMembers
	)
	// The reader rejects repeated names (case variants included), so each
	// member below is read at most once.
	r := strictjson.NewReader(header)
	err := r.Enter()
	for err == nil {
		var name []byte
		var more bool
		if name, more, err = r.Next(); err != nil || !more {
			break
		}
		switch string(name) {
		case "typ":
			hasTyp = true
			if r.Kind() != '"' {
				typeErr = true
				err = r.Skip()
				break
			}
			typ, err = r.Str()
		case "alg":
			hasAlg = true
			alg, err = r.Str()
		case "jwk":
			hasJWK = true
			jwk, err = readJWK(&r)
		case "crit":
			crit = true
			err = r.Skip()
		case "enc", "zip":
			jwe = true
			err = r.Skip()
		default:
			err = r.Skip()
		}
	}
	if err == nil {
		err = r.End()
	}
	switch {
	case errors.Is(err, strictjson.ErrDuplicate):
		return ph, invalid(ErrMalformedProof, "duplicate header parameter")
	case err != nil:
		return ph, invalid(ErrMalformedProof, "header is not a JSON object")
	case jwe:
		return ph, invalid(ErrMalformedProof, "JWE header parameters in a JWS")
	case crit:
		return ph, invalid(ErrMalformedProof, "unsupported critical header parameter")
	case !hasTyp || typeErr || !isProofType(typ):
		return ph, invalid(ErrProofType, "typ is not dpop+jwt")
	case !hasAlg:
		return ph, invalid(ErrProofAlgorithm, "missing alg")
	}
	ph.alg = algName(alg)
	if ph.alg == "" || !contains(v.algs, ph.alg) {
		return ph, invalid(ErrProofAlgorithm, "alg not allowed")
	}
	if !hasJWK {
		return ph, invalid(ErrProofKey, "missing jwk header")
	}
	if jwk.private {
		return ph, invalid(ErrProofKey, "jwk contains private key material")
	}
	key, jkt, err := v.keys.publicKey(&jwk)
	if err != nil {
		return ph, invalidCause(ErrProofKey, "unsupported or invalid jwk", err)
	}
	ph.key, ph.jkt = key, jkt
	return ph, nil
}

// readJWK reads the jwk object's members. It returns them by value (not
// through a pointer) so that the decoded header can stay on the caller's
// stack.
func readJWK(r *strictjson.Reader) (j jwkMembers, err error) {
	if err := r.Enter(); err != nil {
		return j, err
	}
	for {
		name, more, err := r.Next()
		if err != nil || !more {
			return j, err
		}
		idx := jwkMember(name)
		if idx < 0 {
			switch string(name) {
			case "d", "p", "q", "dp", "dq", "qi", "oth", "k":
				j.private = true
			}
			if err := r.Skip(); err != nil {
				return j, err
			}
			continue
		}
		v, err := r.Str()
		if err != nil {
			return j, err
		}
		switch idx {
		case 0:
			j.kty = v
		case 1:
			j.crv = v
		case 2:
			j.x = v
		case 3:
			j.y = v
		case 4:
			j.n = v
		case 5:
			j.e = v
		}
	}
}

var errKey = errors.New("invalid key")

// keyCacheSize bounds the verifier's cache of parsed proof keys.
const keyCacheSize = 1024

// keyCache maps the RFC 7638 canonical JSON of a proof key to the parsed
// key and its thumbprint. Clients sign many proofs with one key, so this
// saves the point decoding and a hash per proof. Only keys that parsed and
// validated are cached; the cache is emptied when full.
type keyCache struct {
	mu sync.RWMutex
	m  map[string]cachedKey
}

type cachedKey struct {
	key crypto.PublicKey
	jkt string
}

// publicKey returns the key of a proof's jwk and its thumbprint.
func (kc *keyCache) publicKey(j *jwkMembers) (crypto.PublicKey, string, error) {
	var tp [128]byte
	c, ok := j.canonical(tp[:0])
	if !ok {
		return nil, "", errKey
	}
	kc.mu.RLock()
	e, hit := kc.m[string(c)]
	kc.mu.RUnlock()
	if hit {
		return e.key, e.jkt, nil
	}
	key, err := j.parse()
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(c)
	e = cachedKey{key: key, jkt: b64.EncodeToString(sum[:])}
	kc.mu.Lock()
	if kc.m == nil || len(kc.m) >= keyCacheSize {
		kc.m = make(map[string]cachedKey)
	}
	kc.m[string(c)] = e
	kc.mu.Unlock()
	return e.key, e.jkt, nil
}

// canonical appends the RFC 7638 §3 canonical JSON of the key's required
// members, as they appear: parse accepts them only when they are the
// canonical base64url of the key (strict decoding, exact lengths, no
// leading zero), so the thumbprint needs no re-encoding. Member values
// holding characters that need JSON escaping fail parse, so writing them
// raw here is safe.
func (j *jwkMembers) canonical(c []byte) ([]byte, bool) {
	// Only base64url characters (crv names included): the concatenation
	// below is then unambiguous, so distinct keys have distinct entries.
	for _, m := range [...][]byte{j.crv, j.x, j.y, j.n, j.e} {
		for _, ch := range m {
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				return nil, false
			}
		}
	}
	switch string(j.kty) {
	case "EC":
		c = append(c, `{"crv":"`...)
		c = append(c, j.crv...)
		c = append(c, `","kty":"EC","x":"`...)
		c = append(c, j.x...)
		c = append(c, `","y":"`...)
		c = append(c, j.y...)
	case "OKP":
		c = append(c, `{"crv":"`...)
		c = append(c, j.crv...)
		c = append(c, `","kty":"OKP","x":"`...)
		c = append(c, j.x...)
	case "RSA":
		c = append(c, `{"e":"`...)
		c = append(c, j.e...)
		c = append(c, `","kty":"RSA","n":"`...)
		c = append(c, j.n...)
	default:
		return nil, false
	}
	return append(c, `"}`...), true
}

// parse builds and validates the public key.
func (j *jwkMembers) parse() (crypto.PublicKey, error) {
	switch string(j.kty) {
	case "EC":
		var curve elliptic.Curve
		var size int
		switch string(j.crv) {
		case "P-256":
			curve, size = elliptic.P256(), 32
		case "P-384":
			curve, size = elliptic.P384(), 48
		case "P-521":
			curve, size = elliptic.P521(), 66
		default:
			return nil, errKey
		}
		var pt [1 + 2*66]byte
		pt[0] = 4
		if b64.DecodedLen(len(j.x)) != size || b64.DecodedLen(len(j.y)) != size {
			return nil, errKey
		}
		if n, err := b64.Decode(pt[1:1+size], j.x); err != nil || n != size {
			return nil, errKey
		}
		if n, err := b64.Decode(pt[1+size:1+2*size], j.y); err != nil || n != size {
			return nil, errKey
		}
		k, err := ecdsa.ParseUncompressedPublicKey(curve, pt[:1+2*size])
		if err != nil {
			return nil, errKey
		}
		return k, nil
	case "OKP":
		if string(j.crv) != "Ed25519" || b64.DecodedLen(len(j.x)) != ed25519.PublicKeySize {
			return nil, errKey
		}
		k := make(ed25519.PublicKey, ed25519.PublicKeySize)
		if n, err := b64.Decode(k, j.x); err != nil || n != ed25519.PublicKeySize {
			return nil, errKey
		}
		return k, nil
	case "RSA":
		n, err1 := b64.DecodeString(string(j.n))
		e, err2 := b64.DecodeString(string(j.e))
		if err1 != nil || err2 != nil || len(n) == 0 || n[0] == 0 || len(e) == 0 || len(e) > 4 || e[0] == 0 {
			return nil, errKey
		}
		ev := 0
		for _, x := range e {
			ev = ev<<8 | int(x)
		}
		if ev < 3 || ev%2 == 0 {
			return nil, errKey
		}
		k := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
		if bits := k.N.BitLen(); bits < jose.MinRSABits || bits > jose.MaxRSABits {
			return nil, errKey
		}
		return k, nil
	}
	return nil, errKey
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
