package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRFC7638Thumbprint(t *testing.T) {
	t.Parallel()
	var v rfc7638
	readJSON(t, "testdata/rfc7638-thumbprint.json", &v)
	k, err := ParseJWK(v.JWK)
	require.NoError(t, err)
	require.Equal(t, "2011-04-29", k.KeyID)
	require.Equal(t, RS256, k.Algorithm)
	c, err := appendCanonical(nil, k.Key)
	require.NoError(t, err)
	require.Equal(t, v.ThumbprintInput, string(c))
	tp, err := k.Thumbprint()
	require.NoError(t, err)
	require.Equal(t, v.Thumbprint, tp)
	require.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", tp)
}

func TestThumbprintInputs(t *testing.T) {
	t.Parallel()
	keys := []struct {
		name string
		key  crypto.Signer
	}{
		{"P-256", ecP256()}, {"P-384", ecP384()}, {"P-521", ecP521()}, {"Ed25519", edKey()}, {"RSA", rsa2048()},
	}
	for _, tc := range keys {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want, err := Thumbprint(tc.key.Public())
			require.NoError(t, err)
			for _, in := range []crypto.PublicKey{tc.key, &JWK{Key: tc.key.Public(), KeyID: "x"}, newKMS(tc.key)} {
				got, err := Thumbprint(in)
				require.NoError(t, err)
				require.Equal(t, want, got)
			}
			// Round trip through JSON keeps the thumbprint.
			j, err := NewJWK(tc.key)
			require.NoError(t, err)
			b, err := j.MarshalJSON()
			require.NoError(t, err)
			back, err := ParseJWK(b)
			require.NoError(t, err)
			got, err := back.Thumbprint()
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
	t.Run("unsupported", func(t *testing.T) {
		t.Parallel()
		_, err := Thumbprint(struct{}{})
		require.ErrorIs(t, err, ErrUnsupportedKey)
		//lint:ignore SA1019 an invalid key can only be built from raw coordinates
		_, err = Thumbprint(&ecdsa.PublicKey{Curve: ecP256().Curve, X: big.NewInt(1), Y: big.NewInt(1)})
		require.ErrorIs(t, err, ErrUnsupportedKey, "a point off the curve has no thumbprint")
	})
}

func TestJWKMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  crypto.PublicKey
	}{
		{"P-256", ecP256().Public()}, {"P-384", ecP384().Public()}, {"P-521", ecP521().Public()},
		{"Ed25519", edKey().Public()}, {"RSA", rsa2048().Public()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := &JWK{Key: tc.key, KeyID: `kid "quoted" \ é`, Algorithm: ES256, Use: "sig"}
			b, err := json.Marshal(in)
			require.NoError(t, err)
			var out JWK
			require.NoError(t, json.Unmarshal(b, &out))
			require.Equal(t, in.KeyID, out.KeyID)
			require.Equal(t, in.Algorithm, out.Algorithm)
			require.Equal(t, in.Use, out.Use)
			require.True(t, out.Key.(interface{ Equal(crypto.PublicKey) bool }).Equal(tc.key))
		})
	}
	t.Run("invalid key", func(t *testing.T) {
		t.Parallel()
		_, err := json.Marshal(&JWK{Key: rsa1024().Public()})
		require.ErrorIs(t, err, ErrUnsupportedKey)
	})
	t.Run("UnmarshalJSON rejects private keys", func(t *testing.T) {
		t.Parallel()
		var k JWK
		require.ErrorIs(t, json.Unmarshal([]byte(`{"kty":"oct","k":"AAAA"}`), &k), ErrPrivateKey)
	})
}

func TestNewJWK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   crypto.PublicKey
		want error
	}{
		{"private EC key", ecP256(), nil},
		{"public EC key", ecP256().Public(), nil},
		{"Ed25519 private key", edKey(), nil},
		{"RSA private key", rsa2048(), nil},
		{"JWK", &JWK{Key: ecP256().Public()}, nil},
		{"KMS signer", newKMS(ecP384()), nil},
		{"RSA 1024", rsa1024().Public(), ErrUnsupportedKey},
		{"RSA without modulus", &rsa.PublicKey{E: 65537}, ErrUnsupportedKey},
		{"RSA even exponent", &rsa.PublicKey{N: rsa2048().N, E: 65536}, ErrUnsupportedKey},
		//lint:ignore SA1019 an invalid key can only be built from raw coordinates
		{"EC point off the curve", &ecdsa.PublicKey{Curve: ecP256().Curve, X: big.NewInt(3), Y: big.NewInt(4)}, ErrUnsupportedKey},
		{"EC key without curve", &ecdsa.PublicKey{}, ErrUnsupportedKey},
		{"nil EC key", (*ecdsa.PublicKey)(nil), ErrUnsupportedKey},
		{"nil private key", (*ecdsa.PrivateKey)(nil), ErrUnsupportedKey},
		{"Ed25519 short", ed25519.PublicKey(make([]byte, 31)), ErrUnsupportedKey},
		{"string", "key", ErrUnsupportedKey},
		{"nil", nil, ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := NewJWK(tc.in)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			_, err = k.MarshalJSON()
			require.NoError(t, err)
		})
	}
}

// jwkWith returns the JSON of m with the members of edits set (a nil value
// deletes the member).
func jwkWith(t *testing.T, m map[string]any, edits map[string]any) []byte {
	t.Helper()
	c := map[string]any{}
	for k, v := range m {
		c[k] = v
	}
	for k, v := range edits {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return mustJSON(t, c)
}

func TestParseJWK(t *testing.T) {
	t.Parallel()
	ec := jwkJSON(t, ecP256().Public())
	ec521 := jwkJSON(t, ecP521().Public())
	okp := jwkJSON(t, edKey().Public())
	rsaJ := jwkJSON(t, rsa2048().Public())
	y := must(b64.DecodeString(ec["y"].(string)))
	y[len(y)-1] ^= 1
	offCurve := b64.EncodeToString(y)
	n := must(b64.DecodeString(rsaJ["n"].(string)))
	bigN := b64.EncodeToString(append([]byte{0xc5}, make([]byte, MaxRSABits/8)...))
	evenN := append([]byte{}, n...)
	evenN[len(evenN)-1] &^= 1

	valid := []struct {
		name string
		data []byte
	}{
		{"EC P-256", jwkWith(t, ec, nil)},
		{"EC P-521 (66-byte coordinates)", jwkWith(t, ec521, nil)},
		{"OKP Ed25519", jwkWith(t, okp, nil)},
		{"RSA", jwkWith(t, rsaJ, nil)},
		{"RSA e=3", jwkWith(t, rsaJ, map[string]any{"e": "Aw"})},
		{"with kid, alg, use, key_ops, x5c", jwkWith(t, ec, map[string]any{"kid": "k", "alg": "ES256", "use": "sig", "key_ops": []string{"verify"}, "x5c": []string{"AA"}})},
		{"whitespace", []byte(" \n" + string(jwkWith(t, ec, nil)) + "\t ")},
	}
	for _, tc := range valid {
		t.Run("valid/"+tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseJWK(tc.data)
			require.NoError(t, err)
			require.NotNil(t, k.Key)
		})
	}

	invalid := []struct {
		name string
		data []byte
		want error
	}{
		{"EC point off the curve", jwkWith(t, ec, map[string]any{"y": offCurve}), ErrMalformed},
		{"EC x of 31 bytes", jwkWith(t, ec, map[string]any{"x": b64.EncodeToString(make([]byte, 31))}), ErrMalformed},
		{"EC x of 33 bytes", jwkWith(t, ec, map[string]any{"x": b64.EncodeToString(make([]byte, 33))}), ErrMalformed},
		{"EC x padded", jwkWith(t, ec, map[string]any{"x": ec["x"].(string) + "="}), ErrMalformed},
		{"EC x non-canonical", jwkWith(t, ec, map[string]any{"x": ec["x"].(string)[:42] + nonCanonical2(ec["x"].(string))}), ErrMalformed},
		{"EC P-521 with P-256 coordinates", jwkWith(t, ec, map[string]any{"crv": "P-521"}), ErrMalformed},
		{"EC without y", jwkWith(t, ec, map[string]any{"y": nil}), ErrMalformed},
		{"EC x a number", jwkWith(t, ec, map[string]any{"x": 5}), ErrMalformed},
		{"EC secp256k1", jwkWith(t, ec, map[string]any{"crv": "secp256k1"}), ErrUnsupportedKey},
		{"EC P-224", jwkWith(t, ec, map[string]any{"crv": "P-224"}), ErrUnsupportedKey},
		{"OKP X25519", jwkWith(t, okp, map[string]any{"crv": "X25519"}), ErrUnsupportedKey},
		{"OKP Ed448", jwkWith(t, okp, map[string]any{"crv": "Ed448"}), ErrUnsupportedKey},
		{"OKP short", jwkWith(t, okp, map[string]any{"x": b64.EncodeToString(make([]byte, 31))}), ErrMalformed},
		{"RSA 1024", rsaJWK(rsa1024().Public().(*rsa.PublicKey)), ErrUnsupportedKey},
		{"RSA over MaxRSABits", jwkWith(t, rsaJ, map[string]any{"n": bigN}), ErrUnsupportedKey},
		{"RSA even exponent", jwkWith(t, rsaJ, map[string]any{"e": "AQAA"}), ErrUnsupportedKey},
		{"RSA exponent 1", jwkWith(t, rsaJ, map[string]any{"e": "AQ"}), ErrUnsupportedKey},
		{"RSA exponent over 2^31", jwkWith(t, rsaJ, map[string]any{"e": "gAAAAQ"}), ErrUnsupportedKey},
		{"RSA exponent of 5 bytes", jwkWith(t, rsaJ, map[string]any{"e": "AQAAAAE"}), ErrMalformed},
		{"RSA exponent with a leading zero", jwkWith(t, rsaJ, map[string]any{"e": "AAEAAQ"}), ErrMalformed},
		{"RSA exponent empty", jwkWith(t, rsaJ, map[string]any{"e": ""}), ErrMalformed},
		{"RSA modulus with a leading zero", jwkWith(t, rsaJ, map[string]any{"n": b64.EncodeToString(append([]byte{0}, n...))}), ErrMalformed},
		{"RSA even modulus", jwkWith(t, rsaJ, map[string]any{"n": b64.EncodeToString(evenN)}), ErrMalformed},
		{"RSA modulus empty", jwkWith(t, rsaJ, map[string]any{"n": ""}), ErrMalformed},
		{"RSA modulus not base64url", jwkWith(t, rsaJ, map[string]any{"n": "a+b/"}), ErrMalformed},
		{"oct", []byte(`{"kty":"oct"}`), ErrUnsupportedKey},
		{"oct with k", []byte(`{"kty":"oct","k":"c2VjcmV0"}`), ErrPrivateKey},
		{"unknown kty", []byte(`{"kty":"AKP","pub":"AAAA"}`), ErrUnsupportedKey},
		{"kty lower-case", jwkWith(t, ec, map[string]any{"kty": "ec"}), ErrUnsupportedKey},
		{"no kty", jwkWith(t, ec, map[string]any{"kty": nil}), ErrMalformed},
		{"kty a number", jwkWith(t, ec, map[string]any{"kty": 1}), ErrMalformed},
		{"EC with d", jwkWith(t, ec, map[string]any{"d": "AAAA"}), ErrPrivateKey},
		{"EC with d null", []byte(strings.Replace(string(jwkWith(t, ec, nil)), "{", `{"d":null,`, 1)), ErrPrivateKey},
		{"EC with d and a bad x", jwkWith(t, ec, map[string]any{"d": "AAAA", "x": 5}), ErrPrivateKey},
		{"OKP with d", jwkWith(t, okp, map[string]any{"d": "AAAA"}), ErrPrivateKey},
		{"RSA with p", jwkWith(t, rsaJ, map[string]any{"p": "AAAA"}), ErrPrivateKey},
		{"RSA with q", jwkWith(t, rsaJ, map[string]any{"q": "AAAA"}), ErrPrivateKey},
		{"RSA with dp", jwkWith(t, rsaJ, map[string]any{"dp": "AAAA"}), ErrPrivateKey},
		{"RSA with dq", jwkWith(t, rsaJ, map[string]any{"dq": "AAAA"}), ErrPrivateKey},
		{"RSA with qi", jwkWith(t, rsaJ, map[string]any{"qi": "AAAA"}), ErrPrivateKey},
		{"RSA with oth", jwkWith(t, rsaJ, map[string]any{"oth": []any{}}), ErrPrivateKey},
		{"EC with D", jwkWith(t, ec, map[string]any{"D": "AAAA"}), ErrMalformed},
		{"duplicate x", []byte(`{"kty":"EC","crv":"P-256","x":"` + ec["x"].(string) + `","x":"` + ec["y"].(string) + `","y":"` + ec["y"].(string) + `"}`), ErrMalformed},
		{"KTY", []byte(`{"KTY":"EC"}`), ErrMalformed},
		{"not JSON", []byte(`kty=EC`), ErrMalformed},
		{"an array", []byte(`[]`), ErrMalformed},
		{"null", []byte(`null`), ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"truncated", jwkWith(t, ec, nil)[:20], ErrMalformed},
		{"too large", []byte(`{"kty":"EC","pad":"` + strings.Repeat("a", MaxJWKSize) + `"}`), ErrTooLarge},
	}
	for _, tc := range invalid {
		t.Run("invalid/"+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseJWK(tc.data)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// rsaJWK encodes any RSA public key, bypassing NewJWK's size checks.
func rsaJWK(k *rsa.PublicKey) []byte {
	return []byte(`{"kty":"RSA","e":"` + b64.EncodeToString(big.NewInt(int64(k.E)).Bytes()) + `","n":"` + b64.EncodeToString(k.N.Bytes()) + `"}`)
}

// nonCanonical2 returns a last character for a 43-character base64url
// string (32 bytes, 2 unused bits) with an unused bit set.
func nonCanonical2(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[strings.IndexByte(alphabet, s[42])|1])
}

func TestParseJWKSet(t *testing.T) {
	t.Parallel()
	ec := jwkJSON(t, ecP256().Public())
	ec["kid"] = "ec"
	okp := jwkJSON(t, edKey().Public())
	okp["kid"] = "ed"
	set := func(keys ...any) []byte {
		if keys == nil {
			keys = []any{}
		}
		return mustJSON(t, map[string]any{"keys": keys})
	}
	many := make([]any, MaxJWKSetKeys+1)
	for i := range many {
		many[i] = ec
	}
	tests := []struct {
		name string
		data []byte
		kids []string
		want error
	}{
		{"two keys", set(ec, okp), []string{"ec", "ed"}, nil},
		{"empty", set(), []string{}, nil},
		{"exactly MaxJWKSetKeys", set(many[:MaxJWKSetKeys]...), nil, nil},
		{"skips unknown kty", set(map[string]any{"kty": "AKP", "kid": "pq", "pub": 1}, ec), []string{"ec"}, nil},
		{"skips X25519", set(map[string]any{"kty": "OKP", "crv": "X25519", "x": "AAAA"}, okp), []string{"ed"}, nil},
		{"skips oct without k", set(map[string]any{"kty": "oct"}, ec), []string{"ec"}, nil},
		{"skips RSA 1024", set(json.RawMessage(rsaJWK(rsa1024().Public().(*rsa.PublicKey))), ec), []string{"ec"}, nil},
		{"skips a point off the curve", set(json.RawMessage(jwkWith(t, ec, map[string]any{"x": ec["y"], "kid": "bad"})), okp), []string{"ed"}, nil},
		{"skips a key without kty", set(map[string]any{"kid": "none"}, ec), []string{"ec"}, nil},
		{"skips a non-object member", set(1, "x", nil, ec), []string{"ec"}, nil},
		{"fails on d", set(ec, json.RawMessage(jwkWith(t, okp, map[string]any{"d": "AAAA"}))), nil, ErrPrivateKey},
		{"fails on oct with k", set(map[string]any{"kty": "oct", "k": "c2VjcmV0"}, ec), nil, ErrPrivateKey},
		{"fails on d of an unknown kty", set(map[string]any{"kty": "AKP", "d": "AAAA"}), nil, ErrPrivateKey},
		{"too many keys", set(many...), nil, ErrTooLarge},
		{"no keys member", []byte(`{"kys":[]}`), nil, ErrMalformed},
		{"keys null", []byte(`{"keys":null}`), nil, ErrMalformed},
		{"keys an object", []byte(`{"keys":{}}`), nil, ErrMalformed},
		{"keys twice", []byte(`{"keys":[],"keys":[]}`), nil, ErrMalformed},
		{"Keys", []byte(`{"Keys":[]}`), nil, ErrMalformed},
		{"KTY inside a key", []byte(`{"keys":[{"KTY":"EC"}]}`), nil, ErrMalformed},
		{"duplicate inside a key", []byte(`{"keys":[{"kty":"EC","kty":"RSA"}]}`), nil, ErrMalformed},
		{"an array", []byte(`[]`), nil, ErrMalformed},
		{"not JSON", []byte(`{`), nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys, err := ParseJWKSet(tc.data)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			if tc.kids == nil {
				require.Len(t, keys, MaxJWKSetKeys)
				return
			}
			got := []string{}
			for _, k := range keys {
				got = append(got, k.KeyID)
			}
			require.Equal(t, tc.kids, got)
		})
	}
}

func TestMarshalJWKSet(t *testing.T) {
	t.Parallel()
	b, err := MarshalJWKSet(nil)
	require.NoError(t, err)
	require.JSONEq(t, `{"keys":[]}`, string(b))
	keys := []*JWK{{Key: ecP256().Public(), KeyID: "a"}, {Key: rsa2048().Public(), KeyID: "b", Use: "sig"}}
	b, err = MarshalJWKSet(keys)
	require.NoError(t, err)
	back, err := ParseJWKSet(b)
	require.NoError(t, err)
	require.Len(t, back, 2)
	for i := range keys {
		require.Equal(t, keys[i].KeyID, back[i].KeyID)
		require.Equal(t, keys[i].Use, back[i].Use)
		require.Equal(t, must(keys[i].Thumbprint()), must(back[i].Thumbprint()))
	}
	_, err = MarshalJWKSet([]*JWK{{Key: "junk"}})
	require.Error(t, err)
	require.ErrorIs(t, err, ErrUnsupportedKey)
}
