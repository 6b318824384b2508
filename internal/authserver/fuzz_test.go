package authserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// fuzzServer is the RFC server plus an EC-keyed client, so that seeds can
// reach the checks behind the signature.
func fuzzServer(tb testing.TB) (*Server, *ecdsa.PrivateKey, time.Time) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(tb, err)
	now := time.Unix(1700000000, 0)
	v := loadVectors(tb)
	s, err := New(Config{
		Issuer:     "https://server.example.com",
		Now:        func() time.Time { return now },
		MaxEntries: 64,
		DPoPNonce:  NonceOptional,
		Clients: []Client{
			{ID: v.PAR.ClientID, AuthMethod: AuthPrivateKeyJWT, JWKS: []byte(`{"keys":[` + string(v.PAR.JWK) + `]}`),
				RedirectURIs: []string{"https://client.example.org/cb"}, RequireSignedRequestObject: true},
			{ID: "ec", AuthMethod: AuthPrivateKeyJWT, Keys: []crypto.PublicKey{key.Public()}, RedirectURIs: []string{"https://client.example.org/cb"}},
		},
	})
	require.NoError(tb, err)
	return s, key, now
}

func signSeed(tb testing.TB, key *ecdsa.PrivateKey, opts jose.SignerOptions, claims any) string {
	tb.Helper()
	s, err := jose.NewSigner(key, opts)
	require.NoError(tb, err)
	out, err := s.SignJSON(claims)
	require.NoError(tb, err)
	return out
}

// FuzzRequestObject feeds request objects to the JAR verifier: it must
// never panic, and anything but a valid object is invalid_request_object.
func FuzzRequestObject(f *testing.F) {
	v := loadVectors(f)
	s, key, now := fuzzServer(f)
	f.Add(v.RequestObject.Compact) // RFC 9101 §4
	f.Add(v.PAR.Request)           // RFC 9126 §3
	f.Add(signSeed(f, key, jose.SignerOptions{Type: typRequestObject}, map[string]any{
		"iss": "ec", "aud": "https://server.example.com", "client_id": "ec", "jti": "j1",
		"nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(), "response_type": "code", "max_age": 3, "claims": map[string]any{},
	}))
	// RFC 8707 resource (string, array) and RFC 9396 authorization_details
	// (an array, and the string form a request object must not use).
	for i, extra := range []map[string]any{
		{"resource": "https://api.example.com/", "nonce": "n-0S6_WzA2Mj"},
		{"resource": []any{"https://cal.example.com/", "https://contacts.example.com/"}},
		{"resource": []any{1}},
		{"authorization_details": []any{map[string]any{"type": "account_information", "actions": []any{"list_accounts"}}}},
		{"authorization_details": v.AuthorizationDetails.JSON},
	} {
		claims := map[string]any{"iss": "ec", "aud": "https://server.example.com", "client_id": "ec", "jti": "r" + strconv.Itoa(i),
			"nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(), "response_type": "code"}
		for k, x := range extra {
			claims[k] = x
		}
		f.Add(signSeed(f, key, jose.SignerOptions{Type: typRequestObject}, claims))
	}
	f.Add("a.b.c.d.e")
	f.Fuzz(func(t *testing.T, raw string) {
		params, e := s.verifyRequestObject(context.Background(), s.clients["ec"], raw, "")
		if e == nil {
			require.Equal(t, "ec", params.Get("client_id"))
			return
		}
		require.Contains(t, []string{codeInvalidRequestObject, codeInvalidTarget, codeInvalidDetails}, e.Code)
	})
}

// FuzzDPoPProof feeds DPoP header values to the proof verifier.
func FuzzDPoPProof(f *testing.F) {
	v := loadVectors(f)
	s, key, now := fuzzServer(f)
	f.Add(v.TokenProof.Compact)    // RFC 9449 §4.1
	f.Add(v.ResourceProof.Compact) // RFC 9449 §7.1
	f.Add(signSeed(f, key, jose.SignerOptions{Type: typDPoP, EmbedJWK: true}, map[string]any{
		"jti": "j1", "htm": "POST", "htu": "https://server.example.com/token", "iat": now.Unix(), "nonce": "n",
	}))
	f.Fuzz(func(t *testing.T, proof string) {
		req := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/token"}, Header: http.Header{"Dpop": {proof}}}
		p, e := s.verifyDPoP(req, s.asSite(), "")
		if e == nil {
			require.NotEmpty(t, p.jkt)
			return
		}
		require.Contains(t, []string{codeInvalidDPoPProof, codeUseDPoPNonce}, e.Code)
	})
}

// FuzzClientAssertion feeds private_key_jwt assertions to client
// authentication.
func FuzzClientAssertion(f *testing.F) {
	v := loadVectors(f)
	s, key, now := fuzzServer(f)
	f.Add(v.PAR.ClientAssertion) // RFC 9126 §3
	f.Add(signSeed(f, key, jose.SignerOptions{}, map[string]any{
		"iss": "ec", "sub": "ec", "aud": "https://server.example.com", "jti": "j1", "exp": now.Add(time.Minute).Unix(),
	}))
	f.Fuzz(func(t *testing.T, assertion string) {
		form := url.Values{"client_assertion_type": {assertionTypeJWT}, "client_assertion": {assertion}}
		req := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/token"}, Header: http.Header{}}
		c, e := s.authenticateClient(req, form)
		if e == nil {
			require.NotNil(t, c)
			return
		}
		require.Contains(t, []string{codeInvalidClient, codeInvalidRequest}, e.Code)
	})
}

// FuzzBasicCredentials feeds Authorization headers to the Basic parser.
func FuzzBasicCredentials(f *testing.F) {
	v := loadVectors(f)
	f.Add(v.Basic.Authorization) // RFC 7662 §2.1
	f.Add("Basic " + "YSUzQWI6YyUyNWQ=")
	f.Add("Basic a b")
	f.Fuzz(func(t *testing.T, h string) {
		_, _, ok, e := basicCredentials(http.Header{"Authorization": {h}})
		if e != nil {
			require.False(t, ok)
			require.Contains(t, []string{codeInvalidClient, codeInvalidRequest}, e.Code)
			return
		}
		require.True(t, ok)
	})
}

// FuzzAuthorize feeds query strings to the authorization endpoint: the
// answer is a redirect, a form_post page or a 400 error, never a panic.
func FuzzAuthorize(f *testing.F) {
	v := loadVectors(f)
	s, _, _ := fuzzServer(f)
	f.Add(v.AuthorizationRequest.Query) // RFC 9126 §4
	plain := "client_id=ec&response_type=code&redirect_uri=https%3A%2F%2Fclient.example.org%2Fcb&code_challenge=" +
		"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=x"
	f.Add(plain + "&response_mode=form_post.jwt")
	f.Add(v.ResourceRequest.Query) // RFC 8707 §2.1
	f.Add(plain + "&scope=openid&nonce=n-0S6_WzA2Mj&max_age=0&resource=https%3A%2F%2Fcal.example.com%2F&resource=https%3A%2F%2Fcontacts.example.com%2F")
	f.Add(plain + "&authorization_details=" + url.QueryEscape(v.AuthorizationDetails.JSON)) // RFC 9396 §2
	f.Add(plain + "&resource=urn%3Ax&authorization_details=%5B%7B%22type%22%3A1%7D%5D&nonce=")
	f.Fuzz(func(t *testing.T, q string) {
		rec := newRecorder()
		s.ServeHTTP(rec, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/authorize", RawQuery: q}, Header: http.Header{}})
		require.Contains(t, []int{http.StatusFound, http.StatusOK, http.StatusBadRequest}, rec.code)
	})
}

// FuzzAuthorizationDetails feeds authorization_details values to their
// parser: it never panics, and what it accepts is a non-empty JSON array of
// objects with a string type, that narrows to itself.
func FuzzAuthorizationDetails(f *testing.F) {
	v := loadVectors(f)
	f.Add(v.AuthorizationDetails.JSON) // RFC 9396 §2
	f.Add(`[{"type":"a","locations":["https://x"],"actions":["r"],"datatypes":[],"identifier":"i","privileges":["p"]}]`)
	f.Add(`[{"type":"a","type":"b"}]`)
	f.Add(`[{"type":"a","x":1e400}]`)
	f.Add(`[]`)
	c := &client{}
	f.Fuzz(func(t *testing.T, raw string) {
		got, e := parseDetails(c, []byte(raw))
		if e != nil {
			require.Equal(t, codeInvalidDetails, e.Code)
			return
		}
		var elems []struct {
			Type string `json:"type"`
		}
		require.NoError(t, json.Unmarshal(got, &elems))
		require.NotEmpty(t, elems)
		for _, el := range elems {
			require.NotEmpty(t, el.Type)
		}
		same, e := narrowDetails(got, got)
		require.Nil(t, e)
		require.Equal(t, got, same)
	})
}

// FuzzResource feeds resource values to the RFC 8707 checks: an accepted
// value is an absolute URI without fragment.
func FuzzResource(f *testing.F) {
	v := loadVectors(f)
	q, err := url.ParseQuery(v.ResourceRequest.Query)
	require.NoError(f, err)
	for _, r := range q["resource"] { // RFC 8707 §2.1
		f.Add(r)
	}
	f.Add("http://[::1]:8080/api")
	f.Add("https://api.example.com/#")
	f.Add("urn:example:api")
	s := &Server{}
	c := &client{}
	f.Fuzz(func(t *testing.T, r string) {
		got, e := s.checkResources(c, []string{r})
		if e != nil {
			require.Equal(t, codeInvalidTarget, e.Code)
			return
		}
		require.Equal(t, []string{r}, got)
		u, err := url.Parse(r)
		require.NoError(t, err)
		require.True(t, u.IsAbs())
		require.Empty(t, u.Fragment)
	})
}

// FuzzNormalizeHTU checks that normalization never panics and is
// idempotent.
func FuzzNormalizeHTU(f *testing.F) {
	v := loadVectors(f)
	f.Add(v.TokenProof.HTU)
	f.Add(v.ResourceProof.HTU)
	f.Add("HTTPS://[::1]:443")
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := normalizeHTU(in)
		if !ok {
			return
		}
		again, ok := normalizeHTU(out)
		require.True(t, ok)
		require.Equal(t, out, again)
	})
}

// recorder is a minimal http.ResponseWriter for fuzzing.
type recorder struct {
	h    http.Header
	code int
	body []byte
}

func newRecorder() *recorder { return &recorder{h: http.Header{}} }

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	r.body = append(r.body, b...)
	return len(b), nil
}
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
