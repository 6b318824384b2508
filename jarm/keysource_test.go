package jarm_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/jarm"
)

// fakeSource is a KeySource that records its calls: refresh swaps in next
// (when set), err fails every call, refreshErr every refresh.
type fakeSource struct {
	mu         sync.Mutex
	keys       []jarm.VerificationKey
	next       []jarm.VerificationKey
	err        error
	refreshErr error
	calls      int
	refreshes  int
}

func (f *fakeSource) VerificationKeys(_ context.Context, refresh bool) ([]jarm.VerificationKey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if refresh {
		f.refreshes++
		if f.refreshErr != nil {
			return nil, f.refreshErr
		}
		if f.next != nil {
			f.keys, f.next = f.next, nil
		}
	}
	if f.err != nil {
		return nil, f.err
	}
	return f.keys, nil
}

func (f *fakeSource) counts() (calls, refreshes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.refreshes
}

func sourceDecoder(t *testing.T, src jarm.KeySource) (*jarm.Decoder, *clock) {
	t.Helper()
	c := &clock{t: testNow}
	d, err := jarm.NewDecoder(jarm.Config{Issuer: testIssuer, ClientID: testClientID, KeySource: src, Now: c.Now})
	require.NoError(t, err)
	require.True(t, d.JARMRequired())
	return d, c
}

func TestKeySourceVerifies(t *testing.T) {
	t.Parallel()
	src := &fakeSource{keys: []jarm.VerificationKey{{KeyID: "k1", Key: asEC().Public()}}}
	d, c := sourceDecoder(t, src)
	for range 3 {
		r, err := decodeQuery(d, signedAt(t, c, "k1", nil))
		require.NoError(t, err)
		require.Equal(t, testCode, r.Code)
	}
	calls, refreshes := src.counts()
	require.Equal(t, 3, calls)
	require.Zero(t, refreshes, "a known kid never asks for a refresh")

	// A key of the wrong kid does not verify, even when the refresh
	// brings nothing new; a response signed by another key neither.
	_, err := decodeQuery(d, signedAt(t, c, "k9", nil))
	require.ErrorIs(t, err, jarm.ErrInvalidSignature)
	forged := signJose(t, asEC2(), "ES256", "k1", claims(nil))
	_, err = decodeQuery(d, forged)
	require.ErrorIs(t, err, jarm.ErrInvalidSignature)
}

// An unknown kid asks the source for one refresh; a rotated key is then
// found, and a kid still unknown after it fails without a second one.
func TestKeySourceUnknownKidRefreshesOnce(t *testing.T) {
	t.Parallel()
	src := &fakeSource{
		keys: []jarm.VerificationKey{{KeyID: "old", Key: asEC2().Public()}},
		next: []jarm.VerificationKey{{KeyID: "new", Key: asEC().Public()}},
	}
	d, c := sourceDecoder(t, src)
	r, err := decodeQuery(d, signedAt(t, c, "new", nil))
	require.NoError(t, err)
	require.Equal(t, testCode, r.Code)
	calls, refreshes := src.counts()
	require.Equal(t, 2, calls)
	require.Equal(t, 1, refreshes)

	_, err = decodeQuery(d, signedAt(t, c, "k9", nil))
	require.ErrorIs(t, err, jarm.ErrInvalidSignature)
	calls, refreshes = src.counts()
	require.Equal(t, 4, calls)
	require.Equal(t, 2, refreshes, "one refresh per unknown kid, not more")

	// A response without a kid never asks for a refresh.
	_, err = decodeQuery(d, signJose(t, asEC(), "ES256", "", claims(nil)))
	require.NoError(t, err)
	_, refreshes = src.counts()
	require.Equal(t, 2, refreshes)
}

var errSource = errors.New("source down")

// A failing source, on the first look or on the refresh, fails the
// response with ErrKeySetUnavailable (503), its error in the chain.
func TestKeySourceError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		kid  string
		src  *fakeSource
	}{
		{"first look", "k1", &fakeSource{err: errSource}},
		{"refresh", "k9", &fakeSource{keys: []jarm.VerificationKey{{KeyID: "k1", Key: asEC().Public()}}, refreshErr: errSource}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, c := sourceDecoder(t, tc.src)
			_, err := decodeQuery(d, signedAt(t, c, tc.kid, nil))
			require.ErrorIs(t, err, jarm.ErrKeySetUnavailable)
			require.ErrorIs(t, err, errSource)
			require.NotErrorIs(t, err, jarm.ErrInvalidSignature)
			require.Equal(t, http.StatusServiceUnavailable, jarm.HTTPStatus(err))
		})
	}
	d, _ := sourceDecoder(t, &fakeSource{err: errSource})
	require.ErrorIs(t, d.Refresh(context.Background()), jarm.ErrKeySetUnavailable)
}

// KeySource replaces JWKSURL, Keys and JWKS: combining them is a
// ConfigError on KeySource.
func TestKeySourceExclusive(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(*jarm.Config)
	}{
		{"JWKSURL", func(c *jarm.Config) { c.JWKSURL = "https://as.example.com/jwks" }},
		{"Keys", func(c *jarm.Config) { c.Keys = []jarm.VerificationKey{{KeyID: "k1", Key: asEC().Public()}} }},
		{"JWKS", func(c *jarm.Config) { c.JWKS = []byte(`{"keys":[]}`) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := jarm.Config{Issuer: testIssuer, ClientID: testClientID, KeySource: &fakeSource{}}
			tc.edit(&cfg)
			d, err := jarm.NewDecoder(cfg)
			require.Nil(t, d)
			require.ErrorIs(t, err, jarm.ErrInvalidConfig)
			var ce *jarm.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "KeySource", ce.Field)
		})
	}
}
