package jose

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// NumericDate is a JWT NumericDate (RFC 7519 §2): seconds since the epoch.
// Fractions are truncated; strings and non-finite numbers are rejected.
type NumericDate int64

// NewNumericDate returns t as a NumericDate.
func NewNumericDate(t time.Time) *NumericDate {
	d := NumericDate(t.Unix())
	return &d
}

// Time returns d as a time.Time.
func (d NumericDate) Time() time.Time { return time.Unix(int64(d), 0) }

// maxNumericDate is the largest NumericDate accepted: 2^40 s, some 34,000
// years from now, far from int64 overflow when durations are added.
const maxNumericDate = 1 << 40

// UnmarshalJSON accepts a non-negative JSON number up to 2^40; a string,
// null, a negative or larger number is ErrMalformed.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	var f float64
	b = bytes.TrimSpace(b)
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return fmt.Errorf("%w: NumericDate must be a number", ErrMalformed)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%w: NumericDate: %w", ErrMalformed, err)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > maxNumericDate {
		return fmt.Errorf("%w: NumericDate out of range", ErrMalformed)
	}
	*d = NumericDate(int64(f))
	return nil
}

// Audience is the "aud" claim: a string or an array of strings on the wire
// (RFC 7519 §4.1.3). A single value marshals as a string.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%w: aud: %w", ErrMalformed, err)
		}
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("%w: aud must be a string or an array of strings", ErrMalformed)
	}
	*a = l
	return nil
}

// MarshalJSON writes one audience as a string, several as an array.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// Contains reports whether s is one of the audiences.
func (a Audience) Contains(s string) bool { return slices.Contains(a, s) }

// Claims are the registered JWT claims (RFC 7519 §4.1). Embed it in a
// struct that adds the claims of a profile, and decode that struct with
// [UnmarshalStrict].
type Claims struct {
	// Issuer is "iss" (RFC 7519 §4.1.1).
	Issuer string `json:"iss,omitempty"`
	// Subject is "sub" (RFC 7519 §4.1.2).
	Subject string `json:"sub,omitempty"`
	// Audience is "aud" (RFC 7519 §4.1.3).
	Audience Audience `json:"aud,omitempty"`
	// Expiry is "exp" (RFC 7519 §4.1.4).
	Expiry *NumericDate `json:"exp,omitempty"`
	// NotBefore is "nbf" (RFC 7519 §4.1.5).
	NotBefore *NumericDate `json:"nbf,omitempty"`
	// IssuedAt is "iat" (RFC 7519 §4.1.6).
	IssuedAt *NumericDate `json:"iat,omitempty"`
	// ID is "jti" (RFC 7519 §4.1.7).
	ID string `json:"jti,omitempty"`
}

// Expected lists what [Claims.Validate] checks.
type Expected struct {
	// Issuer, when set, must equal "iss" exactly; compared in constant time.
	Issuer string
	// Audience, when set, must be one of "aud".
	Audience string
	// Now is the verification time. The zero value means time.Now(); pass
	// the verifier's injected clock.
	Now time.Time
	// Skew is the clock skew tolerated on exp, nbf and iat.
	Skew time.Duration
	// RequireExpiry makes "exp" mandatory.
	RequireExpiry bool
	// RequireIssuedAt makes "iat" mandatory and rejects an iat in the
	// future (beyond Skew).
	RequireIssuedAt bool
	// MaxAge, when positive, makes "iat" mandatory and rejects an iat
	// older than Now-MaxAge-Skew or later than Now+Skew.
	MaxAge time.Duration
}

// Validate checks the registered claims against e. Errors wrap
// ErrIssuer, ErrAudience, ErrExpired, ErrNotYetValid or ErrMissingClaim.
func (c *Claims) Validate(e Expected) error {
	if e.Issuer != "" {
		if c.Issuer == "" {
			return fmt.Errorf("%w: iss", ErrMissingClaim)
		}
		if subtle.ConstantTimeCompare([]byte(c.Issuer), []byte(e.Issuer)) != 1 {
			return ErrIssuer
		}
	}
	if e.Audience != "" {
		if len(c.Audience) == 0 {
			return fmt.Errorf("%w: aud", ErrMissingClaim)
		}
		if !c.Audience.Contains(e.Audience) {
			return ErrAudience
		}
	}
	now := e.Now
	if now.IsZero() {
		now = time.Now()
	}
	if c.Expiry == nil {
		if e.RequireExpiry {
			return fmt.Errorf("%w: exp", ErrMissingClaim)
		}
	} else if !now.Before(c.Expiry.Time().Add(e.Skew)) {
		return ErrExpired
	}
	if c.NotBefore != nil && now.Add(e.Skew).Before(c.NotBefore.Time()) {
		return fmt.Errorf("%w: nbf", ErrNotYetValid)
	}
	if c.IssuedAt == nil {
		if e.RequireIssuedAt || e.MaxAge > 0 {
			return fmt.Errorf("%w: iat", ErrMissingClaim)
		}
		return nil
	}
	iat := c.IssuedAt.Time()
	if (e.RequireIssuedAt || e.MaxAge > 0) && now.Add(e.Skew).Before(iat) {
		return fmt.Errorf("%w: iat in the future", ErrNotYetValid)
	}
	if e.MaxAge > 0 && iat.Before(now.Add(-e.MaxAge-e.Skew)) {
		return fmt.Errorf("%w: iat too old", ErrExpired)
	}
	return nil
}
