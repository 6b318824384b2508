package par

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Errors returned by this package. Each failure wraps the sentinel that
// describes it, so callers branch with [errors.Is]; none carries a
// parameter value, a credential or the request body in its text.
var (
	// ErrInvalidConfig is wrapped by every [*ConfigError]: a missing or
	// malformed [Config] field.
	ErrInvalidConfig = errors.New("par: invalid configuration")
	// ErrInvalidParameter reports parameters that must not be pushed: an
	// empty name, a request_uri (RFC 9126 §2.1: it "MUST NOT be
	// provided"), a parameter given more than once other than "resource"
	// (RFC 6749 §3.1, RFC 8707 §2), a client_id other than
	// [Config.ClientID], client credentials (client_secret,
	// client_assertion, client_assertion_type: the HTTP client's transport
	// adds them, see the package documentation), or an empty request
	// object. Nothing is sent.
	ErrInvalidParameter = errors.New("par: invalid parameter")
	// ErrRequestFailed reports a request that got no usable HTTP response:
	// network error, timeout, cancelled context, an error of a transport
	// of the HTTP client, or a body that could not be read. The cause is
	// wrapped too, so errors.Is(err, context.DeadlineExceeded) works.
	ErrRequestFailed = errors.New("par: request to the PAR endpoint failed")
	// ErrErrorResponse is matched by every [*Error]: the PAR endpoint
	// answered with a status other than 201 Created, an error (RFC 9126
	// §2.3) or a redirect, which is never followed.
	ErrErrorResponse = errors.New("par: PAR endpoint returned an error")
	// ErrInvalidResponse reports a 201 response that is not a valid PAR
	// response (RFC 9126 §2.2): not JSON, too large, request_uri or
	// expires_in missing or malformed.
	ErrInvalidResponse = errors.New("par: invalid PAR response")
)

// ConfigError reports a misconfigured [Config] field. It is returned by
// the first push and wraps [ErrInvalidConfig].
type ConfigError struct {
	// Field is the Go field path at fault, e.g. "Config.Endpoint".
	Field string
	// Reason says what is wrong with it. It never holds the field's value.
	Reason string
}

// Error implements error: "par: invalid configuration: <Field>: <Reason>".
func (e *ConfigError) Error() string {
	return ErrInvalidConfig.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalidConfig].
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }

// Error is an answer of the PAR endpoint other than 201 Created: an error
// response (RFC 9126 §2.3,
// https://datatracker.ietf.org/doc/html/rfc9126#section-2.3, with the
// RFC 6749 §5.2 body,
// https://datatracker.ietf.org/doc/html/rfc6749#section-5.2) or a
// redirect, which is never followed: following a 307 would resend the
// request, and the credentials a transport added, to another location.
//
// errors.Is(err, [ErrErrorResponse]) holds for every *Error. Unwrap
// returns the module's OAuth error value, so the root package's
// *hardened.Error is an errors.As target for it too, and
// errors.Is(err, &hardened.Error{Code: "invalid_client"}) works.
type Error struct {
	// Code is the "error" member, e.g. "invalid_request",
	// "invalid_client", "use_dpop_nonce"; empty when the body is not an
	// RFC 6749 §5.2 JSON error (a redirect, an HTML page).
	Code string
	// Description is the "error_description" member, bounded and with
	// control characters replaced; may be empty.
	Description string
	// URI is the "error_uri" member; may be empty.
	URI string
	// Status is the HTTP status code.
	Status int
	// Header is the response's header (for example DPoP-Nonce,
	// Retry-After or WWW-Authenticate); never the request's, which may
	// carry the client's credentials. It is nil for an Error built by
	// hand.
	Header http.Header

	oauth *oautherr.Error
}

// newError builds the Error for resp, whose body (already bounded) is
// body. The body itself is not kept: a server may echo what it was sent.
func newError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode, Header: resp.Header.Clone()}
	if oe, err := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body); err == nil {
		oe.Description = oautherr.Sanitize(oe.Description)
		e.Code, e.Description, e.URI = oe.Code, oe.Description, oe.URI
		e.oauth = oe
	}
	return e
}

// Error implements error. The text holds the status, the error code and
// the description, never the body.
func (e *Error) Error() string {
	var b strings.Builder
	if e.redirect() {
		b.WriteString("par: PAR endpoint redirected")
	} else {
		b.WriteString("par: PAR endpoint error")
	}
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	}
	fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(truncate(oautherr.Sanitize(e.Description), 256)))
	}
	return b.String()
}

func (e *Error) redirect() bool { return e.Status >= 300 && e.Status < 400 }

// Is reports whether target is [ErrErrorResponse].
func (e *Error) Is(target error) bool { return target == ErrErrorResponse }

// Unwrap returns the OAuth error value the root package's *hardened.Error
// is filled from: Code, Description, URI and Status.
func (e *Error) Unwrap() error {
	if e.oauth != nil {
		return e.oauth
	}
	return &oautherr.Error{Code: e.Code, Description: oautherr.Sanitize(e.Description), URI: e.URI, Status: e.Status}
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
