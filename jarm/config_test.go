package jarm_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

func TestNewDecoderRejects(t *testing.T) {
	t.Parallel()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	ecKeys := []jarm.VerificationKey{{KeyID: "ec1", Key: asEC().Public()}}
	base := func(edit func(*jarm.Config)) jarm.Config {
		c := jarm.Config{Issuer: testIssuer, ClientID: testClientID, Keys: ecKeys}
		edit(&c)
		return c
	}
	cases := []struct {
		name string
		cfg  jarm.Config
	}{
		{"no issuer", jarm.Config{ClientID: testClientID, Keys: ecKeys}},
		{"keys without client_id", jarm.Config{Issuer: testIssuer, Keys: ecKeys}},
		{"http JWKS URL", base(func(c *jarm.Config) { c.Keys = nil; c.JWKSURL = "http://as.example.com/jwks" })},
		{"relative JWKS URL", base(func(c *jarm.Config) { c.Keys = nil; c.JWKSURL = "/jwks" })},
		{"JWKS URL and keys", base(func(c *jarm.Config) { c.JWKSURL = "https://as.example.com/jwks" })},
		{"key source and keys", base(func(c *jarm.Config) { c.KeySource = &fakeSource{} })},
		{"key source and JWKS", base(func(c *jarm.Config) {
			c.Keys = nil
			c.KeySource = &fakeSource{}
			c.JWKS = []byte(`{"keys":[]}`)
		})},
		{"key source and JWKS URL", base(func(c *jarm.Config) {
			c.Keys = nil
			c.KeySource = &fakeSource{}
			c.JWKSURL = "https://as.example.com/jwks"
		})},
		{"key source without client_id", jarm.Config{Issuer: testIssuer, KeySource: &fakeSource{}}},
		{"unsupported key type", base(func(c *jarm.Config) { c.Keys = []jarm.VerificationKey{{Key: "secret"}} })},
		{"RSA key under 2048 bits", base(func(c *jarm.Config) { c.Keys = []jarm.VerificationKey{{Key: small.Public()}} })},
		{"key with an unsupported alg", base(func(c *jarm.Config) { c.Keys = []jarm.VerificationKey{{Key: asEC().Public(), Algorithm: "HS256"}} })},
		{"JWKS not JSON", base(func(c *jarm.Config) { c.Keys = nil; c.JWKS = []byte("{") })},
		{"JWKS with a private key", base(func(c *jarm.Config) {
			c.Keys = nil
			c.JWKS = []byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]}`)
		})},
		{"JWKS without usable keys", base(func(c *jarm.Config) { c.Keys = nil; c.JWKS = []byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`) })},
		{"alg none", base(func(c *jarm.Config) { c.Algorithms = []string{"none"} })},
		{"alg HS256", base(func(c *jarm.Config) { c.Algorithms = []string{"ES256", "HS256"} })},
		{"server advertises RS256 only", base(func(c *jarm.Config) { c.AuthorizationSigningAlgValuesSupported = []string{"RS256"} })},
		{"decryption keys without verification keys", jarm.Config{Issuer: testIssuer, ClientID: testClientID, DecryptionKeys: []jarm.DecryptionKey{{Key: clientEC()}}}},
		{"Ed25519 decryption key", base(func(c *jarm.Config) { c.DecryptionKeys = []jarm.DecryptionKey{{Key: ed}} })},
		{"small RSA decryption key", base(func(c *jarm.Config) { c.DecryptionKeys = []jarm.DecryptionKey{{Key: small}} })},
		{"nil decryption key", base(func(c *jarm.Config) { c.DecryptionKeys = []jarm.DecryptionKey{{}} })},
		{"decryption with plain responses allowed", base(func(c *jarm.Config) {
			withDecryption(c)
			c.InsecureAllowPlainResponses = true
		})},
		{"JWE alg RSA1_5", base(func(c *jarm.Config) { withDecryption(c); c.KeyAlgorithms = []string{"RSA1_5"} })},
		{"JWE alg dir", base(func(c *jarm.Config) { withDecryption(c); c.KeyAlgorithms = []string{"dir"} })},
		{"JWE enc A128CBC", base(func(c *jarm.Config) { withDecryption(c); c.ContentEncryptions = []string{"A128CBC"} })},
		{"negative skew", base(func(c *jarm.Config) { c.Skew = -1 })},
		{"response limit over 64 KiB", base(func(c *jarm.Config) { c.MaxResponseBytes = 1 << 20 })},
		{"negative response limit", base(func(c *jarm.Config) { c.MaxResponseBytes = -1 })},
		{"negative body limit", base(func(c *jarm.Config) { c.MaxBodyBytes = -1 })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := jarm.NewDecoder(tc.cfg)
			require.ErrorIs(t, err, jarm.ErrInvalidConfig)
			require.Nil(t, d)
		})
	}
}

func TestAlgorithmDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		explicit []string
		server   []string
		want     []string
	}{
		{"FAPI default", nil, nil, []string{"ES256", "PS256", "EdDSA"}},
		{"server list narrows the default", nil, []string{"RS256", "PS256", "ES256"}, []string{"ES256", "PS256"}},
		{"server EdDSA only", nil, []string{"EdDSA"}, []string{"EdDSA"}},
		{"RS256 when listed", []string{"RS256"}, nil, []string{"RS256"}},
		{"explicit list wins", []string{"PS256"}, []string{"RS256"}, []string{"PS256"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := staticDecoder(t, func(c *jarm.Config) { c.Algorithms, c.AuthorizationSigningAlgValuesSupported = tc.explicit, tc.server })
			require.Equal(t, tc.want, d.Algorithms())
			require.True(t, d.JARMRequired())
		})
	}
	plain := plainDecoder(t, testIssuer, false)
	require.Nil(t, plain.Algorithms())
}

func TestStaticKeySources(t *testing.T) {
	t.Parallel()
	set, err := jose.MarshalJWKSet([]*jose.JWK{{Key: asEC().Public(), KeyID: "ec1", Algorithm: "ES256", Use: "sig"}})
	require.NoError(t, err)
	ctx := context.Background()
	tok := signStdlib(t, asEC(), "ec1", claims(nil))

	t.Run("JWKS JSON", func(t *testing.T) {
		t.Parallel()
		d := staticDecoder(t, func(c *jarm.Config) { c.Keys, c.JWKS = nil, set })
		r, err := d.Decode(ctx, url.Values{"response": {tok}}, testState)
		require.NoError(t, err)
		require.Equal(t, testCode, r.Code)
		require.NoError(t, d.Refresh(ctx)) // nothing to fetch
	})
	t.Run("key restricted to another alg", func(t *testing.T) {
		t.Parallel()
		d := staticDecoder(t, func(c *jarm.Config) {
			c.Keys = []jarm.VerificationKey{{KeyID: "rsa1", Key: asRSA().Public(), Algorithm: jose.PS256}}
			c.Algorithms = []string{jose.RS256, jose.PS256}
		})
		_, err := d.Decode(ctx, url.Values{"response": {signJose(t, asRSA(), jose.RS256, "rsa1", claims(nil))}}, testState)
		require.ErrorIs(t, err, jarm.ErrInvalidSignature)
		r, err := d.Decode(ctx, url.Values{"response": {signJose(t, asRSA(), jose.PS256, "rsa1", claims(nil))}}, testState)
		require.NoError(t, err)
		require.Equal(t, testCode, r.Code)
	})
	t.Run("enc key in the JWKS is not used to verify", func(t *testing.T) {
		t.Parallel()
		encSet, err := jose.MarshalJWKSet([]*jose.JWK{{Key: asEC().Public(), KeyID: "ec1", Use: "enc"}})
		require.NoError(t, err)
		d := staticDecoder(t, func(c *jarm.Config) { c.Keys, c.JWKS = nil, encSet })
		_, err = d.Decode(ctx, url.Values{"response": {tok}}, testState)
		require.ErrorIs(t, err, jarm.ErrInvalidSignature)
	})
}
