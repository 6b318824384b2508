package jarm_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/jarm"
)

// asSign plays the authorization server: it signs a JARM payload as an
// ES256 compact JWS using only the standard library (RFC 7515 §5.1,
// RFC 7518 §3.4).
func asSign(key *ecdsa.PrivateKey, kid string, payload any) (string, error) {
	h := map[string]string{"alg": "ES256"}
	if kid != "" {
		h["kid"] = kid
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	pj, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return es256(key, enc.EncodeToString(hj)+"."+enc.EncodeToString(pj))
}

// es256 appends the R||S signature of a JWS signing input.
func es256(key *ecdsa.PrivateKey, input string) (string, error) {
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// jwksJSON returns the JWK Set of an ES256 key.
func jwksJSON(key *ecdsa.PrivateKey, kid string) []byte {
	pt, _ := key.PublicKey.Bytes() // 0x04 || X || Y
	enc := base64.RawURLEncoding
	return fmt.Appendf(nil, `{"keys":[{"kty":"EC","crv":"P-256","kid":%q,"use":"sig","x":%q,"y":%q}]}`,
		kid, enc.EncodeToString(pt[1:33]), enc.EncodeToString(pt[33:]))
}

// A client receives a query.jwt response on its redirect URI and decodes
// it with the keys of the authorization server's jwks_uri.
func ExampleDecoder_DecodeURL() {
	// The authorization server: a signing key published at its jwks_uri.
	asKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(jwksJSON(asKey, "as-key-1"))
	}))
	defer as.Close()

	// The client, configured from the server's metadata.
	d, err := jarm.NewDecoder(jarm.Config{
		Issuer:                                 "https://as.example.com",
		ClientID:                               "s6BhdRkqt3",
		JWKSURL:                                as.URL + "/jwks",
		HTTPClient:                             as.Client(), // trusts the test server's certificate
		AuthorizationSigningAlgValuesSupported: []string{"ES256", "PS256", "RS256"},
		AuthorizationResponseIssParameterSupported: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The redirect the browser follows (JARM §2.3.1).
	jwt, _ := asSign(asKey, "as-key-1", map[string]any{
		"iss":   "https://as.example.com",
		"aud":   "s6BhdRkqt3",
		"exp":   time.Now().Add(2 * time.Minute).Unix(),
		"code":  "PyyFaux2o7Q0YfXBU32jhw",
		"state": "S8NJ7uqk5fY4EjNvP",
	})
	redirect := "https://client.example.com/cb?response=" + url.QueryEscape(jwt)

	// The state comes from the user's session.
	resp, err := d.DecodeURL(context.Background(), redirect, "S8NJ7uqk5fY4EjNvP")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("code:", resp.Code)
	fmt.Println("state:", resp.State)
	fmt.Println("issuer:", resp.Issuer)

	// The same server denies the next request.
	jwt, _ = asSign(asKey, "as-key-1", map[string]any{
		"iss":   "https://as.example.com",
		"aud":   "s6BhdRkqt3",
		"exp":   time.Now().Add(2 * time.Minute).Unix(),
		"error": "access_denied",
		"state": "S8NJ7uqk5fY4EjNvP",
	})
	_, err = d.Decode(context.Background(), url.Values{"response": {jwt}}, "S8NJ7uqk5fY4EjNvP")
	var ae *jarm.AuthorizationError
	if errors.As(err, &ae) {
		fmt.Println("error:", ae.Code)
	}
	// Output:
	// code: PyyFaux2o7Q0YfXBU32jhw
	// state: S8NJ7uqk5fY4EjNvP
	// issuer: https://as.example.com
	// error: access_denied
}

// A client's redirect endpoint decodes whatever response mode the server
// used: here form_post.jwt, POSTed by the browser (JARM §2.3.3), then
// query.jwt (JARM §2.3.1). The Decoder has a static key of the
// authorization server.
func ExampleDecoder_DecodeRequest() {
	asKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d, err := jarm.NewDecoder(jarm.Config{
		Issuer:   "https://as.example.com",
		ClientID: "s6BhdRkqt3",
		Keys:     []jarm.VerificationKey{{KeyID: "as-key-1", Key: asKey.Public()}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The client's redirect endpoint.
	client := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := "af0ifjsldkj" // from the user's session
		resp, err := d.DecodeRequest(r.Context(), r, state)
		if err != nil {
			http.Error(w, "invalid authorization response", jarm.HTTPStatus(err))
			return
		}
		// Exchange resp.Code at the token endpoint here.
		fmt.Fprintf(w, "%s code: %s\n", r.Method, resp.Code)
	}))
	defer client.Close()

	jwt, _ := asSign(asKey, "as-key-1", map[string]any{
		"iss":   "https://as.example.com",
		"aud":   "s6BhdRkqt3",
		"exp":   time.Now().Add(2 * time.Minute).Unix(),
		"code":  "SplxlOBeZQQYbYS6WxSbIA",
		"state": "af0ifjsldkj",
	})
	show := func(res *http.Response, err error) {
		if err != nil {
			fmt.Println(err)
			return
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			fmt.Println("status:", res.StatusCode)
			return
		}
		fmt.Print(string(body))
	}
	show(http.PostForm(client.URL+"/cb", url.Values{"response": {jwt}}))
	show(http.Get(client.URL + "/cb?response=" + url.QueryEscape(jwt)))

	// A response whose exp lies a year ahead is refused (JARM §2.1).
	long, _ := asSign(asKey, "as-key-1", map[string]any{
		"iss":   "https://as.example.com",
		"aud":   "s6BhdRkqt3",
		"exp":   time.Now().AddDate(1, 0, 0).Unix(),
		"code":  "SplxlOBeZQQYbYS6WxSbIA",
		"state": "af0ifjsldkj",
	})
	show(http.Get(client.URL + "/cb?response=" + url.QueryEscape(long)))
	// Output:
	// POST code: SplxlOBeZQQYbYS6WxSbIA
	// GET code: SplxlOBeZQQYbYS6WxSbIA
	// status: 400
}

// A client of a server without JARM checks the RFC 9207 "iss" parameter
// (RFC 9207 §2.1 example response).
func ExampleDecoder_Decode_issuerIdentification() {
	d, err := jarm.NewDecoder(jarm.Config{
		Issuer: "https://honest.as.example",
		AuthorizationResponseIssParameterSupported: true, // authorization_response_iss_parameter_supported
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	q, _ := url.ParseQuery("code=x1848ZT64p4IirMPT0R-X3141MFPTuBX-VFL_cvaplMH58&state=ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI&iss=https%3A%2F%2Fhonest.as.example")
	resp, err := d.Decode(context.Background(), q, "ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI")
	fmt.Println(resp.Issuer, err)

	// A response from another server (a mix-up) is refused.
	q.Set("iss", "https://attacker.example")
	_, err = d.Decode(context.Background(), q, "ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI")
	fmt.Println(errors.Is(err, jarm.ErrIssuerMismatch))
	// Output:
	// https://honest.as.example <nil>
	// true
}

// The authorization request asks for a JWT response mode (JARM §2.3).
func ExampleResponseModeOption() {
	conf := &oauth2.Config{
		ClientID: "s6BhdRkqt3",
		Endpoint: oauth2.Endpoint{AuthURL: "https://as.example.com/authorize"},
	}
	u, _ := url.Parse(conf.AuthCodeURL("af0ifjsldkj", jarm.ResponseModeOption(jarm.ModeQueryJWT)))
	fmt.Println(u.Query().Get("response_mode"))
	// Output: query.jwt
}

// A misconfigured Decoder fails at NewDecoder with the field at fault: a
// jwks_uri must be https.
func ExampleNewDecoder_configError() {
	_, err := jarm.NewDecoder(jarm.Config{
		Issuer:   "https://as.example.com",
		ClientID: "s6BhdRkqt3",
		JWKSURL:  "http://as.example.com/jwks",
	})
	var ce *jarm.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field, errors.Is(err, jarm.ErrInvalidConfig))
	}
	// Output: JWKSURL true
}
