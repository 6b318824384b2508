package jarm_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

// TestLifetime is the attack of a response whose "exp" lies years ahead: a
// response that outlives the login it belongs to can be replayed by whoever
// once saw it (a log, a Referer, a browser history). JARM §2.1 recommends at
// most 10 minutes; Config.MaxLifetime bounds both exp − now and exp − iat.
func TestLifetime(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) int64 { return testNow.Add(d).Unix() }
	maxLife := jarm.DefaultMaxLifetime
	skew := jarm.DefaultSkew
	cases := []struct {
		name    string
		changes map[string]any
		edit    func(*jarm.Config)
		err     error // nil: accepted
	}{
		{name: "exp ten years ahead", changes: map[string]any{"exp": testNow.AddDate(10, 0, 0).Unix()}, err: jarm.ErrLifetimeTooLong},
		{name: "exp ten years ahead, no iat", changes: map[string]any{"exp": testNow.AddDate(10, 0, 0).Unix(), "iat": nil}, err: jarm.ErrLifetimeTooLong},
		{name: "exp at the largest NumericDate", changes: map[string]any{"exp": int64(1) << 40, "iat": nil}, err: jarm.ErrLifetimeTooLong},
		{name: "exp one second past now+MaxLifetime+Skew, no iat", changes: map[string]any{"exp": at(maxLife + skew + time.Second), "iat": nil}, err: jarm.ErrLifetimeTooLong},
		{name: "exp at now+MaxLifetime+Skew, no iat", changes: map[string]any{"exp": at(maxLife + skew), "iat": nil}},
		{name: "exp-iat one second over MaxLifetime", changes: map[string]any{"iat": at(-5 * time.Minute), "exp": at(5*time.Minute + time.Second)}, err: jarm.ErrLifetimeTooLong},
		{name: "exp-iat equal to MaxLifetime", changes: map[string]any{"iat": at(-5 * time.Minute), "exp": at(5 * time.Minute)}},
		{name: "iat long ago, exp soon", changes: map[string]any{"iat": testNow.AddDate(-1, 0, 0).Unix(), "exp": at(time.Minute)}, err: jarm.ErrLifetimeTooLong},
		{name: "no exp: an unbounded lifetime", changes: map[string]any{"exp": nil}, err: jarm.ErrLifetimeTooLong},
		{name: "shorter MaxLifetime", changes: map[string]any{"exp": at(2 * time.Minute), "iat": nil},
			edit: func(c *jarm.Config) { c.MaxLifetime = time.Minute }, err: jarm.ErrLifetimeTooLong},
		{name: "shorter MaxLifetime with iat", changes: map[string]any{"exp": at(90 * time.Second)},
			edit: func(c *jarm.Config) { c.MaxLifetime = time.Minute }, err: jarm.ErrLifetimeTooLong},
		{name: "longer MaxLifetime", changes: map[string]any{"exp": at(30 * time.Minute)},
			edit: func(c *jarm.Config) { c.MaxLifetime = time.Hour }},
		{name: "the usual 60 s response", changes: map[string]any{"exp": at(time.Minute)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := staticDecoder(t, tc.edit)
			tok := signJose(t, asEC(), jose.ES256, "ec1", claims(tc.changes))
			r, err := d.Decode(context.Background(), url.Values{"response": {tok}}, testState)
			if tc.err == nil {
				require.NoError(t, err)
				require.Equal(t, testCode, r.Code)
				return
			}
			require.ErrorIs(t, err, tc.err)
			require.Nil(t, r)
			require.NotErrorIs(t, err, jarm.ErrExpired)
		})
	}
}

// TestLifetimeEncrypted checks the bound holds inside a JWE too.
func TestLifetimeEncrypted(t *testing.T) {
	t.Parallel()
	d := staticDecoder(t, withDecryption)
	inner := signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"exp": testNow.AddDate(1, 0, 0).Unix()}))
	_, err := d.Decode(context.Background(), url.Values{"response": {encrypt(t, inner, clientEC().Public(), "enc-ec", jose.EncryptOptions{})}}, testState)
	require.ErrorIs(t, err, jarm.ErrLifetimeTooLong)
}
