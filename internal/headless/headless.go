// Package headless plays the browser of an OAuth 2.0 authorization code
// login (RFC 6749 §4.1, https://datatracker.ietf.org/doc/html/rfc6749#section-4.1)
// for examples, interoperability tests and end-to-end tests, against an
// authorization server that logs its test user in without interaction
// (internal/authserver) or whose interaction a cookie jar and redirects
// complete.
//
// [Authorize] GETs the authorization URL with a client that follows
// redirects only within the authorization server's origin, stops at the
// first redirect whose Location is the redirect URI, and returns the
// request a browser would then send there: a GET of that URL (the response
// in its query, or in its fragment, which a real browser keeps to itself),
// or, for form_post response modes, the POST of the auto-submitting form's
// fields. It never connects to the redirect URI, so the redirect URI may
// name a host that does not resolve. The request then goes through the
// client's own callback validation (hardened.Config.Callback), exactly as
// a browser's would.
package headless

import (
	"context"
	"errors"
	"fmt"
	"html"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Limits of Authorize.
const (
	// MaxRedirects bounds the redirects followed within the origin.
	MaxRedirects = 10
	// MaxPageBytes bounds a page read in search of a form_post form.
	MaxPageBytes = 1 << 20
)

var (
	// ErrLogin means the authorization server's answers did not lead to
	// the redirect URI: an error page (an OAuth error body is wrapped too,
	// so the root package's *hardened.Error catches it), a page without an
	// auto-submitting form, too many redirects, or a network error.
	ErrLogin = errors.New("headless: login did not reach the redirect URI")
	// ErrOrigin means a redirect or a form pointed outside the
	// authorization server's origin, somewhere other than the redirect
	// URI: it is not followed.
	ErrOrigin = errors.New("headless: redirect outside the authorization server's origin")
	// ErrMalformed means an argument or an answer cannot be parsed: a URL
	// that is not absolute http(s), a Location header that is not a URL.
	ErrMalformed = errors.New("headless: malformed URL")
)

// Authorize performs the front-channel part of a login: see the package
// documentation. client sends the requests (its Transport, Jar and Timeout
// are used; nil means the module's default client); its redirect policy is
// replaced, redirects being followed here, one at a time. redirectURI is the
// client's registered redirect URI: a Location matches it when it starts
// with it and continues with nothing, "?", "&" or "#".
func Authorize(ctx context.Context, client *http.Client, authURL, redirectURI string) (*http.Request, error) {
	cur, err := absURL(authURL)
	if err != nil {
		return nil, err
	}
	if _, err := absURL(redirectURI); err != nil {
		return nil, err
	}
	origin := originOf(cur)
	hc := httpx.Client(client)
	for range MaxRedirects + 1 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cur.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrLogin, err)
		}
		next, done, err := step(ctx, resp, cur, origin, redirectURI)
		httpx.DrainClose(resp.Body)
		if err != nil || done != nil {
			return done, err
		}
		cur = next
	}
	return nil, fmt.Errorf("%w: more than %d redirects", ErrLogin, MaxRedirects)
}

// step reads one answer: the URL to follow next, or the request for the
// redirect URI, or an error.
func step(ctx context.Context, resp *http.Response, cur *url.URL, origin, redirectURI string) (*url.URL, *http.Request, error) {
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		loc, err := cur.Parse(resp.Header.Get("Location"))
		if err != nil || resp.Header.Get("Location") == "" {
			return nil, nil, fmt.Errorf("%w: bad Location", ErrMalformed)
		}
		if matches(loc.String(), redirectURI) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
			}
			return nil, req, nil
		}
		if originOf(loc) != origin {
			return nil, nil, ErrOrigin
		}
		return loc, nil, nil
	case resp.StatusCode == http.StatusOK:
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if mt != "text/html" {
			return nil, nil, fmt.Errorf("%w: a 200 answer that is not an HTML page", ErrLogin)
		}
		page, err := httpx.ReadBody(resp.Body, MaxPageBytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrLogin, err)
		}
		action, fields, ok := ParseForm(page)
		if !ok {
			return nil, nil, fmt.Errorf("%w: the page has no auto-submitting form", ErrLogin)
		}
		target, err := cur.Parse(action)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: bad form action", ErrMalformed)
		}
		if !matches(target.String(), redirectURI) {
			return nil, nil, ErrOrigin
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return nil, req, nil
	default:
		body, _ := httpx.ReadBody(resp.Body, MaxPageBytes)
		if oe, err := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body); err == nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrLogin, oe)
		}
		return nil, nil, fmt.Errorf("%w: HTTP %d", ErrLogin, resp.StatusCode)
	}
}

// matches reports whether u is the redirect URI, possibly followed by a
// query or fragment.
func matches(u, redirectURI string) bool {
	rest, ok := strings.CutPrefix(u, redirectURI)
	return ok && (rest == "" || rest[0] == '?' || rest[0] == '&' || rest[0] == '#')
}

func absURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: not an absolute http(s) URL", ErrMalformed)
	}
	return u, nil
}

// originOf returns scheme://host:port, lower-cased, with the default port.
func originOf(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// ParseForm finds the first <form method="post"> of an HTML page and
// returns its action and the names and values of its hidden inputs,
// entities decoded: the auto-submitting form of the form_post response
// modes (OAuth 2.0 Form Post Response Mode §2). ok is false when the page
// has no such form. Attribute names are matched case-insensitively and
// values may be double-quoted, single-quoted or bare.
func ParseForm(page []byte) (action string, fields url.Values, ok bool) {
	s := string(page)
	inForm := false
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return action, fields, inForm
		}
		s = s[i+1:]
		name, attrs, rest := parseTag(s)
		s = rest
		switch name {
		case "form":
			if inForm || !strings.EqualFold(attrs["method"], "post") {
				continue
			}
			a, has := attrs["action"]
			if !has {
				continue
			}
			inForm, action, fields = true, a, url.Values{}
		case "/form":
			if inForm {
				return action, fields, true
			}
		case "input":
			if inForm && strings.EqualFold(attrs["type"], "hidden") && attrs["name"] != "" {
				fields.Add(attrs["name"], attrs["value"])
			}
		}
	}
}

// parseTag reads a tag after its '<': its lower-cased name (with a leading
// '/' for an end tag), its attributes (names lower-cased, values entity
// decoded; the first of a repeated name wins) and the input after it.
func parseTag(s string) (name string, attrs map[string]string, rest string) {
	n := 0
	for n < len(s) && !isSpace(s[n]) && s[n] != '>' && !(s[n] == '/' && n > 0) {
		n++
	}
	name, s = strings.ToLower(s[:n]), s[n:]
	attrs = map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t\r\n\f/")
		if s == "" {
			return name, attrs, s
		}
		if s[0] == '>' {
			return name, attrs, s[1:]
		}
		n = 0
		for n < len(s) && !isSpace(s[n]) && s[n] != '=' && s[n] != '>' && s[n] != '/' {
			n++
		}
		if n == 0 { // a stray '=' or quote: skip it
			s = s[1:]
			continue
		}
		key := strings.ToLower(s[:n])
		s = strings.TrimLeft(s[n:], " \t\r\n\f")
		val := ""
		if strings.HasPrefix(s, "=") {
			s = strings.TrimLeft(s[1:], " \t\r\n\f")
			if s != "" && (s[0] == '"' || s[0] == '\'') {
				q := s[0]
				end := strings.IndexByte(s[1:], q)
				if end < 0 {
					return name, attrs, ""
				}
				val, s = s[1:1+end], s[2+end:]
			} else {
				n = 0
				for n < len(s) && !isSpace(s[n]) && s[n] != '>' {
					n++
				}
				val, s = s[:n], s[n:]
			}
		}
		if _, dup := attrs[key]; !dup {
			attrs[key] = html.UnescapeString(val)
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}
