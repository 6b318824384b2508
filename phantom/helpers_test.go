package phantom

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
)

const (
	testIssuer   = "https://as.example.com/"
	testClientID = "gateway-client"
	testAudience = "https://api.example.com"
	testBaseURL  = "https://api.example.com"
)

// fakeAS is an introspection endpoint whose answers the tests control.
type fakeAS struct {
	srv      *httptest.Server
	key      *ecdsa.PrivateKey
	kid      string
	intro    *jose.Signer // typ token-introspection+jwt
	at       *jose.Signer // typ at+jwt
	calls    atomic.Int64
	mu       sync.Mutex
	tokens   map[string]map[string]any
	override func(w http.ResponseWriter, r *http.Request) bool // true: handled
	lastForm map[string][]string
	lastAcc  string
	now      func() time.Time
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func newFakeAS(t testing.TB) *fakeAS {
	t.Helper()
	as := &fakeAS{key: newKey(t), kid: "as-key-1", tokens: map[string]map[string]any{}, now: time.Now}
	var err error
	as.intro, err = jose.NewSigner(as.key, jose.SignerOptions{KeyID: as.kid, Type: typIntrospection})
	require.NoError(t, err)
	as.at, err = jose.NewSigner(as.key, jose.SignerOptions{KeyID: as.kid, Type: typAccessToken})
	require.NoError(t, err)
	as.srv = httptest.NewUnstartedServer(http.HandlerFunc(as.serve))
	as.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by timeouts
	as.srv.StartTLS()
	t.Cleanup(as.srv.Close)
	return as
}

// active registers token as active with the given extra claims.
func (as *fakeAS) active(token string, extra map[string]any) {
	now := as.now()
	body := map[string]any{
		"active": true, "iss": testIssuer, "aud": testAudience, "client_id": "client-1",
		"sub": "user-1", "scope": "read write", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"token_type": "Bearer",
	}
	maps.Copy(body, extra)
	for k, v := range extra {
		if v == nil {
			delete(body, k)
		}
	}
	as.mu.Lock()
	as.tokens[token] = body
	as.mu.Unlock()
}

func (as *fakeAS) revoke(token string) {
	as.mu.Lock()
	delete(as.tokens, token)
	as.mu.Unlock()
}

func (as *fakeAS) setOverride(f func(w http.ResponseWriter, r *http.Request) bool) {
	as.mu.Lock()
	as.override = f
	as.mu.Unlock()
}

func (as *fakeAS) serve(w http.ResponseWriter, r *http.Request) {
	as.calls.Add(1)
	as.mu.Lock()
	ov := as.override
	as.mu.Unlock()
	if ov != nil && ov(w, r) {
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	token := r.PostForm.Get("token")
	as.mu.Lock()
	as.lastForm = r.PostForm
	as.lastAcc = r.Header.Get("Accept")
	body, ok := as.tokens[token]
	as.mu.Unlock()
	if !ok {
		body = map[string]any{"active": false}
	}
	switch r.Header.Get("Accept") {
	case mediaIntrospectionJWT:
		v, err := as.intro.SignJSON(map[string]any{"iss": testIssuer, "aud": testClientID, "iat": as.now().Unix(), "jti": "r1", "token_introspection": body})
		if err != nil {
			panic(err)
		}
		w.Header().Set("Content-Type", mediaIntrospectionJWT)
		_, _ = w.Write([]byte(v))
	case mediaJWT:
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"active":false}`))
			return
		}
		cl := maps.Clone(body)
		delete(cl, "active")
		delete(cl, "token_type")
		v, err := as.at.SignJSON(cl)
		if err != nil {
			panic(err)
		}
		w.Header().Set("Content-Type", mediaJWT)
		_, _ = w.Write([]byte(v))
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}
}

// gateway returns a gateway in front of as, in mode, with static keys.
func (as *fakeAS) gateway(mode Mode) *Gateway {
	return &Gateway{
		IntrospectionURL:     as.srv.URL + "/introspect",
		HTTPClient:           as.srv.Client(),
		Mode:                 mode,
		Issuer:               testIssuer,
		ClientID:             testClientID,
		Audience:             testAudience,
		Keys:                 []VerificationKey{{KeyID: as.kid, Key: as.key.Public()}},
		InsecureAllowUnbound: true,
		// Well above DefaultTimeout: a TLS handshake under -race on a busy
		// machine can take seconds; the tests of the deadline set their own.
		Timeout: 30 * time.Second,
	}
}

// upstream records what reaches it.
type upstream struct {
	mu      sync.Mutex
	calls   int
	headers http.Header
	result  *Result
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.calls++
	u.headers = r.Header.Clone()
	u.result, _ = FromContext(r.Context())
	u.mu.Unlock()
	_, _ = w.Write([]byte("upstream"))
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.calls
}

// request builds a request to the gateway's external URL.
func request(method, target, auth string) *http.Request {
	r := httptest.NewRequest(method, testBaseURL+target, nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

// serve runs h for r and returns the recorder.
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// logBuffer is a slog handler target safe for concurrent writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// errorAs asserts that err is an *Error with the given status and reason.
func requireRefusal(t *testing.T, err error, status int, reason Reason, sentinel error) *Error {
	t.Helper()
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, status, e.Status)
	require.Equal(t, reason, e.Reason)
	if sentinel != nil {
		require.ErrorIs(t, err, sentinel)
	}
	return e
}

func jwtPayload(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	j, err := jose.ParseCompact(jwt)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(j.Payload, &m))
	return m
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
