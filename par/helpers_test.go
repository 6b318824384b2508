package par_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/par"
)

const clientID = "s6BhdRkqt3"

// t0 is the fixed clock of the tests.
var t0 = time.Unix(1_700_000_000, 0)

func fixedNow() time.Time { return t0 }

var (
	clientKeyOnce sync.Once
	clientKey     *ecdsa.PrivateKey
)

func key(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	clientKeyOnce.Do(func() {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		clientKey = k
	})
	return clientKey
}

// Errors of authTransport, which a push wraps in ErrRequestFailed.
var (
	errNoGetBody    = errors.New("authTransport: request without GetBody")
	errBodyMismatch = errors.New("authTransport: GetBody differs from the body")
	errCredentials  = errors.New("authTransport: par added credentials")
	errClientID     = errors.New("authTransport: client_id missing or not the client's")
)

// authTransport stands in for the root package's AuthTransport: for every
// attempt it reads the form through GetBody, checks that it is the body
// being sent, that par put no credential in it or in the header and that
// client_id is the client's, then adds a private_key_jwt client assertion
// (RFC 7523 §2.2) with a fresh jti and sends the result with base.
type authTransport struct {
	base     http.RoundTripper
	signer   *jose.Signer
	audience string
	static   string // when set, sent as the assertion instead of a fresh one
	fail     error  // when set, returned instead of sending
	calls    atomic.Int64
}

func newAuthTransport(t testing.TB, base http.RoundTripper, audience string) *authTransport {
	t.Helper()
	s, err := jose.NewSigner(key(t), jose.SignerOptions{KeyID: "client-key"})
	require.NoError(t, err)
	return &authTransport{base: base, signer: s, audience: audience}
}

func (a *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := a.form(req)
	if err != nil {
		return nil, err
	}
	a.calls.Add(1)
	if a.fail != nil {
		return nil, a.fail
	}
	assertion := a.static
	if assertion == "" {
		if assertion, err = a.assertion(); err != nil {
			return nil, err
		}
	}
	body.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	body.Set("client_assertion", assertion)
	b := []byte(body.Encode())
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.ContentLength = int64(len(b))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return a.base.RoundTrip(r2)
}

// form reads and checks the form of req, and closes req.Body.
func (a *authTransport) form(req *http.Request) (url.Values, error) {
	defer req.Body.Close()
	if req.GetBody == nil {
		return nil, errNoGetBody
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	replay, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	sent, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(replay, sent) || int64(len(sent)) != req.ContentLength {
		return nil, errBodyMismatch
	}
	form, err := url.ParseQuery(string(sent))
	if err != nil {
		return nil, err
	}
	if hasCredentials(form, req.Header) {
		return nil, errCredentials
	}
	if ids := form["client_id"]; len(ids) != 1 || ids[0] != clientID {
		return nil, errClientID
	}
	return form, nil
}

func (a *authTransport) assertion() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return a.signer.SignJSON(map[string]any{
		"iss": clientID, "sub": clientID, "aud": a.audience,
		"iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(b[:]),
	})
}

// hasCredentials reports whether a form or header carries client
// credentials (RFC 6749 §2.3.1, RFC 7521 §4.2).
func hasCredentials(form url.Values, h http.Header) bool {
	return form.Has("client_secret") || form.Has("client_assertion") || form.Has("client_assertion_type") ||
		h.Get("Authorization") != ""
}

// dpopLike is a fake DPoP transport: it adds a "DPoP" header naming the
// nonce it knows and, on 400 use_dpop_nonce, stores the server's nonce and
// retries once with a body from req.GetBody, as dpop.Transport does.
type dpopLike struct {
	base    http.RoundTripper
	mu      sync.Mutex
	nonce   string
	retries atomic.Int64
}

func (d *dpopLike) proof() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return "proof; nonce=" + d.nonce
}

func (d *dpopLike) RoundTrip(req *http.Request) (*http.Response, error) {
	r1 := req.Clone(req.Context())
	r1.Header.Set("DPoP", d.proof())
	resp, err := d.base.RoundTrip(r1)
	if err != nil || resp.StatusCode != http.StatusBadRequest || req.GetBody == nil {
		return resp, err
	}
	body, err := httpx.ReadBody(resp.Body, 64<<10)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	oe, perr := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body)
	if perr != nil || oe.Code != "use_dpop_nonce" || resp.Header.Get("DPoP-Nonce") == "" {
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		return resp, nil
	}
	d.mu.Lock()
	d.nonce = resp.Header.Get("DPoP-Nonce")
	d.mu.Unlock()
	d.retries.Add(1)
	r2, err := httpx.CloneForRetry(req)
	if err != nil {
		return nil, err
	}
	r2.Header.Set("DPoP", d.proof())
	return d.base.RoundTrip(r2)
}

// attempt is what the fake PAR endpoint saw of one request.
type attempt struct {
	form   url.Values
	header http.Header
}

// parServer is a fake PAR endpoint. Its handler records every attempt
// and then calls answer.
type parServer struct {
	*httptest.Server
	mu       sync.Mutex
	attempts []attempt
}

// newPARServer starts a loopback TLS PAR endpoint.
func newPARServer(t *testing.T, answer http.HandlerFunc) *parServer {
	t.Helper()
	s := newServer(answer)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// newPlainPARServer starts a loopback PAR endpoint without TLS, which is
// much cheaper under the race detector; its config sets
// InsecureAllowHTTP.
func newPlainPARServer(t *testing.T, answer http.HandlerFunc) *parServer {
	t.Helper()
	s := newServer(answer)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func newServer(answer http.HandlerFunc) *parServer {
	s := &parServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.attempts = append(s.attempts, attempt{form: r.PostForm, header: r.Header.Clone()})
		s.mu.Unlock()
		answer(w, r)
	}))
	return s
}

func (s *parServer) seen() []attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]attempt(nil), s.attempts...)
}

// config returns a Config for the server with its plain client: no
// transport adds credentials.
func (s *parServer) config() *par.Config {
	return &par.Config{
		Endpoint:          s.URL + "/as/par",
		ClientID:          clientID,
		HTTPClient:        s.Client(),
		Now:               fixedNow,
		InsecureAllowHTTP: s.TLS == nil,
	}
}

// created answers 201 with the RFC 9126 §2.2 response.
func created(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusCreated, `{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}`)
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	b, _ := json.Marshal(map[string]string{"error": code, "error_description": desc})
	writeJSON(w, status, string(b))
}

func pushParams() url.Values {
	return url.Values{
		"response_type":         {"code"},
		"redirect_uri":          {"https://client.example.org/cb"},
		"scope":                 {"account-information"},
		"state":                 {"af0ifjsldkj"},
		"code_challenge":        {"K2-ltc83acc4h0c9w6ESC_rEMTJ3bww-uCHaoeK1t8U"},
		"code_challenge_method": {"S256"},
	}
}

// authConfig returns a Config whose client authenticates every attempt
// with a; dpop, when true, puts a dpopLike transport above it.
func (s *parServer) authConfig(t testing.TB, withDPoP bool) (*par.Config, *authTransport, *dpopLike) {
	t.Helper()
	a := newAuthTransport(t, s.Client().Transport, s.URL)
	c := s.config()
	c.HTTPClient = &http.Client{Transport: a}
	if !withDPoP {
		return c, a, nil
	}
	d := &dpopLike{base: a}
	c.HTTPClient = &http.Client{Transport: d}
	return c, a, d
}
