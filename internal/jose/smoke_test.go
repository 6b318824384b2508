package jose

import (
	"crypto"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec5, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	for alg, key := range map[string]crypto.Signer{ES256: ec, ES512: ec5, EdDSA: ed, PS256: rk, RS256: rk} {
		s, err := NewSigner(key, SignerOptions{Algorithm: alg, Type: "x", EmbedJWK: true, KeyID: "k1"})
		require.NoError(t, err)
		tok, err := s.Sign([]byte("{}"))
		require.NoError(t, err)
		j, err := ParseCompact(tok)
		require.NoError(t, err, alg)
		_, err = j.VerifyEmbedded([]string{alg})
		require.NoError(t, err, alg)
	}
	s, err := NewSigner(ec, SignerOptions{Type: "dpop+jwt", EmbedJWK: true})
	require.NoError(t, err)
	tok, err := s.SignJSON(map[string]any{"a": 1})
	require.NoError(t, err)
	j, err := ParseCompact(tok)
	require.NoError(t, err)
	k, err := j.VerifyEmbedded(DefaultAlgorithms)
	require.NoError(t, err)
	tp, _ := k.Thumbprint()
	tp2, _ := Thumbprint(ec.Public())
	require.Equal(t, tp, tp2)
	_, err = j.VerifyWith(context.Background(), StaticKeys{{Key: &ec.PublicKey}}, []string{ES256})
	require.NoError(t, err)

	jwe, err := Encrypt([]byte(tok), &rk.PublicKey, EncryptOptions{ContentType: "JWT", KeyID: "e1"})
	require.NoError(t, err)
	pt, h, err := Decrypt(jwe, []DecryptionKey{{KeyID: "e1", Key: rk}}, DecryptOptions{})
	require.NoError(t, err)
	require.Equal(t, tok, string(pt))
	require.Equal(t, "JWT", h.Cty)
	jwe2, err := Encrypt([]byte(tok), &ec.PublicKey, EncryptOptions{KeyAlgorithm: ECDHESA256KW, ContentEncryption: A128CBCHS256})
	require.NoError(t, err)
	pt, _, err = Decrypt(jwe2, []DecryptionKey{{Key: ec}}, DecryptOptions{})
	require.NoError(t, err)
	require.Equal(t, tok, string(pt))
	_, _, err = Decrypt(jwe2, []DecryptionKey{{Key: ec}}, DecryptOptions{ContentEncryptions: []string{A256GCM}})
	require.ErrorIs(t, err, ErrAlgorithmNotAllowed)
}
