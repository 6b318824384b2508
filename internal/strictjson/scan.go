package strictjson

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The functions of this file work on a byte slice and an index, without
// state, so that the Reader and the helpers on raw values share them.

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// Flags of a string that scanString accepted.
const (
	strEscaped = 1 << iota // holds a backslash escape
	strHigh                // holds bytes >= 0x80 (UTF-8 beyond ASCII)
)

// scanString checks the string whose opening quote is data[i] and returns
// the index after its closing quote and its flags. Control characters,
// invalid escapes, invalid UTF-8 and escaped surrogates that are not a
// high one followed by a low one are rejected: encoding/json would replace
// the last two with U+FFFD, so that different strings would read the same.
func scanString(data []byte, i int) (end int, flags uint8, err error) {
	j := i + 1
	for {
		// Skip plain bytes (not '"', '\\', a control character or
		// >= 0x80): eight at a time, then one at a time up to the next
		// special byte.
		for j+8 <= len(data) && plain8(binary.LittleEndian.Uint64(data[j:])) {
			j += 8
		}
		for j < len(data) && plainByte[data[j]] {
			j++
		}
		if j >= len(data) {
			return 0, 0, ErrSyntax
		}
		switch c := data[j]; {
		case c == '"':
			if flags&strHigh != 0 && !utf8.Valid(data[i+1:j]) {
				return 0, 0, ErrUTF8
			}
			return j + 1, flags, nil
		case c == '\\':
			flags |= strEscaped
			if j+1 >= len(data) {
				return 0, 0, ErrSyntax
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				v, ok := hex4(data, j+2)
				if !ok {
					return 0, 0, ErrSyntax
				}
				switch {
				case v >= 0xDC00 && v <= 0xDFFF:
					return 0, 0, errSurrogate
				case v >= 0xD800 && v <= 0xDBFF:
					// \uD8xx must be followed by \uDCxx..\uDFxx.
					if j+11 >= len(data) || data[j+6] != '\\' || data[j+7] != 'u' {
						return 0, 0, errSurrogate
					}
					lo, ok := hex4(data, j+8)
					if !ok || lo < 0xDC00 || lo > 0xDFFF {
						return 0, 0, errSurrogate
					}
					j += 12
				default:
					j += 6
				}
			default:
				return 0, 0, ErrSyntax
			}
		case c < 0x20:
			return 0, 0, ErrSyntax
		default: // >= 0x80: checked as UTF-8 at the end
			flags |= strHigh
			j++
		}
	}
}

// plainByte marks the bytes a string holds as they are: not '"', '\\', a
// control character or >= 0x80.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plain8 reports whether none of the eight bytes of x is '"', '\\', below
// 0x20 or at least 0x80 (SWAR: a byte b < n sets the high bit of
// b - n when b has it clear).
func plain8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	special := (x - ones*0x20) | (quote - ones) | (backslash - ones) | x
	return special&highs == 0
}

// hex4 decodes the four hexadecimal digits at data[i:i+4].
func hex4(data []byte, i int) (rune, bool) {
	if i+4 > len(data) {
		return 0, false
	}
	var v rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

// scanNumber checks the number at data[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and returns the index
// after it.
func scanNumber(data []byte, i int) (int, error) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i = digits(data, i)
	default:
		return 0, ErrSyntax
	}
	if i < len(data) && data[i] == '.' {
		j := digits(data, i+1)
		if j == i+1 {
			return 0, ErrSyntax
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return 0, ErrSyntax
		}
		i = j
	}
	return i, nil
}

func digits(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

// scanLiteral checks true, false or null at data[i] and returns the index
// after it.
func scanLiteral(data []byte, i int) (int, error) {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
			return i + len(lit), nil
		}
	}
	return 0, ErrSyntax
}

// nextRune decodes the rune at s[i] of the contents of a string that
// scanString accepted, escapes included, and returns the index after it.
func nextRune(s []byte, i int) (rune, int) {
	c := s[i]
	if c != '\\' {
		if c < utf8.RuneSelf {
			return rune(c), i + 1
		}
		r, n := utf8.DecodeRune(s[i:])
		return r, i + n
	}
	switch s[i+1] {
	case 'b':
		return '\b', i + 2
	case 'f':
		return '\f', i + 2
	case 'n':
		return '\n', i + 2
	case 'r':
		return '\r', i + 2
	case 't':
		return '\t', i + 2
	case 'u':
		r, _ := hex4(s, i+2)
		if utf16.IsSurrogate(r) {
			lo, _ := hex4(s, i+8)
			return utf16.DecodeRune(r, lo), i + 12
		}
		return r, i + 6
	}
	return rune(s[i+1]), i + 2 // '"', '\\' or '/'
}

// unescape returns a new slice holding the decoded contents of a string
// that scanString accepted.
func unescape(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			out = append(out, s[i])
			i++
			continue
		}
		var r rune
		r, i = nextRune(s, i)
		out = utf8.AppendRune(out, r)
	}
	return out
}

// equalFold reports whether the contents of two strings that scanString
// accepted are equal under Unicode simple case folding once unescaped,
// which is how encoding/json matches member names to struct fields
// (bytes.EqualFold).
func equalFold(a, b []byte) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		var ra, rb rune
		ra, i = nextRune(a, i)
		rb, j = nextRune(b, j)
		if !foldEqual(ra, rb) {
			return false
		}
	}
	return i == len(a) && j == len(b)
}

// asciiEqualFold reports whether two ASCII strings of the same length are
// equal ignoring case.
func asciiEqualFold(a, b []byte) bool {
	for i := range a {
		x, y := a[i], b[i]
		if x != y && (x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z') {
			return false
		}
	}
	return true
}

// foldEqual is the rune comparison of strings.EqualFold.
func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	if b < a {
		a, b = b, a
	}
	if b < utf8.RuneSelf {
		return 'A' <= a && a <= 'Z' && b == a+'a'-'A'
	}
	r := unicode.SimpleFold(a)
	for r != a && r < b {
		r = unicode.SimpleFold(r)
	}
	return r == b
}

// foldKey maps the contents of a string that scanString accepted to a key
// such that foldKey(a) == foldKey(b) exactly when equalFold(a, b): each
// rune becomes the smallest rune of its simple folding orbit.
func foldKey(s []byte) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		var r rune
		r, i = nextRune(s, i)
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// FoldKey maps a member name (plain text, not JSON) to a key such that
// FoldKey(a) == FoldKey(b) exactly when strings.EqualFold(a, b): the names
// encoding/json reads as one (Unicode simple case folding, "ſub" for
// "sub"). Each rune becomes the smallest rune of its folding orbit.
func FoldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune is the smallest rune of r's simple folding orbit.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

// maxDate is the largest NumericDate accepted: 2^40 s, some 34,000 years
// from now, far from int64 overflow when durations are added.
const maxDate = 1 << 40

// parseDate reads the text of a number that scanNumber accepted as a JWT
// NumericDate (RFC 7519 §2): non-negative, at most 2^40, fractions
// truncated.
func parseDate(n []byte) (int64, error) {
	// Fast path: a plain integer, the form every issuer sends.
	if len(n) <= 13 && (n[0] != '0' || len(n) == 1) {
		var v int64
		plain := true
		for _, c := range n {
			if c < '0' || c > '9' {
				plain = false
				break
			}
			v = v*10 + int64(c-'0')
		}
		if plain && v <= maxDate {
			return v, nil
		}
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || !(f >= 0 && f <= maxDate) { // NaN fails both
		return 0, errDateRange
	}
	return int64(f), nil
}
