package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/jose"
)

func decodeProof(t *testing.T, proof string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(proof, ".")
	require.Len(t, parts, 3)
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := b64.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, dst))
	}
	return header, claims
}

func TestProofContents(t *testing.T) {
	t.Parallel()
	k := newKey(t)
	p := newProofer(t, k, fixedNow)
	proof, err := p.Proof("POST", "HTTPS://AS.Example:443/token?x=1#frag", ProofOptions{AccessToken: "tok", Nonce: "n-1"})
	require.NoError(t, err)
	h, c := decodeProof(t, proof)
	require.Equal(t, "dpop+jwt", h["typ"])
	require.Equal(t, "ES256", h["alg"])
	jwk := h["jwk"].(map[string]any)
	require.Equal(t, "EC", jwk["kty"])
	require.NotContains(t, jwk, "d")
	require.Len(t, h, 3)

	require.Equal(t, "POST", c["htm"])
	require.Equal(t, "https://as.example/token", c["htu"], "scheme and host lower-cased, default port, query and fragment dropped")
	require.EqualValues(t, fixedNow.Unix(), c["iat"])
	require.Equal(t, AccessTokenHash("tok"), c["ath"])
	require.Equal(t, "n-1", c["nonce"])
	jti, err := b64.DecodeString(c["jti"].(string))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(jti)*8, 96, "at least 96 bits of randomness (RFC 9449 §11.1)")
	require.Len(t, c, 6)

	// Without options, no ath and no nonce.
	proof, err = p.Proof("GET", "https://as.example", ProofOptions{})
	require.NoError(t, err)
	_, c = decodeProof(t, proof)
	require.NotContains(t, c, "ath")
	require.NotContains(t, c, "nonce")
	require.Equal(t, "https://as.example/", c["htu"], "an empty path is /")
}

func TestProofHTU(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "https://rs.example/a/b", "https://rs.example/a/b"},
		{"query and fragment", "https://rs.example/a?b=c#d", "https://rs.example/a"},
		{"default https port", "https://rs.example:443/a", "https://rs.example/a"},
		{"default http port", "http://rs.example:80/a", "http://rs.example/a"},
		{"other port kept", "https://rs.example:8443/a", "https://rs.example:8443/a"},
		{"case", "HTTPS://RS.EXAMPLE/A", "https://rs.example/A"},
		{"escaped path kept", "https://rs.example/a%2Fb", "https://rs.example/a%2Fb"},
		{"IPv6", "https://[::1]:443/a", "https://[::1]/a"},
		{"userinfo dropped", "https://user:pw@rs.example/a", "https://rs.example/a"},
		{"quote escaped in JSON", `https://rs.example/a"b`, "https://rs.example/a%22b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proof, err := p.Proof("GET", tc.in, ProofOptions{})
			require.NoError(t, err)
			_, c := decodeProof(t, proof)
			require.Equal(t, tc.want, c["htu"])
		})
	}
	for _, bad := range []string{"/relative", "ftp://x.example/a", "https:///nohost", "::bad"} {
		_, err := p.Proof("GET", bad, ProofOptions{})
		require.ErrorIs(t, err, ErrInvalidRequest, bad)
	}
	for _, m := range []string{"", "GE T", "GET\n", `G"T`} {
		_, err := p.Proof(m, "https://rs.example/", ProofOptions{})
		require.ErrorIs(t, err, ErrInvalidRequest, m)
	}
}

func TestProofFreshJTI(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	seen := map[string]bool{}
	for range 200 {
		proof, err := p.Proof("GET", rsURI, ProofOptions{})
		require.NoError(t, err)
		_, c := decodeProof(t, proof)
		jti := c["jti"].(string)
		require.False(t, seen[jti])
		seen[jti] = true
	}
}

func TestProofJSONEscaping(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	// Nonces come from servers: whatever they hold is encoded as JSON.
	nonce := "a\"b\\c\x01d"
	proof, err := p.Proof("GET", rsURI, ProofOptions{Nonce: nonce})
	require.NoError(t, err)
	_, c := decodeProof(t, proof)
	require.Equal(t, nonce, c["nonce"])
}

type opaqueSigner struct{ crypto.Signer }

func TestNewProofer(t *testing.T) {
	t.Parallel()
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	ec224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ec := newKey(t)

	for _, tc := range []struct {
		name      string
		cfg       ProoferConfig
		wantAlg   string
		wantField string
	}{
		{"P-256 defaults to ES256", ProoferConfig{Key: ec}, "ES256", ""},
		{"P-384 defaults to ES384", ProoferConfig{Key: ec384}, "ES384", ""},
		{"Ed25519 defaults to EdDSA", ProoferConfig{Key: ed}, "EdDSA", ""},
		{"RSA defaults to PS256", ProoferConfig{Key: rk}, "PS256", ""},
		{"RSA with PS512", ProoferConfig{Key: rk, Algorithm: "PS512"}, "PS512", ""},
		{"opaque signer (HSM, KMS)", ProoferConfig{Key: opaqueSigner{ec}}, "ES256", ""},
		{"nil key", ProoferConfig{}, "", "ProoferConfig.Key"},
		{"RS256 not offered", ProoferConfig{Key: rk, Algorithm: "RS256"}, "", "ProoferConfig.Algorithm"},
		{"none", ProoferConfig{Key: ec, Algorithm: "none"}, "", "ProoferConfig.Algorithm"},
		{"HS256", ProoferConfig{Key: ec, Algorithm: "HS256"}, "", "ProoferConfig.Algorithm"},
		{"alg does not fit key", ProoferConfig{Key: ec, Algorithm: "ES384"}, "", "ProoferConfig.Algorithm"},
		{"P-224", ProoferConfig{Key: ec224}, "", "ProoferConfig.Key"},
		{"RSA 1024", ProoferConfig{Key: small}, "", "ProoferConfig.Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewProofer(tc.cfg)
			if tc.wantField != "" {
				require.ErrorIs(t, err, ErrInvalidConfig)
				var ce *ConfigError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tc.wantField, ce.Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantAlg, p.Algorithm())
			tp, err := jose.Thumbprint(tc.cfg.Key.Public())
			require.NoError(t, err)
			require.Equal(t, tp, p.JKT())
			require.True(t, p.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.cfg.Key.Public()))
		})
	}
}

type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, io.ErrUnexpectedEOF
}

func TestProofSignerFailure(t *testing.T) {
	t.Parallel()
	p, err := NewProofer(ProoferConfig{Key: failingSigner{newKey(t)}})
	require.NoError(t, err)
	_, err = p.Proof("GET", rsURI, ProofOptions{})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestJKTOption(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	conf := &oauth2.Config{ClientID: "c", Endpoint: oauth2.Endpoint{AuthURL: "https://as.example/authorize"}}
	u, err := url.Parse(conf.AuthCodeURL("state", JKTOption(p.JKT())))
	require.NoError(t, err)
	require.Equal(t, p.JKT(), u.Query().Get("dpop_jkt"))

	params := url.Values{"client_id": {"c"}}
	SetJKT(params, p.JKT())
	require.Equal(t, p.JKT(), params.Get("dpop_jkt"))
}
