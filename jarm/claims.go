package jarm

import (
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// claims are the members of a JARM payload this package reads (JARM §2.1
// and RFC 6749 §4.1.2, §4.1.2.1). Other members are ignored.
type claims struct {
	iss, code, state  string
	errCode, errDesc  string
	errURI            string
	hasCode, hasState bool
	hasErr            bool
	aud               jose.Audience
	exp, iat, nbf     *jose.NumericDate
}

// parseClaims reads the top-level members of a JSON object with exact
// names, after internal/strictjson checked them: a repeated member, case
// variants included, is an error, so each claim is set at most once.
func parseClaims(p []byte) (*claims, error) {
	c := &claims{}
	err := strictjson.EachMember(p, nil, c.set)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	return c, nil
}

func (c *claims) set(name, v []byte) error {
	var err error
	switch string(name) {
	case "iss":
		c.iss, err = stringClaim("iss", v)
	case "code":
		c.code, err = stringClaim("code", v)
		c.hasCode = true
	case "state":
		c.state, err = stringClaim("state", v)
		c.hasState = true
	case "error":
		c.errCode, err = stringClaim("error", v)
		c.hasErr = true
	case "error_description":
		c.errDesc, err = stringClaim("error_description", v)
	case "error_uri":
		c.errURI, err = stringClaim("error_uri", v)
	case "aud":
		if strictjson.Kind(v) == '"' { // the common single audience, without encoding/json
			var a string
			if a, err = strictjson.String(v); err == nil {
				c.aud = jose.Audience{a}
			}
		} else if err = c.aud.UnmarshalJSON(v); err != nil {
			err = fmt.Errorf("%w: aud: %w", ErrMalformed, err)
		}
	case "exp":
		c.exp, err = dateClaim("exp", v)
	case "iat":
		c.iat, err = dateClaim("iat", v)
	case "nbf":
		c.nbf, err = dateClaim("nbf", v)
	}
	return err
}

func stringClaim(name string, v []byte) (string, error) {
	s, err := strictjson.String(v)
	if err != nil {
		return "", fmt.Errorf("%w: claim %q is not a string", ErrMalformed, name)
	}
	return s, nil
}

func dateClaim(name string, v []byte) (*jose.NumericDate, error) {
	n, err := strictjson.NumericDate(v)
	if err != nil {
		return nil, fmt.Errorf("%w: claim %q: %w", ErrMalformed, name, err)
	}
	d := jose.NumericDate(n)
	return &d, nil
}

// checkClaims applies JARM §2.4 steps 2 to 4, the iat/nbf checks and the
// lifetime bound.
func (d *Decoder) checkClaims(c *claims, now time.Time) error {
	if c.iss == "" {
		return fmt.Errorf("%w: no iss claim", ErrIssuerMismatch)
	}
	if subtle.ConstantTimeCompare([]byte(c.iss), []byte(d.issuer)) != 1 {
		return ErrIssuerMismatch
	}
	if len(c.aud) == 0 {
		return fmt.Errorf("%w: no aud claim", ErrAudienceMismatch)
	}
	if !c.aud.Contains(d.clientID) {
		return ErrAudienceMismatch
	}
	if c.exp == nil {
		return fmt.Errorf("%w: no exp claim", ErrLifetimeTooLong)
	}
	exp := c.exp.Time()
	if !now.Before(exp.Add(d.skew)) {
		return ErrExpired
	}
	if exp.After(now.Add(d.maxLifetime + d.skew)) {
		return fmt.Errorf("%w: exp more than %s ahead", ErrLifetimeTooLong, d.maxLifetime)
	}
	if c.iat != nil && exp.Sub(c.iat.Time()) > d.maxLifetime {
		return fmt.Errorf("%w: exp - iat over %s", ErrLifetimeTooLong, d.maxLifetime)
	}
	if c.nbf != nil && now.Add(d.skew).Before(c.nbf.Time()) {
		return fmt.Errorf("%w: nbf in the future", ErrNotYetValid)
	}
	if c.iat != nil && now.Add(d.skew).Before(c.iat.Time()) {
		return fmt.Errorf("%w: iat in the future", ErrNotYetValid)
	}
	return nil
}
