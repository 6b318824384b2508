package jar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// Parameters with a JSON type other than string, and the ones the package
// treats specially.
const (
	paramClaims       = "claims"                // OpenID Connect Core §5.5: JSON object
	paramAuthzDetails = "authorization_details" // RFC 9396 §2: JSON array
	paramMaxAge       = "max_age"               // OpenID Connect Core §3.1.2.1: number
	paramResource     = "resource"              // RFC 8707 §2: repeatable absolute URI
	paramClientID     = "client_id"
	paramSubject      = "sub"
	paramResponseType = "response_type"
)

// maxSafeInteger is the largest integer every JSON implementation reads
// exactly (RFC 8259 §6).
const maxSafeInteger = 1<<53 - 1

// requestClaims converts r into request object claims, without the claims
// Build sets itself.
func requestClaims(clientID string, r *Request) (map[string]any, error) {
	out := make(map[string]any, len(r.Params)+8)
	for name, all := range r.Params {
		vals := nonEmpty(all)
		if len(vals) == 0 {
			continue // RFC 6749 §3.1: a parameter without a value is omitted
		}
		if name == "" || !utf8.ValidString(name) {
			return nil, paramErr(name, ErrInvalidParameter)
		}
		switch name {
		case "request", "request_uri":
			return nil, paramErr(name, ErrNestedRequest)
		case "iss", "aud", "exp", "nbf", "iat", "jti":
			return nil, paramErr(name, ErrReservedParameter)
		}
		if len(vals) > 1 && name != paramResource {
			return nil, paramErr(name, ErrDuplicateParameter)
		}
		for _, v := range vals {
			if !utf8.ValidString(v) {
				return nil, paramErr(name, ErrInvalidParameter)
			}
		}
		v, err := claimValue(name, vals)
		if err != nil {
			return nil, paramErr(name, err)
		}
		switch name {
		case paramClientID:
			if vals[0] != clientID {
				return nil, paramErr(name, ErrClientIDMismatch)
			}
			continue // Build sets it
		case paramSubject:
			if vals[0] == clientID {
				return nil, paramErr(name, ErrReservedParameter)
			}
		}
		out[name] = v
	}
	if err := typedJSON(out, paramClaims, r.Claims, '{'); err != nil {
		return nil, err
	}
	if err := typedJSON(out, paramAuthzDetails, r.AuthorizationDetails, '['); err != nil {
		return nil, err
	}
	if _, ok := out[paramResponseType]; !ok {
		return nil, paramErr(paramResponseType, ErrMissingParameter)
	}
	return out, nil
}

func nonEmpty(vals []string) []string {
	for _, v := range vals {
		if v == "" {
			out := make([]string, 0, len(vals)-1)
			for _, w := range vals {
				if w != "" {
					out = append(out, w)
				}
			}
			return out
		}
	}
	return vals
}

// claimValue returns the claim value of a parameter with its JSON type.
func claimValue(name string, vals []string) (any, error) {
	switch name {
	case paramMaxAge:
		return maxAge(vals[0])
	case paramClaims:
		return jsonOf([]byte(vals[0]), '{')
	case paramAuthzDetails:
		return authzDetails([]byte(vals[0]))
	case paramResource:
		for _, v := range vals {
			if !validResource(v) {
				return nil, ErrInvalidParameter
			}
		}
		if len(vals) == 1 {
			return vals[0], nil
		}
		return vals, nil
	}
	return vals[0], nil
}

// maxAge parses a non-negative decimal integer of at most 2^53-1.
func maxAge(s string) (int64, error) {
	if len(s) > 16 {
		return 0, ErrInvalidParameter
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrInvalidParameter
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxSafeInteger {
		return 0, ErrInvalidParameter
	}
	return n, nil
}

// jsonOf validates that b is a single JSON value starting with open ('{'
// for an object, '[' for an array) and returns it compacted.
func jsonOf(b []byte, open byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, ErrInvalidParameter
	}
	if buf.Len() == 0 || buf.Bytes()[0] != open {
		return nil, ErrInvalidParameter
	}
	return json.RawMessage(buf.Bytes()), nil
}

// authzDetails validates an RFC 9396 §2 authorization_details value: a JSON
// array of objects, each with a string "type".
func authzDetails(b []byte) (json.RawMessage, error) {
	raw, err := jsonOf(b, '[')
	if err != nil {
		return nil, err
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, ErrInvalidParameter
	}
	for _, d := range list {
		t, ok := d["type"]
		if !ok || len(t) < 2 || t[0] != '"' {
			return nil, ErrInvalidParameter
		}
	}
	return raw, nil
}

// typedJSON marshals a typed field into out[name].
func typedJSON(out map[string]any, name string, v any, open byte) error {
	if v == nil {
		return nil
	}
	if _, dup := out[name]; dup {
		return paramErr(name, ErrDuplicateParameter)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return paramErr(name, fmt.Errorf("%w: %w", ErrInvalidParameter, err))
	}
	var raw json.RawMessage
	if name == paramAuthzDetails {
		raw, err = authzDetails(b)
	} else {
		raw, err = jsonOf(b, open)
	}
	if err != nil {
		return paramErr(name, err)
	}
	out[name] = raw
	return nil
}

// validResource reports whether s is an absolute URI without a fragment
// (RFC 8707 §2).
func validResource(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Fragment != "" || u.RawFragment != "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '#' {
			return false
		}
	}
	return true
}
