package par

import (
	"net/http"
	"net/url"
)

// ClientAuth adds client authentication (RFC 6749 §2.3, RFC 7523, RFC 8705) to one attempt of a request to an authorization server endpoint.
type ClientAuth interface {
	// Authenticate adds the client's credentials to form and/or header. It is called once per attempt, so that every attempt carries a fresh client assertion (new jti).
	Authenticate(form url.Values, header http.Header) error
}

// ClientAuthFunc adapts a function to [ClientAuth].
type ClientAuthFunc func(form url.Values, header http.Header) error

// Authenticate calls f(form, header).
func (f ClientAuthFunc) Authenticate(form url.Values, header http.Header) error {
	return f(form, header)
}
