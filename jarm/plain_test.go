package jarm_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/jarm"
)

// rfc9207 holds testdata/rfc9207-iss.json, copied from RFC 9207 §2.1, §2.2
// and §3.
type rfc9207 struct {
	Issuer                string `json:"issuer"`
	AuthorizationResponse struct {
		Where    string `json:"where"`
		Location string `json:"location"`
	} `json:"authorization_response"`
	ErrorResponse struct {
		Where    string `json:"where"`
		Location string `json:"location"`
	} `json:"error_response"`
}

func loadRFC9207(t testing.TB) rfc9207 {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc9207-iss.json")
	require.NoError(t, err)
	var v rfc9207
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Issuer)
	return v
}

// stateOf returns the state parameter of a URL's query.
func stateOf(t testing.TB, location string) string {
	t.Helper()
	u, err := url.Parse(location)
	require.NoError(t, err)
	return u.Query().Get("state")
}

func plainDecoder(t testing.TB, issuer string, issSupported bool) *jarm.Decoder {
	t.Helper()
	d, err := jarm.NewDecoder(jarm.Config{Issuer: issuer, AuthorizationResponseIssParameterSupported: issSupported, Now: fixedNow})
	require.NoError(t, err)
	require.False(t, d.JARMRequired())
	return d
}

func TestPlainRFC9207Examples(t *testing.T) {
	t.Parallel()
	v := loadRFC9207(t)
	d := plainDecoder(t, v.Issuer, true)

	// RFC 9207 §2.1.
	loc := v.AuthorizationResponse.Location
	r, err := d.DecodeURL(context.Background(), loc, stateOf(t, loc))
	require.NoError(t, err)
	require.Equal(t, "x1848ZT64p4IirMPT0R-X3141MFPTuBX-VFL_cvaplMH58", r.Code)
	require.Equal(t, v.Issuer, r.Issuer)
	require.False(t, r.JARM)
	require.True(t, r.Expiry.IsZero())

	// RFC 9207 §2.2.
	loc = v.ErrorResponse.Location
	_, err = d.DecodeURL(context.Background(), loc, stateOf(t, loc))
	var ae *jarm.AuthorizationError
	require.ErrorAs(t, err, &ae)
	require.ErrorIs(t, err, &oautherr.Error{Code: "access_denied"})
	require.False(t, ae.JARM)
	require.Equal(t, v.Issuer, ae.Issuer)

	// The same responses against a client expecting another issuer: the
	// mix-up RFC 9207 detects.
	other := plainDecoder(t, "https://attacker.example", true)
	for _, loc := range []string{v.AuthorizationResponse.Location, v.ErrorResponse.Location} {
		_, err = other.DecodeURL(context.Background(), loc, stateOf(t, loc))
		require.ErrorIs(t, err, jarm.ErrIssuerMismatch)
		require.NotErrorIs(t, err, jarm.ErrAuthorization)
	}
}

func TestPlain(t *testing.T) {
	t.Parallel()
	const iss = "https://honest.as.example"
	ok := url.Values{"code": {testCode}, "state": {testState}, "iss": {iss}}
	with := func(changes map[string][]string) url.Values {
		v := url.Values{}
		for k, vs := range ok {
			v[k] = vs
		}
		for k, vs := range changes {
			if vs == nil {
				delete(v, k)
			} else {
				v[k] = vs
			}
		}
		return v
	}
	cases := []struct {
		name      string
		supported bool
		params    url.Values
		state     string
		err       error
		issuer    string
	}{
		{name: "iss present", supported: true, params: ok, issuer: iss},
		{name: "iss present, not advertised", params: ok, issuer: iss},
		{name: "iss omitted, not advertised", params: with(map[string][]string{"iss": nil})},
		{name: "iss omitted, advertised", supported: true, params: with(map[string][]string{"iss": nil}), err: jarm.ErrIssuerMismatch},
		{name: "iss mismatch", params: with(map[string][]string{"iss": {"https://attacker.example"}}), err: jarm.ErrIssuerMismatch},
		{name: "iss with a trailing slash", params: with(map[string][]string{"iss": {iss + "/"}}), err: jarm.ErrIssuerMismatch},
		{name: "iss differing in case", params: with(map[string][]string{"iss": {strings.ToUpper(iss)}}), err: jarm.ErrIssuerMismatch},
		{name: "iss empty", supported: true, params: with(map[string][]string{"iss": {""}}), err: jarm.ErrIssuerMismatch},
		{name: "iss repeated", params: with(map[string][]string{"iss": {iss, iss}}), err: jarm.ErrMalformed},
		{name: "code repeated", params: with(map[string][]string{"code": {"a", "b"}}), err: jarm.ErrMalformed},
		{name: "state repeated", params: with(map[string][]string{"state": {testState, testState}}), err: jarm.ErrMalformed},
		{name: "wrong state", params: ok, state: "other", err: jarm.ErrStateMismatch},
		{name: "missing state", params: with(map[string][]string{"state": nil}), err: jarm.ErrStateMismatch},
		{name: "missing code", params: with(map[string][]string{"code": nil}), err: jarm.ErrMalformed},
		{name: "code and error", params: with(map[string][]string{"error": {"access_denied"}}), err: jarm.ErrMalformed},
		{name: "error with a bad code", params: with(map[string][]string{"code": nil, "error": {"a\x01"}}), err: jarm.ErrMalformed},
		{name: "error with wrong iss", params: with(map[string][]string{"code": nil, "error": {"access_denied"}, "iss": {"https://attacker.example"}}), err: jarm.ErrIssuerMismatch},
		{name: "error with wrong state", params: with(map[string][]string{"code": nil, "error": {"access_denied"}}), state: "other", err: jarm.ErrStateMismatch},
		{name: "JARM response to a decoder without keys", params: url.Values{"response": {"a.b.c"}}, err: jarm.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := plainDecoder(t, iss, tc.supported)
			state := tc.state
			if state == "" {
				state = testState
			}
			r, err := d.Decode(context.Background(), tc.params, state)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.Equal(t, testCode, r.Code)
			require.Equal(t, testState, r.State)
			require.Equal(t, tc.issuer, r.Issuer)
			require.False(t, r.JARM)
		})
	}
}

func TestPlainAllowedBesideJARM(t *testing.T) {
	t.Parallel()
	d := staticDecoder(t, func(c *jarm.Config) {
		c.InsecureAllowPlainResponses = true
		c.AuthorizationResponseIssParameterSupported = true
	})
	require.False(t, d.JARMRequired())
	r, err := d.Decode(context.Background(), url.Values{"code": {testCode}, "state": {testState}, "iss": {testIssuer}}, testState)
	require.NoError(t, err)
	require.False(t, r.JARM)
	_, err = d.Decode(context.Background(), url.Values{"code": {testCode}, "state": {testState}}, testState)
	require.ErrorIs(t, err, jarm.ErrIssuerMismatch)
	// JARM responses still verify.
	r, err = d.Decode(context.Background(), url.Values{"response": {signStdlib(t, asEC(), "ec1", claims(nil))}}, testState)
	require.NoError(t, err)
	require.True(t, r.JARM)
}
