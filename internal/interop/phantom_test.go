package interop_test

// Flow 4: a phantom.Gateway in front of a recording upstream, introspecting
// the peer's opaque access tokens (node-oidc-provider cannot introspect its
// at+jwt tokens, so the tokens are for the opaque resource).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/mtlsbound"
	"github.com/hardened-oauth/hardened/phantom"
)

// caseHeader marks each request a test sends through the gateway, so that
// the upstream's record shows which ones reached it.
const caseHeader = "X-Interop-Case"

// upstreamRecord is one request the upstream received.
type upstreamRecord struct {
	Case          string
	Authorization string // "Bearer <JWT>" as the gateway forwarded it
	DPoP          bool   // a DPoP header reached the upstream
}

// recordingUpstream is the API behind the gateway: it records every
// request and answers 200.
type recordingUpstream struct {
	*httptest.Server
	mu  sync.Mutex
	log []upstreamRecord
}

func newRecordingUpstream(t *testing.T) *recordingUpstream {
	t.Helper()
	u := &recordingUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.log = append(u.log, upstreamRecord{
			Case:          r.Header.Get(caseHeader),
			Authorization: r.Header.Get("Authorization"),
			DPoP:          r.Header.Get("DPoP") != "",
		})
		u.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *recordingUpstream) records() []upstreamRecord {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]upstreamRecord(nil), u.log...)
}

// gatewayUnderTest is a phantom.Gateway served over TLS (requesting client
// certificates) and proxying to a recording upstream.
type gatewayUnderTest struct {
	gw       *phantom.Gateway
	url      string
	upstream *recordingUpstream
	intros   *counter // the gateway's introspection calls

	mu   sync.Mutex
	errs []error
}

func (g *gatewayUnderTest) lastError() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.errs) == 0 {
		return nil
	}
	return g.errs[len(g.errs)-1]
}

// startGateway starts a gateway in mode for the peer pv. With nonces, its
// DPoP verifier requires its own nonces (RFC 9449 §9).
func startGateway(t *testing.T, pv *peerView, mode phantom.Mode, nonces bool, cacheTTL time.Duration) *gatewayUnderTest {
	t.Helper()
	g := &gatewayUnderTest{upstream: newRecordingUpstream(t), intros: newCounter()}
	srv := httptest.NewUnstartedServer(nil)
	base := "https://" + srv.Listener.Addr().String()
	dv := &dpop.Verifier{BaseURL: base, CheckedElsewhere: []string{"x5t#S256"}}
	if nonces {
		secret := make([]byte, 32)
		_, err := rand.Read(secret)
		require.NoError(t, err)
		dv.Nonces = &dpop.Nonces{Secrets: [][]byte{secret}}
	}
	g.gw = &phantom.Gateway{
		IntrospectionURL: pv.md.IntrospectionEndpoint,
		// The gateway is the resource server client: client_secret_basic
		// through the one AuthTransport.
		HTTPClient: &http.Client{Transport: &hardened.AuthTransport{
			Base:      g.intros.transport(t),
			Auth:      hardened.ClientSecretBasic{ClientID: env.resourceServer.id, ClientSecret: env.resourceServer.secret},
			Endpoints: []string{pv.md.IntrospectionEndpoint},
		}},
		Mode:                 mode,
		Issuer:               pv.md.Issuer,
		ClientID:             env.resourceServer.id,
		Audience:             resourceOpaque,
		DPoP:                 dv,
		MTLS:                 &mtlsbound.Verifier{CheckedElsewhere: []string{"jkt", "jwk"}},
		InsecureAllowUnbound: true,
		CacheTTL:             cacheTTL,
		OnError: func(_ *http.Request, err error) {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.errs = append(g.errs, err)
		},
	}
	switch mode {
	case phantom.ModeIntrospectionJWT:
		g.gw.JWKSURL = pv.md.JWKSURI
	case phantom.ModeJSON:
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		g.gw.Key = key
	}
	require.NoError(t, g.gw.Validate(testCtx(t)))
	target, err := url.Parse(g.upstream.URL)
	require.NoError(t, err)
	srv.Config.Handler = g.gw.Wrap(httputil.NewSingleHostReverseProxy(target))
	srv.TLS = env.serverTLS()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	require.Equal(t, base, srv.URL)
	g.url = srv.URL
	return g
}

// upstreamClaims verifies the JWT the upstream received as the upstream
// would: in ModeIntrospectionJWT the peer's RFC 9701 response (its keys,
// typ, iss, aud = the gateway's client_id), in ModeJSON the gateway's own
// JWT (the key set of Gateway.JWKSHandler). It returns the token's claims.
func (g *gatewayUnderTest) upstreamClaims(t *testing.T, pv *peerView, authorization string) map[string]any {
	t.Helper()
	jwt, ok := strings.CutPrefix(authorization, "Bearer ")
	require.True(t, ok, "upstream Authorization is Bearer")
	switch g.gw.Mode {
	case phantom.ModeIntrospectionJWT:
		claims, err := verifyIntrospectionJWT(pv, env.resourceServer.id, jwt)
		require.NoError(t, err)
		return claimsOf(t, claims)
	case phantom.ModeJSON:
		rec := httptest.NewRecorder()
		g.gw.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/jwks", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		keys, err := jose.ParseJWKSet(rec.Body.Bytes())
		require.NoError(t, err)
		jws, err := jose.ParseCompact(jwt)
		require.NoError(t, err)
		require.Equal(t, "at+jwt", jws.Header.Typ)
		_, err = jws.VerifyWith(context.Background(), jose.StaticKeys(keys), []string{jose.ES256})
		require.NoError(t, err)
		var c jose.Claims
		require.NoError(t, json.Unmarshal(jws.Payload, &c))
		require.NoError(t, c.Validate(jose.Expected{Issuer: pv.md.Issuer, Now: time.Now(), Skew: 30 * time.Second, RequireExpiry: true}))
		return claimsOf(t, jws.Payload)
	}
	t.Fatalf("mode %q", g.gw.Mode)
	return nil
}

// call sends GET /api through the gateway with hc, marked with name, and
// returns the status.
func (g *gatewayUnderTest) call(ctx context.Context, t *testing.T, hc *http.Client, name string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url+"/api", nil)
	require.NoError(t, err)
	req.Header.Set(caseHeader, name)
	resp, err := hc.Do(req)
	require.NoError(t, err, name)
	_, _ = readPeerResponse("gateway", resp)
	return resp
}

// tokenClient is a client of the gateway: its Config (for the token and
// revocation) and the *http.Client that sends the token its way.
type tokenClient struct {
	conf *hardened.Config
	ts   oauth2.TokenSource
	hc   *http.Client
	rec  *recorder // DPoP traffic, nil otherwise
}

func newTokenClient(ctx context.Context, t *testing.T, pv *peerView, conf *hardened.Config) *tokenClient {
	t.Helper()
	conf.Issuer = pv.issuer
	conf.Scopes = []string{"read"}
	tc := &tokenClient{conf: conf}
	tc.ts = conf.ClientCredentials(ctx, hardened.ResourceOption(resourceOpaque))
	tc.hc = conf.NewClient(ctx, tc.ts)
	return tc
}

func (c *tokenClient) token(t *testing.T) *oauth2.Token {
	t.Helper()
	tok, err := c.ts.Token()
	require.NoError(t, err, "client credentials")
	return tok
}

// TestPhantomGateway is flow 4, in each nonce mode and each mode whose
// upstream JWT the peer supports (the RFC 9701 response it signs; the
// gateway's own JWT over its JSON response): DPoP-bound, certificate-bound
// and unbound opaque tokens are forwarded as verified JWTs carrying their
// binding; a proof of another key, a missing certificate and a token
// revoked (once the cache TTL has passed) are refused; the upstream sees
// exactly the admitted requests, without DPoP headers. With nonces
// required, the gateway asks for its own nonce once, as the peer does.
func TestPhantomGateway(t *testing.T) {
	t.Parallel()
	const cacheTTL = time.Second
	for _, mode := range nonceModes {
		for _, pm := range []phantom.Mode{phantom.ModeIntrospectionJWT, phantom.ModeJSON} {
			t.Run(string(pm)+", nonce "+mode, func(t *testing.T) {
				t.Parallel()
				pv := peerFor(t, mode)
				ctx := testCtx(t)
				g := startGateway(t, pv, pm, mode == nonceRequired, cacheTTL)
				t.Cleanup(func() {
					if t.Failed() {
						t.Logf("gateway's last refusal: %v", g.lastError())
					}
				})

				// The three clients and their tokens, from the peer.
				dpopKey, err := dpop.GenerateKey()
				require.NoError(t, err)
				jkt, err := jose.Thumbprint(dpopKey.Public())
				require.NoError(t, err)
				dpopRec := &recorder{Base: env.transport(nil)}
				dpopRec.logOnFailure(t, "DPoP client")
				bound := newTokenClient(ctx, t, pv, &hardened.Config{
					Config:     oauth2.Config{ClientID: env.ccDPoP.id},
					Key:        env.ccDPoP.key,
					KeyID:      env.ccDPoP.kid,
					DPoPKey:    dpopKey,
					HTTPClient: &http.Client{Transport: dpopRec},
				})
				bound.rec = dpopRec
				certBound := newTokenClient(ctx, t, pv, &hardened.Config{
					Config:      oauth2.Config{ClientID: env.selfSigned.id},
					Certificate: mtlsCertificate(env.selfSigned),
					ClientAuth:  env.selfSigned.auth,
					HTTPClient:  &http.Client{Transport: newTransport(env.pki, nil)},
				})
				unbound := newTokenClient(ctx, t, pv, &hardened.Config{
					Config:                     oauth2.Config{ClientID: env.ccUnbound.id},
					Key:                        env.ccUnbound.key,
					KeyID:                      env.ccUnbound.kid,
					InsecureNoSenderConstraint: true,
					HTTPClient:                 &http.Client{Transport: env.transport(nil)},
				})
				dpopTok, certTok, bearerTok := bound.token(t), certBound.token(t), unbound.token(t)
				require.Equal(t, "DPoP", dpopTok.Type())
				require.Equal(t, "Bearer", certTok.Type())
				require.Equal(t, "Bearer", bearerTok.Type())

				// Admitted: each token with its own sender constraint.
				admitted := map[string]func(map[string]any){
					"dpop-bound": func(c map[string]any) {
						require.Equal(t, map[string]any{"jkt": jkt}, c["cnf"])
						require.Equal(t, env.ccDPoP.id, c["client_id"])
					},
					"certificate-bound": func(c map[string]any) {
						require.Equal(t, map[string]any{"x5t#S256": certSHA256(env.selfSigned.cert.Leaf)}, c["cnf"])
						require.Equal(t, env.selfSigned.id, c["client_id"])
					},
					"unbound": func(c map[string]any) {
						require.Nil(t, c["cnf"])
						require.Equal(t, env.ccUnbound.id, c["client_id"])
					},
				}
				for name, hc := range map[string]*http.Client{"dpop-bound": bound.hc, "certificate-bound": certBound.hc, "unbound": unbound.hc} {
					resp := g.call(ctx, t, hc, name)
					require.Equal(t, http.StatusOK, resp.StatusCode, "%s refused: %v", name, g.lastError())
				}

				// Refused: the DPoP-bound token with another key's proof, the
				// certificate-bound token over a connection without the
				// certificate.
				otherKey, err := dpop.GenerateKey()
				require.NoError(t, err)
				other, err := dpop.NewProofer(dpop.ProoferConfig{Key: otherKey})
				require.NoError(t, err)
				refusals := []struct {
					name    string
					hc      *http.Client
					wantErr error
				}{
					{name: "proof of another key", hc: &http.Client{Transport: &oauth2.Transport{
						Base:   &dpop.Transport{Base: env.transport(nil), Proofer: other},
						Source: oauth2.StaticTokenSource(dpopTok),
					}}, wantErr: dpop.ErrBindingMismatch},
					{name: "no client certificate", hc: &http.Client{Transport: &oauth2.Transport{
						Base:   env.transport(nil),
						Source: oauth2.StaticTokenSource(certTok),
					}}, wantErr: mtlsbound.ErrNoCertificate},
				}
				for _, r := range refusals {
					resp := g.call(ctx, t, r.hc, r.name)
					require.Equal(t, http.StatusUnauthorized, resp.StatusCode, r.name)
					require.Contains(t, resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`, r.name)
					require.ErrorIs(t, g.lastError(), phantom.ErrBindingMismatch, r.name)
					require.ErrorIs(t, g.lastError(), r.wantErr, r.name)
				}

				// Revoked at the peer: refused once the cached decision
				// has lapsed.
				require.NoError(t, bound.conf.Revoke(ctx, dpopTok.AccessToken, hardened.HintAccessToken))
				time.Sleep(cacheTTL + 100*time.Millisecond)
				resp := g.call(ctx, t, bound.hc, "revoked")
				require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
				require.ErrorIs(t, g.lastError(), phantom.ErrInactiveToken)

				// The upstream saw each admitted request once, with a JWT
				// that verifies and carries the token's binding, and no DPoP
				// header; no refused request reached it.
				seen := map[string]int{}
				for _, rec := range g.upstream.records() {
					seen[rec.Case]++
					require.False(t, rec.DPoP, "%s: DPoP header forwarded", rec.Case)
					check, ok := admitted[rec.Case]
					require.True(t, ok, "the upstream received the refused request %q", rec.Case)
					claims := g.upstreamClaims(t, pv, rec.Authorization)
					require.Equal(t, resourceOpaque, claims["aud"])
					require.Equal(t, "read", claims["scope"])
					check(claims)
				}
				require.Equal(t, map[string]int{"dpop-bound": 1, "certificate-bound": 1, "unbound": 1}, seen)

				// DPoP nonces: the peer's token endpoint and the gateway each
				// asked once with nonces required, never otherwise.
				var peerChallenges, gatewayChallenges int
				for _, e := range bound.rec.exchanges("") {
					if !e.NonceChallenge {
						continue
					}
					if strings.HasPrefix(e.URL, g.url) {
						gatewayChallenges++
					} else {
						peerChallenges++
					}
				}
				want := 0
				if mode == nonceRequired {
					want = 1
				}
				require.Equal(t, want, peerChallenges, "use_dpop_nonce from the peer")
				require.Equal(t, want, gatewayChallenges, "use_dpop_nonce from the gateway")
				t.Logf("gateway introspections: %s", formatCounts(g.intros.byEndpoint(pv.md)))
			})
		}
	}
}
