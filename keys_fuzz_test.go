package hardened_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/hardened-oauth/hardened"
)

// FuzzParsePrivateKey feeds arbitrary key files to ParsePrivateKey, seeded
// with the private JWKs of RFC 7517 Appendix A.2 and RFC 8037 Appendix
// A.1, PEM files of every accepted encoding and a few broken ones. It
// checks that the parser never panics, that every error wraps one of the
// two key sentinels, and that whatever it accepts round-trips through both
// encodings to the same key and kid.
func FuzzParsePrivateKey(f *testing.F) {
	v := loadKeyVectors(f)
	for _, k := range v.Keys {
		f.Add([]byte(k.JWK))
	}
	f.Add([]byte(v.Symmetric))
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	for _, k := range []crypto.Signer{ec, ed} {
		p, err := hardened.MarshalPrivateKeyPEM(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	f.Add([]byte(`{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB","p":"AQAB","q":"AQAB"}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, kid, err := hardened.ParsePrivateKey(data)
		if err != nil {
			if key != nil || kid != "" {
				t.Fatal("a key returned with an error")
			}
			if !errors.Is(err, hardened.ErrMalformedKey) && !errors.Is(err, hardened.ErrUnsupportedKey) {
				t.Fatalf("error without a key sentinel: %v", err)
			}
			return
		}
		switch k := key.(type) {
		case *ecdsa.PrivateKey, ed25519.PrivateKey:
		case *rsa.PrivateKey:
			if len(k.Primes) != 2 || k.N.BitLen() < 2048 {
				t.Fatal("RSA key outside the accepted range")
			}
		default:
			t.Fatalf("unexpected key type %T", key)
		}
		isJWK := strings.HasPrefix(strings.TrimLeft(string(data), " \t\r\n"), "{")
		if !isJWK && kid != "" {
			t.Fatal("a kid from PEM")
		}
		j, err := hardened.MarshalPrivateJWK(key, kid)
		if err != nil {
			t.Fatalf("accepted key does not marshal as a JWK: %v", err)
		}
		p, err := hardened.MarshalPrivateKeyPEM(key)
		if err != nil {
			t.Fatalf("accepted key does not marshal as PEM: %v", err)
		}
		for _, out := range [][]byte{j, p} {
			back, backKid, err := hardened.ParsePrivateKey(out)
			if err != nil {
				t.Fatalf("round trip: %v", err)
			}
			if !back.(interface{ Equal(crypto.PrivateKey) bool }).Equal(key) {
				t.Fatal("round trip changed the key")
			}
			if &out[0] == &j[0] && backKid != kid {
				t.Fatal("round trip changed the kid")
			}
		}
	})
}
