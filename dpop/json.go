package dpop

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// This file holds a small strict JSON reader for attacker-controlled
// objects (proof headers and claims, token claims, cnf). It exists for two
// reasons: speed (the proof hot path parses two small objects per request,
// and encoding/json's reflection costs as much as a tenth of a P-256
// verification on small machines), and strictness: member names match
// exactly, after unescaping, and a repeated member the caller cares about
// is an error, so a second "htu" or "cnf" cannot be smuggled past a
// first-wins or last-wins parser.

var (
	errJSON      = errors.New("malformed JSON")
	errDuplicate = errors.New("duplicate JSON member")
	errDepth     = errors.New("JSON nested too deeply")
)

// maxDepth bounds the nesting of skipped values.
const maxDepth = 32

type jsonReader struct {
	b []byte
	i int
}

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// eachMember reads the JSON object that must make up all of b and calls fn
// for each member with its unescaped name; fn must consume the value with
// one of the reader's value methods. Names need not be unique here: callers
// reject repeats of the members they read.
func eachMember(b []byte, fn func(name []byte, r *jsonReader) error) error {
	r := jsonReader{b: b}
	if err := r.object(fn); err != nil {
		return err
	}
	r.ws()
	if r.i != len(r.b) {
		return errJSON
	}
	return nil
}

func (r *jsonReader) object(fn func(name []byte, r *jsonReader) error) error {
	if err := r.enter(); err != nil {
		return err
	}
	for first := true; ; first = false {
		name, more, err := r.member(first)
		if err != nil || !more {
			return err
		}
		if err := fn(name, r); err != nil {
			return err
		}
	}
}

// enter consumes the '{' that opens an object. With member, it iterates
// over an object without a callback (so that the reader can stay on the
// caller's stack on hot paths):
//
//	if err := r.enter(); err != nil { ... }
//	for first := true; ; first = false {
//		name, more, err := r.member(first)
//		if err != nil || !more { ... }
//		// consume the value
//	}
func (r *jsonReader) enter() error {
	r.ws()
	if r.i >= len(r.b) || r.b[r.i] != '{' {
		return errJSON
	}
	r.i++
	return nil
}

// member consumes the separator before the next member (none before the
// first) and the member's name and colon. more is false at the closing
// '}', which it consumes.
func (r *jsonReader) member(first bool) (name []byte, more bool, err error) {
	r.ws()
	if r.i >= len(r.b) {
		return nil, false, errJSON
	}
	switch c := r.b[r.i]; {
	case c == '}':
		r.i++
		return nil, false, nil
	case !first && c == ',':
		r.i++
		r.ws()
	case !first:
		return nil, false, errJSON
	}
	if name, err = r.str(); err != nil {
		return nil, false, err
	}
	r.ws()
	if r.i >= len(r.b) || r.b[r.i] != ':' {
		return nil, false, errJSON
	}
	r.i++
	r.ws()
	return name, true, nil
}

// end checks that nothing but whitespace follows the top-level value.
func (r *jsonReader) end() error {
	r.ws()
	if r.i != len(r.b) {
		return errJSON
	}
	return nil
}

// str reads a JSON string and returns its unescaped content. Strings
// without escapes are returned as a sub-slice of the input (no copy).
// Control characters and invalid UTF-8 are rejected.
func (r *jsonReader) str() ([]byte, error) {
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return nil, errJSON
	}
	start := r.i + 1
	escaped, high := false, false
	for j := start; j < len(r.b); j++ {
		c := r.b[j]
		switch {
		case c == '"':
			raw := r.b[start:j]
			r.i = j + 1
			if high && !utf8.Valid(raw) {
				return nil, errJSON
			}
			if !escaped {
				return raw, nil
			}
			// Rare: let encoding/json unescape a copy (so that the input
			// itself does not escape to the heap on the fast path).
			quoted := append([]byte(nil), r.b[start-1:j+1]...)
			var s string
			if err := json.Unmarshal(quoted, &s); err != nil {
				return nil, errJSON
			}
			return []byte(s), nil
		case c == '\\':
			escaped = true
			j++
			if j >= len(r.b) {
				return nil, errJSON
			}
			switch r.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(r.b) {
					return nil, errJSON
				}
				for k := j + 1; k <= j+4; k++ {
					if !isHex(r.b[k]) {
						return nil, errJSON
					}
				}
				j += 4
			default:
				return nil, errJSON
			}
		case c < 0x20:
			return nil, errJSON
		case c >= 0x80:
			high = true
		}
	}
	return nil, errJSON
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number reads a JSON number and returns its text.
func (r *jsonReader) number() ([]byte, error) {
	b, i := r.b, r.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, errJSON
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, errJSON
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, errJSON
		}
	}
	r.i = i
	return b[start:i], nil
}

// numericDate reads a JWT NumericDate (RFC 7519 §2): a non-negative JSON
// number of seconds, fractions truncated.
func (r *jsonReader) numericDate() (int64, error) {
	n, err := r.number()
	if err != nil {
		return 0, err
	}
	if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if v < 0 || v > 1<<40 {
			return 0, errJSON
		}
		return v, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f < 0 || f > 1<<40 || f != f {
		return 0, errJSON
	}
	return int64(f), nil
}

// literal reads true, false or null and returns its first byte.
func (r *jsonReader) literal() (byte, error) {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(r.b)-r.i >= len(lit) && string(r.b[r.i:r.i+len(lit)]) == lit {
			r.i += len(lit)
			return lit[0], nil
		}
	}
	return 0, errJSON
}

// skip reads and discards any JSON value.
func (r *jsonReader) skip() error { return r.skipDepth(0) }

func (r *jsonReader) skipDepth(depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	r.ws()
	if r.i >= len(r.b) {
		return errJSON
	}
	switch c := r.b[r.i]; {
	case c == '"':
		_, err := r.str()
		return err
	case c == '{':
		if err := r.enter(); err != nil {
			return err
		}
		for first := true; ; first = false {
			_, more, err := r.member(first)
			if err != nil || !more {
				return err
			}
			if err := r.skipDepth(depth + 1); err != nil {
				return err
			}
		}
	case c == '[':
		r.i++
		r.ws()
		if r.i < len(r.b) && r.b[r.i] == ']' {
			r.i++
			return nil
		}
		for {
			if err := r.skipDepth(depth + 1); err != nil {
				return err
			}
			r.ws()
			if r.i >= len(r.b) {
				return errJSON
			}
			switch r.b[r.i] {
			case ',':
				r.i++
			case ']':
				r.i++
				return nil
			default:
				return errJSON
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		_, err := r.number()
		return err
	default:
		_, err := r.literal()
		return err
	}
}

// raw reads any JSON value and returns its text.
func (r *jsonReader) raw() ([]byte, error) {
	r.ws()
	start := r.i
	if err := r.skip(); err != nil {
		return nil, err
	}
	return r.b[start:r.i], nil
}

// kind returns the first byte of the next value.
func (r *jsonReader) kind() byte {
	r.ws()
	if r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}
