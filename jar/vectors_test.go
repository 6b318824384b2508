package jar_test

import (
	"crypto/rsa"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jar"
)

// rfc9101 is testdata/rfc9101-jar.json: values of RFC 9101 §4, §5.1,
// §5.2.2 and §5.2.3.
type rfc9101 struct {
	RequestObject struct {
		Claims  map[string]any    `json:"claims"`
		Header  map[string]string `json:"header"`
		Compact string            `json:"compact"`
	} `json:"request_object"`
	PublicJWK struct {
		JWK json.RawMessage `json:"jwk"`
	} `json:"public_jwk"`
	ByValue struct {
		Endpoint string `json:"endpoint"`
		ClientID string `json:"client_id"`
		URL      string `json:"url"`
	} `json:"authorization_request_by_value"`
	ByReference struct {
		Endpoint   string `json:"endpoint"`
		ClientID   string `json:"client_id"`
		RequestURI string `json:"request_uri"`
		URL        string `json:"url"`
	} `json:"authorization_request_by_reference"`
	Fetch struct {
		ContentType string `json:"content_type"`
		Body        string `json:"body"`
	} `json:"fetch_response"`
}

func loadRFC9101(t *testing.T) *rfc9101 {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc9101-jar.json")
	require.NoError(t, err)
	var v rfc9101
	require.NoError(t, json.Unmarshal(b, &v))
	return &v
}

// TestRFC9101RequestObject verifies the RFC 9101 §4 request object with its
// published key, through internal/jose (RS256 listed explicitly) and
// through the standard library.
func TestRFC9101RequestObject(t *testing.T) {
	t.Parallel()
	v := loadRFC9101(t)
	k, err := jose.ParseJWK(v.PublicJWK.JWK)
	require.NoError(t, err)
	require.Equal(t, "k2bdc", k.KeyID)

	j, err := jose.ParseCompact(v.RequestObject.Compact)
	require.NoError(t, err)
	require.Equal(t, v.RequestObject.Header["alg"], j.Header.Alg)
	require.Equal(t, v.RequestObject.Header["kid"], j.Header.Kid)
	require.ErrorIs(t, j.Verify(k.Key, jose.DefaultAlgorithms), jose.ErrAlgorithmNotAllowed, "RS256 is not in the default list")
	require.NoError(t, j.Verify(k.Key, []string{jose.RS256}))
	var claims map[string]any
	require.NoError(t, json.Unmarshal(j.Payload, &claims))
	require.Equal(t, v.RequestObject.Claims, claims)

	_, sclaims := stdlibVerify(t, v.RequestObject.Compact, k.Key.(*rsa.PublicKey))
	require.Equal(t, json.Number("86400"), sclaims["max_age"])

	// A tampered payload does not verify.
	tampered := []byte(v.RequestObject.Compact)
	if tampered[60] == 'A' {
		tampered[60] = 'B'
	} else {
		tampered[60] = 'A'
	}
	tj, err := jose.ParseCompact(string(tampered))
	require.NoError(t, err)
	require.ErrorIs(t, tj.Verify(k.Key, []string{jose.RS256}), jose.ErrInvalidSignature)
}

// TestRFC9101SameClaims builds a request object from the parameters of the
// RFC 9101 §4 example and checks that its claims are the example's, with
// the same JSON types, plus the ones this package always adds.
func TestRFC9101SameClaims(t *testing.T) {
	t.Parallel()
	keys(t)
	v := loadRFC9101(t)
	want := v.RequestObject.Claims
	p := url.Values{}
	for name, val := range want {
		switch name {
		case "iss", "aud":
			continue
		case "max_age":
			p.Set(name, strconv.FormatFloat(val.(float64), 'f', -1, 64))
		default:
			p.Set(name, val.(string))
		}
	}
	c := &jar.Config{
		ClientID: want["client_id"].(string), Issuer: want["aud"].(string),
		Key: rsaKey, Algorithm: jose.RS256, Algorithms: []string{jose.RS256}, KeyID: "k2bdc", Now: fixedNow,
	}
	ro, err := c.Build(p)
	require.NoError(t, err)
	j, err := jose.ParseCompact(ro.JWT)
	require.NoError(t, err)
	require.NoError(t, j.Verify(&rsaKey.PublicKey, []string{jose.RS256}))
	require.Equal(t, "RS256", j.Header.Alg)
	require.Equal(t, "k2bdc", j.Header.Kid)
	var got map[string]any
	require.NoError(t, json.Unmarshal(j.Payload, &got))
	for _, extra := range []string{"iat", "nbf", "exp", "jti"} {
		require.Contains(t, got, extra)
		delete(got, extra)
	}
	require.Equal(t, want, got)
}

func TestRFC9101Delivery(t *testing.T) {
	t.Parallel()
	v := loadRFC9101(t)

	byValue := jar.AuthCodeURL(v.ByValue.Endpoint, jar.ByValue(v.ByValue.ClientID, &jar.RequestObject{JWT: v.RequestObject.Compact}))
	require.Equal(t, v.ByValue.URL, byValue)

	byRef := jar.AuthCodeURL(v.ByReference.Endpoint, jar.ByReference(v.ByReference.ClientID, v.ByReference.RequestURI))
	require.Equal(t, v.ByReference.URL, byRef)

	// The fetch response of §5.2.3: same body and media type.
	s := &jar.Server{BaseURL: "https://tfp.example.org/request.jwt/", Now: fixedNow}
	uri, err := s.Publish(&jar.RequestObject{JWT: v.RequestObject.Compact, Expiry: t0.Add(60e9)})
	require.NoError(t, err)
	u, err := url.Parse(uri)
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", u.Path, nil))
	require.Equal(t, 200, rec.Code)
	require.Equal(t, v.Fetch.ContentType, rec.Header().Get("Content-Type"))
	require.Equal(t, v.Fetch.Body, rec.Body.String())
}

func TestAuthCodeURLKeepsQuery(t *testing.T) {
	t.Parallel()
	got := jar.AuthCodeURL("https://as.example.com/authorize?tenant=a", jar.ByReference("c1", "urn:x:1"))
	require.Equal(t, "https://as.example.com/authorize?tenant=a&client_id=c1&request_uri=urn%3Ax%3A1", got)
}
