package jar

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hardened-oauth/hardened/internal/strictjson"
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

// requestClaims converts params into request object claims, without the
// claims Build sets itself. It reads params only.
func requestClaims(clientID string, params url.Values) (map[string]any, error) {
	out := make(map[string]any, len(params)+8)
	// Names by their case-folded form: a name equal under Unicode simple
	// folding to another one, or to a claim Build sets or refuses, is a
	// case variant that encoding/json at the server reads as that claim
	// (the module's own JSON policy, internal/strictjson, refuses it).
	folded := make(map[string]string, len(params)+len(foldReserved))
	for _, n := range foldReserved {
		folded[strictjson.FoldKey(n)] = n
	}
	for name, all := range params {
		vals := nonEmpty(all)
		if len(vals) == 0 {
			continue // RFC 6749 §3.1: a parameter without a value is omitted
		}
		if name == "" || !utf8.ValidString(name) {
			return nil, paramErr(name, reasonName)
		}
		key := strictjson.FoldKey(name)
		if other, ok := folded[key]; ok && other != name {
			return nil, paramErr(name, reasonCase)
		}
		folded[key] = name
		switch name {
		case "request", "request_uri":
			return nil, paramErr(name, reasonNested)
		case "iss", "aud", "exp", "nbf", "iat", "jti":
			return nil, paramErr(name, reasonReserved)
		}
		if len(vals) > 1 && name != paramResource {
			return nil, paramErr(name, reasonDuplicate)
		}
		for _, v := range vals {
			if !utf8.ValidString(v) {
				return nil, paramErr(name, reasonUTF8)
			}
		}
		switch name {
		case paramClientID:
			if vals[0] != clientID {
				return nil, paramErr(name, reasonClientID)
			}
			continue // Build sets it
		case paramSubject:
			if vals[0] == clientID {
				return nil, paramErr(name, reasonSubject)
			}
		}
		v, reason := claimValue(name, vals)
		if reason != "" {
			return nil, paramErr(name, reason)
		}
		out[name] = v
	}
	if _, ok := out[paramResponseType]; !ok {
		return nil, paramErr(paramResponseType, reasonMissing)
	}
	return out, nil
}

// foldReserved are the names whose case variants are refused even when
// the name itself is absent: the claims Build sets or refuses.
var foldReserved = []string{"request", "request_uri", "iss", "aud", "exp", "nbf", "iat", "jti", paramClientID, paramSubject}

// nonEmpty returns vals without its empty strings.
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

// claimValue returns the claim value of a parameter with its JSON type
// (RFC 9101 §4: "parameters ... MUST be ... JSON ... of the type
// specified"), or the reason it is refused.
func claimValue(name string, vals []string) (any, string) {
	switch name {
	case paramMaxAge:
		n, ok := maxAge(vals[0])
		if !ok {
			return nil, reasonMaxAge
		}
		return n, ""
	case paramClaims:
		raw, ok := jsonOf([]byte(vals[0]), '{')
		if !ok {
			return nil, reasonClaims
		}
		return raw, ""
	case paramAuthzDetails:
		raw, ok := authzDetails([]byte(vals[0]))
		if !ok {
			return nil, reasonDetails
		}
		return raw, ""
	case paramResource:
		for _, v := range vals {
			if !validResource(v) {
				return nil, reasonResource
			}
		}
		if len(vals) == 1 {
			return vals[0], ""
		}
		return vals, ""
	}
	return vals[0], ""
}

// maxAge parses a non-negative decimal integer of at most 2^53-1.
func maxAge(s string) (int64, bool) {
	if s == "" || len(s) > 16 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > maxSafeInteger {
		return 0, false
	}
	return n, true
}

// jsonOf validates that b is a single JSON value starting with open ('{'
// for an object, '[' for an array) and returns it compacted. The module's
// JSON policy applies (internal/strictjson): no repeated member names, no
// invalid UTF-8, bounded nesting, so that the authorization server cannot
// read the value otherwise than meant.
func jsonOf(b []byte, open byte) (json.RawMessage, bool) {
	if strictjson.Check(b, nil) != nil {
		return nil, false
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, false
	}
	if buf.Len() == 0 || buf.Bytes()[0] != open {
		return nil, false
	}
	return json.RawMessage(buf.Bytes()), true
}

// authzDetails validates an RFC 9396 §2 authorization_details value: a JSON
// array of objects, each with a string "type".
func authzDetails(b []byte) (json.RawMessage, bool) {
	raw, ok := jsonOf(b, '[')
	if !ok {
		return nil, false
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, false
	}
	for _, d := range list {
		t, ok := d["type"]
		if !ok || len(t) < 2 || t[0] != '"' {
			return nil, false
		}
	}
	return raw, true
}

// validResource reports whether s is an absolute URI without a fragment
// (RFC 8707 §2).
func validResource(s string) bool {
	if strings.IndexByte(s, '#') >= 0 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != ""
}
