package oautherr

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseChallenges checks that the parser never panics, that every
// error wraps ErrMalformedChallenge, and that what it parses formats back
// (Challenge.String) to a value that parses to the same challenges.
func FuzzParseChallenges(f *testing.F) {
	for _, c := range loadVectors(f).Challenges {
		f.Add(c.Header)
	}
	for _, s := range []string{
		`Basic dXNlcjpwYXNz`, `Negotiate abc==`, `Bearer realm="a\"b\\c"`, `Bearer, DPoP`,
		`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`,
		`Bearer error="a", error="b"`, `Bearer realm="x`, "Bearer realm=\"\t\x80\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		cs, err := ParseChallenges(header)
		if err != nil {
			if !errors.Is(err, ErrMalformedChallenge) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		parts := make([]string, len(cs))
		for i, c := range cs {
			if c.Scheme == "" {
				t.Fatalf("challenge without scheme")
			}
			one, err := ParseChallenges(c.String())
			if err != nil || len(one) != 1 || !equal(one[0], c) {
				t.Fatalf("%q → %+v → %q → %+v, %v", header, c, c.String(), one, err)
			}
			parts[i] = c.String()
		}
		if len(header) <= MaxChallengeHeader/2 {
			all, err := ParseChallenges(strings.Join(parts, ", "))
			if err != nil || len(all) != len(cs) {
				t.Fatalf("joined challenges do not parse back: %v", err)
			}
			for i := range all {
				if !equal(all[i], cs[i]) {
					t.Fatalf("joined challenge %d changed", i)
				}
			}
		}
	})
}

func equal(a, b Challenge) bool {
	if a.Scheme != b.Scheme || a.Token68 != b.Token68 || len(a.Params) != len(b.Params) {
		return false
	}
	for i := range a.Params {
		if a.Params[i] != b.Params[i] {
			return false
		}
	}
	return true
}

// FuzzParseErrorBody checks that Parse never panics, that every error
// wraps ErrMalformed, and that a parsed error is safe to log and to send
// again.
func FuzzParseErrorBody(f *testing.F) {
	for _, b := range loadVectors(f).ErrorBodies {
		f.Add("application/json", []byte(b.JSON))
	}
	f.Add("application/json; charset=utf-8", []byte(`{"error":"invalid_grant","error_description":"expired","error_uri":"https://e"}`))
	f.Add("application/problem+json", []byte(`{"error":"x","error_description":"\u0000\n\u00e9"}`))
	f.Add("text/html", []byte(`<html>`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		e, err := Parse(400, ct, body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if !validCode(e.Code) || e.Code == "" {
			t.Fatalf("invalid code %q accepted", e.Code)
		}
		if len(e.Description) > maxField || strings.ContainsAny(e.Description, "\r\n\x00") {
			t.Fatalf("unsafe description %q", e.Description)
		}
		if e.URI != "" && !validURI(e.URI) {
			t.Fatalf("invalid URI %q", e.URI)
		}
		_ = e.Error()
	})
}
