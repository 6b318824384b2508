package dpop

import (
	"crypto"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// Confirmation is the "cnf" claim of an access token
// (https://datatracker.ietf.org/doc/html/rfc7800#section-3.1), as the
// module's one cnf parser reads it. This package checks "jkt", "jwk" and,
// with [Verifier.Keys], the key "kid"/"jku" names against the proof key;
// the other members are listed so that a verifier can refuse what nobody
// checks. The zero value is an unbound token (no
// "cnf" member). mtlsbound.Confirmation has the same shape.
type Confirmation struct {
	// JKT is the "jkt" member (RFC 9449 §6): the base64url SHA-256 JWK
	// thumbprint of the key the token is bound to.
	JKT string
	// JWK is the "jwk" member's public key (RFC 7800 §3.2), or nil. It
	// binds like "jkt", through its RFC 7638 thumbprint.
	JWK crypto.PublicKey
	// X5TS256 is the "x5t#S256" member (RFC 8705 §3.1): a certificate
	// thumbprint, checked by an mTLS verifier, never by this package.
	X5TS256 string
	// KID is the "kid" member (RFC 7800 §3.4): a key that
	// [Verifier.Keys] resolves, refused without it.
	KID string
	// JKU is the "jku" member (RFC 7800 §3.5), an https JWK Set URL that
	// comes with KID, resolved by [Verifier.Keys] as well.
	JKU string
	// Other lists the names of unregistered members (sorted), such as
	// "jwe". Always refused.
	Other []string
}

// Bound reports whether the token carries any confirmation member, known
// or not.
func (c Confirmation) Bound() bool {
	return c.JKT != "" || c.JWK != nil || c.X5TS256 != "" || c.KID != "" || c.JKU != "" || len(c.Other) > 0
}

// keyBound reports whether the token is bound to a DPoP key: "jkt" or
// "jwk".
func (c Confirmation) keyBound() bool { return c.JKT != "" || c.JWK != nil }

// matches reports whether the key with thumbprint jkt satisfies the key
// methods of the confirmation: jkt equal to "jkt" and to the thumbprint of
// "jwk" when present, compared in constant time. A confirmation without
// "jkt" or "jwk" matches nothing.
func (c Confirmation) matches(jkt string) bool {
	if !c.keyBound() {
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

// ParseConfirmation parses the value of a "cnf" member with the module's
// one cnf parser: a strict JSON object of at most 16 KiB whose "jkt" and
// "x5t#S256" are canonical unpadded base64url SHA-256 digests, whose "jwk"
// is a public key (private members are refused), whose "jku" is https and
// comes with "kid". Unknown members are listed in [Confirmation.Other].
// It only parses: which methods are accepted is the [Verifier]'s policy.
// Failures wrap [ErrMalformedConfirmation].
func ParseConfirmation(raw []byte) (Confirmation, error) {
	c, err := cnf.Parse(raw)
	if err != nil {
		return Confirmation{}, fmt.Errorf("%w: %w", ErrMalformedConfirmation, err)
	}
	return Confirmation(c), nil
}

// ConfirmationFromClaims reads the "cnf" member of token claims: a JWT
// access token's payload (RFC 9068) or an RFC 7662 introspection response,
// one strict JSON object of at most 1 MiB ([ErrMalformedConfirmation]).
// An "active" member, if present, must be true ([ErrInactiveToken]).
// Without "cnf" the result is the zero Confirmation and no error: the
// caller decides whether an unbound token is acceptable. A "cnf" is parsed
// as by [ParseConfirmation].
func ConfirmationFromClaims(claims []byte) (Confirmation, error) {
	c, err := cnf.FromClaims(claims)
	switch {
	case errors.Is(err, cnf.ErrInactive):
		return Confirmation{}, fmt.Errorf("%w: %w", ErrInactiveToken, err)
	case err != nil:
		return Confirmation{}, fmt.Errorf("%w: %w", ErrMalformedConfirmation, err)
	}
	return Confirmation(c), nil
}
