package jose

import (
	"fmt"

	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Strict JSON.
//
// encoding/json resolves silently what other JOSE parsers resolve
// differently, which lets one token mean two things: a repeated member
// name (the last wins: {"alg":"none","alg":"ES256"}) and a member name
// that matches a struct field only ignoring case ("ALG", "\u212Aid" for
// "kid"). Every JOSE object this package parses (JWS and JWE headers,
// JWKs, JWK Sets) is checked by internal/strictjson first, with the schema
// of the struct it decodes into, and [UnmarshalStrict] offers the same to
// callers that decode claims. The strictjson package documentation holds
// the policy and its reasons.

// checkObject checks that data is one JSON object that satisfies the
// strictjson policy and spells the names of s exactly.
func checkObject(data []byte, s *strictjson.Schema) error {
	if err := strictjson.CheckObject(data, s); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// UnmarshalStrict decodes JSON data into v like json.Unmarshal, after
// rejecting with ErrMalformed what encoding/json would otherwise resolve
// silently: invalid UTF-8 and unpaired surrogates, nesting deeper than
// strictjson.MaxDepth, two members of one object whose names are equal
// ignoring case, and a member whose name matches a field of v only when
// case is ignored ("ISS" for "iss"). Use it to decode claims of a verified
// JWS, whose issuer and verifier must read the same values.
func UnmarshalStrict(data []byte, v any) error {
	if err := strictjson.UnmarshalStrict(data, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// headerString decodes a raw header value that must be a string; null
// counts as absent. ok is false for any other value.
func headerString(raw []byte) (s string, ok bool) {
	if strictjson.IsNull(raw) {
		return "", true
	}
	s, err := strictjson.String(raw)
	return s, err == nil
}
