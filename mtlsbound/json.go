package mtlsbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

var (
	errInvalidJSON = errors.New("invalid JSON")
	errNotObject   = errors.New("not a JSON object")
	errDuplicate   = errors.New("duplicate member")
)

// smallObject is the member count up to which duplicates are found by
// comparing names pairwise, without allocating a map.
const smallObject = 16

// eachMember calls fn for every member of the JSON object in data, in
// order, with the unescaped name and the raw value (no surrounding
// whitespace). data must be one valid JSON value (json.Valid) and an
// object; member names are compared exactly (not with encoding/json's
// case folding) and a repeated name is an error. fn's error is returned as
// is. name is only valid during the call.
//
// Because json.Valid has accepted data, the walk below only needs to find
// the boundaries of members; it never has to reject anything.
func eachMember(data []byte, fn func(name []byte, value []byte) error) error {
	if !json.Valid(data) {
		return errInvalidJSON
	}
	i := skipWS(data, 0)
	if data[i] != '{' {
		return errNotObject
	}
	i++
	var (
		small [smallObject][]byte
		names = small[:0]
		seen  map[string]struct{}
	)
	for {
		i = skipWS(data, i)
		switch data[i] {
		case '}':
			return nil
		case ',':
			i = skipWS(data, i+1)
		}
		end := skipString(data, i)
		name, err := unquote(data[i:end])
		if err != nil {
			return err
		}
		if seen == nil {
			for _, n := range names {
				if bytes.Equal(n, name) {
					return errDuplicate
				}
			}
			if len(names) < smallObject {
				names = append(names, name)
			} else {
				seen = make(map[string]struct{}, 2*smallObject)
				for _, n := range names {
					seen[string(n)] = struct{}{}
				}
			}
		}
		if seen != nil {
			if _, dup := seen[string(name)]; dup {
				return errDuplicate
			}
			seen[string(name)] = struct{}{}
		}
		i = skipWS(data, end) + 1 // ':'
		i = skipWS(data, i)
		vend := skipValue(data, i)
		if err := fn(name, data[i:vend]); err != nil {
			return err
		}
		i = vend
	}
}

func skipWS(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at data[i] ('"').
func skipString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(data)
}

// skipValue returns the index after the value starting at data[i].
func skipValue(data []byte, i int) int {
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				j = skipString(data, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(data)
	default: // number, true, false, null
		j := i
		for ; j < len(data); j++ {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return j
			}
		}
		return j
	}
}

// unquote returns the contents of a valid JSON string literal. Without
// escapes and with valid UTF-8 it is a sub-slice of quoted; otherwise
// encoding/json decodes it (replacing invalid UTF-8 with U+FFFD, as the
// rest of encoding/json would).
func unquote(quoted []byte) ([]byte, error) {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return inner, nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// jsonKind returns the first non-space byte of a JSON value, or 0.
func jsonKind(v []byte) byte {
	if i := skipWS(v, 0); i < len(v) {
		return v[i]
	}
	return 0
}
