package hardened_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
)

// Every ID token check of OpenID Connect Core §3.1.3.7 is proved end to end
// by a server switch that breaks exactly that one thing: Exchange returns
// no token, an *IDTokenError naming the check, and nothing is called after
// the token response.
func TestIDTokenRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mb     authserver.Misbehave
		secret bool // a client_secret_basic client (the HMAC key of IDTokenHS256)
		check  string
	}{
		{name: "wrong iss", mb: authserver.Misbehave{IDTokenWrongIssuer: true}, check: "iss"},
		{name: "missing iss", mb: authserver.Misbehave{IDTokenOmitIssuer: true}, check: "iss"},
		{name: "wrong aud", mb: authserver.Misbehave{IDTokenWrongAudience: true}, check: "aud"},
		{name: "missing aud", mb: authserver.Misbehave{IDTokenOmitAudience: true}, check: "aud"},
		{name: "untrusted extra aud without azp", mb: authserver.Misbehave{IDTokenUntrustedAudience: true}, check: "aud"},
		{name: "wrong azp", mb: authserver.Misbehave{IDTokenWrongAZP: true}, check: "azp"},
		{name: "expired", mb: authserver.Misbehave{IDTokenExpired: true}, check: "exp"},
		{name: "missing exp", mb: authserver.Misbehave{IDTokenOmitExpiry: true}, check: "exp"},
		{name: "iat in the future", mb: authserver.Misbehave{IDTokenIssuedInFuture: true}, check: "iat"},
		{name: "wrong nonce", mb: authserver.Misbehave{IDTokenWrongNonce: true}, check: "nonce"},
		{name: "missing nonce", mb: authserver.Misbehave{IDTokenOmitNonce: true}, check: "nonce"},
		{name: "alg none", mb: authserver.Misbehave{IDTokenAlgNone: true}, check: "alg"},
		{name: "RS256", mb: authserver.Misbehave{IDTokenRS256: true}, check: "alg"},
		{name: "signed by another key", mb: authserver.Misbehave{IDTokenForeignKey: true}, check: "signature"},
		{name: "HS256 keyed with the client secret", mb: authserver.Misbehave{IDTokenHS256: true}, secret: true, check: "alg"},
		{name: "wrong at_hash", mb: authserver.Misbehave{IDTokenWrongATHash: true}, check: "at_hash"},
		{name: "wrong c_hash", mb: authserver.Misbehave{IDTokenWrongCHash: true}, check: "c_hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const secret = "a-long-enough-client-secret-for-hmac"
			e := newEnv(t, func(cfg *authserver.Config, cl *authserver.Client) {
				cfg.Misbehave = tc.mb
				if tc.secret {
					cl.AuthMethod, cl.Secret, cl.JWKS = authserver.AuthClientSecretBasic, secret, nil
					cl.RequireSignedRequestObject = false
				}
			})
			conf := e.conf()
			if tc.secret {
				conf.Key = nil
				conf.ClientAuth = hardened.ClientSecretBasic{ClientSecret: secret}
				conf.InsecureClientAuth = true
			}
			tok, err := e.loginUntilError(t, conf)
			require.Nil(t, tok)
			require.ErrorIs(t, err, hardened.ErrInvalidIDToken)
			var ie *hardened.IDTokenError
			require.ErrorAs(t, err, &ie)
			require.Equal(t, tc.check, ie.Check, ie.Reason)
			require.Equal(t, 1, e.count.get("/token"))
			for _, p := range []string{"/userinfo", "/revoke", "/introspect"} {
				require.Zero(t, e.count.get(p), p)
			}
		})
	}
}

// InsecureAlgorithms admits a server that signs with RS256, and nothing
// else changes.
func TestInsecureAlgorithms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(cfg *authserver.Config, _ *authserver.Client) { cfg.Misbehave.IDTokenRS256 = true })
	conf := e.conf()
	conf.InsecureAlgorithms = []string{"RS256"}
	tok := e.login(t, conf)
	idt, ok := hardened.IDTokenFrom(tok)
	require.True(t, ok)
	require.Equal(t, "RS256", idt.Algorithm)
}

// A trusted extra audience is accepted with azp; the claims are exposed.
func TestIDTokenTrustedAudience(t *testing.T) {
	t.Parallel()
	const other = "https://other.example.org"
	e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.IDTokenAudiences = []string{other} })
	conf := e.conf()
	_, err := e.loginUntilError(t, conf)
	var ie *hardened.IDTokenError
	require.ErrorAs(t, err, &ie)
	require.Equal(t, "aud", ie.Check)

	conf = e.conf()
	conf.TrustedAudiences = []string{other}
	before := time.Now().Add(-time.Minute)
	tok := e.login(t, conf)
	idt, ok := hardened.IDTokenFrom(tok)
	require.True(t, ok)
	require.Equal(t, []string{appID, other}, idt.Audience)
	require.Equal(t, appID, idt.AuthorizedParty)
	require.Equal(t, e.srv.Issuer(), idt.Issuer)
	require.Equal(t, "test-user", idt.Subject)
	require.NotEmpty(t, idt.Nonce)
	require.NotEmpty(t, idt.AccessTokenHash)
	require.NotEmpty(t, idt.CodeHash)
	require.True(t, idt.IssuedAt.After(before))
	require.True(t, idt.Expiry.After(idt.IssuedAt))
	require.False(t, idt.AuthTime.IsZero())
	var claims struct {
		Sub string `json:"sub"`
		AZP string `json:"azp"`
	}
	require.NoError(t, idt.Claims(&claims))
	require.Equal(t, "test-user", claims.Sub)
	require.Equal(t, appID, claims.AZP)
	require.Error(t, idt.Claims(&struct {
		Sub int `json:"sub"`
	}{}))
}

// Without openid there is no ID token; with openid a response without one
// is refused.
func TestIDTokenPresence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	conf.Scopes = []string{"accounts"}
	tok := e.login(t, conf)
	_, ok := hardened.IDTokenFrom(tok)
	require.False(t, ok)
	_, ok = hardened.IDTokenFrom(nil)
	require.False(t, ok)
}

// A refresh of an openid grant carries a new ID token, checked against the
// login's (same subject, no nonce), and exposed on the refreshed token.
func TestIDTokenOnRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	tok := e.login(t, conf)
	first, ok := hardened.IDTokenFrom(tok)
	require.True(t, ok)
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(t.Context(), tok).Token()
	require.NoError(t, err)
	idt, ok := hardened.IDTokenFrom(fresh)
	require.True(t, ok)
	require.Equal(t, first.Subject, idt.Subject)
	require.NotSame(t, first, idt)
	require.Equal(t, "DPoP", fresh.TokenType)
	require.NotEqual(t, tok.AccessToken, fresh.AccessToken)
	// Extra members of the response are kept beside the ID token.
	require.NotNil(t, fresh.Extra("id_token"))
	require.NotNil(t, fresh.Extra("expires_in"))
}
