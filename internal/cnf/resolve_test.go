package cnf_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// keySet is a JWK Set host over TLS that can misbehave. Its client sends
// every host name to it, so that a test can use the RFC's URLs.
type keySet struct {
	srv  *httptest.Server
	hits atomic.Int64

	mu       sync.Mutex
	status   int
	body     []byte
	location string
}

func newKeySet(t testing.TB, keys ...*jose.JWK) *keySet {
	t.Helper()
	s := &keySet{}
	s.serve(t, keys...)
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		status, body, loc := s.status, s.body, s.location
		s.mu.Unlock()
		if loc != "" {
			w.Header().Set("Location", loc)
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// serve makes the host answer with the set of keys.
func (s *keySet) serve(t testing.TB, keys ...*jose.JWK) {
	t.Helper()
	b, err := jose.MarshalJWKSet(keys)
	require.NoError(t, err)
	s.answer(http.StatusOK, b, "")
}

func (s *keySet) answer(status int, body []byte, location string) {
	s.mu.Lock()
	s.status, s.body, s.location = status, body, location
	s.mu.Unlock()
}

// client returns a client that reaches the host whatever the URL's host,
// verifying its certificate (issued for example.com).
func (s *keySet) client(t testing.TB) *http.Client {
	t.Helper()
	tr := s.srv.Client().Transport.(*http.Transport).Clone()
	addr := s.srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig = tr.TLSClientConfig.Clone()
	tr.TLSClientConfig.ServerName = "example.com"
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func ecKey(t testing.TB, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	return k
}

func jwkOf(t testing.TB, pub crypto.PublicKey, kid, use string) *jose.JWK {
	t.Helper()
	j, err := jose.NewJWK(pub)
	require.NoError(t, err)
	j.KeyID, j.Use = kid, use
	return j
}

func setJSON(t testing.TB, keys ...*jose.JWK) []byte {
	t.Helper()
	b, err := jose.MarshalJWKSet(keys)
	require.NoError(t, err)
	return b
}

func thumb(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	tp, err := jose.Thumbprint(pub)
	require.NoError(t, err)
	return tp
}

// resolves checks that r resolves c to want.
func resolves(t *testing.T, r *cnf.Resolver, c cnf.Confirmation, want crypto.PublicKey) {
	t.Helper()
	pub, err := r.Resolve(context.Background(), c)
	require.NoError(t, err)
	require.Equal(t, thumb(t, want), thumb(t, pub))
}

// The RFC 7800 §3.5 JWK Set URL and kid.
const (
	jkuRFC    = "https://keys.example.net/pop-keys.json"
	kidRFCJKU = "2015-08-28"
)

// TestResolveRFC7800 resolves the keys of the §3.4 and §3.5 examples: the
// claims are the RFC's, the keys are generated (the RFC gives none).
func TestResolveRFC7800(t *testing.T) {
	t.Parallel()
	v := load(t)
	regKey := ecKey(t, elliptic.P256())
	setKey := ecKey(t, elliptic.P256())
	host := newKeySet(t, jwkOf(t, setKey.Public(), kidRFCJKU, "sig"), jwkOf(t, ecKey(t, elliptic.P256()).Public(), "other", ""))
	r, err := cnf.NewResolver(cnf.ResolverConfig{
		JWKS:       setJSON(t, jwkOf(t, regKey.Public(), kid7800, "")),
		JKUs:       []string{jkuRFC},
		HTTPClient: host.client(t),
	})
	require.NoError(t, err)

	for _, tc := range []struct {
		name   string
		claims json.RawMessage
		want   crypto.PublicKey
		target cnf.KeyTarget
	}{
		{name: "§3.4 kid", claims: v.KID, want: regKey.Public(), target: cnf.TargetPresented},
		{name: "§3.5 jku and kid", claims: v.JKU, want: setKey.Public(), target: cnf.TargetPresented},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cnf.FromClaims(tc.claims)
			require.NoError(t, err)
			require.Equal(t, tc.target, c.KIDTarget())
			pub, err := r.Resolve(context.Background(), c)
			require.NoError(t, err)
			require.Equal(t, thumb(t, tc.want), thumb(t, pub))
			jkt, err := cnf.ResolvedThumbprint(c, pub)
			require.NoError(t, err)
			require.NoError(t, cnf.SameKey(pub, jkt, tc.want, ""))
		})
	}
	require.EqualValues(t, 1, host.hits.Load())
}

// TestResolveRefused: every bad input of a kid or jku, with its typed
// error.
func TestResolveRefused(t *testing.T) {
	t.Parallel()
	k1 := ecKey(t, elliptic.P256())
	k2 := ecKey(t, elliptic.P256())
	host := newKeySet(t,
		jwkOf(t, k1.Public(), "one", ""),
		jwkOf(t, k1.Public(), "twice", "sig"), jwkOf(t, k2.Public(), "twice", ""),
		jwkOf(t, k2.Public(), "enc-only", "enc"),
	)
	const jku = "https://keys.example.net/pop-keys.json"
	r, err := cnf.NewResolver(cnf.ResolverConfig{
		JWKS: setJSON(t,
			jwkOf(t, k1.Public(), "reg", ""),
			jwkOf(t, k1.Public(), "dup", ""), jwkOf(t, k2.Public(), "dup", "sig"),
			jwkOf(t, k2.Public(), "enc", "enc"),
		),
		JKUs:       []string{jku},
		HTTPClient: host.client(t),
	})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		cnf  string
		want error
	}{
		{name: "kid the resolver does not know", cnf: `{"kid":"nobody"}`, want: cnf.ErrUnknownKey},
		{name: "kid of an encryption key only", cnf: `{"kid":"enc"}`, want: cnf.ErrUnknownKey},
		{name: "kid of two registered keys", cnf: `{"kid":"dup"}`, want: cnf.ErrAmbiguousKey},
		{name: "jku off the allow-list", cnf: `{"jku":"https://keys.example.org/pop-keys.json","kid":"one"}`, want: cnf.ErrJKUNotAllowed},
		{name: "jku differing only in case", cnf: `{"jku":"https://Keys.example.net/pop-keys.json","kid":"one"}`, want: cnf.ErrJKUNotAllowed},
		{name: "jku with a query", cnf: `{"jku":"https://keys.example.net/pop-keys.json?x","kid":"one"}`, want: cnf.ErrJKUNotAllowed},
		{name: "jku set lacks the kid", cnf: `{"jku":"` + jku + `","kid":"reg"}`, want: cnf.ErrUnknownKey},
		{name: "jku set holds the kid for encryption only", cnf: `{"jku":"` + jku + `","kid":"enc-only"}`, want: cnf.ErrUnknownKey},
		{name: "jku set holds two keys with the kid", cnf: `{"jku":"` + jku + `","kid":"twice"}`, want: cnf.ErrAmbiguousKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cnf.Parse([]byte(tc.cnf))
			require.NoError(t, err)
			pub, err := r.Resolve(context.Background(), c)
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, pub)
		})
	}

	t.Run("jku over http", func(t *testing.T) {
		_, err := cnf.Parse([]byte(`{"jku":"http://keys.example.net/pop-keys.json","kid":"one"}`))
		require.ErrorIs(t, err, cnf.ErrMalformed)
	})
	t.Run("kid alone without registered keys", func(t *testing.T) {
		r, err := cnf.NewResolver(cnf.ResolverConfig{JKUs: []string{jku}, HTTPClient: host.client(t)})
		require.NoError(t, err)
		_, err = r.Resolve(context.Background(), cnf.Confirmation{KID: "one"})
		require.ErrorIs(t, err, cnf.ErrUnknownKey)
	})
	t.Run("no kid", func(t *testing.T) {
		_, err := r.Resolve(context.Background(), cnf.Confirmation{JKT: thumb(t, k1.Public())})
		require.ErrorIs(t, err, cnf.ErrUnknownKey)
	})
}

// TestResolvedThumbprint: kid/jku and jkt/jwk of one cnf must name the
// same key.
func TestResolvedThumbprint(t *testing.T) {
	t.Parallel()
	k1 := ecKey(t, elliptic.P256())
	k2 := ecKey(t, elliptic.P256())
	tp1 := thumb(t, k1.Public())
	for _, tc := range []struct {
		name string
		c    cnf.Confirmation
		key  crypto.PublicKey
		want error
	}{
		{name: "kid alone", c: cnf.Confirmation{KID: "k"}, key: k1.Public()},
		{name: "kid and jkt of the same key", c: cnf.Confirmation{KID: "k", JKT: tp1}, key: k1.Public()},
		{name: "kid and jwk of the same key", c: cnf.Confirmation{KID: "k", JWK: k1.Public()}, key: k1.Public()},
		{name: "kid and jkt naming another key", c: cnf.Confirmation{KID: "k", JKT: thumb(t, k2.Public())}, key: k1.Public(), want: cnf.ErrKeyConflict},
		{name: "kid and jwk naming another key", c: cnf.Confirmation{KID: "k", JWK: k2.Public()}, key: k1.Public(), want: cnf.ErrKeyConflict},
		{name: "jkt agrees, jwk does not", c: cnf.Confirmation{KID: "k", JKT: tp1, JWK: k2.Public()}, key: k1.Public(), want: cnf.ErrKeyConflict},
		{name: "nil key", c: cnf.Confirmation{KID: "k"}, key: nil, want: cnf.ErrKeyConflict},
		{name: "unsupported key", c: cnf.Confirmation{KID: "k"}, key: &ecKey(t, elliptic.P224()).PublicKey, want: cnf.ErrKeyConflict},
		{name: "private key", c: cnf.Confirmation{KID: "k"}, key: k1, want: cnf.ErrKeyConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jkt, err := cnf.ResolvedThumbprint(tc.c, tc.key)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				require.Empty(t, jkt)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tp1, jkt)
		})
	}
}

// TestSameKey: the presented key must be the resolved one, of its type.
func TestSameKey(t *testing.T) {
	t.Parallel()
	ec := ecKey(t, elliptic.P256())
	ec384 := ecKey(t, elliptic.P384())
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	tp := thumb(t, ec.Public())
	for _, tc := range []struct {
		name      string
		presented crypto.PublicKey
		jkt       string
		want      error
	}{
		{name: "same key", presented: ec.Public()},
		{name: "same key, thumbprint given", presented: ec.Public(), jkt: tp},
		{name: "another key of the same type", presented: ecKey(t, elliptic.P256()).Public(), want: cnf.ErrKeyMismatch},
		{name: "thumbprint given is another's", presented: ec.Public(), jkt: thumb(t, ec384.Public()), want: cnf.ErrKeyMismatch},
		{name: "Ed25519 for an EC key", presented: edPub, want: cnf.ErrKeyType},
		{name: "P-384 for a P-256 key", presented: ec384.Public(), want: cnf.ErrKeyType},
		{name: "unsupported curve", presented: &ecKey(t, elliptic.P224()).PublicKey, want: cnf.ErrKeyType},
		{name: "nil", presented: nil, want: cnf.ErrKeyType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cnf.SameKey(ec.Public(), tp, tc.presented, tc.jkt)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestKIDTarget(t *testing.T) {
	t.Parallel()
	jkt := thumb(t, ecKey(t, elliptic.P256()).Public())
	for _, tc := range []struct {
		name string
		c    cnf.Confirmation
		want cnf.KeyTarget
	}{
		{name: "no kid", c: cnf.Confirmation{JKT: jkt}, want: cnf.TargetNone},
		{name: "kid alone", c: cnf.Confirmation{KID: "k"}, want: cnf.TargetPresented},
		{name: "jku and kid", c: cnf.Confirmation{KID: "k", JKU: jkuRFC}, want: cnf.TargetPresented},
		{name: "kid and jkt", c: cnf.Confirmation{KID: "k", JKT: jkt}, want: cnf.TargetDPoP},
		{name: "kid, jkt and x5t#S256", c: cnf.Confirmation{KID: "k", JKT: jkt, X5TS256: jkt}, want: cnf.TargetDPoP},
		{name: "kid and x5t#S256", c: cnf.Confirmation{KID: "k", X5TS256: jkt}, want: cnf.TargetCertificate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.c.KIDTarget())
		})
	}
}

func TestNewResolverConfig(t *testing.T) {
	t.Parallel()
	good := setJSON(t, jwkOf(t, ecKey(t, elliptic.P256()).Public(), "k", ""))
	many := make([]string, cnf.MaxJKUs+1)
	for i := range many {
		many[i] = "https://keys.example.net/" + strings.Repeat("a", i+1)
	}
	for _, tc := range []struct {
		name  string
		cfg   cnf.ResolverConfig
		field string // "": accepted
	}{
		{name: "registered set", cfg: cnf.ResolverConfig{JWKS: good}},
		{name: "allow-list", cfg: cnf.ResolverConfig{JKUs: []string{jkuRFC, jkuRFC}}},
		{name: "nothing to resolve with", cfg: cnf.ResolverConfig{}, field: "JWKS"},
		{name: "not a JWK Set", cfg: cnf.ResolverConfig{JWKS: []byte(`{"kty":"EC"}`)}, field: "JWKS"},
		{name: "private key in the set", cfg: cnf.ResolverConfig{JWKS: []byte(`{"keys":[` + privateJWK + `]}`)}, field: "JWKS"},
		{name: "no usable key", cfg: cnf.ResolverConfig{JWKS: []byte(`{"keys":[` + octJWK + `]}`)}, field: "JWKS"},
		{name: "http URL", cfg: cnf.ResolverConfig{JKUs: []string{"http://keys.example.net/pop-keys.json"}}, field: "JKUs"},
		{name: "relative URL", cfg: cnf.ResolverConfig{JKUs: []string{"/pop-keys.json"}}, field: "JKUs"},
		{name: "URL with fragment", cfg: cnf.ResolverConfig{JKUs: []string{jkuRFC + "#k"}}, field: "JKUs"},
		{name: "URL with user information", cfg: cnf.ResolverConfig{JKUs: []string{"https://u@keys.example.net/k"}}, field: "JKUs"},
		{name: "too many URLs", cfg: cnf.ResolverConfig{JKUs: many}, field: "JKUs"},
		{name: "negative refresh interval", cfg: cnf.ResolverConfig{JWKS: good, MinRefreshInterval: -1}, field: "MinRefreshInterval"},
		{name: "negative max age", cfg: cnf.ResolverConfig{JWKS: good, MaxAge: -1}, field: "MaxAge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := cnf.NewResolver(tc.cfg)
			if tc.field == "" {
				require.NoError(t, err)
				require.NotNil(t, r)
				return
			}
			var ce *cnf.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field)
			require.Nil(t, r)
		})
	}
}

// clock is a test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestResolveRemote: the jku sets are fetched over https only, never
// through a redirect, cached, refetched on an unknown kid at most once per
// MinRefreshInterval, and kept through an outage.
func TestResolveRemote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k1 := ecKey(t, elliptic.P256())
	k2 := ecKey(t, elliptic.P256())
	jku := func(kid string) cnf.Confirmation { return cnf.Confirmation{JKU: jkuRFC, KID: kid} }
	newResolver := func(t *testing.T, host *keySet, clk *clock) *cnf.Resolver {
		t.Helper()
		r, err := cnf.NewResolver(cnf.ResolverConfig{
			JKUs: []string{jkuRFC}, HTTPClient: host.client(t),
			MinRefreshInterval: time.Minute, MaxAge: time.Hour, Now: clk.now,
		})
		require.NoError(t, err)
		return r
	}

	// primed returns a host serving k1, a resolver that fetched it once,
	// and the resolver's clock.
	primed := func(t *testing.T) (*keySet, *clock, *cnf.Resolver) {
		t.Helper()
		clk := &clock{t: time.Unix(1_700_000_000, 0)}
		host := newKeySet(t, jwkOf(t, k1.Public(), "k1", ""))
		r := newResolver(t, host, clk)
		resolves(t, r, jku("k1"), k1.Public())
		return host, clk, r
	}

	t.Run("cached", func(t *testing.T) {
		t.Parallel()
		host := newKeySet(t, jwkOf(t, k1.Public(), "k1", ""))
		r := newResolver(t, host, &clock{t: time.Unix(1_700_000_000, 0)})
		for range 5 {
			resolves(t, r, jku("k1"), k1.Public())
		}
		require.EqualValues(t, 1, host.hits.Load())
	})

	t.Run("rotation: an unknown kid refetches, at most once a minute", func(t *testing.T) {
		t.Parallel()
		host, clk, r := primed(t)
		clk.advance(2 * time.Minute)
		host.serve(t, jwkOf(t, k1.Public(), "k1", ""), jwkOf(t, k2.Public(), "k2", ""))
		resolves(t, r, jku("k2"), k2.Public())
		require.EqualValues(t, 2, host.hits.Load())
		// Random kids within the minute cost no fetch.
		for _, kid := range []string{"x1", "x2", "x3"} {
			_, err := r.Resolve(ctx, jku(kid))
			require.ErrorIs(t, err, cnf.ErrUnknownKey)
		}
		require.EqualValues(t, 2, host.hits.Load(), "the k2 refetch was less than a minute ago")
		clk.advance(2 * time.Minute)
		_, err := r.Resolve(ctx, jku("x4"))
		require.ErrorIs(t, err, cnf.ErrUnknownKey)
		require.EqualValues(t, 3, host.hits.Load())
		_, err = r.Resolve(ctx, jku("x5"))
		require.ErrorIs(t, err, cnf.ErrUnknownKey)
		require.EqualValues(t, 3, host.hits.Load())
	})

	t.Run("outage keeps the last good set", func(t *testing.T) {
		t.Parallel()
		host, clk, r := primed(t)
		host.answer(http.StatusServiceUnavailable, nil, "")
		clk.advance(2 * time.Hour) // past MaxAge: a refetch is due, and fails
		resolves(t, r, jku("k1"), k1.Public())
		require.EqualValues(t, 2, host.hits.Load())
		// An unknown kid during the outage: the refresh fails, and the
		// cached set does not hold it.
		for _, d := range []time.Duration{2 * time.Minute, 2 * time.Hour} {
			clk.advance(d)
			_, err := r.Resolve(ctx, jku("k2"))
			require.ErrorIs(t, err, cnf.ErrUnknownKey)
			resolves(t, r, jku("k1"), k1.Public())
		}
	})

	t.Run("refresh for an unknown kid fails", func(t *testing.T) {
		t.Parallel()
		host, clk, r := primed(t)
		host.answer(http.StatusBadGateway, nil, "")
		clk.advance(2 * time.Minute) // the set is fresh; the refresh is allowed
		_, err := r.Resolve(ctx, jku("k2"))
		require.ErrorIs(t, err, cnf.ErrUnknownKey)
		require.ErrorIs(t, err, jose.ErrJWKSFetch)
		require.EqualValues(t, 2, host.hits.Load())
		resolves(t, r, jku("k1"), k1.Public())
	})

	t.Run("never fetched", func(t *testing.T) {
		t.Parallel()
		host := newKeySet(t)
		host.answer(http.StatusInternalServerError, nil, "")
		r := newResolver(t, host, &clock{t: time.Unix(1_700_000_000, 0)})
		_, err := r.Resolve(ctx, jku("k1"))
		require.ErrorIs(t, err, cnf.ErrKeySetUnavailable)
		require.ErrorIs(t, err, jose.ErrJWKSFetch)
	})

	t.Run("redirect is not followed", func(t *testing.T) {
		t.Parallel()
		target := newKeySet(t, jwkOf(t, k1.Public(), "k1", ""))
		host := newKeySet(t)
		for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			host.answer(status, nil, target.srv.URL+"/pop-keys.json")
			r := newResolver(t, host, &clock{t: time.Unix(1_700_000_000, 0)})
			_, err := r.Resolve(ctx, jku("k1"))
			require.ErrorIs(t, err, cnf.ErrKeySetUnavailable, "HTTP %d", status)
		}
		require.Zero(t, target.hits.Load())
	})

	t.Run("malformed set", func(t *testing.T) {
		t.Parallel()
		host := newKeySet(t)
		host.answer(http.StatusOK, []byte(`{"keys":[`+privateJWK+`]}`), "")
		r := newResolver(t, host, &clock{t: time.Unix(1_700_000_000, 0)})
		_, err := r.Resolve(ctx, jku("k1"))
		require.ErrorIs(t, err, cnf.ErrKeySetUnavailable)
	})

	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		host := newKeySet(t, jwkOf(t, k1.Public(), "k1", ""))
		r := newResolver(t, host, &clock{t: time.Unix(1_700_000_000, 0)})
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.Resolve(ctx, jku("k1"))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.EqualValues(t, 1, host.hits.Load())
	})
}

// TestResolveTLS: the set is fetched only from a host whose certificate
// verifies.
func TestResolveTLS(t *testing.T) {
	t.Parallel()
	host := newKeySet(t, jwkOf(t, ecKey(t, elliptic.P256()).Public(), "k1", ""))
	c := host.client(t)
	c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{ServerName: "keys.example.net", MinVersion: tls.VersionTLS12, RootCAs: c.Transport.(*http.Transport).TLSClientConfig.RootCAs}
	r, err := cnf.NewResolver(cnf.ResolverConfig{JKUs: []string{jkuRFC}, HTTPClient: c})
	require.NoError(t, err)
	_, err = r.Resolve(context.Background(), cnf.Confirmation{JKU: jkuRFC, KID: "k1"})
	require.ErrorIs(t, err, cnf.ErrKeySetUnavailable)
	require.Zero(t, host.hits.Load())
}

func TestNewResolverFor(t *testing.T) {
	t.Parallel()
	errField := errors.New("field")
	mk := func(field, reason string) error { return fmt.Errorf("%w: %s: %s", errField, field, reason) }
	r, err := cnf.NewResolverFor(cnf.ResolverConfig{}, "Config.", mk)
	require.ErrorIs(t, err, errField)
	require.Contains(t, err.Error(), "Config.JWKS")
	require.Nil(t, r)
	r, err = cnf.NewResolverFor(cnf.ResolverConfig{JKUs: []string{jkuRFC}}, "Config.", mk)
	require.NoError(t, err)
	require.NotNil(t, r)
}

func TestResolveError(t *testing.T) {
	t.Parallel()
	unknown, unavailable := errors.New("unknown"), errors.New("unavailable")
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{name: "set unavailable", err: cnf.ErrKeySetUnavailable, want: unavailable},
		{name: "already unavailable", err: fmt.Errorf("x: %w", unavailable), want: unavailable},
		{name: "unknown kid", err: cnf.ErrUnknownKey, want: unknown},
		{name: "ambiguous kid", err: cnf.ErrAmbiguousKey, want: unknown},
		{name: "conflict", err: cnf.ErrKeyConflict, want: unknown},
		{name: "a caller's error", err: errors.New("no such client"), want: unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := cnf.ResolveError(tc.err, unknown, unavailable)
			require.ErrorIs(t, got, tc.want)
			require.ErrorIs(t, got, tc.err)
		})
	}
}
