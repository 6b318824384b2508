package phantom

import (
	"crypto"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// jwkSet marshals keys (kid → public key) as a JWK Set.
func jwkSet(t testing.TB, keys map[string]crypto.PublicKey) []byte {
	t.Helper()
	var set []*jose.JWK
	for kid, k := range keys {
		set = append(set, &jose.JWK{Key: k, KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	b, err := jose.MarshalJWKSet(set)
	require.NoError(t, err)
	return b
}

// jwksServer serves body at /jwks.json (status 200), or status alone.
func jwksServer(t testing.TB, body []byte, status int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		if status != http.StatusOK {
			http.Error(w, "down", status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestKIDBinding is issue #17: a token bound by "cnf" "kid" (RFC 7800
// §3.4) or "jku" with "kid" (§3.5) passes the gateway with the proof or
// certificate of the key they name and is refused with any other.
func TestKIDBinding(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	alice := newProofer(t)
	mallory := newProofer(t)
	cert := newCert(t, "alice")
	other := newCert(t, "mallory")

	setSrv, _ := jwksServer(t, jwkSet(t, map[string]crypto.PublicKey{"set-dpop": alice.Public(), "set-cert": cert.PublicKey}), http.StatusOK)
	downSrv, downCalls := jwksServer(t, nil, http.StatusInternalServerError)
	goodJKU, downJKU := setSrv.URL+"/jwks.json", downSrv.URL+"/jwks.json"
	// Runs after the parallel subtests: the unavailable set was asked.
	t.Cleanup(func() { require.Positive(t, downCalls.Load()) })
	static := jwkSet(t, map[string]crypto.PublicKey{"alice-dpop": alice.Public(), "alice-cert": cert.PublicKey})

	dkeys, err := dpop.NewJWKSResolver(dpop.JWKSConfig{JWKS: static, JKUs: []string{goodJKU, downJKU}, HTTPClient: setSrv.Client()})
	require.NoError(t, err)
	mkeys, err := mtlsbound.NewJWKSResolver(mtlsbound.JWKSConfig{JWKS: static, JKUs: []string{goodJKU, downJKU}, HTTPClient: setSrv.Client()})
	require.NoError(t, err)
	g := bindingGateway(as, nil)
	g.DPoP.Keys = dkeys
	g.MTLS.Keys = mkeys
	noKeys := bindingGateway(as, nil) // the verifiers have no Keys

	cnfOf := func(m map[string]any) map[string]any { return map[string]any{"cnf": m} }
	as.active("kid-dpop", cnfOf(map[string]any{"kid": "alice-dpop"}))
	as.active("kid-cert", cnfOf(map[string]any{"kid": "alice-cert"}))
	as.active("jku-dpop", cnfOf(map[string]any{"jku": goodJKU, "kid": "set-dpop"}))
	as.active("jku-cert", cnfOf(map[string]any{"jku": goodJKU, "kid": "set-cert"}))
	as.active("kid-unknown", cnfOf(map[string]any{"kid": "nobody"}))
	as.active("jku-unknown", cnfOf(map[string]any{"jku": goodJKU, "kid": "nobody"}))
	as.active("jku-off-list", cnfOf(map[string]any{"jku": "https://evil.example/jwks.json", "kid": "set-dpop"}))
	as.active("jku-down", cnfOf(map[string]any{"jku": downJKU, "kid": "set-dpop"}))
	as.active("jkt-kid", cnfOf(map[string]any{"jkt": alice.JKT(), "kid": "alice-dpop"}))
	as.active("jkt-kid-conflict", cnfOf(map[string]any{"jkt": alice.JKT(), "kid": "alice-cert"}))
	as.active("x5t-kid", cnfOf(map[string]any{"x5t#S256": mtlsbound.Thumbprint(cert), "kid": "alice-cert"}))

	type req struct {
		scheme, token string
		prover        *dpop.Proofer
		cert          *x509.Certificate
	}
	tests := []struct {
		name   string
		gw     *Gateway
		req    req
		status int
		reason Reason
		errs   []error
	}{
		{name: "kid, DPoP proof of its key", req: req{"DPoP", "kid-dpop", alice, nil}, status: 200},
		{name: "kid, DPoP proof of another key", req: req{"DPoP", "kid-dpop", mallory, nil},
			status: 401, reason: ReasonBindingMismatch, errs: []error{ErrBindingMismatch, dpop.ErrBindingMismatch}},
		{name: "kid of a DPoP key, as Bearer with a certificate", req: req{"Bearer", "kid-dpop", nil, cert},
			status: 401, reason: ReasonBindingMismatch, errs: []error{ErrBindingMismatch, mtlsbound.ErrBindingMismatch}},
		{name: "kid, certificate of its key", req: req{"Bearer", "kid-cert", nil, cert}, status: 200},
		{name: "kid, another certificate", req: req{"Bearer", "kid-cert", nil, other},
			status: 401, reason: ReasonBindingMismatch, errs: []error{ErrBindingMismatch, mtlsbound.ErrBindingMismatch}},
		{name: "kid, no certificate", req: req{"Bearer", "kid-cert", nil, nil},
			status: 401, reason: ReasonCertificate, errs: []error{ErrBindingMismatch, mtlsbound.ErrNoCertificate}},
		{name: "kid of a certificate key, DPoP proof of another key", req: req{"DPoP", "kid-cert", alice, cert},
			status: 401, reason: ReasonBindingMismatch, errs: []error{ErrBindingMismatch, dpop.ErrBindingMismatch}},
		{name: "jku, DPoP proof of its key", req: req{"DPoP", "jku-dpop", alice, nil}, status: 200},
		{name: "jku, DPoP proof of another key", req: req{"DPoP", "jku-dpop", mallory, nil},
			status: 401, reason: ReasonBindingMismatch, errs: []error{ErrBindingMismatch, dpop.ErrBindingMismatch}},
		{name: "jku, certificate of its key", req: req{"Bearer", "jku-cert", nil, cert}, status: 200},
		{name: "jku, another certificate", req: req{"Bearer", "jku-cert", nil, other},
			status: 401, reason: ReasonBindingMismatch, errs: []error{ErrBindingMismatch, mtlsbound.ErrBindingMismatch}},
		{name: "unknown kid, DPoP", req: req{"DPoP", "kid-unknown", alice, nil},
			status: 401, reason: ReasonUnknownKey, errs: []error{ErrBindingMismatch, dpop.ErrUnknownKey}},
		{name: "unknown kid, certificate", req: req{"Bearer", "kid-unknown", nil, cert},
			status: 401, reason: ReasonUnknownKey, errs: []error{ErrBindingMismatch, mtlsbound.ErrUnknownKey}},
		{name: "kid not in the jku set", req: req{"DPoP", "jku-unknown", alice, nil},
			status: 401, reason: ReasonUnknownKey, errs: []error{ErrBindingMismatch, dpop.ErrUnknownKey}},
		{name: "jku off the allow-list", req: req{"DPoP", "jku-off-list", alice, nil},
			status: 401, reason: ReasonUnknownKey, errs: []error{ErrBindingMismatch, dpop.ErrUnknownKey}},
		{name: "jku set unavailable, DPoP", req: req{"DPoP", "jku-down", alice, nil},
			status: 503, reason: ReasonStoreUnavailable, errs: []error{ErrUnavailable, dpop.ErrKeyUnavailable}},
		{name: "jku set unavailable, certificate", req: req{"Bearer", "jku-down", nil, cert},
			status: 503, reason: ReasonStoreUnavailable, errs: []error{ErrUnavailable, mtlsbound.ErrKeyUnavailable}},
		{name: "jkt and kid of one key", req: req{"DPoP", "jkt-kid", alice, nil}, status: 200},
		{name: "jkt and kid of different keys", req: req{"DPoP", "jkt-kid-conflict", alice, nil},
			status: 401, reason: ReasonUnknownKey, errs: []error{ErrBindingMismatch, dpop.ErrUnknownKey}},
		{name: "x5t#S256 and kid, its certificate", req: req{"Bearer", "x5t-kid", nil, cert}, status: 200},
		{name: "no Keys: kid with DPoP", gw: noKeys, req: req{"DPoP", "kid-dpop", alice, nil},
			status: 401, reason: ReasonUnsupportedBinding, errs: []error{ErrUnsupportedConfirmation, dpop.ErrUnsupportedConfirmation}},
		{name: "no Keys: kid with a certificate", gw: noKeys, req: req{"Bearer", "kid-cert", nil, cert},
			status: 401, reason: ReasonUnsupportedBinding, errs: []error{ErrUnsupportedConfirmation, mtlsbound.ErrUnsupportedConfirmation}},
		{name: "no Keys: jku with DPoP", gw: noKeys, req: req{"DPoP", "jku-dpop", alice, nil},
			status: 401, reason: ReasonUnsupportedBinding, errs: []error{ErrUnsupportedConfirmation, dpop.ErrUnsupportedConfirmation}},
		{name: "no Keys: jku with a certificate", gw: noKeys, req: req{"Bearer", "jku-cert", nil, cert},
			status: 401, reason: ReasonUnsupportedBinding, errs: []error{ErrUnsupportedConfirmation, mtlsbound.ErrUnsupportedConfirmation}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gw := g
			if tc.gw != nil {
				gw = tc.gw
			}
			mk := func() *http.Request {
				r := request("GET", "/orders", tc.req.scheme+" "+tc.req.token)
				if tc.req.prover != nil {
					r.Header.Set("DPoP", proof(t, tc.req.prover, "GET", "/orders", tc.req.token, ""))
				}
				return withCert(r, tc.req.cert)
			}
			up := &upstream{}
			rec := serve(gw.Wrap(up), mk())
			require.Equal(t, tc.status, rec.Code)
			if tc.status == http.StatusOK {
				require.Equal(t, 1, up.count())
				res := up.result
				require.NotNil(t, res)
				if tc.req.prover != nil {
					require.NotNil(t, res.DPoP)
					require.Equal(t, tc.req.prover.JKT(), res.DPoP.Proof.JKT)
				} else {
					require.NotNil(t, res.MTLS)
					require.Equal(t, mtlsbound.Thumbprint(tc.req.cert), res.MTLS.Thumbprint)
				}
				return
			}
			require.Zero(t, up.count())
			if tc.status == http.StatusServiceUnavailable {
				require.NotEmpty(t, rec.Header().Get("Retry-After"))
			} else {
				require.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
			}
			_, err := gw.Verify(mk())
			requireRefusal(t, err, tc.status, tc.reason, nil)
			for _, e := range tc.errs {
				require.ErrorIs(t, err, e)
			}
		})
	}
}
