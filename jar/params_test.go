package jar_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/jar"
)

func build(t *testing.T, params url.Values) (*jar.RequestObject, error) {
	t.Helper()
	keys(t)
	c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Now: fixedNow}
	return c.Build(params)
}

// claimsOf verifies ro with the standard library and returns its claims
// decoded with plain encoding/json (numbers as float64).
func claimsOf(t *testing.T, ro *jar.RequestObject) map[string]any {
	t.Helper()
	_, c := stdlibVerify(t, ro.JWT, &ecKey.PublicKey)
	b, err := json.Marshal(c)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestParameterTypes(t *testing.T) {
	t.Parallel()
	p := baseParams()
	p.Set("response_mode", "query.jwt")
	p.Set("nonce", "n-0S6_WzA2Mj")
	p.Set("dpop_jkt", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
	p.Set("max_age", "86400")
	p.Set("claims", `{"id_token": {"acr": {"essential": true}}}`)
	p.Set("authorization_details", `[{"type": "payment_initiation", "amount": 12.5}]`)
	p["resource"] = []string{"https://rs1.example.com/", "", "https://rs2.example.com/api"}
	p.Set("acr_values", "urn:mace:incommon:iap:silver")
	p.Set("x_extension", "42") // unknown: stays a string
	p.Set("client_id", clientID)
	p.Set("sub", "248289761001") // a sub that is not the client ID is allowed
	p.Set("prompt", "")          // empty: omitted
	ro, err := build(t, p)
	require.NoError(t, err)
	c := claimsOf(t, ro)

	for _, name := range []string{"response_type", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "response_mode", "dpop_jkt", "acr_values", "sub"} {
		require.IsType(t, "", c[name], name)
		require.Equal(t, p.Get(name), c[name], name)
	}
	require.Equal(t, "42", c["x_extension"])
	require.Equal(t, float64(86400), c["max_age"])
	require.Equal(t, map[string]any{"id_token": map[string]any{"acr": map[string]any{"essential": true}}}, c["claims"])
	require.Equal(t, []any{map[string]any{"type": "payment_initiation", "amount": 12.5}}, c["authorization_details"])
	require.Equal(t, []any{"https://rs1.example.com/", "https://rs2.example.com/api"}, c["resource"])
	require.Equal(t, clientID, c["client_id"])
	require.NotContains(t, c, "prompt")
}

func TestParameterSingleResource(t *testing.T) {
	t.Parallel()
	p := baseParams()
	p.Set("resource", "https://rs.example.com/")
	p.Set("max_age", "0")
	ro, err := build(t, p)
	require.NoError(t, err)
	c := claimsOf(t, ro)
	require.Equal(t, "https://rs.example.com/", c["resource"])
	require.Equal(t, float64(0), c["max_age"])
}

// TestAuthCodeParams builds the parameters the wrapper needs from an
// oauth2.Config, a state and options: PKCE S256, dpop_jkt,
// authorization_details and repeated resources, and checks both what a
// push sends and the JSON types in the request object.
func TestAuthCodeParams(t *testing.T) {
	t.Parallel()
	type detail struct {
		Type      string   `json:"type"`
		Locations []string `json:"locations"`
	}
	conf := &oauth2.Config{
		ClientID:    clientID,
		RedirectURL: "https://client.example.org/cb",
		Scopes:      []string{"openid", "accounts"},
		Endpoint:    oauth2.Endpoint{AuthURL: "https://as.example.com/authorize?tenant=a", TokenURL: "https://as.example.com/token"},
	}
	details, err := jar.AuthorizationDetailsOption([]detail{{Type: "account_information", Locations: []string{"https://rs.example.com/"}}})
	require.NoError(t, err)
	verifier := oauth2.GenerateVerifier()
	p := jar.AuthCodeParams(conf, "st-1", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("dpop_jkt", "jkt-1"), details)
	require.NoError(t, jar.AddResource(p, "https://rs1.example.com/", "https://rs2.example.com/api"))
	require.Equal(t, url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {"https://client.example.org/cb"},
		"scope":                 {"openid accounts"},
		"state":                 {"st-1"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
		"dpop_jkt":              {"jkt-1"},
		"authorization_details": {`[{"type":"account_information","locations":["https://rs.example.com/"]}]`},
		"resource":              {"https://rs1.example.com/", "https://rs2.example.com/api"},
	}, p, "as pushed by par: authorization_details is JSON text, resource repeats")
	require.Equal(t, "https://as.example.com/authorize?tenant=a", conf.Endpoint.AuthURL, "conf is not modified")

	ro, err := build(t, p)
	require.NoError(t, err)
	c := claimsOf(t, ro)
	require.Equal(t, []any{map[string]any{"type": "account_information", "locations": []any{"https://rs.example.com/"}}}, c["authorization_details"], "a JSON array in the request object")
	require.Equal(t, []any{"https://rs1.example.com/", "https://rs2.example.com/api"}, c["resource"])
	require.Equal(t, "S256", c["code_challenge_method"])
	require.Equal(t, "openid accounts", c["scope"])
	require.Equal(t, "jkt-1", c["dpop_jkt"])

	// RawMessage works too.
	o, err := jar.AuthorizationDetailsOption(json.RawMessage(`[ {"type" : "x"} ]`))
	require.NoError(t, err)
	require.Equal(t, `[{"type":"x"}]`, jar.AuthCodeParams(conf, "s", o).Get("authorization_details"))
}

func TestAuthCodeHelperErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		details any
	}{
		{name: "object", details: map[string]any{"type": "x"}},
		{name: "without type", details: []map[string]any{{"actions": []string{"read"}}}},
		{name: "numeric type", details: json.RawMessage(`[{"type":1}]`)},
		{name: "repeated type", details: json.RawMessage(`[{"type":1,"type":"x"}]`)},
		{name: "null", details: nil},
		{name: "unmarshalable", details: []any{make(chan int)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := jar.AuthorizationDetailsOption(tc.details)
			require.Nil(t, o)
			require.ErrorIs(t, err, jar.ErrInvalidParameter)
			var pe *jar.ParameterError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, "authorization_details", pe.Parameter)
		})
	}
	p := url.Values{"resource": {"https://rs0.example.com/"}}
	for _, bad := range []string{"/api", "https://rs.example.com/#x", "https://rs.example.com/#", ""} {
		err := jar.AddResource(p, "https://rs1.example.com/", bad)
		require.ErrorIs(t, err, jar.ErrInvalidParameter, bad)
		var pe *jar.ParameterError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "resource", pe.Parameter)
		require.Equal(t, url.Values{"resource": {"https://rs0.example.com/"}}, p, "unchanged on error")
	}
}

func TestParameterErrors(t *testing.T) {
	t.Parallel()
	with := func(k string, v ...string) url.Values {
		p := baseParams()
		p[k] = v
		return p
	}
	tests := []struct {
		name   string
		params url.Values
		param  string
	}{
		{name: "request inside", params: with("request", "eyJ.x.y"), param: "request"},
		{name: "request_uri inside", params: with("request_uri", "urn:x"), param: "request_uri"},
		{name: "iss", params: with("iss", "x"), param: "iss"},
		{name: "aud", params: with("aud", "x"), param: "aud"},
		{name: "exp", params: with("exp", "1"), param: "exp"},
		{name: "nbf", params: with("nbf", "1"), param: "nbf"},
		{name: "iat", params: with("iat", "1"), param: "iat"},
		{name: "jti", params: with("jti", "1"), param: "jti"},
		{name: "sub is the client", params: with("sub", clientID), param: "sub"},
		{name: "other client_id", params: with("client_id", "evil"), param: "client_id"},
		{name: "duplicate state", params: with("state", "a", "b"), param: "state"},
		{name: "duplicate client_id", params: with("client_id", clientID, clientID), param: "client_id"},
		{name: "max_age negative", params: with("max_age", "-1"), param: "max_age"},
		{name: "max_age plus sign", params: with("max_age", "+5"), param: "max_age"},
		{name: "max_age fraction", params: with("max_age", "1.5"), param: "max_age"},
		{name: "max_age word", params: with("max_age", "day"), param: "max_age"},
		{name: "max_age over 2^53", params: with("max_age", "9007199254740992"), param: "max_age"},
		{name: "max_age huge", params: with("max_age", "99999999999999999999"), param: "max_age"},
		{name: "claims not JSON", params: with("claims", "{"), param: "claims"},
		{name: "claims array", params: with("claims", "[1]"), param: "claims"},
		{name: "claims string", params: with("claims", `"x"`), param: "claims"},
		{name: "claims two values", params: with("claims", "{} {}"), param: "claims"},
		{name: "claims repeated member", params: with("claims", `{"id_token":{},"id_token":{"acr":null}}`), param: "claims"},
		{name: "authorization_details object", params: with("authorization_details", `{"type":"x"}`), param: "authorization_details"},
		{name: "authorization_details not objects", params: with("authorization_details", `[1]`), param: "authorization_details"},
		{name: "authorization_details null element", params: with("authorization_details", `[null]`), param: "authorization_details"},
		{name: "authorization_details no type", params: with("authorization_details", `[{}]`), param: "authorization_details"},
		{name: "authorization_details numeric type", params: with("authorization_details", `[{"type":1}]`), param: "authorization_details"},
		{name: "authorization_details repeated type", params: with("authorization_details", `[{"type":1,"type":"x"}]`), param: "authorization_details"},
		{name: "authorization_details broken", params: with("authorization_details", `[{"type":"x"}`), param: "authorization_details"},
		{name: "authorization_details twice", params: with("authorization_details", `[{"type":"x"}]`, `[{"type":"y"}]`), param: "authorization_details"},
		{name: "resource relative", params: with("resource", "/api"), param: "resource"},
		{name: "resource with fragment", params: with("resource", "https://rs.example.com/", "https://rs.example.com/#x"), param: "resource"},
		{name: "resource with empty fragment", params: with("resource", "https://rs.example.com/#"), param: "resource"},
		{name: "invalid UTF-8 value", params: with("state", "\xff\xfe"), param: "state"},
		{name: "invalid UTF-8 name", params: with("\xff", "x"), param: "\xff"},
		{name: "empty name", params: with("", "x"), param: ""},
		{name: "no response_type", params: url.Values{"scope": {"openid"}}, param: "response_type"},
		{name: "empty response_type", params: with("response_type", ""), param: "response_type"},
		{name: "nil params", params: nil, param: "response_type"},
		// Case variants under Unicode simple folding (U+017F LONG S folds to
		// s): encoding/json at the server reads them as the claim itself,
		// the last member winning.
		{name: "case variant of iss", params: with("i\u017f\u017f", "https://evil.example"), param: "i\u017f\u017f"},
		{name: "case variant of aud", params: with("Aud", "https://evil.example"), param: "Aud"},
		{name: "case variant of sub is the client", params: with("\u017fub", clientID), param: "\u017fub"},
		{name: "case variant of client_id", params: with("CLIENT_ID", "evil"), param: "CLIENT_ID"},
		{name: "case variant of request", params: with("REQUEST", "eyJ.x.y"), param: "REQUEST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ro, err := build(t, tc.params)
			require.Nil(t, ro)
			require.ErrorIs(t, err, jar.ErrInvalidParameter)
			var pe *jar.ParameterError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.param, pe.Parameter)
			require.NotEmpty(t, pe.Reason)
		})
	}
}

// TestParameterErrorHidesValue checks that a refused value never reaches
// the error text.
func TestParameterErrorHidesValue(t *testing.T) {
	t.Parallel()
	p := baseParams()
	p.Set("request", "SECRET-REQUEST-OBJECT")
	_, err := build(t, p)
	require.ErrorIs(t, err, jar.ErrInvalidParameter)
	require.NotContains(t, err.Error(), "SECRET")
	require.Equal(t, `jar: invalid parameter: "request": must not appear in a request object (RFC 9101 §4)`, err.Error())
}

func TestLongParameterName(t *testing.T) {
	t.Parallel()
	p := baseParams()
	long := strings.Repeat("n", 100)
	p[long] = []string{"a", "b"}
	_, err := build(t, p)
	require.ErrorIs(t, err, jar.ErrInvalidParameter)
	var pe *jar.ParameterError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, long, pe.Parameter)
	require.NotContains(t, err.Error(), long, "the text is bounded")
}
