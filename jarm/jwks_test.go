package jarm_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

// remoteDecoder returns a Decoder on srv's key set with a settable clock.
func remoteDecoder(t testing.TB, srv *jwksServer) (*jarm.Decoder, *clock) {
	t.Helper()
	c := &clock{t: testNow}
	d, err := jarm.NewDecoder(jarm.Config{
		Issuer:     testIssuer,
		ClientID:   testClientID,
		JWKSURL:    srv.URL + "/jwks",
		HTTPClient: srv.Client(),
		Now:        c.Now,
	})
	require.NoError(t, err)
	return d, c
}

// signedAt returns a response signed with asEC under kid, valid at c's
// time, with the given claims changed.
func signedAt(t testing.TB, c *clock, kid string, changes map[string]any) string {
	t.Helper()
	m := map[string]any{"exp": c.Now().Add(5 * time.Minute).Unix(), "iat": c.Now().Unix()}
	for k, v := range changes {
		m[k] = v
	}
	return signJose(t, asEC(), jose.ES256, kid, claims(m))
}

func decodeQuery(d *jarm.Decoder, tok string) (*jarm.Response, error) {
	return d.Decode(context.Background(), url.Values{"response": {tok}}, testState)
}

func TestRemoteKeysCached(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk(asEC().Public(), "k1"))
	d, c := remoteDecoder(t, srv)
	for range 3 {
		r, err := decodeQuery(d, signedAt(t, c, "k1", nil))
		require.NoError(t, err)
		require.Equal(t, testCode, r.Code)
		require.Equal(t, c.Now().Add(5*time.Minute).Unix(), r.Expiry.Unix())
	}
	require.EqualValues(t, 1, srv.hits.Load())
}

func TestRemoteUnknownKidAfterRefresh(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk(asEC().Public(), "k1"))
	d, c := remoteDecoder(t, srv)
	_, err := decodeQuery(d, signedAt(t, c, "k1", nil))
	require.NoError(t, err)
	require.EqualValues(t, 1, srv.hits.Load())

	// Past the refresh rate limit, an unknown kid refetches the set once,
	// then fails.
	c.Add(31 * time.Second)
	_, err = decodeQuery(d, signedAt(t, c, "k9", nil))
	require.ErrorIs(t, err, jarm.ErrInvalidSignature)
	require.EqualValues(t, 2, srv.hits.Load(), "the unknown kid must trigger a refresh")

	// Within the rate limit, another unknown kid does not refetch.
	_, err = decodeQuery(d, signedAt(t, c, "k8", nil))
	require.ErrorIs(t, err, jarm.ErrInvalidSignature)
	require.EqualValues(t, 2, srv.hits.Load())

	// Known keys keep working from the cache.
	_, err = decodeQuery(d, signedAt(t, c, "k1", nil))
	require.NoError(t, err)
	require.EqualValues(t, 2, srv.hits.Load())
}

func TestRemoteRotation(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk(asEC2().Public(), "old"))
	d, c := remoteDecoder(t, srv)
	require.NoError(t, d.Refresh(context.Background()))
	require.EqualValues(t, 1, srv.hits.Load())

	// The server rotates to a new key; a response under the new kid
	// refreshes the set and verifies.
	srv.setKeys(t, jwk(asEC().Public(), "new"))
	c.Add(time.Minute)
	r, err := decodeQuery(d, signedAt(t, c, "new", nil))
	require.NoError(t, err)
	require.Equal(t, testCode, r.Code)
	require.EqualValues(t, 2, srv.hits.Load())
}

func TestRemoteFetchFailure(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk(asEC().Public(), "k1"))
	srv.fail(http.StatusInternalServerError)
	d, c := remoteDecoder(t, srv)
	_, err := decodeQuery(d, signedAt(t, c, "k1", nil))
	require.ErrorIs(t, err, jarm.ErrKeySetUnavailable)
	require.Equal(t, http.StatusServiceUnavailable, jarm.HTTPStatus(err))
	require.ErrorIs(t, d.Refresh(context.Background()), jarm.ErrKeySetUnavailable)
}

func TestRemoteKeepsLastGoodSet(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk(asEC().Public(), "k1"))
	d, c := remoteDecoder(t, srv)
	_, err := decodeQuery(d, signedAt(t, c, "k1", nil))
	require.NoError(t, err)
	srv.fail(http.StatusBadGateway)
	c.Add(2 * time.Hour) // past the cache's max age: a refetch is tried and fails
	_, err = decodeQuery(d, signedAt(t, c, "k1", nil))
	require.NoError(t, err)
	require.EqualValues(t, 2, srv.hits.Load())
}

// TestRemoteIssuerCheckedBeforeKeys checks JARM §5.1: a response naming
// another issuer is refused before any key is fetched.
func TestRemoteIssuerCheckedBeforeKeys(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk(asEC().Public(), "k1"))
	d, c := remoteDecoder(t, srv)
	_, err := decodeQuery(d, signedAt(t, c, "k9", map[string]any{"iss": "https://attacker.example.com"}))
	require.ErrorIs(t, err, jarm.ErrIssuerMismatch)
	_, err = decodeQuery(d, signedAt(t, c, "k9", map[string]any{"aud": "other"}))
	require.ErrorIs(t, err, jarm.ErrAudienceMismatch)
	require.EqualValues(t, 0, srv.hits.Load())
}

func TestRemoteContextCancelled(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk(asEC().Public(), "k1"))
	d, c := remoteDecoder(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := d.Decode(ctx, url.Values{"response": {signedAt(t, c, "k1", nil)}}, testState)
	require.ErrorIs(t, err, jarm.ErrKeySetUnavailable)
	require.ErrorIs(t, err, context.Canceled)
}

func TestConcurrentDecode(t *testing.T) {
	t.Parallel()
	srv := newJWKSServer(t, jwk(asEC().Public(), "k1"))
	d, c := remoteDecoder(t, srv)
	good := signedAt(t, c, "k1", nil)
	bad := signedAt(t, c, "k1", map[string]any{"state": "other"})
	var wg sync.WaitGroup
	errs := make(chan error, 16*10*2)
	for range 16 {
		wg.Go(func() {
			for range 10 {
				r, err := decodeQuery(d, good)
				if err != nil || r.Code != testCode {
					errs <- err
				}
				if _, err := decodeQuery(d, bad); err == nil {
					errs <- jarm.ErrStateMismatch
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, srv.hits.Load(), "concurrent first uses share one fetch")
}

// callerClient returns a client such as a caller passes in
// Config.HTTPClient: the default redirect policy (follow up to ten),
// trusting the httptest certificate (issued for 127.0.0.1 and
// *.example.com), and resolving every *.example.com name to 127.0.0.1 so
// that another host can be served on loopback.
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

// TestRemoteRedirectAttack: the AS's jwks_uri answers with a redirect to a
// server that publishes the attacker's key under the AS's kid, and the
// attacker forges a response signed with it. Whatever HTTP client the
// caller configured (here one that follows redirects), the redirect is not
// followed, the forged response is refused with a typed error, and the
// attacker's server is never reached.
func TestRemoteRedirectAttack(t *testing.T) {
	t.Parallel()
	attacker := mustEC(ellipticP256())
	attackerSet := func() []byte {
		b, err := jose.MarshalJWKSet([]*jose.JWK{jwk(attacker.Public(), "k1")})
		require.NoError(t, err)
		return b
	}()
	var plainHits atomic.Int32
	plainHTTP := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		plainHits.Add(1)
		_, _ = w.Write(attackerSet)
	}))
	t.Cleanup(plainHTTP.Close)
	otherHost := newJWKSServer(t, jwk(attacker.Public(), "k1"))

	cases := []struct {
		name   string
		target string
		status int
		hits   func() int32
	}{
		{"302 to http", plainHTTP.URL + "/jwks", http.StatusFound, plainHits.Load},
		{"301 to another host", strings.Replace(otherHost.URL, "127.0.0.1", "attacker.example.com", 1) + "/jwks", http.StatusMovedPermanently, otherHost.hits.Load},
		{"307 to another origin", otherHost.URL + "/jwks", http.StatusTemporaryRedirect, otherHost.hits.Load},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.hits()
			as := httptest.NewTLSServer(http.RedirectHandler(tc.target, tc.status))
			t.Cleanup(as.Close)
			hc := callerClient(as)
			require.Nil(t, hc.CheckRedirect, "the caller's client follows redirects")
			d, err := jarm.NewDecoder(jarm.Config{
				Issuer:     testIssuer,
				ClientID:   testClientID,
				JWKSURL:    strings.Replace(as.URL, "127.0.0.1", "as.example.com", 1) + "/jwks",
				HTTPClient: hc,
				Now:        fixedNow,
			})
			require.NoError(t, err)

			forged := signJose(t, attacker, jose.ES256, "k1", claims(nil))
			r, err := decodeQuery(d, forged)
			require.Nil(t, r)
			require.ErrorIs(t, err, jarm.ErrKeySetUnavailable)
			require.Equal(t, http.StatusServiceUnavailable, jarm.HTTPStatus(err))
			require.ErrorIs(t, d.Refresh(context.Background()), jarm.ErrKeySetUnavailable)
			require.Equal(t, before, tc.hits(), "the attacker's server is never reached")
			require.Nil(t, hc.CheckRedirect, "the caller's client is left as it was")
		})
	}
}
