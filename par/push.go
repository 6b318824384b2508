package par

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
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
// The zero value is not usable: Endpoint, ClientID and ClientAuth are
// required, and [Config.Push] reports their absence. A Config is safe for
// concurrent use if its ClientAuth and HTTPClient are; do not modify it
// while a push runs.
type Config struct {
	// Endpoint is the PAR endpoint URL, the authorization server's
	// pushed_authorization_request_endpoint metadata (RFC 9126 §5). It
	// must use https. Required.
	Endpoint string
	// ClientID is the client identifier, sent as client_id in every pushed
	// request (RFC 9126 §2.1) and used in the authorization URL. Required.
	ClientID string
	// ClientAuth authenticates each attempt of the request (see
	// [ClientAuth]). Required: a public client passes one that adds
	// nothing.
	ClientAuth ClientAuth
	// HTTPClient sends the request; put a DPoP or mTLS transport in it.
	// Nil means a client with the module's default timeouts. Its
	// CheckRedirect is ignored: redirects are never followed.
	HTTPClient *http.Client
	// Timeout bounds a whole push, retries included. Zero means
	// [DefaultTimeout] (30 s). The context's deadline, if sooner, wins.
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

// defaultClient is shared by every Config without an HTTPClient, so that
// pushes reuse connections instead of each building a transport whose idle
// connections linger.
var defaultClient = sync.OnceValue(httpx.DefaultClient)

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// check validates the configuration.
func (c *Config) check() error {
	if c.ClientID == "" {
		return fmt.Errorf("%w: ClientID is required", ErrInvalidConfig)
	}
	if c.ClientAuth == nil {
		return fmt.Errorf("%w: ClientAuth is required", ErrInvalidConfig)
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%w: Endpoint must be an absolute URL without fragment or user info", ErrInvalidConfig)
	}
	if u.Scheme != "https" && !(c.InsecureAllowHTTP && u.Scheme == "http") {
		return fmt.Errorf("%w: Endpoint must use https (RFC 9126 §2)", ErrInvalidConfig)
	}
	if c.MaxResponseBytes < 0 || c.Timeout < 0 {
		return fmt.Errorf("%w: negative limit", ErrInvalidConfig)
	}
	return nil
}

// Push sends the authorization request parameters params to the PAR
// endpoint and returns the request_uri. params is not modified; client_id
// is added. Errors wrap the package's sentinels; an answer other than 201
// is an [*Error].
func (c *Config) Push(ctx context.Context, params url.Values) (*Response, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	form, err := c.form(params)
	if err != nil {
		return nil, err
	}
	return c.push(ctx, form)
}

// PushRequestObject pushes a request object (RFC 9126 §3): the form holds
// client_id and request, and the client's authentication.
func (c *Config) PushRequestObject(ctx context.Context, requestObject string) (*Response, error) {
	if requestObject == "" {
		return nil, fmt.Errorf("%w: empty request object", ErrInvalidParameter)
	}
	return c.Push(ctx, url.Values{"request": {requestObject}})
}

// form validates params and returns the form to send, without client
// authentication.
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
			return nil, ErrRequestURINotAllowed
		case len(vals) > 1 && name != "resource":
			return nil, fmt.Errorf("%w: %q", ErrDuplicateParameter, truncate(name, 64))
		case name == "client_id" && vals[0] != c.ClientID:
			return nil, ErrClientIDMismatch
		}
		form[name] = vals
	}
	form.Set("client_id", c.ClientID)
	return form, nil
}

// encode authenticates a copy of form and returns the request body.
func (c *Config) encode(form url.Values, header http.Header) ([]byte, error) {
	f := make(url.Values, len(form)+4)
	for k, v := range form {
		f[k] = append([]string(nil), v...)
	}
	if err := c.ClientAuth.Authenticate(f, header); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrClientAuth, err)
	}
	if f.Has("request_uri") {
		return nil, ErrRequestURINotAllowed
	}
	if v := f["client_id"]; len(v) != 1 || v[0] != c.ClientID {
		return nil, ErrClientIDMismatch
	}
	return []byte(f.Encode()), nil
}

func (c *Config) push(ctx context.Context, form url.Values) (*Response, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	header := http.Header{}
	body, err := c.encode(form, header)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: Endpoint: %w", ErrInvalidConfig, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// Every retry (a DPoP nonce retry, or net/http's own) gets a body with
	// fresh client authentication.
	req.GetBody = func() (io.ReadCloser, error) {
		b, err := c.encode(form, http.Header{})
		if err != nil {
			return nil, err
		}
		if len(b) != len(body) {
			return nil, ErrBodyChanged
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	}

	src := c.HTTPClient
	if src == nil {
		src = defaultClient()
	}
	hc := *src
	hc.CheckRedirect = httpx.NoRedirect
	sent := c.now()
	resp, err := hc.Do(req)
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
