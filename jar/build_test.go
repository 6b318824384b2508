package jar_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jar"
)

const (
	clientID = "s6BhdRkqt3"
	issuer   = "https://server.example.com"
)

func baseParams() url.Values {
	return url.Values{
		"response_type":         {"code"},
		"redirect_uri":          {"https://client.example.org/cb"},
		"scope":                 {"openid"},
		"state":                 {"af0ifjsldkj"},
		"code_challenge":        {"K2-ltc83acc4h0c9w6ESC_rEMTJ3bww-uCHaoeK1t8U"},
		"code_challenge_method": {"S256"},
	}
}

func TestBuildSigned(t *testing.T) {
	t.Parallel()
	keys(t)
	tests := []struct {
		name    string
		signer  crypto.Signer
		alg     string   // Config.Algorithm
		algs    []string // Config.Algorithms
		wantAlg string
	}{
		{name: "ES256 inferred", signer: ecKey, wantAlg: jose.ES256},
		{name: "EdDSA inferred", signer: edKey, wantAlg: jose.EdDSA},
		{name: "PS256 inferred for RSA", signer: rsaKey, wantAlg: jose.PS256},
		{name: "ES256 given", signer: ecKey, alg: jose.ES256, wantAlg: jose.ES256},
		{name: "RS256 listed", signer: rsaKey, alg: jose.RS256, algs: []string{jose.RS256}, wantAlg: jose.RS256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &jar.Config{
				ClientID: clientID, Issuer: issuer, Key: tc.signer, KeyID: "k1",
				Algorithm: tc.alg, Algorithms: tc.algs, Now: fixedNow,
			}
			ro, err := c.Build(baseParams())
			require.NoError(t, err)
			require.False(t, ro.Encrypted)
			require.Equal(t, t0, ro.IssuedAt)
			require.Equal(t, t0.Add(jar.DefaultLifetime), ro.Expiry)

			algs := tc.algs
			if algs == nil {
				algs = jose.DefaultAlgorithms
			}
			h, claims := joseVerify(t, ro.JWT, tc.signer.Public(), algs)
			require.Equal(t, tc.wantAlg, h.Alg)
			require.Equal(t, "oauth-authz-req+jwt", h.Typ)
			require.Equal(t, "k1", h.Kid)

			sh, sclaims := stdlibVerify(t, ro.JWT, tc.signer.Public())
			require.Equal(t, tc.wantAlg, sh["alg"])
			require.Equal(t, "oauth-authz-req+jwt", sh["typ"])
			require.Equal(t, "k1", sh["kid"])

			for _, cl := range []map[string]any{claims, sclaims} {
				require.Equal(t, clientID, cl["iss"])
				require.Equal(t, clientID, cl["client_id"])
				require.Equal(t, issuer, cl["aud"])
				require.Equal(t, json.Number("1700000000"), cl["iat"])
				require.Equal(t, json.Number("1700000000"), cl["nbf"])
				require.Equal(t, json.Number("1700000060"), cl["exp"])
				require.Equal(t, ro.ID, cl["jti"])
				require.Equal(t, "code", cl["response_type"])
				require.NotContains(t, cl, "sub")
			}
		})
	}
}

func TestBuildFreshJTI(t *testing.T) {
	t.Parallel()
	keys(t)
	c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Now: fixedNow}
	seen := map[string]bool{}
	for range 50 {
		ro, err := c.Build(baseParams())
		require.NoError(t, err)
		require.Len(t, ro.ID, 22) // 128 bits, base64url
		require.False(t, seen[ro.ID], "jti reused")
		seen[ro.ID] = true
	}
}

func TestBuildWithoutKeyID(t *testing.T) {
	t.Parallel()
	keys(t)
	c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Now: fixedNow}
	ro, err := c.Build(baseParams())
	require.NoError(t, err)
	h, _ := stdlibVerify(t, ro.JWT, &ecKey.PublicKey)
	require.NotContains(t, h, "kid")
}

func TestLifetime(t *testing.T) {
	t.Parallel()
	keys(t)
	tests := []struct {
		name     string
		lifetime time.Duration
		want     time.Duration
		err      error
	}{
		{name: "default", lifetime: 0, want: 60 * time.Second},
		{name: "five minutes", lifetime: 5 * time.Minute, want: 5 * time.Minute},
		{name: "sixty minutes", lifetime: 60 * time.Minute, want: 60 * time.Minute},
		{name: "over sixty minutes", lifetime: 60*time.Minute + time.Second, err: jar.ErrInvalidConfig},
		{name: "one day", lifetime: 24 * time.Hour, err: jar.ErrInvalidConfig},
		{name: "negative", lifetime: -time.Second, err: jar.ErrInvalidConfig},
		{name: "sub-second", lifetime: 500 * time.Millisecond, err: jar.ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Lifetime: tc.lifetime, Now: fixedNow}
			ro, err := c.Build(baseParams())
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				var ce *jar.ConfigError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, "Config.Lifetime", ce.Field)
				require.Nil(t, ro)
				return
			}
			require.NoError(t, err)
			_, claims := stdlibVerify(t, ro.JWT, &ecKey.PublicKey)
			exp, err := claims["exp"].(json.Number).Int64()
			require.NoError(t, err)
			iat, err := claims["iat"].(json.Number).Int64()
			require.NoError(t, err)
			require.Equal(t, int64(tc.want/time.Second), exp-iat)
			require.Equal(t, ro.IssuedAt.Add(tc.want), ro.Expiry)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	keys(t)
	tests := []struct {
		name   string
		config jar.Config
		field  string
	}{
		{name: "no client ID", config: jar.Config{Issuer: issuer, Key: ecKey}, field: "Config.ClientID"},
		{name: "no issuer", config: jar.Config{ClientID: clientID, Key: ecKey}, field: "Config.Issuer"},
		{name: "no key", config: jar.Config{ClientID: clientID, Issuer: issuer}, field: "Config.Key"},
		{name: "RS256 not listed", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: rsaKey, Algorithm: jose.RS256}, field: "Config.Algorithm"},
		{name: "ES384 key not listed", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: ec384Key}, field: "Config.Algorithm"},
		{name: "PS256 excluded by list", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: rsaKey, Algorithms: []string{jose.ES256}}, field: "Config.Algorithm"},
		{name: "none listed", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Algorithms: []string{"none", jose.ES256}}, field: "Config.Algorithms"},
		{name: "HS256 listed", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Algorithms: []string{"HS256"}}, field: "Config.Algorithms"},
		{name: "empty list", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Algorithms: []string{}}, field: "Config.Algorithms"},
		{name: "none as algorithm", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Algorithm: "none"}, field: "Config.Algorithm"},
		{name: "alg does not fit key", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: rsaKey, Algorithm: jose.ES256}, field: "Config.Algorithm"},
		{name: "unsupported key", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: p224Key(t)}, field: "Config.Key"},
		{name: "small RSA key", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: rsa1024Key(t)}, field: "Config.Key"},
		{name: "lifetime", config: jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Lifetime: time.Hour + time.Second}, field: "Config.Lifetime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.config
			ro, err := c.Build(baseParams())
			require.Nil(t, ro)
			require.ErrorIs(t, err, jar.ErrInvalidConfig)
			var ce *jar.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field)
			require.Equal(t, "jar: invalid configuration: "+ce.Field+": "+ce.Reason, err.Error())
		})
	}
}

func TestSignerFails(t *testing.T) {
	t.Parallel()
	keys(t)
	c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: failingSigner{ecKey}}
	ro, err := c.Build(baseParams())
	require.Nil(t, ro)
	require.ErrorIs(t, err, jar.ErrSigning)
	require.ErrorIs(t, err, errSignerDown)
}

func rsa1024Key(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	return k
}

func p224Key(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	return k
}

func TestSupportedEncryptionAlgorithms(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{jose.RSAOAEP256, jose.ECDHES, jose.ECDHESA256KW, jose.ECDHESA192KW, jose.ECDHESA128KW}, jar.KeyAlgorithms())
	require.Equal(t, []string{jose.A256GCM, jose.A192GCM, jose.A128GCM, jose.A256CBCHS512, jose.A192CBCHS384, jose.A128CBCHS256}, jar.ContentEncryptions())
	// Callers get copies.
	jar.KeyAlgorithms()[0] = "x"
	require.Equal(t, jose.RSAOAEP256, jar.KeyAlgorithms()[0])
}
