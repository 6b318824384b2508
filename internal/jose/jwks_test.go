package jose

import (
	"context"
	"crypto"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/stretchr/testify/require"
)

// jwksServer is an authorization server's jwks_uri over TLS that can
// misbehave. Its Client trusts every httptest TLS server.
type jwksServer struct {
	*httptest.Server
	hits atomic.Int64

	mu      sync.Mutex
	status  int
	body    []byte
	gate    chan struct{} // when set, requests wait for it to close
	arrived chan struct{} // receives one value per request
	accept  string
}

func newJWKSServer(t *testing.T, keys ...*JWK) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK, arrived: make(chan struct{}, 1000)}
	s.setKeys(t, keys...)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.arrived <- struct{}{}
		s.mu.Lock()
		status, body, gate := s.status, s.body, s.gate
		s.accept = r.Header.Get("Accept")
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t *testing.T, keys ...*JWK) {
	t.Helper()
	b, err := MarshalJWKSet(keys)
	require.NoError(t, err)
	s.set(http.StatusOK, b)
}

func (s *jwksServer) set(status int, body []byte) {
	s.mu.Lock()
	s.status, s.body = status, body
	s.mu.Unlock()
}

func (s *jwksServer) hold() chan struct{} {
	g := make(chan struct{})
	s.mu.Lock()
	s.gate = g
	s.mu.Unlock()
	return g
}

func jwkOf(t *testing.T, k crypto.Signer, kid string) *JWK {
	t.Helper()
	j, err := NewJWK(k)
	require.NoError(t, err)
	j.KeyID = kid
	return j
}

// tokenFor signs a small token with k under kid.
func tokenFor(t *testing.T, k crypto.Signer, kid string) *JWS {
	t.Helper()
	s, err := NewSigner(k, SignerOptions{KeyID: kid})
	require.NoError(t, err)
	tok, err := s.Sign([]byte(`{"sub":"alice"}`))
	require.NoError(t, err)
	j, err := ParseCompact(tok)
	require.NoError(t, err)
	return j
}

func TestRemoteKeySetFetchAndCache(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwkOf(t, ecP256(), "k1"), jwkOf(t, edKey(), "k2"))
	clock := newClock()
	r := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clock.Now}
	for range 5 {
		keys, err := r.Keys(t.Context())
		require.NoError(t, err)
		require.Len(t, keys, 2)
	}
	require.EqualValues(t, 1, srv.hits.Load())
	srv.mu.Lock()
	require.Equal(t, jwksAccept, srv.accept)
	srv.mu.Unlock()

	for range 5 {
		k, err := tokenFor(t, ecP256(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
		require.NoError(t, err)
		require.Equal(t, "k1", k.KeyID)
	}
	require.EqualValues(t, 1, srv.hits.Load(), "known kids are served from the cache")
}

func TestRemoteKeySetRotation(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwkOf(t, ecP256(), "old"))
	clock := newClock()
	r := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clock.Now}
	require.NoError(t, r.Refresh(t.Context()))

	// The AS rotates: a new kid appears, the old one stays for a while.
	srv.setKeys(t, jwkOf(t, ecP256(), "old"), jwkOf(t, ecP256b(), "new"))
	clock.Advance(DefaultJWKSRefreshLimit)
	k, err := tokenFor(t, ecP256b(), "new").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.NoError(t, err)
	require.Equal(t, "new", k.KeyID)
	require.EqualValues(t, 2, srv.hits.Load())

	_, err = tokenFor(t, ecP256b(), "new").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.NoError(t, err)
	_, err = tokenFor(t, ecP256(), "old").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.NoError(t, err)
	require.EqualValues(t, 2, srv.hits.Load())

	// The old key is removed: after MaxAge it no longer verifies.
	srv.setKeys(t, jwkOf(t, ecP256b(), "new"))
	clock.Advance(DefaultJWKSMaxAge)
	_, err = tokenFor(t, ecP256b(), "new").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.NoError(t, err)
	_, err = tokenFor(t, ecP256(), "old").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.ErrorIs(t, err, ErrNoMatchingKey)
}

func TestRemoteKeySetUnknownKidRateLimit(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwkOf(t, ecP256(), "k1"))
	clock := newClock()
	r := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clock.Now, MinRefreshInterval: time.Minute}
	_, err := r.Keys(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 1, srv.hits.Load())

	// Right after a fetch, an unknown kid does not fetch again.
	for range 10 {
		_, err := tokenFor(t, ecP256b(), "random").VerifyWith(t.Context(), r, DefaultAlgorithms)
		require.ErrorIs(t, err, ErrNoMatchingKey)
		require.NotErrorIs(t, err, ErrJWKSFetch, "an attacker's kid is not an outage")
	}
	require.EqualValues(t, 1, srv.hits.Load())

	clock.Advance(time.Minute)
	for i := range 10 {
		_, err := tokenFor(t, ecP256b(), "random"+string(rune('a'+i))).VerifyWith(t.Context(), r, DefaultAlgorithms)
		require.ErrorIs(t, err, ErrNoMatchingKey)
	}
	require.EqualValues(t, 2, srv.hits.Load(), "one refresh per MinRefreshInterval")

	clock.Advance(59 * time.Second)
	_, err = tokenFor(t, ecP256b(), "again").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.ErrorIs(t, err, ErrNoMatchingKey)
	require.EqualValues(t, 2, srv.hits.Load())

	clock.Advance(time.Second)
	srv.setKeys(t, jwkOf(t, ecP256(), "k1"), jwkOf(t, ecP256b(), "again"))
	_, err = tokenFor(t, ecP256b(), "again").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.NoError(t, err)
	require.EqualValues(t, 3, srv.hits.Load())

	// A token without kid never triggers a refresh.
	clock.Advance(time.Hour - time.Second)
	_, err = tokenFor(t, rsa2048(), "").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.ErrorIs(t, err, ErrNoMatchingKey)
	require.EqualValues(t, 3, srv.hits.Load())
}

func TestRemoteKeySetOutageKeepsLastGood(t *testing.T) {
	t.Parallel()
	good := jwkOf(t, ecP256(), "k1")
	srv := newJWKSServer(t, good)
	clock := newClock()
	r := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clock.Now, MaxAge: 10 * time.Minute, MinRefreshInterval: time.Minute}
	require.NoError(t, r.Refresh(t.Context()))

	outages := []struct {
		name   string
		status int
		body   string
	}{
		{"HTTP 500", http.StatusInternalServerError, `oops`},
		{"HTTP 404", http.StatusNotFound, ``},
		{"garbage", http.StatusOK, `<html>maintenance</html>`},
		{"truncated JSON", http.StatusOK, `{"keys":[{"kty":"EC"`},
		{"no usable key", http.StatusOK, `{"keys":[{"kty":"oct"}]}`},
		{"empty set", http.StatusOK, `{"keys":[]}`},
		{"private key", http.StatusOK, `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`},
	}
	hits := srv.hits.Load()
	for _, o := range outages {
		srv.set(o.status, []byte(o.body))
		clock.Advance(10 * time.Minute) // the set is stale
		for range 3 {
			keys, err := r.Keys(t.Context())
			require.NoError(t, err, o.name)
			require.Len(t, keys, 1, o.name)
			_, err = tokenFor(t, ecP256(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
			require.NoError(t, err, o.name)
		}
		hits++
		require.Equal(t, hits, srv.hits.Load(), "%s: one attempt, then a pause of MinRefreshInterval", o.name)
		require.ErrorIs(t, r.Refresh(t.Context()), ErrJWKSFetch, o.name)
		hits++
	}

	// The AS comes back with a new key.
	srv.setKeys(t, jwkOf(t, ecP256b(), "k2"))
	clock.Advance(time.Minute)
	_, err := tokenFor(t, ecP256b(), "k2").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.NoError(t, err)
	_, err = tokenFor(t, ecP256(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.ErrorIs(t, err, ErrNoMatchingKey)
}

func TestRemoteKeySetFirstFetchFails(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t)
	srv.set(http.StatusServiceUnavailable, nil)
	clock := newClock()
	r := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clock.Now}
	_, err := r.Keys(t.Context())
	require.ErrorIs(t, err, ErrJWKSFetch)
	_, err = tokenFor(t, ecP256(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.ErrorIs(t, err, ErrJWKSFetch)
	require.EqualValues(t, 1, srv.hits.Load(), "failures are spaced")

	clock.Advance(jwksEmptyRetry)
	srv.setKeys(t, jwkOf(t, ecP256(), "k1"))
	_, err = tokenFor(t, ecP256(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.NoError(t, err)
	require.EqualValues(t, 2, srv.hits.Load())
}

func TestRemoteKeySetMaxAge(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwkOf(t, ecP256(), "k1"))
	clock := newClock()
	r := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clock.Now, MaxAge: 5 * time.Minute}
	_, err := r.Keys(t.Context())
	require.NoError(t, err)
	clock.Advance(5*time.Minute - time.Second)
	_, err = r.Keys(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 1, srv.hits.Load())

	srv.setKeys(t, jwkOf(t, ecP256(), "k1"), jwkOf(t, edKey(), "k2"))
	clock.Advance(time.Second)
	keys, err := r.Keys(t.Context())
	require.NoError(t, err)
	require.Len(t, keys, 2)
	require.EqualValues(t, 2, srv.hits.Load())
}

func TestRemoteKeySetSizeLimit(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwkOf(t, ecP256(), "k1"))
	body := srv.body
	tests := []struct {
		name string
		max  int64
		want error
	}{
		{"body over MaxBytes", int64(len(body)) - 1, httpx.ErrBodyTooLarge},
		{"body of exactly MaxBytes", int64(len(body)), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), MaxBytes: tc.max}
			_, err := r.Keys(t.Context())
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrJWKSFetch)
			require.ErrorIs(t, err, tc.want)
		})
	}
	t.Run("default limit", func(t *testing.T) {
		t.Parallel()
		big := newJWKSServer(t)
		big.set(http.StatusOK, []byte(`{"keys":[],"pad":"`+strings.Repeat("a", DefaultJWKSMaxBytes)+`"}`))
		_, err := (&RemoteKeySet{URL: big.URL, Client: big.Client()}).Keys(t.Context())
		require.ErrorIs(t, err, httpx.ErrBodyTooLarge)
	})
}

func TestRemoteKeySetSingleFetch(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwkOf(t, ecP256(), "k1"))
	gate := srv.hold()
	r := &RemoteKeySet{URL: srv.URL, Client: srv.Client()}
	const callers = 100
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	j := tokenFor(t, ecP256(), "k1")
	for range callers {
		wg.Go(func() {
			_, err := j.VerifyWith(context.Background(), r, DefaultAlgorithms)
			errs <- err
		})
	}
	<-srv.arrived
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, srv.hits.Load())
}

func TestRemoteKeySetCancelledCaller(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwkOf(t, ecP256(), "k1"))
	gate := srv.hold()
	r := &RemoteKeySet{URL: srv.URL, Client: srv.Client()}

	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() {
		_, err := r.Keys(ctxA)
		errA <- err
	}()
	<-srv.arrived // A's fetch is in flight

	resB := make(chan error, 1)
	j := tokenFor(t, ecP256(), "k1")
	go func() {
		_, err := j.VerifyWith(context.Background(), r, DefaultAlgorithms)
		resB <- err
	}()
	cancelA()
	err := <-errA
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, ErrJWKSFetch)

	close(gate)
	require.NoError(t, <-resB, "the fetch survives its starter's cancellation")
	require.EqualValues(t, 1, srv.hits.Load())
}

// TestRemoteKeySetNoRedirect is the attack of a jwks_uri that redirects
// (to plain http, or to another host) where the attacker publishes his own
// key: with a caller's client whose CheckRedirect is the default (follow up
// to ten redirects), the fetch must still fail, and the attacker's server
// must never be reached.
func TestRemoteKeySetNoRedirect(t *testing.T) {
	t.Parallel()
	attackerKey := jwkOf(t, ecP256b(), "k1")
	var plainHits atomic.Int64
	plainHTTP := httptest.NewServer(countHits(&plainHits, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b, _ := MarshalJWKSet([]*JWK{attackerKey})
		_, _ = w.Write(b)
	})))
	t.Cleanup(plainHTTP.Close)
	otherHost := newJWKSServer(t, attackerKey)

	cases := []struct {
		name   string
		target string
		status int
		hits   func() int64
	}{
		{"302 to http", plainHTTP.URL + "/jwks", http.StatusFound, plainHits.Load},
		{"301 to another host", strings.Replace(otherHost.URL, "127.0.0.1", "attacker.example.com", 1) + "/jwks", http.StatusMovedPermanently, otherHost.hits.Load},
		{"307 to another port", otherHost.URL + "/jwks", http.StatusTemporaryRedirect, otherHost.hits.Load},
		{"308 to the same server", "/other", http.StatusPermanentRedirect, func() int64 { return 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.hits()
			redirector := httptest.NewTLSServer(http.RedirectHandler(tc.target, tc.status))
			t.Cleanup(redirector.Close)
			caller := callerClient(redirector)
			require.Nil(t, caller.CheckRedirect, "the caller's client follows redirects")
			r := &RemoteKeySet{URL: redirector.URL + "/jwks", Client: caller}
			_, err := r.Keys(t.Context())
			require.ErrorIs(t, err, ErrJWKSFetch)
			_, err = tokenFor(t, ecP256b(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
			require.ErrorIs(t, err, ErrJWKSFetch, "a response signed by the attacker's key is refused")
			require.Equal(t, before, tc.hits(), "the redirect target is never reached")
			require.Nil(t, caller.CheckRedirect, "the caller's client is not modified")
		})
	}
}

// callerClient returns a client such as a caller passes: the default
// redirect policy, trusting srv's certificate (which httptest issues for
// 127.0.0.1 and *.example.com), and resolving every *.example.com name to
// 127.0.0.1, so that another host can be served on loopback.
func callerClient(srv *httptest.Server) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(host, ".example.com") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

func countHits(n *atomic.Int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	})
}

func TestRemoteKeySetTimeout(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwkOf(t, ecP256(), "k1"))
	gate := srv.hold()
	t.Cleanup(func() { close(gate) })
	_, err := (&RemoteKeySet{URL: srv.URL, Client: srv.Client(), Timeout: 50 * time.Millisecond}).Keys(t.Context())
	require.ErrorIs(t, err, ErrJWKSFetch)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestRemoteKeySetHTTPSOnly checks that a JWK Set is fetched over https
// only: a plain http jwks_uri, even on loopback and even when it serves
// valid keys, is refused without a request.
func TestRemoteKeySetHTTPSOnly(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	plain := httptest.NewServer(countHits(&hits, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b, _ := MarshalJWKSet([]*JWK{jwkOf(t, ecP256(), "k1")})
		_, _ = w.Write(b)
	})))
	t.Cleanup(plain.Close)
	for _, u := range []string{
		plain.URL + "/jwks", "", "jwks.json", "ftp://as.example/jwks", "https://", "http://[::1",
		"HTTP://as.example/jwks", "//as.example/jwks", "https://user:pass@as.example/jwks",
	} {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			_, err := (&RemoteKeySet{URL: u, Client: plain.Client()}).Keys(t.Context())
			require.ErrorIs(t, err, ErrJWKSFetch)
			require.ErrorIs(t, CheckJWKSURL(u), ErrJWKSFetch)
		})
	}
	require.NoError(t, CheckJWKSURL("https://as.example/jwks"))
	require.NoError(t, CheckJWKSURL("https://127.0.0.1:8443/jwks?v=1"))
	t.Cleanup(func() { require.Zero(t, hits.Load(), "no request over http") })
}

func TestRemoteKeySetRefreshFailureKeepsKeys(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwkOf(t, ecP256(), "k1"))
	clock := newClock()
	r := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clock.Now}
	require.NoError(t, r.Refresh(t.Context()))
	srv.set(http.StatusInternalServerError, nil)
	require.ErrorIs(t, r.Refresh(t.Context()), ErrJWKSFetch)
	// An unknown kid after a failure is rate-limited too.
	_, err := tokenFor(t, ecP256b(), "k9").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.ErrorIs(t, err, ErrNoMatchingKey)
	require.EqualValues(t, 2, srv.hits.Load())
	// Once allowed, the failed refresh is reported with the missing key.
	clock.Advance(DefaultJWKSRefreshLimit)
	_, err = tokenFor(t, ecP256b(), "k9").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.ErrorIs(t, err, ErrNoMatchingKey)
	require.ErrorIs(t, err, ErrJWKSFetch)
	_, err = tokenFor(t, ecP256(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
	require.NoError(t, err)
}

// An attacker who can block the jwks_uri must not keep a rotated-out key
// usable for ever: the last good set serves MaxAge + MaxStale at most.
func TestRemoteKeySetMaxStale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		maxAge, maxStale time.Duration
		limit            time.Duration // MaxAge + MaxStale in effect
	}{
		{"set", 10 * time.Minute, time.Hour, 70 * time.Minute},
		{"defaults", 0, 0, DefaultJWKSMaxAge + DefaultJWKSMaxStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newJWKSServer(t, jwkOf(t, ecP256(), "k1"))
			clock := newClock()
			r := &RemoteKeySet{URL: srv.URL, Client: srv.Client(), Now: clock.Now, MaxAge: tc.maxAge, MaxStale: tc.maxStale, MinRefreshInterval: time.Minute}
			require.NoError(t, r.Refresh(t.Context()))
			srv.set(http.StatusServiceUnavailable, nil) // the jwks_uri is blocked

			clock.Advance(tc.limit - time.Second)
			_, err := tokenFor(t, ecP256(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
			require.NoError(t, err, "within MaxAge + MaxStale the last good set serves")

			clock.Advance(time.Second)
			_, err = tokenFor(t, ecP256(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
			require.ErrorIs(t, err, ErrJWKSFetch, "past MaxAge + MaxStale the old set is refused")
			_, err = r.Keys(t.Context()) // during the pause after a failed fetch
			require.ErrorIs(t, err, ErrJWKSFetch)
			require.NotContains(t, err.Error(), "k1")

			// The server comes back: the next attempt after the pause recovers.
			srv.setKeys(t, jwkOf(t, ecP256(), "k1"))
			clock.Advance(time.Minute)
			_, err = tokenFor(t, ecP256(), "k1").VerifyWith(t.Context(), r, DefaultAlgorithms)
			require.NoError(t, err)
		})
	}
}
