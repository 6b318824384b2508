package hardened

import (
	"bytes"
	"encoding/base64"
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
// token-endpoint requests x/oauth2 sends (code exchange, refresh, client
// credentials). Put it in the *http.Client that reaches x/oauth2 through the
// context under oauth2.HTTPClient, beneath a dpop.Transport if DPoP is used,
// and list the token endpoint in Endpoints:
//
//	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{
//		Transport: &dpop.Transport{
//			Base: &hardened.AuthTransport{
//				Base:      base,
//				Auth:      auth,
//				Endpoints: []string{conf.Endpoint.TokenURL},
//			},
//			Proofer: proofer,
//		},
//	})
//	tok, err := conf.Exchange(ctx, code)   // authenticated: the token endpoint
//	res, err := conf.Client(ctx, tok).Get(api) // passed through: a resource
//
// # Endpoints: one stack for every request
//
// With Endpoints set, only a request to a listed URL is client-authenticated;
// every other request (a PAR request that the par package authenticates
// itself, a resource request that oauth2.Transport gave an access token, a
// request to any other server) is handed to Base unchanged: the same
// *http.Request, with no credential added and its body unread. So client
// credentials never reach a server that is not listed, and one client, one
// dpop.Transport and one DPoP nonce cache serve the PAR, token and resource
// requests of a flow. Do not list the PAR endpoint: the par package adds its
// own credentials, and a second set fails with [ErrConflictingCredentials].
//
// A request URL matches an entry when the schemes and hosts are equal
// ignoring case, the ports are equal (an absent port is the scheme's
// default: 443 for https, 80 for http) and the escaped paths are equal byte
// for byte. Entries must be absolute http or https URLs without query,
// fragment or user information ([ErrInvalidConfig]): x/oauth2 posts its
// form to the token URL as is, and a token endpoint with a query is not
// supported. A request that matches an entry's scheme, host, port and path
// but carries a query fails with [ErrUnsupportedRequest].
//
// With Endpoints empty, every request is client-authenticated, so every
// request must be one that can be: use an AuthTransport without Endpoints
// only in a client that sends token requests and nothing else. A stack
// shared with PAR and resource requests must set Endpoints, typically to
// the token endpoint and, when the client authenticates with a
// certificate, its mtls_endpoint_aliases entry ([Metadata.Endpoint]).
//
// # Authentication
//
// For each request to authenticate, it reads the form body (at most
// MaxBodyBytes, through req.GetBody when set), removes the client_id and
// client_secret parameters x/oauth2 adds under oauth2.AuthStyleInParams and
// the Basic Authorization header it sets under oauth2.AuthStyleInHeader,
// calls Auth.Authenticate on the form and a clone of the header, and sends
// the re-encoded form. So Auth is the one source of credentials, whatever
// AuthStyle and ClientSecret the oauth2.Config holds; leave its ClientSecret
// empty. When Auth is one of this package's methods, a client_id (or Basic
// user) that x/oauth2 put in the request must equal Auth's ClientID, or the
// request fails with [ErrConflictingCredentials]; any other credential
// already present (a client_assertion, a non-Basic Authorization header)
// makes Authenticate fail the same way.
//
// Every call authenticates afresh: a transport above that retries (such as
// DPoP's use_dpop_nonce retry, which rebuilds the request from the original
// request's GetBody) gets a new client assertion with a new jti. The clone
// sent to Base has a GetBody that replays the authenticated body, for the
// retries net/http makes below on a connection that failed before the
// request was processed.
//
// Only POST requests with an application/x-www-form-urlencoded body can be
// authenticated: any other request that is to be authenticated (any request
// at all when Endpoints is empty) fails with [ErrUnsupportedRequest] and
// nothing is sent.
//
// AuthTransport follows the http.RoundTripper contract: it does not modify
// the request, it closes the request body on every path where it does not
// hand the request to Base, and it is safe for concurrent use when Auth and
// Base are. A missing Auth or a malformed Endpoints entry fails every
// request, passed through or not, with a [*ConfigError].
type AuthTransport struct {
	// Base sends the requests, authenticated or passed through. Nil means
	// http.DefaultTransport. For tls_client_auth and
	// self_signed_tls_client_auth it must present the client certificate.
	Base http.RoundTripper
	// Auth adds the client credentials. Required.
	Auth ClientAuth
	// Endpoints, when set, are the only URLs whose requests are
	// client-authenticated, for example the token endpoint (and its mTLS
	// alias); requests to any other URL pass through to Base unchanged.
	// Each entry is an absolute http or https URL without query, fragment
	// or user information. Empty authenticates every request (see the type
	// documentation for when that is right).
	Endpoints []string
	// MaxBodyBytes bounds the request body read. Zero means 1 MiB.
	MaxBodyBytes int64
}

var _ http.RoundTripper = (*AuthTransport)(nil)

// RoundTrip authenticates a clone of req with Auth and sends it with Base,
// or, when Endpoints is set and does not list req's URL, sends req with
// Base as it is.
func (t *AuthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoints, err := t.config()
	if err != nil {
		httpx.CloseBody(req)
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if len(endpoints) > 0 {
		listed, err := isListed(endpoints, req.URL)
		if err != nil {
			httpx.CloseBody(req)
			return nil, err
		}
		if !listed {
			return base.RoundTrip(req)
		}
	}
	req2, err := t.authenticate(req)
	if err != nil {
		return nil, err
	}
	return base.RoundTrip(req2)
}

// config checks the transport's configuration and returns Endpoints
// parsed.
func (t *AuthTransport) config() ([]endpointKey, error) {
	if t.Auth == nil {
		return nil, &ConfigError{Method: "AuthTransport", Field: "Auth", Reason: "required"}
	}
	var keys []endpointKey
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
		return endpointKey{}, &ConfigError{Method: "AuthTransport", Field: "Endpoints", Reason: reason}
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Opaque != "" || u.Hostname() == "" {
		return bad("must hold absolute URLs")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return bad("a token endpoint URL with a query is not supported")
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
