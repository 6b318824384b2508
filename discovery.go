package hardened

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// DefaultMaxMetadataBytes bounds a metadata document when
// [Discovery.MaxBytes] is zero: 512 KiB.
const DefaultMaxMetadataBytes = 512 << 10

// Well-known URI suffixes of authorization server metadata.
const (
	// WellKnownOAuth is the RFC 8414 §3 suffix, inserted between the host
	// and the path of the issuer.
	WellKnownOAuth = "/.well-known/oauth-authorization-server"
	// WellKnownOpenID is the OpenID Connect Discovery 1.0 §4 suffix,
	// appended to the issuer.
	WellKnownOpenID = "/.well-known/openid-configuration"
)

// Discovery fetches and validates authorization server metadata (RFC 8414,
// https://datatracker.ietf.org/doc/html/rfc8414). The zero value is ready to
// use; a Discovery is safe for concurrent use.
type Discovery struct {
	// HTTPClient makes the requests. Nil means the module's default client
	// (timeouts, TLS 1.2 or later). Its redirect policy is overridden on a
	// copy: a redirect is never followed, and is a [*StatusError].
	HTTPClient *http.Client
	// MaxBytes bounds the document. Zero means [DefaultMaxMetadataBytes];
	// negative is a [*ConfigError].
	MaxBytes int64
	// Timeout bounds a whole discovery (the RFC 8414 URL and the OpenID
	// Connect fallback, each body read included), on top of the context's
	// deadline and HTTPClient's Timeout, so that a server that never
	// finishes its answer cannot hold Discover for ever. Zero means 30 s;
	// negative is a [*ConfigError].
	Timeout time.Duration
	// InsecureAllowHTTPLoopback accepts http:// issuers and endpoints on
	// loopback hosts (localhost, 127.0.0.0/8, ::1), for local development.
	// It never allows http on any other host. Off by default.
	InsecureAllowHTTPLoopback bool
}

func (d *Discovery) maxBytes() (int64, error) {
	switch {
	case d.MaxBytes < 0:
		return 0, &ConfigError{Field: "Discovery.MaxBytes", Reason: "must not be negative"}
	case d.MaxBytes > 0:
		return d.MaxBytes, nil
	}
	return DefaultMaxMetadataBytes, nil
}

// Discover fetches the metadata of issuer with a zero [Discovery].
func Discover(ctx context.Context, issuer string) (*Metadata, error) {
	var d Discovery
	return d.Discover(ctx, issuer)
}

// Discover fetches the metadata of issuer and validates it with
// [Discovery.Parse].
//
// It first GETs the RFC 8414 §3.1 URL, with the well-known suffix inserted
// between the host and the path (https://as.example/tenant →
// https://as.example/.well-known/oauth-authorization-server/tenant); on 404
// Not Found it falls back to the OpenID Connect Discovery URL, with the
// suffix appended (https://as.example/tenant/.well-known/openid-configuration).
// Any other failure is returned as is, without fallback: another status,
// a redirect included ([*StatusError], [ErrMetadataUnavailable]), a network
// error, ctx's deadline or Timeout ([ErrMetadataUnavailable] wrapping it), a content
// type other than application/json or a document over MaxBytes
// ([ErrInvalidMetadata]).
func (d *Discovery) Discover(ctx context.Context, issuer string) (*Metadata, error) {
	if _, err := d.maxBytes(); err != nil {
		return nil, err
	}
	timeout := d.Timeout
	switch {
	case timeout < 0:
		return nil, &ConfigError{Field: "Discovery.Timeout", Reason: "must not be negative"}
	case timeout == 0:
		timeout = httpx.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	urls, err := d.wellKnownURLs(issuer)
	if err != nil {
		return nil, err
	}
	c := httpx.Client(d.HTTPClient) // never follows a redirect
	var body []byte
	for i, u := range urls {
		body, err = d.fetch(ctx, c, u)
		var se *StatusError
		if i+1 < len(urls) && errors.As(err, &se) && se.StatusCode == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	return d.Parse(issuer, body)
}

// wellKnownURLs returns the RFC 8414 and OpenID Connect metadata URLs of
// issuer. A terminating "/" of the issuer's path is removed first (RFC 8414
// §3.1, OpenID Connect Discovery §4.1).
func (d *Discovery) wellKnownURLs(issuer string) ([]string, error) {
	if err := d.checkIssuer(issuer); err != nil {
		return nil, err
	}
	u, err := url.Parse(issuer)
	if err != nil { // checked by checkIssuer
		return nil, fmt.Errorf("%w: not a URL", ErrInvalidIssuer)
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	return []string{
		origin + WellKnownOAuth + path,
		origin + path + WellKnownOpenID,
	}, nil
}

// fetch GETs one metadata URL and returns the body of a 200 application/json
// response.
func (d *Discovery) fetch(ctx context.Context, c *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIssuer, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataUnavailable, err)
	}
	defer httpx.DrainClose(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: u, StatusCode: resp.StatusCode}
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, fmt.Errorf("%w: content type is not application/json", ErrInvalidMetadata)
	}
	limit, err := d.maxBytes()
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: over %d bytes (Discovery.MaxBytes)", ErrInvalidMetadata, limit)
	}
	body, err := httpx.ReadBody(resp.Body, limit)
	if errors.Is(err, httpx.ErrBodyTooLarge) {
		return nil, fmt.Errorf("%w: over %d bytes (Discovery.MaxBytes)", ErrInvalidMetadata, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading the document: %w", ErrMetadataUnavailable, err)
	}
	return body, nil
}
