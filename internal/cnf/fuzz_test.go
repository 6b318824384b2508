package cnf_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"testing"

	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// seeds are the RFC examples of testdata/vectors.json and the negatives of
// TestParse that matter most.
func seeds(f *testing.F) [][]byte {
	v := load(f)
	return [][]byte{
		cnfOf(f, v.JWK), cnfOf(f, v.KID), cnfOf(f, v.JKU), v.AppendixA,
		cnfOf(f, v.MTLSClaims), cnfOf(f, v.DPoPClaims),
		[]byte(`{"x5t#S256":"` + v.MTLSCanonical + `"}`),
		[]byte(`{"jwk":` + privateJWK + `}`),
		[]byte(`{"jwk":` + octJWK + `}`),
		[]byte(`{"jku":"http://www.example.com/jwks","kid":"k"}`),
		[]byte(`{"jku":"https://www.example.com/jwks"}`),
		[]byte(`{"jkt":"` + jkt9449 + `","JKT":"` + jkt9449 + `"}`),
		[]byte(`{"jwe":"a.b.c.d.e"}`),
		[]byte(`{}`), []byte(`null`), []byte(`[]`),
	}
}

// FuzzParse checks that Parse never panics, fails with ErrMalformed and a
// zero Confirmation, and accepts only what it documents.
func FuzzParse(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := cnf.Parse(raw)
		if err != nil {
			if !errors.Is(err, cnf.ErrMalformed) || c.Bound() || c.Other != nil {
				t.Fatalf("error %v with %+v", err, c)
			}
			return
		}
		checkAccepted(t, raw, c)
	})
}

// FuzzFromClaims is FuzzParse for a claims set around the cnf.
func FuzzFromClaims(f *testing.F) {
	v := load(f)
	for _, s := range seeds(f) {
		f.Add(append(append([]byte(`{"cnf":`), s...), '}'))
	}
	f.Add([]byte(v.MTLSIntrospect))
	f.Add([]byte(v.DPoPIntrospect))
	f.Add([]byte(`{"active":false}`))
	f.Add([]byte(`{"Active":true}`))
	f.Fuzz(func(t *testing.T, claims []byte) {
		c, err := cnf.FromClaims(claims)
		if err != nil {
			if !errors.Is(err, cnf.ErrMalformed) && !errors.Is(err, cnf.ErrInactive) || c.Bound() {
				t.Fatalf("error %v with %+v", err, c)
			}
			return
		}
		if strictjson.CheckObject(claims, nil) != nil {
			t.Fatalf("accepted claims that are not one strict JSON object")
		}
		var raw []byte
		_ = strictjson.EachMember(claims, nil, func(name, value []byte) error {
			if string(name) == "cnf" {
				raw = value
			}
			return nil
		})
		if raw == nil {
			if c.Bound() {
				t.Fatal("bound without cnf")
			}
			return
		}
		checkAccepted(t, raw, c)
	})
}

// checkAccepted holds an accepted cnf to the documented rules.
func checkAccepted(t *testing.T, raw []byte, c cnf.Confirmation) {
	t.Helper()
	if !c.Bound() || len(raw) > cnf.MaxBytes {
		t.Fatalf("accepted %q as %+v", raw, c)
	}
	for _, d := range []string{c.JKT, c.X5TS256} {
		if d == "" {
			continue
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(d)
		if err != nil || len(b) != 32 || base64.RawURLEncoding.EncodeToString(b) != d {
			t.Fatalf("accepted non-canonical digest %q", d)
		}
	}
	if c.JKU != "" && c.KID == "" {
		t.Fatal("accepted jku without kid")
	}
	if !slices.IsSorted(c.Other) {
		t.Fatalf("Other not sorted: %q", c.Other)
	}
	// Every member is accounted for exactly once.
	n := 0
	if err := strictjson.EachMember(raw, nil, func([]byte, []byte) error { n++; return nil }); err != nil {
		t.Fatalf("accepted invalid JSON: %v", err)
	}
	if n != len(c.Methods()) {
		t.Fatalf("%d members, methods %q", n, c.Methods())
	}
}

// FuzzResolve resolves a fuzzed cnf in a fuzzed registered JWK Set: no
// panic, only the documented errors, and a key only when the set holds
// exactly one signature key with the kid.
func FuzzResolve(f *testing.F) {
	v := load(f)
	const set = `{"keys":[{"kty":"EC","crv":"P-256","kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"},` +
		`{"kty":"EC","crv":"P-256","kid":"2015-08-28","use":"enc","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}`
	for _, s := range seeds(f) {
		f.Add(s, []byte(set))
	}
	f.Add([]byte(cnfOf(f, v.KID)), []byte(set))
	f.Add([]byte(`{"kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad","jkt":"`+jkt9449+`"}`), []byte(set))
	f.Add([]byte(`{"kid":"k"}`), []byte(`{"keys":[`+publicJWK[:len(publicJWK)-1]+`,"kid":"k"},`+publicJWK[:len(publicJWK)-1]+`,"kid":"k"}]}`))
	f.Fuzz(func(t *testing.T, raw, set []byte) {
		c, err := cnf.Parse(raw)
		if err != nil {
			return
		}
		r, err := cnf.NewResolver(cnf.ResolverConfig{JWKS: set})
		if err != nil {
			var ce *cnf.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("config error %v", err)
			}
			return
		}
		pub, err := r.Resolve(context.Background(), c)
		if err != nil {
			if pub != nil {
				t.Fatal("key with an error")
			}
			for _, want := range []error{cnf.ErrUnknownKey, cnf.ErrAmbiguousKey, cnf.ErrJKUNotAllowed} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("undocumented error %v", err)
		}
		if c.JKU != "" {
			t.Fatal("resolved a jku with no allow-list")
		}
		keys, err := jose.ParseJWKSet(set)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, k := range keys {
			if k.KeyID == c.KID && (k.Use == "" || k.Use == "sig") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("resolved kid %q held by %d keys", c.KID, n)
		}
		jkt, err := cnf.ResolvedThumbprint(c, pub)
		if err != nil {
			if !errors.Is(err, cnf.ErrKeyConflict) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if err := cnf.SameKey(pub, jkt, pub, ""); err != nil {
			t.Fatalf("key is not itself: %v", err)
		}
	})
}
