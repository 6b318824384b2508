package mtlsbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

var (
	errNotObject = errors.New("not a JSON object")
	errDuplicate = errors.New("duplicate member")
	errTrailing  = errors.New("data after the JSON value")
)

// eachMember calls fn for every member of the JSON object in data, in
// order, with the unescaped name and the raw value. Member names are
// compared exactly (encoding/json's case-insensitive matching is not
// used), a repeated name is an error, and data must hold that one object
// and nothing else. fn's error is returned as is.
func eachMember(data []byte, fn func(name string, value json.RawMessage) error) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errNotObject
	}
	seen := make(map[string]struct{}, 8)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, ok := tok.(string)
		if !ok {
			return errNotObject
		}
		if _, dup := seen[name]; dup {
			return errDuplicate
		}
		seen[name] = struct{}{}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if err := fn(name, v); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailing
	}
	return nil
}

// jsonKind returns the first non-space byte of a JSON value, or 0.
func jsonKind(v []byte) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	return v[0]
}
