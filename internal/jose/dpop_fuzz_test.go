package jose

import (
	"errors"
	"strings"
	"testing"
)

// dpopSentinels are the errors DecodeCompact and ParseDPoPHeader wrap.
var dpopSentinels = []error{ErrMalformed, ErrCritical, ErrType, ErrAlgorithmNotAllowed, ErrUnsupportedKey, ErrPrivateKey, ErrKeyMismatch}

func checkDPoPTyped(t *testing.T, err error) {
	t.Helper()
	for _, s := range dpopSentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("untyped error: %v", err)
}

// FuzzDecodeCompact: no panic, typed errors, and what decodes re-encodes
// to the same token (one spelling per value).
func FuzzDecodeCompact(f *testing.F) {
	seedTokens(f)
	f.Add("a.b.c\n")
	f.Add("YQ.Yg.Yw==")
	f.Fuzz(func(t *testing.T, token string) {
		var buf [64]byte
		h, p, s, signed, err := DecodeCompact(token, buf[:0])
		if err != nil {
			checkDPoPTyped(t, err)
			return
		}
		if got := b64.EncodeToString(h) + "." + b64.EncodeToString(p) + "." + b64.EncodeToString(s); got != token {
			t.Fatalf("%q decoded and re-encoded as %q", token, got)
		}
		if token[signed] != '.' || strings.Count(token[:signed], ".") != 1 {
			t.Fatalf("signing input length %d", signed)
		}
	})
}

// FuzzParseDPoPHeader: no panic, typed errors, and an accepted header
// gives the thumbprint jose.Thumbprint computes for its key (the
// canonical-form shortcut of KeyCache must agree with it).
func FuzzParseDPoPHeader(f *testing.F) {
	v := loadRFC9449(f)
	for _, p := range v.Proofs {
		h, _, _, _, err := DecodeCompact(p.Compact, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(h)
	}
	for _, k := range []any{fixedEC.Public(), fixedEd.Public()} {
		j := string(must(must(NewJWK(k)).MarshalJSON()))
		f.Add([]byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":` + j + `}`))
		f.Add([]byte(`{"typ":"dpop+jwt","alg":"EdDSA","jwk":` + j + `,"crit":["x"]}`))
	}
	f.Add([]byte(`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"oct","k":"AA"}}`))
	f.Add([]byte(`{"typ":"dpop+jwt","alg":"PS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`))
	var kc KeyCache
	all := []string{ES256, ES384, ES512, PS256, PS384, PS512, RS256, RS384, RS512, EdDSA}
	f.Fuzz(func(t *testing.T, header []byte) {
		ph, err := ParseDPoPHeader(header, all, &kc)
		if err != nil {
			checkDPoPTyped(t, err)
			return
		}
		tp, err := Thumbprint(ph.Key)
		if err != nil || tp != ph.JKT {
			t.Fatalf("thumbprint %q, want %q (%v)", ph.JKT, tp, err)
		}
		if !Supported(ph.Alg) {
			t.Fatalf("unsupported alg %q", ph.Alg)
		}
	})
}
