package mtlsbound

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Size limits applied to token material.
const (
	// MaxConfirmationBytes is the largest "cnf" member accepted: 4 KiB.
	// An x5t#S256 confirmation is about 60 bytes.
	MaxConfirmationBytes = 4 << 10
	// MaxClaimsBytes is the largest claims object (JWT payload or
	// introspection response) accepted: 1 MiB.
	MaxClaimsBytes = 1 << 20
)

// Member names, as registered by RFC 7800 and RFC 8705.
const (
	// ClaimConfirmation is the confirmation claim
	// (https://datatracker.ietf.org/doc/html/rfc7800#section-3.1).
	ClaimConfirmation = "cnf"
	// MethodX5tS256 is the certificate thumbprint confirmation method
	// (https://datatracker.ietf.org/doc/html/rfc8705#section-3.1).
	MethodX5tS256 = "x5t#S256"
)

// thumbprintLen is the length of an unpadded base64url SHA-256 digest.
const thumbprintLen = 43 // ceil(32*8/6)

var b64 = base64.RawURLEncoding.Strict()

// Thumbprint returns the x5t#S256 of cert: the unpadded base64url encoding
// of the SHA-256 digest of its DER encoding (cert.Raw), as RFC 8705 §3.1
// defines it (https://datatracker.ietf.org/doc/html/rfc8705#section-3.1).
// A nil certificate has no thumbprint: the result is "".
func Thumbprint(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Confirmation is a parsed "cnf" claim. The zero value is an unbound token
// (no "cnf" member). It is a small value, safe to copy and to share.
type Confirmation struct {
	sum   [sha256.Size]byte
	bound bool
}

// Bound reports whether the token is bound to a certificate by x5t#S256.
func (c Confirmation) Bound() bool { return c.bound }

// Thumbprint returns the canonical x5t#S256 the token is bound to, or ""
// for an unbound token.
func (c Confirmation) Thumbprint() string {
	if !c.bound {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(c.sum[:])
}

// Verify checks that cert is the certificate the token is bound to, by
// comparing SHA-256 digests in constant time. It returns [ErrNoBinding]
// for an unbound confirmation, [ErrNoCertificate] for a nil cert and
// [ErrCertificateMismatch] when the digests differ.
//
// Only the thumbprint is compared: the certificate's validity period,
// chain and key usage are the TLS layer's policy (RFC 8705 §3 binds the
// token to the certificate the client presented, and a resource server
// accepting self-signed certificates checks no chain at all).
func (c Confirmation) Verify(cert *x509.Certificate) error {
	if !c.bound {
		return ErrNoBinding
	}
	if cert == nil {
		return ErrNoCertificate
	}
	sum := sha256.Sum256(cert.Raw)
	if subtle.ConstantTimeCompare(sum[:], c.sum[:]) != 1 {
		return ErrCertificateMismatch
	}
	return nil
}

// ParseConfirmation parses the value of a "cnf" member
// (https://datatracker.ietf.org/doc/html/rfc7800#section-3.1) that must
// bind the token to a certificate.
//
// The value must be a JSON object of at most [MaxConfirmationBytes] with
// unique member names whose only member is "x5t#S256", a JSON string of
// exactly 43 characters of the unpadded base64url alphabet that decodes
// to 32 bytes in canonical form (the unused low bits of the last character
// are zero, so that one digest has exactly one spelling). Anything else
// wraps [ErrMalformedConfirmation]: null, a string, an array, "{}", a
// non-string or non-canonical x5t#S256. RFC 8705 §3.1's own example value
// "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2" is not canonical (its last
// character carries non-zero padding bits; the canonical spelling of the
// same bytes ends in "dg0") and is rejected. An object naming another
// confirmation method (jkt, jwk, jwe, jku, kid...), alone or beside
// x5t#S256, wraps [ErrUnsupportedConfirmation]: this package could not
// check that method, so it refuses to vouch for the token.
func ParseConfirmation(cnf []byte) (Confirmation, error) {
	if len(cnf) > MaxConfirmationBytes {
		return Confirmation{}, fmt.Errorf("%w: %w: over %d bytes", ErrMalformedConfirmation, ErrTooLarge, MaxConfirmationBytes)
	}
	var (
		c      Confirmation
		x5t    []byte
		others bool
	)
	err := strictjson.EachMember(cnf, nil, func(name, v []byte) error {
		if string(name) == MethodX5tS256 {
			x5t = v
		} else {
			others = true
		}
		return nil
	})
	if err != nil {
		return Confirmation{}, fmt.Errorf("%w: %w", ErrMalformedConfirmation, err)
	}
	if others {
		return Confirmation{}, ErrUnsupportedConfirmation
	}
	if x5t == nil {
		return Confirmation{}, fmt.Errorf("%w: empty object", ErrMalformedConfirmation)
	}
	if strictjson.Kind(x5t) != '"' {
		return Confirmation{}, fmt.Errorf("%w: x5t#S256 is not a string", ErrMalformedConfirmation)
	}
	s, err := strictjson.Unquote(x5t)
	if err != nil {
		return Confirmation{}, fmt.Errorf("%w: %w", ErrMalformedConfirmation, err)
	}
	if err := decodeThumbprint(s, &c.sum); err != nil {
		return Confirmation{}, err
	}
	c.bound = true
	return c, nil
}

// decodeThumbprint decodes a canonical unpadded base64url SHA-256 digest.
func decodeThumbprint(s []byte, dst *[sha256.Size]byte) error {
	if len(s) != thumbprintLen {
		return fmt.Errorf("%w: x5t#S256 is not 43 characters", ErrMalformedConfirmation)
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return fmt.Errorf("%w: x5t#S256 is not base64url", ErrMalformedConfirmation)
		}
	}
	// Strict rejects non-zero trailing bits: "...dg2" for "...dg0".
	n, err := b64.Decode(dst[:], s)
	if err != nil || n != sha256.Size {
		return fmt.Errorf("%w: x5t#S256 is not canonical base64url of 32 bytes", ErrMalformedConfirmation)
	}
	return nil
}

// ConfirmationFromClaims reads the "cnf" member of a JWT access token's
// claims set (RFC 8705 §3.1), given as the JSON payload. The claims must be
// one JSON object of at most [MaxClaimsBytes] with unique member names
// (else [ErrMalformedClaims]). A missing "cnf" gives the zero,
// unbound Confirmation and no error: the policy for unbound tokens is the
// caller's ([Verifier.InsecureAllowUnbound]). A present "cnf" is parsed
// by [ParseConfirmation]. If the claims carry an "active" member (an
// introspection response passed as claims), it must be the JSON value
// true, else [ErrInactiveToken].
//
// The claims must already be verified (signature, issuer, audience,
// expiry): this function reads, it does not authenticate.
func ConfirmationFromClaims(claims []byte) (Confirmation, error) {
	return confirmationFrom(claims, false)
}

// ConfirmationFromIntrospection reads the "cnf" member of an RFC 7662
// introspection response body (RFC 8705 §3.2,
// https://datatracker.ietf.org/doc/html/rfc8705#section-3.2). It is
// [ConfirmationFromClaims] plus one rule: "active" must be present and be
// the JSON value true, else [ErrInactiveToken].
func ConfirmationFromIntrospection(body []byte) (Confirmation, error) {
	return confirmationFrom(body, true)
}

// activeTrue reports whether a raw "active" value is the JSON literal true.
func activeTrue(v []byte) bool { return string(v) == "true" }

// confirmationFrom extracts cnf from a claims object. If requireActive,
// "active" must be true; otherwise "active", when present, must be true.
func confirmationFrom(claims []byte, requireActive bool) (Confirmation, error) {
	if len(claims) > MaxClaimsBytes {
		return Confirmation{}, fmt.Errorf("%w: %w: over %d bytes", ErrMalformedClaims, ErrTooLarge, MaxClaimsBytes)
	}
	var cnf, active []byte
	err := strictjson.EachMember(claims, nil, func(name, v []byte) error {
		switch string(name) {
		case ClaimConfirmation:
			cnf = v
		case "active":
			active = v
		}
		return nil
	})
	if err != nil {
		return Confirmation{}, fmt.Errorf("%w: %w", ErrMalformedClaims, err)
	}
	if (requireActive || active != nil) && !activeTrue(active) {
		return Confirmation{}, ErrInactiveToken
	}
	if cnf == nil {
		return Confirmation{}, nil
	}
	return ParseConfirmation(cnf)
}
