package authserver

import (
	"github.com/hardened-oauth/hardened/internal/jose"

	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// rfcVectors are spec examples copied into testdata/rfc-vectors.json; each
// member names its RFC section.
type rfcVectors struct {
	TokenProof struct {
		Compact string `json:"compact"`
		HTU     string `json:"htu"`
		IAT     int64  `json:"iat"`
		JKT     string `json:"jkt"`
	} `json:"rfc9449_section_4_1_token_request_proof"`
	ResourceProof struct {
		Compact     string `json:"compact"`
		HTU         string `json:"htu"`
		IAT         int64  `json:"iat"`
		AccessToken string `json:"access_token"`
	} `json:"rfc9449_section_7_1_resource_proof"`
	RequestObject struct {
		Compact  string          `json:"compact"`
		JWK      json.RawMessage `json:"jwk"`
		ClientID string          `json:"client_id"`
		Issuer   string          `json:"issuer"`
	} `json:"rfc9101_section_4_request_object"`
	PAR struct {
		ClientAssertion string          `json:"client_assertion"`
		Request         string          `json:"request"`
		ClientID        string          `json:"client_id"`
		JWK             json.RawMessage `json:"jwk"`
	} `json:"rfc9126_section_3_par_request"`
	AuthorizationRequest struct {
		Query string `json:"query"`
	} `json:"rfc9126_section_4_authorization_request"`
	Basic struct {
		Authorization string `json:"authorization"`
		ClientID      string `json:"client_id"`
		ClientSecret  string `json:"client_secret"`
	} `json:"rfc7662_section_2_1_basic"`
	AuthorizationDetails struct {
		JSON string `json:"json"`
	} `json:"rfc9396_section_2_authorization_details"`
	ResourceRequest struct {
		Query string `json:"query"`
	} `json:"rfc8707_section_2_1_authorization_request"`
	OIDCHashes struct {
		AccessToken string `json:"access_token"`
		ATHash      string `json:"at_hash"`
		Code        string `json:"code"`
		CHash       string `json:"c_hash"`
	} `json:"oidc_core_appendix_a_hashes"`
}

func loadVectors(tb testing.TB) rfcVectors {
	tb.Helper()
	raw, err := os.ReadFile("testdata/rfc-vectors.json")
	require.NoError(tb, err)
	var v rfcVectors
	require.NoError(tb, json.Unmarshal(raw, &v))
	return v
}

// rfcServer is a server for https://server.example.com whose client
// s6BhdRkqt3 has the RSA keys of RFC 9101 §4 and RFC 9126 §3.
func rfcServer(tb testing.TB, issuer string, now time.Time) *Server {
	tb.Helper()
	v := loadVectors(tb)
	jwks := []byte(`{"keys":[` + string(v.RequestObject.JWK) + `,` + string(v.PAR.JWK) + `]}`)
	s, err := New(Config{
		Issuer:     issuer,
		Now:        func() time.Time { return now },
		MaxEntries: 64,
		Clients: []Client{{ID: v.PAR.ClientID, AuthMethod: AuthPrivateKeyJWT, JWKS: jwks,
			RedirectURIs: []string{"https://client.example.org/cb"}, RequireSignedRequestObject: true}},
	})
	require.NoError(tb, err)
	return s
}

func requireCode(t *testing.T, e *oautherr.Error, code string) {
	t.Helper()
	require.NotNil(t, e)
	require.ErrorIs(t, e, &oautherr.Error{Code: code})
}

// TestRFC9449Proofs accepts the RFC's own proofs at their time and URIs,
// and rejects their replay and a wrong access token.
func TestRFC9449Proofs(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	tp := v.TokenProof
	s := rfcServer(t, "https://server.example.com", time.Unix(tp.IAT, 0))
	req := httptest.NewRequest(http.MethodPost, tp.HTU, nil)
	req.Header.Set("DPoP", tp.Compact)
	p, e := s.verifyDPoP(req, s.asSite(), "")
	require.Nil(t, e)
	require.Equal(t, tp.JKT, p.jkt)
	_, e = s.verifyDPoP(req, s.asSite(), "")
	requireCode(t, e, codeInvalidDPoPProof) // jti replayed

	rp := v.ResourceProof
	rs := rfcServer(t, "https://resource.example.org", time.Unix(rp.IAT, 0))
	req = httptest.NewRequest(http.MethodGet, rp.HTU, nil)
	req.Header.Set("DPoP", rp.Compact)
	_, e = rs.verifyDPoP(req, rs.rsSite(), "another token")
	requireCode(t, e, codeInvalidDPoPProof) // ath does not match
	p, e = rs.verifyDPoP(req, rs.rsSite(), rp.AccessToken)
	require.Nil(t, e)
	require.Equal(t, tp.JKT, p.jkt)

	late := rfcServer(t, "https://server.example.com", time.Unix(tp.IAT, 0).Add(time.Hour))
	req = httptest.NewRequest(http.MethodPost, tp.HTU, nil)
	req.Header.Set("DPoP", tp.Compact)
	_, e = late.verifyDPoP(req, late.asSite(), "")
	requireCode(t, e, codeInvalidDPoPProof) // iat outside the window
}

// TestRFCExamplesUseRS256 shows that the RS256 examples of RFC 9101 §4 and
// RFC 9126 §3 are refused: FAPI 2.0 allows ES256, PS256 and EdDSA only.
func TestRFCExamplesUseRS256(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	s := rfcServer(t, "https://server.example.com", time.Unix(1625869677-30, 0))
	c := s.clients[v.PAR.ClientID]
	_, e := s.verifyRequestObject(context.Background(), c, v.RequestObject.Compact, v.RequestObject.ClientID)
	requireCode(t, e, codeInvalidRequestObject)
	_, e = s.verifyRequestObject(context.Background(), c, v.PAR.Request, v.PAR.ClientID)
	requireCode(t, e, codeInvalidRequestObject)

	form := url.Values{"client_assertion_type": {assertionTypeJWT}, "client_assertion": {v.PAR.ClientAssertion},
		"request": {v.PAR.Request}, "client_id": {v.PAR.ClientID}}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "https://server.example.com/par", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.ServeHTTP(rec, req)
	oe, err := oautherr.Parse(rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
	require.NoError(t, err)
	require.ErrorIs(t, oe, &oautherr.Error{Code: codeInvalidClient, Status: http.StatusUnauthorized})

	// RFC 9126 §4: the request_uri was never pushed here.
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://server.example.com/authorize?"+v.AuthorizationRequest.Query, nil))
	oe, err = oautherr.Parse(rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
	require.NoError(t, err)
	require.ErrorIs(t, oe, &oautherr.Error{Code: codeInvalidRequestURI, Status: http.StatusBadRequest})
}

// TestRFC7662Basic decodes the Basic credentials of RFC 7662 §2.1.
func TestRFC7662Basic(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	id, secret, ok, e := basicCredentials(http.Header{"Authorization": {v.Basic.Authorization}})
	require.Nil(t, e)
	require.True(t, ok)
	require.Equal(t, v.Basic.ClientID, id)
	require.Equal(t, v.Basic.ClientSecret, secret)
}

// TestOIDCHashes computes the at_hash and c_hash of OpenID Connect Core
// Appendix A, and checks the hash function chosen for each algorithm.
func TestOIDCHashes(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).OIDCHashes
	for _, alg := range []string{"RS256", "ES256", "PS256", "HS256", "none"} {
		require.Equal(t, v.ATHash, jose.HalfHash(alg, v.AccessToken), alg)
		require.Equal(t, v.CHash, jose.HalfHash(alg, v.Code), alg)
	}
	for _, tt := range []struct {
		alg  string
		size int // bytes of the half hash
	}{{"ES384", 24}, {"PS384", 24}, {"ES512", 32}, {"EdDSA", 32}} {
		raw, err := b64.DecodeString(jose.HalfHash(tt.alg, v.AccessToken))
		require.NoError(t, err)
		require.Len(t, raw, tt.size, tt.alg)
	}
}

// TestRFC9396Example accepts the authorization_details of RFC 9396 §2 and
// returns them compact, and enforces a client's type list.
func TestRFC9396Example(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).AuthorizationDetails
	anyType := &client{}
	got, e := parseDetails(anyType, []byte(v.JSON))
	require.Nil(t, e)
	require.JSONEq(t, v.JSON, string(got))
	restricted := &client{Client: Client{AuthorizationDetailsTypes: []string{"account_information"}}}
	_, e = parseDetails(restricted, []byte(v.JSON))
	requireCode(t, e, codeInvalidDetails) // payment_initiation is not allowed
	both := &client{Client: Client{AuthorizationDetailsTypes: []string{"account_information", "payment_initiation"}}}
	_, e = parseDetails(both, []byte(v.JSON))
	require.Nil(t, e)
	narrowed, e := narrowDetails(got, []byte(`[{"locations":["https://example.com/accounts"],"type":"account_information",`+
		`"actions":["list_accounts","read_balances","read_transactions"]}]`))
	require.Nil(t, e, "member order does not matter")
	require.Contains(t, string(narrowed), "account_information")
	_, e = narrowDetails(got, []byte(`[{"type":"account_information","actions":["list_accounts"]}]`))
	requireCode(t, e, codeInvalidDetails)
}

// TestRFC8707Example reads the two resource parameters of RFC 8707 §2.1.
func TestRFC8707Example(t *testing.T) {
	t.Parallel()
	v := loadVectors(t).ResourceRequest
	q, err := url.ParseQuery(v.Query)
	require.NoError(t, err)
	require.Nil(t, noRepeats(q, repeatable...))
	got, e := (&Server{}).checkResources(&client{}, q["resource"])
	require.Nil(t, e)
	require.Equal(t, []string{"https://cal.example.com/", "https://contacts.example.com/"}, got)
	q.Add("state", "again")
	requireCode(t, noRepeats(q, repeatable...), codeInvalidRequest)
}

func TestNormalizeHTU(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "https://server.example.com/token", "https://server.example.com/token", true},
		{"case", "HTTPS://Server.Example.COM/token", "https://server.example.com/token", true},
		{"default port", "https://server.example.com:443/token", "https://server.example.com/token", true},
		{"http default port", "http://h:80/t", "http://h/t", true},
		{"other port", "https://h:8443/t", "https://h:8443/t", true},
		{"empty path", "https://h", "https://h/", true},
		{"IPv6", "https://[::1]:443/t", "https://[::1]/t", true},
		{"query", "https://h/t?x=1", "", false},
		{"empty query", "https://h/t?", "", false},
		{"fragment", "https://h/t#f", "", false},
		{"relative", "/token", "", false},
		{"userinfo", "https://u@h/t", "", false},
		{"scheme", "ftp://h/t", "", false},
		{"no host name", "http://:", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := normalizeHTU(tt.in)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestStoreEviction(t *testing.T) {
	t.Parallel()
	now := time.Unix(1000, 0)
	s := newStore[int](2)
	s.put("a", 1, now.Add(time.Minute), now)
	s.put("b", 2, now.Add(2*time.Minute), now)
	s.put("c", 3, now.Add(3*time.Minute), now)
	_, ok := s.get("a", now)
	require.False(t, ok, "the entry closest to expiry is evicted")
	require.Equal(t, 2, s.len())
	later := now.Add(150 * time.Second)
	s.put("d", 4, later.Add(time.Minute), later)
	_, ok = s.get("c", later)
	require.True(t, ok, "expired entries go first")
	require.False(t, s.add("c", 9, later.Add(time.Hour), later))
	v, _ := s.get("c", later)
	require.Equal(t, 3, v)
}
