package jarm

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hardened-oauth/hardened/internal/jose"
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
	seen              uint16
}

// Bits of claims.seen, one per known member, to refuse repeats.
const (
	cIss = 1 << iota
	cAud
	cExp
	cIat
	cNbf
	cCode
	cState
	cError
	cErrDesc
	cErrURI
)

var claimBits = map[string]uint16{
	"iss": cIss, "aud": cAud, "exp": cExp, "iat": cIat, "nbf": cNbf,
	"code": cCode, "state": cState, "error": cError,
	"error_description": cErrDesc, "error_uri": cErrURI,
}

// parseClaims reads the top-level members of a JSON object with exact
// names. The payload is checked with json.Valid first, so the scanner below
// may rely on well-formed JSON.
func parseClaims(p []byte) (*claims, error) {
	if !json.Valid(p) {
		return nil, fmt.Errorf("%w: payload is not JSON", ErrMalformed)
	}
	i := skipWS(p, 0)
	if p[i] != '{' {
		return nil, fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	c := &claims{}
	i = skipWS(p, i+1)
	if p[i] == '}' {
		return c, nil
	}
	for {
		kend := skipString(p, i)
		key, err := jsonString(p[i:kend])
		if err != nil {
			return nil, err
		}
		i = skipWS(p, skipWS(p, kend)+1) // past ':'
		vend := skipValue(p, i)
		if err := c.set(key, p[i:vend]); err != nil {
			return nil, err
		}
		i = skipWS(p, vend)
		if p[i] != ',' {
			return c, nil // '}'
		}
		i = skipWS(p, i+1)
	}
}

func (c *claims) set(key string, v []byte) error {
	bit, ok := claimBits[key]
	if !ok {
		return nil
	}
	if c.seen&bit != 0 {
		return fmt.Errorf("%w: claim %q repeated", ErrMalformed, key)
	}
	c.seen |= bit
	var err error
	switch bit {
	case cIss:
		c.iss, err = stringClaim(key, v)
	case cCode:
		c.code, err = stringClaim(key, v)
		c.hasCode = true
	case cState:
		c.state, err = stringClaim(key, v)
		c.hasState = true
	case cError:
		c.errCode, err = stringClaim(key, v)
		c.hasErr = true
	case cErrDesc:
		c.errDesc, err = stringClaim(key, v)
	case cErrURI:
		c.errURI, err = stringClaim(key, v)
	case cAud:
		if v[0] == '"' { // the common single audience, without encoding/json
			var a string
			if a, err = jsonString(v); err == nil {
				c.aud = jose.Audience{a}
			}
		} else if err = c.aud.UnmarshalJSON(v); err != nil {
			err = fmt.Errorf("%w: aud: %w", ErrMalformed, err)
		}
	case cExp:
		c.exp, err = dateClaim(key, v)
	case cIat:
		c.iat, err = dateClaim(key, v)
	case cNbf:
		c.nbf, err = dateClaim(key, v)
	}
	return err
}

func stringClaim(name string, v []byte) (string, error) {
	if len(v) == 0 || v[0] != '"' {
		return "", fmt.Errorf("%w: claim %q is not a string", ErrMalformed, name)
	}
	return jsonString(v)
}

// maxDate is the largest NumericDate accepted, as jose.NumericDate does.
const maxDate = 1 << 40

func dateClaim(name string, v []byte) (*jose.NumericDate, error) {
	d := new(jose.NumericDate)
	// Fast path: a plain integer, the form every server sends.
	if len(v) > 0 && len(v) <= 13 && (v[0] != '0' || len(v) == 1) {
		var n int64
		ok := true
		for _, ch := range v {
			if ch < '0' || ch > '9' {
				ok = false
				break
			}
			n = n*10 + int64(ch-'0')
		}
		if ok && n <= maxDate {
			*d = jose.NumericDate(n)
			return d, nil
		}
	}
	// Fractions, exponents and everything invalid.
	if err := d.UnmarshalJSON(v); err != nil {
		return nil, fmt.Errorf("%w: claim %q: %w", ErrMalformed, name, err)
	}
	return d, nil
}

// jsonString decodes a JSON string literal (quotes included) that
// json.Valid accepted. Invalid UTF-8, which encoding/json would silently
// replace, is refused.
func jsonString(raw []byte) (string, error) {
	if !utf8.Valid(raw) {
		return "", fmt.Errorf("%w: invalid UTF-8", ErrMalformed)
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return s, nil
}

func skipWS(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string literal starting at i.
func skipString(p []byte, i int) int {
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(p)
}

// skipValue returns the index after the JSON value starting at i.
func skipValue(p []byte, i int) int {
	switch p[i] {
	case '"':
		return skipString(p, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(p); {
			switch p[j] {
			case '"':
				j = skipString(p, j)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
			j++
		}
		return len(p)
	}
	j := i
	for ; j < len(p); j++ {
		switch p[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return j
		}
	}
	return j
}

// checkClaims applies JARM §2.4 steps 2 to 4, and the iat/nbf checks.
func (d *Decoder) checkClaims(c *claims, now time.Time) error {
	if c.iss == "" {
		return fmt.Errorf("%w: no iss claim", ErrMissingIssuer)
	}
	if subtle.ConstantTimeCompare([]byte(c.iss), []byte(d.issuer)) != 1 {
		return ErrIssuerMismatch
	}
	if len(c.aud) == 0 {
		return ErrMissingAudience
	}
	if !c.aud.Contains(d.clientID) {
		return ErrAudienceMismatch
	}
	if c.exp == nil {
		return ErrMissingExpiry
	}
	if !now.Before(c.exp.Time().Add(d.skew)) {
		return ErrExpired
	}
	if c.nbf != nil && now.Add(d.skew).Before(c.nbf.Time()) {
		return fmt.Errorf("%w: nbf in the future", ErrNotYetValid)
	}
	if c.iat != nil && now.Add(d.skew).Before(c.iat.Time()) {
		return fmt.Errorf("%w: iat in the future", ErrNotYetValid)
	}
	return nil
}
