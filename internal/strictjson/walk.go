package strictjson

// Check reports whether data is one JSON value that satisfies the
// package's policy (see the package documentation) and, when s is not
// nil, spells every name of s exactly in the objects s describes.
func Check(data []byte, s *Schema) error {
	r := NewReader(data)
	if err := r.skip(s); err != nil {
		return err
	}
	return r.End()
}

// CheckObject is [Check] for a value that must be an object
// ([ErrNotObject] otherwise).
func CheckObject(data []byte, s *Schema) error {
	return EachMember(data, s, nil)
}

// EachMember checks data as [CheckObject] does and calls fn, when not nil,
// for each member of the top-level object in order, with the member's
// name unescaped and its value's raw text without surrounding whitespace.
// Both share data unless the name had to be unescaped; they are checked
// before fn sees them, the rest of data after. An error from fn stops the
// walk and is returned as is, so a caller must discard what fn gathered
// whenever EachMember returns an error.
//
// Member names are compared exactly by the caller (string(name) ==
// "cnf"): a case variant is another member, and cannot be present beside
// the member it imitates, since it would be a duplicate.
func EachMember(data []byte, s *Schema, fn func(name, value []byte) error) error {
	r := NewReader(data)
	if r.Kind() != '{' {
		return ErrNotObject
	}
	if err := r.Enter(); err != nil {
		return err
	}
	for {
		n, ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		var name []byte
		var child *Schema
		if fn != nil || s != nil {
			name = r.name(n)
		}
		if s != nil {
			if child, err = s.member(name); err != nil {
				return err
			}
		}
		start := skipWS(r.data, r.i)
		if err := r.skip(child); err != nil {
			return err
		}
		if fn != nil {
			if err := fn(name, r.data[start:r.i]); err != nil {
				return err
			}
		}
	}
	return r.End()
}
