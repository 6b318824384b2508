package strictjson

import (
	"errors"
	"fmt"
)

// Every error of this package wraps one of these sentinels. Their text
// names the kind of failure, never a piece of the input.
var (
	// ErrSyntax reports input that is not one well-formed JSON value
	// (RFC 8259), including data after the value.
	ErrSyntax = errors.New("strictjson: invalid JSON")
	// ErrUTF8 reports a string holding invalid UTF-8 or an escaped
	// surrogate that is not half of a pair ("\ud800").
	ErrUTF8 = errors.New("strictjson: invalid UTF-8 in a string")
	// ErrDepth reports arrays and objects nested deeper than [MaxDepth].
	ErrDepth = errors.New("strictjson: JSON nested too deeply")
	// ErrDuplicate reports two members of one object whose names are
	// equal under Unicode simple case folding ("a" and "a", "kid" and
	// "KID", "kid" and "\u212Aid").
	ErrDuplicate = errors.New("strictjson: duplicate member name")
	// ErrCase reports a member whose name equals a name of the [Schema]
	// only under case folding ("ISS" where "iss" is expected).
	ErrCase = errors.New("strictjson: member name differs from an expected name only by case")
	// ErrNotObject reports a value that must be an object and is not.
	ErrNotObject = errors.New("strictjson: JSON value is not an object")
	// ErrType reports a value of another JSON type than the one asked for
	// (a number where a string is read), a number out of range, or a value
	// encoding/json cannot store in the target of [UnmarshalStrict].
	ErrType = errors.New("strictjson: JSON value of the wrong type")
)

// Errors with some detail, built once so that returning them does not
// allocate.
var (
	errTrailing  = fmt.Errorf("%w: data after the value", ErrSyntax)
	errMisuse    = fmt.Errorf("%w: reader used out of order", ErrSyntax)
	errDateRange = fmt.Errorf("%w: NumericDate is not a number in [0, 2^40]", ErrType)
	errSurrogate = fmt.Errorf("%w: unpaired surrogate escape", ErrUTF8)
	errNotString = fmt.Errorf("%w: not a string", ErrType)
	errNotNumber = fmt.Errorf("%w: not a number", ErrType)
	errNotBool   = fmt.Errorf("%w: not true or false", ErrType)
	errNotArray  = fmt.Errorf("%w: not an array", ErrType)
	errTooLong   = fmt.Errorf("%w: input over 2 GiB", ErrSyntax)
)
