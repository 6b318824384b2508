package interop_test

// Helpers the flows share. What the module's packages do (discovery, client
// authentication, par, jar, jarm, dpop, mtlsbound) is never re-implemented
// here: these helpers play the user agent, record traffic for diagnostics
// and cross-checks, and verify the peer's own JWTs (introspection responses,
// at+jwt access tokens) with internal/jose, independently of the packages
// under test.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// maxBody bounds every response body read from a peer.
const maxBody = 1 << 20

// peerError is a non-success answer from a peer: the endpoint, the status
// and the OAuth error response (RFC 6749 §5.2) or the start of the body.
// The peer's error bodies carry codes and descriptions, never credentials.
type peerError struct {
	Endpoint string
	Status   int
	OAuth    *oautherr.Error // nil when the body is not an OAuth error
	Body     string
}

func (e *peerError) Error() string {
	if e.OAuth != nil {
		return fmt.Sprintf("%s: HTTP %d: error=%q error_description=%q", e.Endpoint, e.Status, e.OAuth.Code, e.OAuth.Description)
	}
	return fmt.Sprintf("%s: HTTP %d: %.300q", e.Endpoint, e.Status, e.Body)
}

// readPeerResponse reads a bounded body and turns a non-2xx status into a
// *peerError.
func readPeerResponse(endpoint string, resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := httpx.ReadBody(resp.Body, maxBody)
	if err != nil {
		return nil, fmt.Errorf("%s: reading body: %w", endpoint, err)
	}
	if resp.StatusCode/100 != 2 {
		pe := &peerError{Endpoint: endpoint, Status: resp.StatusCode, Body: string(body)}
		if oe, err := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body); err == nil {
			pe.OAuth = oe
		}
		return nil, pe
	}
	return body, nil
}

func getJSON(ctx context.Context, hc *http.Client, endpoint string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	return readPeerResponse(endpoint, resp)
}

// ---- the user agent ----

// authorize plays the user agent: it follows the peer's redirects (the
// peer logs the user in by itself, see peer/server.mjs) until one goes to
// redirectURI, and returns that URL. No cookie jar is needed.
func authorize(ctx context.Context, hc *http.Client, authURL string) (*url.URL, error) {
	next := authURL
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			_, err := readPeerResponse("authorization", resp)
			if err == nil {
				err = fmt.Errorf("authorization: HTTP %d without redirect", resp.StatusCode)
			}
			return nil, err
		}
		httpx.DrainClose(resp.Body)
		loc, err := resp.Location()
		if err != nil {
			return nil, fmt.Errorf("authorization: %w", err)
		}
		if strings.HasPrefix(loc.String(), redirectURI+"?") || strings.HasPrefix(loc.String(), redirectURI+"#") {
			return loc, nil
		}
		next = loc.String()
	}
	return nil, errors.New("authorization: too many redirects")
}

// ---- traffic recorder ----

// exchange is one HTTP request and its answer, as a recorder saw them.
type exchange struct {
	Method string
	URL    string // without query
	// Proof is the DPoP header sent (a proof is public: it only works for
	// this request, once).
	Proof string
	// Scheme is the Authorization scheme sent ("DPoP", "Bearer", "").
	Scheme string
	// accessToken is the token sent with Scheme. Never printed.
	accessToken string
	Status      int
	// Nonce is the DPoP-Nonce header of the response.
	Nonce string
	// NonceChallenge reports a use_dpop_nonce answer: 400 with a JSON
	// error (RFC 9449 §8) or 401 with a DPoP challenge (§9).
	NonceChallenge bool
	// ErrorCode and ErrorDescription come from the JSON error body or the
	// WWW-Authenticate challenge of an error response.
	ErrorCode, ErrorDescription string
	Err                         error // transport error
	// Assertions counts the client_assertion parameters of a form body
	// (recorder.InspectForms only): the client credentials that went on
	// the wire.
	Assertions int
	// body is a successful response's body, kept only with
	// recorder.KeepBodies. Never printed.
	body []byte
}

func (e exchange) String() string {
	s := fmt.Sprintf("%s %s", e.Method, e.URL)
	if e.Err != nil {
		return s + ": " + e.Err.Error()
	}
	s += fmt.Sprintf(" -> %d", e.Status)
	if e.Proof != "" {
		s += " [DPoP proof]"
	}
	if e.Scheme != "" {
		s += " [Authorization: " + e.Scheme + "]"
	}
	if e.Assertions > 0 {
		s += fmt.Sprintf(" [%d client_assertion]", e.Assertions)
	}
	if e.ErrorCode != "" {
		s += fmt.Sprintf(" error=%q error_description=%q", e.ErrorCode, e.ErrorDescription)
	}
	if e.Nonce != "" {
		s += " [DPoP-Nonce]"
	}
	return s
}

// recorder is an http.RoundTripper that keeps what went through it. It
// sits beneath a dpop.Transport, so it sees the proofs that transport sent
// and every attempt (the use_dpop_nonce retries too). Error bodies are read
// (bounded) and put back for the layers above.
type recorder struct {
	Base http.RoundTripper
	// KeepBodies keeps the bodies of successful responses (for public
	// documents such as metadata; never for token responses).
	KeepBodies bool
	// InspectForms reads (bounded) the body of a form request, sends a
	// copy of the request with the same bytes, and counts its
	// client_assertion parameters. The assertions themselves are not kept.
	InspectForms bool

	mu  sync.Mutex
	log []exchange
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	e := exchange{Method: req.Method, URL: endpointOf(req.URL), Proof: req.Header.Get("DPoP")}
	if scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok {
		e.Scheme = scheme
		if strings.EqualFold(scheme, "DPoP") || strings.EqualFold(scheme, "Bearer") {
			e.accessToken = tok
		}
	}
	if r.InspectForms {
		n, req2, err := inspectForm(req)
		if err != nil {
			e.Err = err
			r.add(e)
			return nil, err
		}
		e.Assertions, req = n, req2
	}
	resp, err := r.Base.RoundTrip(req)
	if err != nil {
		e.Err = err
		r.add(e)
		return nil, err
	}
	e.Status = resp.StatusCode
	e.Nonce = resp.Header.Get("DPoP-Nonce")
	if r.KeepBodies && resp.StatusCode/100 == 2 {
		body, rerr := httpx.ReadBody(resp.Body, maxBody)
		resp.Body.Close()
		if rerr != nil {
			e.Err = rerr
			r.add(e)
			return nil, rerr
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		e.body = body
	}
	if resp.StatusCode >= 400 {
		body, rerr := httpx.ReadBody(resp.Body, maxBody)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if rerr == nil {
			if oe, perr := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body); perr == nil {
				e.ErrorCode, e.ErrorDescription = oe.Code, oe.Description
			}
		}
		if cs, cerr := oautherr.ParseHeader(resp.Header); cerr == nil && e.ErrorCode == "" {
			for _, c := range cs {
				if c.Get("error") != "" {
					e.ErrorCode, e.ErrorDescription = c.Get("error"), c.Get("error_description")
					break
				}
			}
		}
		e.NonceChallenge = e.ErrorCode == "use_dpop_nonce" &&
			(resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized)
	}
	r.add(e)
	return resp, nil
}

// inspectForm counts the client_assertion parameters of req's form body
// and returns a copy of req whose body holds the bytes read. It closes
// req.Body. A request without a form body is returned as it is.
func inspectForm(req *http.Request) (int, *http.Request, error) {
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" || req.Body == nil || req.Body == http.NoBody {
		return 0, req, nil
	}
	body, err := httpx.ReadBody(req.Body, maxBody)
	req.Body.Close()
	if err != nil {
		return 0, nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return 0, nil, err
	}
	req2 := req.Clone(req.Context())
	req2.Body = io.NopCloser(bytes.NewReader(body))
	req2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return len(form["client_assertion"]), req2, nil
}

func (r *recorder) add(e exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, e)
}

// exchanges returns what was recorded so far, optionally only for one URL.
func (r *recorder) exchanges(url string) []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []exchange
	for _, e := range r.log {
		if url == "" || e.URL == url {
			out = append(out, e)
		}
	}
	return out
}

// nonceChallenges counts use_dpop_nonce answers, optionally only from one
// URL.
func (r *recorder) nonceChallenges(url string) int {
	n := 0
	for _, e := range r.exchanges(url) {
		if e.NonceChallenge {
			n++
		}
	}
	return n
}

// logOnFailure prints the recorded traffic (without tokens) if t fails.
func (r *recorder) logOnFailure(t *testing.T, name string) {
	t.Helper()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		var b strings.Builder
		for _, e := range r.exchanges("") {
			fmt.Fprintf(&b, "  %s\n", e)
		}
		t.Logf("%s traffic:\n%s", name, b.String())
	})
}

// ---- introspection (RFC 7662, RFC 9701) ----

// introspection is the part of an introspection response the tests check.
type introspection struct {
	Active    bool   `json:"active"`
	ClientID  string `json:"client_id"`
	Sub       string `json:"sub"`
	Scope     string `json:"scope"`
	TokenType string `json:"token_type"`
	Aud       any    `json:"aud"`
	Cnf       struct {
		JKT     string `json:"jkt"`
		X5TS256 string `json:"x5t#S256"`
	} `json:"cnf"`
	// Raw is the introspection response itself (JSON), or the
	// token_introspection member of an RFC 9701 JWT.
	Raw json.RawMessage `json:"-"`
}

// introspect asks the peer about token as the resource server client,
// authenticated with client_secret_basic through hardened.AuthTransport.
// With asJWT it asks for a signed response (RFC 9701) and verifies it with
// internal/jose against the peer's JWK Set.
func introspect(ctx context.Context, pv *peerView, token string, asJWT bool) (*introspection, error) {
	endpoint := pv.md.IntrospectionEndpoint
	hc := &http.Client{Transport: &hardened.AuthTransport{
		Base:      env.transport(nil),
		Auth:      hardened.ClientSecretBasic{ClientID: env.resourceServer.id, ClientSecret: env.resourceServer.secret},
		Endpoints: []string{endpoint},
	}}
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if asJWT {
		req.Header.Set("Accept", "application/token-introspection+jwt")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	ct := resp.Header.Get("Content-Type")
	body, err := readPeerResponse("introspection", resp)
	if err != nil {
		return nil, err
	}
	if asJWT {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/token-introspection+jwt" {
			return nil, fmt.Errorf("introspection: content type %q", ct)
		}
		if body, err = verifyIntrospectionJWT(pv, env.resourceServer.id, string(body)); err != nil {
			return nil, err
		}
	}
	var out introspection
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	out.Raw = body
	return &out, nil
}

// verifyIntrospectionJWT checks an RFC 9701 response (typ
// token-introspection+jwt, signature by the peer's key, iss, aud) and
// returns its token_introspection member.
func verifyIntrospectionJWT(pv *peerView, audience, token string) ([]byte, error) {
	jws, err := jose.ParseCompact(token)
	if err != nil {
		return nil, fmt.Errorf("introspection JWT: %w", err)
	}
	if jws.Header.Typ != "token-introspection+jwt" {
		return nil, fmt.Errorf("introspection JWT: %w: %q", jose.ErrType, jws.Header.Typ)
	}
	if _, err := jws.VerifyWith(context.Background(), pv.keys, []string{jose.ES256}); err != nil {
		return nil, fmt.Errorf("introspection JWT: %w", err)
	}
	var claims struct {
		jose.Claims
		TokenIntrospection json.RawMessage `json:"token_introspection"`
	}
	if err := json.Unmarshal(jws.Payload, &claims); err != nil {
		return nil, fmt.Errorf("introspection JWT: %w", err)
	}
	if err := claims.Validate(jose.Expected{Issuer: pv.md.Issuer, Audience: audience, Now: time.Now(), Skew: 30 * time.Second}); err != nil {
		return nil, fmt.Errorf("introspection JWT: %w", err)
	}
	if len(claims.TokenIntrospection) == 0 {
		return nil, fmt.Errorf("introspection JWT: %w: token_introspection", jose.ErrMissingClaim)
	}
	return claims.TokenIntrospection, nil
}

// ---- access tokens (RFC 9068) ----

// jwtAccessToken verifies an at+jwt access token with internal/jose
// against the peer's JWK Set and returns its claims as JSON.
func jwtAccessToken(pv *peerView, token, audience string) (json.RawMessage, error) {
	jws, err := jose.ParseCompact(token)
	if err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	if jws.Header.Typ != "at+jwt" {
		return nil, fmt.Errorf("access token: %w: %q", jose.ErrType, jws.Header.Typ)
	}
	if _, err := jws.VerifyWith(context.Background(), pv.keys, []string{jose.ES256}); err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	var claims jose.Claims
	if err := json.Unmarshal(jws.Payload, &claims); err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	if err := claims.Validate(jose.Expected{Issuer: pv.md.Issuer, Audience: audience, Now: time.Now(), Skew: 30 * time.Second, RequireExpiry: true}); err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	return jws.Payload, nil
}

// claimsOf decodes verified claims for assertions.
func claimsOf(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("claims: %v", err)
	}
	return m
}

// ---- small helpers ----

// certSHA256 is computed here, not by mtlsbound: base64url(SHA-256(DER)),
// the x5t#S256 of RFC 8705 §3.1.
func certSHA256(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// proofNonce returns the "nonce" claim of a DPoP proof the client sent,
// decoded here, not by dpop (the proof's signature is checked elsewhere, by
// the peer and by verifyAcceptedProofs).
func proofNonce(proof string) (string, error) {
	jws, err := jose.ParseCompact(proof)
	if err != nil {
		return "", err
	}
	var claims struct {
		Nonce string `json:"nonce"`
	}
	if err := json.Unmarshal(jws.Payload, &claims); err != nil {
		return "", err
	}
	return claims.Nonce, nil
}

// tokenHash is computed here, not by dpop: the "ath" of RFC 9449 §4.2.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// endpointOf is u without query and fragment.
func endpointOf(u *url.URL) string {
	v := *u
	v.RawQuery, v.Fragment, v.RawFragment = "", "", ""
	return v.String()
}

func originOf(u *url.URL) string { return u.Scheme + "://" + u.Host }

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("url %q: %v", s, err)
	}
	return u
}

func randomString() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
