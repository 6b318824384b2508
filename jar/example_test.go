package jar_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jar"
)

// Build a signed request object and verify it as the authorization server
// would: signature with the client's public key, then the claims.
func ExampleConfig_Build() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	c := &jar.Config{
		ClientID: "s6BhdRkqt3",
		Issuer:   "https://server.example.com",
		Key:      key,
		KeyID:    "client-key-1",
		Now:      func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
	params := url.Values{
		"response_type": {"code"},
		"redirect_uri":  {"https://client.example.org/cb"},
		"scope":         {"openid"},
		"state":         {"af0ifjsldkj"},
		"max_age":       {"86400"},
		"resource":      {"https://rs1.example.com/", "https://rs2.example.com/"},
	}
	ro, err := c.Build(params)
	if err != nil {
		panic(err)
	}

	// Authorization server side.
	jws, err := jose.ParseCompact(ro.JWT)
	if err != nil {
		panic(err)
	}
	if err := jws.Verify(&key.PublicKey, jose.DefaultAlgorithms); err != nil {
		panic(err)
	}
	var claims struct {
		Iss          string   `json:"iss"`
		Aud          string   `json:"aud"`
		ClientID     string   `json:"client_id"`
		ResponseType string   `json:"response_type"`
		MaxAge       int      `json:"max_age"`
		Resource     []string `json:"resource"`
		Iat          int64    `json:"iat"`
		Exp          int64    `json:"exp"`
	}
	if err := json.Unmarshal(jws.Payload, &claims); err != nil {
		panic(err)
	}
	fmt.Println("typ:", jws.Header.Typ, "alg:", jws.Header.Alg, "kid:", jws.Header.Kid)
	fmt.Println("iss:", claims.Iss, "client_id:", claims.ClientID)
	fmt.Println("aud:", claims.Aud)
	fmt.Println("response_type:", claims.ResponseType, "max_age:", claims.MaxAge)
	fmt.Println("resource:", claims.Resource)
	fmt.Println("lifetime:", time.Duration(claims.Exp-claims.Iat)*time.Second)
	// Output:
	// typ: oauth-authz-req+jwt alg: ES256 kid: client-key-1
	// iss: s6BhdRkqt3 client_id: s6BhdRkqt3
	// aud: https://server.example.com
	// response_type: code max_age: 86400
	// resource: [https://rs1.example.com/ https://rs2.example.com/]
	// lifetime: 1m0s
}

// Pass a request object by reference: the Server hands it out once.
func ExampleServer() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	c := &jar.Config{ClientID: "s6BhdRkqt3", Issuer: "https://server.example.com", Key: key}
	ro, err := c.Build(url.Values{"response_type": {"code"}, "scope": {"openid"}})
	if err != nil {
		panic(err)
	}

	objects := &jar.Server{}
	mux := http.NewServeMux()
	mux.Handle("/request-objects/", objects)
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	objects.BaseURL = srv.URL + "/request-objects/"

	requestURI, err := objects.Publish(ro)
	if err != nil {
		panic(err)
	}
	authURL := jar.AuthCodeURL("https://server.example.com/authorize", jar.ByReference(c.ClientID, requestURI))
	u, _ := url.Parse(authURL)
	fmt.Println("authorization request carries:", len(u.Query()), "parameters")

	// The authorization server fetches the request object, once.
	for range 2 {
		resp, err := srv.Client().Get(requestURI)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), string(body) == ro.JWT)
	}
	// Output:
	// authorization request carries: 2 parameters
	// 200 application/oauth-authz-req+jwt true
	// 404 text/plain; charset=utf-8 false
}

// The authorization URL of RFC 9101 §5.2.2.
func ExampleByReference() {
	fmt.Println(jar.AuthCodeURL("https://server.example.com/authorize",
		jar.ByReference("s6BhdRkqt3", "https://tfp.example.org/request.jwt/GkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM")))
	// Output:
	// https://server.example.com/authorize?client_id=s6BhdRkqt3&request_uri=https%3A%2F%2Ftfp.example.org%2Frequest.jwt%2FGkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM
}

// The authorization request parameters from an x/oauth2 Config: PKCE,
// authorization details (RFC 9396) and several resource indicators
// (RFC 8707), ready for Config.Build or par.Config.Push.
func ExampleAuthCodeParams() {
	conf := &oauth2.Config{
		ClientID:    "s6BhdRkqt3",
		RedirectURL: "https://client.example.org/cb",
		Scopes:      []string{"openid"},
		Endpoint:    oauth2.Endpoint{AuthURL: "https://server.example.com/authorize"},
	}
	details, err := jar.AuthorizationDetailsOption([]map[string]any{{"type": "account_information", "actions": []string{"read"}}})
	if err != nil {
		panic(err)
	}
	verifier := oauth2.GenerateVerifier() // keep it for the token request
	params := jar.AuthCodeParams(conf, "af0ifjsldkj", oauth2.S256ChallengeOption(verifier), details)
	if err := jar.AddResource(params, "https://rs1.example.com/", "https://rs2.example.com/"); err != nil {
		panic(err)
	}
	fmt.Println(slices.Sorted(maps.Keys(params)))
	fmt.Println(params.Get("code_challenge_method"), params["resource"])
	fmt.Println(params.Get("authorization_details"))
	// Output:
	// [authorization_details client_id code_challenge code_challenge_method redirect_uri resource response_type scope state]
	// S256 [https://rs1.example.com/ https://rs2.example.com/]
	// [{"actions":["read"],"type":"account_information"}]
}

// A parameter that cannot go into a request object is named, never shown.
func ExampleParameterError() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	c := &jar.Config{ClientID: "s6BhdRkqt3", Issuer: "https://server.example.com", Key: key}
	_, err = c.Build(url.Values{"response_type": {"code"}, "state": {"a", "b"}})
	var pe *jar.ParameterError
	if errors.As(err, &pe) {
		fmt.Println(pe.Parameter, "-", pe.Reason)
	}
	fmt.Println(errors.Is(err, jar.ErrInvalidParameter))
	// Output:
	// state - given more than once (RFC 6749 §3.1)
	// true
}
