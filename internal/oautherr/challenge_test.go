package oautherr

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func ch(scheme string, kv ...string) Challenge {
	c := Challenge{Scheme: scheme}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Params = append(c.Params, Param{Name: kv[i], Value: kv[i+1]})
	}
	return c
}

// TestParseRFCChallenges parses the WWW-Authenticate examples of RFC 6750
// §3 and RFC 9449 §7.1, §7.2 and §9.
func TestParseRFCChallenges(t *testing.T) {
	t.Parallel()
	want := map[string][]Challenge{
		"no_auth_dpop_only":        {ch("DPoP", "algs", "ES256 PS256")},
		"invalid_dpop_key_binding": {ch("DPoP", "error", "invalid_token", "error_description", "Invalid DPoP key binding", "algs", "ES256")},
		"bearer_and_dpop_no_auth":  {ch("Bearer"), ch("DPoP", "algs", "ES256 PS256")},
		"bearer_invalid_token":     {ch("Bearer", "error", "invalid_token", "error_description", "Invalid token"), ch("DPoP", "algs", "ES256 PS256")},
		"ambiguous_bearer_and_dpop": {
			ch("Bearer", "error", "invalid_request", "error_description", "Multiple methods used to include access token"),
			ch("DPoP", "algs", "ES256 PS256", "error", "invalid_request", "error_description", "Multiple methods used to include access token"),
		},
		"rs_use_dpop_nonce": {ch("DPoP", "error", "use_dpop_nonce", "error_description", "Resource server requires nonce in DPoP proof")},
		"bearer_realm":      {ch("Bearer", "realm", "example")},
		"bearer_expired":    {ch("Bearer", "realm", "example", "error", "invalid_token", "error_description", "The access token expired")},
	}
	v := loadVectors(t)
	require.Len(t, v.Challenges, len(want))
	for _, c := range v.Challenges {
		t.Run(c.Section+"/"+c.ID, func(t *testing.T) {
			t.Parallel()
			got, err := ParseChallenges(c.Header)
			require.NoError(t, err)
			require.Equal(t, want[c.ID], got)
			// Formatting each challenge and joining them reads back the same.
			parts := make([]string, len(got))
			for i, g := range got {
				parts[i] = g.String()
			}
			again, err := ParseChallenges(strings.Join(parts, ", "))
			require.NoError(t, err)
			require.Equal(t, got, again)
		})
	}
}

func TestChallengeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    Challenge
		want string
	}{
		{"RFC 6750 §3", ch("Bearer", "realm", "example", "error", "invalid_token", "error_description", "The access token expired"),
			`Bearer realm="example", error="invalid_token", error_description="The access token expired"`},
		{"RFC 9449 §7.1", ch("DPoP", "algs", "ES256 PS256"), `DPoP algs="ES256 PS256"`},
		{"RFC 9449 §9", ch("DPoP", "error", "use_dpop_nonce", "error_description", "Resource server requires nonce in DPoP proof"),
			`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`},
		{"scheme only", ch("Bearer"), "Bearer"},
		{"token68", Challenge{Scheme: "Basic", Token68: "dXNlcjpwYXNz"}, "Basic dXNlcjpwYXNz"},
		{"escapes", ch("Bearer", "error_description", `say "hi" \ bye`), `Bearer error_description="say \"hi\" \\ bye"`},
		{"control characters dropped", ch("Bearer", "error_description", "a\r\nb\x00c\x7fd\te"), "Bearer error_description=\"abcd\te\""},
		{"empty value", ch("Bearer", "realm", ""), `Bearer realm=""`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.c.String())
		})
	}
}

func TestParseChallenges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Challenge
	}{
		{"scheme case kept", `bEaReR realm="x"`, []Challenge{ch("bEaReR", "realm", "x")}},
		{"param names lower-cased", `Bearer Realm="x", ERROR=invalid_token`, []Challenge{ch("Bearer", "realm", "x", "error", "invalid_token")}},
		{"token values", `DPoP error=use_dpop_nonce`, []Challenge{ch("DPoP", "error", "use_dpop_nonce")}},
		{"spaces around =", `Bearer realm = "x" , error =y`, []Challenge{ch("Bearer", "realm", "x", "error", "y")}},
		{"tabs", "Bearer\trealm=\"x\"", []Challenge{ch("Bearer", "realm", "x")}},
		{"leading and trailing separators", ` , Bearer realm="x" ,, `, []Challenge{ch("Bearer", "realm", "x")}},
		{"empty list elements between params", `Bearer realm="x",,, error="y"`, []Challenge{ch("Bearer", "realm", "x", "error", "y")}},
		{"quoted-pair", `Bearer error_description="a \"quoted\" word, and a \\ backslash"`, []Challenge{ch("Bearer", "error_description", `a "quoted" word, and a \ backslash`)}},
		{"escaped ordinary character", `Bearer realm="\a\b"`, []Challenge{ch("Bearer", "realm", "ab")}},
		{"comma and equals inside quotes", `Bearer realm="a, b=c", error="d"`, []Challenge{ch("Bearer", "realm", "a, b=c", "error", "d")}},
		{"UTF-8 inside quotes", `Bearer error_description="café"`, []Challenge{ch("Bearer", "error_description", "café")}},
		{"token68 Basic", `Basic dXNlcjpwYXNz`, []Challenge{{Scheme: "Basic", Token68: "dXNlcjpwYXNz"}}},
		{"token68 with padding", `Negotiate abc==`, []Challenge{{Scheme: "Negotiate", Token68: "abc=="}}},
		{"token68 with all its characters", `X a-._~+/Z=`, []Challenge{{Scheme: "X", Token68: "a-._~+/Z="}}},
		{"token68 then a challenge", `Negotiate abc==, Bearer realm="x"`, []Challenge{{Scheme: "Negotiate", Token68: "abc=="}, ch("Bearer", "realm", "x")}},
		{"challenge then token68", `Bearer realm="x", Basic dXNlcjpwYXNz`, []Challenge{ch("Bearer", "realm", "x"), {Scheme: "Basic", Token68: "dXNlcjpwYXNz"}}},
		{"three challenges", `Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple", DPoP algs="ES256"`,
			[]Challenge{ch("Newauth", "realm", "apps", "type", "1", "title", `Login to "apps"`), ch("Basic", "realm", "simple"), ch("DPoP", "algs", "ES256")}},
		{"schemes only", `Bearer, DPoP`, []Challenge{ch("Bearer"), ch("DPoP")}},
		{"same param in two challenges", `Bearer error="a", DPoP error="b"`, []Challenge{ch("Bearer", "error", "a"), ch("DPoP", "error", "b")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseChallenges(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseChallengesMalformed(t *testing.T) {
	t.Parallel()
	var params []string
	for i := range maxParams + 1 {
		params = append(params, "p"+strings.Repeat("x", i)+`="v"`)
	}
	many := "Bearer " + strings.Join(params, ", ")
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ``},
		{"only separators", ` , ,`},
		{"duplicate param", `Bearer error="a", error="b"`},
		{"duplicate param, other case", `Bearer error="a", ERROR="b"`},
		{"unterminated quote", `Bearer realm="example`},
		{"unterminated quoted-pair", `Bearer realm="example\`},
		{"newline in quotes", "Bearer realm=\"a\nb\""},
		{"NUL in quotes", "Bearer realm=\"a\x00b\""},
		{"DEL in quotes", "Bearer realm=\"a\x7fb\""},
		{"escaped control character", "Bearer realm=\"a\\\x01b\""},
		{"control character outside quotes", "Bearer realm=x\x01"},
		{"CR LF", "Bearer realm=\"x\"\r\nX-Injected: 1"},
		{"no space after scheme", `Bearer="x"`},
		{"param without value", `Bearer realm=, error="x"`},
		{"param without =", `Bearer realm "x"`},
		{"value then junk", `Bearer realm="x" y`},
		{"value then quote", `Bearer realm=x"y"`},
		{"missing comma", `Bearer realm="x" error="y"`},
		{"scheme not a token", `"Bearer" realm="x"`},
		{"non-ASCII scheme", `Bearér realm="x"`},
		{"token68 then junk", `Basic abc== def`},
		{"equals only", `Bearer =`},
		{"too many params", many},
		{"too long", `Bearer realm="` + strings.Repeat("a", MaxChallengeHeader) + `"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseChallenges(tc.in)
			require.ErrorIs(t, err, ErrMalformedChallenge)
			require.Nil(t, got)
		})
	}
}

func TestParseHeader(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Add("WWW-Authenticate", `Bearer realm="example"`)
	h.Add("WWW-Authenticate", "")
	h.Add("WWW-Authenticate", `DPoP algs="ES256 PS256", error="use_dpop_nonce"`)
	cs, err := ParseHeader(h)
	require.NoError(t, err)
	require.Equal(t, []Challenge{ch("Bearer", "realm", "example"), ch("DPoP", "algs", "ES256 PS256", "error", "use_dpop_nonce")}, cs)

	d, ok := Find(cs, "dpop")
	require.True(t, ok)
	require.True(t, d.Is("DPOP"))
	require.Equal(t, "use_dpop_nonce", d.Get("Error"))
	require.Empty(t, d.Get("realm"))
	_, ok = Find(cs, "Basic")
	require.False(t, ok)

	cs, err = ParseHeader(http.Header{})
	require.NoError(t, err)
	require.Empty(t, cs)

	bad := http.Header{}
	bad.Add("WWW-Authenticate", `Bearer realm="example"`)
	bad.Add("WWW-Authenticate", `Bearer realm="unterminated`)
	_, err = ParseHeader(bad)
	require.ErrorIs(t, err, ErrMalformedChallenge)

	long := http.Header{}
	for range 9 {
		long.Add("WWW-Authenticate", `Bearer realm="`+strings.Repeat("a", 1000)+`"`)
	}
	_, err = ParseHeader(long)
	require.ErrorIs(t, err, ErrMalformedChallenge, "the lines together are bounded")
}
