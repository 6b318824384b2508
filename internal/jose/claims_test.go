package jose

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestClaimsValidate(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	at := func(d time.Duration) *NumericDate { return NewNumericDate(now.Add(d)) }
	skew := 30 * time.Second
	base := Expected{Issuer: "https://as.example", Audience: "client", Now: now, Skew: skew}
	good := Claims{Issuer: "https://as.example", Audience: Audience{"client"}, Expiry: at(time.Minute)}
	with := func(f func(*Claims)) Claims {
		c := good
		f(&c)
		return c
	}
	expect := func(f func(*Expected)) Expected {
		e := base
		f(&e)
		return e
	}
	tests := []struct {
		name string
		c    Claims
		e    Expected
		want error
	}{
		{"valid", good, base, nil},
		{"no expectations", Claims{}, Expected{Now: now}, nil},
		{"iss missing", with(func(c *Claims) { c.Issuer = "" }), base, ErrMissingClaim},
		{"iss wrong", with(func(c *Claims) { c.Issuer = "https://evil.example" }), base, ErrIssuer},
		{"iss with a trailing slash", with(func(c *Claims) { c.Issuer = "https://as.example/" }), base, ErrIssuer},
		{"iss case differs", with(func(c *Claims) { c.Issuer = "https://AS.example" }), base, ErrIssuer},
		{"aud missing", with(func(c *Claims) { c.Audience = nil }), base, ErrMissingClaim},
		{"aud wrong", with(func(c *Claims) { c.Audience = Audience{"other"} }), base, ErrAudience},
		{"aud array containing", with(func(c *Claims) { c.Audience = Audience{"other", "client"} }), base, nil},
		{"aud array not containing", with(func(c *Claims) { c.Audience = Audience{"other", "Client"} }), base, ErrAudience},
		{"exp missing, not required", with(func(c *Claims) { c.Expiry = nil }), base, nil},
		{"exp missing, required", with(func(c *Claims) { c.Expiry = nil }), expect(func(e *Expected) { e.RequireExpiry = true }), ErrMissingClaim},
		{"exp past beyond skew", with(func(c *Claims) { c.Expiry = at(-skew - time.Second) }), base, ErrExpired},
		{"exp exactly now-skew", with(func(c *Claims) { c.Expiry = at(-skew) }), base, ErrExpired},
		{"exp one second within skew", with(func(c *Claims) { c.Expiry = at(-skew + time.Second) }), base, nil},
		{"exp exactly now without skew", with(func(c *Claims) { c.Expiry = at(0) }), expect(func(e *Expected) { e.Skew = 0 }), ErrExpired},
		{"nbf future beyond skew", with(func(c *Claims) { c.NotBefore = at(skew + time.Second) }), base, ErrNotYetValid},
		{"nbf exactly now+skew", with(func(c *Claims) { c.NotBefore = at(skew) }), base, nil},
		{"nbf past", with(func(c *Claims) { c.NotBefore = at(-time.Hour) }), base, nil},
		{"iat missing, required", good, expect(func(e *Expected) { e.RequireIssuedAt = true }), ErrMissingClaim},
		{"iat missing with MaxAge", good, expect(func(e *Expected) { e.MaxAge = time.Minute }), ErrMissingClaim},
		{"iat future beyond skew, required", with(func(c *Claims) { c.IssuedAt = at(skew + time.Second) }), expect(func(e *Expected) { e.RequireIssuedAt = true }), ErrNotYetValid},
		{"iat future beyond skew, MaxAge", with(func(c *Claims) { c.IssuedAt = at(time.Hour) }), expect(func(e *Expected) { e.MaxAge = time.Minute }), ErrNotYetValid},
		{"iat future within skew", with(func(c *Claims) { c.IssuedAt = at(skew) }), expect(func(e *Expected) { e.RequireIssuedAt = true; e.MaxAge = time.Minute }), nil},
		{"iat future, not checked", with(func(c *Claims) { c.IssuedAt = at(time.Hour) }), base, nil},
		{"iat too old", with(func(c *Claims) { c.IssuedAt = at(-time.Minute - skew - time.Second) }), expect(func(e *Expected) { e.MaxAge = time.Minute }), ErrExpired},
		{"iat exactly MaxAge+skew old", with(func(c *Claims) { c.IssuedAt = at(-time.Minute - skew) }), expect(func(e *Expected) { e.MaxAge = time.Minute }), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.c.Validate(tc.e)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestClaimsValidateDefaultNow(t *testing.T) {
	t.Parallel()
	c := Claims{Expiry: NewNumericDate(time.Unix(1, 0))}
	require.ErrorIs(t, c.Validate(Expected{}), ErrExpired, "a zero Now means the current time")
}

func TestNumericDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want int64
		err  bool
	}{
		{"integer", `1700000000`, 1700000000, false},
		{"fraction truncated", `1700000000.9`, 1700000000, false},
		{"exponent", `1.7e9`, 1700000000, false},
		{"zero", `0`, 0, false},
		{"2^40", `1099511627776`, 1 << 40, false},
		{"string", `"1700000000"`, 0, true},
		{"null", `null`, 0, true},
		{"true", `true`, 0, true},
		{"negative", `-1`, 0, true},
		{"over 2^40", `1099511627777`, 0, true},
		{"huge", `1e300`, 0, true},
		{"overflow", `1e400`, 0, true},
		{"NaN", `NaN`, 0, true},
		{"Infinity", `Infinity`, 0, true},
		{"array", `[1]`, 0, true},
		{"object", `{}`, 0, true},
		{"empty", ``, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var d NumericDate
			err := d.UnmarshalJSON([]byte(tc.in))
			if tc.err {
				require.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			require.Equal(t, NumericDate(tc.want), d)
			require.Equal(t, tc.want, d.Time().Unix())
		})
	}
	t.Run("in claims", func(t *testing.T) {
		t.Parallel()
		var c Claims
		require.NoError(t, json.Unmarshal([]byte(`{"exp":null,"iat":5}`), &c))
		require.Nil(t, c.Expiry, "null means absent")
		require.Equal(t, NumericDate(5), *c.IssuedAt)
		require.ErrorIs(t, json.Unmarshal([]byte(`{"exp":"5"}`), &c), ErrMalformed)
		b, err := json.Marshal(Claims{Expiry: NewNumericDate(time.Unix(7, 0))})
		require.NoError(t, err)
		require.JSONEq(t, `{"exp":7}`, string(b))
	})
}

func TestAudience(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want Audience
		err  bool
	}{
		{"string", `"a"`, Audience{"a"}, false},
		{"array", `["a","b"]`, Audience{"a", "b"}, false},
		{"one-element array", `["a"]`, Audience{"a"}, false},
		{"empty array", `[]`, Audience{}, false},
		{"leading space", ` "a"`, Audience{"a"}, false},
		{"null", `null`, nil, false},
		{"number", `1`, nil, true},
		{"array with a number", `["a",1]`, nil, true},
		{"object", `{"a":1}`, nil, true},
		{"bad string", `"a`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a Audience
			err := a.UnmarshalJSON([]byte(tc.in))
			if tc.err {
				require.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, a)
		})
	}

	marshal := []struct {
		name string
		in   Audience
		want string
	}{
		{"one as a string", Audience{"a"}, `"a"`},
		{"two as an array", Audience{"a", "b"}, `["a","b"]`},
		{"none as an empty array", Audience{}, `[]`},
	}
	for _, tc := range marshal {
		t.Run("marshal/"+tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tc.in)
			require.NoError(t, err)
			require.JSONEq(t, tc.want, string(b))
		})
	}
	t.Run("omitted when empty", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(Claims{Subject: "s"})
		require.NoError(t, err)
		require.JSONEq(t, `{"sub":"s"}`, string(b))
	})
}
