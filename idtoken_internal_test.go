package hardened

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/jose"
)

const (
	testIssuer = "https://as.example.org"
	testClient = "app"
)

// idFixture signs ID tokens with a key the state trusts.
type idFixture struct {
	t      testing.TB
	conf   *Config
	st     *state
	signer *jose.Signer
	now    time.Time
}

func newIDFixture(t testing.TB) *idFixture {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	signer, err := jose.NewSigner(key, jose.SignerOptions{KeyID: "k1"})
	require.NoError(t, err)
	now := time.Unix(1_700_000_000, 0)
	return &idFixture{
		t:      t,
		conf:   &Config{Config: oauth2.Config{ClientID: testClient}, Now: func() time.Time { return now }},
		st:     &state{md: &Metadata{Issuer: testIssuer}, keys: jose.StaticKeys{{Key: key.Public(), KeyID: "k1"}}, algs: fapiAlgorithms, skew: defaultSkew},
		signer: signer,
		now:    now,
	}
}

// claims returns valid claims for the login of nonce "n".
func (f *idFixture) claims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "u1", "aud": testClient, "nonce": "n",
		"iat": f.now.Unix(), "exp": f.now.Add(5 * time.Minute).Unix(), "auth_time": f.now.Unix() - 10,
		"at_hash": jose.HalfHash(jose.ES256, "at"), "c_hash": jose.HalfHash(jose.ES256, "code"),
	}
}

func (f *idFixture) sign(claims any) string {
	f.t.Helper()
	b, ok := claims.([]byte)
	if !ok {
		var err error
		b, err = json.Marshal(claims)
		require.NoError(f.t, err)
	}
	s, err := f.signer.Sign(b)
	require.NoError(f.t, err)
	return s
}

func (f *idFixture) verify(raw string, chk idCheck) (*IDToken, error) {
	return f.conf.verifyIDToken(f.t.Context(), f.st, raw, "at", chk)
}

func checkOf(t testing.TB, err error) string {
	t.Helper()
	var ie *IDTokenError
	require.ErrorAs(t, err, &ie)
	require.ErrorIs(t, err, ErrInvalidIDToken)
	return ie.Check
}

// The checks the server's switches cannot reach end to end.
func TestVerifyIDTokenUnit(t *testing.T) {
	t.Parallel()
	login := idCheck{nonce: "n", code: "code"}
	prev := &IDToken{Subject: "u1", Nonce: "n", AuthTime: time.Unix(1_700_000_000-10, 0)}
	refresh := idCheck{refresh: true, prev: prev}
	tests := []struct {
		name  string
		mod   func(m map[string]any)
		raw   func(f *idFixture) string
		chk   idCheck
		check string // "" = valid
	}{
		{name: "valid", chk: login},
		{name: "valid refresh without nonce", mod: func(m map[string]any) { delete(m, "nonce"); delete(m, "c_hash") }, chk: refresh},
		{name: "valid refresh, login unknown", mod: func(m map[string]any) { m["nonce"] = "other" }, chk: idCheck{refresh: true}},
		{name: "no sub", mod: func(m map[string]any) { delete(m, "sub") }, chk: login, check: "sub"},
		{name: "no iat", mod: func(m map[string]any) { delete(m, "iat") }, chk: login, check: "iat"},
		{name: "nbf in the future", mod: func(m map[string]any) { m["nbf"] = time.Unix(1_700_000_000, 0).Add(time.Hour).Unix() }, chk: login, check: "nbf"},
		{name: "exp within skew", mod: func(m map[string]any) { m["exp"] = time.Unix(1_700_000_000, 0).Add(-5 * time.Second).Unix() }, chk: login},
		{name: "iat within skew", mod: func(m map[string]any) { m["iat"] = time.Unix(1_700_000_000, 0).Add(5 * time.Second).Unix() }, chk: login},
		{name: "several audiences without azp", mod: func(m map[string]any) { m["aud"] = []string{testClient, testClient} }, chk: login, check: "azp"},
		{name: "nonce where none was sent", chk: idCheck{code: "code"}, check: "nonce"},
		{name: "refresh: another subject", mod: func(m map[string]any) { m["sub"] = "u2" }, chk: refresh, check: "sub"},
		{name: "refresh: another nonce", mod: func(m map[string]any) { m["nonce"] = "m" }, chk: refresh, check: "nonce"},
		{name: "refresh: another auth_time", mod: func(m map[string]any) { m["auth_time"] = 1 }, chk: refresh, check: "auth_time"},
		{name: "exp as a string", mod: func(m map[string]any) { m["exp"] = "1700000300" }, chk: login, check: "format"},
		{name: "duplicate iss", raw: func(f *idFixture) string {
			return f.sign([]byte(`{"iss":"https://evil.example","iss":"` + testIssuer + `","sub":"u1","aud":"app","iat":1700000000,"exp":1700000300,"nonce":"n"}`))
		}, chk: login, check: "format"},
		{name: "case variant of iss", raw: func(f *idFixture) string {
			return f.sign([]byte(`{"ISS":"https://evil.example","iss":"` + testIssuer + `","sub":"u1","aud":"app","iat":1700000000,"exp":1700000300,"nonce":"n"}`))
		}, chk: login, check: "format"},
		{name: "typ at+jwt", raw: func(f *idFixture) string {
			s, err := jose.NewSigner(mustKey(t), jose.SignerOptions{Type: "at+jwt", KeyID: "k1"})
			require.NoError(t, err)
			b, _ := json.Marshal(f.claims())
			tok, err := s.Sign(b)
			require.NoError(t, err)
			return tok
		}, chk: login, check: "format"},
		{name: "a JWE", raw: func(*idFixture) string { return "a.b.c.d.e" }, chk: login, check: "format"},
		{name: "garbage", raw: func(*idFixture) string { return "not a token" }, chk: login, check: "format"},
		{name: "unknown kid", raw: func(f *idFixture) string {
			s, err := jose.NewSigner(mustKey(t), jose.SignerOptions{KeyID: "k2"})
			require.NoError(t, err)
			b, _ := json.Marshal(f.claims())
			tok, err := s.Sign(b)
			require.NoError(t, err)
			return tok
		}, chk: login, check: "signature"},
		{name: "alg ES384 not allowed", raw: func(f *idFixture) string {
			k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
			require.NoError(t, err)
			s, err := jose.NewSigner(k, jose.SignerOptions{KeyID: "k1"})
			require.NoError(t, err)
			b, _ := json.Marshal(f.claims())
			tok, err := s.Sign(b)
			require.NoError(t, err)
			return tok
		}, chk: login, check: "alg"},
		{name: "HS256 header", raw: func(f *idFixture) string {
			b, _ := json.Marshal(f.claims())
			e := base64.RawURLEncoding.EncodeToString
			return e([]byte(`{"alg":"HS256","kid":"k1"}`)) + "." + e(b) + "." + e([]byte("mac"))
		}, chk: login, check: "alg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newIDFixture(t)
			var raw string
			if tc.raw != nil {
				raw = tc.raw(f)
			} else {
				m := f.claims()
				if tc.mod != nil {
					tc.mod(m)
				}
				raw = f.sign(m)
			}
			idt, err := f.verify(raw, tc.chk)
			if tc.check == "" {
				require.NoError(t, err)
				require.Equal(t, "u1", idt.Subject)
				return
			}
			require.Nil(t, idt)
			require.Equal(t, tc.check, checkOf(t, err))
			require.NotContains(t, err.Error(), raw)
		})
	}
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// Without keys (no jwks_uri), no ID token verifies.
func TestVerifyIDTokenWithoutKeys(t *testing.T) {
	t.Parallel()
	f := newIDFixture(t)
	raw := f.sign(f.claims())
	f.st.keys = nil
	_, err := f.verify(raw, idCheck{nonce: "n"})
	require.Equal(t, "signature", checkOf(t, err))
}

// An openid response must carry an id_token, a string.
func TestIDTokenRequired(t *testing.T) {
	t.Parallel()
	f := newIDFixture(t)
	tok := &oauth2.Token{AccessToken: "at"}
	_, err := f.conf.idTokenOf(t.Context(), f.st, tok, map[string]any{"access_token": "at"}, idCheck{required: true, nonce: "n"})
	require.Equal(t, "format", checkOf(t, err))
	_, err = f.conf.idTokenOf(t.Context(), f.st, tok, map[string]any{"id_token": 42.0}, idCheck{nonce: "n"})
	require.Equal(t, "format", checkOf(t, err))
	idt, err := f.conf.idTokenOf(t.Context(), f.st, tok, map[string]any{}, idCheck{})
	require.NoError(t, err)
	require.Nil(t, idt)
}

// halfHash follows OpenID Connect Core §3.1.3.6 (and errata set 2 for
// EdDSA): the example of Core §A.3's at_hash is not given, so check the
// lengths and determinism per hash.
func TestHalfHash(t *testing.T) {
	t.Parallel()
	for alg, n := range map[string]int{jose.ES256: 16, jose.PS256: 16, jose.ES384: 24, jose.PS384: 24, jose.ES512: 32, jose.EdDSA: 32} {
		b, err := base64.RawURLEncoding.DecodeString(jose.HalfHash(alg, "x"))
		require.NoError(t, err)
		require.Len(t, b, n, alg)
	}
	// OpenID Connect Core §A.4's access token and at_hash (RS256, SHA-256).
	require.Equal(t, "77QmUPtjPfzWtF2AnpK9RQ", jose.HalfHash(jose.RS256, "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"))
}

// FuzzVerifyIDToken signs arbitrary claims with a trusted key: no input
// panics, and whatever verifies names the issuer, the client and a subject.
func FuzzVerifyIDToken(f *testing.F) {
	fx := newIDFixture(f)
	good, _ := json.Marshal(fx.claims())
	f.Add(good)
	f.Add([]byte(`{"iss":"https://as.example.org","sub":"u","aud":["app","x"],"azp":"app","iat":1700000000,"exp":1700000300,"nonce":"n"}`))
	f.Add([]byte(`{"iss":"https://as.example.org","sub":"u","aud":"app","iat":1e400,"exp":-1,"nonce":"n"}`))
	f.Add([]byte(`{"iss":"https://as.example.org","sub":"u","aud":"app","iat":1700000000,"exp":1700000300,"nonce":"n","at_hash":null,"amr":["pwd",1]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"sub":"\ud800"}`))
	f.Fuzz(func(t *testing.T, claims []byte) {
		raw, err := fx.signer.Sign(claims)
		if err != nil {
			return
		}
		idt, err := fx.conf.verifyIDToken(t.Context(), fx.st, raw, "at", idCheck{nonce: "n"})
		if err != nil {
			var ie *IDTokenError
			require.ErrorAs(t, err, &ie)
			return
		}
		require.Equal(t, testIssuer, idt.Issuer)
		require.True(t, slices.Contains(idt.Audience, testClient))
		require.NotEmpty(t, idt.Subject)
		require.Equal(t, "n", idt.Nonce)
		require.True(t, fx.now.Before(idt.Expiry.Add(defaultSkew)))
	})
}
