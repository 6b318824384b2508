package strictjson

// Helpers for the raw values [EachMember] and [Reader.Raw] return. They
// accept surrounding whitespace and check the value again, so that they
// are also safe on raw text that did not come from this package.

// Kind returns the first byte of the JSON value raw after whitespace ('{',
// '[', '"', 't', 'f', 'n', '-' or a digit), or 0 when raw is blank.
func Kind(raw []byte) byte {
	if i := skipWS(raw, 0); i < len(raw) {
		return raw[i]
	}
	return 0
}

// IsNull reports whether raw is the JSON literal null.
func IsNull(raw []byte) bool {
	i := skipWS(raw, 0)
	return len(raw)-i >= 4 && string(raw[i:i+4]) == "null" && skipWS(raw, i+4) == len(raw)
}

// Unquote returns the contents of raw, which must be one JSON string:
// a sub-slice of raw when it holds no escape, else a new unescaped slice.
// Another value is [ErrType].
func Unquote(raw []byte) ([]byte, error) {
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '"' {
		return nil, errNotString
	}
	end, flags, err := scanString(raw, i)
	if err != nil {
		return nil, err
	}
	if skipWS(raw, end) != len(raw) {
		return nil, errTrailing
	}
	if flags&strEscaped != 0 {
		return unescape(raw[i+1 : end-1]), nil
	}
	return raw[i+1 : end-1], nil
}

// String is [Unquote] returning a string.
func String(raw []byte) (string, error) {
	s, err := Unquote(raw)
	if err != nil {
		return "", err
	}
	return string(s), nil
}

// Bool returns the value of raw, which must be true or false
// ([ErrType] otherwise).
func Bool(raw []byte) (bool, error) {
	i := skipWS(raw, 0)
	end, err := scanLiteral(raw, i)
	if err != nil || raw[i] == 'n' {
		return false, errNotBool
	}
	if skipWS(raw, end) != len(raw) {
		return false, errTrailing
	}
	return raw[i] == 't', nil
}

// NumericDate returns raw as a JWT NumericDate (RFC 7519 §2,
// https://datatracker.ietf.org/doc/html/rfc7519#section-2): a number of
// seconds from 0 to 2^40, fractions truncated. A string, null, a negative
// or larger number is [ErrType].
func NumericDate(raw []byte) (int64, error) {
	i := skipWS(raw, 0)
	if i >= len(raw) || !(raw[i] == '-' || raw[i] >= '0' && raw[i] <= '9') {
		return 0, errNotNumber
	}
	end, err := scanNumber(raw, i)
	if err != nil {
		return 0, err
	}
	if skipWS(raw, end) != len(raw) {
		return 0, errTrailing
	}
	return parseDate(raw[i:end])
}
