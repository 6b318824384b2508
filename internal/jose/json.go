package jose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Strict JSON.
//
// encoding/json resolves two things silently that other JOSE parsers
// resolve differently, which lets one token mean two things:
//
//   - a member name that appears twice in an object: the last one wins
//     ({"alg":"none","alg":"ES256"});
//   - a member name that matches a struct field only when case is ignored,
//     Unicode simple folding included: "ALG", "Alg" and "\u212Aid" (KELVIN
//     SIGN + "id") fill the fields "alg" and "kid", where jwx and most other
//     libraries see unknown members.
//
// RFC 7515 §4 allows a parser to keep the last duplicate, but rejecting is
// what RFC 7515 lists first and what closes both doors at once. Every JOSE
// object this package parses (JWS and JWE headers, JWKs, JWK Sets) goes
// through checkJSON first, and [UnmarshalStrict] offers the same to callers
// that decode claims.

// maxJSONDepth bounds the nesting of a strictly parsed JSON document.
const maxJSONDepth = 64

// pairwiseMembers is the object size up to which duplicate names are found
// by comparing pairs; larger objects use a map of folded names, so an
// object with thousands of members costs linear time.
const pairwiseMembers = 16

// schema lists the exact member names a decoder target expects in one
// object, with the schema of each member's value (nil when unconstrained).
type schema struct {
	names  map[string]*schema
	sorted []string // the keys of names, for deterministic checks
}

// checkJSON reports whether data is one well-formed JSON value (an object
// when object is true) that is valid UTF-8, nests at most maxJSONDepth
// deep, holds no two members in one object whose names are equal under
// Unicode case folding, and spells every name of s exactly.
func checkJSON(data []byte, s *schema, object bool) error {
	return scanJSON(data, s, object, nil)
}

// jsonMember is a member of the top-level object: its name (unescaped)
// and its raw JSON value.
type jsonMember struct {
	name, value []byte
}

// scanJSON is checkJSON that also appends the members of the top-level
// object to *top when top is not nil, so that a caller can read them
// without a second parse.
func scanJSON(data []byte, s *schema, object bool, top *[]jsonMember) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: JSON is not valid UTF-8", ErrMalformed)
	}
	var keys [pairwiseMembers][]byte
	sc := jsonScanner{data: data, keys: keys[:0], top: top}
	sc.ws()
	if object && (sc.eof() || sc.data[sc.i] != '{') {
		return fmt.Errorf("%w: JSON value is not an object", ErrMalformed)
	}
	if err := sc.value(s, 0); err != nil {
		return err
	}
	sc.ws()
	if !sc.eof() {
		return fmt.Errorf("%w: trailing data after JSON value", ErrMalformed)
	}
	return nil
}

// jsonScanner validates JSON (RFC 8259) in one pass without allocating for
// documents whose objects have few members and unescaped names.
type jsonScanner struct {
	data []byte
	i    int
	keys [][]byte // member names of the open objects, innermost last
	top  *[]jsonMember
}

func (sc *jsonScanner) eof() bool { return sc.i >= len(sc.data) }

func (sc *jsonScanner) ws() {
	for sc.i < len(sc.data) {
		switch sc.data[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

var errJSONSyntax = fmt.Errorf("%w: invalid JSON", ErrMalformed)

func (sc *jsonScanner) value(s *schema, depth int) error {
	if depth >= maxJSONDepth {
		return fmt.Errorf("%w: JSON nested too deeply", ErrMalformed)
	}
	sc.ws()
	if sc.eof() {
		return errJSONSyntax
	}
	switch c := sc.data[sc.i]; {
	case c == '{':
		return sc.object(s, depth)
	case c == '[':
		return sc.array(s, depth)
	case c == '"':
		_, _, err := sc.str()
		return err
	case c == 't':
		return sc.literal("true")
	case c == 'f':
		return sc.literal("false")
	case c == 'n':
		return sc.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return sc.number()
	}
	return errJSONSyntax
}

func (sc *jsonScanner) literal(lit string) error {
	if !bytes.HasPrefix(sc.data[sc.i:], []byte(lit)) {
		return errJSONSyntax
	}
	sc.i += len(lit)
	return nil
}

// number consumes -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (sc *jsonScanner) number() error {
	d := sc.data
	if d[sc.i] == '-' {
		sc.i++
	}
	switch {
	case sc.i < len(d) && d[sc.i] == '0':
		sc.i++
	case sc.digits() == 0:
		return errJSONSyntax
	}
	if sc.i < len(d) && d[sc.i] == '.' {
		sc.i++
		if sc.digits() == 0 {
			return errJSONSyntax
		}
	}
	if sc.i < len(d) && (d[sc.i] == 'e' || d[sc.i] == 'E') {
		sc.i++
		if sc.i < len(d) && (d[sc.i] == '+' || d[sc.i] == '-') {
			sc.i++
		}
		if sc.digits() == 0 {
			return errJSONSyntax
		}
	}
	return nil
}

func (sc *jsonScanner) digits() int {
	n := 0
	for sc.i < len(sc.data) && sc.data[sc.i] >= '0' && sc.data[sc.i] <= '9' {
		sc.i++
		n++
	}
	return n
}

// str consumes a string and returns its raw contents (between the quotes)
// and whether they hold an escape.
func (sc *jsonScanner) str() ([]byte, bool, error) {
	sc.i++ // opening quote
	start, esc := sc.i, false
	for sc.i < len(sc.data) {
		switch c := sc.data[sc.i]; {
		case c == '"':
			raw := sc.data[start:sc.i]
			sc.i++
			return raw, esc, nil
		case c == '\\':
			esc = true
			if sc.i+1 >= len(sc.data) {
				return nil, false, errJSONSyntax
			}
			switch sc.data[sc.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				sc.i += 2
			case 'u':
				if sc.i+6 > len(sc.data) || !isHex4(sc.data[sc.i+2:sc.i+6]) {
					return nil, false, errJSONSyntax
				}
				sc.i += 6
			default:
				return nil, false, errJSONSyntax
			}
		case c < 0x20:
			return nil, false, errJSONSyntax
		default:
			sc.i++
		}
	}
	return nil, false, errJSONSyntax
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (sc *jsonScanner) array(s *schema, depth int) error {
	sc.i++
	sc.ws()
	if !sc.eof() && sc.data[sc.i] == ']' {
		sc.i++
		return nil
	}
	for {
		if err := sc.value(s, depth+1); err != nil {
			return err
		}
		sc.ws()
		if sc.eof() {
			return errJSONSyntax
		}
		switch sc.data[sc.i] {
		case ',':
			sc.i++
		case ']':
			sc.i++
			return nil
		default:
			return errJSONSyntax
		}
	}
}

func (sc *jsonScanner) object(s *schema, depth int) error {
	first := len(sc.keys)
	err := sc.members(s, depth, first)
	sc.keys = sc.keys[:first]
	return err
}

func (sc *jsonScanner) members(s *schema, depth, first int) error {
	sc.i++
	var folded map[string]struct{}
	sc.ws()
	if !sc.eof() && sc.data[sc.i] == '}' {
		sc.i++
		return nil
	}
	for {
		sc.ws()
		if sc.eof() || sc.data[sc.i] != '"' {
			return errJSONSyntax
		}
		name, esc, err := sc.str()
		if err != nil {
			return err
		}
		if esc {
			var u string
			if err := json.Unmarshal(sc.data[sc.i-len(name)-2:sc.i], &u); err != nil {
				return errJSONSyntax
			}
			name = []byte(u)
		}
		child, err := s.member(name)
		if err != nil {
			return err
		}
		switch n := len(sc.keys) - first; {
		case n < pairwiseMembers:
			for _, k := range sc.keys[first:] {
				if bytes.EqualFold(k, name) {
					return duplicateErr(name)
				}
			}
		default:
			if folded == nil {
				folded = make(map[string]struct{}, 2*n)
				for _, k := range sc.keys[first:] {
					folded[foldName(k)] = struct{}{}
				}
			}
			f := foldName(name)
			if _, dup := folded[f]; dup {
				return duplicateErr(name)
			}
			folded[f] = struct{}{}
		}
		sc.keys = append(sc.keys, name)
		sc.ws()
		if sc.eof() || sc.data[sc.i] != ':' {
			return errJSONSyntax
		}
		sc.i++
		sc.ws()
		start := sc.i
		if err := sc.value(child, depth+1); err != nil {
			return err
		}
		if depth == 0 && sc.top != nil {
			*sc.top = append(*sc.top, jsonMember{name: name, value: sc.data[start:sc.i]})
		}
		sc.ws()
		if sc.eof() {
			return errJSONSyntax
		}
		switch sc.data[sc.i] {
		case ',':
			sc.i++
		case '}':
			sc.i++
			return nil
		default:
			return errJSONSyntax
		}
	}
}

// jsonString decodes a raw JSON value that must be a string; null counts
// as absent. ok is false for any other value.
func jsonString(raw []byte) (s string, ok bool) {
	switch {
	case len(raw) >= 2 && raw[0] == '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), true
		}
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case string(raw) == "null":
		return "", true
	}
	return "", false
}

func duplicateErr(name []byte) error {
	return fmt.Errorf("%w: duplicate JSON member %q", ErrMalformed, truncate(string(name), 32))
}

// member returns the schema of the value of the member name, or an error
// when name differs from an expected name only by case.
func (s *schema) member(name []byte) (*schema, error) {
	if s == nil {
		return nil, nil
	}
	if child, ok := s.names[string(name)]; ok {
		return child, nil
	}
	for _, n := range s.sorted {
		if bytes.EqualFold(name, []byte(n)) {
			return nil, fmt.Errorf("%w: JSON member %q is not spelled %q", ErrMalformed, truncate(string(name), 32), n)
		}
	}
	return nil, nil
}

// foldName maps each rune of name to the smallest rune of its Unicode
// simple folding orbit, so that foldName(a) == foldName(b) exactly when
// bytes.EqualFold(a, b), the comparison encoding/json uses.
func foldName(name []byte) string {
	var b strings.Builder
	b.Grow(len(name))
	for len(name) > 0 {
		r, n := utf8.DecodeRune(name)
		name = name[n:]
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	schemas         sync.Map   // reflect.Type → *schema, complete and immutable
	schemaMu        sync.Mutex // serializes building
)

// schemaOf returns the member names encoding/json would fill in a value of
// type t, found the way encoding/json finds them (json tags, embedded
// structs), with the schemas of their values. Types that decode themselves
// (json.Unmarshaler), maps and scalars have none.
func schemaOf(t reflect.Type) *schema {
	if s, ok := schemas.Load(t); ok {
		return s.(*schema)
	}
	schemaMu.Lock()
	defer schemaMu.Unlock()
	building := map[reflect.Type]*schema{}
	s := buildSchema(t, building)
	for bt, bs := range building {
		schemas.Store(bt, bs)
	}
	schemas.Store(t, s)
	return s
}

func buildSchema(t reflect.Type, building map[reflect.Type]*schema) *schema {
	for {
		if reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil
		}
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
			continue
		case reflect.Slice, reflect.Array:
			if t.Elem().Kind() == reflect.Uint8 {
				return nil
			}
			t = t.Elem()
			continue
		case reflect.Struct:
		default:
			return nil
		}
		break
	}
	if s, ok := schemas.Load(t); ok {
		return s.(*schema)
	}
	if s, ok := building[t]; ok {
		return s
	}
	s := &schema{names: map[string]*schema{}}
	building[t] = s
	addFields(s, t, building, 0)
	for n := range s.names {
		s.sorted = append(s.sorted, n)
	}
	slices.Sort(s.sorted)
	return s
}

func addFields(s *schema, t reflect.Type, building map[reflect.Type]*schema, depth int) {
	if depth > 8 {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			addFields(s, ft, building, depth+1)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := s.names[name]; !ok {
			s.names[name] = buildSchema(f.Type, building)
		}
	}
}

// UnmarshalStrict decodes JSON data into v like json.Unmarshal, after
// rejecting with ErrMalformed what encoding/json would otherwise resolve
// silently: invalid UTF-8, nesting deeper than 64, two members of one
// object whose names are equal ignoring case, and a member whose name
// matches a field of v only when case is ignored ("ISS" for "iss"). Use it
// to decode claims of a verified JWS, whose issuer and verifier must read
// the same values.
func UnmarshalStrict(data []byte, v any) error {
	if v == nil {
		return fmt.Errorf("%w: nil target", ErrMalformed)
	}
	if err := checkJSON(data, schemaOf(reflect.TypeOf(v)), false); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}
