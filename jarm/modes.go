package jarm

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// ResponseModeOption returns the authorization request parameter
// response_mode=mode, e.g. ResponseModeOption(ModeQueryJWT), for
// oauth2.Config.AuthCodeURL. With PAR or JAR, put response_mode in the
// pushed or signed request instead.
func ResponseModeOption(mode string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("response_mode", mode)
}

// DecodeURL validates the response carried by a redirect URL (query.jwt,
// jwt, or a plain query or fragment response). The parameters are read from
// the query, or from the fragment when the query holds none; response
// parameters in both are [ErrMalformed]. This is the call for a headless
// client that stops at the redirect. See [Decoder.Decode].
func (d *Decoder) DecodeURL(ctx context.Context, redirectURL string, expectedState string) (*Response, error) {
	if int64(len(redirectURL)) > d.maxBody {
		return nil, fmt.Errorf("%w: URL over %d bytes", ErrTooLarge, d.maxBody)
	}
	u, err := url.Parse(redirectURL)
	if err != nil {
		return nil, fmt.Errorf("%w: redirect URL", ErrMalformed)
	}
	q, err := parseForm(u.RawQuery)
	if err != nil {
		return nil, err
	}
	params := q
	if u.Fragment != "" {
		f, err := parseForm(u.EscapedFragment())
		if err != nil {
			return nil, err
		}
		switch qa, fa := hasResponseParams(q), hasResponseParams(f); {
		case qa && fa:
			return nil, fmt.Errorf("%w: parameters in both query and fragment", ErrMalformed)
		case fa:
			params = f
		}
	}
	return d.Decode(ctx, params, expectedState)
}

// DecodeFragment validates a fragment.jwt (or plain fragment) response:
// fragment is the URL fragment, with or without its leading '#', as a
// page's script reads it from location.hash and hands it to the server.
// See [Decoder.Decode].
func (d *Decoder) DecodeFragment(ctx context.Context, fragment string, expectedState string) (*Response, error) {
	if int64(len(fragment)) > d.maxBody {
		return nil, fmt.Errorf("%w: fragment over %d bytes", ErrTooLarge, d.maxBody)
	}
	params, err := parseForm(strings.TrimPrefix(fragment, "#"))
	if err != nil {
		return nil, err
	}
	return d.Decode(ctx, params, expectedState)
}

// DecodeRequest validates the authorization response that reached the
// client's redirect endpoint: it is the one call of a redirect handler,
// whatever the response mode.
//
//   - GET: query.jwt, jwt, or a plain query response, read from the
//     request URL's query (parsed strictly, unlike r.URL.Query).
//   - POST: form_post.jwt or a plain form_post response, read from the
//     application/x-www-form-urlencoded body (else
//     [ErrUnsupportedMediaType]), bounded by Config.MaxBodyBytes
//     ([ErrTooLarge]); response parameters in the URL as well are
//     [ErrMalformed]. If a middleware already parsed the body into
//     r.PostForm, that is used.
//   - any other method: [ErrMethodNotAllowed].
//
// A fragment never reaches the server: for fragment.jwt, see
// [Decoder.DecodeFragment]. ctx bounds a fetch of the server's keys (pass
// r.Context() in a handler). See [Decoder.Decode] and [HTTPStatus].
func (d *Decoder) DecodeRequest(ctx context.Context, r *http.Request, expectedState string) (*Response, error) {
	if r == nil || r.URL == nil {
		return nil, fmt.Errorf("%w: no request", ErrMalformed)
	}
	post := r.Method == http.MethodPost
	if !post && r.Method != http.MethodGet && r.Method != "" { // "" is GET for a client request
		return nil, ErrMethodNotAllowed
	}
	if int64(len(r.URL.RawQuery)) > d.maxBody {
		return nil, fmt.Errorf("%w: query over %d bytes", ErrTooLarge, d.maxBody)
	}
	q, err := parseForm(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if !post {
		return d.Decode(ctx, q, expectedState)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, ErrUnsupportedMediaType
	}
	if hasResponseParams(q) {
		return nil, fmt.Errorf("%w: parameters in the URL of a form post", ErrMalformed)
	}
	params := r.PostForm
	if params == nil {
		if r.Body == nil {
			return nil, fmt.Errorf("%w: empty body", ErrMalformed)
		}
		body, err := httpx.ReadBody(r.Body, d.maxBody)
		switch {
		case errors.Is(err, httpx.ErrBodyTooLarge):
			return nil, fmt.Errorf("%w: body over %d bytes", ErrTooLarge, d.maxBody)
		case err != nil:
			return nil, fmt.Errorf("%w: reading body", ErrMalformed)
		}
		if params, err = parseForm(string(body)); err != nil {
			return nil, err
		}
	}
	return d.Decode(ctx, params, expectedState)
}

// HTTPStatus suggests the status a redirect endpoint answers with after a
// failed decode: 405 for [ErrMethodNotAllowed], 415 for
// [ErrUnsupportedMediaType], 413 for [ErrTooLarge], 503 for
// [ErrKeySetUnavailable], 500 for [ErrInvalidConfig] and
// [ErrNoExpectedState], 400 for everything else (including an
// [*AuthorizationError]), and 200 for nil. With 405, answer with the
// header "Allow: GET, POST".
func HTTPStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrKeySetUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, ErrInvalidConfig), errors.Is(err, ErrNoExpectedState):
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func parseForm(s string) (url.Values, error) {
	v, err := url.ParseQuery(s)
	if err != nil {
		return nil, fmt.Errorf("%w: form encoding", ErrMalformed)
	}
	return v, nil
}

// hasResponseParams reports whether v holds "response" or any
// authorization response parameter.
func hasResponseParams(v url.Values) bool {
	if _, ok := v["response"]; ok {
		return true
	}
	for _, name := range responseParams {
		if _, ok := v[name]; ok {
			return true
		}
	}
	return false
}
