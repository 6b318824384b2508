package hardened

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// This file is the module's one place that reads and writes private key
// files: client assertion keys ([PrivateKeyJWT.Key]), request object
// signing keys, DPoP keys and JARM decryption keys alike. The protocol
// packages take crypto.Signer values and never parse key files.

// MaxKeyBytes bounds the key data [ParsePrivateKey] and [LoadPrivateKey]
// accept: 64 KiB, far above a PEM or JWK RSA key of 16384 bits.
const MaxKeyBytes = 64 << 10

// b64 is the unpadded base64url encoding of JWK members (RFC 7518 §2).
var b64 = base64.RawURLEncoding.Strict()

// ParsePrivateKey parses one private key, PEM-encoded or a JWK, and returns
// it with its key identifier (the JWK's "kid"; "" for PEM, which has none).
//
// PEM data must hold exactly one block, with nothing but whitespace after
// it: PKCS #8 "PRIVATE KEY", SEC 1 "EC PRIVATE KEY" or PKCS #1 "RSA PRIVATE
// KEY". A JWK must be one JSON object with its private members (RFC 7518
// §6.2.2 for EC, §6.3.2 for RSA with p and q, RFC 8037 §2 for Ed25519)
// matching its public ones; its public members are checked as the module
// checks every JWK (canonical base64url, a point on its curve, unique
// member names).
//
// The key returned is an *ecdsa.PrivateKey (P-256, P-384, P-521), an
// *rsa.PrivateKey (2048 to 16384 bits, two primes) or an
// ed25519.PrivateKey: a crypto.Signer for client assertions, request
// objects and DPoP proofs, and, for ECDSA and RSA, the private key type
// JARM and request object decryption take. A public key or certificate, an
// encrypted PEM block (decrypt it first: openssl pkcs8 -topk8 -nocrypt), a
// symmetric ("oct") JWK, a JWK Set, an RSA key under 2048 bits and any
// other curve wrap [ErrUnsupportedKey]; data that does not parse wraps
// [ErrMalformedKey]. No error carries key material.
func ParsePrivateKey(data []byte) (crypto.Signer, string, error) {
	if len(data) > MaxKeyBytes {
		return nil, "", fmt.Errorf("%w: over %d bytes", ErrMalformedKey, MaxKeyBytes)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return parsePrivateJWK(data)
	}
	k, err := parsePrivatePEM(data)
	return k, "", err
}

// LoadPrivateKey reads the file at path, at most [MaxKeyBytes], and parses
// it with [ParsePrivateKey]. A file that cannot be read returns the
// os error (errors.Is(err, fs.ErrNotExist) works); the error text names the
// path, never the content.
func LoadPrivateKey(path string) (crypto.Signer, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("hardened: reading private key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("hardened: reading private key: %w", err)
	}
	k, kid, err := ParsePrivateKey(data)
	if err != nil {
		return nil, "", fmt.Errorf("%w (file %s)", err, path)
	}
	return k, kid, nil
}

// MarshalPrivateKeyPEM encodes key as a PKCS #8 "PRIVATE KEY" PEM block,
// which [ParsePrivateKey] reads back. The key must be an *ecdsa.PrivateKey
// (P-256, P-384, P-521), an ed25519.PrivateKey or an *rsa.PrivateKey of
// 2048 to 16384 bits and two primes; a KMS or HSM crypto.Signer cannot be
// exported and wraps [ErrUnsupportedKey]. The output is secret: store it
// as such.
func MarshalPrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	k, err := checkPrivateKey(key)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS #8: %w", ErrUnsupportedKey, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPrivateJWK encodes key as a JWK with its private members (RFC 7518
// §6.2.2 for EC; §6.3.2 for RSA, with p, q, dp, dq and qi; RFC 8037 §2 for
// Ed25519) and, when kid is not empty, a "kid", which [ParsePrivateKey]
// reads back. Keys are accepted as by [MarshalPrivateKeyPEM]; kid must be
// valid UTF-8. The output is secret: store it as such; publish the public
// JWK instead.
func MarshalPrivateJWK(key crypto.Signer, kid string) ([]byte, error) {
	k, err := checkPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if !utf8.ValidString(kid) {
		return nil, fmt.Errorf("%w: kid is not valid UTF-8", ErrMalformedKey)
	}
	pub, err := (&jose.JWK{Key: k.Public(), KeyID: kid}).MarshalJSON()
	if err != nil {
		return nil, joseKeyError(err)
	}
	var priv [][2]string
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		d, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%w: EC private key", ErrUnsupportedKey)
		}
		priv = [][2]string{{"d", b64.EncodeToString(d)}}
	case ed25519.PrivateKey:
		priv = [][2]string{{"d", b64.EncodeToString(k.Seed())}}
	case *rsa.PrivateKey:
		k.Precompute()
		priv = [][2]string{
			{"d", b64.EncodeToString(k.D.Bytes())},
			{"p", b64.EncodeToString(k.Primes[0].Bytes())},
			{"q", b64.EncodeToString(k.Primes[1].Bytes())},
			{"dp", b64.EncodeToString(k.Precomputed.Dp.Bytes())},
			{"dq", b64.EncodeToString(k.Precomputed.Dq.Bytes())},
			{"qi", b64.EncodeToString(k.Precomputed.Qinv.Bytes())},
		}
	}
	out := pub[:len(pub)-1] // reopen the object
	for _, m := range priv {
		out = append(out, `,"`...)
		out = append(out, m[0]...)
		out = append(out, `":"`...)
		out = append(out, m[1]...) // base64url needs no escaping
		out = append(out, '"')
	}
	return append(out, '}'), nil
}

// parsePrivatePEM parses one PEM block holding a private key.
func parsePrivatePEM(data []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: neither a PEM block nor a JWK", ErrMalformedKey)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%w: data after the PEM block (one key per file)", ErrMalformedKey)
	}
	switch block.Type {
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: encrypted PEM block: decrypt it first", ErrUnsupportedKey)
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("%w: %s, not a private key", ErrUnsupportedKey, strings.ToLower(block.Type))
	}
	if len(block.Headers) != 0 {
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, fmt.Errorf("%w: encrypted PEM block: decrypt it first", ErrUnsupportedKey)
		}
		return nil, fmt.Errorf("%w: PEM headers", ErrMalformedKey)
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
		return nil, fmt.Errorf("%w: PEM block type %s", ErrMalformedKey, quoteTrunc(block.Type))
	}
	if err != nil {
		// x509's error is dropped: the block type is detail enough.
		return nil, fmt.Errorf("%w: %s", ErrMalformedKey, block.Type)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T keys cannot sign", ErrUnsupportedKey, k)
	}
	return checkPrivateKey(s)
}

// checkPrivateKey returns key, as a value of the concrete type the package
// documents, if it is a software key of a supported kind.
func checkPrivateKey(key crypto.Signer) (crypto.Signer, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k == nil || k.Curve == nil {
			break
		}
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, fmt.Errorf("%w: EC curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
	case ed25519.PrivateKey:
		if len(k) == ed25519.PrivateKeySize {
			return k, nil
		}
	case *ed25519.PrivateKey:
		if k != nil && len(*k) == ed25519.PrivateKeySize {
			return *k, nil
		}
	case *rsa.PrivateKey:
		if k == nil || k.N == nil {
			break
		}
		switch n := k.N.BitLen(); {
		case n < jose.MinRSABits:
			return nil, fmt.Errorf("%w: RSA key under %d bits", ErrUnsupportedKey, jose.MinRSABits)
		case n > jose.MaxRSABits:
			return nil, fmt.Errorf("%w: RSA key over %d bits", ErrUnsupportedKey, jose.MaxRSABits)
		}
		if len(k.Primes) != 2 {
			return nil, fmt.Errorf("%w: multi-prime RSA key", ErrUnsupportedKey)
		}
		return k, nil
	}
	return nil, fmt.Errorf("%w: %T is not an exportable ECDSA, Ed25519 or RSA private key", ErrUnsupportedKey, key)
}

// privateMembers are the JWK members that hold private key material (RFC
// 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateMembers = map[string]bool{"d": true, "p": true, "q": true, "dp": true, "dq": true, "qi": true, "oth": true, "k": true}

// parsePrivateJWK parses a private JWK: internal/jose parses and checks
// its public members; the private ones are decoded here and must match.
func parsePrivateJWK(data []byte) (crypto.Signer, string, error) {
	priv := map[string][]byte{}
	pubJSON := []byte{'{'}
	hasKeys := false
	err := strictjson.EachMember(data, nil, func(name, value []byte) error {
		n := string(name)
		if n == "keys" {
			hasKeys = true
		}
		if !privateMembers[n] {
			if len(pubJSON) > 1 {
				pubJSON = append(pubJSON, ',')
			}
			q, err := json.Marshal(n)
			if err != nil {
				return err
			}
			pubJSON = append(pubJSON, q...)
			pubJSON = append(pubJSON, ':')
			pubJSON = append(pubJSON, value...)
			return nil
		}
		if n == "oth" || n == "k" {
			priv[n] = nil
			return nil
		}
		v, err := strictjson.Unquote(value)
		if err != nil {
			return fmt.Errorf("member %q is not a string", n)
		}
		b, err := b64.DecodeString(string(v))
		if err != nil || len(b) == 0 {
			return fmt.Errorf("member %q is not base64url", n)
		}
		priv[n] = b
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("%w: JWK: %w", ErrMalformedKey, err)
	}
	pubJSON = append(pubJSON, '}')
	if _, ok := priv["k"]; ok {
		return nil, "", fmt.Errorf("%w: symmetric (oct) JWK", ErrUnsupportedKey)
	}
	if _, ok := priv["oth"]; ok {
		return nil, "", fmt.Errorf("%w: multi-prime RSA key", ErrUnsupportedKey)
	}
	pub, err := jose.ParseJWK(pubJSON)
	if err != nil {
		if hasKeys {
			return nil, "", fmt.Errorf("%w: a JWK Set: store the one private JWK alone", ErrUnsupportedKey)
		}
		return nil, "", joseKeyError(err)
	}
	if priv["d"] == nil {
		return nil, "", fmt.Errorf("%w: public JWK only: a private key (\"d\") is needed", ErrUnsupportedKey)
	}
	var k crypto.Signer
	switch p := pub.Key.(type) {
	case *ecdsa.PublicKey:
		k, err = ecPrivate(p, priv)
	case ed25519.PublicKey:
		k, err = edPrivate(p, priv)
	case *rsa.PublicKey:
		k, err = rsaPrivate(p, priv)
	default:
		err = fmt.Errorf("%w: %T", ErrUnsupportedKey, pub.Key)
	}
	if err != nil {
		return nil, "", err
	}
	return k, pub.KeyID, nil
}

// ecPrivate builds the EC private key of pub from "d", which must be the
// curve's size (RFC 7518 §6.2.2.1) and match x and y.
func ecPrivate(pub *ecdsa.PublicKey, priv map[string][]byte) (crypto.Signer, error) {
	for n := range priv {
		if n != "d" {
			return nil, fmt.Errorf("%w: member %q in an EC JWK", ErrMalformedKey, n)
		}
	}
	k, err := ecdsa.ParseRawPrivateKey(pub.Curve, priv["d"])
	if err != nil {
		return nil, fmt.Errorf("%w: EC private scalar", ErrMalformedKey)
	}
	if !k.PublicKey.Equal(pub) {
		return nil, fmt.Errorf("%w: x and y do not match d", ErrMalformedKey)
	}
	return k, nil
}

// edPrivate builds the Ed25519 private key of pub from its seed "d".
func edPrivate(pub ed25519.PublicKey, priv map[string][]byte) (crypto.Signer, error) {
	for n := range priv {
		if n != "d" {
			return nil, fmt.Errorf("%w: member %q in an OKP JWK", ErrMalformedKey, n)
		}
	}
	d := priv["d"]
	if len(d) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: Ed25519 seed length", ErrMalformedKey)
	}
	k := ed25519.NewKeyFromSeed(d)
	if subtle.ConstantTimeCompare(k.Public().(ed25519.PublicKey), pub) != 1 {
		return nil, fmt.Errorf("%w: x does not match d", ErrMalformedKey)
	}
	return k, nil
}

// rsaPrivate builds the RSA private key of pub from d, p and q, and checks
// dp, dq and qi when present.
func rsaPrivate(pub *rsa.PublicKey, priv map[string][]byte) (crypto.Signer, error) {
	if priv["p"] == nil || priv["q"] == nil {
		return nil, fmt.Errorf("%w: RSA JWK without the primes p and q", ErrUnsupportedKey)
	}
	k := &rsa.PrivateKey{
		PublicKey: rsa.PublicKey{N: new(big.Int).Set(pub.N), E: pub.E},
		D:         new(big.Int).SetBytes(priv["d"]),
		Primes:    []*big.Int{new(big.Int).SetBytes(priv["p"]), new(big.Int).SetBytes(priv["q"])},
	}
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("%w: RSA private members do not match n and e", ErrMalformedKey)
	}
	k.Precompute()
	for _, c := range [...]struct {
		name string
		want *big.Int
	}{{"dp", k.Precomputed.Dp}, {"dq", k.Precomputed.Dq}, {"qi", k.Precomputed.Qinv}} {
		got, ok := priv[c.name]
		if ok && new(big.Int).SetBytes(got).Cmp(c.want) != 0 {
			return nil, fmt.Errorf("%w: %s does not match p, q and d", ErrMalformedKey, c.name)
		}
	}
	return k, nil
}

// joseKeyError turns an internal/jose error about a JWK's public members
// into this package's sentinels, keeping jose's detail (which names kinds
// and curves, never key bytes) but not its prefix.
func joseKeyError(err error) error {
	detail := err.Error()
	for _, p := range [...]string{"jose: unsupported key: ", "jose: malformed input: ", "jose: input too large: ", "jose: "} {
		if s, ok := strings.CutPrefix(detail, p); ok {
			detail = s
			break
		}
	}
	if errors.Is(err, jose.ErrUnsupportedKey) {
		return fmt.Errorf("%w: JWK: %s", ErrUnsupportedKey, detail)
	}
	return fmt.Errorf("%w: JWK: %s", ErrMalformedKey, detail)
}
