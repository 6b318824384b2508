package par

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// Defaults of [Config].
const (
	// DefaultMaxResponseBytes bounds the PAR response body when
	// [Config.MaxResponseBytes] is zero.
	DefaultMaxResponseBytes = 64 << 10
	// DefaultTimeout bounds a push when [Config.Timeout] is zero.
	DefaultTimeout = httpx.DefaultTimeout
)

// Config pushes authorization requests to one PAR endpoint for one client.
// The zero value is not usable: Endpoint and ClientID are required, and
// [Config.Push] reports their absence with a [*ConfigError]. A Config is
// safe for concurrent use if its HTTPClient is; do not modify it while a
// push runs.
type Config struct {
	// Endpoint is the PAR endpoint URL, the authorization server's
	// pushed_authorization_request_endpoint metadata (RFC 9126 §5). It
	// must be an absolute https URL without fragment or user information.
	// Required.
	Endpoint string
	// ClientID is the client identifier, sent as client_id in every pushed
	// request (RFC 9126 §2.1) and used in the authorization URL. Required.
	ClientID string
	// HTTPClient sends the request. Client authentication, DPoP and mTLS
	// are its transport's business: a confidential client puts the root
	// package's AuthTransport (listing Endpoint) in it, under a
	// dpop.Transport if DPoP is used; this package adds no credential.
	// Nil means the module's default client, with timeouts. Its
	// CheckRedirect is ignored: redirects are never followed.
	HTTPClient *http.Client
	// Timeout bounds a whole push, retries by the client's transports
	// included. Zero means [DefaultTimeout] (30 s). The context's
	// deadline, if sooner, wins.
	Timeout time.Duration
	// MaxResponseBytes bounds the response body read. Zero means
	// [DefaultMaxResponseBytes] (64 KiB).
	MaxResponseBytes int64
	// Now returns the current time, used to compute [Response.Expiry].
	// Nil means time.Now.
	Now func() time.Time
	// InsecureAllowHTTP accepts an http Endpoint. RFC 9126 §2 requires
	// https: the request carries the client's credentials. Use it only for
	// tests on loopback.
	InsecureAllowHTTP bool
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// check validates the configuration.
func (c *Config) check() error {
	bad := func(field, reason string) error { return &ConfigError{Field: field, Reason: reason} }
	if c.ClientID == "" {
		return bad("Config.ClientID", "required")
	}
	if c.Endpoint == "" {
		return bad("Config.Endpoint", "required")
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || u.User != nil {
		return bad("Config.Endpoint", "must be an absolute URL without fragment or user information")
	}
	if u.Scheme != "https" && !(c.InsecureAllowHTTP && u.Scheme == "http") {
		return bad("Config.Endpoint", "must use https (RFC 9126 §2)")
	}
	if c.Timeout < 0 {
		return bad("Config.Timeout", "must not be negative")
	}
	if c.MaxResponseBytes < 0 {
		return bad("Config.MaxResponseBytes", "must not be negative")
	}
	return nil
}

// Push sends the authorization request parameters params to the PAR
// endpoint (RFC 9126 §2.1) and returns the request_uri. params is not
// modified; client_id is added. Errors wrap the package's sentinels; an
// answer other than 201 is an [*Error].
//
// The request is a POST of an application/x-www-form-urlencoded body with
// GetBody set, so that a transport of [Config.HTTPClient] may read the form
// and send it again: a dpop.Transport retrying after use_dpop_nonce, an
// AuthTransport adding a fresh client assertion to every attempt.
func (c *Config) Push(ctx context.Context, params url.Values) (*Response, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	form, err := c.form(params)
	if err != nil {
		return nil, err
	}
	return c.push(ctx, []byte(form.Encode()))
}

// PushRequestObject pushes a request object (RFC 9126 §3): the form holds
// client_id and request only. Build it with the jar package.
func (c *Config) PushRequestObject(ctx context.Context, requestObject string) (*Response, error) {
	if requestObject == "" {
		return nil, fmt.Errorf("%w: empty request object", ErrInvalidParameter)
	}
	return c.Push(ctx, url.Values{"request": {requestObject}})
}

// credentialParams are the client authentication parameters of RFC 6749
// §2.3.1 and RFC 7521 §4.2: only the HTTP client's transport adds them.
var credentialParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// form validates params and returns the form to send.
func (c *Config) form(params url.Values) (url.Values, error) {
	form := make(url.Values, len(params)+1)
	for name, all := range params {
		vals := make([]string, 0, len(all))
		for _, v := range all {
			if v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue // RFC 6749 §3.1: a parameter without a value is omitted
		}
		switch {
		case name == "":
			return nil, fmt.Errorf("%w: empty parameter name", ErrInvalidParameter)
		case name == "request_uri":
			return nil, fmt.Errorf("%w: request_uri must not be pushed (RFC 9126 §2.1)", ErrInvalidParameter)
		case isCredential(name):
			return nil, fmt.Errorf("%w: %s: client credentials are added by the HTTP client's transport", ErrInvalidParameter, name)
		case len(vals) > 1 && name != "resource":
			return nil, fmt.Errorf("%w: %q given more than once", ErrInvalidParameter, truncate(name, 64))
		case name == "client_id" && vals[0] != c.ClientID:
			return nil, fmt.Errorf("%w: client_id differs from Config.ClientID", ErrInvalidParameter)
		}
		form[name] = vals
	}
	form.Set("client_id", c.ClientID)
	return form, nil
}

func isCredential(name string) bool {
	for _, p := range credentialParams {
		if name == p {
			return true
		}
	}
	return false
}

func (c *Config) push(ctx context.Context, body []byte) (*Response, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &ConfigError{Field: "Config.Endpoint", Reason: "cannot be requested"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// The same body, without credentials, for every attempt: a transport
	// that retries (DPoP nonce) or authenticates (a fresh assertion per
	// attempt) reads it again.
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }

	sent := c.now()
	resp, err := httpx.Client(c.HTTPClient).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequestFailed, err)
	}
	defer httpx.DrainClose(resp.Body)

	limit := c.MaxResponseBytes
	if limit == 0 {
		limit = DefaultMaxResponseBytes
	}
	return readResponse(resp, limit, sent)
}

// readResponse reads at most limit bytes of resp's body and interprets the
// answer: a [Response] for a valid 201, an [*Error] for any other status.
func readResponse(resp *http.Response, limit int64, sent time.Time) (*Response, error) {
	if resp.StatusCode != http.StatusCreated {
		// A body cut at limit is still enough for the error code; an
		// oversized description is refused by the parser.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, limit))
		return nil, newError(resp, b)
	}
	b, err := httpx.ReadBody(resp.Body, limit)
	if err != nil {
		if errors.Is(err, httpx.ErrBodyTooLarge) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidResponse, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrRequestFailed, err)
	}
	return parseResponse(resp.Header.Get("Content-Type"), b, sent)
}
