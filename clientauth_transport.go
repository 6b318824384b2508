package hardened

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// AuthTransport is an http.RoundTripper that client-authenticates the
// token-endpoint requests x/oauth2 sends (code exchange, refresh, client
// credentials). Put it in the *http.Client that reaches x/oauth2 through the
// context under oauth2.HTTPClient, beneath a dpop.Transport if DPoP is used:
//
//	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{
//		Transport: &hardened.AuthTransport{Base: base, Auth: auth},
//	})
//	tok, err := conf.Exchange(ctx, code)
//
// For each request it reads the form body (at most MaxBodyBytes, through
// req.GetBody when set), removes the client_id and client_secret parameters
// x/oauth2 adds under oauth2.AuthStyleInParams and the Basic Authorization
// header it sets under oauth2.AuthStyleInHeader, calls Auth.Authenticate on
// the form and a clone of the header, and sends the re-encoded form. So Auth
// is the one source of credentials, whatever AuthStyle and ClientSecret the
// oauth2.Config holds; leave its ClientSecret empty. When Auth is one of
// this package's methods, a client_id (or Basic user) that x/oauth2 put in
// the request must equal Auth's ClientID, or the request fails with
// [ErrConflictingCredentials]; any other credential already present (a
// client_assertion, a non-Basic Authorization header) makes Authenticate
// fail the same way.
//
// Every call authenticates afresh: a transport above that retries (such as
// DPoP's use_dpop_nonce retry, which rebuilds the request from the original
// request's GetBody) gets a new client assertion with a new jti. The clone
// sent to Base has a GetBody that replays the authenticated body, for the
// retries net/http makes below on a connection that failed before the
// request was processed.
//
// Only POST requests with an application/x-www-form-urlencoded body are
// accepted ([ErrUnsupportedRequest]). Do not use AuthTransport for resource
// requests: build the client that oauth2.Config.Client wraps from a
// transport without it. Set Endpoints to make sure credentials only go to
// the authorization server.
//
// AuthTransport follows the http.RoundTripper contract: it does not modify
// the request, it closes the request body on every path, and it is safe for
// concurrent use when Auth and Base are.
type AuthTransport struct {
	// Base sends the authenticated request. Nil means http.DefaultTransport.
	// For tls_client_auth and self_signed_tls_client_auth it must present
	// the client certificate.
	Base http.RoundTripper
	// Auth adds the client credentials. Required.
	Auth ClientAuth
	// Endpoints, when set, are the only URLs requests may be sent to, for
	// example the token endpoint (and its mtls alias). A request to another
	// URL fails with [ErrEndpointNotAllowed] before any credential is added.
	// Scheme and host compare case-insensitively, path and query exactly.
	// Empty allows every URL.
	Endpoints []string
	// MaxBodyBytes bounds the request body read. Zero means 1 MiB.
	MaxBodyBytes int64
}

var _ http.RoundTripper = (*AuthTransport)(nil)

// RoundTrip authenticates a clone of req with Auth and sends it with Base.
func (t *AuthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req2, err := t.authenticate(req)
	if err != nil {
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req2)
}

// authenticate returns the authenticated clone of req. It always closes
// req.Body.
func (t *AuthTransport) authenticate(req *http.Request) (*http.Request, error) {
	defer httpx.CloseBody(req)
	if t.Auth == nil {
		return nil, &ConfigError{Method: "AuthTransport", Field: "Auth", Reason: "required"}
	}
	if req.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s, want POST", ErrUnsupportedRequest, req.Method)
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, fmt.Errorf("%w: body is not application/x-www-form-urlencoded", ErrUnsupportedRequest)
	}
	if len(t.Endpoints) > 0 {
		if err := t.checkEndpoint(req.URL); err != nil {
			return nil, err
		}
	}
	form, err := t.readForm(req)
	if err != nil {
		return nil, err
	}
	req2 := req.Clone(req.Context())
	if err := t.stripXOAuth2(form, req2.Header); err != nil {
		return nil, err
	}
	if err := t.Auth.Authenticate(form, req2.Header); err != nil {
		return nil, err
	}
	body := []byte(form.Encode())
	req2.Body = io.NopCloser(bytes.NewReader(body))
	req2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req2.ContentLength = int64(len(body))
	req2.TransferEncoding = nil
	return req2, nil
}

func (t *AuthTransport) checkEndpoint(u *url.URL) error {
	for _, e := range t.Endpoints {
		eu, err := url.Parse(e)
		if err != nil || !eu.IsAbs() || eu.Host == "" {
			return &ConfigError{Method: "AuthTransport", Field: "Endpoints", Reason: "must hold absolute URLs"}
		}
		if strings.EqualFold(eu.Scheme, u.Scheme) && strings.EqualFold(eu.Host, u.Host) &&
			eu.EscapedPath() == u.EscapedPath() && eu.RawQuery == u.RawQuery {
			return nil
		}
	}
	return ErrEndpointNotAllowed
}

// readForm reads and parses the body of req, through a fresh body from
// GetBody when there is one.
func (t *AuthTransport) readForm(req *http.Request) (url.Values, error) {
	var r io.ReadCloser = req.Body
	if req.GetBody != nil {
		b, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("%w: GetBody: %w", ErrUnsupportedRequest, err)
		}
		r = b
		defer b.Close()
	}
	if r == nil || r == http.NoBody {
		return url.Values{}, nil
	}
	b, err := httpx.ReadBody(r, t.MaxBodyBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnsupportedRequest, err)
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w: malformed form body", ErrUnsupportedRequest)
	}
	return form, nil
}

// stripXOAuth2 removes the credentials x/oauth2 adds to a token request:
// client_id and client_secret in the form, or a Basic Authorization header.
// When Auth is one of this package's methods, the client identifier they
// carry must be Auth's.
func (t *AuthTransport) stripXOAuth2(form url.Values, header http.Header) error {
	want, check := "", false
	if ci, ok := t.Auth.(clientIdentified); ok {
		want, check = ci.clientIdentifier(), true
	}
	if ids, ok := form["client_id"]; ok {
		if len(ids) != 1 || (check && ids[0] != want) {
			return fmt.Errorf("%w: request client_id differs from the client authentication's", ErrConflictingCredentials)
		}
	}
	if ss, ok := form["client_secret"]; ok && len(ss) != 1 {
		return fmt.Errorf("%w: several client_secret parameters", ErrConflictingCredentials)
	}
	delete(form, "client_id")
	delete(form, "client_secret")

	auth := header.Values("Authorization")
	if len(auth) == 0 {
		return nil
	}
	scheme, cred, _ := strings.Cut(auth[0], " ")
	if len(auth) != 1 || !strings.EqualFold(scheme, "Basic") {
		return nil // not x/oauth2's: Authenticate rejects it
	}
	if check {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return fmt.Errorf("%w: malformed Basic Authorization header", ErrConflictingCredentials)
		}
		user, _, _ := strings.Cut(string(raw), ":")
		if id, err := url.QueryUnescape(user); err != nil || id != want {
			return fmt.Errorf("%w: Basic Authorization user differs from the client authentication's client_id", ErrConflictingCredentials)
		}
	}
	header.Del("Authorization")
	return nil
}
