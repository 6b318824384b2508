package authserver_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// TestFAPIFlow runs the whole FAPI 2.0 flow by hand: PAR with a signed
// request object, private_key_jwt and a DPoP proof under required nonces,
// a JARM response, the DPoP-bound token exchange, userinfo and
// introspection.
func TestFAPIFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) {
		c.DPoPNonce = authserver.NonceRequired
		c.UserinfoDPoPNonce = authserver.NonceRequired
	})
	ep := e.srv.Endpoints()
	dk := genEC(t)
	verifier, challenge := pkce()
	ro := e.roClaims(fapiID, challenge)
	ro["response_mode"] = "jwt"

	// PAR: the first proof has no nonce and is refused with one.
	form := func() url.Values {
		return e.withAssertion(url.Values{"request": {e.requestObject(ro)}, "client_id": {fapiID}}, fapiID)
	}
	r := e.post(nil, ep.PAR, form(), dpopHeader(e.proof(dk, "POST", ep.PAR)))
	requireOAuthError(t, r, http.StatusBadRequest, "use_dpop_nonce")
	nonce := r.header.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	ro["jti"] = randomID()
	uri := e.push(nil, form(), dpopHeader(e.proof(dk, "POST", ep.PAR, withNonce(nonce))))

	cb, err := e.authorize(url.Values{"client_id": {fapiID}, "request_uri": {uri}})
	require.NoError(t, err)
	require.Equal(t, redirectURI, cb.URL.Scheme+"://"+cb.URL.Host+cb.URL.Path)
	require.Empty(t, cb.URL.Query().Get("code"), "JARM carries the code inside the JWT only")
	_, jc := e.verifyServerJWT(cb.Params().Get("response"))
	require.Equal(t, e.srv.Issuer(), jc["iss"])
	require.Equal(t, fapiID, jc["aud"])
	require.Equal(t, ro["state"], jc["state"])
	code, _ := jc["code"].(string)
	require.NotEmpty(t, code)

	r = e.exchange(nil, fapiID, code, verifier, dpopHeader(e.proof(dk, "POST", ep.Token, withNonce(nonce))))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.NotEmpty(t, r.header.Get("DPoP-Nonce"), "a fresh nonce in every response")
	tok := decodeJSON(t, r)
	require.Equal(t, "DPoP", tok["token_type"])
	at := tok["access_token"].(string)
	require.NotEmpty(t, tok["refresh_token"])

	// userinfo has its own nonce.
	get := func(p string) httpResult {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ep.Userinfo, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "DPoP "+at)
		req.Header.Set("DPoP", p)
		return e.do(e.hc, req)
	}
	ath := sha256.Sum256([]byte(at))
	withATH := func(c claims) { c["ath"] = b64(ath[:]) }
	r = get(e.proof(dk, "GET", ep.Userinfo, withATH, withNonce(nonce)))
	require.Equal(t, http.StatusUnauthorized, r.status, "the AS nonce is not valid at the RS")
	ch, err := oautherr.ParseHeader(r.header)
	require.NoError(t, err)
	c, ok := oautherr.Find(ch, "DPoP")
	require.True(t, ok)
	require.Equal(t, "use_dpop_nonce", c.Get("error"))
	rsNonce := r.header.Get("DPoP-Nonce")
	r = get(e.proof(dk, "GET", ep.Userinfo, withATH, withNonce(rsNonce)))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, "test-user", decodeJSON(t, r)["sub"])

	m := e.requireActive(at, true)
	require.Equal(t, map[string]any{"jkt": jktOf(t, dk)}, m["cnf"])
	require.Equal(t, "DPoP", m["token_type"])
	require.Equal(t, fapiID, m["client_id"])
}

// TestSecretClientWithOAuth2 drives the secret client through
// golang.org/x/oauth2: code flow with PKCE, refresh, client credentials.
func TestSecretClientWithOAuth2(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.hc)
	conf := &oauth2.Config{
		ClientID: basicID, ClientSecret: basicSecret, RedirectURL: redirectURI, Scopes: []string{"openid"},
		Endpoint: oauth2.Endpoint{AuthURL: ep.Authorization, TokenURL: ep.Token, AuthStyle: oauth2.AuthStyleInHeader},
	}
	verifier := oauth2.GenerateVerifier()
	cb, err := e.srv.Authorize(ctx, conf.AuthCodeURL("xyz", oauth2.S256ChallengeOption(verifier)))
	require.NoError(t, err)
	p := cb.Params()
	require.Equal(t, "xyz", p.Get("state"))
	require.Equal(t, e.srv.Issuer(), p.Get("iss"))
	tok, err := conf.Exchange(ctx, p.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	require.Equal(t, "Bearer", tok.Type())
	require.NotEmpty(t, tok.RefreshToken)

	// Refresh rotates the refresh token.
	tok.Expiry = tok.Expiry.Add(-24 * 3600e9)
	tok2, err := conf.TokenSource(ctx, tok).Token()
	require.NoError(t, err)
	require.NotEqual(t, tok.AccessToken, tok2.AccessToken)
	require.NotEqual(t, tok.RefreshToken, tok2.RefreshToken)
	e.requireActive(tok2.AccessToken, true)

	// Client credentials.
	cc := &clientcredentials.Config{ClientID: basicID, ClientSecret: basicSecret, TokenURL: ep.Token,
		AuthStyle: oauth2.AuthStyleInHeader, Scopes: []string{"read"}}
	ctok, err := cc.Token(ctx)
	require.NoError(t, err)
	m := e.requireActive(ctok.AccessToken, true)
	require.Equal(t, "read", m["scope"])
	require.Equal(t, basicID, m["sub"])
}

// TestMTLSFlow binds tokens to the tls_client_auth certificate.
func TestMTLSFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.MTLSEndpoints()
	verifier, challenge := pkce()
	form := url.Values{"client_id": {tlsID}, "response_type": {"code"}, "redirect_uri": {redirectURI},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"s1"}}
	r := e.post(e.tlsHC, ep.PAR, form, nil)
	require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
	uri := decodeJSON(t, r)["request_uri"].(string)
	cb, err := e.authorize(url.Values{"client_id": {tlsID}, "request_uri": {uri}})
	require.NoError(t, err)
	r = e.exchange(e.tlsHC, tlsID, cb.Params().Get("code"), verifier, nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	tok := decodeJSON(t, r)
	require.Equal(t, "Bearer", tok["token_type"])
	at := tok["access_token"].(string)

	sum := sha256.Sum256(e.tlsCert.Leaf.Raw)
	m := e.requireActive(at, true)
	require.Equal(t, map[string]any{"x5t#S256": b64(sum[:])}, m["cnf"])

	get := func(hc *http.Client) httpResult {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ep.Userinfo, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+at)
		return e.do(hc, req)
	}
	require.Equal(t, http.StatusOK, get(e.tlsHC).status)
	requireOAuthError(t, get(e.hc), http.StatusUnauthorized, "invalid_token")
	requireOAuthError(t, get(e.selfHC), http.StatusUnauthorized, "invalid_token")
}
