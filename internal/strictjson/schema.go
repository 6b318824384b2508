package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Schema lists the exact member names expected in an object, with the
// schema of each member's value (nil when unconstrained). Where a schema
// applies, a member whose name equals an expected name only under case
// folding is [ErrCase]: encoding/json would store it in the field, where
// other parsers see an unknown member. Unknown names are allowed. A Schema
// is immutable and safe for concurrent use; the nil *Schema expects
// nothing.
type Schema struct {
	names  map[string]*Schema
	sorted []string // the keys of names, for deterministic errors
}

// member returns the schema of the value of the member name, or ErrCase
// when name differs from an expected name only by case.
func (s *Schema) member(name []byte) (*Schema, error) {
	if s == nil {
		return nil, nil
	}
	if child, ok := s.names[string(name)]; ok {
		return child, nil
	}
	for _, n := range s.sorted {
		if bytes.EqualFold(name, []byte(n)) {
			return nil, fmt.Errorf("%w: %q", ErrCase, n)
		}
	}
	return nil, nil
}

// With returns a copy of s in which the member name has the schema child.
func (s *Schema) With(name string, child *Schema) *Schema {
	c := &Schema{names: map[string]*Schema{}}
	if s != nil {
		c.names = maps.Clone(s.names)
	}
	c.names[name] = child
	c.sorted = slices.Sorted(maps.Keys(c.names))
	return c
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	schemas         sync.Map   // reflect.Type → *Schema, complete and immutable
	schemaMu        sync.Mutex // serializes building
)

// SchemaOf returns the member names encoding/json fills in a value of type
// t, found the way encoding/json finds them (json tags, embedded structs),
// with the schemas of their values. Types that decode themselves
// (json.Unmarshaler), maps and scalars have none. Results are cached.
func SchemaOf(t reflect.Type) *Schema {
	if s, ok := schemas.Load(t); ok {
		return s.(*Schema)
	}
	schemaMu.Lock()
	defer schemaMu.Unlock()
	building := map[reflect.Type]*Schema{}
	s := buildSchema(t, building)
	for bt, bs := range building {
		schemas.Store(bt, bs)
	}
	schemas.Store(t, s)
	return s
}

func buildSchema(t reflect.Type, building map[reflect.Type]*Schema) *Schema {
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
		return s.(*Schema)
	}
	if s, ok := building[t]; ok {
		return s
	}
	s := &Schema{names: map[string]*Schema{}}
	building[t] = s
	addFields(s, t, building, 0)
	s.sorted = slices.Sorted(maps.Keys(s.names))
	return s
}

func addFields(s *Schema, t reflect.Type, building map[reflect.Type]*Schema, depth int) {
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

// UnmarshalStrict decodes data into v like json.Unmarshal after [Check]
// with the schema of v's type ([SchemaOf]): what encoding/json would
// resolve silently (a repeated member, the last of which wins; a member
// that fills a field whose name it matches only ignoring case; invalid
// UTF-8, replaced by U+FFFD) is an error instead. Use it to decode claims
// whose issuer and verifier must read the same values. A value that does
// not fit its field is [ErrType].
func UnmarshalStrict(data []byte, v any) error {
	if v == nil {
		return fmt.Errorf("%w: nil target", ErrType)
	}
	if err := Check(data, SchemaOf(reflect.TypeOf(v))); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		// encoding/json's type errors quote numbers from the input: keep
		// only the Go type.
		if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) {
			return fmt.Errorf("%w: a value does not fit %s", ErrType, te.Type)
		}
		return fmt.Errorf("%w: %w", ErrType, err)
	}
	return nil
}
