package hardened

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// sharedKeys answers the JARM decoder's first fetch from the shared set
// (no second fetch), refreshes the set for every later one (a rotated key
// appears), fails when that refresh fails, and passes other requests on.
func TestSharedKeys(t *testing.T) {
	t.Parallel()
	newKey := func(kid string) *jose.JWK {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return &jose.JWK{Key: k.Public(), KeyID: kid, Use: "sig"}
	}
	var (
		fetches atomic.Int32
		current atomic.Value // []byte
		broken  atomic.Bool
	)
	first, err := jose.MarshalJWKSet([]*jose.JWK{newKey("k1")})
	require.NoError(t, err)
	current.Store(first)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/jwks" {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		fetches.Add(1)
		if broken.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(current.Load().([]byte))
	}))
	t.Cleanup(srv.Close)
	ks := &jose.RemoteKeySet{URL: srv.URL + "/jwks", Client: srv.Client()}
	s := &sharedKeys{url: ks.URL, keys: ks, base: srv.Client().Transport}
	hc := &http.Client{Transport: s}
	get := func(path string) (int, string, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		require.NoError(t, err)
		return resp.StatusCode, string(b), nil
	}

	// The ID token check fetched the set; the decoder's first fetch is
	// answered from it.
	_, err = ks.Keys(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 1, fetches.Load())
	status, body, err := get("/jwks")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `"kid":"k1"`)
	require.EqualValues(t, 1, fetches.Load(), "no second fetch")

	// The server rotates its key; the decoder's next fetch (an unknown
	// kid) refreshes the shared set, which the ID token check then uses.
	rotated, err := jose.MarshalJWKSet([]*jose.JWK{newKey("k2")})
	require.NoError(t, err)
	current.Store(rotated)
	status, body, err = get("/jwks")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `"kid":"k2"`)
	require.NotContains(t, body, `"kid":"k1"`)
	require.EqualValues(t, 2, fetches.Load())
	keys, err := ks.Keys(t.Context())
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, "k2", keys[0].KeyID)

	// A refresh that fails fails the decoder's fetch (it keeps its set).
	broken.Store(true)
	_, _, err = get("/jwks")
	require.Error(t, err)

	// Other requests go to the server.
	status, _, err = get("/other")
	require.NoError(t, err)
	require.Equal(t, http.StatusTeapot, status)
}
