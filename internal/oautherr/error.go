package oautherr

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
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
	if !ok || t == nil {
		return false
	}
	return (t.Code == "" || t.Code == e.Code) &&
		(t.Description == "" || t.Description == e.Description) &&
		(t.URI == "" || t.URI == e.URI) &&
		(t.Status == 0 || t.Status == e.Status)
}

// ErrMalformed is returned by [Parse] when a body does not hold a
// well-formed OAuth 2.0 error object.
var ErrMalformed = errors.New("oautherr: malformed error response")

// maxField bounds each member of an error body kept in memory.
const maxField = 1024

// Parse decodes an RFC 6749 §5.2 JSON error body received with the given
// HTTP status and Content-Type. It returns ErrMalformed (wrapped) when the
// content type is not JSON, the body is not a JSON object, or "error" is
// missing, not a string, or holds characters outside %x20-21 / %x23-5B /
// %x5D-7E. The caller bounds the body's size.
func Parse(status int, contentType string, body []byte) (*Error, error) {
	if !IsJSON(contentType) {
		return nil, fmt.Errorf("%w: content type is not JSON", ErrMalformed)
	}
	var raw struct {
		Code        *string `json:"error"`
		Description *string `json:"error_description"`
		URI         *string `json:"error_uri"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if raw.Code == nil || *raw.Code == "" {
		return nil, fmt.Errorf("%w: no error code", ErrMalformed)
	}
	if !validCode(*raw.Code) {
		return nil, fmt.Errorf("%w: invalid error code", ErrMalformed)
	}
	e := &Error{Code: *raw.Code, Status: status}
	if raw.Description != nil {
		e.Description = truncate(*raw.Description, maxField)
	}
	if raw.URI != nil {
		e.URI = truncate(*raw.URI, maxField)
	}
	return e, nil
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
// the Cache-Control: no-store header required by RFC 6749 §5.1.
func Write(w http.ResponseWriter, e *Error) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// validCode reports whether s uses only the characters RFC 6749 §5.2 allows
// in "error": %x20-21 / %x23-5B / %x5D-7E.
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

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
