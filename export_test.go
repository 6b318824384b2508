package hardened

import (
	"net/http"
	"net/url"
)

// Authenticate applies a's credentials to form and header, as AuthTransport
// does after its checks, so that the external tests can inspect what each
// method adds.
func Authenticate(a ClientAuth, form url.Values, header http.Header) error {
	return a.authenticate(form, header)
}

// BaseOf returns the transport t sends through.
func BaseOf(t *AuthTransport) http.RoundTripper { return t.base() }
