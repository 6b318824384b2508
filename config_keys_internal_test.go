package hardened

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

// serverKeys answers the JARM decoder from the shared set (no second
// fetch), refreshes the set when asked (a rotated key appears, for the ID
// token check too) under the set's rate limit, fails when that refresh
// fails, and leaves encryption keys out.
func TestSharedKeys(t *testing.T) {
	t.Parallel()
	newKey := func(kid, use string) *jose.JWK {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return &jose.JWK{Key: k.Public(), KeyID: kid, Use: use}
	}
	var (
		fetches atomic.Int32
		current atomic.Value // []byte
		broken  atomic.Bool
		mu      sync.Mutex
		now     = time.Now()
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	first, err := jose.MarshalJWKSet([]*jose.JWK{newKey("k1", "sig"), newKey("e1", "enc")})
	require.NoError(t, err)
	current.Store(first)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if broken.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(current.Load().([]byte))
	}))
	t.Cleanup(srv.Close)
	ks := &jose.RemoteKeySet{URL: srv.URL + "/jwks", Client: srv.Client(), Now: clock}
	var src jarm.KeySource = &serverKeys{keys: ks}
	kids := func(keys []jarm.VerificationKey) []string {
		var out []string
		for _, k := range keys {
			out = append(out, k.KeyID)
		}
		return out
	}

	// The ID token check fetched the set; the decoder's keys come from it.
	_, err = ks.Keys(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 1, fetches.Load())
	keys, err := src.VerificationKeys(t.Context(), false)
	require.NoError(t, err)
	require.Equal(t, []string{"k1"}, kids(keys), "the enc key is left out")
	require.EqualValues(t, 1, fetches.Load(), "no second fetch")

	// The server rotates its key; past the rate limit, the decoder's
	// refresh (an unknown kid) refetches the shared set, which the ID
	// token check then uses.
	rotated, err := jose.MarshalJWKSet([]*jose.JWK{newKey("k2", "")})
	require.NoError(t, err)
	current.Store(rotated)
	advance(31 * time.Second)
	keys, err = src.VerificationKeys(t.Context(), true)
	require.NoError(t, err)
	require.Equal(t, []string{"k2"}, kids(keys))
	require.EqualValues(t, 2, fetches.Load())
	shared, err := ks.Keys(t.Context())
	require.NoError(t, err)
	require.Len(t, shared, 1)
	require.Equal(t, "k2", shared[0].KeyID)

	// Within the rate limit, another refresh does not fetch.
	keys, err = src.VerificationKeys(t.Context(), true)
	require.NoError(t, err)
	require.Equal(t, []string{"k2"}, kids(keys))
	require.EqualValues(t, 2, fetches.Load(), "refreshes are rate limited by the shared set")

	// A refresh that fails fails the decoder's look-up.
	broken.Store(true)
	advance(31 * time.Second)
	_, err = src.VerificationKeys(t.Context(), true)
	require.ErrorIs(t, err, jose.ErrJWKSFetch)
	require.EqualValues(t, 3, fetches.Load())
}
