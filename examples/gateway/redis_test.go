package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/testpeer"
)

// TestReplicasShareRedis runs two gateways with the same -redis and
// -external-url: a nonce one issues is accepted by the other, a proof one
// accepted is refused by the other, and in -mode json both sign with the
// same key.
func TestReplicasShareRedis(t *testing.T) {
	t.Parallel()
	addr := testpeer.Redis(t)
	p := newPeer(t)
	up := &recorder{}
	upSrv := httptest.NewServer(up)
	t.Cleanup(upSrv.Close)
	const external = "https://api.example"
	args := []string{"-listen", "127.0.0.1:0", "-upstream", upSrv.URL, "-issuer", p.as.Issuer(), "-client-id", "gateway",
		"-client-secret", "gateway-secret", "-ca", p.caFile, "-mode", "json", "-redis", addr, "-external-url", external}
	a := start(t, args, io.Discard)
	b := start(t, args, io.Discard)

	key, err := dpop.GenerateKey()
	require.NoError(t, err)
	proofer, err := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	require.NoError(t, err)
	tok := p.dpopToken(t, proofer)
	send := func(gw, nonce, proof string) *http.Response {
		t.Helper()
		if proof == "" {
			v, err := proofer.Proof("GET", external+"/orders", dpop.ProofOptions{AccessToken: tok, Nonce: nonce})
			require.NoError(t, err)
			proof = v
		}
		req, err := http.NewRequest("GET", gw+"/orders", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "DPoP "+tok)
		req.Header.Set("DPoP", proof)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp
	}

	resp := send(a, "", "")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	nonce := resp.Header.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	proof, err := proofer.Proof("GET", external+"/orders", dpop.ProofOptions{AccessToken: tok, Nonce: nonce})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, send(b, "", proof).StatusCode, "A's nonce accepted at B")
	resp = send(a, "", proof)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the proof B accepted is refused at A")
	require.Contains(t, resp.Header.Get("WWW-Authenticate"), "invalid_dpop_proof")

	keys := func(gw string) string {
		resp, err := http.Get(gw + jwksPath)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(body)
	}
	require.Equal(t, keys(a), keys(b), "replicas sign with one key")
}
