package authserver_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// TestClientKeyRegistration covers the ways a client registers keys: a JWK
// Set with kids, bare Keys, and x5c certificates for
// self_signed_tls_client_auth.
func TestClientKeyRegistration(t *testing.T) {
	t.Parallel()
	self, err := authserver.SelfSignedCertificate("x5c-client")
	require.NoError(t, err)
	jwk := jwkMap(t, self.Leaf.PublicKey)
	jwk["x5c"] = []string{base64.StdEncoding.EncodeToString(self.Leaf.Raw)}
	jwks, err := json.Marshal(map[string]any{"keys": []any{jwk}})
	require.NoError(t, err)
	e := newEnv(t, func(c *authserver.Config) {
		c.Clients = append(c.Clients, authserver.Client{ID: "x5c-client", AuthMethod: authserver.AuthSelfSignedTLSClient, JWKS: jwks,
			GrantTypes: []string{authserver.GrantClientCredentials}})
	})
	ep := e.srv.Endpoints().Token
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {"x5c-client"}}
	r := e.post(e.srv.HTTPClientWithCertificate(self), ep, cc, nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	requireOAuthError(t, e.post(e.selfHC, ep, cc, nil), http.StatusUnauthorized, "invalid_client")

	now := e.clock.Now()
	assertion := func(clientID, kid string) url.Values {
		a := sign(t, e.jwtKey, jose.SignerOptions{KeyID: kid}, claims{"iss": clientID, "sub": clientID, "aud": e.srv.Issuer(),
			"jti": randomID(), "exp": now.Add(time.Minute).Unix()})
		return url.Values{"grant_type": {"client_credentials"}, "client_assertion": {a},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}
	}
	kid, err := jose.Thumbprint(e.jwtKey.Public())
	require.NoError(t, err)
	// jwtID registered a JWK Set with a kid: the right kid or none verify,
	// another kid does not.
	require.Equal(t, http.StatusOK, e.post(nil, ep, assertion(jwtID, kid), nil).status)
	require.Equal(t, http.StatusOK, e.post(nil, ep, assertion(jwtID, ""), nil).status)
	requireOAuthError(t, e.post(nil, ep, assertion(jwtID, "other"), nil), http.StatusUnauthorized, "invalid_client")
	// fapiID registered a bare key: any kid is accepted (it cannot know one),
	// and the grant check comes after authentication.
	requireOAuthError(t, e.post(nil, ep, assertion(fapiID, "anything"), nil), http.StatusBadRequest, "unauthorized_client")

	require.True(t, e.srv.PKI().CA().IsCA)
	pub, err := jose.Thumbprint(e.srv.PublicKey())
	require.NoError(t, err)
	require.Equal(t, e.srv.KeyID(), pub)
}
