package strictjson

import "bytes"

// MaxDepth is the deepest nesting of arrays and objects accepted, the
// outermost one included.
const MaxDepth = 32

// pairwise is the member count up to which an object's names are compared
// pairwise; past it they go into a map of folded names, so that an object
// with thousands of members costs linear time.
const pairwise = 16

// inlineNames is the number of member names of open objects the Reader
// keeps on its stack of names; it keeps no slice of the input, only
// offsets, so that the input does not escape to the heap through it.
const inlineNames = 24

// Reader reads one JSON value token by token, without allocating for
// strings free of escapes and objects of up to 16 members, and enforces
// the package's policy on everything it reads: syntax, UTF-8, depth and
// member names unique under case folding in every object, skipped values
// included. It is the hot-path form of [Check]: a caller that reads the
// value through and ends with [Reader.End] has checked all of it.
//
// Reading an object:
//
//	r := strictjson.NewReader(data)
//	if err := r.Enter(); err != nil { ... }
//	for {
//		name, ok, err := r.Next()
//		if err != nil { ... }
//		if !ok {
//			break
//		}
//		switch string(name) {
//		case "typ":
//			typ, err = r.Str()
//		default:
//			err = r.Skip()
//		}
//		...
//	}
//	if err := r.End(); err != nil { ... }
//
// Each name returned by [Reader.Next] and each element announced by
// [Reader.NextElem] must be followed by exactly one value method (Str,
// Number, NumericDate, Bool, Skip, Raw, Enter or EnterArray). After an
// error the Reader must not be used again. Slices it returns share the
// input unless they had to be unescaped. A Reader is large (about 1 KiB)
// and meant to live on its user's stack: a Reader that does not escape
// lets a caller keep the input on its stack too.
type Reader struct {
	data    []byte
	i       int
	depth   int  // open arrays and objects
	nnames  int  // names of open objects on the name stack
	top     bool // the top-level value has been begun
	pending bool // Next or NextElem announced a value not read yet
	frames  [MaxDepth]frame
	names   [inlineNames]nameRef
}

// frame is an open array or object.
type frame struct {
	start  int32 // index of the object's first name on the name stack; -1 for an array
	begun  bool  // a member or element has been begun
	folded map[string]struct{}
}

// nameRef locates a member name's string contents in the input; names are
// kept as offsets, not slices, so that the input does not escape to the
// heap through the Reader.
type nameRef struct {
	start, end int32
	flags      uint8 // of scanString
}

// maxNameEnd bounds the offsets a nameRef holds.
const maxNameEnd = 1<<31 - 1

// NewReader returns a Reader of data. (A Reset method would store data
// through a pointer, which makes the compiler move data to the heap.)
func NewReader(data []byte) Reader { return Reader{data: data} }

// Offset returns the index in the input of the next byte to read.
func (r *Reader) Offset() int { return r.i }

// Kind returns the first byte of the next value after whitespace ('{',
// '[', '"', 't', 'f', 'n', '-' or a digit for a well-formed value), or 0
// at the end of the input. It consumes nothing but whitespace.
func (r *Reader) Kind() byte {
	r.i = skipWS(r.data, r.i)
	if r.i >= len(r.data) {
		return 0
	}
	return r.data[r.i]
}

// begin starts a value: the top-level one, or one announced by Next or
// NextElem.
func (r *Reader) begin() error {
	if r.depth == 0 {
		if r.top {
			return errTrailing
		}
		r.top = true
	} else if !r.pending {
		return errMisuse
	}
	r.pending = false
	r.i = skipWS(r.data, r.i)
	return nil
}

// push opens an array or object frame.
func (r *Reader) push(start int32) error {
	if r.depth >= MaxDepth {
		return ErrDepth
	}
	r.frames[r.depth] = frame{start: start}
	r.depth++
	r.i++
	return nil
}

// Enter reads the opening brace of an object; iterate over its members
// with [Reader.Next].
func (r *Reader) Enter() error {
	if err := r.begin(); err != nil {
		return err
	}
	if r.i >= len(r.data) || r.data[r.i] != '{' {
		return ErrNotObject
	}
	return r.push(int32(r.nnames))
}

// EnterArray reads the opening bracket of an array; iterate over its
// elements with [Reader.NextElem].
func (r *Reader) EnterArray() error {
	if err := r.begin(); err != nil {
		return err
	}
	if r.i >= len(r.data) || r.data[r.i] != '[' {
		return errNotArray
	}
	return r.push(-1)
}

// Next reads the next member name of the innermost open object and the
// colon after it, and returns the name unescaped (a sub-slice of the input
// when it holds no escape) with ok true: read its value next. At the
// closing brace it closes the object and returns ok false. A name equal
// under case folding to an earlier name of the same object is
// [ErrDuplicate].
func (r *Reader) Next() (name []byte, ok bool, err error) {
	n, ok, err := r.next()
	if !ok || err != nil {
		return nil, ok, err
	}
	return r.name(n), true, nil
}

// name returns the unescaped text of n.
func (r *Reader) name(n nameRef) []byte {
	if n.flags&strEscaped != 0 {
		return unescape(r.data[n.start:n.end])
	}
	return r.data[n.start:n.end]
}

func (r *Reader) next() (nameRef, bool, error) {
	if r.pending || r.depth == 0 || r.frames[r.depth-1].start < 0 {
		return nameRef{}, false, errMisuse
	}
	f := &r.frames[r.depth-1]
	r.i = skipWS(r.data, r.i)
	if r.i >= len(r.data) {
		return nameRef{}, false, ErrSyntax
	}
	if r.data[r.i] == '}' {
		r.i++
		r.nnames = int(f.start)
		f.folded = nil
		r.depth--
		return nameRef{}, false, nil
	}
	if f.begun {
		if r.data[r.i] != ',' {
			return nameRef{}, false, ErrSyntax
		}
		r.i = skipWS(r.data, r.i+1)
	}
	if r.i >= len(r.data) || r.data[r.i] != '"' {
		return nameRef{}, false, ErrSyntax
	}
	end, flags, err := scanString(r.data, r.i)
	if err != nil {
		return nameRef{}, false, err
	}
	if end > maxNameEnd {
		return nameRef{}, false, errTooLong
	}
	n := nameRef{start: int32(r.i + 1), end: int32(end - 1), flags: flags}
	if err := r.addName(f, n); err != nil {
		return nameRef{}, false, err
	}
	r.i = skipWS(r.data, end)
	if r.i >= len(r.data) || r.data[r.i] != ':' {
		return nameRef{}, false, ErrSyntax
	}
	r.i++
	f.begun = true
	r.pending = true
	return n, true, nil
}

// addName records n as a member of the object f, or reports that an
// earlier member of f has the same name under case folding. The names of
// open objects are kept on a stack inside the Reader and compared
// pairwise; an object past pairwise members, or whose names no longer fit
// on the stack, moves to a map of folded names.
func (r *Reader) addName(f *frame, n nameRef) error {
	if f.folded == nil {
		start := int(f.start)
		for _, m := range r.names[start:r.nnames] {
			if m.flags|n.flags == 0 && m.end-m.start != n.end-n.start {
				continue // ASCII names of different lengths: the usual case
			}
			if r.sameName(m, n) {
				return ErrDuplicate
			}
		}
		if r.nnames-start < pairwise && r.nnames < inlineNames {
			r.names[r.nnames] = n
			r.nnames++
			return nil
		}
		f.folded = make(map[string]struct{}, 4*pairwise)
		for _, m := range r.names[start:r.nnames] {
			f.folded[foldKey(r.data[m.start:m.end])] = struct{}{}
		}
	}
	key := foldKey(r.data[n.start:n.end])
	if _, dup := f.folded[key]; dup {
		return ErrDuplicate
	}
	f.folded[key] = struct{}{}
	return nil
}

// sameName reports whether two names are equal under case folding.
func (r *Reader) sameName(a, b nameRef) bool {
	x, y := r.data[a.start:a.end], r.data[b.start:b.end]
	switch {
	case a.flags|b.flags == 0: // both ASCII without escapes, the usual case
		return len(x) == len(y) && asciiEqualFold(x, y)
	case (a.flags|b.flags)&strEscaped == 0:
		return bytes.EqualFold(x, y)
	}
	return equalFold(x, y)
}

// NextElem moves to the next element of the innermost open array and
// returns true: read it next. At the closing bracket it closes the array
// and returns false.
func (r *Reader) NextElem() (bool, error) {
	if r.pending || r.depth == 0 || r.frames[r.depth-1].start >= 0 {
		return false, errMisuse
	}
	f := &r.frames[r.depth-1]
	r.i = skipWS(r.data, r.i)
	if r.i >= len(r.data) {
		return false, ErrSyntax
	}
	if r.data[r.i] == ']' {
		r.i++
		r.depth--
		return false, nil
	}
	if f.begun {
		if r.data[r.i] != ',' {
			return false, ErrSyntax
		}
		r.i++
	}
	f.begun = true
	r.pending = true
	return true, nil
}

// Str reads a string and returns its contents unescaped: a sub-slice of
// the input when it holds no escape, else a new slice. Another value is
// [ErrType].
func (r *Reader) Str() ([]byte, error) {
	if err := r.begin(); err != nil {
		return nil, err
	}
	if r.i >= len(r.data) || r.data[r.i] != '"' {
		return nil, errNotString
	}
	end, flags, err := scanString(r.data, r.i)
	if err != nil {
		return nil, err
	}
	s := r.data[r.i+1 : end-1]
	r.i = end
	if flags&strEscaped != 0 {
		return unescape(s), nil
	}
	return s, nil
}

// Number reads a number and returns its text. Another value is
// [ErrType].
func (r *Reader) Number() ([]byte, error) {
	if err := r.begin(); err != nil {
		return nil, err
	}
	if r.i >= len(r.data) || !(r.data[r.i] == '-' || r.data[r.i] >= '0' && r.data[r.i] <= '9') {
		return nil, errNotNumber
	}
	start := r.i
	end, err := scanNumber(r.data, r.i)
	if err != nil {
		return nil, err
	}
	r.i = end
	return r.data[start:end], nil
}

// NumericDate reads a JWT NumericDate (RFC 7519 §2,
// https://datatracker.ietf.org/doc/html/rfc7519#section-2): a number of
// seconds from 0 to 2^40, fractions truncated. A string, a negative or
// larger number is [ErrType].
func (r *Reader) NumericDate() (int64, error) {
	n, err := r.Number()
	if err != nil {
		return 0, err
	}
	return parseDate(n)
}

// Bool reads true or false. Another value is [ErrType].
func (r *Reader) Bool() (bool, error) {
	if err := r.begin(); err != nil {
		return false, err
	}
	if r.i >= len(r.data) || (r.data[r.i] != 't' && r.data[r.i] != 'f') {
		return false, errNotBool
	}
	end, err := scanLiteral(r.data, r.i)
	if err != nil {
		return false, err
	}
	v := r.data[r.i] == 't'
	r.i = end
	return v, nil
}

// Skip reads and discards a value of any type, checking all of it.
func (r *Reader) Skip() error { return r.skip(nil) }

// Raw reads a value of any type, checking all of it, and returns its text.
func (r *Reader) Raw() ([]byte, error) {
	start := skipWS(r.data, r.i)
	if err := r.skip(nil); err != nil {
		return nil, err
	}
	return r.data[start:r.i], nil
}

// skip reads a value, checking the names of its objects against s.
func (r *Reader) skip(s *Schema) error {
	switch c := r.Kind(); {
	case c == '{':
		if err := r.Enter(); err != nil {
			return err
		}
		for {
			n, ok, err := r.next()
			if err != nil || !ok {
				return err
			}
			var child *Schema
			if s != nil {
				if child, err = s.member(r.name(n)); err != nil {
					return err
				}
			}
			if err := r.skip(child); err != nil {
				return err
			}
		}
	case c == '[':
		if err := r.EnterArray(); err != nil {
			return err
		}
		for {
			more, err := r.NextElem()
			if err != nil || !more {
				return err
			}
			if err := r.skip(s); err != nil {
				return err
			}
		}
	case c == '"':
		if err := r.begin(); err != nil {
			return err
		}
		end, _, err := scanString(r.data, r.i)
		if err != nil {
			return err
		}
		r.i = end
		return nil
	case c == '-' || c >= '0' && c <= '9':
		_, err := r.Number()
		return err
	default:
		if err := r.begin(); err != nil {
			return err
		}
		end, err := scanLiteral(r.data, r.i)
		if err != nil {
			return err
		}
		r.i = end
		return nil
	}
}

// End checks that the top-level value has been read through and that
// nothing but whitespace follows it.
func (r *Reader) End() error {
	if !r.top || r.depth != 0 || r.pending {
		return errMisuse
	}
	if skipWS(r.data, r.i) != len(r.data) {
		return errTrailing
	}
	return nil
}
