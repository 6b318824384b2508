package jarm_test

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/jarm"
)

// TestAuthorizationErrorShape checks the family's error shape: plain
// fields, no exported field of an internal type, and an Unwrap that yields
// the module's OAuth error value with the same fields, which the root
// package's *hardened.Error is filled from. (The errors.As path to
// *hardened.Error itself can only be tested in the root package.)
func TestAuthorizationErrorShape(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[jarm.AuthorizationError]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.IsExported() {
			require.NotContains(t, f.Type.PkgPath(), "/internal/", "field %s", f.Name)
			require.Contains(t, []reflect.Kind{reflect.String, reflect.Bool}, f.Type.Kind(), "field %s", f.Name)
		}
	}

	d := staticDecoder(t, nil)
	plain := plainDecoder(t, testIssuer, true)
	jarmTok := signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{
		"code": nil, "error": "access_denied", "error_description": "user said no", "error_uri": "https://as.example.com/e",
	}))
	cases := []struct {
		name   string
		decode func() (*jarm.Response, error)
		jarm   bool
	}{
		{"JARM", func() (*jarm.Response, error) {
			return d.Decode(context.Background(), url.Values{"response": {jarmTok}}, testState)
		}, true},
		{"plain", func() (*jarm.Response, error) {
			return plain.Decode(context.Background(), url.Values{
				"error": {"access_denied"}, "error_description": {"user said no"}, "error_uri": {"https://as.example.com/e"},
				"state": {testState}, "iss": {testIssuer},
			}, testState)
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := tc.decode()
			require.Nil(t, r)
			require.ErrorIs(t, err, jarm.ErrAuthorization)
			var ae *jarm.AuthorizationError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, "access_denied", ae.Code)
			require.Equal(t, "user said no", ae.Description)
			require.Equal(t, "https://as.example.com/e", ae.URI)
			require.Equal(t, testState, ae.State)
			require.Equal(t, testIssuer, ae.Issuer)
			require.Equal(t, tc.jarm, ae.JARM)

			var oe *oautherr.Error
			require.ErrorAs(t, ae.Unwrap(), &oe)
			require.Equal(t, oautherr.Error{Code: "access_denied", Description: "user said no", URI: "https://as.example.com/e"}, *oe)
			require.ErrorAs(t, err, &oe)
			require.ErrorIs(t, err, &oautherr.Error{Code: "access_denied"})
			require.NotErrorIs(t, err, &oautherr.Error{Code: "invalid_request"})

			require.Contains(t, err.Error(), "access_denied")
			require.NotContains(t, err.Error(), testState)
		})
	}
}

// TestAuthorizationErrorByHand checks an AuthorizationError built by a
// caller (in a test double, say): Unwrap still yields the OAuth value.
func TestAuthorizationErrorByHand(t *testing.T) {
	t.Parallel()
	e := &jarm.AuthorizationError{Code: "login_required", Description: "bad\x00text", URI: "https://as.example/e", State: "s"}
	require.ErrorIs(t, e, jarm.ErrAuthorization)
	var oe *oautherr.Error
	require.ErrorAs(t, e.Unwrap(), &oe)
	require.Equal(t, "login_required", oe.Code)
	require.Equal(t, "bad\uFFFDtext", oe.Description)
	require.Equal(t, "https://as.example/e", oe.URI)
	require.NotContains(t, e.Error(), "\x00")
	require.Equal(t, jarm.ErrAuthorization.Error(), (&jarm.AuthorizationError{}).Error())
}

// TestAuthorizationErrorSanitized is the attack of server text that
// carries control characters (log injection: "\r\n", ANSI escapes, NUL) or
// megabytes: error_description reaches the error bounded and cleaned by
// the module's one sanitizer, and an error_uri outside RFC 6749's
// characters is dropped.
func TestAuthorizationErrorSanitized(t *testing.T) {
	t.Parallel()
	const evil = "denied\r\n2026-01-01 INFO admin logged in\x1b[31m\x00\x7f\u0085"
	long := strings.Repeat("é", 4096) // 8 KiB
	d := staticDecoder(t, func(c *jarm.Config) { c.MaxResponseBytes = 64 << 10 })
	plain := plainDecoder(t, testIssuer, false)
	jarmErr := func(desc, uri string) func() error {
		return func() error {
			c := map[string]any{"code": nil, "error": "access_denied", "error_description": desc}
			if uri != "" {
				c["error_uri"] = uri
			}
			_, err := d.Decode(context.Background(), url.Values{"response": {signJose(t, asEC(), jose.ES256, "ec1", claims(c))}}, testState)
			return err
		}
	}
	plainErr := func(desc, uri string) func() error {
		return func() error {
			v := url.Values{"error": {"access_denied"}, "error_description": {desc}, "state": {testState}}
			if uri != "" {
				v.Set("error_uri", uri)
			}
			_, err := plain.Decode(context.Background(), v, testState)
			return err
		}
	}
	cases := []struct {
		name     string
		decode   func() error
		wantDesc string
		wantURI  string
	}{
		{"JARM control characters", jarmErr(evil, ""), "denied\uFFFD\uFFFD2026-01-01 INFO admin logged in\uFFFD[31m\uFFFD\uFFFD\uFFFD", ""},
		{"plain control characters", plainErr(evil, ""), "denied\uFFFD\uFFFD2026-01-01 INFO admin logged in\uFFFD[31m\uFFFD\uFFFD\uFFFD", ""},
		{"JARM long description", jarmErr(long, ""), strings.Repeat("é", oautherr.MaxDescription/2), ""},
		{"plain long description", plainErr(long, ""), strings.Repeat("é", oautherr.MaxDescription/2), ""},
		{"plain invalid UTF-8", plainErr("a\xffb", ""), "a\uFFFDb", ""},
		{"JARM error_uri with a newline", jarmErr("x", "https://as.example/e\nX-Injected: 1"), "x", ""},
		{"plain error_uri with a quote", plainErr("x", `https://as.example/"e`), "x", ""},
		{"plain error_uri with a space", plainErr("x", "https://as.example/ e"), "x", ""},
		{"plain error_uri too long", plainErr("x", "https://as.example/"+strings.Repeat("a", 2048)), "x", ""},
		{"plain valid error_uri", plainErr("x", "https://as.example/e?a=1"), "x", "https://as.example/e?a=1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.decode()
			var ae *jarm.AuthorizationError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tc.wantDesc, ae.Description)
			require.Equal(t, tc.wantURI, ae.URI)
			require.LessOrEqual(t, len(ae.Description), oautherr.MaxDescription)
			var oe *oautherr.Error
			require.ErrorAs(t, err, &oe)
			require.Equal(t, ae.Description, oe.Description)
			require.Equal(t, ae.URI, oe.URI)
			msg := err.Error()
			require.True(t, utf8.ValidString(msg))
			require.False(t, strings.ContainsAny(msg, "\r\n\x00\x1b\x7f"), "control characters in %q", msg)
			require.LessOrEqual(t, len(msg), 512)
		})
	}
}

// TestConfigErrorShape checks that NewDecoder reports the field at fault,
// wrapped in ErrInvalidConfig, with the contract's text.
func TestConfigErrorShape(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		cfg   jarm.Config
		field string
	}{
		{"no issuer", jarm.Config{}, "Issuer"},
		{"http JWKS URL", jarm.Config{Issuer: testIssuer, ClientID: testClientID, JWKSURL: "http://as.example.com/jwks"}, "JWKSURL"},
		{"JWKS URL with credentials", jarm.Config{Issuer: testIssuer, ClientID: testClientID, JWKSURL: "https://u:p@as.example.com/jwks"}, "JWKSURL"},
		{"negative MaxLifetime", jarm.Config{Issuer: testIssuer, MaxLifetime: -1}, "MaxLifetime"},
		{"negative Skew", jarm.Config{Issuer: testIssuer, Skew: -1}, "Skew"},
		{"bad second key", jarm.Config{Issuer: testIssuer, ClientID: testClientID, Keys: []jarm.VerificationKey{{Key: asEC().Public()}, {Key: "secret"}}}, "Keys[1].Key"},
		{"bad decryption key", jarm.Config{Issuer: testIssuer, ClientID: testClientID, Keys: []jarm.VerificationKey{{Key: asEC().Public()}},
			DecryptionKeys: []jarm.DecryptionKey{{Key: clientEC()}, {Key: asEd()}}}, "DecryptionKeys[1].Key"},
		{"server metadata without a FAPI algorithm", jarm.Config{Issuer: testIssuer, ClientID: testClientID, Keys: []jarm.VerificationKey{{Key: asEC().Public()}},
			AuthorizationSigningAlgValuesSupported: []string{"RS256"}}, "AuthorizationSigningAlgValuesSupported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := jarm.NewDecoder(tc.cfg)
			require.Nil(t, d)
			require.ErrorIs(t, err, jarm.ErrInvalidConfig)
			var ce *jarm.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field)
			require.NotEmpty(t, ce.Reason)
			require.Equal(t, "jarm: invalid configuration: "+ce.Field+": "+ce.Reason, err.Error())
			require.NotContains(t, err.Error(), "u:p")
		})
	}
	require.True(t, errors.Is(&jarm.ConfigError{}, jarm.ErrInvalidConfig))
}
