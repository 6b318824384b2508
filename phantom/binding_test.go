package phantom

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

func newProofer(t testing.TB) *dpop.Proofer {
	t.Helper()
	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: newKey(t)})
	require.NoError(t, err)
	return p
}

func proof(t testing.TB, p *dpop.Proofer, method, target, token, nonce string) string {
	t.Helper()
	v, err := p.Proof(method, testBaseURL+target, dpop.ProofOptions{AccessToken: token, Nonce: nonce})
	require.NoError(t, err)
	return v
}

func newCert(t testing.TB, cn string) *x509.Certificate {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

// withCert returns r as if it came over TLS with cert.
func withCert(r *http.Request, cert *x509.Certificate) *http.Request {
	if cert != nil {
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, HandshakeComplete: true}
	}
	return r
}

// bindingGateway has both verifiers, told about each other.
func bindingGateway(as *fakeAS, nonces *dpop.Nonces) *Gateway {
	g := as.gateway(ModeIntrospectionJWT)
	g.InsecureAllowUnbound = false
	g.DPoP = &dpop.Verifier{BaseURL: testBaseURL, Nonces: nonces, CheckedElsewhere: []string{"x5t#S256"}}
	g.MTLS = &mtlsbound.Verifier{CheckedElsewhere: []string{"jkt", "jwk"}}
	return g
}

func TestSenderConstraints(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	alice := newProofer(t)
	mallory := newProofer(t)
	cert := newCert(t, "alice")
	other := newCert(t, "mallory")
	aliceJWK, err := json.Marshal(&jose.JWK{Key: alice.Public()})
	require.NoError(t, err)
	as.active("dpop-tok", map[string]any{"cnf": map[string]any{"jkt": alice.JKT()}})
	as.active("jwk-tok", map[string]any{"cnf": map[string]any{"jwk": json.RawMessage(aliceJWK)}})
	as.active("mtls-tok", map[string]any{"cnf": map[string]any{"x5t#S256": mtlsbound.Thumbprint(cert)}})
	as.active("both-tok", map[string]any{"cnf": map[string]any{"jkt": alice.JKT(), "x5t#S256": mtlsbound.Thumbprint(cert)}})
	as.active("bearer-tok", nil)
	as.active("kid-tok", map[string]any{"cnf": map[string]any{"kid": "k1"}})
	as.active("jwe-tok", map[string]any{"cnf": map[string]any{"jkt": alice.JKT(), "jwe": "x.y.z.a.b"}})
	as.active("bad-cnf-tok", map[string]any{"cnf": map[string]any{"jkt": "short"}})
	as.active("cnf-string-tok", map[string]any{"cnf": "jkt"})
	g := bindingGateway(as, nil)

	type req struct {
		scheme, token string
		proof         string
		cert          *x509.Certificate
		host          string
	}
	tests := []struct {
		name   string
		gw     *Gateway
		req    func() req
		status int
		reason Reason
		err    error
		code   string
	}{
		{name: "jkt with its proof", req: func() req {
			return req{scheme: "DPoP", token: "dpop-tok", proof: proof(t, alice, "GET", "/orders", "dpop-tok", "")}
		}, status: 200},
		{name: "jwk with its proof", req: func() req {
			return req{scheme: "DPoP", token: "jwk-tok", proof: proof(t, alice, "GET", "/orders", "jwk-tok", "")}
		}, status: 200},
		{name: "lower-case dpop scheme", req: func() req {
			return req{scheme: "dpop", token: "dpop-tok", proof: proof(t, alice, "GET", "/orders", "dpop-tok", "")}
		}, status: 200},
		{name: "DPoP-bound token as Bearer", req: func() req {
			return req{scheme: "Bearer", token: "dpop-tok", proof: proof(t, alice, "GET", "/orders", "dpop-tok", "")}
		}, status: 401, reason: ReasonBearerDowngrade, err: ErrBearerDowngrade, code: CodeInvalidToken},
		{name: "no proof", req: func() req { return req{scheme: "DPoP", token: "dpop-tok"} },
			status: 401, reason: ReasonInvalidProof, err: dpop.ErrInvalidProof, code: CodeInvalidDPoPProof},
		{name: "two proofs", req: func() req {
			p := proof(t, alice, "GET", "/orders", "dpop-tok", "")
			return req{scheme: "DPoP", token: "dpop-tok", proof: p + "\n" + p}
		}, status: 401, reason: ReasonInvalidProof, err: dpop.ErrInvalidProof, code: CodeInvalidDPoPProof},
		{name: "proof of another key", req: func() req {
			return req{scheme: "DPoP", token: "dpop-tok", proof: proof(t, mallory, "GET", "/orders", "dpop-tok", "")}
		}, status: 401, reason: ReasonBindingMismatch, err: dpop.ErrBindingMismatch, code: CodeInvalidToken},
		{name: "ath of another token", req: func() req {
			return req{scheme: "DPoP", token: "dpop-tok", proof: proof(t, alice, "GET", "/orders", "jwk-tok", "")}
		}, status: 401, reason: ReasonInvalidProof, err: dpop.ErrInvalidProof, code: CodeInvalidDPoPProof},
		{name: "proof for another method", req: func() req {
			return req{scheme: "DPoP", token: "dpop-tok", proof: proof(t, alice, "POST", "/orders", "dpop-tok", "")}
		}, status: 401, reason: ReasonInvalidProof, err: dpop.ErrInvalidProof, code: CodeInvalidDPoPProof},
		{name: "proof for another path", req: func() req {
			return req{scheme: "DPoP", token: "dpop-tok", proof: proof(t, alice, "GET", "/admin", "dpop-tok", "")}
		}, status: 401, reason: ReasonInvalidProof, err: dpop.ErrInvalidProof, code: CodeInvalidDPoPProof},
		{name: "Host header cannot move htu", req: func() req {
			p, err := alice.Proof("GET", "https://evil.example/orders", dpop.ProofOptions{AccessToken: "dpop-tok"})
			require.NoError(t, err)
			return req{scheme: "DPoP", token: "dpop-tok", proof: p, host: "evil.example"}
		}, status: 401, reason: ReasonInvalidProof, err: dpop.ErrInvalidProof, code: CodeInvalidDPoPProof},
		{name: "DPoP scheme, unbound token", req: func() req {
			return req{scheme: "DPoP", token: "bearer-tok", proof: proof(t, alice, "GET", "/orders", "bearer-tok", "")}
		}, status: 401, reason: ReasonUnbound, err: ErrUnbound, code: CodeInvalidToken},
		{name: "DPoP scheme, certificate-bound token", req: func() req {
			return req{scheme: "DPoP", token: "mtls-tok", proof: proof(t, alice, "GET", "/orders", "mtls-tok", ""), cert: cert}
		}, status: 401, reason: ReasonUnbound, err: ErrUnbound, code: CodeInvalidToken},
		{name: "unbound Bearer refused by default", req: func() req { return req{scheme: "Bearer", token: "bearer-tok"} },
			status: 401, reason: ReasonUnbound, err: ErrUnbound, code: CodeInvalidToken},
		{name: "x5t#S256 with its certificate", req: func() req { return req{scheme: "Bearer", token: "mtls-tok", cert: cert} }, status: 200},
		{name: "x5t#S256 without a certificate", req: func() req { return req{scheme: "Bearer", token: "mtls-tok"} },
			status: 401, reason: ReasonCertificate, err: mtlsbound.ErrNoCertificate, code: CodeInvalidToken},
		{name: "x5t#S256 with another certificate", req: func() req { return req{scheme: "Bearer", token: "mtls-tok", cert: other} },
			status: 401, reason: ReasonBindingMismatch, err: mtlsbound.ErrBindingMismatch, code: CodeInvalidToken},
		{name: "both, with both", req: func() req {
			return req{scheme: "DPoP", token: "both-tok", proof: proof(t, alice, "GET", "/orders", "both-tok", ""), cert: cert}
		}, status: 200},
		{name: "both, proof only", req: func() req {
			return req{scheme: "DPoP", token: "both-tok", proof: proof(t, alice, "GET", "/orders", "both-tok", "")}
		}, status: 401, reason: ReasonCertificate, err: mtlsbound.ErrNoCertificate, code: CodeInvalidToken},
		{name: "both, certificate only", req: func() req { return req{scheme: "DPoP", token: "both-tok", cert: cert} },
			status: 401, reason: ReasonInvalidProof, err: dpop.ErrInvalidProof, code: CodeInvalidDPoPProof},
		{name: "both, as Bearer with the certificate", req: func() req { return req{scheme: "Bearer", token: "both-tok", cert: cert} },
			status: 401, reason: ReasonBearerDowngrade, err: ErrBearerDowngrade, code: CodeInvalidToken},
		{name: "both, wrong certificate", req: func() req {
			return req{scheme: "DPoP", token: "both-tok", proof: proof(t, alice, "GET", "/orders", "both-tok", ""), cert: other}
		}, status: 401, reason: ReasonBindingMismatch, err: mtlsbound.ErrBindingMismatch, code: CodeInvalidToken},
		{name: "kid is not supported", req: func() req { return req{scheme: "Bearer", token: "kid-tok", cert: cert} },
			status: 401, reason: ReasonUnsupportedBinding, err: ErrUnsupportedConfirmation, code: CodeInvalidToken},
		{name: "unknown method beside jkt", req: func() req {
			return req{scheme: "DPoP", token: "jwe-tok", proof: proof(t, alice, "GET", "/orders", "jwe-tok", "")}
		}, status: 401, reason: ReasonUnsupportedBinding, err: ErrUnsupportedConfirmation, code: CodeInvalidToken},
		{name: "malformed jkt", req: func() req {
			return req{scheme: "DPoP", token: "bad-cnf-tok", proof: proof(t, alice, "GET", "/orders", "bad-cnf-tok", "")}
		}, status: 401, reason: ReasonMalformedBinding, err: ErrMalformedConfirmation, code: CodeInvalidToken},
		{name: "cnf not an object", req: func() req { return req{scheme: "Bearer", token: "cnf-string-tok"} },
			status: 401, reason: ReasonMalformedBinding, err: ErrMalformedConfirmation, code: CodeInvalidToken},
		{name: "DPoP-bound, no DPoP verifier", gw: func() *Gateway { g := as.gateway(ModeIntrospectionJWT); return g }(), req: func() req {
			return req{scheme: "DPoP", token: "dpop-tok", proof: proof(t, alice, "GET", "/orders", "dpop-tok", "")}
		}, status: 401, reason: ReasonUnsupportedBinding, err: ErrUnsupportedConfirmation, code: CodeInvalidToken},
		{name: "certificate-bound, no mTLS verifier", gw: func() *Gateway { g := as.gateway(ModeIntrospectionJWT); return g }(),
			req:    func() req { return req{scheme: "Bearer", token: "mtls-tok", cert: cert} },
			status: 401, reason: ReasonUnsupportedBinding, err: ErrUnsupportedConfirmation, code: CodeInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gw := g
			if tc.gw != nil {
				gw = tc.gw
			}
			rq := tc.req()
			mk := func() *http.Request {
				r := request("GET", "/orders", rq.scheme+" "+rq.token)
				for p := range strings.SplitSeq(rq.proof, "\n") {
					if p != "" {
						r.Header.Add("DPoP", p)
					}
				}
				if rq.host != "" {
					r.Host = rq.host
				}
				return withCert(r, rq.cert)
			}
			up := &upstream{}
			rec := serve(gw.Wrap(up), mk())
			require.Equal(t, tc.status, rec.Code)
			if tc.status == 200 {
				require.Equal(t, 1, up.count())
				require.Empty(t, up.headers.Values("DPoP"))
				require.True(t, strings.HasPrefix(up.headers.Get("Authorization"), "Bearer ey"))
				res := up.result
				require.NotNil(t, res)
				require.Equal(t, rq.scheme == "DPoP" || rq.scheme == "dpop", res.DPoP != nil)
				if res.DPoP != nil {
					require.NotNil(t, res.DPoP.Proof)
					require.Equal(t, alice.JKT(), res.DPoP.Proof.JKT)
				}
				require.Equal(t, rq.cert != nil, res.MTLS != nil)
				if res.MTLS != nil {
					require.Equal(t, mtlsbound.Thumbprint(cert), res.MTLS.Thumbprint)
				}
				return
			}
			require.Zero(t, up.count())
			// The same decision through Verify, with a fresh proof.
			if rq.proof != "" && tc.reason != ReasonBearerDowngrade {
				rq = tc.req()
			}
			_, err := gw.Verify(mk())
			requireRefusal(t, err, tc.status, tc.reason, tc.err)
			ch, perr := oautherr.ParseChallenges(rec.Header().Get("WWW-Authenticate"))
			require.NoError(t, perr)
			scheme := "DPoP"
			if strings.EqualFold(rq.scheme, "Bearer") {
				scheme = "Bearer"
			}
			c, ok := oautherr.Find(ch, scheme)
			require.True(t, ok, "a challenge for the scheme used")
			require.Equal(t, tc.code, c.Get("error"))
			if d, ok := oautherr.Find(ch, "DPoP"); ok && gw.DPoP != nil {
				require.Equal(t, "ES256 PS256 EdDSA", d.Get("algs"))
			}
		})
	}
}

func TestReplayedProof(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	alice := newProofer(t)
	as.active("tok", map[string]any{"cnf": map[string]any{"jkt": alice.JKT()}})
	g := bindingGateway(as, nil)
	h := g.Wrap(&upstream{})
	p := proof(t, alice, "GET", "/orders", "tok", "")
	mk := func() *http.Request {
		r := request("GET", "/orders", "DPoP tok")
		r.Header.Set("DPoP", p)
		return r
	}
	require.Equal(t, 200, serve(h, mk()).Code)
	rec := serve(h, mk())
	require.Equal(t, 401, rec.Code)
	_, err := g.Verify(mk())
	requireRefusal(t, err, 401, ReasonReplayedProof, dpop.ErrReplay)
	require.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_dpop_proof"`)
}

func TestDPoPNonces(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	alice := newProofer(t)
	as.active("tok", map[string]any{"cnf": map[string]any{"jkt": alice.JKT()}})
	nonces := &dpop.Nonces{Secrets: [][]byte{[]byte(strings.Repeat("s", 32))}}
	g := bindingGateway(as, nonces)
	h := g.Wrap(&upstream{})

	r := request("GET", "/orders", "DPoP tok")
	r.Header.Set("DPoP", proof(t, alice, "GET", "/orders", "tok", ""))
	rec := serve(h, r)
	require.Equal(t, 401, rec.Code)
	require.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="use_dpop_nonce"`)
	nonce := rec.Header().Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	_, err := g.Verify(r)
	requireRefusal(t, err, 401, ReasonUseNonce, dpop.ErrUseNonce)

	r = request("GET", "/orders", "DPoP tok")
	r.Header.Set("DPoP", proof(t, alice, "GET", "/orders", "tok", nonce))
	require.Equal(t, 200, serve(h, r).Code)

	// Every 401 carries a fresh nonce, the no-token one included.
	rec = serve(h, request("GET", "/orders", ""))
	require.Equal(t, 401, rec.Code)
	require.NotEmpty(t, rec.Header().Get("DPoP-Nonce"))
	ch, err := oautherr.ParseChallenges(rec.Header().Get("WWW-Authenticate"))
	require.NoError(t, err)
	require.Len(t, ch, 2, "DPoP and Bearer (certificate-bound tokens use Bearer)")
	require.True(t, ch[0].Is("DPoP"))
	require.Empty(t, ch[0].Get("error"))
}

func TestAuthRequestTraefikOrigin(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	alice := newProofer(t)
	as.active("tok", map[string]any{"cnf": map[string]any{"jkt": alice.JKT()}})
	g := bindingGateway(as, nil)
	a := &AuthRequest{Gateway: g, Protocol: ProtocolTraefik, TrustedProxies: loopback}
	for _, tc := range []struct {
		name, proto, host string
		status            int
	}{
		{"matching origin", "https", "api.example.com", 200},
		{"another host", "https", "evil.example", 401},
		{"plain http", "http", "api.example.com", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string][]string{
				"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/orders"},
				"X-Forwarded-Proto": {tc.proto}, "X-Forwarded-Host": {tc.host},
				"Authorization": {"DPoP tok"}, "Dpop": {proof(t, alice, "GET", "/orders", "tok", "")},
			}
			rec := serve(a, authReq("GET", "/auth", "127.0.0.1:9", h))
			require.Equal(t, tc.status, rec.Code)
		})
	}
}
