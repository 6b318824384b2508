package jarm_test

import (
	"context"
	"crypto"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/jarm"
)

// modes delivers a "response" value through each response mode.
var modes = []struct {
	name    string
	deliver func(d *jarm.Decoder, jwt, state string) (*jarm.Response, error)
}{
	{"query.jwt params", func(d *jarm.Decoder, jwt, state string) (*jarm.Response, error) {
		return d.Decode(context.Background(), url.Values{"response": {jwt}}, state)
	}},
	{"query.jwt URL", func(d *jarm.Decoder, jwt, state string) (*jarm.Response, error) {
		return d.DecodeURL(context.Background(), "https://client.example.com/cb?response="+url.QueryEscape(jwt), state)
	}},
	{"jwt URL with redirect query", func(d *jarm.Decoder, jwt, state string) (*jarm.Response, error) {
		return d.DecodeURL(context.Background(), "https://client.example.com/cb?tenant=a&response="+jwt, state)
	}},
	{"fragment.jwt", func(d *jarm.Decoder, jwt, state string) (*jarm.Response, error) {
		return d.DecodeFragment(context.Background(), "#response="+jwt, state)
	}},
	{"fragment.jwt in URL", func(d *jarm.Decoder, jwt, state string) (*jarm.Response, error) {
		return d.DecodeURL(context.Background(), "https://client.example.com/cb#response="+jwt, state)
	}},
	{"form_post.jwt", func(d *jarm.Decoder, jwt, state string) (*jarm.Response, error) {
		r := httptest.NewRequest(http.MethodPost, "https://client.example.com/cb", strings.NewReader("response="+url.QueryEscape(jwt)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
		return d.DecodeRequest(context.Background(), r, state)
	}},
}

func TestDecodeSigned(t *testing.T) {
	t.Parallel()
	signers := []struct {
		name string
		sign func(t testing.TB) string
		edit func(*jarm.Config)
	}{
		{"jose ES256", func(t testing.TB) string { return signJose(t, asEC(), jose.ES256, "ec1", claims(nil)) }, nil},
		{"stdlib ES256", func(t testing.TB) string { return signStdlib(t, asEC(), "ec1", claims(nil)) }, nil},
		{"stdlib ES256 without kid", func(t testing.TB) string { return signStdlib(t, asEC(), "", claims(nil)) }, nil},
		{"jose PS256", func(t testing.TB) string { return signJose(t, asRSA(), jose.PS256, "rsa1", claims(nil)) }, nil},
		{"jose EdDSA", func(t testing.TB) string { return signJose(t, asEd(), jose.EdDSA, "ed1", claims(nil)) }, nil},
		{"jose RS256 listed explicitly", func(t testing.TB) string { return signJose(t, asRSA(), jose.RS256, "rsa1", claims(nil)) },
			func(c *jarm.Config) { c.Algorithms = []string{jose.RS256} }},
		{"aud array", func(t testing.TB) string {
			return signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"aud": []string{"other", testClientID}}))
		}, nil},
		{"no iat, nbf in the skew", func(t testing.TB) string {
			return signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"iat": nil, "nbf": testNow.Add(5 * time.Second).Unix()}))
		}, nil},
		{"exp within the skew", func(t testing.TB) string {
			return signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"exp": testNow.Add(-5 * time.Second).Unix()}))
		}, nil},
		{"extra claims ignored", func(t testing.TB) string {
			return signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"session_state": "x", "Issuer": "https://evil.example"}))
		}, nil},
	}
	for _, s := range signers {
		for _, m := range modes {
			t.Run(s.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				d := staticDecoder(t, s.edit)
				r, err := m.deliver(d, s.sign(t), testState)
				require.NoError(t, err)
				require.Equal(t, testCode, r.Code)
				require.Equal(t, testState, r.State)
				require.Equal(t, testIssuer, r.Issuer)
				require.True(t, r.JARM)
				require.False(t, r.Encrypted)
				require.False(t, r.Expiry.IsZero())
			})
		}
	}
}

func TestDecodeEncrypted(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		to   crypto.PublicKey
		kid  string
		opts jose.EncryptOptions
	}{
		{"RSA-OAEP-256 A256GCM", clientRSA().Public(), "enc-rsa", jose.EncryptOptions{KeyAlgorithm: jose.RSAOAEP256, ContentEncryption: jose.A256GCM}},
		{"RSA-OAEP-256 A128CBC-HS256 (JARM default enc)", clientRSA().Public(), "enc-rsa", jose.EncryptOptions{ContentEncryption: jose.A128CBCHS256}},
		{"ECDH-ES A128GCM", clientEC().Public(), "enc-ec", jose.EncryptOptions{KeyAlgorithm: jose.ECDHES, ContentEncryption: jose.A128GCM}},
		{"ECDH-ES+A256KW A256CBC-HS512", clientEC().Public(), "enc-ec", jose.EncryptOptions{KeyAlgorithm: jose.ECDHESA256KW, ContentEncryption: jose.A256CBCHS512}},
		{"no kid in JWE", clientEC().Public(), "", jose.EncryptOptions{KeyAlgorithm: jose.ECDHESA128KW}},
	}
	withEnc := func(c *jarm.Config) {
		c.DecryptionKeys = []jarm.DecryptionKey{{KeyID: "enc-rsa", Key: clientRSA()}, {KeyID: "enc-ec", Key: clientEC()}}
	}
	for _, tc := range cases {
		for _, m := range modes {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				d := staticDecoder(t, withEnc)
				inner := signStdlib(t, asEC(), "ec1", claims(nil))
				r, err := m.deliver(d, encrypt(t, inner, tc.to, tc.kid, tc.opts), testState)
				require.NoError(t, err)
				require.Equal(t, testCode, r.Code)
				require.Equal(t, testState, r.State)
				require.True(t, r.JARM)
				require.True(t, r.Encrypted)
			})
		}
	}
}

func TestDecodeErrorResponse(t *testing.T) {
	t.Parallel()
	d := staticDecoder(t, nil)
	// JARM §2.1.1 error payload, signed by the test server.
	tok := signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{
		"code": nil, "error": "access_denied", "error_description": "user said no", "error_uri": "https://as.example.com/e",
	}))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			r, err := m.deliver(d, tok, testState)
			require.Nil(t, r)
			require.ErrorIs(t, err, jarm.ErrAuthorization)
			require.ErrorIs(t, err, &oautherr.Error{Code: "access_denied"})
			var ae *jarm.AuthorizationError
			require.ErrorAs(t, err, &ae)
			require.True(t, ae.JARM)
			require.Equal(t, testIssuer, ae.Issuer)
			require.Equal(t, testState, ae.State)
			require.Equal(t, "user said no", ae.Description)
			require.Equal(t, "https://as.example.com/e", ae.URI)
			var oe *oautherr.Error
			require.ErrorAs(t, err, &oe)
			require.Equal(t, "access_denied", oe.Code)
			require.NotContains(t, err.Error(), testState)
		})
	}
}

func TestDecodeErrorResponseChecksState(t *testing.T) {
	t.Parallel()
	d := staticDecoder(t, nil)
	tok := signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"code": nil, "error": "access_denied", "state": "other"}))
	_, err := d.Decode(context.Background(), url.Values{"response": {tok}}, testState)
	require.ErrorIs(t, err, jarm.ErrStateMismatch)
	require.NotErrorIs(t, err, jarm.ErrAuthorization)
}

func TestDecodeNoState(t *testing.T) {
	t.Parallel()
	tok := signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"state": nil}))
	withState := signJose(t, asEC(), jose.ES256, "ec1", claims(nil))
	strict := staticDecoder(t, nil)
	lax := staticDecoder(t, func(c *jarm.Config) { c.InsecureAllowNoState = true })
	cases := []struct {
		name string
		d    *jarm.Decoder
		tok  string
		err  error
	}{
		{"empty expected state refused by default", strict, tok, jarm.ErrNoExpectedState},
		{"no state sent and none returned", lax, tok, nil},
		{"no state sent but one returned", lax, withState, jarm.ErrStateMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := tc.d.Decode(context.Background(), url.Values{"response": {tc.tok}}, "")
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, testCode, r.Code)
			require.Empty(t, r.State)
		})
	}
}
