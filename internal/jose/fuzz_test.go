package jose

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"strings"
	"testing"
)

// Fuzz targets for every parser of attacker input. Run one with
//
//	go test -run '^$' -fuzz FuzzParseCompact -fuzztime 30s ./internal/jose
//
// Besides not panicking, each checks that every error wraps one of the
// package's sentinels, so callers can always classify a rejection.

// fixedEC is a P-256 key that is the same in every fuzz worker.
var fixedEC = must(ecdsa.ParseRawPrivateKey(elliptic.P256(), []byte("0123456789abcdef0123456789abcdef")))

var fixedEd = ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))

var sentinels = []error{
	ErrMalformed, ErrAlgorithmNotAllowed, ErrNoAlgorithms, ErrInvalidSignature, ErrKeyMismatch,
	ErrUnsupportedKey, ErrPrivateKey, ErrNoMatchingKey, ErrCritical, ErrDecrypt, ErrNotEncrypted,
	ErrTooLarge, ErrJWKSFetch, ErrEncrypt,
}

func checkTyped(t *testing.T, err error) {
	t.Helper()
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("untyped error: %v", err)
}

func seedTokens(f *testing.F) {
	v := loadRFC9449(f)
	for _, p := range v.Proofs {
		f.Add(p.Compact)
	}
	f.Add(v.AccessToken.Compact)
	for _, o := range []SignerOptions{
		{Algorithm: ES256, Type: "dpop+jwt", EmbedJWK: true},
		{Algorithm: ES256, KeyID: "k1"},
	} {
		s := must(NewSigner(fixedEC, o))
		f.Add(must(s.Sign([]byte(`{"iss":"https://as.example","aud":"c","exp":1700000000}`))))
	}
	s := must(NewSigner(fixedEd, SignerOptions{EmbedJWK: true}))
	f.Add(must(s.Sign([]byte(`{}`))))
	f.Add(forge(`{"alg":"none"}`, `{}`, []byte{1}))
	f.Add(forge(`{"alg":"ES256","crit":["x"]}`, `{}`, []byte{1}))
	f.Add(forge(`{"alg":"ES256","alg":"ES256"}`, `{}`, []byte{1}))
	f.Add(forge(`{"alg":"ES256","jwk":{"kty":"oct","k":"AA"}}`, `{}`, []byte{1}))
	f.Add("a.b.c")
	f.Add("..")
}

func FuzzParseCompact(f *testing.F) {
	seedTokens(f)
	v := loadRFC9449(f)
	rfcKey := must(ParseJWK(v.JWK))
	rfcKey.KeyID = "BeALkb"
	fixed := &JWK{Key: fixedEC.Public(), KeyID: "k1"}
	all := []string{ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512, EdDSA}
	f.Fuzz(func(t *testing.T, token string) {
		j, err := ParseCompact(token)
		if err != nil {
			checkTyped(t, err)
			// No error message repeats the payload or the signature.
			if s := strings.Split(token, "."); len(s) == 3 {
				for _, part := range s[1:] {
					if len(part) >= 8 && strings.Contains(err.Error(), part) {
						t.Fatalf("error %q holds token material", err)
					}
				}
			}
			return
		}
		if !Supported(j.Header.Alg) {
			t.Fatalf("parsed an unsupported alg %q", j.Header.Alg)
		}
		for _, k := range []any{fixedEC.Public(), fixedEd.Public(), rfcKey, fixed, rsa2048().Public()} {
			if err := j.Verify(k, all); err != nil {
				checkTyped(t, err)
			}
		}
		if _, err := j.VerifyEmbedded(all); err != nil {
			checkTyped(t, err)
		}
		if _, err := j.VerifyWith(t.Context(), StaticKeys{rfcKey, fixed}, all); err != nil {
			checkTyped(t, err)
		}
		var c Claims
		if err := UnmarshalStrict(j.Payload, &c); err != nil {
			checkTyped(t, err)
		}
	})
}

func seedJWKs(f *testing.F) {
	var v7638 rfc7638
	readJSON(f, "testdata/rfc7638-thumbprint.json", &v7638)
	f.Add([]byte(v7638.JWK))
	f.Add([]byte(loadRFC9449(f).JWK))
	for _, k := range []any{fixedEC.Public(), fixedEd.Public(), rsa2048().Public()} {
		f.Add(must(must(NewJWK(k)).MarshalJSON()))
	}
	f.Add([]byte(`{"kty":"oct","k":"AA"}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-521","x":"AA","y":"AA","d":"AA"}`))
	f.Add([]byte(`{"kty":"OKP","crv":"X25519","x":"AA"}`))
}

func FuzzParseJWK(f *testing.F) {
	seedJWKs(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseJWK(data)
		if err != nil {
			checkTyped(t, err)
			return
		}
		tp, err := k.Thumbprint()
		if err != nil {
			t.Fatalf("parsed key has no thumbprint: %v", err)
		}
		b, err := k.MarshalJSON()
		if err != nil {
			t.Fatalf("parsed key does not marshal: %v", err)
		}
		k2, err := ParseJWK(b)
		if err != nil {
			t.Fatalf("marshalled key does not parse: %v", err)
		}
		if tp2, _ := k2.Thumbprint(); tp2 != tp || k2.KeyID != k.KeyID || k2.Algorithm != k.Algorithm || k2.Use != k.Use {
			t.Fatalf("round trip changed the key")
		}
	})
}

func FuzzParseJWKSet(f *testing.F) {
	f.Add([]byte(`{"keys":[]}`))
	for _, ks := range [][]*JWK{
		{{Key: fixedEC.Public(), KeyID: "a"}, {Key: fixedEd.Public(), KeyID: "b", Use: "sig"}},
		{{Key: rsa2048().Public(), Algorithm: RS256}},
	} {
		f.Add(must(MarshalJWKSet(ks)))
	}
	f.Add([]byte(`{"keys":[{"kty":"AKP"},{"kty":"oct"},1]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKSet(data)
		if err != nil {
			checkTyped(t, err)
			return
		}
		if len(keys) > MaxJWKSetKeys {
			t.Fatalf("%d keys", len(keys))
		}
		b, err := MarshalJWKSet(keys)
		if err != nil {
			t.Fatalf("parsed set does not marshal: %v", err)
		}
		back, err := ParseJWKSet(b)
		if err != nil || len(back) != len(keys) {
			t.Fatalf("round trip: %v, %d → %d keys", err, len(keys), len(back))
		}
	})
}

func seedJWEs(f *testing.F) {
	for _, alg := range KeyAlgorithms {
		to := any(fixedEC.Public())
		if alg == RSAOAEP256 {
			to = rsa2048().Public()
		}
		for _, enc := range []string{A128GCM, A256CBCHS512} {
			f.Add(must(Encrypt([]byte(`eyJhbGciOiJFUzI1NiJ9.e30.c2ln`), to, EncryptOptions{KeyAlgorithm: alg, ContentEncryption: enc, KeyID: "e1", ContentType: "JWT"})))
		}
	}
	f.Add("a.b.c.d.e")
	f.Add(b64.EncodeToString([]byte(`{"alg":"RSA-OAEP-256","enc":"A256GCM","zip":"DEF"}`)) + "....")
}

func FuzzParseJWEHeader(f *testing.F) {
	seedJWEs(f)
	f.Fuzz(func(t *testing.T, token string) {
		h, err := ParseJWEHeader(token)
		if err != nil {
			checkTyped(t, err)
			return
		}
		if h.Alg == "" || h.Enc == "" {
			t.Fatalf("header without alg or enc accepted")
		}
	})
}

func FuzzDecrypt(f *testing.F) {
	seedJWEs(f)
	keys := []DecryptionKey{{KeyID: "e1", Key: fixedEC}, {Key: rsa2048()}}
	f.Fuzz(func(t *testing.T, token string) {
		pt, h, err := Decrypt(token, keys, DecryptOptions{})
		if err != nil {
			checkTyped(t, err)
			if pt != nil || h != nil {
				t.Fatalf("results beside an error")
			}
			return
		}
		if h == nil {
			t.Fatalf("no header")
		}
	})
}
