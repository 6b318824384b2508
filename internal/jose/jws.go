package jose

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unsafe"

	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// MaxTokenSize bounds a compact JWS or JWE accepted by the parsers.
const MaxTokenSize = 64 << 10

// Header is the protected header of a compact JWS.
type Header struct {
	// Alg is the "alg" parameter (RFC 7515 §4.1.1).
	Alg string `json:"alg"`
	// Typ is the "typ" parameter (RFC 7515 §4.1.9).
	Typ string `json:"typ,omitempty"`
	// Cty is the "cty" parameter (RFC 7515 §4.1.10).
	Cty string `json:"cty,omitempty"`
	// Kid is the "kid" parameter (RFC 7515 §4.1.4).
	Kid string `json:"kid,omitempty"`
	// JWK is the embedded public key of the "jwk" parameter (RFC 7515
	// §4.1.3), or nil. A "jwk" with private members fails parsing.
	JWK *JWK `json:"jwk,omitempty"`
}

// SignerOptions configures a [Signer].
type SignerOptions struct {
	// Algorithm is the JWS "alg". Empty means [AlgorithmFor] the key.
	Algorithm string
	// Type is the "typ" header, e.g. "dpop+jwt" or "oauth-authz-req+jwt".
	Type string
	// KeyID is the "kid" header; empty omits it.
	KeyID string
	// EmbedJWK adds the public key as the "jwk" header (RFC 9449 §4.2).
	EmbedJWK bool
	// Rand is the randomness source handed to the crypto.Signer. Nil means
	// crypto/rand.Reader.
	Rand io.Reader
}

// Signer produces compact JWS values with a fixed protected header. Its
// header is encoded once, so Sign only encodes the payload and signs. A
// Signer is safe for concurrent use if its crypto.Signer is.
type Signer struct {
	key    crypto.Signer
	alg    string
	info   algInfo
	header string // base64url of the protected header
	jwk    *JWK
	rand   io.Reader
	sigLen int // encoded signature length
}

// NewSigner returns a Signer for key, which may be any crypto.Signer (a
// KMS, HSM or PKCS #11 key as well as a private key of the standard
// library). The algorithm must be supported and match the key's type and
// curve (ErrKeyMismatch); RSA keys need MinRSABits or more
// (ErrUnsupportedKey).
func NewSigner(key crypto.Signer, opts SignerOptions) (*Signer, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: nil signer", ErrUnsupportedKey)
	}
	pub, err := publicOf(key)
	if err != nil {
		return nil, err
	}
	alg := opts.Algorithm
	if alg == "" {
		if alg, err = AlgorithmFor(pub); err != nil {
			return nil, err
		}
	}
	info, ok := algorithm(alg)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithmNotAllowed, truncate(alg, 32))
	}
	if err := checkKey(info, pub); err != nil {
		return nil, err
	}
	h := Header{Alg: alg, Typ: opts.Type, Kid: opts.KeyID}
	jwk := &JWK{Key: pub}
	if opts.EmbedJWK {
		h.JWK = jwk
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	r := opts.Rand
	if r == nil {
		r = rand.Reader
	}
	var sigLen int
	switch k := pub.(type) {
	case *rsa.PublicKey:
		sigLen = k.Size()
	case ed25519.PublicKey:
		sigLen = ed25519.SignatureSize
	default:
		sigLen = 2 * info.size
	}
	return &Signer{key: key, alg: alg, info: info, header: b64.EncodeToString(hj), jwk: jwk, rand: r, sigLen: b64.EncodedLen(sigLen)}, nil
}

// Algorithm returns the signer's "alg".
func (s *Signer) Algorithm() string { return s.alg }

// Public returns the signer's public key.
func (s *Signer) Public() crypto.PublicKey { return s.jwk.Key }

// Sign returns the compact JWS of payload.
func (s *Signer) Sign(payload []byte) (string, error) {
	pl := b64.EncodedLen(len(payload))
	buf := make([]byte, len(s.header)+1+pl, len(s.header)+1+pl+1+s.sigLen)
	copy(buf, s.header)
	buf[len(s.header)] = '.'
	b64.Encode(buf[len(s.header)+1:], payload)
	var scratch [2 * 66]byte
	sig, err := signRaw(s.rand, s.key, s.jwk.Key, s.info, buf, scratch[:])
	if err != nil {
		return "", fmt.Errorf("jose: signing: %w", err)
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	// buf is never written again: share its bytes, as strings.Builder does.
	return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
}

// SignJSON marshals claims with encoding/json and signs the result.
func (s *Signer) SignJSON(claims any) (string, error) {
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	return s.Sign(p)
}

// JWS is a parsed, not yet verified, compact JWS.
type JWS struct {
	// Header is the decoded protected header.
	Header Header
	// Payload is the decoded payload. It must not be trusted before a
	// Verify method returned nil; decode it with [UnmarshalStrict].
	Payload []byte
	input   string
	sig     []byte
}

// wireHeader lists the header members ParseCompact reads, for the schema
// that makes it reject their case variants.
type wireHeader struct {
	Alg  *string         `json:"alg"`
	Typ  string          `json:"typ"`
	Cty  string          `json:"cty"`
	Kid  string          `json:"kid"`
	JWK  json.RawMessage `json:"jwk"`
	Crit json.RawMessage `json:"crit"`
	Enc  json.RawMessage `json:"enc"`
	Zip  json.RawMessage `json:"zip"`
}

// headerSchema is wireHeader's schema with the embedded jwk's members.
var headerSchema = strictjson.SchemaOf(reflect.TypeFor[wireHeader]()).With("jwk", jwkSchema)

// headerMember is a member of a JWS header: its name and raw value.
type headerMember struct {
	name, value []byte
}

// Segments returns the number of dot-separated segments in token: 3 for a
// compact JWS, 5 for a compact JWE.
func Segments(token string) int { return strings.Count(token, ".") + 1 }

// ParseCompact splits and decodes a compact JWS. It checks the structure
// only: exactly three segments of canonical unpadded base64url (RFC 7515
// §7.1), a JSON object header (no duplicate or case-variant member names)
// with an "alg" that is a supported algorithm (never "none" nor HS*), no
// "crit" (ErrCritical), and a valid public "jwk" if present
// (ErrPrivateKey when it has private members). Call a Verify method before
// using Payload.
func ParseCompact(token string) (*JWS, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: token over %d bytes", ErrTooLarge, MaxTokenSize)
	}
	d1 := strings.IndexByte(token, '.')
	if d1 < 0 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	d2 := strings.IndexByte(token[d1+1:], '.')
	if d2 < 0 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	d2 += d1 + 1
	if strings.IndexByte(token[d2+1:], '.') >= 0 {
		if Segments(token) == 5 {
			return nil, fmt.Errorf("%w: got a JWE where a JWS was expected", ErrMalformed)
		}
		return nil, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	if !isB64(token) {
		return nil, fmt.Errorf("%w: invalid base64url", ErrMalformed)
	}
	hb, err := b64.DecodeString(token[:d1])
	if err != nil {
		return nil, fmt.Errorf("%w: header encoding", ErrMalformed)
	}
	var buf [8]headerMember
	members := buf[:0]
	err = strictjson.EachMember(hb, headerSchema, func(name, value []byte) error {
		members = append(members, headerMember{name, value})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	j := &JWS{input: token[:d2]}
	var hasAlg bool
	var jwk []byte
	for _, m := range members {
		var dst *string
		switch string(m.name) {
		case "alg":
			dst, hasAlg = &j.Header.Alg, string(m.value) != "null"
		case "typ":
			dst = &j.Header.Typ
		case "cty":
			dst = &j.Header.Cty
		case "kid":
			dst = &j.Header.Kid
		case "jwk":
			jwk = m.value
		case "crit":
			return nil, ErrCritical
		case "enc", "zip":
			return nil, fmt.Errorf("%w: JWE parameters in a JWS header", ErrMalformed)
		}
		if dst != nil {
			v, ok := headerString(m.value)
			if !ok {
				return nil, fmt.Errorf("%w: header %s is not a string", ErrMalformed, m.name)
			}
			*dst = v
		}
	}
	if !hasAlg {
		return nil, fmt.Errorf("%w: header has no alg", ErrMalformed)
	}
	if !Supported(j.Header.Alg) {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithmNotAllowed, truncate(j.Header.Alg, 32))
	}
	if jwk != nil {
		if j.Header.JWK, err = parseRawJWK(jwk); err != nil {
			return nil, fmt.Errorf("%w: header jwk", err)
		}
	}
	if j.Payload, err = b64.DecodeString(token[d1+1 : d2]); err != nil {
		return nil, fmt.Errorf("%w: payload encoding", ErrMalformed)
	}
	if j.sig, err = b64.DecodeString(token[d2+1:]); err != nil || len(j.sig) == 0 {
		return nil, fmt.Errorf("%w: signature encoding", ErrMalformed)
	}
	return j, nil
}

// b64chars marks the base64url alphabet and the dot.
var b64chars = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") {
		t[c] = true
	}
	return t
}()

// isB64 reports whether s holds only base64url characters and dots. The
// decoder alone would not do: encoding/base64 skips '\r' and '\n'.
func isB64(s string) bool {
	for i := 0; i < len(s); i++ {
		if !b64chars[s[i]] {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Verify checks the signature with pub, after checking that the header's
// alg is in algs and fits the key. pub is a public key, a *JWK (whose
// "alg" and "use", when set, must allow the header's alg and signing) or a
// crypto.Signer.
func (j *JWS) Verify(pub crypto.PublicKey, algs []string) error {
	if err := checkAllowed(j.Header.Alg, algs); err != nil {
		return err
	}
	if jk, ok := pub.(*JWK); ok && jk != nil {
		if jk.Algorithm != "" && jk.Algorithm != j.Header.Alg || jk.Use != "" && jk.Use != "sig" {
			return fmt.Errorf("%w: the JWK's alg or use forbids %s", ErrKeyMismatch, j.Header.Alg)
		}
	}
	k, err := normalize(pub)
	if err != nil {
		return err
	}
	return verifyKey(j.Header.Alg, k, []byte(j.input), j.sig)
}

// checkAllowed reports whether alg is supported and in the non-empty
// allow-list algs.
func checkAllowed(alg string, algs []string) error {
	if len(algs) == 0 {
		return ErrNoAlgorithms
	}
	if !allowed(alg, algs) {
		return fmt.Errorf("%w: %q", ErrAlgorithmNotAllowed, truncate(alg, 32))
	}
	return nil
}

// verifyKey checks that pub (a normalized public key) fits the allowed
// algorithm alg and verifies sig over signingInput.
func verifyKey(alg string, pub crypto.PublicKey, signingInput, sig []byte) error {
	info, _ := algorithm(alg)
	if err := checkKey(info, pub); err != nil {
		return err
	}
	return verifyRaw(info, pub, signingInput, sig)
}

// VerifyEmbedded verifies the signature with the key embedded in the
// header's "jwk" (as DPoP proofs carry it) and returns that key.
func (j *JWS) VerifyEmbedded(algs []string) (*JWK, error) {
	if j.Header.JWK == nil {
		return nil, fmt.Errorf("%w: no jwk header", ErrNoMatchingKey)
	}
	if err := j.Verify(j.Header.JWK, algs); err != nil {
		return nil, err
	}
	return j.Header.JWK, nil
}

// KeyProvider supplies verification keys for a JWS header. Implementations
// are [StaticKeys] and [*RemoteKeySet].
type KeyProvider interface {
	// KeysFor returns the keys that may have signed a JWS with header h.
	// A remote provider refreshes its set when h names an unknown kid.
	KeysFor(ctx context.Context, h *Header) ([]*JWK, error)
}

// StaticKeys is a fixed set of verification keys. A JWS whose header names
// a kid is verified only with the keys of that kid; give each key its
// KeyID when the issuer sends one.
type StaticKeys []*JWK

// KeysFor returns the keys matching h (see [Match]).
func (s StaticKeys) KeysFor(_ context.Context, h *Header) ([]*JWK, error) {
	return Match(s, h), nil
}

// Match returns the keys of set that may verify a JWS with header h: same
// kid when h has one, "use" empty or "sig", "alg" empty or equal to h.Alg,
// and a key type (and curve) that fits h.Alg.
func Match(set []*JWK, h *Header) []*JWK {
	if h == nil {
		return nil
	}
	info, ok := algorithm(h.Alg)
	if !ok {
		return nil
	}
	var out []*JWK
	for _, k := range set {
		if k == nil || h.Kid != "" && k.KeyID != h.Kid {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != h.Alg {
			continue
		}
		if pub, err := normalize(k.Key); err != nil || checkKey(info, pub) != nil {
			continue
		}
		out = append(out, k)
	}
	return out
}

// VerifyWith verifies the signature with a key from kp, after checking the
// alg against algs, and returns the key that verified it. No key from kp is
// ErrNoMatchingKey; keys that all fail is ErrInvalidSignature.
func (j *JWS) VerifyWith(ctx context.Context, kp KeyProvider, algs []string) (*JWK, error) {
	if err := checkAllowed(j.Header.Alg, algs); err != nil {
		return nil, err
	}
	if kp == nil {
		return nil, fmt.Errorf("%w: nil KeyProvider", ErrNoMatchingKey)
	}
	keys, err := kp.KeysFor(ctx, &j.Header)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, ErrNoMatchingKey
	}
	for _, k := range keys {
		if err := j.Verify(k, algs); err == nil {
			return k, nil
		}
	}
	return nil, ErrInvalidSignature
}
