package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)

	sign := func(key crypto.Signer, alg string) (input, sig []byte) {
		s, err := NewSigner(key, SignerOptions{Algorithm: alg})
		require.NoError(t, err)
		tok, err := s.Sign([]byte(`{"a":1}`))
		require.NoError(t, err)
		i := strings.LastIndexByte(tok, '.')
		sig, err = b64.DecodeString(tok[i+1:])
		require.NoError(t, err)
		return []byte(tok[:i]), sig
	}

	for _, tc := range []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"ES256", ec, ES256},
		{"ES384", ec384, ES384},
		{"EdDSA", ed, EdDSA},
		{"PS256", rk, PS256},
		{"RS256", rk, RS256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			input, sig := sign(tc.key, tc.alg)
			pub := tc.key.Public()
			require.NoError(t, VerifySignature(tc.alg, []string{tc.alg}, pub, input, sig))

			bad := append([]byte(nil), sig...)
			bad[len(bad)-1] ^= 1
			require.ErrorIs(t, VerifySignature(tc.alg, []string{tc.alg}, pub, input, bad), ErrInvalidSignature)
			changed := append(append([]byte(nil), input...), 'x')
			require.ErrorIs(t, VerifySignature(tc.alg, []string{tc.alg}, pub, changed, sig), ErrInvalidSignature)
			require.ErrorIs(t, VerifySignature(tc.alg, []string{"ES512"}, pub, input, sig), ErrAlgorithmNotAllowed)
			require.ErrorIs(t, VerifySignature(tc.alg, nil, pub, input, sig), ErrNoAlgorithms)
		})
	}

	t.Run("rejects", func(t *testing.T) {
		t.Parallel()
		input, sig := sign(ec, ES256)
		for _, tc := range []struct {
			name string
			alg  string
			algs []string
			pub  crypto.PublicKey
			want error
		}{
			{"none", "none", []string{"none"}, &ec.PublicKey, ErrAlgorithmNotAllowed},
			{"HS256", "HS256", []string{"HS256"}, &ec.PublicKey, ErrAlgorithmNotAllowed},
			{"wrong curve", ES256, []string{ES256}, &ec384.PublicKey, ErrKeyMismatch},
			{"RSA key for ES256", ES256, []string{ES256}, &rk.PublicKey, ErrKeyMismatch},
			{"small RSA key", PS256, []string{PS256}, &small.PublicKey, ErrUnsupportedKey},
			{"short ECDSA signature", ES256, []string{ES256}, &ec.PublicKey, ErrInvalidSignature},
		} {
			s := sig
			if tc.name == "short ECDSA signature" {
				s = sig[:63]
			}
			require.ErrorIs(t, VerifySignature(tc.alg, tc.algs, tc.pub, input, s), tc.want, tc.name)
		}
	})
}
