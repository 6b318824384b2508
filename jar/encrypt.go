package jar

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"slices"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// Key management algorithms (RFC 7518 §4.1) this package can encrypt
// request objects with, in order of preference.
var keyAlgorithms = []string{
	jose.RSAOAEP256,
	jose.ECDHES,
	jose.ECDHESA256KW,
	jose.ECDHESA192KW,
	jose.ECDHESA128KW,
}

// Content encryption algorithms (RFC 7518 §5.1), in order of preference.
var contentEncryptions = []string{
	jose.A256GCM,
	jose.A192GCM,
	jose.A128GCM,
	jose.A256CBCHS512,
	jose.A192CBCHS384,
	jose.A128CBCHS256,
}

// EncryptionKey is one of the authorization server's public encryption
// keys.
type EncryptionKey struct {
	// Key is an *rsa.PublicKey (2048 bits or more) or an *ecdsa.PublicKey
	// on P-256, P-384 or P-521.
	Key crypto.PublicKey
	// KeyID is the key's "kid", copied to the JWE header so the server
	// knows which private key to use. Empty omits it.
	KeyID string
	// Algorithm is the JWK "alg": the one key management algorithm the key
	// is for. Empty means any algorithm fitting the key type.
	Algorithm string
}

// Encryption says how to encrypt request objects to the authorization
// server (RFC 9101 §4 and §6.1,
// https://datatracker.ietf.org/doc/html/rfc9101#section-6.1).
//
// The key management algorithm is taken, in the order RSA-OAEP-256,
// ECDH-ES, ECDH-ES+A256KW, ECDH-ES+A192KW, ECDH-ES+A128KW, from those the
// server supports (AlgValuesSupported), and the first key of Keys that
// fits it (by key type, and by its Algorithm when set) is used. The
// content encryption is the first of A256GCM, A192GCM, A128GCM,
// A256CBC-HS512, A192CBC-HS384, A128CBC-HS256 that the server supports
// (EncValuesSupported). The two lists describe the server; they do not
// widen what this package implements ([KeyAlgorithms],
// [ContentEncryptions]).
type Encryption struct {
	// Keys are the server's encryption keys, e.g. from
	// [ParseEncryptionKeys] over its JWK Set. Required: no key is an error
	// wrapping [ErrEncryption].
	Keys []EncryptionKey
	// AlgValuesSupported is the server's
	// request_object_encryption_alg_values_supported metadata (RFC 9101
	// §9.1). Nil means the server did not publish it: RSA-OAEP-256 for RSA
	// keys and ECDH-ES for EC keys. A non-nil list with nothing this
	// package implements is an error wrapping [ErrEncryption].
	AlgValuesSupported []string
	// EncValuesSupported is the server's
	// request_object_encryption_enc_values_supported metadata. Nil means
	// A256GCM. A non-nil list with nothing this package implements is an
	// error wrapping [ErrEncryption].
	EncValuesSupported []string
}

type encryptionChoice struct {
	key      EncryptionKey
	alg, enc string
}

// choose picks the key, "alg" and "enc".
func (e *Encryption) choose() (*encryptionChoice, error) {
	algs := []string{jose.RSAOAEP256, jose.ECDHES}
	if e.AlgValuesSupported != nil {
		algs = intersect(keyAlgorithms, e.AlgValuesSupported)
	}
	encs := []string{jose.A256GCM}
	if e.EncValuesSupported != nil {
		encs = intersect(contentEncryptions, e.EncValuesSupported)
	}
	if len(algs) == 0 {
		return nil, fmt.Errorf("%w: no key management algorithm (alg) in common with the server", ErrEncryption)
	}
	if len(encs) == 0 {
		return nil, fmt.Errorf("%w: no content encryption algorithm (enc) in common with the server", ErrEncryption)
	}
	if len(e.Keys) == 0 {
		return nil, fmt.Errorf("%w: no encryption key", ErrEncryption)
	}
	for _, alg := range algs {
		for _, k := range e.Keys {
			if k.Algorithm != "" && k.Algorithm != alg {
				continue
			}
			if fits(alg, k.Key) {
				return &encryptionChoice{key: k, alg: alg, enc: encs[0]}, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: no usable encryption key for a supported algorithm", ErrEncryption)
}

// intersect returns the members of pref that are in have, in pref's order.
func intersect(pref, have []string) []string {
	var out []string
	for _, a := range pref {
		if slices.Contains(have, a) {
			out = append(out, a)
		}
	}
	return out
}

// fits reports whether key can receive a JWE with key management alg. The
// key must also pass internal/jose's checks (curve and point, RSA size).
func fits(alg string, key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg != jose.RSAOAEP256 || k == nil || k.N == nil {
			return false
		}
	case *ecdsa.PublicKey:
		if alg == jose.RSAOAEP256 || k == nil {
			return false
		}
	default:
		return false
	}
	_, err := jose.NewJWK(key)
	return err == nil
}

// usable reports whether key fits at least one key management algorithm.
func usable(key crypto.PublicKey) bool {
	for _, alg := range keyAlgorithms {
		if fits(alg, key) {
			return true
		}
	}
	return false
}

// ParseEncryptionKeys returns the keys of a JWK Set (the authorization
// server's jwks_uri document) that may encrypt request objects: RSA and EC
// public keys whose "use" is "enc" or absent. Keys of other types, signing
// keys and keys this module does not support are skipped; a set that does
// not parse, or that holds private key material, is an error wrapping
// [ErrEncryption]. The result may be empty.
func ParseEncryptionKeys(jwks []byte) ([]EncryptionKey, error) {
	set, err := jose.ParseJWKSet(jwks)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed JWK Set: %w", ErrEncryption, err)
	}
	var out []EncryptionKey
	for _, k := range set {
		if k.Use != "" && k.Use != "enc" {
			continue
		}
		if usable(k.Key) {
			out = append(out, EncryptionKey{Key: k.Key, KeyID: k.KeyID, Algorithm: k.Algorithm})
		}
	}
	return out, nil
}

// KeyAlgorithms returns the key management algorithms this package can
// encrypt request objects with, in order of preference.
func KeyAlgorithms() []string { return slices.Clone(keyAlgorithms) }

// ContentEncryptions returns the content encryption algorithms this package
// can encrypt request objects with, in order of preference.
func ContentEncryptions() []string { return slices.Clone(contentEncryptions) }
