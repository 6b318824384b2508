package phantom

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

func TestModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{"", ModeIntrospectionJWT, ModeJWT, ModeJSON} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			as := newFakeAS(t)
			as.active("opaque-1", map[string]any{"scope": "orders:read"})
			g := as.gateway(mode)
			gwKey := newKey(t)
			if mode == ModeJSON {
				g.Key = gwKey
				g.KeyID = "gw-1"
			}
			up := &upstream{}
			rec := serve(g.Wrap(up), request("GET", "/orders", "Bearer opaque-1"))
			require.Equal(t, http.StatusOK, rec.Code, rec.Header())
			require.Equal(t, 1, up.count())

			auth := up.headers.Get("Authorization")
			jwt, ok := strings.CutPrefix(auth, "Bearer ")
			require.True(t, ok)
			require.NotContains(t, auth, "opaque-1")
			j, err := jose.ParseCompact(jwt)
			require.NoError(t, err)
			switch mode {
			case "", ModeIntrospectionJWT:
				require.Equal(t, mediaIntrospectionJWT, as.lastAcc)
				require.Equal(t, typIntrospection, j.Header.Typ)
				require.NoError(t, j.Verify(as.key.Public(), []string{"ES256"}))
				p := jwtPayload(t, jwt)
				require.Equal(t, testClientID, p["aud"])
				require.Equal(t, "orders:read", p["token_introspection"].(map[string]any)["scope"])
			case ModeJWT:
				require.Equal(t, mediaJWT, as.lastAcc)
				require.Equal(t, typAccessToken, j.Header.Typ)
				require.NoError(t, j.Verify(as.key.Public(), []string{"ES256"}))
				require.Equal(t, testAudience, jwtPayload(t, jwt)["aud"])
			case ModeJSON:
				require.Equal(t, mediaJSON, as.lastAcc)
				require.Equal(t, typAccessToken, j.Header.Typ)
				require.Equal(t, "gw-1", j.Header.Kid)
				require.NoError(t, j.Verify(gwKey.Public(), []string{"ES256"}))
				p := jwtPayload(t, jwt)
				require.Equal(t, "orders:read", p["scope"])
				require.Equal(t, testIssuer, p["iss"])
				require.NotContains(t, p, "active")
				require.NotEmpty(t, p["jti"])
				exp, iat := p["exp"].(float64), p["iat"].(float64)
				require.InDelta(t, minTokenLifetime.Seconds(), exp-iat, 1)
				// The key set upstreams verify it with.
				jw := serve(g.JWKSHandler(), httptest.NewRequest("GET", "/jwks", nil))
				require.Equal(t, http.StatusOK, jw.Code)
				keys, err := jose.ParseJWKSet(jw.Body.Bytes())
				require.NoError(t, err)
				require.Len(t, keys, 1)
				require.Equal(t, "gw-1", keys[0].KeyID)
				require.NoError(t, j.Verify(keys[0], []string{"ES256"}))
			}
			// The form is RFC 7662 §2.1's, without credentials.
			require.Equal(t, []string{"opaque-1"}, as.lastForm["token"])
			require.Equal(t, []string{"access_token"}, as.lastForm["token_type_hint"])
			require.NotContains(t, as.lastForm, "client_secret")

			res := up.result
			require.NotNil(t, res)
			require.Equal(t, "Bearer", res.Scheme)
			require.Equal(t, jwt, res.JWT)
			require.False(t, res.Cached)
			require.Contains(t, string(res.Claims), "orders:read")

			// Inactive tokens: 401, in every mode.
			rec = serve(g.Wrap(up), request("GET", "/orders", "Bearer unknown"))
			require.Equal(t, http.StatusUnauthorized, rec.Code)
			require.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
			require.Equal(t, 1, up.count())
		})
	}
}

func TestJWKSHandler(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	g := as.gateway(ModeIntrospectionJWT)
	rec := serve(g.JWKSHandler(), httptest.NewRequest("GET", "/jwks", nil))
	require.Equal(t, http.StatusNotFound, rec.Code, "no key outside ModeJSON")

	g = as.gateway(ModeJSON)
	g.Key = newKey(t)
	rec = serve(g.JWKSHandler(), httptest.NewRequest("POST", "/jwks", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	rec = serve(g.JWKSHandler(), httptest.NewRequest("GET", "/jwks", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/jwk-set+json", rec.Header().Get("Content-Type"))
	keys, err := jose.ParseJWKSet(rec.Body.Bytes())
	require.NoError(t, err)
	tp, err := jose.Thumbprint(g.Key.Public())
	require.NoError(t, err)
	require.Equal(t, tp, keys[0].KeyID, "the default kid is the key's thumbprint")
	require.Equal(t, "ES256", keys[0].Algorithm)
	require.Equal(t, "sig", keys[0].Use)
}

func TestUpstreamHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		header   string
		wantName string
		bearer   bool
	}{
		{"default Authorization", "", "Authorization", true},
		{"custom header", "x-phantom-jwt", "X-Phantom-Jwt", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := newFakeAS(t)
			as.active("tok", nil)
			g := as.gateway(ModeIntrospectionJWT)
			g.UpstreamHeader = tc.header
			up := &upstream{}
			r := request("GET", "/", "Bearer tok")
			r.Header.Set("DPoP", "a.b.c")
			r.Header.Add("X-Phantom-Jwt", "forged.by.client")
			r.Header.Add("X-Phantom-Jwt", "forged.twice")
			r.Header.Set("X-Other", "kept")
			rec := serve(g.Wrap(up), r)
			require.Equal(t, http.StatusOK, rec.Code)
			require.Empty(t, up.headers.Values("DPoP"))
			require.Equal(t, "kept", up.headers.Get("X-Other"))
			vals := up.headers.Values(tc.wantName)
			require.Len(t, vals, 1, "exactly one upstream header, the gateway's")
			require.NotContains(t, vals[0], "forged")
			if tc.bearer {
				require.True(t, strings.HasPrefix(vals[0], "Bearer ey"))
			} else {
				require.True(t, strings.HasPrefix(vals[0], "ey"))
				require.Empty(t, up.headers.Values("Authorization"), "the opaque token never goes upstream")
				require.Empty(t, up.headers.Values("X-Phantom-Jwt")[1:])
			}
			// The client's request is not modified.
			require.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
			require.Equal(t, "a.b.c", r.Header.Get("DPoP"))
		})
	}
}

func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("tok", nil)
	g := as.gateway(ModeIntrospectionJWT)
	tests := []struct {
		name    string
		values  []string
		status  int
		reason  Reason
		err     error
		calledA bool // the AS is asked
	}{
		{"bearer", []string{"Bearer tok"}, 200, "", nil, true},
		{"lower-case scheme (RFC 9110 §11.1)", []string{"bearer tok"}, 200, "", nil, true},
		{"mixed-case scheme", []string{"BeArEr tok"}, 200, "", nil, true},
		{"no header", nil, 401, ReasonNoToken, ErrNoToken, false},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, 401, ReasonNoToken, ErrNoToken, false},
		{"two Authorization headers", []string{"Bearer tok", "Bearer tok"}, 400, ReasonInvalidRequest, ErrInvalidRequest, false},
		{"scheme alone", []string{"Bearer"}, 400, ReasonInvalidRequest, ErrInvalidRequest, false},
		{"space in token", []string{"Bearer a b"}, 400, ReasonInvalidRequest, ErrInvalidRequest, false},
		{"comma in token", []string{"Bearer a,b"}, 400, ReasonInvalidRequest, ErrInvalidRequest, false},
		{"1 MB token", []string{"Bearer " + strings.Repeat("a", 1<<20)}, 400, ReasonInvalidRequest, ErrInvalidRequest, false},
		{"token over MaxTokenBytes", []string{"Bearer " + strings.Repeat("a", DefaultMaxTokenBytes+1)}, 400, ReasonInvalidRequest, ErrInvalidRequest, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := request("GET", "/", "")
			for _, v := range tc.values {
				r.Header.Add("Authorization", v)
			}
			before := as.calls.Load()
			up := &upstream{}
			rec := serve(g.Wrap(up), r)
			require.Equal(t, tc.status, rec.Code)
			_, err := g.Verify(r)
			if tc.err == nil {
				require.NoError(t, err)
				require.Equal(t, 1, up.count())
				return
			}
			requireRefusal(t, err, tc.status, tc.reason, tc.err)
			require.Zero(t, up.count())
			require.Equal(t, before, as.calls.Load(), "bad input never reaches the AS")
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			ch, perr := oautherr.ParseChallenges(rec.Header().Get("WWW-Authenticate"))
			require.NoError(t, perr)
			b, ok := oautherr.Find(ch, "Bearer")
			require.True(t, ok)
			if tc.status == 401 {
				require.Empty(t, b.Get("error"), "no error code when no token was sent (RFC 6750 §3.1)")
			} else {
				require.Equal(t, CodeInvalidRequest, b.Get("error"))
			}
		})
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	advance := func(d time.Duration) { now.Add(int64(d)) }
	as.now = clock
	g := as.gateway(ModeIntrospectionJWT)
	g.Now = clock
	g.CacheTTL = time.Minute
	g.NegativeTTL = 5 * time.Second
	h := g.Wrap(&upstream{})

	t.Run("hit, then revoked token refused once the entry expires", func(t *testing.T) {
		as.active("revoked-later", nil)
		require.Equal(t, 200, serve(h, request("GET", "/", "Bearer revoked-later")).Code)
		calls := as.calls.Load()
		res, err := g.Verify(request("GET", "/", "Bearer revoked-later"))
		require.NoError(t, err)
		require.True(t, res.Cached)
		require.Equal(t, calls, as.calls.Load())
		as.revoke("revoked-later")
		advance(30 * time.Second)
		require.Equal(t, 200, serve(h, request("GET", "/", "Bearer revoked-later")).Code, "within CacheTTL the cached decision stands")
		advance(31 * time.Second)
		_, err = g.Verify(request("GET", "/", "Bearer revoked-later"))
		requireRefusal(t, err, 401, ReasonInactiveToken, ErrInactiveToken)
		require.Equal(t, calls+1, as.calls.Load())
	})

	t.Run("entry never outlives exp", func(t *testing.T) {
		as.active("short", map[string]any{"exp": clock().Add(10 * time.Second).Unix()})
		res, err := g.Verify(request("GET", "/", "Bearer short"))
		require.NoError(t, err)
		require.WithinDuration(t, time.Unix(clock().Add(10*time.Second).Unix(), 0), res.Expires, time.Second)
		calls := as.calls.Load()
		advance(11 * time.Second)
		// The AS now says expired (exp passed): the gateway asks again and refuses.
		_, err = g.Verify(request("GET", "/", "Bearer short"))
		requireRefusal(t, err, 401, ReasonInactiveToken, ErrInactiveToken)
		require.Equal(t, calls+1, as.calls.Load())
	})

	t.Run("a cached entry past exp is not used", func(t *testing.T) {
		k := [32]byte{1}
		_ = k
		as.active("stale", nil)
		res, err := g.Verify(request("GET", "/", "Bearer stale"))
		require.NoError(t, err)
		// A shared cache that returns an entry whose Expires has passed
		// (clock skew between replicas, a store that ignores TTLs).
		stale := &Entry{Active: true, Claims: res.Claims, JWT: res.JWT, Expires: clock().Add(-time.Second)}
		g2 := as.gateway(ModeIntrospectionJWT)
		g2.Now = clock
		g2.Cache = fixedCache{stale}
		calls := as.calls.Load()
		res2, err := g2.Verify(request("GET", "/", "Bearer stale"))
		require.NoError(t, err)
		require.False(t, res2.Cached)
		require.Equal(t, calls+1, as.calls.Load())
	})

	t.Run("inactive tokens are remembered briefly", func(t *testing.T) {
		calls := as.calls.Load()
		for range 3 {
			_, err := g.Verify(request("GET", "/", "Bearer never-issued"))
			requireRefusal(t, err, 401, ReasonInactiveToken, ErrInactiveToken)
		}
		require.Equal(t, calls+1, as.calls.Load())
		as.active("never-issued", nil) // issued later
		advance(6 * time.Second)
		_, err := g.Verify(request("GET", "/", "Bearer never-issued"))
		require.NoError(t, err)
		require.Equal(t, calls+2, as.calls.Load())
	})

	t.Run("caching can be disabled", func(t *testing.T) {
		g2 := as.gateway(ModeIntrospectionJWT)
		g2.Now = clock
		g2.CacheTTL = -1
		g2.NegativeTTL = -1
		as.active("nocache", nil)
		calls := as.calls.Load()
		for range 3 {
			_, err := g2.Verify(request("GET", "/", "Bearer nocache"))
			require.NoError(t, err)
			_, err = g2.Verify(request("GET", "/", "Bearer nocache-inactive"))
			require.ErrorIs(t, err, ErrInactiveToken)
		}
		require.Equal(t, calls+6, as.calls.Load())
	})
}

// fixedCache always returns its entry.
type fixedCache struct{ e *Entry }

func (f fixedCache) Get(context.Context, [32]byte) (*Entry, error) { return f.e, nil }
func (f fixedCache) Set(context.Context, [32]byte, *Entry) error   { return nil }

// failingCache fails every call.
type failingCache struct{}

func (failingCache) Get(context.Context, [32]byte) (*Entry, error) { return nil, io.ErrUnexpectedEOF }
func (failingCache) Set(context.Context, [32]byte, *Entry) error   { return io.ErrUnexpectedEOF }

func TestFailingCacheIsAMiss(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("tok", nil)
	g := as.gateway(ModeIntrospectionJWT)
	g.Cache = failingCache{}
	var logs logBuffer
	g.Logger = logs.logger()
	for range 2 {
		_, err := g.Verify(request("GET", "/", "Bearer tok"))
		require.NoError(t, err)
	}
	require.Equal(t, int64(2), as.calls.Load())
	require.Contains(t, logs.String(), "cache read failed")
	require.Contains(t, logs.String(), "cache write failed")
}

func TestConcurrentMissesShareOneIntrospection(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("hot", nil)
	release := make(chan struct{})
	as.setOverride(func(http.ResponseWriter, *http.Request) bool { <-release; return false })
	g := as.gateway(ModeIntrospectionJWT)
	var misses atomic.Int64
	g.Metrics.CacheMiss = func() { misses.Add(1) }
	const n = 1000
	h := g.Wrap(&upstream{})
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Go(func() { codes <- serve(h, request("GET", "/", "Bearer hot")).Code })
	}
	require.Eventually(t, func() bool { return misses.Load() == n }, 10*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		require.Equal(t, http.StatusOK, c)
	}
	require.Equal(t, int64(1), as.calls.Load(), "exactly one introspection")
}

func TestWaiterThatGivesUpDoesNotCancelOthers(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("slow", nil)
	release := make(chan struct{})
	as.setOverride(func(http.ResponseWriter, *http.Request) bool { <-release; return false })
	g := as.gateway(ModeIntrospectionJWT)
	var misses atomic.Int64
	g.Metrics.CacheMiss = func() { misses.Add(1) }

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := g.Verify(request("GET", "/", "Bearer slow").WithContext(ctx))
		first <- err
	}()
	second := make(chan error, 1)
	go func() {
		_, err := g.Verify(request("GET", "/", "Bearer slow"))
		second <- err
	}()
	require.Eventually(t, func() bool { return misses.Load() == 2 }, 5*time.Second, time.Millisecond)
	cancel()
	err := <-first
	requireRefusal(t, err, 503, ReasonIntrospectionFailed, ErrIntrospection)
	require.ErrorIs(t, err, context.Canceled)
	close(release)
	require.NoError(t, <-second)
	require.Equal(t, int64(1), as.calls.Load())
}

func TestFailClosed(t *testing.T) {
	t.Parallel()
	other := newKey(t)
	otherSigner, err := jose.NewSigner(other, jose.SignerOptions{KeyID: "as-key-1", Type: typIntrospection})
	require.NoError(t, err)
	sign := func(as *fakeAS, s *jose.Signer, claims map[string]any) string {
		v, err := s.SignJSON(claims)
		require.NoError(t, err)
		return v
	}
	good := func(as *fakeAS) map[string]any {
		return map[string]any{"iss": testIssuer, "aud": testClientID, "iat": time.Now().Unix(),
			"token_introspection": map[string]any{"active": true, "exp": time.Now().Add(time.Hour).Unix()}}
	}
	respond := func(ct, body string) func(*fakeAS) func(http.ResponseWriter, *http.Request) bool {
		return func(*fakeAS) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, _ *http.Request) bool {
				w.Header().Set("Content-Type", ct)
				_, _ = io.WriteString(w, body)
				return true
			}
		}
	}
	jwtWith := func(mod func(m map[string]any), s func(as *fakeAS) *jose.Signer) func(*fakeAS) func(http.ResponseWriter, *http.Request) bool {
		return func(as *fakeAS) func(http.ResponseWriter, *http.Request) bool {
			m := good(as)
			if mod != nil {
				mod(m)
			}
			signer := as.intro
			if s != nil {
				signer = s(as)
			}
			v := sign(as, signer, m)
			return respond(mediaIntrospectionJWT, v)(as)
		}
	}
	unsigned := func() string {
		h := `{"alg":"none","typ":"token-introspection+jwt"}`
		p, _ := json.Marshal(map[string]any{"iss": testIssuer, "aud": testClientID, "iat": time.Now().Unix(), "token_introspection": map[string]any{"active": true}})
		return b64(h) + "." + b64(string(p)) + "."
	}()
	tests := []struct {
		name    string
		mode    Mode
		handler func(*fakeAS) func(http.ResponseWriter, *http.Request) bool
		down    bool
		timeout time.Duration
		maxBody int64
		status  int
		reason  Reason
		err     error
	}{
		{name: "AS down", down: true, status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "slow past the deadline", timeout: 50 * time.Millisecond, handler: func(*fakeAS) func(http.ResponseWriter, *http.Request) bool {
			return func(_ http.ResponseWriter, r *http.Request) bool {
				_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client leaving
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return true
			}
		}, status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "500", handler: func(*fakeAS) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, _ *http.Request) bool { w.WriteHeader(500); return true }
		}, status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "401 from the AS (our credentials)", handler: func(*fakeAS) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, _ *http.Request) bool {
				oautherr.Write(w, &oautherr.Error{Code: "invalid_client", Status: 401})
				return true
			}
		}, status: 503, reason: ReasonIntrospectionFailed, err: &oautherr.Error{Code: "invalid_client"}},
		{name: "redirect", handler: func(as *fakeAS) func(http.ResponseWriter, *http.Request) bool {
			return func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path == "/elsewhere" {
					return false
				}
				http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
				return true
			}
		}, status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "non-JSON in json mode", mode: ModeJSON, handler: respond("text/html", "<html>"), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "JSON that does not parse", mode: ModeJSON, handler: respond("application/json", `{"active":true`), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "active not a boolean", mode: ModeJSON, handler: respond("application/json", `{"active":"true"}`), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "no active member", mode: ModeJSON, handler: respond("application/json", `{"scope":"a"}`), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "duplicate active", mode: ModeJSON, handler: respond("application/json", `{"active":false,"active":true}`), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "case variant of active", mode: ModeJSON, handler: respond("application/json", `{"active":false,"Active":true}`), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "oversized", mode: ModeJSON, maxBody: 1024, handler: respond("application/json", `{"active":true,"x":"`+strings.Repeat("a", 2048)+`"}`), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "JSON where a JWT was asked", handler: respond("application/json", `{"active":true}`), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "JSON active where the AT JWT was asked", mode: ModeJWT, handler: respond("application/json", `{"active":true}`), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "signed by another key", handler: jwtWith(nil, func(*fakeAS) *jose.Signer { return otherSigner }), status: 503, reason: ReasonInvalidResponse, err: jose.ErrInvalidSignature},
		{name: "wrong aud", handler: jwtWith(func(m map[string]any) { m["aud"] = "another-gateway" }, nil), status: 503, reason: ReasonInvalidResponse, err: jose.ErrAudience},
		{name: "wrong iss", handler: jwtWith(func(m map[string]any) { m["iss"] = "https://evil.example/" }, nil), status: 503, reason: ReasonInvalidResponse, err: jose.ErrIssuer},
		{name: "no iat", handler: jwtWith(func(m map[string]any) { delete(m, "iat") }, nil), status: 503, reason: ReasonInvalidResponse, err: jose.ErrMissingClaim},
		{name: "old iat", handler: jwtWith(func(m map[string]any) { m["iat"] = time.Now().Add(-time.Hour).Unix() }, nil), status: 503, reason: ReasonInvalidResponse, err: jose.ErrExpired},
		{name: "iat in the future", handler: jwtWith(func(m map[string]any) { m["iat"] = time.Now().Add(time.Hour).Unix() }, nil), status: 503, reason: ReasonInvalidResponse, err: jose.ErrNotYetValid},
		{name: "no token_introspection", handler: jwtWith(func(m map[string]any) { delete(m, "token_introspection") }, nil), status: 503, reason: ReasonInvalidResponse, err: ErrInvalidResponse},
		{name: "token_introspection not an object", handler: jwtWith(func(m map[string]any) { m["token_introspection"] = "active" }, nil), status: 503, reason: ReasonInvalidResponse, err: ErrInvalidResponse},
		{name: "token_introspection without active", handler: jwtWith(func(m map[string]any) { m["token_introspection"] = map[string]any{} }, nil), status: 503, reason: ReasonInvalidResponse, err: ErrInvalidResponse},
		{name: "alg none", handler: respond(mediaIntrospectionJWT, unsigned), status: 503, reason: ReasonInvalidResponse, err: jose.ErrAlgorithmNotAllowed},
		{name: "wrong typ", handler: func(as *fakeAS) func(http.ResponseWriter, *http.Request) bool {
			s, err := jose.NewSigner(as.key, jose.SignerOptions{KeyID: as.kid, Type: "JWT"})
			require.NoError(t, err)
			return jwtWith(nil, func(*fakeAS) *jose.Signer { return s })(as)
		}, status: 503, reason: ReasonInvalidResponse, err: jose.ErrType},
		{name: "an AT JWT where the introspection JWT was asked", handler: func(as *fakeAS) func(http.ResponseWriter, *http.Request) bool {
			return jwtWith(nil, func(as *fakeAS) *jose.Signer { return as.at })(as)
		}, status: 503, reason: ReasonInvalidResponse, err: jose.ErrType},
		{name: "wrong content type for the JWT", handler: respond("application/jwt", "a.b.c"), status: 503, reason: ReasonIntrospectionFailed, err: ErrIntrospection},
		{name: "a JWE", handler: respond(mediaIntrospectionJWT, "a.b.c.d.e"), status: 503, reason: ReasonInvalidResponse, err: ErrInvalidResponse},
		{name: "AT JWT signed by another key", mode: ModeJWT, handler: func(*fakeAS) func(http.ResponseWriter, *http.Request) bool {
			s, err := jose.NewSigner(other, jose.SignerOptions{KeyID: "as-key-1", Type: typAccessToken})
			require.NoError(t, err)
			v := sign(nil, s, map[string]any{"iss": testIssuer, "aud": testAudience, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
			return respond(mediaJWT, v)(nil)
		}, status: 503, reason: ReasonInvalidResponse, err: jose.ErrInvalidSignature},
		{name: "AT JWT from another issuer", mode: ModeJWT, handler: func(as *fakeAS) func(http.ResponseWriter, *http.Request) bool {
			v := sign(as, as.at, map[string]any{"iss": "https://evil.example/", "aud": testAudience, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
			return respond(mediaJWT, v)(as)
		}, status: 503, reason: ReasonInvalidResponse, err: jose.ErrIssuer},
		{name: "AT JWT without exp", mode: ModeJWT, handler: func(as *fakeAS) func(http.ResponseWriter, *http.Request) bool {
			v := sign(as, as.at, map[string]any{"iss": testIssuer, "aud": testAudience, "iat": time.Now().Unix()})
			return respond(mediaJWT, v)(as)
		}, status: 503, reason: ReasonInvalidResponse, err: jose.ErrMissingClaim},
		// Token problems: 401, cached negatively.
		{name: "AT JWT for another audience", mode: ModeJWT, handler: func(as *fakeAS) func(http.ResponseWriter, *http.Request) bool {
			v := sign(as, as.at, map[string]any{"iss": testIssuer, "aud": "https://other.example", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
			return respond(mediaJWT, v)(as)
		}, status: 401, reason: ReasonWrongAudience, err: ErrInvalidToken},
		{name: "AT JWT expired", mode: ModeJWT, handler: func(as *fakeAS) func(http.ResponseWriter, *http.Request) bool {
			v := sign(as, as.at, map[string]any{"iss": testIssuer, "aud": testAudience, "iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()})
			return respond(mediaJWT, v)(as)
		}, status: 401, reason: ReasonInactiveToken, err: ErrInactiveToken},
		{name: "AT JWT not yet valid", mode: ModeJWT, handler: func(as *fakeAS) func(http.ResponseWriter, *http.Request) bool {
			v := sign(as, as.at, map[string]any{"iss": testIssuer, "aud": testAudience, "iat": time.Now().Unix(), "nbf": time.Now().Add(time.Hour).Unix(), "exp": time.Now().Add(2 * time.Hour).Unix()})
			return respond(mediaJWT, v)(as)
		}, status: 401, reason: ReasonInvalidToken, err: ErrInvalidToken},
		{name: "refresh token introspected", mode: ModeJSON, handler: respond("application/json", `{"active":true,"token_type":"refresh_token"}`), status: 401, reason: ReasonInvalidToken, err: ErrInvalidToken},
		{name: "another issuer's token", mode: ModeJSON, handler: respond("application/json", `{"active":true,"iss":"https://evil.example/","aud":"`+testAudience+`"}`), status: 401, reason: ReasonInvalidToken, err: ErrInvalidToken},
		{name: "another audience's token", mode: ModeJSON, handler: respond("application/json", `{"active":true,"aud":"https://other.example"}`), status: 401, reason: ReasonWrongAudience, err: ErrInvalidToken},
		{name: "token without aud", mode: ModeJSON, handler: respond("application/json", `{"active":true}`), status: 401, reason: ReasonWrongAudience, err: ErrInvalidToken},
		{name: "exp passed", mode: ModeJSON, handler: respond("application/json", `{"active":true,"aud":"`+testAudience+`","exp":1000}`), status: 401, reason: ReasonInactiveToken, err: ErrInactiveToken},
		{name: "not yet valid", mode: ModeJSON, handler: respond("application/json", `{"active":true,"aud":"`+testAudience+`","nbf":99999999999}`), status: 401, reason: ReasonInvalidToken, err: ErrInvalidToken},
		{name: "inactive", mode: ModeJSON, handler: respond("application/json", `{"active":false}`), status: 401, reason: ReasonInactiveToken, err: ErrInactiveToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := newFakeAS(t)
			if tc.handler != nil {
				as.setOverride(tc.handler(as))
			}
			mode := tc.mode
			g := as.gateway(mode)
			if mode == ModeJSON {
				g.Key = newKey(t)
			}
			if tc.timeout != 0 {
				g.Timeout = tc.timeout
			}
			g.MaxResponseBytes = tc.maxBody
			if tc.down {
				as.srv.Close()
			}
			up := &upstream{}
			h := g.Wrap(up)
			rec := serve(h, request("GET", "/", "Bearer tok"))
			require.Equal(t, tc.status, rec.Code)
			require.Zero(t, up.count(), "never a pass-through")
			_, err := g.Verify(request("GET", "/", "Bearer tok"))
			requireRefusal(t, err, tc.status, tc.reason, tc.err)
			var he *Error
			require.ErrorAs(t, err, &he)
			calls := as.calls.Load()
			if tc.status == 503 {
				require.Equal(t, "5", rec.Header().Get("Retry-After"))
				require.Empty(t, rec.Header().Get("WWW-Authenticate"))
				// Never a cached success, nor a cached failure: the next
				// request asks again.
				_, err = g.Verify(request("GET", "/", "Bearer tok"))
				require.Error(t, err)
				if !tc.down && tc.timeout == 0 { // a short deadline may end before the handler runs
					require.Greater(t, as.calls.Load(), calls)
				}
			} else {
				require.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
				_, err = g.Verify(request("GET", "/", "Bearer tok"))
				require.Error(t, err)
				require.Equal(t, calls, as.calls.Load(), "token problems are remembered")
			}
		})
	}
}

func TestLogsAndErrorsNeverHoldTheToken(t *testing.T) {
	t.Parallel()
	const token = "SECRET-opaque-token-value"
	as := newFakeAS(t)
	as.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		_ = r.ParseForm()
		oautherr.Write(w, &oautherr.Error{Code: "invalid_request", Description: "bad token " + r.PostForm.Get("token"), Status: 400})
		return true
	})
	var logs logBuffer
	g := as.gateway(ModeIntrospectionJWT)
	g.Logger = logs.logger()
	var seen []error
	var mu sync.Mutex
	g.OnError = func(_ *http.Request, err error) { mu.Lock(); seen = append(seen, err); mu.Unlock() }
	rec := serve(g.Wrap(&upstream{}), request("GET", "/", "Bearer "+token))
	require.Equal(t, 503, rec.Code)
	as.setOverride(nil)
	as.active(token, map[string]any{"aud": "https://other.example"})
	g2 := as.gateway(ModeIntrospectionJWT)
	g2.Logger = logs.logger()
	g2.OnError = g.OnError
	serve(g2.Wrap(&upstream{}), request("GET", "/", "Bearer "+token))
	serve(g2.Wrap(&upstream{}), request("GET", "/", "DPoP "+token))
	require.NotEmpty(t, logs.String())
	require.NotContains(t, logs.String(), token)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 3)
	for _, err := range seen {
		require.NotContains(t, err.Error(), token)
	}
	require.ErrorAs(t, seen[0], new(*oautherr.Error))
}

// TestIntrospectionErrorNeverEchoesTheToken: an introspection error that
// echoes the token, whole, cut, form-encoded or in its code, reaches
// neither the logs nor the error given to OnError, even for a token longer
// than the 1 KiB an error description is bounded to.
func TestIntrospectionErrorNeverEchoesTheToken(t *testing.T) {
	t.Parallel()
	long := "SECRET" + strings.Repeat("x7Qz", 400) // 1606 bytes, a valid b64token
	slashes := "SECRET/" + strings.Repeat("a+b/", 300) + "=="
	tests := []struct {
		name  string
		token string
		echo  func(form string) *oautherr.Error // tok: the token the server received
		oauth bool                              // the OAuth error is kept (without the echo)
	}{
		{name: "long token echoed whole", token: long, oauth: true,
			echo: func(tok string) *oautherr.Error {
				return &oautherr.Error{Code: "invalid_request", Description: "bad token " + tok}
			}},
		{name: "long token echoed cut", token: long, oauth: true,
			echo: func(tok string) *oautherr.Error {
				return &oautherr.Error{Code: "invalid_request", Description: "bad token " + tok[:300]}
			}},
		{name: "token echoed form-encoded", token: slashes, oauth: true,
			echo: func(tok string) *oautherr.Error {
				return &oautherr.Error{Code: "invalid_request", Description: "bad token " + url.QueryEscape(tok)}
			}},
		{name: "token echoed in the error code", token: long, oauth: false,
			echo: func(tok string) *oautherr.Error {
				return &oautherr.Error{Code: "bad_" + tok[:64], Description: "bad token"}
			}},
		{name: "token echoed in the error URI", token: long, oauth: true,
			echo: func(tok string) *oautherr.Error {
				return &oautherr.Error{Code: "invalid_request", URI: "https://as.example/e?t=" + tok[:100]}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := newFakeAS(t)
			as.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
				_ = r.ParseForm()
				e := tc.echo(r.PostForm.Get("token"))
				e.Status = http.StatusBadRequest
				oautherr.Write(w, e)
				return true
			})
			var logs logBuffer
			g := as.gateway(ModeIntrospectionJWT)
			g.Logger = logs.logger()
			var seen error
			g.OnError = func(_ *http.Request, err error) { seen = err }
			rec := serve(g.Wrap(&upstream{}), request("GET", "/", "Bearer "+tc.token))
			require.Equal(t, http.StatusServiceUnavailable, rec.Code)
			require.ErrorIs(t, seen, ErrIntrospection)
			// The server's error (HTTP 400) is in the chain unless its
			// code held the token.
			require.Equal(t, tc.oauth, errors.Is(seen, &oautherr.Error{Status: http.StatusBadRequest}))
			require.NotEmpty(t, logs.String())
			for _, form := range []string{tc.token, url.QueryEscape(tc.token)} {
				for i := 0; i+16 <= len(form); i += 8 {
					piece := form[i : i+16]
					require.NotContains(t, seen.Error(), piece, "the error holds a piece of the token")
					require.NotContains(t, logs.String(), piece, "the logs hold a piece of the token")
				}
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("tok", nil)
	g := as.gateway(ModeIntrospectionJWT)
	var hits, misses, intros, fails atomic.Int64
	var mu sync.Mutex
	reasons := map[Reason]int{}
	g.Metrics = Metrics{
		CacheHit:  func() { hits.Add(1) },
		CacheMiss: func() { misses.Add(1) },
		Introspection: func(d time.Duration, err error) {
			intros.Add(1)
			if err != nil {
				fails.Add(1)
			}
		},
		Rejection: func(r Reason) { mu.Lock(); reasons[r]++; mu.Unlock() },
	}
	h := g.Wrap(&upstream{})
	serve(h, request("GET", "/", "Bearer tok"))
	serve(h, request("GET", "/", "Bearer tok"))
	serve(h, request("GET", "/", "Bearer nope"))
	serve(h, request("GET", "/", ""))
	require.Equal(t, int64(1), hits.Load())
	require.Equal(t, int64(2), misses.Load())
	require.Equal(t, int64(2), intros.Load())
	require.Zero(t, fails.Load())
	require.Equal(t, map[Reason]int{ReasonInactiveToken: 1, ReasonNoToken: 1}, reasons)
}

func TestMemoryCacheLRU(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c := &MemoryCache{MaxEntries: 3, Now: func() time.Time { return now }}
	ctx := context.Background()
	e := func(s string) *Entry { return &Entry{Active: true, JWT: s, Expires: now.Add(time.Hour)} }
	for i := range byte(3) {
		require.NoError(t, c.Set(ctx, [32]byte{i}, e(string('a'+i))))
	}
	got, err := c.Get(ctx, [32]byte{0}) // 0 is now the most recently used
	require.NoError(t, err)
	require.Equal(t, "a", got.JWT)
	require.NoError(t, c.Set(ctx, [32]byte{3}, e("d")))
	require.Equal(t, 3, c.Len())
	got, err = c.Get(ctx, [32]byte{1})
	require.NoError(t, err)
	require.Nil(t, got, "the least recently used entry was evicted")
	for _, k := range []byte{0, 2, 3} {
		got, err = c.Get(ctx, [32]byte{k})
		require.NoError(t, err)
		require.NotNil(t, got)
	}
	require.NoError(t, c.Set(ctx, [32]byte{9}, nil))
	require.Equal(t, 3, c.Len())
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("tok", nil)
	g := as.gateway(ModeJSON)
	g.Key = newKey(t)
	res, err := g.Verify(request("GET", "/", "Bearer tok"))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(DefaultCacheTTL), res.Expires, 2*time.Second)
	p := jwtPayload(t, res.JWT)
	require.InDelta(t, float64(time.Now().Add(minTokenLifetime).Unix()), p["exp"], 2)

	g = as.gateway(ModeJSON)
	g.Key = newKey(t)
	g.CacheTTL = 5 * time.Minute
	res, err = g.Verify(request("GET", "/", "Bearer tok"))
	require.NoError(t, err)
	p = jwtPayload(t, res.JWT)
	require.InDelta(t, float64(time.Now().Add(10*time.Minute).Unix()), p["exp"], 2, "twice CacheTTL")

	// The JWT never outlives the token.
	as.active("short", map[string]any{"exp": time.Now().Add(30 * time.Second).Unix()})
	res, err = g.Verify(request("GET", "/", "Bearer short"))
	require.NoError(t, err)
	require.InDelta(t, float64(time.Now().Add(30*time.Second).Unix()), jwtPayload(t, res.JWT)["exp"], 2)
}

func TestMaxIntrospections(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("a", nil)
	as.active("b", nil)
	release := make(chan struct{})
	as.setOverride(func(http.ResponseWriter, *http.Request) bool { <-release; return false })
	g := as.gateway(ModeIntrospectionJWT)
	g.MaxIntrospections = 1
	first := make(chan error, 1)
	go func() { _, err := g.Verify(request("GET", "/", "Bearer a")); first <- err }()
	require.Eventually(t, func() bool { return as.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	_, err := g.Verify(request("GET", "/", "Bearer b"))
	requireRefusal(t, err, 503, ReasonIntrospectionFailed, ErrIntrospection)
	close(release)
	require.NoError(t, <-first)
	_, err = g.Verify(request("GET", "/", "Bearer b"))
	require.NoError(t, err, "the slot is free again")
}

// A client that names the upstream header in its Connection field must not
// get a reverse proxy to strip the gateway's JWT as a hop-by-hop field
// (RFC 9110 §7.6.1): the upstream would see an unauthenticated request that
// the gateway admitted.
func TestConnectionCannotStripUpstreamHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, upstreamHeader, connection string }{
		{"Authorization", "", "Authorization"},
		{"custom header", "X-Phantom-Jwt", "keep-alive, x-phantom-jwt"},
		{"several fields", "", "close,  AUTHORIZATION ,Dpop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			as := newFakeAS(t)
			as.active("tok", nil)
			g := as.gateway(ModeIntrospectionJWT)
			g.UpstreamHeader = tc.upstreamHeader
			up := &upstream{}
			back := httptest.NewServer(up)
			t.Cleanup(back.Close)
			target, err := url.Parse(back.URL)
			require.NoError(t, err)
			r := request("GET", "/", "Bearer tok")
			r.Header.Set("Connection", tc.connection)
			r.Header.Set("X-Hop", "dropped")
			r.Header.Add("Connection", "X-Hop")
			rec := serve(g.Wrap(httputil.NewSingleHostReverseProxy(target)), r)
			require.Equal(t, http.StatusOK, rec.Code)
			want := tc.upstreamHeader
			if want == "" {
				want = "Authorization"
			}
			vals := up.headers.Values(want)
			require.Len(t, vals, 1, "the gateway's JWT reaches the upstream")
			require.Contains(t, vals[0], "ey")
			require.Empty(t, up.headers.Values("X-Hop"), "other hop-by-hop fields the client names are still removed")
		})
	}
}

// One failed introspection answers every request that waited for it; each
// refusal must still be that request's own (its scheme), and building them
// must not race (go test -race).
func TestSharedFailureIsCopiedPerRequest(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	release := make(chan struct{})
	as.setOverride(func(w http.ResponseWriter, _ *http.Request) bool {
		<-release
		w.WriteHeader(http.StatusInternalServerError)
		return true
	})
	g := as.gateway(ModeIntrospectionJWT)
	var misses atomic.Int64
	g.Metrics.CacheMiss = func() { misses.Add(1) }
	const n = 100
	type got struct {
		scheme string
		err    error
	}
	results := make(chan got, n)
	var wg sync.WaitGroup
	for i := range n {
		scheme := []string{"Bearer", "DPoP"}[i%2]
		wg.Go(func() {
			_, err := g.Verify(request("GET", "/", scheme+" shared-failure"))
			results <- got{scheme, err}
		})
	}
	require.Eventually(t, func() bool { return misses.Load() == n }, 10*time.Second, time.Millisecond)
	close(release)
	wg.Wait()
	close(results)
	for r := range results {
		e := requireRefusal(t, r.err, http.StatusServiceUnavailable, ReasonIntrospectionFailed, ErrIntrospection)
		require.Equal(t, r.scheme, e.Scheme, "each refusal carries its own request's scheme")
	}
	require.Equal(t, int64(1), as.calls.Load(), "one introspection for all")
}

// A refresh token is not an access token, whatever member says so:
// Ory Hydra introspects one as active with token_type "Bearer", the
// access token's audience and token_use "refresh_token"; Keycloak with typ
// "Refresh" (or "Offline"). Refresh tokens of confidential clients are not
// sender-constrained (RFC 9449 §5), so a gateway admitting unbound tokens
// would take a long-lived, stolen refresh token as an access token.
func TestRefreshTokenIsNotAnAccessToken(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeIntrospectionJWT, ModeJSON} {
		for _, tc := range []struct {
			name   string
			claims map[string]any
			ok     bool
		}{
			{"token_use refresh_token (Ory Hydra)", map[string]any{"token_use": "refresh_token"}, false},
			{"token_use id_token", map[string]any{"token_use": "id_token"}, false},
			{"token_use of another case", map[string]any{"token_use": "Refresh_Token"}, false},
			{"typ Refresh (Keycloak)", map[string]any{"typ": "Refresh"}, false},
			{"typ Offline (Keycloak offline token)", map[string]any{"typ": "Offline"}, false},
			{"token_use access_token", map[string]any{"token_use": "access_token"}, true},
			{"token_use access (Amazon Cognito)", map[string]any{"token_use": "access"}, true},
			{"typ Bearer", map[string]any{"typ": "Bearer"}, true},
		} {
			t.Run(string(mode)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				as := newFakeAS(t)
				as.active("tok", tc.claims)
				g := as.gateway(mode)
				if mode == ModeJSON {
					g.Key = newKey(t)
				}
				up := &upstream{}
				rec := serve(g.Wrap(up), request("GET", "/", "Bearer tok"))
				if tc.ok {
					require.Equal(t, http.StatusOK, rec.Code)
					require.Equal(t, 1, up.count())
					return
				}
				require.Equal(t, http.StatusUnauthorized, rec.Code)
				require.Zero(t, up.count(), "the upstream never sees it")
				_, err := g.Verify(request("GET", "/", "Bearer tok"))
				requireRefusal(t, err, http.StatusUnauthorized, ReasonInvalidToken, ErrInvalidToken)
			})
		}
	}
}
