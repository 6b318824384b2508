package hardened

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// AuthTransport is an http.RoundTripper that client-authenticates the
// requests to an authorization server's client-authenticated endpoints, and
// is the only place in this module where client credentials are added: the
// token requests x/oauth2 sends (code exchange, refresh, client
// credentials), pushed authorization requests (the par package adds no
// credentials), and introspection and revocation requests (RFC 7662,
// RFC 7009; phantom adds none either). One *http.Client whose transport
// stack is dpop.Transport → AuthTransport → TLS serves them all, and the
// resource requests of the same flow:
//
//	client := &http.Client{Transport: &dpop.Transport{
//		Base: &hardened.AuthTransport{
//			Base:      base, // nil: the module's default transport
//			Auth:      hardened.PrivateKeyJWT{ClientID: id, Key: key, Issuer: md.Issuer},
//			Endpoints: md.ClientAuthEndpoints(false), // PAR, token, introspection, revocation
//		},
//		Proofer: proofer,
//	}}
//	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
//	tok, err := conf.Exchange(ctx, code)       // authenticated: the token endpoint
//	res, err := conf.Client(ctx, tok).Get(api) // passed through: a resource
//
// # Endpoints
//
// Only a request to a URL in Endpoints is client-authenticated; every other
// request (a resource request that oauth2.Transport gave an access token, a
// request to any other server) is handed to Base unchanged: the same
// *http.Request, with no credential added and its body unread. So client
// credentials never reach a server that is not listed. List the PAR, token,
// introspection and revocation endpoints the client uses, and, when it
// authenticates with a certificate, their mtls_endpoint_aliases:
// [Metadata.ClientAuthEndpoints] builds that list from discovered metadata.
// Endpoints is required: an AuthTransport without it fails every request
// with a [*ConfigError].
//
// A request URL matches an entry when the schemes and hosts are equal
// ignoring case, the ports are equal (an absent port is the scheme's
// default: 443 for https, 80 for http) and the escaped paths are equal byte
// for byte. Entries must be absolute http or https URLs without query,
// fragment or user information ([ErrInvalidConfig]): x/oauth2 posts its
// form to the token URL as is, and an endpoint with a query is not
// supported. A request that matches an entry's scheme, host, port and path
// but carries a query fails with [ErrUnsupportedRequest].
//
// # Authentication
//
// For each request to authenticate, it reads the form body (at most
// MaxBodyBytes, through req.GetBody when set), checks that no credential is
// on it yet, calls Auth on the form and a clone of the header, and sends
// the re-encoded form. Auth is the one source of credentials: a request
// that arrives with a client_secret, client_assertion or
// client_assertion_type parameter, with an Authorization header, or with a
// client_id other than Auth's fails with [ErrConflictingCredentials] and
// nothing is sent. With x/oauth2 that means: leave oauth2.Config's
// ClientSecret empty and use oauth2.AuthStyleInParams (which
// [Metadata.OAuth2Endpoint] sets), so that x/oauth2 adds only the
// client_id; and add no credentials to PAR, introspection or revocation
// requests by hand. A client_id equal to Auth's stays in the form (PAR
// requires it as an authorization request parameter).
//
// Every call authenticates afresh: a transport above that retries (such as
// DPoP's use_dpop_nonce retry, which rebuilds the request from the original
// request's GetBody) gets a new client assertion with a new jti. The clone
// sent to Base has a GetBody that replays the authenticated body, for the
// retries net/http makes below on a connection that failed before the
// request was processed.
//
// Only POST requests with an application/x-www-form-urlencoded body can be
// authenticated: any other request to a listed endpoint fails with
// [ErrUnsupportedRequest] and nothing is sent.
//
// AuthTransport follows the http.RoundTripper contract: it does not modify
// the request, it closes the request body on every path where it does not
// hand the request to Base, and it is safe for concurrent use when Base is.
// A missing Auth or Endpoints, or a malformed Endpoints entry, fails every
// request, passed through or not, with a [*ConfigError].
type AuthTransport struct {
	// Base sends the requests, authenticated or passed through. Nil means
	// the module's default transport (timeouts, TLS 1.2 or later). For
	// tls_client_auth and self_signed_tls_client_auth it must present the
	// client certificate.
	Base http.RoundTripper
	// Auth adds the client credentials. Required.
	Auth ClientAuth
	// Endpoints are the URLs whose requests are client-authenticated: the
	// PAR, token, introspection and revocation endpoints (and their mTLS
	// aliases) the client sends to, as [Metadata.ClientAuthEndpoints]
	// returns them. Requests to any other URL pass through to Base
	// unchanged. Each entry is an absolute http or https URL without query,
	// fragment or user information. Required.
	Endpoints []string
	// MaxBodyBytes bounds the request body read. Zero means 1 MiB.
	MaxBodyBytes int64
}

var _ http.RoundTripper = (*AuthTransport)(nil)

// RoundTrip authenticates a clone of req with Auth and sends it with Base
// when Endpoints lists req's URL, or sends req with Base as it is when it
// does not.
func (t *AuthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoints, err := t.config()
	if err != nil {
		httpx.CloseBody(req)
		return nil, err
	}
	listed, err := isListed(endpoints, req.URL)
	if err != nil {
		httpx.CloseBody(req)
		return nil, err
	}
	if !listed {
		return t.base().RoundTrip(req)
	}
	req2, err := t.authenticate(req)
	if err != nil {
		return nil, err
	}
	return t.base().RoundTrip(req2)
}

func (t *AuthTransport) base() http.RoundTripper { return httpx.Transport(t.Base) }

// config checks the transport's configuration and returns Endpoints
// parsed.
func (t *AuthTransport) config() ([]endpointKey, error) {
	if isNil(t.Auth) {
		return nil, &ConfigError{Field: "AuthTransport.Auth", Reason: "required"}
	}
	if len(t.Endpoints) == 0 {
		return nil, &ConfigError{Field: "AuthTransport.Endpoints", Reason: "required: the client-authenticated endpoints (Metadata.ClientAuthEndpoints)"}
	}
	if t.MaxBodyBytes < 0 {
		return nil, &ConfigError{Field: "AuthTransport.MaxBodyBytes", Reason: "must not be negative"}
	}
	keys := make([]endpointKey, 0, len(t.Endpoints))
	for _, e := range t.Endpoints {
		k, err := parseEndpoint(e)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// endpointKey is a URL reduced to what a request URL is compared on with
// an Endpoints entry.
type endpointKey struct {
	scheme, host, port, path string
}

// endpointKeyOf reduces u: scheme and host in lower case, the port made
// explicit, the path escaped. It reports false for a scheme other than
// http and https.
func endpointKeyOf(u *url.URL) (endpointKey, bool) {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme != "https" && scheme != "http":
		return endpointKey{}, false
	case port != "":
	case scheme == "https":
		port = "443"
	default:
		port = "80"
	}
	return endpointKey{scheme: scheme, host: strings.ToLower(u.Hostname()), port: port, path: u.EscapedPath()}, true
}

// parseEndpoint parses and checks an Endpoints entry.
func parseEndpoint(s string) (endpointKey, error) {
	bad := func(reason string) (endpointKey, error) {
		return endpointKey{}, &ConfigError{Field: "AuthTransport.Endpoints", Reason: reason}
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Hostname() == "" {
		return bad("must hold absolute URLs")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return bad("an endpoint URL with a query is not supported")
	}
	if strings.Contains(s, "#") {
		return bad("must not hold a fragment")
	}
	if u.User != nil {
		return bad("must not hold user information")
	}
	k, ok := endpointKeyOf(u)
	if !ok {
		return bad("must hold http or https URLs")
	}
	return k, nil
}

// isListed reports whether u is one of endpoints. A URL that is an
// endpoint but for its query fails with ErrUnsupportedRequest: it is meant
// for a client-authenticated endpoint, cannot be authenticated as
// configured, and passing it through would send it without credentials.
func isListed(endpoints []endpointKey, u *url.URL) (bool, error) {
	got, ok := endpointKeyOf(u)
	if !ok || !slices.Contains(endpoints, got) {
		return false, nil
	}
	if u.RawQuery != "" || u.ForceQuery {
		return false, fmt.Errorf("%w: query in a request to a client-authenticated endpoint", ErrUnsupportedRequest)
	}
	return true, nil
}

// authenticate returns the authenticated clone of req. It always closes
// req.Body.
func (t *AuthTransport) authenticate(req *http.Request) (*http.Request, error) {
	defer httpx.CloseBody(req)
	if req.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: method %s, want POST", ErrUnsupportedRequest, req.Method)
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, fmt.Errorf("%w: body is not application/x-www-form-urlencoded", ErrUnsupportedRequest)
	}
	form, err := t.readForm(req)
	if err != nil {
		return nil, err
	}
	if err := checkCarried(form, req.Header, t.Auth.clientID()); err != nil {
		return nil, err
	}
	req2 := req.Clone(req.Context())
	if err := t.Auth.authenticate(form, req2.Header); err != nil {
		return nil, err
	}
	body := []byte(form.Encode())
	req2.Body = io.NopCloser(bytes.NewReader(body))
	req2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req2.ContentLength = int64(len(body))
	req2.TransferEncoding = nil
	return req2, nil
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

// Errors of checkCarried, each naming the fix.
var (
	errCarriedSecret = fmt.Errorf("%w: the form has client_secret; "+
		"credentials come only from AuthTransport: leave oauth2.Config.ClientSecret (and clientcredentials.Config.ClientSecret) empty", ErrConflictingCredentials)
	errCarriedAssertion = fmt.Errorf("%w: the form has a client assertion; "+
		"credentials come only from AuthTransport: remove it, and do not set a par or other package credential by hand", ErrConflictingCredentials)
	errCarriedHeader = fmt.Errorf("%w: the request has an Authorization header; "+
		"credentials come only from AuthTransport: leave oauth2.Config.ClientSecret empty, set Endpoint.AuthStyle to oauth2.AuthStyleInParams (Metadata.OAuth2Endpoint does) and remove the header", ErrConflictingCredentials)
	errCarriedClientID = fmt.Errorf("%w: the form's client_id is not AuthTransport.Auth's ClientID; "+
		"use one client identifier in oauth2.Config and AuthTransport.Auth", ErrConflictingCredentials)
)

// checkCarried rejects a form or header that already carries client
// credentials. A client_id equal to clientID is allowed: x/oauth2 adds it
// under AuthStyleInParams, and a PAR body carries it as an authorization
// request parameter.
func checkCarried(form url.Values, header http.Header, clientID string) error {
	if _, ok := form["client_secret"]; ok {
		return errCarriedSecret
	}
	for _, p := range [...]string{"client_assertion", "client_assertion_type"} {
		if _, ok := form[p]; ok {
			return errCarriedAssertion
		}
	}
	for k, v := range header {
		if len(v) > 0 && strings.EqualFold(k, "Authorization") {
			return errCarriedHeader
		}
	}
	if ids, ok := form["client_id"]; ok && (len(ids) != 1 || ids[0] != clientID) {
		return errCarriedClientID
	}
	return nil
}
