package mtlsbound

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/hardened-oauth/hardened/internal/cnf"
)

// Thumbprint returns the x5t#S256 of cert: the unpadded base64url encoding
// of the SHA-256 digest of its DER encoding (cert.Raw), as RFC 8705 §3.1
// defines it (https://datatracker.ietf.org/doc/html/rfc8705#section-3.1).
// A nil certificate has no thumbprint: the result is "".
//
// It is the way to compare a certificate with a parsed confirmation:
// [Confirmation.X5TS256] is canonical, so Thumbprint(cert) ==
// conf.X5TS256 is exact. An authorization server puts it in the "cnf" of
// the tokens it issues over a connection presenting cert.
func Thumbprint(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Confirmation is a parsed "cnf" claim (RFC 7800 §3.1,
// https://datatracker.ietf.org/doc/html/rfc7800#section-3.1). It has the
// same shape in dpop and mtlsbound. The zero value is an unbound token (no
// "cnf" member). Parsing reads every method; which ones a request must
// satisfy is the [Verifier]'s policy.
type Confirmation struct {
	// JKT is the "jkt" member (RFC 9449 §6): the canonical base64url
	// SHA-256 JWK thumbprint of a DPoP key.
	JKT string
	// JWK is the "jwk" member's public key (RFC 7800 §3.2), or nil.
	JWK crypto.PublicKey
	// X5TS256 is the "x5t#S256" member (RFC 8705 §3.1): the canonical
	// base64url SHA-256 thumbprint of a certificate (see [Thumbprint]).
	X5TS256 string
	// KID is the "kid" member (RFC 7800 §3.4): a key that
	// [Verifier.Keys] resolves, refused without it.
	KID string
	// JKU is the "jku" member (RFC 7800 §3.5): an https JWK Set URL that
	// comes with KID, resolved by [Verifier.Keys] as well.
	JKU string
	// Other lists the names of any other members, sorted (for example
	// "jwe"). A token with any is always refused.
	Other []string
}

// Bound reports whether the token carries a confirmation, whatever its
// method.
func (c Confirmation) Bound() bool { return cnf.Confirmation(c).Bound() }

// ParseConfirmation parses the value of a "cnf" member: a JSON object of
// at most 16 KiB with unique member names, holding at least one member.
// "jkt" and "x5t#S256" must be strings of exactly 43 unpadded base64url
// characters encoding 32 bytes canonically (the unused low bits of the
// last character are zero, so that one digest has one spelling), "jwk" a
// public asymmetric JWK, "kid" a non-empty string and "jku" an absolute
// https URL given with "kid". Other members are listed in
// [Confirmation.Other]. Anything else wraps [ErrMalformedConfirmation]:
// null, a string, an array, "{}", a case variant of a method name
// ("X5T#s256"), a private or symmetric "jwk", a non-canonical digest.
// RFC 8705 §3.1's own example value
// "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" is such a digest (the
// canonical spelling of the same bytes ends in "dg0") and is rejected.
//
// ParseConfirmation reads; it does not decide. A jkt-bound result is not
// an error here, and [Verifier] refuses it unless another verifier checks
// jkt ([Verifier.CheckedElsewhere]).
func ParseConfirmation(raw []byte) (Confirmation, error) {
	c, err := cnf.Parse(raw)
	if err != nil {
		return Confirmation{}, cnfError(err)
	}
	return Confirmation(c), nil
}

// ConfirmationFromClaims reads the "cnf" member of a JWT access token's
// claims set (RFC 8705 §3.1) or of an RFC 7662 introspection response
// (RFC 8705 §3.2, https://datatracker.ietf.org/doc/html/rfc8705#section-3.2),
// given as one JSON object of at most 1 MiB. An "active" member that is
// present and not the JSON value true wraps [ErrInactiveToken] (an absent
// one is a JWT claims set; requiring it of introspection responses is the
// introspecting code's job). A missing "cnf" gives the zero, unbound
// Confirmation and no error. A present one is read by [ParseConfirmation].
// Claims that are not one strict JSON object (duplicate or case-variant
// member names, invalid UTF-8), or that spell "cnf" or "active" in another
// case, wrap [ErrMalformedConfirmation].
//
// The claims must already be verified (signature, issuer, audience,
// expiry): this function reads, it does not authenticate.
func ConfirmationFromClaims(claims []byte) (Confirmation, error) {
	c, err := cnf.FromClaims(claims)
	if err != nil {
		return Confirmation{}, cnfError(err)
	}
	return Confirmation(c), nil
}

// cnfError maps an error of internal/cnf to this package's sentinels.
func cnfError(err error) error {
	if errors.Is(err, cnf.ErrInactive) {
		return ErrInactiveToken
	}
	return fmt.Errorf("%w: %w", ErrMalformedConfirmation, err)
}

// matches reports, in constant time, whether x5t, a canonical thumbprint
// from [ParseConfirmation], is cert's. Canonical spellings are unique, so
// comparing encodings compares digests; no allocation.
func matches(x5t string, cert *x509.Certificate) bool {
	var enc [43]byte // base64.RawURLEncoding.EncodedLen(sha256.Size)
	sum := sha256.Sum256(cert.Raw)
	base64.RawURLEncoding.Encode(enc[:], sum[:])
	if len(x5t) != len(enc) {
		return false
	}
	var d byte
	for i := range enc {
		d |= enc[i] ^ x5t[i]
	}
	return d == 0
}
