package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
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

// ParseJWK parses a public JWK. It rejects private members (ErrPrivateKey),
// symmetric ("oct") keys, unknown key types and curves, points off the
// curve, RSA keys under 2048 bits and non-canonical base64url.
func ParseJWK(data []byte) (*JWK, error) {
	if len(data) > MaxJWKSize {
		return nil, fmt.Errorf("%w: JWK over %d bytes", ErrTooLarge, MaxJWKSize)
	}
	var r rawJWK
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: JWK: %w", ErrMalformed, err)
	}
	return r.toJWK()
}

func (r *rawJWK) toJWK() (*JWK, error) {
	if r.D != nil || r.P != nil || r.Q != nil || r.DP != nil || r.DQ != nil || r.QI != nil || r.Oth != nil || r.K != nil {
		return nil, ErrPrivateKey
	}
	pub, err := r.publicKey()
	if err != nil {
		return nil, err
	}
	return &JWK{Key: pub, KeyID: r.Kid, Algorithm: r.Alg, Use: r.Use}, nil
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
			return nil, fmt.Errorf("%w: EC curve %q", ErrUnsupportedKey, r.Crv)
		}
		pt := make([]byte, 1+2*size)
		pt[0] = 4
		if err := decodeFixed(pt[1:1+size], r.X); err != nil {
			return nil, err
		}
		if err := decodeFixed(pt[1+size:], r.Y); err != nil {
			return nil, err
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, pt)
		if err != nil {
			return nil, fmt.Errorf("%w: EC point: %w", ErrMalformed, err)
		}
		return pub, nil
	case "OKP":
		if r.Crv != "Ed25519" {
			return nil, fmt.Errorf("%w: OKP curve %q", ErrUnsupportedKey, r.Crv)
		}
		x := make([]byte, ed25519.PublicKeySize)
		if err := decodeFixed(x, r.X); err != nil {
			return nil, err
		}
		return ed25519.PublicKey(x), nil
	case "RSA":
		n, err := b64.DecodeString(r.N)
		if err != nil || len(n) == 0 || n[0] == 0 {
			return nil, fmt.Errorf("%w: RSA modulus", ErrMalformed)
		}
		e, err := b64.DecodeString(r.E)
		if err != nil || len(e) == 0 || len(e) > 4 || e[0] == 0 {
			return nil, fmt.Errorf("%w: RSA exponent", ErrMalformed)
		}
		var ev int
		for _, c := range e {
			ev = ev<<8 | int(c)
		}
		if ev < 3 || ev%2 == 0 {
			return nil, fmt.Errorf("%w: RSA exponent", ErrUnsupportedKey)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
		if pub.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("%w: RSA key under %d bits", ErrUnsupportedKey, MinRSABits)
		}
		return pub, nil
	case "oct":
		return nil, fmt.Errorf("%w: symmetric key", ErrUnsupportedKey)
	}
	return nil, fmt.Errorf("%w: kty %q", ErrUnsupportedKey, r.Kty)
}

// decodeFixed decodes a base64url member that must be exactly len(dst)
// octets long.
func decodeFixed(dst []byte, s string) error {
	if b64.DecodedLen(len(s)) != len(dst) {
		return fmt.Errorf("%w: JWK coordinate length", ErrMalformed)
	}
	n, err := b64.Decode(dst, []byte(s))
	if err != nil || n != len(dst) {
		return fmt.Errorf("%w: JWK coordinate", ErrMalformed)
	}
	return nil
}

// NewJWK returns the public JWK of pub, which may also be a private key or
// a crypto.Signer (its Public() is used).
func NewJWK(pub crypto.PublicKey) (*JWK, error) {
	k, err := publicOf(pub)
	if err != nil {
		return nil, err
	}
	return &JWK{Key: k}, nil
}

// publicOf normalizes keys to *ecdsa.PublicKey, ed25519.PublicKey or
// *rsa.PublicKey.
func publicOf(k any) (crypto.PublicKey, error) {
	switch v := k.(type) {
	case *ecdsa.PublicKey:
		if v == nil {
			break
		}
		if _, err := v.Bytes(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
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
		if v.N.BitLen() < MinRSABits {
			return nil, fmt.Errorf("%w: RSA key under %d bits", ErrUnsupportedKey, MinRSABits)
		}
		return v, nil
	case *JWK:
		return publicOf(v.Key)
	case crypto.Signer:
		return publicOf(v.Public())
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k)
}

// members returns the JWK's required members (RFC 7638 §3.2) as ordered
// name/value pairs, all values being base64url or fixed names.
func members(pub crypto.PublicKey) ([][2]string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		pt, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
		}
		size := (len(pt) - 1) / 2
		crv := map[int]string{32: "P-256", 48: "P-384", 66: "P-521"}[size]
		if crv == "" {
			return nil, ErrUnsupportedKey
		}
		return [][2]string{{"crv", crv}, {"kty", "EC"}, {"x", b64.EncodeToString(pt[1 : 1+size])}, {"y", b64.EncodeToString(pt[1+size:])}}, nil
	case ed25519.PublicKey:
		return [][2]string{{"crv", "Ed25519"}, {"kty", "OKP"}, {"x", b64.EncodeToString(k)}}, nil
	case *rsa.PublicKey:
		e := big.NewInt(int64(k.E)).Bytes()
		return [][2]string{{"e", b64.EncodeToString(e)}, {"kty", "RSA"}, {"n", b64.EncodeToString(k.N.Bytes())}}, nil
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// canonical writes members as the RFC 7638 §3 canonical JSON object. The
// values need no escaping: they are base64url or fixed names.
func canonical(ms [][2]string) []byte {
	b := make([]byte, 0, 256)
	b = append(b, '{')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, m[0]...)
		b = append(b, `":"`...)
		b = append(b, m[1]...)
		b = append(b, '"')
	}
	return append(b, '}')
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a public key,
// base64url-encoded without padding (the "jkt" of RFC 9449).
func Thumbprint(pub crypto.PublicKey) (string, error) {
	k, err := publicOf(pub)
	if err != nil {
		return "", err
	}
	ms, err := members(k)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical(ms))
	return b64.EncodeToString(sum[:]), nil
}

// Thumbprint returns the key's RFC 7638 SHA-256 thumbprint.
func (k *JWK) Thumbprint() (string, error) { return Thumbprint(k.Key) }

// MarshalJSON encodes the public JWK with its kid, alg and use.
func (k *JWK) MarshalJSON() ([]byte, error) {
	pub, err := publicOf(k.Key)
	if err != nil {
		return nil, err
	}
	ms, err := members(pub)
	if err != nil {
		return nil, err
	}
	extra := [][2]string{{"kid", k.KeyID}, {"alg", k.Algorithm}, {"use", k.Use}}
	for _, e := range extra {
		if e[1] != "" {
			v, _ := json.Marshal(e[1])
			ms = append(ms, [2]string{e[0], string(v[1 : len(v)-1])})
		}
	}
	return canonical(ms), nil
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

// ParseJWKSet parses a JWK Set ({"keys":[...]}) of public keys. Keys of an
// unsupported type or curve are skipped, as RFC 7517 §5 asks; a key with
// private members fails the whole set (ErrPrivateKey), so a leaked private
// key is noticed rather than ignored. More than MaxJWKSetKeys keys is
// ErrTooLarge.
func ParseJWKSet(data []byte) ([]*JWK, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%w: JWK Set: %w", ErrMalformed, err)
	}
	if set.Keys == nil {
		return nil, fmt.Errorf("%w: JWK Set has no keys member", ErrMalformed)
	}
	if len(set.Keys) > MaxJWKSetKeys {
		return nil, fmt.Errorf("%w: JWK Set over %d keys", ErrTooLarge, MaxJWKSetKeys)
	}
	keys := make([]*JWK, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var r rawJWK
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("%w: JWK Set member: %w", ErrMalformed, err)
		}
		k, err := r.toJWK()
		switch {
		case err == nil:
			keys = append(keys, k)
		case isUnsupported(err):
			continue
		default:
			return nil, err
		}
	}
	return keys, nil
}

func isUnsupported(err error) bool { return errors.Is(err, ErrUnsupportedKey) }

// MarshalJWKSet encodes keys as a JWK Set.
func MarshalJWKSet(keys []*JWK) ([]byte, error) {
	if keys == nil {
		keys = []*JWK{}
	}
	return json.Marshal(struct {
		Keys []*JWK `json:"keys"`
	}{keys})
}
