package mtlsbound_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/mtlsbound"
)

func TestAliasesFigure4(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	var md map[string]any
	require.NoError(t, json.Unmarshal(v.Metadata.JSON, &md))
	conventional := func(name string) string {
		s, _ := md[name].(string)
		return s
	}
	aliases, err := mtlsbound.AliasesFromMetadata(v.Metadata.JSON)
	require.NoError(t, err)
	require.Len(t, aliases, 3)

	tests := []struct {
		name string
		want string
	}{
		{name: mtlsbound.TokenEndpoint, want: "https://mtls.example.com/token"},
		{name: mtlsbound.RevocationEndpoint, want: "https://mtls.example.com/revo"},
		{name: mtlsbound.IntrospectionEndpoint, want: "https://mtls.example.com/introspect"},
		// Not aliased: the conventional URL from the same metadata.
		{name: "authorization_endpoint", want: "https://server.example.com/authz"},
		{name: mtlsbound.PushedAuthorizationRequestEndpoint, want: ""},
		{name: mtlsbound.UserinfoEndpoint, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, aliases.Resolve(tc.name, conventional(tc.name)))
		})
	}
}

func TestAliasesNil(t *testing.T) {
	t.Parallel()
	var a mtlsbound.Aliases
	require.Equal(t, "https://as.example/token", a.Resolve(mtlsbound.TokenEndpoint, "https://as.example/token"))

	a, err := mtlsbound.AliasesFromMetadata([]byte(`{"issuer":"https://as.example"}`))
	require.NoError(t, err)
	require.Nil(t, a)
	a, err = mtlsbound.AliasesFromMetadata([]byte(`{"issuer":"https://as.example","mtls_endpoint_aliases":null}`))
	require.NoError(t, err)
	require.Nil(t, a)
}

func TestParseAliases(t *testing.T) {
	t.Parallel()
	many := make([]string, 65)
	for i := range many {
		many[i] = fmt.Sprintf(`"e%d":"https://mtls.example/%d"`, i, i)
	}
	tests := []struct {
		name    string
		member  string
		want    mtlsbound.Aliases
		wantErr []error
	}{
		{name: "empty object", member: `{}`, want: mtlsbound.Aliases{}},
		{name: "unknown names kept", member: `{"x_endpoint":"https://mtls.example/x","token_endpoint":"https://mtls.example/t?a=b"}`, want: mtlsbound.Aliases{"x_endpoint": "https://mtls.example/x", "token_endpoint": "https://mtls.example/t?a=b"}},
		{name: "port", member: `{"token_endpoint":"https://mtls.example:8443/token"}`, want: mtlsbound.Aliases{"token_endpoint": "https://mtls.example:8443/token"}},
		{name: "array", member: `["https://mtls.example/token"]`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "string", member: `"https://mtls.example/token"`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "not null", member: `nul`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "value not a string", member: `{"token_endpoint":1}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "value null", member: `{"token_endpoint":null}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "http URL", member: `{"token_endpoint":"http://mtls.example/token"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "relative URL", member: `{"token_endpoint":"/token"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "empty URL", member: `{"token_endpoint":""}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "fragment", member: `{"token_endpoint":"https://mtls.example/token#x"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "empty fragment", member: `{"token_endpoint":"https://mtls.example/token#"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "userinfo", member: `{"token_endpoint":"https://user@mtls.example/token"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "no host", member: `{"token_endpoint":"https:///token"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "opaque", member: `{"token_endpoint":"https:mtls.example"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "duplicate name", member: `{"token_endpoint":"https://a.example/t","token_endpoint":"https://b.example/t"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "case-variant name", member: `{"token_endpoint":"https://a.example/t","Token_Endpoint":"https://b.example/t"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "too many", member: "{" + strings.Join(many, ",") + "}", wantErr: []error{mtlsbound.ErrMalformedMetadata}},
		{name: "too large", member: `{"x":"https://a.example/` + strings.Repeat("a", 64<<10) + `"}`, wantErr: []error{mtlsbound.ErrMalformedMetadata}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := mtlsbound.ParseAliases(json.RawMessage(tc.member))
			if len(tc.wantErr) > 0 {
				for _, want := range tc.wantErr {
					require.ErrorIs(t, err, want)
				}
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestAliasesFromMetadataMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
	}{
		{name: "not an object", doc: `[]`},
		{name: "duplicate aliases member", doc: `{"mtls_endpoint_aliases":{},"mtls_endpoint_aliases":{"token_endpoint":"https://evil.example/t"}}`},
		{name: "invalid JSON", doc: `{"issuer":`},
		{name: "aliases not an object", doc: `{"mtls_endpoint_aliases":"https://mtls.example"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := mtlsbound.AliasesFromMetadata([]byte(tc.doc))
			require.ErrorIs(t, err, mtlsbound.ErrMalformedMetadata)
		})
	}
}
