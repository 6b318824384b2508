package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// dpopHeaderJSON renders a proof header with the given members (raw JSON
// values, in order); an empty value drops the member.
func dpopHeaderJSON(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`"` + kv[i] + `":` + kv[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

func publicJWKJSON(t testing.TB, pub crypto.PublicKey) string {
	t.Helper()
	k, err := NewJWK(pub)
	require.NoError(t, err)
	b, err := k.MarshalJSON()
	require.NoError(t, err)
	return string(b)
}

func TestDecodeCompact(t *testing.T) {
	t.Parallel()
	tok := forge(`{"alg":"ES256"}`, `{"a":1}`, []byte{1, 2, 3})
	var stack [256]byte
	h, p, s, signed, err := DecodeCompact(tok, stack[:0])
	require.NoError(t, err)
	require.Equal(t, `{"alg":"ES256"}`, string(h))
	require.Equal(t, `{"a":1}`, string(p))
	require.Equal(t, []byte{1, 2, 3}, s)
	require.Equal(t, strings.LastIndexByte(tok, '.'), signed)
	require.Same(t, &stack[0], &h[0], "decoded into the caller's buffer")

	// A buffer too small is replaced, not overrun.
	h2, _, _, _, err := DecodeCompact(tok, make([]byte, 0, 4))
	require.NoError(t, err)
	require.Equal(t, h, h2)

	parts := strings.Split(tok, ".")
	for _, tc := range []struct {
		name, token string
	}{
		{"empty", ""},
		{"one segment", "abc"},
		{"two segments", parts[0] + "." + parts[1]},
		{"four segments", tok + ".x"},
		{"JWE", tok + ".x.y"},
		{"empty header", "." + parts[1] + "." + parts[2]},
		{"empty payload", parts[0] + ".." + parts[2]},
		{"empty signature", parts[0] + "." + parts[1] + "."},
		{"padding", parts[0] + "=." + parts[1] + "." + parts[2]},
		{"standard alphabet", parts[0] + "." + parts[1] + "." + parts[2] + "+/"},
		{"line feed in the signature", parts[0] + "." + parts[1] + "." + parts[2][:2] + "\n" + parts[2][2:]},
		{"carriage return in the header", parts[0][:2] + "\r" + parts[0][2:] + "." + parts[1] + "." + parts[2]},
		{"space", parts[0] + " ." + parts[1] + "." + parts[2]},
		{"non-canonical last character", parts[0] + "." + parts[1] + "." + "AQID" + "B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, _, err := DecodeCompact(tc.token, nil)
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func TestParseDPoPHeader(t *testing.T) {
	t.Parallel()
	ec := ecP256()
	jwk := publicJWKJSON(t, ec.Public())
	jkt, err := Thumbprint(ec.Public())
	require.NoError(t, err)
	all := []string{ES256, ES384, ES512, PS256, PS384, PS512, EdDSA}
	typ, alg := `"dpop+jwt"`, `"ES256"`

	ph, err := ParseDPoPHeader([]byte(dpopHeaderJSON("typ", typ, "alg", alg, "jwk", jwk)), all, nil)
	require.NoError(t, err)
	require.Equal(t, ES256, ph.Alg)
	require.Equal(t, jkt, ph.JKT)
	require.True(t, ph.Key.(*ecdsa.PublicKey).Equal(ec.Public()))

	// Every key type, with the thumbprint Thumbprint computes.
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{
		{ES384, ecP384()}, {ES512, ecP521()}, {EdDSA, edKey()}, {PS256, rsa2048()}, {RS256, rsa2048()},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			h := dpopHeaderJSON("typ", typ, "alg", `"`+tc.alg+`"`, "jwk", publicJWKJSON(t, tc.key.Public()))
			ph, err := ParseDPoPHeader([]byte(h), []string{tc.alg}, &KeyCache{})
			require.NoError(t, err)
			want, err := Thumbprint(tc.key.Public())
			require.NoError(t, err)
			require.Equal(t, want, ph.JKT)
			require.Equal(t, tc.alg, ph.Alg)
		})
	}

	offCurve := `{"kty":"EC","crv":"P-256","x":"` + b64.EncodeToString(make([]byte, 32)) + `","y":"` + b64.EncodeToString(append(make([]byte, 31), 1)) + `"}`
	for _, tc := range []struct {
		name   string
		header string
		algs   []string
		want   error
	}{
		{"not JSON", `nope`, all, ErrMalformed},
		{"array", `["typ"]`, all, ErrMalformed},
		{"trailing data", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", jwk) + "{}", all, ErrMalformed},
		{"duplicate alg", `{"typ":"dpop+jwt","alg":"ES256","alg":"ES256","jwk":` + jwk + `}`, all, ErrMalformed},
		{"case-variant alg", `{"typ":"dpop+jwt","alg":"ES256","ALG":"none","jwk":` + jwk + `}`, all, ErrMalformed},
		{"escaped duplicate", `{"typ":"dpop+jwt","alg":"ES256","\u0061lg":"none","jwk":` + jwk + `}`, all, ErrMalformed},
		{"KELVIN SIGN in jwk", `{"typ":"dpop+jwt","alg":"ES256","jwk":` + strings.Replace(jwk, `"kty"`, `"\u212Aty":"RSA","kty"`, 1) + `}`, all, ErrMalformed},
		{"invalid UTF-8", "{\"typ\":\"dpop+jwt\",\"alg\":\"ES256\",\"x\":\"\xff\",\"jwk\":" + jwk + "}", all, ErrMalformed},
		{"alg not a string", dpopHeaderJSON("typ", typ, "alg", `1`, "jwk", jwk), all, ErrMalformed},
		{"jwk not an object", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", `"key"`), all, ErrMalformed},
		{"jwk member not a string", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", strings.Replace(jwk, `"kty":"EC"`, `"kty":1`, 1)), all, ErrMalformed},
		{"enc", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", jwk, "enc", `"A256GCM"`), all, ErrMalformed},
		{"zip", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", jwk, "zip", `"DEF"`), all, ErrMalformed},
		{"crit", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", jwk, "crit", `["exp"]`), all, ErrCritical},
		{"no typ", dpopHeaderJSON("alg", alg, "jwk", jwk), all, ErrType},
		{"typ JWT", dpopHeaderJSON("typ", `"JWT"`, "alg", alg, "jwk", jwk), all, ErrType},
		{"typ number", dpopHeaderJSON("typ", `1`, "alg", alg, "jwk", jwk), all, ErrType},
		{"typ with a space", dpopHeaderJSON("typ", `"dpop+jwt "`, "alg", alg, "jwk", jwk), all, ErrType},
		{"typ with two prefixes", dpopHeaderJSON("typ", `"application/application/dpop+jwt"`, "alg", alg, "jwk", jwk), all, ErrType},
		{"no alg", dpopHeaderJSON("typ", typ, "jwk", jwk), all, ErrAlgorithmNotAllowed},
		{"alg none", dpopHeaderJSON("typ", typ, "alg", `"none"`, "jwk", jwk), all, ErrAlgorithmNotAllowed},
		{"alg HS256", dpopHeaderJSON("typ", typ, "alg", `"HS256"`, "jwk", jwk), all, ErrAlgorithmNotAllowed},
		{"alg unknown", dpopHeaderJSON("typ", typ, "alg", `"ES257"`, "jwk", jwk), all, ErrAlgorithmNotAllowed},
		{"alg outside the list", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", jwk), []string{EdDSA}, ErrAlgorithmNotAllowed},
		{"empty list", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", jwk), nil, ErrAlgorithmNotAllowed},
		{"no jwk", dpopHeaderJSON("typ", typ, "alg", alg), all, ErrUnsupportedKey},
		{"private jwk", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", strings.Replace(jwk, `{`, `{"d":"AAAA",`, 1)), all, ErrPrivateKey},
		{"symmetric jwk", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", `{"kty":"oct","k":"c2VjcmV0"}`), all, ErrPrivateKey},
		{"oct jwk without k", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", `{"kty":"oct"}`), all, ErrUnsupportedKey},
		{"point off the curve", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", offCurve), all, ErrUnsupportedKey},
		{"unknown curve", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", strings.Replace(jwk, "P-256", "P-257", 1)), all, ErrUnsupportedKey},
		{"coordinate with padding", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", strings.Replace(jwk, `","y"`, `=","y"`, 1)), all, ErrUnsupportedKey},
		{"RSA under 2048 bits", dpopHeaderJSON("typ", typ, "alg", `"PS256"`, "jwk", `{"kty":"RSA","n":"`+b64.EncodeToString(rsa1024().N.Bytes())+`","e":"AQAB"}`), all, ErrUnsupportedKey},
		{"Ed25519 key with ES256", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", publicJWKJSON(t, edKey().Public())), all, ErrKeyMismatch},
		{"P-384 key with ES256", dpopHeaderJSON("typ", typ, "alg", alg, "jwk", publicJWKJSON(t, ecP384().Public())), all, ErrKeyMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseDPoPHeader([]byte(tc.header), tc.algs, &KeyCache{})
			require.ErrorIs(t, err, tc.want)
			require.NotContains(t, err.Error(), jkt)
		})
	}

	// JSON escapes are decoded before the key is read: the same key.
	ph, err = ParseDPoPHeader([]byte(dpopHeaderJSON("typ", typ, "alg", alg, "jwk", strings.Replace(jwk, "P-256", `P\u002d256`, 1))), all, nil)
	require.NoError(t, err)
	require.Equal(t, jkt, ph.JKT)

	for _, v := range []string{"dpop+jwt", "DPoP+JWT", "application/dpop+jwt", "Application/DPOP+jwt"} {
		_, err := ParseDPoPHeader([]byte(dpopHeaderJSON("typ", `"`+v+`"`, "alg", alg, "jwk", jwk)), all, nil)
		require.NoError(t, err, v)
	}
}

// TestParseDPoPHeaderRFC9449: the header of RFC 9449 Figure 2 gives the
// thumbprint of §6.1.
func TestParseDPoPHeaderRFC9449(t *testing.T) {
	t.Parallel()
	v := loadRFC9449(t)
	for _, p := range v.Proofs {
		h, _, _, _, err := DecodeCompact(p.Compact, nil)
		require.NoError(t, err)
		ph, err := ParseDPoPHeader(h, DefaultAlgorithms, nil)
		require.NoError(t, err, p.Section)
		require.Equal(t, v.JKT, ph.JKT)
	}
}

// TestParseDPoPHeaderAgreesWithParseJWK: the proof header's key reader
// accepts a JWK exactly when ParseJWK does (for the members it reads), so
// the module has one notion of a valid public key.
func TestParseDPoPHeaderAgreesWithParseJWK(t *testing.T) {
	t.Parallel()
	ec := jwkJSON(t, ecP256().Public())
	rs := jwkJSON(t, rsa2048().Public())
	ed := jwkJSON(t, edKey().Public())
	edit := func(m map[string]any, k string, v any) map[string]any {
		c := map[string]any{}
		for a, b := range m {
			c[a] = b
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for i, m := range []map[string]any{
		ec, rs, ed,
		edit(ec, "x", "AAAA"),
		edit(ec, "y", nil),
		edit(ec, "crv", "P-384"),
		edit(rs, "e", "AAEAAQ"),
		edit(rs, "e", "Ag"),
		edit(rs, "n", "AQAB"),
		edit(rs, "n", "AP"+rs["n"].(string)[2:]),
		edit(ed, "crv", "X25519"),
		edit(ed, "x", ed["x"].(string)+"AA"),
		edit(ed, "kty", "EC"),
		edit(ec, "kty", "RSA"),
	} {
		raw := mustJSON(t, m)
		k, jerr := ParseJWK(raw)
		alg, _ := m["kty"].(string)
		switch alg {
		case "EC":
			alg = ES256
			if m["crv"] == "P-384" {
				alg = ES384
			}
		case "RSA":
			alg = PS256
		default:
			alg = EdDSA
		}
		ph, herr := ParseDPoPHeader([]byte(dpopHeaderJSON("typ", `"dpop+jwt"`, "alg", `"`+alg+`"`, "jwk", string(raw))), []string{ES256, ES384, PS256, EdDSA}, nil)
		if jerr != nil {
			require.Error(t, herr, "case %d: ParseJWK refuses %s", i, raw)
			continue
		}
		require.NoError(t, herr, "case %d", i)
		tp, err := k.Thumbprint()
		require.NoError(t, err)
		require.Equal(t, tp, ph.JKT, "case %d", i)
	}
}

func TestKeyCache(t *testing.T) {
	t.Parallel()
	ec := ecP256()
	h := []byte(dpopHeaderJSON("typ", `"dpop+jwt"`, "alg", `"ES256"`, "jwk", publicJWKJSON(t, ec.Public())))
	var kc KeyCache
	a, err := ParseDPoPHeader(h, DefaultAlgorithms, &kc)
	require.NoError(t, err)
	b, err := ParseDPoPHeader(h, DefaultAlgorithms, &kc)
	require.NoError(t, err)
	require.Same(t, a.Key.(*ecdsa.PublicKey), b.Key.(*ecdsa.PublicKey), "the second proof's key comes from the cache")

	// Bounded whatever keys arrive, and safe for concurrent use.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range KeyCacheSize/2 + 1 {
				k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				if err != nil {
					panic(err)
				}
				h := dpopHeaderJSON("typ", `"dpop+jwt"`, "alg", `"ES256"`, "jwk", publicJWKJSON(t, k.Public()))
				if _, err := ParseDPoPHeader([]byte(h), DefaultAlgorithms, &kc); err != nil {
					panic(err)
				}
			}
		}()
	}
	wg.Wait()
	kc.mu.RLock()
	n := len(kc.m)
	kc.mu.RUnlock()
	require.LessOrEqual(t, n, KeyCacheSize)
	require.Positive(t, n)

	// A key that fails validation is not cached.
	var empty KeyCache
	_, err = ParseDPoPHeader([]byte(strings.Replace(string(h), "P-256", "P-384", 1)), DefaultAlgorithms, &empty)
	require.ErrorIs(t, err, ErrUnsupportedKey)
	require.Empty(t, empty.m)
}

// TestDPoPNoAllocs: decoding into a large enough buffer, and reading a
// header whose key is cached, allocate nothing (not parallel:
// testing.AllocsPerRun).
func TestDPoPNoAllocs(t *testing.T) {
	tok := forge(`{"alg":"ES256"}`, `{"a":1}`, []byte{1, 2, 3})
	allocs := testing.AllocsPerRun(100, func() {
		var buf [256]byte
		_, _, _, _, _ = DecodeCompact(tok, buf[:0])
	})
	require.Zero(t, allocs)

	h := []byte(dpopHeaderJSON("typ", `"dpop+jwt"`, "alg", `"ES256"`, "jwk", publicJWKJSON(t, ecP256().Public())))
	var kc KeyCache
	_, err := ParseDPoPHeader(h, DefaultAlgorithms, &kc)
	require.NoError(t, err)
	allocs = testing.AllocsPerRun(100, func() { _, _ = ParseDPoPHeader(h, DefaultAlgorithms, &kc) })
	require.Zero(t, allocs)
}

func TestDPoPHeaderMatchesSigner(t *testing.T) {
	t.Parallel()
	// What jose.Signer writes for a DPoP proof, ParseDPoPHeader reads.
	for _, k := range []crypto.Signer{ecP256(), ecP384(), edKey(), rsa2048()} {
		s, err := NewSigner(k, SignerOptions{Type: DPoPType, EmbedJWK: true})
		require.NoError(t, err)
		tok, err := s.Sign([]byte(`{}`))
		require.NoError(t, err)
		h, _, sig, signed, err := DecodeCompact(tok, nil)
		require.NoError(t, err)
		ph, err := ParseDPoPHeader(h, []string{s.Algorithm()}, nil)
		require.NoError(t, err)
		require.NoError(t, VerifySignature(ph.Alg, []string{s.Algorithm()}, ph.Key, []byte(tok[:signed]), sig))
		var m map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(h, &m))
		require.Contains(t, m, "jwk")
	}
}
