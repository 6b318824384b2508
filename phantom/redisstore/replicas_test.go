package redisstore_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/dpop"
	dpopredis "github.com/hardened-oauth/hardened/dpop/redisstore"
	"github.com/hardened-oauth/hardened/phantom"
	"github.com/hardened-oauth/hardened/phantom/redisstore"
)

const baseURL = "https://api.example.com"

// TestTwoReplicas runs two gateways that share one Redis: the cache, the
// DPoP replay store and the nonce secret.
func TestTwoReplicas(t *testing.T) {
	t.Parallel()
	c := requireRedis(t)
	ctx := context.Background()
	key, err := dpop.GenerateKey()
	require.NoError(t, err)
	alice, err := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	require.NoError(t, err)

	var calls atomic.Int64
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = r.ParseForm()
		body := map[string]any{"active": false}
		if r.PostForm.Get("token") == "shared-token" {
			body = map[string]any{"active": true, "scope": "read", "exp": time.Now().Add(time.Hour).Unix(),
				"cnf": map[string]any{"jkt": alice.JKT()}}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(as.Close)

	gwKey, err := dpop.GenerateKey() // replicas that share a cache share their key
	require.NoError(t, err)
	prefix := "replicas-test:" + t.Name() + ":"
	replica := func() *phantom.Gateway {
		secret, err := redisstore.SharedSecret(ctx, c, prefix+"nonce-secret")
		require.NoError(t, err)
		return &phantom.Gateway{
			IntrospectionURL: as.URL + "/introspect",
			HTTPClient:       as.Client(),
			Mode:             phantom.ModeJSON,
			Key:              gwKey,
			Cache:            &redisstore.Cache{Client: c, Prefix: prefix + "cache:"},
			DPoP: &dpop.Verifier{
				BaseURL: baseURL,
				Replay:  &dpopredis.Store{Client: c, Prefix: prefix + "jti:"},
				Nonces:  &dpop.Nonces{Secrets: [][]byte{secret}},
			},
		}
	}
	a, b := replica(), replica()
	ha, hb := a.Wrap(ok()), b.Wrap(ok())

	send := func(h http.Handler, proof string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", baseURL+"/orders", nil)
		r.Header.Set("Authorization", "DPoP shared-token")
		r.Header.Set("DPoP", proof)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	newProof := func(nonce string) string {
		p, err := alice.Proof("GET", baseURL+"/orders", dpop.ProofOptions{AccessToken: "shared-token", Nonce: nonce})
		require.NoError(t, err)
		return p
	}

	// A asks for a nonce; B accepts it.
	rec := send(ha, newProof(""))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Contains(t, rec.Header().Get("WWW-Authenticate"), "use_dpop_nonce")
	nonce := rec.Header().Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	p := newProof(nonce)
	require.Equal(t, http.StatusOK, send(hb, p).Code, "a nonce minted by A is accepted by B")
	introspections := calls.Load()

	// The proof B accepted is refused at A.
	rec = send(ha, p)
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	require.Contains(t, rec.Header().Get("WWW-Authenticate"), "invalid_dpop_proof")
	_, err = a.Verify(func() *http.Request {
		r := httptest.NewRequest("GET", baseURL+"/orders", nil)
		r.Header.Set("Authorization", "DPoP shared-token")
		r.Header.Set("DPoP", p)
		return r
	}())
	require.ErrorIs(t, err, dpop.ErrReplay)

	// A fresh proof passes at A from the shared cache: no new introspection.
	res := send(ha, newProof(nonce))
	require.Equal(t, http.StatusOK, res.Code)
	require.Equal(t, introspections, calls.Load(), "the shared cache answers A")
	require.True(t, strings.HasPrefix(res.Body.String(), "Bearer ey"))
}

// ok answers with the Authorization header it received.
func ok() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Header.Get("Authorization")))
	})
}
