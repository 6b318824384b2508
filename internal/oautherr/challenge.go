package oautherr

import (
	"fmt"
	"net/http"
	"strings"
)

// Limits applied by the challenge parser to attacker-controlled headers.
const (
	// MaxChallengeHeader is the longest WWW-Authenticate value parsed.
	MaxChallengeHeader = 8 << 10
	// maxParams bounds the auth-params of all challenges together.
	maxParams = 64
)

// Param is one auth-param of a challenge.
type Param struct {
	// Name is the auth-param name, lower-cased by the parser. It must be
	// an RFC 9110 token.
	Name string
	// Value is the unescaped value.
	Value string
}

// Challenge is one WWW-Authenticate challenge
// (https://datatracker.ietf.org/doc/html/rfc9110#section-11.6.1).
type Challenge struct {
	// Scheme is the auth-scheme as sent; compare it with [strings.EqualFold]
	// or use [Challenge.Is].
	Scheme string
	// Token68 is set for challenges of the form "Scheme token68".
	Token68 string
	// Params are the auth-params in order, with lower-cased names.
	Params []Param
}

// Is reports whether the challenge's scheme equals scheme, ignoring case.
func (c Challenge) Is(scheme string) bool { return strings.EqualFold(c.Scheme, scheme) }

// Get returns the value of the named auth-param (case-insensitive), or "".
func (c Challenge) Get(name string) string {
	for _, p := range c.Params {
		if strings.EqualFold(p.Name, name) {
			return p.Value
		}
	}
	return ""
}

// String formats the challenge with every param value as a quoted-string,
// escaping '"' and '\\' and dropping control characters other than tab,
// which a quoted-string cannot hold. [ParseChallenges] reads the result
// back as c when Scheme and the param names are RFC 9110 tokens.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	if c.Token68 != "" {
		b.WriteByte(' ')
		b.WriteString(c.Token68)
		return b.String()
	}
	for i, p := range c.Params {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		b.WriteString(`="`)
		for j := 0; j < len(p.Value); j++ {
			ch := p.Value[j]
			if ch == '"' || ch == '\\' {
				b.WriteByte('\\')
			}
			if ch < 0x20 && ch != '\t' || ch == 0x7f {
				continue // not representable in a quoted-string
			}
			b.WriteByte(ch)
		}
		b.WriteByte('"')
	}
	return b.String()
}

// Find returns the first challenge whose scheme equals scheme (ignoring case).
func Find(cs []Challenge, scheme string) (Challenge, bool) {
	for _, c := range cs {
		if c.Is(scheme) {
			return c, true
		}
	}
	return Challenge{}, false
}

// ParseHeader parses every WWW-Authenticate field line of h, in order, as
// one list (RFC 9110 §5.3). Empty lines are skipped; the lines together
// may hold at most [MaxChallengeHeader] bytes.
func ParseHeader(h http.Header) ([]Challenge, error) {
	var out []Challenge
	total := 0
	for _, v := range h.Values("WWW-Authenticate") {
		total += len(v)
		if total > MaxChallengeHeader {
			return nil, fmt.Errorf("%w: header too long", ErrMalformedChallenge)
		}
		if strings.Trim(v, " \t") == "" {
			continue
		}
		cs, err := ParseChallenges(v)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// ParseChallenges parses one WWW-Authenticate field value, which may hold
// several comma-separated challenges. Schemes are matched
// case-insensitively by [Challenge.Is]; param names are lower-cased; quoted
// strings are unescaped. A duplicate param within a challenge, an
// unterminated quoted string, a control character or a value longer than
// [MaxChallengeHeader] is an error wrapping [ErrMalformedChallenge].
func ParseChallenges(header string) ([]Challenge, error) {
	if len(header) > MaxChallengeHeader {
		return nil, fmt.Errorf("%w: header too long", ErrMalformedChallenge)
	}
	p := chParser{s: header}
	var out []Challenge
	nparams := 0
	for {
		p.skipListSep()
		if p.eof() {
			break
		}
		scheme := p.token()
		if scheme == "" {
			return nil, p.fail("expected auth-scheme")
		}
		c := Challenge{Scheme: scheme}
		sp := p.skipSpaces()
		if !p.eof() && p.peek() != ',' {
			if sp == 0 {
				return nil, p.fail("expected space after auth-scheme")
			}
			if t, ok := p.token68(); ok {
				c.Token68 = t
			} else {
				if err := p.params(&c, &nparams); err != nil {
					return nil, err
				}
			}
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no challenge", ErrMalformedChallenge)
	}
	return out, nil
}

type chParser struct {
	s string
	i int
}

func (p *chParser) eof() bool  { return p.i >= len(p.s) }
func (p *chParser) peek() byte { return p.s[p.i] }

func (p *chParser) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrMalformedChallenge, what, p.i)
}

func (p *chParser) skipSpaces() int {
	n := 0
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
		n++
	}
	return n
}

func (p *chParser) skipListSep() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == ',') {
		p.i++
	}
}

func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *chParser) token() string {
	start := p.i
	for !p.eof() && isTchar(p.peek()) {
		p.i++
	}
	return p.s[start:p.i]
}

// token68 consumes a token68 if the text at the cursor is one that is
// followed by the end of the value or a comma; otherwise it consumes
// nothing.
func (p *chParser) token68() (string, bool) {
	start := p.i
	j := p.i
	for j < len(p.s) {
		c := p.s[j]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0 {
			j++
			continue
		}
		break
	}
	if j == start {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	k := j
	for k < len(p.s) && (p.s[k] == ' ' || p.s[k] == '\t') {
		k++
	}
	if k < len(p.s) && p.s[k] != ',' {
		return "", false
	}
	p.i = k
	return p.s[start:j], true
}

// params parses #auth-param until the end or the start of a new challenge.
func (p *chParser) params(c *Challenge, n *int) error {
	for {
		save := p.i
		name := p.token()
		if name == "" {
			return p.fail("expected auth-param")
		}
		p.skipSpaces()
		if p.eof() || p.peek() != '=' {
			if len(c.Params) == 0 {
				return p.fail("expected '=' after auth-param name")
			}
			p.i = save // a new challenge starts here
			return nil
		}
		p.i++
		p.skipSpaces()
		var value string
		if !p.eof() && p.peek() == '"' {
			v, err := p.quoted()
			if err != nil {
				return err
			}
			value = v
		} else {
			value = p.token()
			if value == "" {
				return p.fail("expected auth-param value")
			}
		}
		name = strings.ToLower(name)
		if hasParam(c, name) {
			return p.fail("duplicate auth-param")
		}
		*n++
		if *n > maxParams {
			return p.fail("too many auth-params")
		}
		c.Params = append(c.Params, Param{Name: name, Value: value})
		p.skipSpaces()
		if p.eof() {
			return nil
		}
		if p.peek() != ',' {
			return p.fail("expected ','")
		}
		p.skipListSep()
		if p.eof() {
			return nil
		}
	}
}

func hasParam(c *Challenge, name string) bool {
	for _, q := range c.Params {
		if q.Name == name {
			return true
		}
	}
	return false
}

func (p *chParser) quoted() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c == '\\':
			p.i++
			if p.eof() {
				return "", p.fail("unterminated quoted-pair")
			}
			c = p.peek()
			if c < 0x20 && c != '\t' || c == 0x7f {
				return "", p.fail("control character in quoted-pair")
			}
			b.WriteByte(c)
			p.i++
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", p.fail("control character in quoted-string")
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", p.fail("unterminated quoted-string")
}
