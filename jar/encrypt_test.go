package jar_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jar"
)

func TestBuildEncrypted(t *testing.T) {
	t.Parallel()
	keys(t)
	tests := []struct {
		name    string
		enc     jar.Encryption
		decrypt crypto.PrivateKey
		kid     string
		wantAlg string
		wantEnc string
	}{
		{
			name:    "RSA default",
			enc:     jar.Encryption{Keys: []jar.EncryptionKey{{Key: &rsaEnc.PublicKey, KeyID: "enc-rsa"}}},
			decrypt: rsaEnc, kid: "enc-rsa", wantAlg: jose.RSAOAEP256, wantEnc: jose.A256GCM,
		},
		{
			name:    "EC default",
			enc:     jar.Encryption{Keys: []jar.EncryptionKey{{Key: &ecEnc.PublicKey, KeyID: "enc-ec"}}},
			decrypt: ecEnc, kid: "enc-ec", wantAlg: jose.ECDHES, wantEnc: jose.A256GCM,
		},
		{
			name: "EC with metadata",
			enc: jar.Encryption{
				Keys:               []jar.EncryptionKey{{Key: &ecEnc.PublicKey, KeyID: "enc-ec"}},
				AlgValuesSupported: []string{"RSA1_5", jose.ECDHESA128KW},
				EncValuesSupported: []string{jose.A128CBCHS256, jose.A128GCM},
			},
			decrypt: ecEnc, kid: "enc-ec", wantAlg: jose.ECDHESA128KW, wantEnc: jose.A128GCM,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			enc := tc.enc
			c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, KeyID: "sig-1", Now: fixedNow, Encryption: &enc}
			ro, err := c.Build(baseParams())
			require.NoError(t, err)
			require.True(t, ro.Encrypted)
			require.Equal(t, 5, jose.Segments(ro.JWT))

			inner, h, err := jose.Decrypt(ro.JWT, []jose.DecryptionKey{{KeyID: tc.kid, Key: tc.decrypt}}, jose.DecryptOptions{})
			require.NoError(t, err)
			require.Equal(t, tc.wantAlg, h.Alg)
			require.Equal(t, tc.wantEnc, h.Enc)
			require.Equal(t, tc.kid, h.Kid)
			require.Equal(t, "JWT", h.Cty)

			// The plaintext is the signed request object: verify it both ways.
			jh, claims := joseVerify(t, string(inner), &ecKey.PublicKey, jose.DefaultAlgorithms)
			require.Equal(t, "oauth-authz-req+jwt", jh.Typ)
			require.Equal(t, "sig-1", jh.Kid)
			require.Equal(t, ro.ID, claims["jti"])
			_, sclaims := stdlibVerify(t, string(inner), &ecKey.PublicKey)
			require.Equal(t, clientID, sclaims["client_id"])
			require.Equal(t, "code", sclaims["response_type"])
		})
	}
}

func TestEncryptionSelection(t *testing.T) {
	t.Parallel()
	keys(t)
	rsaPub := jar.EncryptionKey{Key: &rsaEnc.PublicKey, KeyID: "rsa"}
	ecPub := jar.EncryptionKey{Key: &ecEnc.PublicKey, KeyID: "ec"}
	tests := []struct {
		name    string
		enc     jar.Encryption
		wantKid string
		wantAlg string
		wantEnc string
		err     error
	}{
		{name: "RSA preferred over EC", enc: jar.Encryption{Keys: []jar.EncryptionKey{ecPub, rsaPub}}, wantKid: "rsa", wantAlg: jose.RSAOAEP256, wantEnc: jose.A256GCM},
		{name: "server lists only ECDH-ES", enc: jar.Encryption{Keys: []jar.EncryptionKey{rsaPub, ecPub}, AlgValuesSupported: []string{jose.ECDHES}}, wantKid: "ec", wantAlg: jose.ECDHES, wantEnc: jose.A256GCM},
		{name: "key alg pins it", enc: jar.Encryption{Keys: []jar.EncryptionKey{{Key: &ecEnc.PublicKey, KeyID: "ec", Algorithm: jose.ECDHESA256KW}}, AlgValuesSupported: jar.KeyAlgorithms()}, wantKid: "ec", wantAlg: jose.ECDHESA256KW, wantEnc: jose.A256GCM},
		{name: "enc preference", enc: jar.Encryption{Keys: []jar.EncryptionKey{rsaPub}, EncValuesSupported: []string{jose.A128CBCHS256, jose.A256CBCHS512}}, wantKid: "rsa", wantAlg: jose.RSAOAEP256, wantEnc: jose.A256CBCHS512},
		{name: "no common alg", enc: jar.Encryption{Keys: []jar.EncryptionKey{rsaPub}, AlgValuesSupported: []string{"RSA1_5", "RSA-OAEP"}}, err: jar.ErrEncryption},
		{name: "empty alg metadata", enc: jar.Encryption{Keys: []jar.EncryptionKey{rsaPub}, AlgValuesSupported: []string{}}, err: jar.ErrEncryption},
		{name: "no common enc", enc: jar.Encryption{Keys: []jar.EncryptionKey{rsaPub}, EncValuesSupported: []string{"A128CTR"}}, err: jar.ErrEncryption},
		{name: "no keys", enc: jar.Encryption{}, err: jar.ErrEncryption},
		{name: "RSA key but only ECDH listed", enc: jar.Encryption{Keys: []jar.EncryptionKey{rsaPub}, AlgValuesSupported: []string{jose.ECDHES}}, err: jar.ErrEncryption},
		{name: "key pinned to unsupported alg", enc: jar.Encryption{Keys: []jar.EncryptionKey{{Key: &rsaEnc.PublicKey, Algorithm: "RSA-OAEP"}}}, err: jar.ErrEncryption},
		{name: "Ed25519 cannot encrypt", enc: jar.Encryption{Keys: []jar.EncryptionKey{{Key: edKey.Public()}}}, err: jar.ErrEncryption},
		{name: "nil key", enc: jar.Encryption{Keys: []jar.EncryptionKey{{Key: nil}}}, err: jar.ErrEncryption},
		{name: "nil RSA key", enc: jar.Encryption{Keys: []jar.EncryptionKey{{Key: (*rsa.PublicKey)(nil)}}}, err: jar.ErrEncryption},
		{name: "nil EC key", enc: jar.Encryption{Keys: []jar.EncryptionKey{{Key: (*ecdsa.PublicKey)(nil)}}}, err: jar.ErrEncryption},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			enc := tc.enc
			c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Now: fixedNow, Encryption: &enc}
			ro, err := c.Build(baseParams())
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Nil(t, ro)
				return
			}
			require.NoError(t, err)
			h, err := jose.ParseJWEHeader(ro.JWT)
			require.NoError(t, err)
			require.Equal(t, tc.wantKid, h.Kid)
			require.Equal(t, tc.wantAlg, h.Alg)
			require.Equal(t, tc.wantEnc, h.Enc)
			require.Equal(t, "JWT", h.Cty)
		})
	}
}

func TestEncryptSmallRSAKey(t *testing.T) {
	t.Parallel()
	keys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Now: fixedNow,
		Encryption: &jar.Encryption{Keys: []jar.EncryptionKey{{Key: &small.PublicKey}}}}
	_, err = c.Build(baseParams())
	require.ErrorIs(t, err, jar.ErrEncryption)
}

func TestParseEncryptionKeys(t *testing.T) {
	t.Parallel()
	keys(t)
	jwk := func(pub crypto.PublicKey, kid, use, alg string) json.RawMessage {
		k, err := jose.NewJWK(pub)
		require.NoError(t, err)
		k.KeyID, k.Use, k.Algorithm = kid, use, alg
		b, err := json.Marshal(k)
		require.NoError(t, err)
		return b
	}
	set := func(ks ...json.RawMessage) []byte {
		b, err := json.Marshal(map[string]any{"keys": ks})
		require.NoError(t, err)
		return b
	}
	good := set(
		jwk(&ecKey.PublicKey, "sig", "sig", "ES256"),
		jwk(&rsaEnc.PublicKey, "rsa-enc", "enc", ""),
		jwk(&ecEnc.PublicKey, "ec-any", "", "ECDH-ES+A128KW"),
		jwk(edKey.Public(), "ed", "", ""),
		json.RawMessage(`{"kty":"OKP","crv":"X25519","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo","use":"enc"}`),
	)
	got, err := jar.ParseEncryptionKeys(good)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "rsa-enc", got[0].KeyID)
	require.True(t, rsaEnc.PublicKey.Equal(got[0].Key))
	require.Empty(t, got[0].Algorithm)
	require.Equal(t, "ec-any", got[1].KeyID)
	require.Equal(t, jose.ECDHESA128KW, got[1].Algorithm)
	require.True(t, ecEnc.PublicKey.Equal(got[1].Key))

	// The parsed keys drive the choice: RSA-OAEP-256 with the RSA key.
	c := &jar.Config{ClientID: clientID, Issuer: issuer, Key: ecKey, Now: fixedNow, Encryption: &jar.Encryption{Keys: got}}
	ro, err := c.Build(baseParams())
	require.NoError(t, err)
	h, err := jose.ParseJWEHeader(ro.JWT)
	require.NoError(t, err)
	require.Equal(t, "rsa-enc", h.Kid)

	// Keys this package cannot encrypt to are skipped: an RSA key under
	// 2048 bits.
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	smallJWK, err := json.Marshal(map[string]string{
		"kty": "RSA", "kid": "small", "use": "enc",
		"n": base64.RawURLEncoding.EncodeToString(small.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(small.E)).Bytes()),
	})
	require.NoError(t, err)
	got, err = jar.ParseEncryptionKeys(set(smallJWK, jwk(&rsaEnc.PublicKey, "rsa-enc", "enc", "")))
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "rsa-enc", got[0].KeyID)

	// Only signing keys: no usable key, and Build says so.
	onlySig, err := jar.ParseEncryptionKeys(set(jwk(&ecKey.PublicKey, "sig", "sig", "")))
	require.NoError(t, err)
	require.Empty(t, onlySig)

	bad := []struct {
		name string
		jwks string
		err  error
	}{
		{name: "not JSON", jwks: `{`, err: jar.ErrEncryption},
		{name: "no keys member", jwks: `{}`, err: jar.ErrEncryption},
		{name: "private key", jwks: `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cLNDwo8MUxGVcibs_UHK4M"}]}`, err: jose.ErrPrivateKey},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := jar.ParseEncryptionKeys([]byte(tc.jwks))
			require.ErrorIs(t, err, jar.ErrEncryption)
			require.ErrorIs(t, err, tc.err)
		})
	}
}
