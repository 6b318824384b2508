package authserver_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// idExpect is what a client knows when it validates an ID token.
type idExpect struct {
	issuer      string
	clientID    string
	trusted     []string // audiences trusted beside the client
	secret      string   // HS256 key (only to show an HMAC verifies)
	nonce       string   // sent in the authorization request, or ""
	accessToken string
	code        string // "" for a refresh ID token
	keys        []*jose.JWK
	now         time.Time
	algs        []string // the client's allow-list; nil means ES256, PS256, EdDSA
}

// idTokenDefects validates an ID token as OpenID Connect Core §3.1.3.7 and
// FAPI 2.0 ask and returns the name of every check that fails, so that a
// test can show a token has exactly one defect. Unlike a client it reads
// alg "none" and HS256 tokens through, to name their other defects too.
func idTokenDefects(t *testing.T, tok string, x idExpect) []string {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3, "compact JWS")
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &h))
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(payload, &c))
	var defects []string
	add := func(d string) { defects = append(defects, d) }

	algs := x.algs
	if algs == nil {
		algs = jose.DefaultAlgorithms
	}
	if !slices.Contains(algs, h.Alg) {
		add("alg")
	}
	switch h.Alg {
	case "none":
		if parts[2] != "" {
			add("signature")
		}
	case "HS256":
		m := hmac.New(sha256.New, []byte(x.secret))
		m.Write([]byte(parts[0] + "." + parts[1]))
		if parts[2] != base64.RawURLEncoding.EncodeToString(m.Sum(nil)) {
			add("signature")
		}
	default:
		j, err := jose.ParseCompact(tok)
		if err == nil {
			_, err = j.VerifyWith(context.Background(), jose.StaticKeys(x.keys), []string{h.Alg})
		}
		if err != nil || h.Kid == "" {
			add("signature")
		}
	}
	str := func(name string) (string, bool) {
		v, ok := c[name]
		if !ok {
			return "", false
		}
		s, _ := v.(string)
		return s, true
	}
	num := func(name string) (time.Time, bool) {
		v, ok := c[name].(float64)
		return time.Unix(int64(v), 0), ok
	}
	if iss, ok := str("iss"); !ok {
		add("iss-missing")
	} else if iss != x.issuer {
		add("iss")
	}
	if sub, _ := str("sub"); sub == "" {
		add("sub-missing")
	}
	var aud []string
	switch v := c["aud"].(type) {
	case string:
		aud = []string{v}
	case []any:
		for _, a := range v {
			s, _ := a.(string)
			aud = append(aud, s)
		}
	}
	azp, hasAZP := str("azp")
	switch {
	case c["aud"] == nil:
		add("aud-missing")
	case !slices.Contains(aud, x.clientID):
		add("aud")
	default:
		untrusted := false
		for _, a := range aud {
			if a != x.clientID && !slices.Contains(x.trusted, a) {
				untrusted = true
			}
		}
		switch {
		case untrusted:
			add("aud-untrusted")
		case len(aud) > 1 && !hasAZP:
			add("azp-missing")
		}
	}
	if hasAZP && azp != x.clientID {
		add("azp")
	}
	const skew = 10 * time.Second
	if exp, ok := num("exp"); !ok {
		add("exp-missing")
	} else if !x.now.Before(exp.Add(skew)) {
		add("exp")
	}
	if iat, ok := num("iat"); !ok {
		add("iat-missing")
	} else if iat.After(x.now.Add(skew)) {
		add("iat-future")
	}
	if at, ok := num("auth_time"); !ok {
		add("auth_time-missing")
	} else if at.After(x.now.Add(skew)) {
		add("auth_time-future")
	}
	nonce, hasNonce := str("nonce")
	switch {
	case x.code != "" && x.nonce != "" && !hasNonce:
		add("nonce-missing")
	case hasNonce && nonce != x.nonce:
		add("nonce")
	}
	if ah, ok := str("at_hash"); !ok {
		add("at_hash-missing")
	} else if ah != testHalfHash(h.Alg, x.accessToken) {
		add("at_hash")
	}
	if ch, ok := str("c_hash"); ok && (x.code == "" || ch != testHalfHash(h.Alg, x.code)) {
		add("c_hash")
	}
	return defects
}

// testHalfHash is at_hash / c_hash computed independently of the server.
func testHalfHash(alg, v string) string {
	var sum []byte
	switch alg {
	case "ES384", "PS384", "RS384":
		s := sha512.Sum384([]byte(v))
		sum = s[:]
	case "ES512", "PS512", "RS512", "EdDSA":
		s := sha512.Sum512([]byte(v))
		sum = s[:]
	default:
		s := sha256.Sum256([]byte(v))
		sum = s[:]
	}
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// oidcFlow runs a direct authorization request of the basic client with
// the given scope and nonce, redeems the code and returns the token
// response and what a client expects of its ID token.
func (e *env) oidcFlow(scope, nonce string) (map[string]any, idExpect) {
	e.t.Helper()
	verifier, challenge := pkce()
	cb, err := e.authorize(directParams(basicID, challenge, func(v url.Values) {
		v.Set("scope", scope)
		if nonce != "" {
			v.Set("nonce", nonce)
		}
	}))
	require.NoError(e.t, err)
	code := cb.Params().Get("code")
	require.NotEmpty(e.t, code, "error: %s", cb.Params().Get("error_description"))
	r := e.exchange(nil, basicID, code, verifier, basicAuth(basicID, basicSecret))
	require.Equal(e.t, http.StatusOK, r.status, "body: %s", r.body)
	tok := decodeJSON(e.t, r)
	return tok, idExpect{
		issuer: e.srv.Issuer(), clientID: basicID, secret: basicSecret, nonce: nonce,
		accessToken: tok["access_token"].(string), code: code, keys: e.serverKeys(), now: e.clock.Now(),
	}
}

// refresh redeems a refresh token of the basic client.
func (e *env) refresh(rt string, extra url.Values) httpResult {
	e.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for k, v := range extra {
		form[k] = v
	}
	return e.post(nil, e.srv.Endpoints().Token, form, basicAuth(basicID, basicSecret))
}

// TestIDToken checks the ID tokens of the code and refresh grants (OpenID
// Connect Core §2, §3.1.3.3, §3.1.3.6, §12.2).
func TestIDToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)

	t.Run("code grant", func(t *testing.T) {
		tok, x := e.oidcFlow("openid profile", "n-0S6_WzA2Mj")
		idt, ok := tok["id_token"].(string)
		require.True(t, ok, "an id_token for scope openid")
		require.Empty(t, idTokenDefects(t, idt, x))
		j, c := e.verifyServerJWT(idt)
		require.Equal(t, e.srv.KeyID(), j.Header.Kid)
		require.Equal(t, "ES256", j.Header.Alg)
		require.Equal(t, basicID, c["aud"], "one audience, as a string")
		require.NotContains(t, c, "azp")
		require.Equal(t, "test-user", c["sub"])
		require.Equal(t, "n-0S6_WzA2Mj", c["nonce"])
		now := float64(e.clock.Now().Unix())
		require.InDelta(t, now, c["iat"], 1)
		require.InDelta(t, now+300, c["exp"], 1)
		require.InDelta(t, now, c["auth_time"], 1)
		sum := sha256.Sum256([]byte(tok["access_token"].(string)))
		require.Equal(t, b64(sum[:16]), c["at_hash"])
		sum = sha256.Sum256([]byte(x.code))
		require.Equal(t, b64(sum[:16]), c["c_hash"])
	})
	t.Run("no nonce requested, none given", func(t *testing.T) {
		tok, x := e.oidcFlow("openid", "")
		_, c := e.verifyServerJWT(tok["id_token"].(string))
		require.NotContains(t, c, "nonce")
		require.Empty(t, idTokenDefects(t, tok["id_token"].(string), x))
	})
	t.Run("no openid, no ID token", func(t *testing.T) {
		tok, _ := e.oidcFlow("profile", "n")
		require.NotContains(t, tok, "id_token")
	})
	t.Run("refresh: new iat and at_hash, the original auth_time, no nonce", func(t *testing.T) {
		e := newEnv(t, nil)
		tok, x := e.oidcFlow("openid", "n-1")
		_, first := e.verifyServerJWT(tok["id_token"].(string))
		e.clock.Advance(time.Minute)
		r := e.refresh(tok["refresh_token"].(string), nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		tok2 := decodeJSON(t, r)
		idt := tok2["id_token"].(string)
		x.code, x.accessToken, x.now = "", tok2["access_token"].(string), e.clock.Now()
		require.Empty(t, idTokenDefects(t, idt, x))
		_, c := e.verifyServerJWT(idt)
		require.NotContains(t, c, "nonce")
		require.NotContains(t, c, "c_hash")
		require.Equal(t, first["auth_time"], c["auth_time"])
		require.Equal(t, first["sub"], c["sub"])
		require.InDelta(t, float64(e.clock.Now().Unix()), c["iat"], 1)
	})
	t.Run("refresh without openid in the grant", func(t *testing.T) {
		tok, _ := e.oidcFlow("profile", "")
		r := e.refresh(tok["refresh_token"].(string), nil)
		require.Equal(t, http.StatusOK, r.status)
		require.NotContains(t, decodeJSON(t, r), "id_token")
	})
	t.Run("nonce from a request object and a pushed request", func(t *testing.T) {
		verifier, challenge := pkce()
		ro := e.roClaims(jwtID, challenge)
		ro["nonce"] = "ro-nonce"
		code, _ := e.code(jwtID, ro, nil)
		r := e.exchange(nil, jwtID, code, verifier, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		_, c := e.verifyServerJWT(decodeJSON(t, r)["id_token"].(string))
		require.Equal(t, "ro-nonce", c["nonce"])
		require.Equal(t, jwtID, c["aud"])

		verifier, challenge = pkce()
		uri := e.push(nil, url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "scope": {"openid"},
			"nonce": {"par-nonce"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}, basicAuth(basicID, basicSecret))
		cb, err := e.authorize(url.Values{"client_id": {basicID}, "request_uri": {uri}})
		require.NoError(t, err)
		r = e.exchange(nil, basicID, cb.Params().Get("code"), verifier, basicAuth(basicID, basicSecret))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		_, c = e.verifyServerJWT(decodeJSON(t, r)["id_token"].(string))
		require.Equal(t, "par-nonce", c["nonce"])
	})
	t.Run("malformed nonce", func(t *testing.T) {
		_, challenge := pkce()
		for _, n := range []string{"", strings.Repeat("n", 2049)} {
			cb, err := e.authorize(directParams(basicID, challenge, func(v url.Values) { v.Set("nonce", n) }))
			require.NoError(t, err)
			require.Equal(t, "invalid_request", cb.Params().Get("error"))
		}
	})
	t.Run("malformed max_age", func(t *testing.T) {
		_, challenge := pkce()
		for _, ma := range []string{"-1", "1.5", "x", "01"} {
			cb, err := e.authorize(directParams(basicID, challenge, func(v url.Values) { v.Set("max_age", ma) }))
			require.NoError(t, err)
			require.Equal(t, "invalid_request", cb.Params().Get("error"), ma)
		}
	})
	t.Run("client_credentials refuses openid", func(t *testing.T) {
		r := e.post(nil, e.srv.Endpoints().Token, url.Values{"grant_type": {"client_credentials"}, "scope": {"openid read"}},
			basicAuth(basicID, basicSecret))
		requireOAuthError(t, r, 400, "invalid_scope")
	})
}

// TestIDTokenAudiencesAndKeys covers azp with several audiences and the
// algorithm (and at_hash function) of each signing key type.
func TestIDTokenAudiencesAndKeys(t *testing.T) {
	t.Parallel()
	t.Run("extra audiences bring azp", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *authserver.Config) {
			for i := range c.Clients {
				if c.Clients[i].ID == basicID {
					c.Clients[i].IDTokenAudiences = []string{"https://partner.example"}
				}
			}
		})
		tok, x := e.oidcFlow("openid", "n")
		_, c := e.verifyServerJWT(tok["id_token"].(string))
		require.Equal(t, []any{basicID, "https://partner.example"}, c["aud"])
		require.Equal(t, basicID, c["azp"])
		x.trusted = []string{"https://partner.example"}
		require.Empty(t, idTokenDefects(t, tok["id_token"].(string), x))
		x.trusted = nil
		require.Equal(t, []string{"aud-untrusted"}, idTokenDefects(t, tok["id_token"].(string), x),
			"a client that does not trust the partner refuses it")
	})
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		key  crypto.Signer
		alg  string
	}{
		{"Ed25519", edKey, "EdDSA"},
		{"P-384", p384, "ES384"},
		{"RSA", rsaKey(), "PS256"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *authserver.Config) { c.SigningKey = tt.key })
			tok, x := e.oidcFlow("openid", "n")
			idt := tok["id_token"].(string)
			x.algs = []string{tt.alg} // ES384 is outside the FAPI 2.0 list
			require.Empty(t, idTokenDefects(t, idt, x))
			j, err := jose.ParseCompact(idt)
			require.NoError(t, err)
			require.Equal(t, tt.alg, j.Header.Alg)
			var c map[string]any
			require.NoError(t, json.Unmarshal(j.Payload, &c))
			require.Equal(t, testHalfHash(tt.alg, x.accessToken), c["at_hash"])
			require.Equal(t, []any{tt.alg}, e.metadata("/.well-known/openid-configuration")["id_token_signing_alg_values_supported"])
		})
	}
}

// TestIDTokenMisbehave shows that each ID token switch produces its one
// defect, in the code grant's ID token and in the refresh one, and nothing
// else.
func TestIDTokenMisbehave(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		set     func(*authserver.Misbehave)
		code    []string // defects of the code grant's ID token
		refresh []string // defects of the refresh ID token
		alg     string   // the header alg, when not ES256
	}{
		{"correct", func(*authserver.Misbehave) {}, nil, nil, ""},
		{"IDTokenWrongIssuer", func(m *authserver.Misbehave) { m.IDTokenWrongIssuer = true }, []string{"iss"}, []string{"iss"}, ""},
		{"IDTokenOmitIssuer", func(m *authserver.Misbehave) { m.IDTokenOmitIssuer = true }, []string{"iss-missing"}, []string{"iss-missing"}, ""},
		{"IDTokenWrongAudience", func(m *authserver.Misbehave) { m.IDTokenWrongAudience = true }, []string{"aud"}, []string{"aud"}, ""},
		{"IDTokenOmitAudience", func(m *authserver.Misbehave) { m.IDTokenOmitAudience = true }, []string{"aud-missing"}, []string{"aud-missing"}, ""},
		{"IDTokenUntrustedAudience", func(m *authserver.Misbehave) { m.IDTokenUntrustedAudience = true }, []string{"aud-untrusted"}, []string{"aud-untrusted"}, ""},
		{"IDTokenWrongAZP", func(m *authserver.Misbehave) { m.IDTokenWrongAZP = true }, []string{"azp"}, []string{"azp"}, ""},
		{"IDTokenExpired", func(m *authserver.Misbehave) { m.IDTokenExpired = true }, []string{"exp"}, []string{"exp"}, ""},
		{"IDTokenOmitExpiry", func(m *authserver.Misbehave) { m.IDTokenOmitExpiry = true }, []string{"exp-missing"}, []string{"exp-missing"}, ""},
		{"IDTokenIssuedInFuture", func(m *authserver.Misbehave) { m.IDTokenIssuedInFuture = true }, []string{"iat-future"}, []string{"iat-future"}, ""},
		{"IDTokenWrongNonce", func(m *authserver.Misbehave) { m.IDTokenWrongNonce = true }, []string{"nonce"}, []string{"nonce"}, ""},
		{"IDTokenOmitNonce", func(m *authserver.Misbehave) { m.IDTokenOmitNonce = true }, []string{"nonce-missing"}, nil, ""},
		{"IDTokenAlgNone", func(m *authserver.Misbehave) { m.IDTokenAlgNone = true }, []string{"alg"}, []string{"alg"}, "none"},
		{"IDTokenRS256", func(m *authserver.Misbehave) { m.IDTokenRS256 = true }, []string{"alg"}, []string{"alg"}, "RS256"},
		{"IDTokenForeignKey", func(m *authserver.Misbehave) { m.IDTokenForeignKey = true }, []string{"signature"}, []string{"signature"}, ""},
		{"IDTokenHS256", func(m *authserver.Misbehave) { m.IDTokenHS256 = true }, []string{"alg"}, []string{"alg"}, "HS256"},
		{"IDTokenWrongATHash", func(m *authserver.Misbehave) { m.IDTokenWrongATHash = true }, []string{"at_hash"}, []string{"at_hash"}, ""},
		{"IDTokenWrongCHash", func(m *authserver.Misbehave) { m.IDTokenWrongCHash = true }, []string{"c_hash"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := misbehaving(t, tt.set)
			tok, x := e.oidcFlow("openid", "n-"+randomID())
			idt := tok["id_token"].(string)
			require.Equal(t, tt.code, idTokenDefects(t, idt, x), "code grant")
			alg := tt.alg
			if alg == "" {
				alg = "ES256"
			}
			var h struct {
				Alg string `json:"alg"`
				Kid string `json:"kid"`
			}
			raw, err := base64.RawURLEncoding.DecodeString(strings.Split(idt, ".")[0])
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(raw, &h))
			require.Equal(t, alg, h.Alg)
			if tt.name == "IDTokenForeignKey" {
				require.Equal(t, e.srv.KeyID(), h.Kid, "same kid, another key")
			}

			r := e.refresh(tok["refresh_token"].(string), nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			tok2 := decodeJSON(t, r)
			x.code, x.accessToken = "", tok2["access_token"].(string)
			require.Equal(t, tt.refresh, idTokenDefects(t, tok2["id_token"].(string), x), "refresh")
		})
	}
}
