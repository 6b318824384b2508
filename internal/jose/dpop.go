package jose

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// DPoP proofs (RFC 9449 §4.2, https://datatracker.ietf.org/doc/html/rfc9449#section-4.2).
//
// A DPoP verifier checks one proof per request, each signed by a key the
// proof carries in its header, so the generic [ParseCompact] (which
// allocates a header struct and parses the "jwk" with encoding/json) would
// cost more than the signature check itself. [DecodeCompact] and
// [ParseDPoPHeader] read the same syntax with the same strictness
// (canonical base64url, strictjson's rules on names, a public JWK validated
// like [ParseJWK]) without allocating: segments are decoded into the
// caller's buffer, the header is read by strictjson's pull reader, and
// parsed proof keys are cached by their RFC 7638 canonical form in a
// [KeyCache], since clients sign many proofs with one key.

// DPoPType is the "typ" header of a DPoP proof (RFC 9449 §4.2).
const DPoPType = "dpop+jwt"

// Errors of [DecodeCompact] and [ParseDPoPHeader]. Each wraps one of the
// package's sentinels, and carries a fixed text that holds no input.
var (
	errNotCompact   = fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	errJWE          = fmt.Errorf("%w: got a JWE where a JWS was expected", ErrMalformed)
	errB64Header    = fmt.Errorf("%w: header is not base64url", ErrMalformed)
	errB64Payload   = fmt.Errorf("%w: payload is not base64url", ErrMalformed)
	errB64Signature = fmt.Errorf("%w: signature is not base64url", ErrMalformed)
	errDuplicate    = fmt.Errorf("%w: duplicate header parameter", ErrMalformed)
	errHeaderJSON   = fmt.Errorf("%w: header is not a JSON object of the expected types", ErrMalformed)
	errJWEParams    = fmt.Errorf("%w: JWE parameters in a JWS header", ErrMalformed)
	errDPoPType     = fmt.Errorf("%w: typ is not %s", ErrType, DPoPType)
	errNoAlg        = fmt.Errorf("%w: missing alg", ErrAlgorithmNotAllowed)
	errAlg          = fmt.Errorf("%w: alg not in the allow-list", ErrAlgorithmNotAllowed)
	errNoJWK        = fmt.Errorf("%w: missing jwk header", ErrUnsupportedKey)
	errJWK          = fmt.Errorf("%w: unsupported or invalid jwk", ErrUnsupportedKey)
	errJWKAlg       = fmt.Errorf("%w: jwk does not fit alg", ErrKeyMismatch)
	errJWKPrivate   = fmt.Errorf("%w: in the jwk header", ErrPrivateKey)
)

// DecodeCompact splits a compact JWS (RFC 7515 §7.1) and decodes its three
// segments into buf, reusing buf's storage when its capacity suffices (a
// caller passes a stack array to avoid allocating). It returns the decoded
// header, payload and signature, which alias buf, and the length of the
// signing input ("header.payload") in token. Three non-empty segments of
// canonical unpadded base64url are required; a five-segment value (a JWE),
// padding, line breaks, or any other character is ErrMalformed.
// DecodeCompact does not bound token's size: the caller does.
func DecodeCompact(token string, buf []byte) (header, payload, sig []byte, signed int, err error) {
	d1 := strings.IndexByte(token, '.')
	d2 := -1
	if d1 >= 0 {
		if d2 = strings.IndexByte(token[d1+1:], '.'); d2 >= 0 {
			d2 += d1 + 1
		}
	}
	if d1 <= 0 || d2 < 0 || d2 == d1+1 || d2 == len(token)-1 {
		return nil, nil, nil, 0, errNotCompact
	}
	if strings.IndexByte(token[d2+1:], '.') >= 0 {
		if Segments(token) == 5 {
			return nil, nil, nil, 0, errJWE
		}
		return nil, nil, nil, 0, errNotCompact
	}
	// encoding/base64 skips CR and LF even in strict mode: refuse them, so
	// that one proof has one spelling.
	if strings.IndexByte(token, '\n') >= 0 || strings.IndexByte(token, '\r') >= 0 {
		return nil, nil, nil, 0, errNotCompact
	}
	n := b64.DecodedLen(d1) + b64.DecodedLen(d2-d1-1) + b64.DecodedLen(len(token)-d2-1)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	hn, err := b64.Decode(buf, []byte(token[:d1]))
	if err != nil || hn == 0 {
		return nil, nil, nil, 0, errB64Header
	}
	header, rest := buf[:hn:hn], buf[hn:]
	pn, err := b64.Decode(rest, []byte(token[d1+1:d2]))
	if err != nil {
		return nil, nil, nil, 0, errB64Payload
	}
	payload, rest = rest[:pn:pn], rest[pn:]
	sn, err := b64.Decode(rest, []byte(token[d2+1:]))
	if err != nil || sn == 0 {
		return nil, nil, nil, 0, errB64Signature
	}
	return header, payload, rest[:sn:sn], d2, nil
}

// DPoPHeader is what a verifier keeps of a DPoP proof's protected header.
type DPoPHeader struct {
	// Alg is the "alg" header: a supported algorithm of the allow-list.
	Alg string
	// Key is the public key of the "jwk" header: *ecdsa.PublicKey,
	// ed25519.PublicKey or *rsa.PublicKey, validated as by [ParseJWK].
	Key crypto.PublicKey
	// JKT is the key's RFC 7638 SHA-256 thumbprint, base64url.
	JKT string
}

// ParseDPoPHeader reads the decoded protected header of a DPoP proof and
// applies the header checks of RFC 9449 §4.3
// (https://datatracker.ietf.org/doc/html/rfc9449#section-4.3): one JSON
// object under strictjson's rules (no repeated or case-variant names,
// valid UTF-8, bounded depth; [ErrMalformed]), no JWE parameters
// ([ErrMalformed]) and no "crit" ([ErrCritical]); "typ" is "dpop+jwt" as
// [TypeIs] compares it ([ErrType], check 4); "alg" is a supported
// asymmetric algorithm in algs ([ErrAlgorithmNotAllowed], check 5); "jwk"
// is present and holds no private member ([ErrPrivateKey]), is a public key
// [ParseJWK] accepts ([ErrUnsupportedKey]) and fits alg ([ErrKeyMismatch],
// check 7). cache may be nil. The signature is not checked here: use
// [VerifySignature] with the returned Alg and Key.
func ParseDPoPHeader(header []byte, algs []string, cache *KeyCache) (DPoPHeader, error) {
	var (
		ph             DPoPHeader
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
		return ph, errDuplicate
	case err != nil:
		return ph, errHeaderJSON
	case jwe:
		return ph, errJWEParams
	case crit:
		return ph, ErrCritical
	case !hasTyp || typeErr || !isDPoPType(typ):
		return ph, errDPoPType
	case !hasAlg:
		return ph, errNoAlg
	}
	ph.Alg = signatureAlgorithm(alg)
	if ph.Alg == "" || !contains(algs, ph.Alg) {
		return ph, errAlg
	}
	if !hasJWK {
		return ph, errNoJWK
	}
	if jwk.private {
		return ph, errJWKPrivate
	}
	key, jkt, err := cache.publicKey(&jwk)
	if err != nil {
		return ph, err
	}
	info, _ := algorithm(ph.Alg)
	if checkKey(info, key) != nil {
		return ph, errJWKAlg
	}
	ph.Key, ph.JKT = key, jkt
	return ph, nil
}

// isDPoPType is TypeIs(typ, DPoPType) for a byte slice, without
// converting it: "dpop+jwt" in any case, with or without "application/".
func isDPoPType(typ []byte) bool {
	const app = "application/"
	if len(typ) == len(app)+len(DPoPType) && strings.EqualFold(string(typ[:len(app)]), app) {
		typ = typ[len(app):]
	}
	return strings.EqualFold(string(typ), DPoPType)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// signatureAlgorithms are the names signatureAlgorithm knows.
var signatureAlgorithms = [...]string{ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512, EdDSA}

// signatureAlgorithm maps a header's alg to the package constant, or ""
// for anything else; the comparison does not convert (or allocate) a.
func signatureAlgorithm(a []byte) string {
	for _, n := range signatureAlgorithms {
		if string(a) == n {
			return n
		}
	}
	return ""
}

// jwkMembers are the members of a proof's "jwk" header that make the key.
type jwkMembers struct {
	kty, crv, x, y, n, e []byte
	private              bool
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
		// Assigned by index, not through a pointer: a store through a
		// pointer would make the header escape to the heap.
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

// jwkMember returns the index of a jwk member readJWK keeps, or -1.
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

// canonical appends the RFC 7638 §3 canonical JSON of the key's required
// members, as they appear: the key is accepted only when they are the
// canonical base64url of the key (strict decoding, exact lengths, no
// leading zero; see rawJWK.publicKey), so the thumbprint needs no
// re-encoding. Only base64url characters are allowed (curve names
// included), so the values need no escaping and distinct keys have
// distinct canonical forms.
func (j *jwkMembers) canonical(c []byte) ([]byte, bool) {
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

// KeyCacheSize bounds a [KeyCache].
const KeyCacheSize = 1024

// KeyCache maps the RFC 7638 canonical JSON of DPoP proof keys to the
// parsed key and its thumbprint, so that a client's many proofs cost one
// key validation. Only keys that parsed and validated are cached; the
// cache is emptied when it holds [KeyCacheSize] keys, which bounds its
// memory whatever keys an attacker sends. The zero value is ready to use
// and safe for concurrent use; a nil *KeyCache caches nothing.
type KeyCache struct {
	mu sync.RWMutex
	m  map[string]cachedKey
}

type cachedKey struct {
	key crypto.PublicKey
	jkt string
}

// publicKey returns the key of a proof's jwk and its thumbprint. The key
// is validated by the same code as [ParseJWK]'s.
func (kc *KeyCache) publicKey(j *jwkMembers) (crypto.PublicKey, string, error) {
	var tp [128]byte // an EC P-521 key's canonical JSON fits; RSA spills to the heap
	c, ok := j.canonical(tp[:0])
	if !ok {
		return nil, "", errJWK
	}
	if kc != nil {
		kc.mu.RLock()
		e, hit := kc.m[string(c)]
		kc.mu.RUnlock()
		if hit {
			return e.key, e.jkt, nil
		}
	}
	raw := rawJWK{Kty: string(j.kty), Crv: string(j.crv), X: string(j.x), Y: string(j.y), N: string(j.n), E: string(j.e)}
	key, err := raw.publicKey()
	if err != nil {
		return nil, "", errJWK
	}
	if rk, ok := key.(*rsa.PublicKey); ok && rk.N.BitLen() > MaxProofRSABits {
		return nil, "", errJWK
	}
	sum := sha256.Sum256(c)
	e := cachedKey{key: key, jkt: b64.EncodeToString(sum[:])}
	if kc != nil {
		kc.mu.Lock()
		if kc.m == nil || len(kc.m) >= KeyCacheSize {
			kc.m = make(map[string]cachedKey)
		}
		kc.m[string(c)] = e
		kc.mu.Unlock()
	}
	return e.key, e.jkt, nil
}
