// Package cnf is the module's one parser of the RFC 7800 "cnf"
// (confirmation) claim, https://datatracker.ietf.org/doc/html/rfc7800#section-3.1,
// as it appears in JWT access tokens and RFC 7662 introspection responses.
//
// It knows the members that bind a token to a key the sender must prove it
// holds: "jkt" (RFC 9449 §6, a JWK SHA-256 thumbprint), "jwk" (RFC 7800
// §3.2, the public key itself), "x5t#S256" (RFC 8705 §3.1, a certificate
// SHA-256 thumbprint), "kid" (RFC 7800 §3.4, a key identifier) and "jku"
// (RFC 7800 §3.5, a JWK Set URL, with "kid"). Any other member ("jwe", a
// symmetric proof-of-possession key, or anything unregistered) is listed in
// [Confirmation.Other] so that every consumer refuses it: a confirmation
// method nobody checks would otherwise make a bound token a bearer token.
//
// The parser only reads; it checks syntax (strict JSON, canonical base64url
// SHA-256 digests, a public JWK, an https jku) and leaves the policy (which
// methods a verifier enforces) to dpop, mtlsbound and phantom.
//
// [Resolver] is the one implementation behind dpop.JWKSResolver and
// mtlsbound.JWKSResolver: it finds the key a "kid" names in a registered
// JWK Set, or in the JWK Set at an allowed "jku". [Confirmation.KIDTarget],
// [ResolvedThumbprint] and [SameKey] are the rules both verifiers apply to
// a resolved key: every member of one "cnf" names one key, and the
// presented key must be it.
//
// Member names are matched exactly, and a name that equals "cnf" or
// "active" (in the claims) or a method name (in "cnf") only under case
// folding is malformed rather than ignored or listed in Other:
// encoding/json, which folds case, would read {"CNF":{...}} as a bound
// token and {"JKT":"..."} as a jkt binding, so such a document means one
// thing to this parser and another to the next.
package cnf

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Member names of the confirmation methods this package parses.
const (
	MemberJKT     = "jkt"
	MemberJWK     = "jwk"
	MemberX5TS256 = "x5t#S256"
	MemberKID     = "kid"
	MemberJKU     = "jku"
)

// Size limits.
const (
	// MaxBytes bounds a "cnf" object.
	MaxBytes = 16 << 10
	// MaxClaimsBytes bounds a claims set or introspection response read by
	// [FromClaims].
	MaxClaimsBytes = 1 << 20
)

var (
	// ErrMalformed means the "cnf" value (or the claims holding it) is not
	// what RFC 7800 allows: not a JSON object, too large, a member of the
	// wrong type, a digest that is not canonical base64url of 32 bytes, a
	// private or unsupported "jwk", a "jku" that is not https or comes
	// without "kid", an empty object, a duplicate member name or a case
	// variant of a name this package reads.
	ErrMalformed = errors.New("cnf: malformed confirmation")
	// ErrInactive means the claims are an introspection response whose
	// "active" member is not true.
	ErrInactive = errors.New("cnf: token is not active")
)

// Confirmation is a parsed "cnf" claim. The zero value is an unbound token
// (no "cnf" member at all).
type Confirmation struct {
	// JKT is the "jkt" member: a base64url SHA-256 JWK thumbprint.
	JKT string
	// JWK is the "jwk" member's public key, or nil.
	JWK crypto.PublicKey
	// X5TS256 is the "x5t#S256" member: a base64url SHA-256 certificate
	// thumbprint.
	X5TS256 string
	// KID is the "kid" member (RFC 7800 §3.4), alone or with JKU.
	KID string
	// JKU is the "jku" member (RFC 7800 §3.5): an https JWK Set URL.
	JKU string
	// Other lists the names of members this package does not know (sorted),
	// for example "jwe". A consumer must refuse a token with any.
	Other []string
}

// Bound reports whether the token carries any confirmation member, known or
// not.
func (c Confirmation) Bound() bool {
	return c.JKT != "" || c.JWK != nil || c.X5TS256 != "" || c.KID != "" || c.JKU != "" || len(c.Other) > 0
}

// Methods returns the confirmation members present, known ones first in the
// order jkt, jwk, x5t#S256, kid, jku, then Other.
func (c Confirmation) Methods() []string {
	var m []string
	if c.JKT != "" {
		m = append(m, MemberJKT)
	}
	if c.JWK != nil {
		m = append(m, MemberJWK)
	}
	if c.X5TS256 != "" {
		m = append(m, MemberX5TS256)
	}
	if c.KID != "" {
		m = append(m, MemberKID)
	}
	if c.JKU != "" {
		m = append(m, MemberJKU)
	}
	return append(m, c.Other...)
}

// KeyBound reports whether a DPoP-style key method binds the token: jkt, jwk,
// kid or jku.
func (c Confirmation) KeyBound() bool {
	return c.JKT != "" || c.JWK != nil || c.KID != "" || c.JKU != ""
}

// CertBound reports whether the token is bound to a certificate (x5t#S256).
func (c Confirmation) CertBound() bool { return c.X5TS256 != "" }

var b64 = base64.RawURLEncoding.Strict()

// cnfSchema names the members of "cnf" read here, so that a case variant
// of one of them is strictjson.ErrCase.
var cnfSchema = (*strictjson.Schema)(nil).With(MemberJKT, nil).With(MemberJWK, nil).
	With(MemberX5TS256, nil).With(MemberKID, nil).With(MemberJKU, nil)

var errCaseVariant = errors.New("a case variant of cnf or active")

// caseVariant reports whether a claim name other than "cnf" and "active"
// equals one of them under Unicode simple case folding. No letter of
// either has a non-ASCII fold partner (only k and s do), so a variant has
// the same length: the check costs a length compare for most claims, which
// is why FromClaims does it instead of a strictjson.Schema on every member.
func caseVariant(name []byte) bool {
	switch len(name) {
	case 3:
		return bytes.EqualFold(name, []byte("cnf"))
	case 6:
		return bytes.EqualFold(name, []byte("active"))
	}
	return false
}

// Parse parses a "cnf" JSON object of at most [MaxBytes]: "jkt" and
// "x5t#S256" must be canonical unpadded base64url encodings of 32 bytes (so
// that one digest has one spelling, and string equality of two parsed
// digests is equality of the digests), "jwk" a public asymmetric JWK,
// "kid" a non-empty string, "jku" an absolute https URL without user
// information or fragment, given with "kid". Other members are listed in
// [Confirmation.Other], sorted. Anything else, and an object with no
// member, is [ErrMalformed], and the Confirmation is then zero.
func Parse(raw []byte) (Confirmation, error) {
	if len(raw) > MaxBytes {
		return Confirmation{}, fmt.Errorf("%w: over %d bytes", ErrMalformed, MaxBytes)
	}
	var (
		c   Confirmation
		bad string
	)
	fail := func(why string) {
		if bad == "" {
			bad = why
		}
	}
	err := strictjson.EachMember(raw, cnfSchema, func(name, value []byte) error {
		switch string(name) {
		case MemberJKT:
			v, err := strictjson.Unquote(value)
			if err != nil || !canonicalDigest(v) {
				fail("jkt is not a canonical SHA-256 thumbprint")
			}
			c.JKT = string(v)
		case MemberX5TS256:
			v, err := strictjson.Unquote(value)
			if err != nil || !canonicalDigest(v) {
				fail("x5t#S256 is not a canonical SHA-256 thumbprint")
			}
			c.X5TS256 = string(v)
		case MemberJWK:
			k, err := jose.ParseJWK(value)
			if err != nil {
				fail("jwk is not a supported public key")
				return nil
			}
			c.JWK = k.Key
		case MemberKID:
			v, err := strictjson.Unquote(value)
			if err != nil || len(v) == 0 {
				fail("kid is not a non-empty string")
			}
			c.KID = string(v)
		case MemberJKU:
			v, err := strictjson.Unquote(value)
			if err != nil || !httpsURL(string(v)) {
				fail("jku is not an https URL")
			}
			c.JKU = string(v)
		default:
			c.Other = append(c.Other, string(name))
		}
		return nil
	})
	switch {
	case err != nil:
		return Confirmation{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	case bad != "":
		return Confirmation{}, fmt.Errorf("%w: %s", ErrMalformed, bad)
	case c.JKU != "" && c.KID == "":
		return Confirmation{}, fmt.Errorf("%w: jku without kid", ErrMalformed)
	case !c.Bound():
		return Confirmation{}, fmt.Errorf("%w: no confirmation method", ErrMalformed)
	}
	slices.Sort(c.Other)
	return c, nil
}

// FromClaims reads the "cnf" member of a JWT claims set or an RFC 7662
// introspection response, one JSON object of at most [MaxClaimsBytes]. An
// "active" member that is present and not the JSON value true is
// [ErrInactive] (checked before "cnf"); an absent one is a JWT claims set.
// No "cnf" member gives the zero Confirmation; a present one is read by
// [Parse]. Claims that are not one strict JSON object, or that spell "cnf"
// or "active" in another case, are [ErrMalformed].
func FromClaims(claims []byte) (Confirmation, error) {
	if len(claims) > MaxClaimsBytes {
		return Confirmation{}, fmt.Errorf("%w: claims over %d bytes", ErrMalformed, MaxClaimsBytes)
	}
	var (
		raw      []byte
		seen     bool
		inactive bool
	)
	err := strictjson.EachMember(claims, nil, func(name, value []byte) error {
		switch string(name) {
		case "cnf":
			raw, seen = value, true
		case "active":
			inactive = string(value) != "true"
		default:
			if caseVariant(name) {
				return errCaseVariant
			}
		}
		return nil
	})
	if err != nil {
		return Confirmation{}, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	if inactive {
		return Confirmation{}, ErrInactive
	}
	if !seen {
		return Confirmation{}, nil
	}
	return Parse(raw)
}

func canonicalDigest(s []byte) bool {
	var d [33]byte
	if len(s) != 43 {
		return false
	}
	n, err := b64.Decode(d[:], s)
	return err == nil && n == 32
}

// httpsURL reports whether s is an absolute https URL with a host name, no
// user information and no fragment (not even an empty one).
func httpsURL(s string) bool {
	if strings.Contains(s, "#") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Hostname() != "" && u.User == nil && u.Opaque == ""
}
