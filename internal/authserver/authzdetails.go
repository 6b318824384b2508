package authserver

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Bounds on authorization_details (RFC 9396): the size of the JSON text,
// the number of objects, and the length of a type.
const (
	maxDetailsBytes   = 16 << 10
	maxDetails        = 16
	maxDetailsTypeLen = 256
)

func invalidDetails(desc string) *oautherr.Error { return badRequest(codeInvalidDetails, desc) }

// detailStringArrays are the common data fields of RFC 9396 §2.2 that are
// arrays of strings; "identifier" is a string.
var detailStringArrays = []string{"locations", "actions", "datatypes", "privileges"}

// parseDetails validates the authorization_details of a request of client
// c (RFC 9396 §2, https://datatracker.ietf.org/doc/html/rfc9396#section-2):
// a JSON array of one or more objects, each with a string "type" allowed
// for c and well-typed common fields, read under the strictjson policy. It
// returns the array in compact form.
func parseDetails(c *client, raw []byte) (json.RawMessage, *oautherr.Error) {
	if len(raw) > maxDetailsBytes {
		return nil, invalidDetails("authorization_details too large")
	}
	if err := strictjson.Check(raw, nil); err != nil {
		return nil, invalidDetails("authorization_details is not well-formed JSON")
	}
	if strictjson.Kind(raw) != '[' {
		return nil, invalidDetails("authorization_details must be a JSON array")
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, invalidDetails("authorization_details is not well-formed JSON")
	}
	if len(elems) == 0 || len(elems) > maxDetails {
		return nil, invalidDetails("authorization_details must hold 1 to 16 objects")
	}
	for _, el := range elems {
		if strictjson.Kind(el) != '{' {
			return nil, invalidDetails("each authorization_details element must be an object")
		}
		typ := ""
		err := strictjson.EachMember(el, nil, func(name, value []byte) error {
			n := string(name)
			switch {
			case n == "type":
				t, err := strictjson.String(value)
				if err != nil {
					return err
				}
				typ = t
			case n == "identifier":
				if _, err := strictjson.String(value); err != nil {
					return err
				}
			case slices.Contains(detailStringArrays, n):
				var l []string
				if strictjson.Kind(value) != '[' || json.Unmarshal(value, &l) != nil {
					return strictjson.ErrType
				}
			}
			return nil
		})
		if err != nil {
			return nil, invalidDetails("an authorization_details object has a malformed field")
		}
		if typ == "" || len(typ) > maxDetailsTypeLen {
			return nil, invalidDetails("each authorization_details object needs a string type")
		}
		if c.AuthorizationDetailsTypes != nil && !slices.Contains(c.AuthorizationDetailsTypes, typ) {
			return nil, invalidDetails("authorization_details type is not allowed for this client")
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, invalidDetails("authorization_details is not well-formed JSON")
	}
	return buf.Bytes(), nil
}

// narrowDetails checks the authorization_details of a token request
// against those of the grant (RFC 9396 §6.1, §7): each requested object
// must equal, as JSON, one that was granted. Nil requested means all of
// the grant's.
func narrowDetails(granted, requested json.RawMessage) (json.RawMessage, *oautherr.Error) {
	if requested == nil {
		return granted, nil
	}
	have := map[string]bool{}
	for _, k := range canonicalDetails(granted) {
		have[k] = true
	}
	for _, k := range canonicalDetails(requested) {
		if !have[k] {
			return nil, invalidDetails("authorization_details exceed the authorization grant")
		}
	}
	return requested, nil
}

// canonicalDetails returns each object of a validated authorization_details
// array re-encoded with sorted member names, for comparison.
func canonicalDetails(raw json.RawMessage) []string {
	if raw == nil {
		return nil
	}
	var elems []any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&elems) != nil {
		return nil
	}
	out := make([]string, 0, len(elems))
	for _, el := range elems {
		b, err := json.Marshal(el)
		if err != nil {
			continue
		}
		out = append(out, string(b))
	}
	return out
}
