package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"

	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// b64 is the unpadded base64url encoding of RFC 7515 §2.
var b64 = base64.RawURLEncoding.Strict()

// JWK is a public JSON Web Key (RFC 7517) with the members this module
// uses. Key is *ecdsa.PublicKey (P-256, P-384, P-521), ed25519.PublicKey or
// *rsa.PublicKey (at least 2048 bits).
type JWK struct {
	// Key is the public key.
	Key crypto.PublicKey
	// KeyID is the "kid" member.
	KeyID string
	// Algorithm is the "alg" member: the one algorithm the key is for.
	Algorithm string
	// Use is the "use" member: "sig" or "enc".
	Use string
}

// rawJWK is the wire form of a JWK. Private members are kept as raw
// messages only to detect their presence.
type rawJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`

	D   json.RawMessage `json:"d,omitempty"`
	P   json.RawMessage `json:"p,omitempty"`
	Q   json.RawMessage `json:"q,omitempty"`
	DP  json.RawMessage `json:"dp,omitempty"`
	DQ  json.RawMessage `json:"dq,omitempty"`
	QI  json.RawMessage `json:"qi,omitempty"`
	Oth json.RawMessage `json:"oth,omitempty"`
	K   json.RawMessage `json:"k,omitempty"`
}

// MaxJWKSize bounds a single JWK's JSON.
const MaxJWKSize = 16 << 10

// jwkSchema and jwkSetSchema are the member names ParseJWK and
// ParseJWKSet expect, spelled exactly (see checkObject).
var (
	jwkSchema    = strictjson.SchemaOf(reflect.TypeFor[rawJWK]())
	jwkSetSchema = strictjson.SchemaOf(reflect.TypeFor[struct {
		Keys []rawJWK `json:"keys"`
	}]())
)

// ParseJWK parses a public JWK. It rejects private members (ErrPrivateKey),
// symmetric ("oct") keys, unknown key types and curves, and RSA keys under
// MinRSABits or over MaxRSABits (ErrUnsupportedKey); points off the curve,
// coordinates of the wrong length, non-minimal RSA integers, non-canonical
// base64url and duplicate or case-variant member names (ErrMalformed).
func ParseJWK(data []byte) (*JWK, error) {
	if len(data) > MaxJWKSize {
		return nil, fmt.Errorf("%w: JWK over %d bytes", ErrTooLarge, MaxJWKSize)
	}
	if err := checkObject(data, jwkSchema); err != nil {
		return nil, err
	}
	return parseRawJWK(data)
}

// parseRawJWK decodes a JWK whose JSON passed checkObject.
func parseRawJWK(data []byte) (*JWK, error) {
	var r rawJWK
	err := json.Unmarshal(data, &r)
	if r.private() {
		// encoding/json fills the other members after a type error, so a
		// private member is reported even next to a malformed one.
		return nil, ErrPrivateKey
	}
	if err != nil {
		return nil, fmt.Errorf("%w: JWK member types", ErrMalformed)
	}
	pub, err := r.publicKey()
	if err != nil {
		return nil, err
	}
	return &JWK{Key: pub, KeyID: r.Kid, Algorithm: r.Alg, Use: r.Use}, nil
}

func (r *rawJWK) private() bool {
	return r.D != nil || r.P != nil || r.Q != nil || r.DP != nil || r.DQ != nil || r.QI != nil || r.Oth != nil || r.K != nil
}

func (r *rawJWK) publicKey() (crypto.PublicKey, error) {
	switch r.Kty {
	case "EC":
		var curve elliptic.Curve
		var size int
		switch r.Crv {
		case "P-256":
			curve, size = elliptic.P256(), 32
		case "P-384":
			curve, size = elliptic.P384(), 48
		case "P-521":
			curve, size = elliptic.P521(), 66
		default:
			return nil, fmt.Errorf("%w: EC curve %q", ErrUnsupportedKey, truncate(r.Crv, 16))
		}
		var buf [1 + 2*66]byte
		pt := buf[:1+2*size]
		pt[0] = 4
		if err := decodeFixed(pt[1:1+size], r.X); err != nil {
			return nil, err
		}
		if err := decodeFixed(pt[1+size:], r.Y); err != nil {
			return nil, err
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, pt)
		if err != nil {
			return nil, fmt.Errorf("%w: EC point is not on the curve", ErrMalformed)
		}
		return pub, nil
	case "OKP":
		if r.Crv != "Ed25519" {
			return nil, fmt.Errorf("%w: OKP curve %q", ErrUnsupportedKey, truncate(r.Crv, 16))
		}
		x := make([]byte, ed25519.PublicKeySize)
		if err := decodeFixed(x, r.X); err != nil {
			return nil, err
		}
		return ed25519.PublicKey(x), nil
	case "RSA":
		if len(r.N) > b64.EncodedLen(MaxRSABits/8) {
			return nil, fmt.Errorf("%w: RSA key over %d bits", ErrUnsupportedKey, MaxRSABits)
		}
		n, err := b64.DecodeString(r.N)
		if err != nil || len(n) == 0 || n[0] == 0 {
			return nil, fmt.Errorf("%w: RSA modulus", ErrMalformed)
		}
		if n[len(n)-1]&1 == 0 {
			return nil, fmt.Errorf("%w: RSA modulus is even", ErrMalformed)
		}
		var eb [4]byte
		if len(r.E) == 0 || len(r.E) > b64.EncodedLen(len(eb)) {
			return nil, fmt.Errorf("%w: RSA exponent", ErrMalformed)
		}
		ne, err := b64.Decode(eb[:], []byte(r.E))
		if err != nil || ne == 0 || eb[0] == 0 {
			return nil, fmt.Errorf("%w: RSA exponent", ErrMalformed)
		}
		var ev int64
		for _, c := range eb[:ne] {
			ev = ev<<8 | int64(c)
		}
		if ev < 3 || ev%2 == 0 || ev > maxRSAExponent {
			return nil, fmt.Errorf("%w: RSA exponent", ErrUnsupportedKey)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev)}
		if err := checkRSASize(pub); err != nil {
			return nil, err
		}
		return pub, nil
	case "oct":
		return nil, fmt.Errorf("%w: symmetric key", ErrUnsupportedKey)
	case "":
		return nil, fmt.Errorf("%w: JWK has no kty", ErrMalformed)
	}
	return nil, fmt.Errorf("%w: kty %q", ErrUnsupportedKey, truncate(r.Kty, 16))
}

// decodeFixed decodes a base64url member that must be exactly len(dst)
// octets long.
func decodeFixed(dst []byte, s string) error {
	if len(s) != b64.EncodedLen(len(dst)) {
		return fmt.Errorf("%w: JWK coordinate length", ErrMalformed)
	}
	n, err := b64.Decode(dst, []byte(s))
	if err != nil || n != len(dst) {
		return fmt.Errorf("%w: JWK coordinate", ErrMalformed)
	}
	return nil
}

// NewJWK returns the public JWK of pub, which may also be a private key, a
// crypto.Signer (its Public() is used) or a *JWK. The key is validated (an
// EC point must be on its curve, an RSA key between MinRSABits and
// MaxRSABits).
func NewJWK(pub crypto.PublicKey) (*JWK, error) {
	k, err := publicOf(pub)
	if err != nil {
		return nil, err
	}
	return &JWK{Key: k}, nil
}

// maxRSAExponent is the largest RSA public exponent crypto/rsa accepts.
const maxRSAExponent = 1<<31 - 1

func checkRSASize(k *rsa.PublicKey) error {
	if k.N == nil || k.N.Sign() <= 0 {
		return fmt.Errorf("%w: RSA key without modulus", ErrUnsupportedKey)
	}
	switch n := k.N.BitLen(); {
	case n < MinRSABits:
		return fmt.Errorf("%w: RSA key under %d bits", ErrUnsupportedKey, MinRSABits)
	case n > MaxRSABits:
		return fmt.Errorf("%w: RSA key over %d bits", ErrUnsupportedKey, MaxRSABits)
	}
	if k.E < 3 || k.E%2 == 0 || k.E > maxRSAExponent {
		return fmt.Errorf("%w: RSA exponent", ErrUnsupportedKey)
	}
	return nil
}

// normalize returns the public key behind k (a public key, a *JWK or a
// crypto.Signer) as *ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey,
// with the cheap checks only: a supported curve, an Ed25519 key of the
// right length, an RSA size and exponent in range. It does not check that
// an EC point is on its curve: ecdsa.VerifyASN1 does that itself, and
// publicOf adds it for the other uses.
func normalize(k any) (crypto.PublicKey, error) {
	switch v := k.(type) {
	case *ecdsa.PublicKey:
		if v == nil || v.Curve == nil {
			break
		}
		if v.Curve != elliptic.P256() && v.Curve != elliptic.P384() && v.Curve != elliptic.P521() {
			return nil, fmt.Errorf("%w: EC curve", ErrUnsupportedKey)
		}
		return v, nil
	case ed25519.PublicKey:
		if len(v) != ed25519.PublicKeySize {
			break
		}
		return v, nil
	case *rsa.PublicKey:
		if v == nil {
			break
		}
		if err := checkRSASize(v); err != nil {
			return nil, err
		}
		return v, nil
	case *JWK:
		if v == nil {
			break
		}
		return normalize(v.Key)
	case crypto.Signer:
		if v == nil || reflect.ValueOf(v).Kind() == reflect.Pointer && reflect.ValueOf(v).IsNil() {
			break
		}
		return normalize(v.Public())
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k)
}

// publicOf is normalize plus a check that an EC point is on its curve.
func publicOf(k any) (crypto.PublicKey, error) {
	pub, err := normalize(k)
	if err != nil {
		return nil, err
	}
	if ec, ok := pub.(*ecdsa.PublicKey); ok {
		if _, err := ec.Bytes(); err != nil {
			return nil, fmt.Errorf("%w: invalid EC public key", ErrUnsupportedKey)
		}
	}
	return pub, nil
}

// appendCanonical appends the RFC 7638 §3 canonical JSON of the required
// members of a normalized public key (RFC 7638 §3.2): names in
// lexicographic order, no whitespace. The values need no escaping: they
// are base64url or fixed names.
func appendCanonical(b []byte, pub crypto.PublicKey) ([]byte, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		var crv string
		switch k.Curve {
		case elliptic.P256():
			crv = "P-256"
		case elliptic.P384():
			crv = "P-384"
		case elliptic.P521():
			crv = "P-521"
		default:
			return nil, ErrUnsupportedKey
		}
		pt, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: invalid EC public key", ErrUnsupportedKey)
		}
		size := (len(pt) - 1) / 2
		b = append(b, `{"crv":"`...)
		b = append(b, crv...)
		b = append(b, `","kty":"EC","x":"`...)
		b = b64.AppendEncode(b, pt[1:1+size])
		b = append(b, `","y":"`...)
		b = b64.AppendEncode(b, pt[1+size:])
		return append(b, `"}`...), nil
	case ed25519.PublicKey:
		b = append(b, `{"crv":"Ed25519","kty":"OKP","x":"`...)
		b = b64.AppendEncode(b, k)
		return append(b, `"}`...), nil
	case *rsa.PublicKey:
		var eb [8]byte
		binary.BigEndian.PutUint64(eb[:], uint64(k.E))
		e := eb[:]
		for len(e) > 1 && e[0] == 0 {
			e = e[1:]
		}
		b = append(b, `{"e":"`...)
		b = b64.AppendEncode(b, e)
		b = append(b, `","kty":"RSA","n":"`...)
		b = b64.AppendEncode(b, k.N.Bytes())
		return append(b, `"}`...), nil
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key,
// base64url-encoded without padding (the "jkt" of RFC 9449). pub may be a
// public key, a private key, a crypto.Signer or a *JWK.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	k, err := normalize(pub)
	if err != nil {
		return "", err
	}
	var buf [1200]byte // an RSA-8192 key's canonical JSON fits
	c, err := appendCanonical(buf[:0], k)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return b64.EncodeToString(sum[:]), nil
}

// Thumbprint returns the key's RFC 7638 SHA-256 thumbprint.
func (k *JWK) Thumbprint() (string, error) { return Thumbprint(k.Key) }

// MarshalJSON encodes the public JWK: its required members, then "kid",
// "alg" and "use" when set.
func (k *JWK) MarshalJSON() ([]byte, error) {
	pub, err := publicOf(k.Key)
	if err != nil {
		return nil, err
	}
	b, err := appendCanonical(make([]byte, 0, 256), pub)
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1] // reopen the object
	for _, e := range [...][2]string{{"kid", k.KeyID}, {"alg", k.Algorithm}, {"use", k.Use}} {
		if e[1] == "" {
			continue
		}
		v, err := json.Marshal(e[1])
		if err != nil {
			return nil, fmt.Errorf("%w: JWK %s: %w", ErrMalformed, e[0], err)
		}
		b = append(b, `,"`...)
		b = append(b, e[0]...)
		b = append(b, `":`...)
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON parses a public JWK as [ParseJWK] does.
func (k *JWK) UnmarshalJSON(data []byte) error {
	p, err := ParseJWK(data)
	if err != nil {
		return err
	}
	*k = *p
	return nil
}

// MaxJWKSetKeys bounds the number of keys accepted in a JWK Set.
const MaxJWKSetKeys = 100

// ParseJWKSet parses a JWK Set ({"keys":[...]}) of public keys. As RFC 7517
// §5 asks, a key is skipped when its type, curve or size is not supported
// or its members are missing or malformed; but a key with private members
// fails the whole set (ErrPrivateKey), so a leaked private key is noticed
// rather than ignored. More than MaxJWKSetKeys keys is ErrTooLarge;
// duplicate or case-variant member names anywhere are ErrMalformed.
func ParseJWKSet(data []byte) ([]*JWK, error) {
	if err := checkObject(data, jwkSetSchema); err != nil {
		return nil, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%w: JWK Set: keys is not an array", ErrMalformed)
	}
	if set.Keys == nil {
		return nil, fmt.Errorf("%w: JWK Set has no keys member", ErrMalformed)
	}
	if len(set.Keys) > MaxJWKSetKeys {
		return nil, fmt.Errorf("%w: JWK Set over %d keys", ErrTooLarge, MaxJWKSetKeys)
	}
	keys := make([]*JWK, 0, len(set.Keys))
	for _, raw := range set.Keys {
		k, err := parseRawJWK(raw)
		switch {
		case err == nil:
			keys = append(keys, k)
		case errors.Is(err, ErrPrivateKey):
			return nil, err
		}
	}
	return slices.Clip(keys), nil
}

// MarshalJWKSet encodes keys as a JWK Set.
func MarshalJWKSet(keys []*JWK) ([]byte, error) {
	if keys == nil {
		keys = []*JWK{}
	}
	return json.Marshal(struct {
		Keys []*JWK `json:"keys"`
	}{keys})
}
