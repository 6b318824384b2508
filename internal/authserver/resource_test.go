package authserver_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

const (
	apiResource = "https://api.example.com/"
	calResource = "https://cal.example.com/"
)

// basicCode runs a direct authorization request of the basic client
// (scope openid) and returns the code and its verifier; mods change the
// query.
func (e *env) basicCode(mods ...func(url.Values)) (code, verifier string) {
	e.t.Helper()
	verifier, challenge := pkce()
	cb, err := e.authorize(directParams(basicID, challenge, append([]func(url.Values){func(v url.Values) { v.Set("scope", "openid") }}, mods...)...))
	require.NoError(e.t, err)
	p := cb.Params()
	require.Empty(e.t, p.Get("error"), "error_description: %s", p.Get("error_description"))
	return p.Get("code"), verifier
}

// basicExchange redeems a code of the basic client with extra token
// request parameters.
func (e *env) basicExchange(code, verifier string, extra url.Values) httpResult {
	e.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
	for k, v := range extra {
		form[k] = v
	}
	return e.post(nil, e.srv.Endpoints().Token, form, basicAuth(basicID, basicSecret))
}

// audOf returns the "aud" of a JWT access token, checked against the
// server's keys, and of its introspection response.
func (e *env) audOf(at string) (jwtAud, introAud any) {
	e.t.Helper()
	_, c := e.verifyServerJWT(at)
	return c["aud"], e.requireActive(at, true)["aud"]
}

func withResources(rs ...string) func(url.Values) {
	return func(v url.Values) { v["resource"] = rs }
}

// TestResourceIndicators covers RFC 8707: resource in authorization, PAR,
// request object and token requests, and the audience of the tokens.
func TestResourceIndicators(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints()
	jwtFormat := url.Values{"access_token_format": {"jwt"}}

	t.Run("the access token's audience is the resources", func(t *testing.T) {
		code, verifier := e.basicCode(withResources(apiResource, calResource, apiResource))
		r := e.basicExchange(code, verifier, jwtFormat)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		tok := decodeJSON(t, r)
		jwtAud, introAud := e.audOf(tok["access_token"].(string))
		want := []any{apiResource, calResource}
		require.Equal(t, want, jwtAud, "duplicates dropped")
		require.Equal(t, want, introAud)

		t.Run("refresh narrows to a granted resource", func(t *testing.T) {
			r := e.refresh(tok["refresh_token"].(string), url.Values{"resource": {calResource}, "access_token_format": {"jwt"}})
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			tok2 := decodeJSON(t, r)
			jwtAud, introAud := e.audOf(tok2["access_token"].(string))
			require.Equal(t, calResource, jwtAud)
			require.Equal(t, calResource, introAud)
			r = e.refresh(tok2["refresh_token"].(string), url.Values{"resource": {"https://other.example.com/"}})
			requireOAuthError(t, r, 400, "invalid_target")
		})
	})
	t.Run("token request narrows to one", func(t *testing.T) {
		code, verifier := e.basicCode(withResources(apiResource, calResource))
		r := e.basicExchange(code, verifier, url.Values{"resource": {apiResource}, "access_token_format": {"jwt"}})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		jwtAud, introAud := e.audOf(decodeJSON(t, r)["access_token"].(string))
		require.Equal(t, apiResource, jwtAud)
		require.Equal(t, apiResource, introAud)
	})
	t.Run("token request for a resource outside the grant", func(t *testing.T) {
		code, verifier := e.basicCode(withResources(apiResource))
		requireOAuthError(t, e.basicExchange(code, verifier, url.Values{"resource": {calResource}}), 400, "invalid_target")
	})
	t.Run("a grant without resources is for the default audience only", func(t *testing.T) {
		code, verifier := e.basicCode()
		requireOAuthError(t, e.basicExchange(code, verifier, url.Values{"resource": {apiResource}}), 400, "invalid_target")
		code, verifier = e.basicCode()
		r := e.basicExchange(code, verifier, jwtFormat)
		require.Equal(t, http.StatusOK, r.status)
		jwtAud, introAud := e.audOf(decodeJSON(t, r)["access_token"].(string))
		require.Equal(t, ep.Userinfo, jwtAud)
		require.Equal(t, ep.Userinfo, introAud)
	})
	t.Run("request object: a string or an array of strings", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			value any
			want  any
		}{
			{"string", apiResource, apiResource},
			{"array", []any{apiResource, calResource}, []any{apiResource, calResource}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				verifier, challenge := pkce()
				ro := e.roClaims(jwtID, challenge)
				ro["resource"] = tt.value
				code, _ := e.code(jwtID, ro, nil)
				form := e.withAssertion(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
					"redirect_uri": {redirectURI}, "access_token_format": {"jwt"}}, jwtID)
				r := e.post(nil, ep.Token, form, nil)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				jwtAud, _ := e.audOf(decodeJSON(t, r)["access_token"].(string))
				require.Equal(t, tt.want, jwtAud)
			})
		}
		for _, bad := range []any{42, []any{}, []any{apiResource, 1}, map[string]any{"a": apiResource}, "api/v1"} {
			_, challenge := pkce()
			ro := e.roClaims(jwtID, challenge)
			ro["resource"] = bad
			form := e.withAssertion(url.Values{"request": {e.requestObject(ro)}, "client_id": {jwtID}}, jwtID)
			requireOAuthError(t, e.post(nil, ep.PAR, form, nil), 400, "invalid_target")
		}
	})
	t.Run("malformed or not allowed by default", func(t *testing.T) {
		_, challenge := pkce()
		many := make([]string, 17)
		for i := range many {
			many[i] = "https://api.example.com/" + strings.Repeat("x", i)
		}
		for _, tt := range []struct {
			name      string
			resources []string
		}{
			{"empty", []string{""}},
			{"relative", []string{"api/v1"}},
			{"fragment", []string{"https://api.example.com/#f"}},
			{"empty fragment", []string{"https://api.example.com/#"}},
			{"user information", []string{"https://user@api.example.com/"}},
			{"space", []string{"https://api.example.com/a b"}},
			{"plain http on the Internet", []string{"http://api.example.com/"}},
			{"URN without a list", []string{"urn:example:api"}},
			{"other scheme", []string{"ftp://api.example.com/"}},
			{"too long", []string{"https://api.example.com/" + strings.Repeat("a", 2048)}},
			{"too many", many},
			{"one bad among good", []string{apiResource, "api"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				form := url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI},
					"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "resource": tt.resources}
				requireOAuthError(t, e.post(nil, ep.PAR, form, basicAuth(basicID, basicSecret)), 400, "invalid_target")
			})
		}
	})
	t.Run("allowed by default", func(t *testing.T) {
		_, challenge := pkce()
		form := url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "code_challenge": {challenge},
			"code_challenge_method": {"S256"}, "resource": {"http://127.0.0.1:8080/api", "http://localhost/", "http://[::1]/x",
				"https://api.example.com/v1?tenant=a"}}
		e.push(nil, form, basicAuth(basicID, basicSecret))
	})
	t.Run("authorization endpoint error goes to the redirect URI", func(t *testing.T) {
		_, challenge := pkce()
		cb, err := e.authorize(directParams(basicID, challenge, withResources("api")))
		require.NoError(t, err)
		require.Equal(t, "invalid_target", cb.Params().Get("error"))
		require.Equal(t, e.srv.Issuer(), cb.Params().Get("iss"))
	})
	t.Run("client credentials and the userinfo audience", func(t *testing.T) {
		cc := func(resources ...string) string {
			r := e.post(nil, ep.Token, url.Values{"grant_type": {"client_credentials"}, "resource": resources}, basicAuth(basicID, basicSecret))
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			return decodeJSON(t, r)["access_token"].(string)
		}
		userinfo := func(at string) httpResult {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, ep.Userinfo, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+at)
			return e.do(e.hc, req)
		}
		at := cc(apiResource)
		require.Equal(t, apiResource, e.requireActive(at, true)["aud"])
		requireOAuthError(t, userinfo(at), http.StatusUnauthorized, "invalid_token")
		at = cc(apiResource, ep.Userinfo)
		require.Equal(t, []any{apiResource, ep.Userinfo}, e.requireActive(at, true)["aud"])
		require.Equal(t, http.StatusOK, userinfo(at).status)
		r := e.post(nil, ep.Token, url.Values{"grant_type": {"client_credentials"}, "resource": {"https://a/#f"}}, basicAuth(basicID, basicSecret))
		requireOAuthError(t, r, 400, "invalid_target")
	})
}

// TestResourcesPerClient checks Client.Resources: exact matches only.
func TestResourcesPerClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) {
		for i := range c.Clients {
			if c.Clients[i].ID == basicID {
				c.Clients[i].Resources = []string{apiResource, "urn:example:api"}
			}
		}
	})
	ep := e.srv.Endpoints()
	cc := func(resource string) httpResult {
		return e.post(nil, ep.Token, url.Values{"grant_type": {"client_credentials"}, "resource": {resource}}, basicAuth(basicID, basicSecret))
	}
	r := cc("urn:example:api")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, "urn:example:api", e.requireActive(decodeJSON(t, r)["access_token"].(string), true)["aud"])
	require.Equal(t, http.StatusOK, cc(apiResource).status)
	requireOAuthError(t, cc(calResource), 400, "invalid_target")
	requireOAuthError(t, cc("https://api.example.com"), 400, "invalid_target") // no trailing slash: another URI
	code, verifier := e.basicCode(withResources(apiResource))
	require.Equal(t, http.StatusOK, e.basicExchange(code, verifier, nil).status)
	_, challenge := pkce()
	cb, err := e.authorize(directParams(basicID, challenge, withResources(calResource)))
	require.NoError(t, err)
	require.Equal(t, "invalid_target", cb.Params().Get("error"))
}
