package jar_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/jar"
)

func build(t *testing.T, r jar.Request) (*jar.RequestObject, error) {
	t.Helper()
	keys(t)
	c := &jar.Config{ClientID: clientID, Audience: issuer, Signer: ecKey, Now: fixedNow}
	return c.Build(r)
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
	ro, err := build(t, jar.Request{Params: p})
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
	ro, err := build(t, jar.Request{Params: p})
	require.NoError(t, err)
	c := claimsOf(t, ro)
	require.Equal(t, "https://rs.example.com/", c["resource"])
	require.Equal(t, float64(0), c["max_age"])
}

func TestTypedParameters(t *testing.T) {
	t.Parallel()
	type detail struct {
		Type      string   `json:"type"`
		Locations []string `json:"locations"`
	}
	ro, err := build(t, jar.Request{
		Params:               baseParams(),
		Claims:               map[string]any{"userinfo": map[string]any{"email": nil}},
		AuthorizationDetails: []detail{{Type: "account_information", Locations: []string{"https://rs.example.com/"}}},
	})
	require.NoError(t, err)
	c := claimsOf(t, ro)
	require.Equal(t, map[string]any{"userinfo": map[string]any{"email": nil}}, c["claims"])
	require.Equal(t, []any{map[string]any{"type": "account_information", "locations": []any{"https://rs.example.com/"}}}, c["authorization_details"])

	ro, err = build(t, jar.Request{Params: baseParams(), Claims: json.RawMessage(`{"id_token":{}}`)})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id_token": map[string]any{}}, claimsOf(t, ro)["claims"])
}

func TestParameterErrors(t *testing.T) {
	t.Parallel()
	with := func(k string, v ...string) url.Values {
		p := baseParams()
		p[k] = v
		return p
	}
	tests := []struct {
		name  string
		req   jar.Request
		param string
		err   error
	}{
		{name: "request inside", req: jar.Request{Params: with("request", "eyJ.x.y")}, param: "request", err: jar.ErrNestedRequest},
		{name: "request_uri inside", req: jar.Request{Params: with("request_uri", "urn:x")}, param: "request_uri", err: jar.ErrNestedRequest},
		{name: "iss", req: jar.Request{Params: with("iss", "x")}, param: "iss", err: jar.ErrReservedParameter},
		{name: "aud", req: jar.Request{Params: with("aud", "x")}, param: "aud", err: jar.ErrReservedParameter},
		{name: "exp", req: jar.Request{Params: with("exp", "1")}, param: "exp", err: jar.ErrReservedParameter},
		{name: "nbf", req: jar.Request{Params: with("nbf", "1")}, param: "nbf", err: jar.ErrReservedParameter},
		{name: "iat", req: jar.Request{Params: with("iat", "1")}, param: "iat", err: jar.ErrReservedParameter},
		{name: "jti", req: jar.Request{Params: with("jti", "1")}, param: "jti", err: jar.ErrReservedParameter},
		{name: "sub is the client", req: jar.Request{Params: with("sub", clientID)}, param: "sub", err: jar.ErrReservedParameter},
		{name: "other client_id", req: jar.Request{Params: with("client_id", "evil")}, param: "client_id", err: jar.ErrClientIDMismatch},
		{name: "duplicate state", req: jar.Request{Params: with("state", "a", "b")}, param: "state", err: jar.ErrDuplicateParameter},
		{name: "duplicate client_id", req: jar.Request{Params: with("client_id", clientID, clientID)}, param: "client_id", err: jar.ErrDuplicateParameter},
		{name: "max_age negative", req: jar.Request{Params: with("max_age", "-1")}, param: "max_age", err: jar.ErrInvalidParameter},
		{name: "max_age plus sign", req: jar.Request{Params: with("max_age", "+5")}, param: "max_age", err: jar.ErrInvalidParameter},
		{name: "max_age fraction", req: jar.Request{Params: with("max_age", "1.5")}, param: "max_age", err: jar.ErrInvalidParameter},
		{name: "max_age word", req: jar.Request{Params: with("max_age", "day")}, param: "max_age", err: jar.ErrInvalidParameter},
		{name: "max_age over 2^53", req: jar.Request{Params: with("max_age", "9007199254740992")}, param: "max_age", err: jar.ErrInvalidParameter},
		{name: "max_age huge", req: jar.Request{Params: with("max_age", "99999999999999999999")}, param: "max_age", err: jar.ErrInvalidParameter},
		{name: "claims not JSON", req: jar.Request{Params: with("claims", "{")}, param: "claims", err: jar.ErrInvalidParameter},
		{name: "claims array", req: jar.Request{Params: with("claims", "[1]")}, param: "claims", err: jar.ErrInvalidParameter},
		{name: "claims string", req: jar.Request{Params: with("claims", `"x"`)}, param: "claims", err: jar.ErrInvalidParameter},
		{name: "claims two values", req: jar.Request{Params: with("claims", "{} {}")}, param: "claims", err: jar.ErrInvalidParameter},
		{name: "authorization_details object", req: jar.Request{Params: with("authorization_details", `{"type":"x"}`)}, param: "authorization_details", err: jar.ErrInvalidParameter},
		{name: "authorization_details not objects", req: jar.Request{Params: with("authorization_details", `[1]`)}, param: "authorization_details", err: jar.ErrInvalidParameter},
		{name: "authorization_details no type", req: jar.Request{Params: with("authorization_details", `[{}]`)}, param: "authorization_details", err: jar.ErrInvalidParameter},
		{name: "authorization_details numeric type", req: jar.Request{Params: with("authorization_details", `[{"type":1}]`)}, param: "authorization_details", err: jar.ErrInvalidParameter},
		{name: "authorization_details broken", req: jar.Request{Params: with("authorization_details", `[{"type":"x"}`)}, param: "authorization_details", err: jar.ErrInvalidParameter},
		{name: "resource relative", req: jar.Request{Params: with("resource", "/api")}, param: "resource", err: jar.ErrInvalidParameter},
		{name: "resource with fragment", req: jar.Request{Params: with("resource", "https://rs.example.com/", "https://rs.example.com/#x")}, param: "resource", err: jar.ErrInvalidParameter},
		{name: "resource with empty fragment", req: jar.Request{Params: with("resource", "https://rs.example.com/#")}, param: "resource", err: jar.ErrInvalidParameter},
		{name: "invalid UTF-8 value", req: jar.Request{Params: with("state", "\xff\xfe")}, param: "state", err: jar.ErrInvalidParameter},
		{name: "invalid UTF-8 name", req: jar.Request{Params: with("\xff", "x")}, param: "\xff", err: jar.ErrInvalidParameter},
		{name: "empty name", req: jar.Request{Params: with("", "x")}, param: "", err: jar.ErrInvalidParameter},
		{name: "no response_type", req: jar.Request{Params: url.Values{"scope": {"openid"}}}, param: "response_type", err: jar.ErrMissingParameter},
		{name: "empty response_type", req: jar.Request{Params: with("response_type", "")}, param: "response_type", err: jar.ErrMissingParameter},
		{name: "nil params", req: jar.Request{}, param: "response_type", err: jar.ErrMissingParameter},
		{name: "claims twice", req: jar.Request{Params: with("claims", "{}"), Claims: map[string]any{}}, param: "claims", err: jar.ErrDuplicateParameter},
		{name: "authorization_details twice", req: jar.Request{Params: with("authorization_details", `[{"type":"x"}]`), AuthorizationDetails: []any{}}, param: "authorization_details", err: jar.ErrDuplicateParameter},
		{name: "typed claims not an object", req: jar.Request{Params: baseParams(), Claims: []string{"a"}}, param: "claims", err: jar.ErrInvalidParameter},
		{name: "typed claims null", req: jar.Request{Params: baseParams(), Claims: json.RawMessage(nil)}, param: "claims", err: jar.ErrInvalidParameter},
		{name: "typed claims unmarshalable", req: jar.Request{Params: baseParams(), Claims: map[string]any{"x": make(chan int)}}, param: "claims", err: jar.ErrInvalidParameter},
		{name: "typed authorization_details object", req: jar.Request{Params: baseParams(), AuthorizationDetails: map[string]any{"type": "x"}}, param: "authorization_details", err: jar.ErrInvalidParameter},
		{name: "typed authorization_details without type", req: jar.Request{Params: baseParams(), AuthorizationDetails: []map[string]any{{"actions": []string{"read"}}}}, param: "authorization_details", err: jar.ErrInvalidParameter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ro, err := build(t, tc.req)
			require.Nil(t, ro)
			require.ErrorIs(t, err, tc.err)
			var pe *jar.ParameterError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.param, pe.Parameter)
		})
	}
}

// TestParameterErrorHidesValue checks that a refused value never reaches
// the error text.
func TestParameterErrorHidesValue(t *testing.T) {
	t.Parallel()
	p := baseParams()
	p.Set("request", "SECRET-REQUEST-OBJECT")
	_, err := build(t, jar.Request{Params: p})
	require.ErrorIs(t, err, jar.ErrNestedRequest)
	require.NotContains(t, err.Error(), "SECRET")
}

func TestLongParameterName(t *testing.T) {
	t.Parallel()
	p := baseParams()
	long := strings.Repeat("n", 100)
	p[long] = []string{"a", "b"}
	_, err := build(t, jar.Request{Params: p})
	require.ErrorIs(t, err, jar.ErrDuplicateParameter)
	var pe *jar.ParameterError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, long, pe.Parameter)
	require.NotContains(t, err.Error(), long, "the text is bounded")
}
