package authserver

import (
	"context"
	"fmt"
	"html"
	"mime"
	"net/http"
	"net/url"
	"regexp"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Callback is what a browser would deliver to the client's redirect URI
// after an authorization request.
type Callback struct {
	// URL is the redirect target, with its query and fragment, or the form's
	// action for form_post modes.
	URL *url.URL
	// Form holds the fields of a form_post response, nil otherwise.
	Form url.Values
}

// Params returns the response parameters wherever the response mode put
// them: the form, the fragment or the query.
func (c *Callback) Params() url.Values {
	if c.Form != nil {
		return c.Form
	}
	if c.URL.Fragment != "" {
		v, _ := url.ParseQuery(c.URL.Fragment)
		return v
	}
	return c.URL.Query()
}

// Authorize plays the browser: it sends the authorization request authURL
// (the URL a client would redirect the user to) with [Server.HTTPClient] and
// returns the callback the server answered with: a redirect's Location, or
// the fields of a form_post page. A 400 answer is ErrAuthorize wrapping the
// *oautherr.Error of the body.
func (s *Server) Authorize(ctx context.Context, authURL string) (*Callback, error) {
	return s.AuthorizeWith(ctx, s.HTTPClient(), authURL)
}

// AuthorizeWith is [Server.Authorize] with the given client, which must
// not follow redirects.
func (s *Server) AuthorizeWith(ctx context.Context, hc *http.Client, authURL string) (*Callback, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuthorize, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuthorize, err)
	}
	defer httpx.DrainClose(resp.Body)
	switch resp.StatusCode {
	case http.StatusFound, http.StatusSeeOther:
		u, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !u.IsAbs() {
			return nil, fmt.Errorf("%w: bad Location", ErrAuthorize)
		}
		return &Callback{URL: u}, nil
	case http.StatusOK:
		body, err := httpx.ReadBody(resp.Body, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrAuthorize, err)
		}
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if mt != "text/html" {
			return nil, fmt.Errorf("%w: unexpected 200 response", ErrAuthorize)
		}
		return parseFormPost(body)
	default:
		body, err := httpx.ReadBody(resp.Body, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: HTTP %d", ErrAuthorize, resp.StatusCode)
		}
		oe, perr := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body)
		if perr != nil {
			return nil, fmt.Errorf("%w: HTTP %d", ErrAuthorize, resp.StatusCode)
		}
		return nil, fmt.Errorf("%w: %w", ErrAuthorize, oe)
	}
}

var (
	formActionRE = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	formFieldRE  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// parseFormPost reads the page written by writeFormPost.
func parseFormPost(body []byte) (*Callback, error) {
	m := formActionRE.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("%w: no form in the page", ErrAuthorize)
	}
	u, err := url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return nil, fmt.Errorf("%w: bad form action", ErrAuthorize)
	}
	form := url.Values{}
	for _, f := range formFieldRE.FindAllSubmatch(body, -1) {
		form.Set(html.UnescapeString(string(f[1])), html.UnescapeString(string(f[2])))
	}
	return &Callback{URL: u, Form: form}, nil
}
