package authserver_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// TestStartDefault uses every ready-made client of the default server.
func TestStartDefault(t *testing.T) {
	t.Parallel()
	d, err := authserver.StartDefault()
	require.NoError(t, err)
	defer d.Close()
	ep := d.Server.Endpoints()
	post := func(hc *http.Client, endpoint string, form url.Values, hdr http.Header) httpResult {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := httpx.ReadBody(resp.Body, 0)
		require.NoError(t, err)
		return httpResult{resp.StatusCode, resp.Header, body}
	}
	signer := func(typ string) *jose.Signer {
		s, err := jose.NewSigner(d.FAPI.Key, jose.SignerOptions{Type: typ, KeyID: d.FAPI.KeyID})
		require.NoError(t, err)
		return s
	}
	signJSON := func(s *jose.Signer, c claims) string {
		out, err := s.SignJSON(c)
		require.NoError(t, err)
		return out
	}
	now := time.Now()
	assertion := func() string {
		return signJSON(signer(""), claims{"iss": d.FAPI.ID, "sub": d.FAPI.ID, "aud": d.Issuer, "jti": randomID(), "exp": now.Add(time.Minute).Unix()})
	}

	t.Run("FAPI client", func(t *testing.T) {
		dk := genEC(t)
		proofSigner, err := jose.NewSigner(dk, jose.SignerOptions{Type: "dpop+jwt", EmbedJWK: true})
		require.NoError(t, err)
		proof := func(htu, nonce string) http.Header {
			c := claims{"jti": randomID(), "htm": "POST", "htu": htu, "iat": time.Now().Unix()}
			if nonce != "" {
				c["nonce"] = nonce
			}
			return http.Header{"Dpop": {signJSON(proofSigner, c)}}
		}
		verifier, challenge := pkce()
		ro := signJSON(signer("oauth-authz-req+jwt"), claims{"iss": d.FAPI.ID, "aud": d.Issuer, "client_id": d.FAPI.ID,
			"jti": randomID(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "response_type": "code",
			"response_mode": "jwt", "redirect_uri": d.FAPI.RedirectURI, "code_challenge": challenge, "code_challenge_method": "S256"})
		form := url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "request": {ro}}
		form.Set("client_assertion", assertion())
		r := post(d.HTTPClient, ep.PAR, form, proof(ep.PAR, ""))
		oe, err := oautherr.Parse(r.status, r.header.Get("Content-Type"), r.body)
		require.NoError(t, err)
		require.Equal(t, "use_dpop_nonce", oe.Code)
		nonce := r.header.Get("DPoP-Nonce")
		form.Set("client_assertion", assertion())
		r = post(d.HTTPClient, ep.PAR, form, proof(ep.PAR, nonce))
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		var par struct {
			RequestURI string `json:"request_uri"`
		}
		require.NoError(t, json.Unmarshal(r.body, &par))
		cb, err := d.Server.Authorize(context.Background(), ep.Authorization+"?"+url.Values{"client_id": {d.FAPI.ID}, "request_uri": {par.RequestURI}}.Encode())
		require.NoError(t, err)
		j, err := jose.ParseCompact(cb.Params().Get("response"))
		require.NoError(t, err)
		require.NoError(t, j.Verify(d.Server.PublicKey(), []string{jose.ES256}))
		var jc struct {
			Code string `json:"code"`
		}
		require.NoError(t, json.Unmarshal(j.Payload, &jc))
		tf := url.Values{"grant_type": {"authorization_code"}, "code": {jc.Code}, "code_verifier": {verifier}, "redirect_uri": {d.FAPI.RedirectURI},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion()}}
		r = post(d.HTTPClient, ep.Token, tf, proof(ep.Token, nonce))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, "DPoP", jsonField(r.body, "token_type"))
	})
	t.Run("secret client and resource server", func(t *testing.T) {
		r := post(d.HTTPClient, ep.Token, url.Values{"grant_type": {"client_credentials"}}, basicAuth(d.Secret.ID, d.Secret.Secret))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		at := jsonField(r.body, "access_token")
		r = post(d.HTTPClient, ep.Introspection, url.Values{"token": {at}}, basicAuth(d.ResourceServer.ID, d.ResourceServer.Secret))
		require.Equal(t, http.StatusOK, r.status)
		var m map[string]any
		require.NoError(t, json.Unmarshal(r.body, &m))
		require.Equal(t, true, m["active"])
		// The resource server has no grant of its own.
		r = post(d.HTTPClient, ep.Token, url.Values{"grant_type": {"client_credentials"}}, basicAuth(d.ResourceServer.ID, d.ResourceServer.Secret))
		oe, err := oautherr.Parse(r.status, r.header.Get("Content-Type"), r.body)
		require.NoError(t, err)
		require.Equal(t, "unauthorized_client", oe.Code)
	})
	for _, c := range []authserver.MTLSClient{d.MTLS, d.SelfSigned} {
		t.Run(c.ID, func(t *testing.T) {
			r := post(c.HTTPClient, d.Server.MTLSEndpoints().Token, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}}, nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			r = post(d.HTTPClient, ep.Introspection, url.Values{"token": {jsonField(r.body, "access_token")}}, basicAuth(d.ResourceServer.ID, d.ResourceServer.Secret))
			var m struct {
				Cnf map[string]string `json:"cnf"`
			}
			require.NoError(t, json.Unmarshal(r.body, &m))
			sum := sha256.Sum256(c.Certificate.Leaf.Raw)
			require.Equal(t, b64(sum[:]), m.Cnf["x5t#S256"])
		})
	}
}
