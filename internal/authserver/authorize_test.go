package authserver_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// requireAuthorizeError asserts that the authorization endpoint answered
// with a 400 error body (no redirect) with code.
func requireAuthorizeError(t *testing.T, err error, code string) {
	t.Helper()
	require.ErrorIs(t, err, authserver.ErrAuthorize)
	var oe *oautherr.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, code, oe.Code)
	require.Equal(t, http.StatusBadRequest, oe.Status)
}

func directParams(clientID, challenge string, mods ...func(url.Values)) url.Values {
	v := url.Values{"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {redirectURI},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {"st"}}
	for _, m := range mods {
		m(v)
	}
	return v
}

func TestAuthorizationRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, challenge := pkce()

	t.Run("non-pushed request for a PAR client goes to the redirect URI with iss", func(t *testing.T) {
		cb, err := e.authorize(directParams(jwtID, challenge))
		require.NoError(t, err)
		p := cb.Params()
		require.Equal(t, "invalid_request", p.Get("error"))
		require.Equal(t, "st", p.Get("state"))
		require.Equal(t, e.srv.Issuer(), p.Get("iss"))
		require.Empty(t, p.Get("code"))
	})
	t.Run("non-pushed request for a PAR client with an unregistered redirect URI", func(t *testing.T) {
		_, err := e.authorize(directParams(jwtID, challenge, func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }))
		requireAuthorizeError(t, err, "invalid_request")
	})
	t.Run("reused request_uri", func(t *testing.T) {
		uri := e.pushRO(jwtID, e.roClaims(jwtID, challenge), nil)
		_, err := e.authorize(url.Values{"client_id": {jwtID}, "request_uri": {uri}})
		require.NoError(t, err)
		_, err = e.authorize(url.Values{"client_id": {jwtID}, "request_uri": {uri}})
		requireAuthorizeError(t, err, "invalid_request_uri")
	})
	t.Run("expired request_uri", func(t *testing.T) {
		e := newEnv(t, nil)
		uri := e.pushRO(jwtID, e.roClaims(jwtID, challenge), nil)
		e.clock.Advance(61 * time.Second)
		_, err := e.authorize(url.Values{"client_id": {jwtID}, "request_uri": {uri}})
		requireAuthorizeError(t, err, "invalid_request_uri")
	})
	t.Run("request_uri of another client", func(t *testing.T) {
		uri := e.pushRO(jwtID, e.roClaims(jwtID, challenge), nil)
		_, err := e.authorize(url.Values{"client_id": {fapiID}, "request_uri": {uri}})
		requireAuthorizeError(t, err, "invalid_request_uri")
		// The rightful client can still use it.
		_, err = e.authorize(url.Values{"client_id": {jwtID}, "request_uri": {uri}})
		require.NoError(t, err)
	})
	t.Run("unknown request_uri", func(t *testing.T) {
		_, err := e.authorize(url.Values{"client_id": {jwtID}, "request_uri": {"urn:ietf:params:oauth:request_uri:nope"}})
		requireAuthorizeError(t, err, "invalid_request_uri")
	})
	t.Run("redirect_uri mismatch", func(t *testing.T) {
		_, err := e.authorize(directParams(basicID, challenge, func(v url.Values) { v.Set("redirect_uri", redirectURI+"/other") }))
		requireAuthorizeError(t, err, "invalid_request")
	})
	t.Run("redirect_uri missing", func(t *testing.T) {
		_, err := e.authorize(directParams(basicID, challenge, func(v url.Values) { v.Del("redirect_uri") }))
		requireAuthorizeError(t, err, "invalid_request")
	})
	t.Run("unknown client", func(t *testing.T) {
		_, err := e.authorize(directParams("nobody", challenge))
		requireAuthorizeError(t, err, "invalid_client")
	})
	t.Run("missing client_id", func(t *testing.T) {
		_, err := e.authorize(directParams("", challenge))
		requireAuthorizeError(t, err, "invalid_request")
	})
	redirected := []struct {
		name   string
		params url.Values
		code   string
	}{
		{"PKCE plain", directParams(basicID, challenge, func(v url.Values) { v.Set("code_challenge_method", "plain") }), "invalid_request"},
		{"PKCE missing", directParams(basicID, challenge, func(v url.Values) { v.Del("code_challenge") }), "invalid_request"},
		{"response_type token", directParams(basicID, challenge, func(v url.Values) { v.Set("response_type", "token") }), "unsupported_response_type"},
		{"unsigned request for a JAR client", directParams(jarmECID, challenge, func(v url.Values) { v.Set("response_mode", "jwt") }), "invalid_request"},
		{"request object with a bad signature", directParams(jarmECID, challenge, func(v url.Values) {
			v.Set("request", unsigned(t, map[string]any{"alg": "none"}, e.roClaims(jarmECID, challenge)))
		}), "invalid_request_object"},
	}
	for _, tt := range redirected {
		t.Run(tt.name, func(t *testing.T) {
			cb, err := e.authorize(tt.params)
			require.NoError(t, err)
			p := cb.Params()
			if r := p.Get("response"); r != "" { // JARM clients get errors in JARM too
				var c claims
				p = url.Values{}
				_, c = e.decodeJARM(r, e.jarmEC) // only jarmECID requires JARM here
				for k, v := range c {
					if s, ok := v.(string); ok {
						p.Set(k, s)
					}
				}
			}
			require.Equal(t, tt.code, p.Get("error"))
			require.Equal(t, e.srv.Issuer(), p.Get("iss"))
		})
	}
	t.Run("client without the authorization_code grant", func(t *testing.T) {
		_, err := e.authorize(directParams(rsID, challenge))
		requireAuthorizeError(t, err, "unauthorized_client")
	})
	t.Run("request and request_uri together", func(t *testing.T) {
		_, err := e.authorize(url.Values{"client_id": {jwtID}, "request_uri": {"urn:x"}, "request": {"a.b.c"}})
		requireAuthorizeError(t, err, "invalid_request")
	})
	t.Run("repeated parameter", func(t *testing.T) {
		v := directParams(basicID, challenge)
		v.Add("state", "again")
		_, err := e.authorize(v)
		requireAuthorizeError(t, err, "invalid_request")
	})
}

// decodeJARM decrypts (with key, when given) and verifies a JARM response.
func (e *env) decodeJARM(resp string, key any) (*jose.JWS, claims) {
	e.t.Helper()
	if key != nil {
		pt, h, err := jose.Decrypt(resp, []jose.DecryptionKey{{Key: key}}, jose.DecryptOptions{})
		require.NoError(e.t, err)
		require.Equal(e.t, jose.A256GCM, h.Enc)
		require.Equal(e.t, "JWT", h.Cty)
		resp = string(pt)
	}
	j, c := e.verifyServerJWT(resp)
	require.Equal(e.t, e.srv.KeyID(), j.Header.Kid)
	now := e.clock.Now().Unix()
	require.InDelta(e.t, float64(now), c["iat"], 1)
	require.Greater(e.t, c["exp"], float64(now))
	require.LessOrEqual(e.t, c["exp"], float64(now+60))
	return j, c
}

// TestResponseModes covers the plain and JARM response modes, signed and
// encrypted.
func TestResponseModes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) {
		c.Clients = append(c.Clients, authserver.Client{ID: "jarm-rsa", AuthMethod: authserver.AuthClientSecretBasic, Secret: "x",
			RedirectURIs: []string{redirectURI}, JARMEncryptionKey: &rsaKey().PublicKey})
	})
	_, challenge := pkce()
	tests := []struct {
		mode     string
		where    string // query, fragment or form
		jarm     bool
		clientID string
		key      any
	}{
		{"", "query", false, basicID, nil},
		{"query", "query", false, basicID, nil},
		{"fragment", "fragment", false, basicID, nil},
		{"form_post", "form", false, basicID, nil},
		{"jwt", "query", true, basicID, nil},
		{"query.jwt", "query", true, basicID, nil},
		{"fragment.jwt", "fragment", true, basicID, nil},
		{"form_post.jwt", "form", true, basicID, nil},
		{"jwt", "query", true, "jarm-rsa", (*rsa.PrivateKey)(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.clientID+"/"+tt.mode, func(t *testing.T) {
			p := directParams(tt.clientID, challenge, func(v url.Values) {
				if tt.mode != "" {
					v.Set("response_mode", tt.mode)
				}
			})
			cb, err := e.authorize(p)
			require.NoError(t, err)
			require.Equal(t, "client.example.org", cb.URL.Host)
			var got url.Values
			switch tt.where {
			case "query":
				got = cb.URL.Query()
				require.Empty(t, cb.URL.Fragment)
			case "fragment":
				got, err = url.ParseQuery(cb.URL.Fragment)
				require.NoError(t, err)
				require.Empty(t, cb.URL.RawQuery)
			case "form":
				require.NotNil(t, cb.Form)
				got = cb.Form
			}
			if !tt.jarm {
				require.NotEmpty(t, got.Get("code"))
				require.Equal(t, "st", got.Get("state"))
				require.Equal(t, e.srv.Issuer(), got.Get("iss"))
				return
			}
			require.Len(t, got, 1, "a JARM response carries only the response parameter")
			var key any
			if tt.key != nil {
				key = rsaKey()
			}
			_, c := e.decodeJARM(got.Get("response"), key)
			require.NotEmpty(t, c["code"])
			require.Equal(t, "st", c["state"])
			require.Equal(t, e.srv.Issuer(), c["iss"])
			require.Equal(t, tt.clientID, c["aud"])
		})
	}

	t.Run("ECDH-ES encrypted JARM for a request object by value", func(t *testing.T) {
		ro := e.roClaims(jarmECID, challenge)
		ro["response_mode"] = "query.jwt"
		cb, err := e.authorize(url.Values{"client_id": {jarmECID}, "request": {e.requestObject(ro)}})
		require.NoError(t, err)
		resp := cb.Params().Get("response")
		require.Equal(t, 5, jose.Segments(resp))
		_, c := e.decodeJARM(resp, e.jarmEC)
		require.Equal(t, ro["state"], c["state"])
		require.NotEmpty(t, c["code"])
	})
	t.Run("POST authorization request answers 303", func(t *testing.T) {
		r := e.post(nil, e.srv.Endpoints().Authorization, directParams(basicID, challenge), nil)
		require.Equal(t, http.StatusSeeOther, r.status)
		u, err := url.Parse(r.header.Get("Location"))
		require.NoError(t, err)
		require.NotEmpty(t, u.Query().Get("code"))
	})
	t.Run("form_post page auto-submits and escapes", func(t *testing.T) {
		p := directParams(basicID, challenge, func(v url.Values) {
			v.Set("response_mode", "form_post")
			v.Set("state", `"><script>x</script>`)
		})
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.authorizeURL(p), nil)
		require.NoError(t, err)
		r := e.do(e.hc, req)
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, string(r.body), "document.forms[0].submit()")
		require.NotContains(t, string(r.body), "<script>x")
		cb, err := e.authorize(p)
		require.NoError(t, err)
		require.Equal(t, `"><script>x</script>`, cb.Form.Get("state"))
	})
}

// TestRequestObjectByValueParams checks that non-string claims reach the
// request as JSON text and that outer parameters are ignored.
func TestRequestObjectByValueParams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	_, challenge := pkce()
	ro := e.roClaims(jarmECID, challenge)
	ro["response_mode"] = "query.jwt"
	ro["max_age"] = 86400
	ro["claims"] = map[string]any{"userinfo": map[string]any{"name": nil}}
	cb, err := e.authorize(url.Values{"client_id": {jarmECID}, "request": {e.requestObject(ro)},
		"state": {"outer-state-ignored"}, "redirect_uri": {"https://evil.example/cb"}})
	require.NoError(t, err)
	require.Equal(t, "client.example.org", cb.URL.Host)
	_, c := e.decodeJARM(cb.Params().Get("response"), e.jarmEC)
	require.Equal(t, ro["state"], c["state"])
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	require.False(t, strings.Contains(string(raw), "outer-state-ignored"))
}
