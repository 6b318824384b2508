package hardened

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// maxTokenResponse is what x/oauth2 reads of a token response.
const maxTokenResponse = 1 << 20

// Exchange redeems an authorization code (RFC 6749 §4.1.3) through
// x/oauth2's own Exchange, with the Config's stack: client authentication
// by [AuthTransport], a DPoP proof (and one retry when the server asks for
// a nonce, RFC 9449 §8) or the client certificate, and the mTLS alias of
// the token endpoint when a certificate is used. It shadows
// oauth2.Config.Exchange, with the same signature.
//
// opts must hold oauth2.VerifierOption (PKCE), and [NonceOption] when the
// Config's Scopes hold openid; [Login.ExchangeOptions] gives both. The nonce
// is checked in the ID token and not sent; [ResourceOption] may narrow the
// token to some of the authorized resources (RFC 8707 §2.2), and other
// oauth2.SetAuthURLParam values are sent as form parameters. Parameters of
// the authorization request (code_challenge, state, dpop_jkt, ...) and
// client credentials are refused with [ErrInvalidOption] before any
// request.
//
// The token is returned only after every check passed: its token_type is
// DPoP when DPoP is used ([ErrNotSenderConstrained] otherwise) and Bearer
// otherwise; the response is strict JSON, with no negative expires_in
// ([ErrNegativeExpiresIn]; 0 means no expiry); and, with openid in the scope,
// the ID token is present and valid (an [*IDTokenError], see
// [IDTokenFrom]). A refused request wraps [ErrRequestFailed], with the
// server's [*Error] in the chain.
func (c *Config) Exchange(ctx context.Context, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	if code == "" {
		return nil, optionErr("code is required")
	}
	given := optionValues(opts)
	if err := refuse(given, "is set by the Config", paramClientID, "grant_type", "code"); err != nil {
		return nil, err
	}
	if err := refuse(given, "is not a token request parameter", append(credentialParams,
		paramCodeChallenge, paramCodeChallengeMethod, paramState, paramResponseType, paramResponseMode,
		paramDPoPJKT, "request", "request_uri")...); err != nil {
		return nil, err
	}
	if given.Get(paramCodeVerifier) == "" {
		return nil, optionErr("the PKCE verifier is required: add oauth2.VerifierOption")
	}
	nonce := given.Get(paramNonce)
	delete(given, paramNonce)
	openid := hasScope(strings.Join(c.Scopes, " "), "openid")
	if openid && nonce == "" {
		return nil, optionErr("the nonce of the login is required with the openid scope: add hardened.NonceOption")
	}
	resources, err := takeResources(given)
	if err != nil {
		return nil, err
	}
	xopts := make([]oauth2.AuthCodeOption, 0, len(given))
	for k, vs := range given {
		xopts = append(xopts, oauth2.SetAuthURLParam(k, vs[0]))
	}
	st, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	tok, raw, err := st.tokenRequest(ctx, resources, func(ctx context.Context) (*oauth2.Token, error) {
		return st.oauth.Exchange(ctx, code, xopts...)
	}, code, given.Get(paramCodeVerifier))
	if err != nil {
		return nil, err
	}
	idt, err := c.idTokenOf(ctx, st, tok, raw, idCheck{required: openid, nonce: nonce, code: code})
	if err != nil {
		return nil, err
	}
	return attach(tok, raw, idt), nil
}

// tokenRequest runs do, a token request of x/oauth2, with an *http.Client
// in ctx that sends through the stack, adds the form parameters add (which
// x/oauth2's options cannot repeat) and keeps the response body. It returns
// the token, with its token_type checked, and the members of the response.
// secrets are values the request carries (a code and its PKCE verifier, a
// refresh token) that a server might echo in its error: none of them, nor
// the client's secret, nor any JWT (an assertion), reaches the error
// returned.
func (st *state) tokenRequest(ctx context.Context, add url.Values, do func(context.Context) (*oauth2.Token, error), secrets ...string) (*oauth2.Token, map[string]any, error) {
	tc := &tokenCall{base: st.top, add: add}
	if u, err := url.Parse(st.oauth.Endpoint.TokenURL); err == nil {
		tc.url = u.String()
	}
	hc := httpx.Client(&http.Client{Transport: tc, Timeout: st.timeout})
	tok, err := do(context.WithValue(ctx, oauth2.HTTPClient, hc))
	if err != nil {
		err = tokenErr(err, append(secrets, st.secrets...)...)
		if tc.status >= 200 && tc.status <= 299 {
			return nil, nil, refusedAnswer{err}
		}
		return nil, nil, err
	}
	raw, err := tc.members()
	if err != nil {
		return nil, nil, refusedAnswer{err}
	}
	if negativeExpiresIn(tok, raw) {
		return nil, nil, refusedAnswer{ErrNegativeExpiresIn}
	}
	if err := st.checkType(tok); err != nil {
		return nil, nil, refusedAnswer{err}
	}
	return tok, raw, nil
}

// refusedAnswer is the error of a token request the server answered with
// success (2xx) and the client refused: the server did its part, so the
// refresh token sent may have been rotated already. It reads and unwraps
// as the error it holds.
type refusedAnswer struct{ error }

func (r refusedAnswer) Unwrap() error { return r.error }

// checkType requires the token_type that matches the sender constraint
// and writes it in its canonical case.
func (st *state) checkType(tok *oauth2.Token) error {
	if st.proofer != nil {
		if !strings.EqualFold(tok.TokenType, "DPoP") {
			return fmt.Errorf("%w: token_type %s where DPoP was used (RFC 9449 §5)", ErrNotSenderConstrained, quoteTrunc(tok.TokenType))
		}
		tok.TokenType = "DPoP"
		return nil
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		return fmt.Errorf("%w: token_type %s, want Bearer", ErrInvalidResponse, quoteTrunc(tok.TokenType))
	}
	tok.TokenType = "Bearer"
	return nil
}

// negativeExpiresIn reports whether the response's expires_in is below
// zero. It reads the member itself as well as tok.ExpiresIn: x/oauth2 keeps
// the value in an int32, so one below -2^31 wraps around to a positive
// lifetime, or to 0. An expires_in of 0 is not refused: x/oauth2 reads it
// as no expiry, as it reads an absent member. x/oauth2 accepts a number or
// a string holding one (json.Number).
func negativeExpiresIn(tok *oauth2.Token, raw map[string]any) bool {
	switch v := raw["expires_in"].(type) {
	case float64:
		if v < 0 {
			return true
		}
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil && f < 0 {
			return true
		}
	}
	return tok.ExpiresIn < 0
}

// tokenErr turns an error of x/oauth2's token request into the module's
// shape: the server's OAuth error as *Error, never the response body. Any
// other error keeps its cause with its text bounded (httpx.BoundError):
// x/oauth2 quotes a malformed member, such as an expires_in of a megabyte,
// whole. The server's text is parsed redacting secrets, the values of the
// request a server might echo (whole, cut or form-encoded).
func tokenErr(err error, secrets ...string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status, ct := 0, ""
		if re.Response != nil {
			status, ct = re.Response.StatusCode, re.Response.Header.Get("Content-Type")
		}
		if oe, perr := oautherr.ParseRedacting(status, ct, re.Body, secrets...); perr == nil {
			return fmt.Errorf("%w: token endpoint: %w", ErrRequestFailed, oe)
		}
		return fmt.Errorf("%w: token endpoint answered HTTP %d", ErrRequestFailed, status)
	}
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		// Its text is bounded already: the client of tokenRequest sends
		// through httpx's bounded transport.
		return fmt.Errorf("%w: token endpoint: %w", ErrRequestFailed, err)
	}
	return fmt.Errorf("%w: token endpoint: malformed token response: %w", ErrInvalidResponse, httpx.BoundError(err))
}

// tokenCall is the transport of one token request: it adds form
// parameters to the request to the token endpoint and keeps a copy of the
// response body as x/oauth2 reads it.
type tokenCall struct {
	base   http.RoundTripper
	url    string
	add    url.Values
	status int // of the token endpoint's response
	ct     string
	body   bytes.Buffer
}

func (t *tokenCall) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.String() != t.url {
		return t.base.RoundTrip(req)
	}
	if len(t.add) > 0 {
		r, err := addForm(req, t.add)
		if err != nil {
			httpx.CloseBody(req)
			return nil, err
		}
		req = r
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.status, t.ct = resp.StatusCode, resp.Header.Get("Content-Type")
	t.body.Reset()
	resp.Body = &teeBody{ReadCloser: resp.Body, dst: &t.body}
	return resp, nil
}

// members parses the kept success response: one strict JSON object (RFC
// 6749 §5.1), as x/oauth2 read it with encoding/json, duplicates refused.
func (t *tokenCall) members() (map[string]any, error) {
	mt, _, _ := mime.ParseMediaType(t.ct)
	if mt != "application/json" {
		return nil, fmt.Errorf("%w: token response is not application/json", ErrInvalidResponse)
	}
	m := map[string]any{}
	if err := jose.UnmarshalStrict(t.body.Bytes(), &m); err != nil {
		return nil, fmt.Errorf("%w: token response: %w", ErrInvalidResponse, err)
	}
	return m, nil
}

// teeBody copies what is read from a response body, up to
// maxTokenResponse bytes.
type teeBody struct {
	io.ReadCloser
	dst *bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if room := maxTokenResponse - b.dst.Len(); room > 0 {
		b.dst.Write(p[:min(n, room)])
	}
	return n, err
}

// addForm returns a clone of req whose form body has add appended, with a
// GetBody that replays it (for the DPoP nonce retry beneath).
func addForm(req *http.Request, add url.Values) (*http.Request, error) {
	var body []byte
	if req.Body != nil {
		b, err := httpx.ReadBody(req.Body, maxTokenResponse)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: token request body: %w", ErrRequestFailed, err)
		}
		body = b
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: token request body: %w", ErrRequestFailed, err)
	}
	for k, vs := range add {
		for _, v := range vs {
			form.Add(k, v)
		}
	}
	enc := form.Encode()
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(strings.NewReader(enc))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(enc)), nil }
	r.ContentLength = int64(len(enc))
	return r, nil
}

// errTransport fails every request with err: the client of a Config whose
// first use failed.
type errTransport struct{ err error }

func (t errTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	httpx.CloseBody(req)
	return nil, t.err
}
