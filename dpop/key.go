package dpop

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// This file persists DPoP keys, so that DPoP-bound refresh tokens (RFC 9449
// §5) survive a restart: the refresh token only works with the key it was
// bound to. internal/jose parses public JWKs only, so the private JWK
// encoder and decoder live here.

// maxKeyBytes bounds a PEM or JWK private key accepted by the parsers.
const maxKeyBytes = 64 << 10

// GenerateKey returns a new ECDSA P-256 key, the default DPoP key (ES256).
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// MarshalPrivateKeyPEM encodes key as a PKCS#8 "PRIVATE KEY" PEM block. The
// key must be an *ecdsa.PrivateKey (P-256, P-384, P-521), an
// ed25519.PrivateKey or an *rsa.PrivateKey of at least 2048 bits; a
// hardware-backed crypto.Signer cannot be exported and wraps
// [ErrUnsupportedKey]. The output is secret: store it as such.
func MarshalPrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	k, err := exportable(key)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParsePrivateKeyPEM decodes a key written by [MarshalPrivateKeyPEM]: one
// PKCS#8 "PRIVATE KEY" PEM block, nothing else but whitespace around it.
// SEC 1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY" blocks are accepted
// too. Keys of unsupported types, curves or sizes wrap [ErrUnsupportedKey];
// anything else that does not parse wraps [ErrMalformedKey].
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	if len(data) > maxKeyBytes {
		return nil, fmt.Errorf("%w: over %d bytes", ErrMalformedKey, maxKeyBytes)
	}
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrMalformedKey)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the PEM block", ErrMalformedKey)
	}
	if len(block.Headers) != 0 {
		return nil, fmt.Errorf("%w: PEM headers (encrypted keys are not supported)", ErrMalformedKey)
	}
	var (
		k   any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: PEM block type", ErrMalformedKey)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k)
	}
	return exportable(s)
}

// exportable returns key if it is a software key of a supported kind.
func exportable(key crypto.Signer) (crypto.Signer, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k == nil {
			break
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, fmt.Errorf("%w: EC curve", ErrUnsupportedKey)
	case ed25519.PrivateKey:
		if len(k) == ed25519.PrivateKeySize {
			return k, nil
		}
	case *ed25519.PrivateKey:
		if k != nil && len(*k) == ed25519.PrivateKeySize {
			return *k, nil
		}
	case *rsa.PrivateKey:
		if k == nil {
			break
		}
		if k.N.BitLen() < jose.MinRSABits {
			return nil, fmt.Errorf("%w: RSA key under %d bits", ErrUnsupportedKey, jose.MinRSABits)
		}
		if len(k.Primes) != 2 {
			return nil, fmt.Errorf("%w: multi-prime RSA key", ErrUnsupportedKey)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: %T cannot be exported", ErrUnsupportedKey, key)
}

// MarshalPrivateJWK encodes key as a JWK with its private members (RFC
// 7518 §6.2.2 for EC, §6.3.2 for RSA with p, q, dp, dq, qi; RFC 8037 §2
// for Ed25519). Keys are accepted as by [MarshalPrivateKeyPEM]. The output
// is secret: store it as such.
func MarshalPrivateJWK(key crypto.Signer) ([]byte, error) {
	k, err := exportable(key)
	if err != nil {
		return nil, err
	}
	var m [][2]string
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		pub, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
		}
		d, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnsupportedKey, err)
		}
		size := len(d)
		m = [][2]string{{"kty", "EC"}, {"crv", k.Curve.Params().Name}, {"x", b64.EncodeToString(pub[1 : 1+size])}, {"y", b64.EncodeToString(pub[1+size:])}, {"d", b64.EncodeToString(d)}}
	case ed25519.PrivateKey:
		m = [][2]string{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", b64.EncodeToString(k.Public().(ed25519.PublicKey))}, {"d", b64.EncodeToString(k.Seed())}}
	case *rsa.PrivateKey:
		k.Precompute()
		m = [][2]string{
			{"kty", "RSA"},
			{"n", b64.EncodeToString(k.N.Bytes())},
			{"e", b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())},
			{"d", b64.EncodeToString(k.D.Bytes())},
			{"p", b64.EncodeToString(k.Primes[0].Bytes())},
			{"q", b64.EncodeToString(k.Primes[1].Bytes())},
			{"dp", b64.EncodeToString(k.Precomputed.Dp.Bytes())},
			{"dq", b64.EncodeToString(k.Precomputed.Dq.Bytes())},
			{"qi", b64.EncodeToString(k.Precomputed.Qinv.Bytes())},
		}
	}
	b := []byte{'{'}
	for i, kv := range m {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, kv[0])
		b = append(b, ':')
		b = appendJSONString(b, kv[1])
	}
	return append(b, '}'), nil
}

// ParsePrivateJWK decodes a private JWK written by [MarshalPrivateJWK] or
// another library: kty "EC" (P-256, P-384, P-521) with d, "OKP" (Ed25519)
// with d, or "RSA" with d, p and q (dp, dq and qi are checked when
// present). The public members must match the private ones. A JWK without
// private members, a symmetric key, a multi-prime RSA key ("oth") and
// duplicate members are rejected.
func ParsePrivateJWK(data []byte) (crypto.Signer, error) {
	if len(data) > maxKeyBytes {
		return nil, fmt.Errorf("%w: over %d bytes", ErrMalformedKey, maxKeyBytes)
	}
	fields := map[string]string{}
	err := strictjson.EachMember(data, nil, func(name, value []byte) error {
		n := string(name)
		if strictjson.Kind(value) != '"' {
			switch n {
			case "kty", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "oth", "k":
				return strictjson.ErrType
			}
			fields[n] = ""
			return nil
		}
		v, err := strictjson.String(value)
		fields[n] = v
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedKey, err)
	}
	get := func(name string) ([]byte, error) {
		s, ok := fields[name]
		if !ok || s == "" {
			return nil, fmt.Errorf("%w: missing %q", ErrMalformedKey, name)
		}
		v, err := b64.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: member %q is not base64url", ErrMalformedKey, name)
		}
		return v, nil
	}
	if _, ok := fields["oth"]; ok {
		return nil, fmt.Errorf("%w: multi-prime RSA key", ErrUnsupportedKey)
	}
	switch fields["kty"] {
	case "EC":
		var curve elliptic.Curve
		switch fields["crv"] {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("%w: EC curve", ErrUnsupportedKey)
		}
		d, err := get("d")
		if err != nil {
			return nil, err
		}
		x, err := get("x")
		if err != nil {
			return nil, err
		}
		y, err := get("y")
		if err != nil {
			return nil, err
		}
		k, err := ecdsa.ParseRawPrivateKey(curve, d)
		if err != nil {
			return nil, fmt.Errorf("%w: EC private scalar", ErrMalformedKey)
		}
		pub, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: EC public point", ErrMalformedKey)
		}
		size := len(d)
		if len(x) != size || len(y) != size || subtle.ConstantTimeCompare(pub[1:1+size], x) != 1 || subtle.ConstantTimeCompare(pub[1+size:], y) != 1 {
			return nil, fmt.Errorf("%w: x and y do not match d", ErrMalformedKey)
		}
		return k, nil
	case "OKP":
		if fields["crv"] != "Ed25519" {
			return nil, fmt.Errorf("%w: OKP curve", ErrUnsupportedKey)
		}
		d, err := get("d")
		if err != nil {
			return nil, err
		}
		x, err := get("x")
		if err != nil {
			return nil, err
		}
		if len(d) != ed25519.SeedSize {
			return nil, fmt.Errorf("%w: Ed25519 seed length", ErrMalformedKey)
		}
		k := ed25519.NewKeyFromSeed(d)
		if subtle.ConstantTimeCompare(k.Public().(ed25519.PublicKey), x) != 1 {
			return nil, fmt.Errorf("%w: x does not match d", ErrMalformedKey)
		}
		return k, nil
	case "RSA":
		var v [5][]byte
		for i, name := range []string{"n", "e", "d", "p", "q"} {
			if v[i], err = get(name); err != nil {
				return nil, err
			}
		}
		if len(v[1]) > 4 {
			return nil, fmt.Errorf("%w: RSA exponent", ErrUnsupportedKey)
		}
		e := 0
		for _, c := range v[1] {
			e = e<<8 | int(c)
		}
		k := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: new(big.Int).SetBytes(v[0]), E: e},
			D:         new(big.Int).SetBytes(v[2]),
			Primes:    []*big.Int{new(big.Int).SetBytes(v[3]), new(big.Int).SetBytes(v[4])},
		}
		if k.N.BitLen() < jose.MinRSABits {
			return nil, fmt.Errorf("%w: RSA key under %d bits", ErrUnsupportedKey, jose.MinRSABits)
		}
		if k.N.BitLen() > 8192 {
			return nil, fmt.Errorf("%w: RSA key over 8192 bits", ErrUnsupportedKey)
		}
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedKey, err)
		}
		k.Precompute()
		for _, c := range []struct {
			name string
			want *big.Int
		}{{"dp", k.Precomputed.Dp}, {"dq", k.Precomputed.Dq}, {"qi", k.Precomputed.Qinv}} {
			if _, ok := fields[c.name]; !ok {
				continue
			}
			got, err := get(c.name)
			if err != nil {
				return nil, err
			}
			if new(big.Int).SetBytes(got).Cmp(c.want) != 0 {
				return nil, fmt.Errorf("%w: %s does not match p, q and d", ErrMalformedKey, c.name)
			}
		}
		return k, nil
	case "oct":
		return nil, fmt.Errorf("%w: symmetric key", ErrUnsupportedKey)
	case "":
		return nil, fmt.Errorf("%w: missing kty", ErrMalformedKey)
	}
	return nil, fmt.Errorf("%w: kty", ErrUnsupportedKey)
}
