package jarm_test

import (
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

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

// jarmVectors holds testdata/jarm.json: the examples of JARM §2.1.1 and
// §2.3.1 to §2.3.3. No key is published for their kid "laeb", so their
// signatures cannot verify.
type jarmVectors struct {
	SuccessCodeClaims struct {
		Claims struct {
			Iss   string `json:"iss"`
			Aud   string `json:"aud"`
			Exp   int64  `json:"exp"`
			State string `json:"state"`
		} `json:"claims"`
	} `json:"success_code_claims"`
	Query struct {
		Where       string `json:"where"`
		Response    string `json:"response"`
		RedirectURL string `json:"redirect_url"`
	} `json:"query_jwt_example"`
	Fragment struct {
		Where       string `json:"where"`
		Response    string `json:"response"`
		RedirectURL string `json:"redirect_url"`
	} `json:"fragment_jwt_example"`
	FormPost struct {
		Where       string `json:"where"`
		Response    string `json:"response"`
		PostRequest struct {
			Body string `json:"body"`
		} `json:"post_request"`
	} `json:"form_post_jwt_example"`
}

func loadJARMVectors(t testing.TB) jarmVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/jarm.json")
	require.NoError(t, err)
	var v jarmVectors
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Query.Response)
	return v
}

// TestSpecExamples proves the JARM examples parse, pass every check that
// precedes the signature (issuer, audience, expiry at a time before their
// exp), and then fail signature verification with the typed error, as
// they must with a key that is not the unpublished "laeb" key.
func TestSpecExamples(t *testing.T) {
	t.Parallel()
	v := loadJARMVectors(t)
	cc := v.SuccessCodeClaims.Claims
	before := time.Unix(cc.Exp, 0).Add(-time.Minute)

	for _, tok := range []string{v.Query.Response, v.Fragment.Response, v.FormPost.Response} {
		j, err := jose.ParseCompact(tok)
		require.NoError(t, err)
		require.Equal(t, "laeb", j.Header.Kid)
		require.Equal(t, jose.ES256, j.Header.Alg)
	}

	d, err := jarm.NewDecoder(jarm.Config{
		Issuer:   cc.Iss,
		ClientID: cc.Aud,
		Keys:     []jarm.VerificationKey{{KeyID: "laeb", Key: asEC().Public()}},
		Now:      func() time.Time { return before },
	})
	require.NoError(t, err)
	ctx := context.Background()
	cases := []struct {
		name   string
		decode func() (*jarm.Response, error)
	}{
		{v.Query.Where + " query.jwt", func() (*jarm.Response, error) { return d.DecodeURL(ctx, v.Query.RedirectURL, cc.State) }},
		{v.Fragment.Where + " fragment.jwt", func() (*jarm.Response, error) { return d.DecodeURL(ctx, v.Fragment.RedirectURL, cc.State) }},
		{v.Fragment.Where + " fragment.jwt helper", func() (*jarm.Response, error) {
			return d.DecodeFragment(ctx, "#"+strings.SplitN(v.Fragment.RedirectURL, "#", 2)[1], cc.State)
		}},
		{v.FormPost.Where + " form_post.jwt", func() (*jarm.Response, error) {
			r := httptest.NewRequest(http.MethodPost, "https://client.example.com/cb", strings.NewReader(v.FormPost.PostRequest.Body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return d.DecodeRequest(context.Background(), r, cc.State)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := tc.decode()
			require.ErrorIs(t, err, jarm.ErrInvalidSignature)
			require.Nil(t, r)
		})
	}

	// At the decoder's real time they are long expired; with another key
	// set, "laeb" is unknown.
	late, err := jarm.NewDecoder(jarm.Config{Issuer: cc.Iss, ClientID: cc.Aud, Keys: []jarm.VerificationKey{{KeyID: "other", Key: asEC().Public()}}})
	require.NoError(t, err)
	_, err = late.Decode(ctx, url.Values{"response": {v.Query.Response}}, cc.State)
	require.ErrorIs(t, err, jarm.ErrExpired)
	d2, err := jarm.NewDecoder(jarm.Config{Issuer: cc.Iss, ClientID: cc.Aud, Keys: []jarm.VerificationKey{{KeyID: "other", Key: asEC().Public()}}, Now: func() time.Time { return before }})
	require.NoError(t, err)
	_, err = d2.Decode(ctx, url.Values{"response": {v.Query.Response}}, cc.State)
	require.ErrorIs(t, err, jarm.ErrInvalidSignature)
}
