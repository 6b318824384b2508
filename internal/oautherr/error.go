package oautherr

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Error is an OAuth 2.0 error response, as defined in
// https://datatracker.ietf.org/doc/html/rfc6749#section-5.2, with the HTTP
// status it came with (0 when it did not come over HTTP).
//
// Two *Error values match under [errors.Is] when the target's non-zero
// fields equal the error's: errors.Is(err, &Error{Code: "invalid_grant"}).
type Error struct {
	// Code is the "error" member, e.g. "invalid_request".
	Code string `json:"error"`
	// Description is the optional "error_description" member.
	Description string `json:"error_description,omitempty"`
	// URI is the optional "error_uri" member.
	URI string `json:"error_uri,omitempty"`
	// Status is the HTTP status code; it is not serialized.
	Status int `json:"-"`
}

// Error implements error. The text carries only the code, the status and
// the description, never request material.
func (e *Error) Error() string {
	if e == nil {
		return "oauth2: <nil>"
	}
	var b strings.Builder
	b.WriteString("oauth2: ")
	if e.Code == "" {
		b.WriteString("error response")
	} else {
		b.WriteString(e.Code)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %q", truncate(e.Description, 256))
	}
	return b.String()
}

// Is reports whether target is an *Error whose non-zero fields equal e's.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return e.isExported(target)
	}
	if t == nil || e == nil {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) &&
		(t.Description == "" || t.Description == e.Description) &&
		(t.URI == "" || t.URI == e.URI) &&
		(t.Status == 0 || t.Status == e.Status)
}

// maxField bounds each member of an error body kept in memory.
const maxField = 1024

// Parse decodes an RFC 6749 §5.2 JSON error body received with the given
// HTTP status and Content-Type. It returns ErrMalformed (wrapped) when the
// content type is not JSON, the body is not a JSON object, or "error" is
// missing, not a string, or holds characters outside %x20-21 / %x23-5B /
// %x5D-7E. Member names are matched exactly ("ERROR" is not "error").
//
// "error_description" and "error_uri" are optional; a value that is not a
// string is ignored. The description is cut to 1024 bytes on a character
// boundary, with control characters and invalid UTF-8 replaced by U+FFFD,
// so that it can be logged safely; a URI with characters outside
// %x21 / %x23-5B / %x5D-7E is dropped. Every JWT (JWS or JWE compact
// serialization) quoted in the description is replaced with "[redacted]":
// servers quote assertions and request objects. The caller bounds the
// body's size.
func Parse(status int, contentType string, body []byte) (*Error, error) {
	return parse(status, contentType, body, nil)
}

// redactWindow is the length of the pieces of a secret that
// [ParseRedacting] looks for: any 16 bytes of a secret in a member drop it.
const redactWindow = 16

// ParseRedacting is [Parse] for the answer to a request that carried
// secrets (the token being introspected or revoked), which a server might
// echo, as sent or form-encoded (both forms are looked for: callers pass
// each secret once). Each whole occurrence of a secret in "error_description" is
// replaced with "[redacted]" before the description is bounded, so the
// bound never cuts an echo into a piece the replacement misses. A member
// that still holds any 16 bytes of a secret (or the whole secret when it
// is shorter), a cut or altered echo, is not kept: the description and
// the URI are dropped, and an error code that holds one is refused with
// ErrMalformed (wrapped). Empty secrets are ignored.
func ParseRedacting(status int, contentType string, body []byte, secrets ...string) (*Error, error) {
	keep := withEncodings(secrets)
	e, err := parse(status, contentType, body, keep)
	if err != nil || len(keep) == 0 {
		return e, err
	}
	if holdsSecret(e.Code, keep) {
		return nil, fmt.Errorf("%w: the error code echoes a secret of the request", ErrMalformed)
	}
	if holdsSecret(e.Description, keep) {
		e.Description = ""
	}
	if holdsSecret(e.URI, keep) {
		e.URI = ""
	}
	return e, nil
}

// withEncodings returns the non-empty secrets, each followed by its
// form-encoding when that differs.
func withEncodings(secrets []string) []string {
	var keep []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		keep = append(keep, s)
		if q := url.QueryEscape(s); q != s {
			keep = append(keep, q)
		}
	}
	return keep
}

// redact replaces each whole occurrence of the secrets, then every JWT,
// in s with "[redacted]".
func redact(s string, secrets []string) string {
	for _, secret := range secrets {
		s = strings.ReplaceAll(s, secret, "[redacted]")
	}
	return redactJWTs(s)
}

// holdsSecret reports whether s holds a piece of redactWindow bytes of one
// of secrets, or a whole secret shorter than that.
func holdsSecret(s string, secrets []string) bool {
	for _, secret := range secrets {
		w := min(redactWindow, len(secret))
		for i := 0; i+w <= len(s); i++ {
			if strings.Contains(secret, s[i:i+w]) {
				return true
			}
		}
	}
	return false
}

func parse(status int, contentType string, body []byte, secrets []string) (*Error, error) {
	if !IsJSON(contentType) {
		return nil, fmt.Errorf("%w: content type is not JSON", ErrMalformed)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrMalformed)
	}
	var code string
	if err := json.Unmarshal(raw["error"], &code); err != nil {
		return nil, fmt.Errorf("%w: error is missing or not a string", ErrMalformed)
	}
	if code == "" {
		return nil, fmt.Errorf("%w: no error code", ErrMalformed)
	}
	if !validCode(code) {
		return nil, fmt.Errorf("%w: invalid error code", ErrMalformed)
	}
	e := &Error{Code: code, Status: status}
	var s string
	if v, ok := raw["error_description"]; ok && json.Unmarshal(v, &s) == nil {
		e.Description = sanitize(redact(s, secrets), maxField)
	}
	s = ""
	if v, ok := raw["error_uri"]; ok && json.Unmarshal(v, &s) == nil && validURI(s) {
		e.URI = s
	}
	return e, nil
}

// redactJWTs replaces each run of s that starts like a JOSE compact
// serialization (a base64url JSON object starts "eyJ") and goes on with
// base64url characters and dots with "[redacted]": a JWS, a JWE, or a
// piece of one cut anywhere. A server that quotes in its description what
// the request carried beyond the values the caller knows (the client
// assertion its transport signed, a request object, a JWT access token, a
// DPoP proof) does not put it into an error.
func redactJWTs(s string) string {
	i := strings.Index(s, "eyJ")
	if i < 0 {
		return s
	}
	var b strings.Builder
	for i >= 0 {
		j := i + 3
		for j < len(s) && (isBase64URL(s[j]) || s[j] == '.') {
			j++
		}
		b.WriteString(s[:i])
		b.WriteString("[redacted]")
		s = s[j:]
		i = strings.Index(s, "eyJ")
	}
	b.WriteString(s)
	return b.String()
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// IsJSON reports whether a Content-Type header names application/json or a
// +json structured syntax suffix type.
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// Write sends e as a JSON error response with e.Status (400 when zero) and
// the Cache-Control: no-store and Pragma: no-cache headers of RFC 6749
// §5.1. A nil e is sent as a 500 server_error.
func Write(w http.ResponseWriter, e *Error) {
	if e == nil {
		e = &Error{Code: "server_error", Status: http.StatusInternalServerError}
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// validCode reports whether s uses only the characters RFC 6749 §5.2 allows
// in "error" and "error_description": %x20-21 / %x23-5B / %x5D-7E.
func validCode(s string) bool {
	if len(s) > maxField {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// validURI reports whether s uses only the characters RFC 6749 §5.2 allows
// in "error_uri": %x21 / %x23-5B / %x5D-7E.
func validURI(s string) bool {
	return s != "" && !strings.Contains(s, " ") && validCode(s)
}

// sanitize returns s cut to at most n bytes on a UTF-8 boundary, with
// control characters and invalid UTF-8 replaced by U+FFFD.
func sanitize(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > n {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
