package par_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/par"
)

// rfc9126 is testdata/rfc9126-par.json: values of RFC 9126 §1.1, §2.1,
// §2.2, §2.3, §3 and §4.
type rfc9126 struct {
	Responses []struct {
		Section     string          `json:"section"`
		Status      int             `json:"status"`
		ContentType string          `json:"content_type"`
		JSON        json.RawMessage `json:"json"`
	} `json:"responses"`
	PARRequest struct {
		Body            string `json:"body"`
		ClientAssertion string `json:"client_assertion"`
	} `json:"par_request"`
	WithRequestObject struct {
		Body          string         `json:"body"`
		RequestObject string         `json:"request_object"`
		Claims        map[string]any `json:"request_object_claims"`
	} `json:"par_request_with_request_object"`
	PublicJWK struct {
		JWK json.RawMessage `json:"jwk"`
	} `json:"public_jwk"`
	AuthorizationRequest struct {
		Endpoint    string `json:"endpoint"`
		ClientID    string `json:"client_id"`
		RequestLine string `json:"request_line"`
	} `json:"authorization_request"`
}

func loadRFC9126(t *testing.T) *rfc9126 {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc9126-par.json")
	require.NoError(t, err)
	var v rfc9126
	require.NoError(t, json.Unmarshal(b, &v))
	return &v
}

// rfcConfig returns a Config whose client's transport authenticates with
// the published client_assertion of RFC 9126 §2.1 (a fixed value, so only
// for one attempt).
func rfcConfig(t *testing.T, srv *parServer, assertion string) *par.Config {
	t.Helper()
	c, auth, _ := srv.authConfig(t, false)
	auth.static = assertion
	return c
}

// rfcEndpoint answers like the RFC 9126 example server: it verifies the
// client assertion and any request object with the §3 public key (RS256,
// listed explicitly) and answers with the §2.2 response.
func rfcEndpoint(t *testing.T, v *rfc9126) http.HandlerFunc {
	k, err := jose.ParseJWK(v.PublicJWK.JWK)
	require.NoError(t, err)
	verify := func(tok string) bool {
		j, err := jose.ParseCompact(tok)
		return err == nil && j.Verify(k.Key, []string{jose.RS256}) == nil
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if !verify(r.PostForm.Get("client_assertion")) {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "")
			return
		}
		if ro := r.PostForm.Get("request"); ro != "" && !verify(ro) {
			oauthError(w, http.StatusBadRequest, "invalid_request_object", "")
			return
		}
		writeJSON(w, http.StatusCreated, string(v.Responses[0].JSON))
	}
}

// TestRFC9126Push pushes the §2.1 request with its published assertion.
func TestRFC9126Push(t *testing.T) {
	t.Parallel()
	v := loadRFC9126(t)
	want, err := url.ParseQuery(v.PARRequest.Body)
	require.NoError(t, err)
	params := url.Values{}
	for k, vals := range want {
		if !strings.HasPrefix(k, "client_assertion") {
			params[k] = vals
		}
	}
	srv := newPARServer(t, rfcEndpoint(t, v))
	resp, err := rfcConfig(t, srv, v.PARRequest.ClientAssertion).Push(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c", resp.RequestURI)
	require.Equal(t, want, srv.seen()[0].form, "the body is the RFC's, up to parameter order")

	// RFC 9126 §4: the authorization request.
	u := par.AuthCodeURL(v.AuthorizationRequest.Endpoint, v.AuthorizationRequest.ClientID, resp)
	target := strings.Fields(v.AuthorizationRequest.RequestLine)[1]
	require.Equal(t, "https://as.example.com"+target, u)
}

// TestRFC9126PushRequestObject pushes the §3 request object.
func TestRFC9126PushRequestObject(t *testing.T) {
	t.Parallel()
	v := loadRFC9126(t)
	srv := newPARServer(t, rfcEndpoint(t, v))
	resp, err := rfcConfig(t, srv, v.PARRequest.ClientAssertion).PushRequestObject(t.Context(), v.WithRequestObject.RequestObject)
	require.NoError(t, err)
	require.Equal(t, "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c", resp.RequestURI)
	want, err := url.ParseQuery(v.WithRequestObject.Body)
	require.NoError(t, err)
	require.Equal(t, want, srv.seen()[0].form, "client_id, request and the assertion only, as in §3")

	// A tampered request object is refused by the endpoint, as *par.Error.
	bad := []byte(v.WithRequestObject.RequestObject)
	bad[len(bad)-3] ^= 'A' ^ 'B'
	_, err = rfcConfig(t, srv, v.PARRequest.ClientAssertion).PushRequestObject(t.Context(), string(bad))
	var pe *par.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "invalid_request_object", pe.Code)
}

func TestAuthCodeURLKeepsQuery(t *testing.T) {
	t.Parallel()
	resp := &par.Response{RequestURI: "urn:example:abc"}
	require.Equal(t, "https://as.example.com/authorize?tenant=x&client_id=c1&request_uri=urn%3Aexample%3Aabc",
		par.AuthCodeURL("https://as.example.com/authorize?tenant=x", "c1", resp))
	require.Equal(t, url.Values{"client_id": {"c1"}, "request_uri": {"urn:example:abc"}}, par.AuthCodeValues("c1", resp))
}
