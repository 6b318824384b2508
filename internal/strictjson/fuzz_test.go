package strictjson

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
	"unicode/utf8"
)

// seeds are RFC examples and the shapes that matter to the policy.
func seeds(f *testing.F) {
	for _, s := range []string{
		// RFC 7515 §3.3 (https://datatracker.ietf.org/doc/html/rfc7515#section-3.3) JWS header.
		"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}",
		// RFC 9449 §4.2 (https://datatracker.ietf.org/doc/html/rfc9449#section-4.2) proof header and claims.
		`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","x":"l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs","y":"9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA","crv":"P-256"}}`,
		`{"jti":"-BwC3ESc6acc2lTc","htm":"POST","htu":"https://server.example.com/token","iat":1562262616}`,
		// RFC 7519 §3.1 (https://datatracker.ietf.org/doc/html/rfc7519#section-3.1) claims.
		"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}",
		`[1,-0.5e+3,true,false,null,"\u00e9"]`, `{"a":{"A":1}}`, `"\ud800"`, `"\ud83d\ude00"`, `01`, `{"a":1,}`,
		`{"alg":"none","alg":"ES256"}`, `{"kid":"a","\u212Aid":"b"}`, "{\"\xff\":1}", `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	// RFC 8705 (https://datatracker.ietf.org/doc/html/rfc8705) examples:
	// the vector file and each of its members.
	b, err := os.ReadFile("testdata/rfc8705-mtls.json")
	if err != nil {
		f.Fatal(err)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	for _, raw := range v {
		f.Add([]byte(raw))
	}
	f.Add(b)
}

// FuzzCheckJSON holds the checker to encoding/json's grammar: what it
// accepts is valid UTF-8 JSON, and valid UTF-8 JSON is only rejected for
// a rule of the policy (duplicates, surrogates, depth), never as a syntax
// error. A walk with the pull Reader agrees with Check.
func FuzzCheckJSON(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Check(data, nil)
		if err == nil && (!json.Valid(data) || !utf8.Valid(data)) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if errors.Is(err, ErrSyntax) && json.Valid(data) && utf8.Valid(data) {
			t.Fatalf("rejected valid JSON %q: %v", data, err)
		}
		if err != nil && !errors.Is(err, ErrSyntax) && !policyError(err) {
			t.Fatalf("unexpected error %v", err)
		}
		r := NewReader(data)
		werr := walk(&r)
		if werr == nil {
			werr = r.End()
		}
		if (werr == nil) != (err == nil) {
			t.Fatalf("Reader walk: %v, Check: %v", werr, err)
		}
	})
}

// walk reads a value with the typed methods of the pull API, the way a
// caller does: containers member by member, scalars by their type.
func walk(r *Reader) error {
	var err error
	switch c := r.Kind(); {
	case c == '{':
		err = r.Enter()
		for ok := err == nil; ok && err == nil; {
			if _, ok, err = r.Next(); ok && err == nil {
				err = walk(r)
			}
		}
	case c == '[':
		err = r.EnterArray()
		for ok := err == nil; ok && err == nil; {
			if ok, err = r.NextElem(); ok && err == nil {
				err = walk(r)
			}
		}
	case c == '"':
		_, err = r.Str()
	case c == 't' || c == 'f':
		_, err = r.Bool()
	case c == '-' || c >= '0' && c <= '9':
		_, err = r.Number()
	default:
		_, err = r.Raw()
	}
	return err
}

// FuzzEachMember checks EachMember against encoding/json's own walk: when
// it accepts, encoding/json reads the same members; when encoding/json
// accepts and it does not, a rule of the policy is the reason.
func FuzzEachMember(f *testing.F) {
	seeds(f)
	f.Add([]byte(`{"cnf":{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"},"\u0063nf":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := members(data)
		want, wantOK := referenceMembers(data)
		if err == nil && !wantOK {
			t.Fatalf("EachMember accepted what encoding/json rejects")
		}
		if err != nil && wantOK && !policyError(err) {
			t.Fatalf("EachMember: %v, encoding/json accepts", err)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%d members, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("member %d: %q, want %q", i, got[i], want[i])
			}
		}
		for _, m := range got {
			if Kind([]byte(m.value)) != '"' {
				continue
			}
			s, err := String([]byte(m.value))
			var ref string
			if err != nil || json.Unmarshal([]byte(m.value), &ref) != nil || s != ref {
				t.Fatalf("String(%q) = %q, %v; encoding/json reads %q", m.value, s, err, ref)
			}
		}
	})
}
