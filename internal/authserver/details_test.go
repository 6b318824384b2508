package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

// Authorization details of RFC 9396 §2.
const (
	accountDetail = `{"type":"account_information","actions":["list_accounts","read_balances"],"locations":["https://example.com/accounts"]}`
	paymentDetail = `{"type":"payment_initiation","actions":["initiate"],"locations":["https://example.com/payments"],` +
		`"instructedAmount":{"currency":"EUR","amount":"123.50"},"creditorName":"Merchant A"}`
	bothDetails = "[" + accountDetail + "," + paymentDetail + "]"
)

// TestAuthorizationDetails covers RFC 9396: authorization_details in PAR,
// request objects, authorization and token requests, echoed in the token
// response, the JWT access token and introspection.
func TestAuthorizationDetails(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ep := e.srv.Endpoints()
	requireDetails := func(t *testing.T, want string, got any) {
		t.Helper()
		raw, err := json.Marshal(got)
		require.NoError(t, err)
		require.JSONEq(t, want, string(raw))
	}

	t.Run("pushed as a JSON string, echoed everywhere", func(t *testing.T) {
		verifier, challenge := pkce()
		uri := e.push(nil, url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "code_challenge": {challenge},
			"code_challenge_method": {"S256"}, "authorization_details": {bothDetails}}, basicAuth(basicID, basicSecret))
		cb, err := e.authorize(url.Values{"client_id": {basicID}, "request_uri": {uri}})
		require.NoError(t, err)
		r := e.basicExchange(cb.Params().Get("code"), verifier, url.Values{"access_token_format": {"jwt"}})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		tok := decodeJSON(t, r)
		requireDetails(t, bothDetails, tok["authorization_details"])
		at := tok["access_token"].(string)
		_, c := e.verifyServerJWT(at)
		requireDetails(t, bothDetails, c["authorization_details"])
		requireDetails(t, bothDetails, e.requireActive(at, true)["authorization_details"])

		t.Run("refresh keeps them, or narrows them", func(t *testing.T) {
			r := e.refresh(tok["refresh_token"].(string), nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			tok2 := decodeJSON(t, r)
			requireDetails(t, bothDetails, tok2["authorization_details"])
			r = e.refresh(tok2["refresh_token"].(string), url.Values{"authorization_details": {"[" + paymentDetail + "]"}})
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			tok3 := decodeJSON(t, r)
			requireDetails(t, "["+paymentDetail+"]", tok3["authorization_details"])
			requireDetails(t, "["+paymentDetail+"]", e.requireActive(tok3["access_token"].(string), true)["authorization_details"])
			r = e.refresh(tok3["refresh_token"].(string), url.Values{"authorization_details": {`[{"type":"payment_initiation"}]`}})
			requireOAuthError(t, r, 400, "invalid_authorization_details")
		})
	})
	t.Run("in the query of a plain authorization request", func(t *testing.T) {
		code, verifier := e.basicCode(func(v url.Values) { v.Set("authorization_details", "["+accountDetail+"]") })
		r := e.basicExchange(code, verifier, nil)
		require.Equal(t, http.StatusOK, r.status)
		requireDetails(t, "["+accountDetail+"]", decodeJSON(t, r)["authorization_details"])
		_, challenge := pkce()
		cb, err := e.authorize(directParams(basicID, challenge, func(v url.Values) { v.Set("authorization_details", "{}") }))
		require.NoError(t, err)
		require.Equal(t, "invalid_authorization_details", cb.Params().Get("error"))
	})
	t.Run("token request: a subset of the grant, member order free", func(t *testing.T) {
		code, verifier := e.basicCode(func(v url.Values) { v.Set("authorization_details", bothDetails) })
		reordered := `[{"locations":["https://example.com/accounts"],"actions":["list_accounts","read_balances"],"type":"account_information"}]`
		r := e.basicExchange(code, verifier, url.Values{"authorization_details": {reordered}})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		requireDetails(t, reordered, decodeJSON(t, r)["authorization_details"])

		code, verifier = e.basicCode(func(v url.Values) { v.Set("authorization_details", "["+accountDetail+"]") })
		r = e.basicExchange(code, verifier, url.Values{"authorization_details": {bothDetails}})
		requireOAuthError(t, r, 400, "invalid_authorization_details")
	})
	t.Run("request object: an array, never a string", func(t *testing.T) {
		verifier, challenge := pkce()
		ro := e.roClaims(jwtID, challenge)
		var arr []any
		require.NoError(t, json.Unmarshal([]byte(bothDetails), &arr))
		ro["authorization_details"] = arr
		code, _ := e.code(jwtID, ro, nil)
		r := e.exchange(nil, jwtID, code, verifier, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		requireDetails(t, bothDetails, decodeJSON(t, r)["authorization_details"])

		for _, bad := range []any{bothDetails, map[string]any{"type": "x"}, 1} {
			ro := e.roClaims(jwtID, challenge)
			ro["authorization_details"] = bad
			form := e.withAssertion(url.Values{"request": {e.requestObject(ro)}, "client_id": {jwtID}}, jwtID)
			requireOAuthError(t, e.post(nil, ep.PAR, form, nil), 400, "invalid_authorization_details")
		}
	})
	t.Run("client credentials", func(t *testing.T) {
		r := e.post(nil, ep.Token, url.Values{"grant_type": {"client_credentials"}, "authorization_details": {"[" + paymentDetail + "]"}},
			basicAuth(basicID, basicSecret))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		tok := decodeJSON(t, r)
		requireDetails(t, "["+paymentDetail+"]", tok["authorization_details"])
		requireDetails(t, "["+paymentDetail+"]", e.requireActive(tok["access_token"].(string), true)["authorization_details"])
		r = e.post(nil, ep.Token, url.Values{"grant_type": {"client_credentials"}, "authorization_details": {"[]"}}, basicAuth(basicID, basicSecret))
		requireOAuthError(t, r, 400, "invalid_authorization_details")
	})
	t.Run("malformed", func(t *testing.T) {
		_, challenge := pkce()
		many := "[" + strings.TrimSuffix(strings.Repeat(`{"type":"a"},`, 17), ",") + "]"
		for _, tt := range []struct{ name, value string }{
			{"not JSON", "account_information"},
			{"a string", `"[]"`},
			{"an object", accountDetail},
			{"empty array", "[]"},
			{"element not an object", `[1]`},
			{"no type", `[{}]`},
			{"type not a string", `[{"type":1}]`},
			{"empty type", `[{"type":""}]`},
			{"type null", `[{"type":null}]`},
			{"locations not an array", `[{"type":"a","locations":"https://example.com"}]`},
			{"actions not strings", `[{"type":"a","actions":[1]}]`},
			{"identifier not a string", `[{"type":"a","identifier":3}]`},
			{"duplicate member", `[{"type":"a","type":"b"}]`},
			{"member in another case", `[{"type":"a","TYPE":"b"}]`},
			{"invalid UTF-8", "[{\"type\":\"\xff\"}]"},
			{"trailing data", `[{"type":"a"}] x`},
			{"too many objects", many},
			{"too large", `[{"type":"a","x":"` + strings.Repeat("a", 16<<10) + `"}]`},
			{"too deep", `[{"type":"a","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}]`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				form := url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "code_challenge": {challenge},
					"code_challenge_method": {"S256"}, "authorization_details": {tt.value}}
				requireOAuthError(t, e.post(nil, ep.PAR, form, basicAuth(basicID, basicSecret)), 400, "invalid_authorization_details")
			})
		}
	})
	t.Run("repeated parameter", func(t *testing.T) {
		_, challenge := pkce()
		form := url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "code_challenge": {challenge},
			"code_challenge_method": {"S256"}, "authorization_details": {"[" + accountDetail + "]", "[" + paymentDetail + "]"}}
		requireOAuthError(t, e.post(nil, ep.PAR, form, basicAuth(basicID, basicSecret)), 400, "invalid_request")
	})
}

// TestAuthorizationDetailsTypes checks Client.AuthorizationDetailsTypes
// and their discovery.
func TestAuthorizationDetailsTypes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) {
		for i := range c.Clients {
			switch c.Clients[i].ID {
			case basicID:
				c.Clients[i].AuthorizationDetailsTypes = []string{"payment_initiation"}
			case postID:
				c.Clients[i].AuthorizationDetailsTypes = []string{"account_information", "payment_initiation"}
			}
		}
	})
	md := e.metadata("/.well-known/oauth-authorization-server")
	require.Equal(t, []any{"account_information", "payment_initiation"}, md["authorization_details_types_supported"])
	cc := func(details string) httpResult {
		return e.post(nil, e.srv.Endpoints().Token, url.Values{"grant_type": {"client_credentials"}, "authorization_details": {details}},
			basicAuth(basicID, basicSecret))
	}
	require.Equal(t, http.StatusOK, cc("["+paymentDetail+"]").status)
	requireOAuthError(t, cc("["+accountDetail+"]"), 400, "invalid_authorization_details")
	requireOAuthError(t, cc(bothDetails), 400, "invalid_authorization_details")
	require.NotContains(t, newEnv(t, nil).metadata("/.well-known/oauth-authorization-server"), "authorization_details_types_supported",
		"no client lists types: any type is accepted, none is advertised")
}
