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
	// ErrInvalidConfig reports a missing or malformed [Config] field.
	ErrInvalidConfig = errors.New("par: invalid configuration")
	// ErrRequestURINotAllowed reports a request_uri parameter in a pushed
	// authorization request (RFC 9126 §2.1: it "MUST NOT be provided").
	ErrRequestURINotAllowed = errors.New("par: request_uri must not be pushed")
	// ErrClientIDMismatch reports a client_id parameter, or one set by the
	// ClientAuth, other than [Config.ClientID].
	ErrClientIDMismatch = errors.New("par: client_id does not match the configured client")
	// ErrDuplicateParameter reports a parameter given more than once
	// (RFC 6749 §3.1); only "resource" may repeat.
	ErrDuplicateParameter = errors.New("par: parameter given more than once")
	// ErrInvalidParameter reports a parameter with an empty name or an
	// empty request object.
	ErrInvalidParameter = errors.New("par: invalid parameter")
	// ErrClientAuth wraps an error returned by [ClientAuth.Authenticate].
	ErrClientAuth = errors.New("par: client authentication failed")
	// ErrBodyChanged reports a retry whose freshly authenticated body does
	// not have the length of the first attempt's (see the package doc).
	ErrBodyChanged = errors.New("par: request body length changed between attempts")
	// ErrRequestFailed reports a request that got no HTTP response: network
	// error, timeout or cancelled context (the context's error is wrapped
	// too, so errors.Is(err, context.DeadlineExceeded) works).
	ErrRequestFailed = errors.New("par: request to the PAR endpoint failed")
	// ErrErrorResponse is wrapped by every [*Error] for a status other than
	// 201 and 3xx.
	ErrErrorResponse = errors.New("par: PAR endpoint returned an error")
	// ErrRedirect is wrapped by every [*Error] for a 3xx status.
	ErrRedirect = errors.New("par: PAR endpoint redirected")
	// ErrInvalidResponse reports a 201 response that is not a valid PAR
	// response: not JSON, too large, request_uri or expires_in missing or
	// malformed.
	ErrInvalidResponse = errors.New("par: invalid PAR response")
)

// maxErrorBody bounds [Error.Body].
const maxErrorBody = 4 << 10

// Error is an unsuccessful answer of the PAR endpoint: any status other
// than 201 (RFC 9126 §2.3), modeled on x/oauth2's RetrieveError
// (https://datatracker.ietf.org/doc/html/rfc6749#section-5.2).
//
// It wraps [ErrRedirect] for a 3xx status and [ErrErrorResponse] for any
// other, and an [*oautherr.Error] with the same code, description, URI and
// status, so both errors.As(err, &parErr) and errors.As(err, &oauthErr)
// work, as does errors.Is(err, &oautherr.Error{Code: "invalid_client"}).
type Error struct {
	// Response is the HTTP response, with its body consumed and closed and
	// its Request removed (the request carries the client's credentials).
	Response *http.Response
	// Status is the HTTP status code.
	Status int
	// Body is the start of the response body (at most 4 KiB). It is the
	// server's text and may echo what it was sent.
	Body []byte
	// ErrorCode is the "error" member, e.g. "invalid_request",
	// "invalid_client", "use_dpop_nonce"; empty when the body is not an
	// RFC 6749 §5.2 JSON error.
	ErrorCode string
	// ErrorDescription is the "error_description" member.
	ErrorDescription string
	// ErrorURI is the "error_uri" member.
	ErrorURI string

	kind  error
	oauth *oautherr.Error
}

// newError builds the Error for resp, whose body (already bounded) is body.
func newError(resp *http.Response, body []byte) *Error {
	r := *resp
	r.Body = http.NoBody
	r.Request = nil
	e := &Error{Response: &r, Status: resp.StatusCode, kind: ErrErrorResponse}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.kind = ErrRedirect
	}
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	e.Body = append([]byte(nil), body...)
	if oe, err := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body); err == nil {
		e.ErrorCode, e.ErrorDescription, e.ErrorURI = oe.Code, oe.Description, oe.URI
		e.oauth = oe
	} else {
		e.oauth = &oautherr.Error{Status: resp.StatusCode}
	}
	return e
}

// Error implements error. The text holds the status, the error code and
// the description, never the body.
func (e *Error) Error() string {
	var b strings.Builder
	if e.kind == ErrRedirect {
		b.WriteString("par: PAR endpoint redirected")
	} else {
		b.WriteString("par: PAR endpoint error")
	}
	if e.ErrorCode != "" {
		b.WriteByte(' ')
		b.WriteString(e.ErrorCode)
	}
	fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	if e.ErrorDescription != "" {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(truncate(e.ErrorDescription, 256)))
	}
	return b.String()
}

// Unwrap returns [ErrRedirect] or [ErrErrorResponse], and the error as an
// [*oautherr.Error].
func (e *Error) Unwrap() []error {
	kind := e.kind
	if kind == nil {
		kind = ErrErrorResponse
	}
	oe := e.oauth
	if oe == nil {
		oe = &oautherr.Error{Code: e.ErrorCode, Description: e.ErrorDescription, URI: e.ErrorURI, Status: e.Status}
	}
	return []error{kind, oe}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
