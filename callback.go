package hardened

import (
	"context"
	"fmt"
	"net/http"

	"github.com/hardened-oauth/hardened/jarm"
)

// Callback validates the authorization response that reached the redirect
// URI, in one place and before the code is used, and returns the code for
// [Config.Exchange]. It is the one call of a redirect handler:
//
//	code, err := conf.Callback(r.Context(), r, login.State)
//	if err != nil {
//		http.Error(w, "login failed", jarm.HTTPStatus(err))
//		return
//	}
//
// The response is read from the query (GET) or the form (POST, for
// form_post modes) of r, strictly: a repeated parameter, or response
// parameters in both URL and body, are refused. A request whose URL carries
// a fragment (built by a headless client; a browser never sends one) is
// read from the fragment. With a JARM ResponseMode only a signed (and, with
// DecryptionKeys, encrypted) response is accepted, checked by the jarm
// package: issuer first, audience, lifetime, signature with the server's
// jwks_uri keys, then state. A plain response must carry "iss" equal to
// the issuer (RFC 9207; see InsecureAllowMissingIssuer) and the state.
// Only then is an error response read: it is returned as an error that
// errors.As finds as a [*Error] with the server's code.
//
// Every rejection wraps [ErrAuthorizationResponse], and the jarm sentinel
// of the failed check (jarm.ErrIssuerMismatch, jarm.ErrStateMismatch,
// jarm.ErrInvalidSignature, jarm.ErrExpired, ...); jarm.HTTPStatus maps it
// to the status to answer with. An empty state wraps [ErrInvalidOption].
func (c *Config) Callback(ctx context.Context, r *http.Request, state string) (string, error) {
	if state == "" {
		return "", optionErr("state is required: pass the state of the login")
	}
	st, err := c.state(ctx)
	if err != nil {
		return "", err
	}
	if r == nil || r.URL == nil {
		return "", fmt.Errorf("%w: no request", ErrAuthorizationResponse)
	}
	var resp *jarm.Response
	if r.Method == http.MethodGet && r.URL.Fragment != "" {
		resp, err = st.jarm.DecodeURL(ctx, r.URL.String(), state)
	} else {
		resp, err = st.jarm.DecodeRequest(ctx, r, state)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrAuthorizationResponse, err)
	}
	return resp.Code, nil
}
