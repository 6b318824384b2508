package dpop

import (
	"crypto"
	"crypto/subtle"
	"fmt"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Size limits of token material.
const (
	// MaxConfirmationBytes is the largest "cnf" member accepted: 16 KiB.
	MaxConfirmationBytes = 16 << 10
	// MaxClaimsBytes is the largest claims object (JWT payload or
	// introspection response) accepted: 1 MiB.
	MaxClaimsBytes = 1 << 20
)

// Confirmation is the "cnf" claim of an access token
// (https://datatracker.ietf.org/doc/html/rfc7800#section-3.1) as far as
// DPoP is concerned: the key thumbprint "jkt" of RFC 9449 §6
// (https://datatracker.ietf.org/doc/html/rfc9449#section-6), and/or the
// public key "jwk" of RFC 7800 §3.2, compared by its RFC 7638 thumbprint.
// The zero value is an unbound token.
type Confirmation struct {
	// JKT is the "jkt" member: the base64url SHA-256 thumbprint of the key
	// the token is bound to.
	JKT string
	// JWK is the "jwk" member's public key, or nil.
	JWK crypto.PublicKey
}

// Bound reports whether the confirmation names a key.
func (c Confirmation) Bound() bool { return c.JKT != "" || c.JWK != nil }

// Matches reports whether the key with thumbprint jkt satisfies every
// method of the confirmation: jkt equal to "jkt" and to the thumbprint of
// "jwk" when present, compared in constant time. An unbound confirmation
// matches nothing.
func (c Confirmation) Matches(jkt string) bool {
	if !c.Bound() {
		return false
	}
	ok := true
	if c.JKT != "" {
		ok = ctEqual(c.JKT, jkt)
	}
	if c.JWK != nil {
		tp, err := jose.Thumbprint(c.JWK)
		ok = ok && err == nil && ctEqual(tp, jkt)
	}
	return ok
}

// ctEqual compares two strings in time that depends only on their lengths
// (as subtle.ConstantTimeCompare does), without converting them.
func ctEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return subtle.ConstantTimeByteEq(v, 0) == 1
}

// ParseConfirmation parses the value of a "cnf" member. It must be a JSON
// object of unique members, at most [MaxConfirmationBytes], holding "jkt"
// (a canonical unpadded base64url SHA-256 digest, 43 characters), "jwk" (a
// public JWK; private members are refused), or both. Any other member
// (x5t#S256, jwe, jku, kid, ...) wraps [ErrUnsupportedConfirmation]: this
// package cannot check it, so it does not vouch for the token. Other
// malformations wrap [ErrMalformedConfirmation].
func ParseConfirmation(cnf []byte) (Confirmation, error) {
	if len(cnf) > MaxConfirmationBytes {
		return Confirmation{}, fmt.Errorf("%w: over %d bytes", ErrMalformedConfirmation, MaxConfirmationBytes)
	}
	var (
		c                  Confirmation
		other, badJKT, bad bool
	)
	err := strictjson.EachMember(cnf, nil, func(name, value []byte) error {
		switch string(name) {
		case "jkt":
			v, err := strictjson.Unquote(value)
			if err != nil || !canonicalDigest(v) {
				badJKT = true
			}
			c.JKT = string(v)
		case "jwk":
			k, err := jose.ParseJWK(value)
			if err != nil {
				bad = true
				return nil
			}
			c.JWK = k.Key
		default:
			other = true
		}
		return nil
	})
	switch {
	case err != nil:
		return Confirmation{}, fmt.Errorf("%w: %w", ErrMalformedConfirmation, err)
	case other:
		return Confirmation{}, ErrUnsupportedConfirmation
	case badJKT:
		return Confirmation{}, fmt.Errorf("%w: jkt is not a canonical SHA-256 thumbprint", ErrMalformedConfirmation)
	case bad:
		return Confirmation{}, fmt.Errorf("%w: jwk is not a supported public key", ErrMalformedConfirmation)
	case !c.Bound():
		return Confirmation{}, fmt.Errorf("%w: no confirmation method", ErrMalformedConfirmation)
	}
	return c, nil
}

// canonicalDigest reports whether s is the canonical unpadded base64url
// encoding of 32 bytes.
func canonicalDigest(s []byte) bool {
	var d [32]byte
	if len(s) != 43 {
		return false
	}
	n, err := b64.Decode(d[:], s)
	return err == nil && n == 32
}

// ConfirmationFromClaims reads the "cnf" member of token claims: a JWT
// access token's payload (RFC 9068) or an RFC 7662 introspection response.
// The claims must be one JSON object with unique member names, at most
// [MaxClaimsBytes] ([ErrMalformedClaims]); an "active" member, if present,
// must be true ([ErrInactiveToken]). Without "cnf" the result is the zero
// Confirmation and no error: the caller decides whether an unbound token is
// acceptable. A "cnf" is parsed by [ParseConfirmation].
func ConfirmationFromClaims(claims []byte) (Confirmation, error) {
	if len(claims) > MaxClaimsBytes {
		return Confirmation{}, fmt.Errorf("%w: over %d bytes", ErrMalformedClaims, MaxClaimsBytes)
	}
	var (
		cnf      []byte
		seenCnf  bool
		inactive bool
	)
	err := strictjson.EachMember(claims, nil, func(name, value []byte) error {
		switch string(name) {
		case "cnf":
			cnf, seenCnf = value, true
		case "active":
			inactive = string(value) != "true"
		}
		return nil
	})
	if err != nil {
		return Confirmation{}, fmt.Errorf("%w: %w", ErrMalformedClaims, err)
	}
	if inactive {
		return Confirmation{}, ErrInactiveToken
	}
	if !seenCnf {
		return Confirmation{}, nil
	}
	return ParseConfirmation(cnf)
}
