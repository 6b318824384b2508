package hardened_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
)

// A confidential client with client_secret_basic: the identifier and the
// secret are form-encoded before the Basic header is built (RFC 6749
// §2.3.1).
func ExampleClientSecretBasic() {
	auth := hardened.ClientSecretBasic{ClientID: "a b", ClientSecret: "p@ss:word%"}
	header := http.Header{}
	if err := auth.Authenticate(url.Values{}, header); err != nil {
		log.Fatal(err)
	}
	fmt.Println(header.Get("Authorization"))
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(header.Get("Authorization"), "Basic "))
	fmt.Println(string(raw))
	fmt.Println(auth) // the secret is never printed
	// Output:
	// Basic YStiOnAlNDBzcyUzQXdvcmQlMjU=
	// a+b:p%40ss%3Aword%25
	// client_secret_basic(client_id="a b", client_secret=REDACTED)
}

// A FAPI 2.0 client authenticates with private_key_jwt: every call signs a
// new assertion for the issuer. The assertion is a credential; here only
// its claims are printed.
func ExamplePrivateKeyJWT() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // in production: a KMS or HSM crypto.Signer
	if err != nil {
		log.Fatal(err)
	}
	auth := hardened.PrivateKeyJWT{
		ClientID: "s6BhdRkqt3",
		Key:      key,
		KeyID:    "client-key-1",
		Audience: "https://server.example.com", // the issuer identifier
		Now:      func() time.Time { return time.Unix(1_700_000_000, 0) },
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {"SplxlOBeZQQYbYS6WxSbIA"}}
	if err := auth.Authenticate(form, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Println("client_id:", form.Get("client_id"))
	fmt.Println("client_assertion_type:", form.Get("client_assertion_type"))

	parts := strings.Split(form.Get("client_assertion"), ".")
	var header struct{ Alg, Kid string }
	var claims struct {
		Iss, Sub, Aud, Jti string
		Iat, Exp           int64
	}
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(h, &header)
	_ = json.Unmarshal(p, &claims)
	fmt.Println("alg:", header.Alg, "kid:", header.Kid)
	fmt.Println("iss:", claims.Iss, "sub:", claims.Sub)
	fmt.Println("aud:", claims.Aud)
	fmt.Println("iat:", claims.Iat, "lifetime:", claims.Exp-claims.Iat, "s")
	fmt.Println("jti length:", len(claims.Jti))
	// Output:
	// client_id: s6BhdRkqt3
	// client_assertion_type: urn:ietf:params:oauth:client-assertion-type:jwt-bearer
	// alg: ES256 kid: client-key-1
	// iss: s6BhdRkqt3 sub: s6BhdRkqt3
	// aud: https://server.example.com
	// iat: 1700000000 lifetime: 60 s
	// jti length: 32
}

// Discovery fetches RFC 8414 metadata over TLS and checks that it names the
// issuer it was fetched for.
func ExampleDiscovery_Discover() {
	var issuer string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-authorization-server" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                issuer,
			"authorization_endpoint":                issuer + "/authorize",
			"token_endpoint":                        issuer + "/token",
			"pushed_authorization_request_endpoint": issuer + "/par",
			"require_pushed_authorization_requests": true,
			"response_types_supported":              []string{"code"},
			"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		})
	}))
	defer srv.Close()
	issuer = srv.URL

	d := hardened.Discovery{HTTPClient: srv.Client()} // trusts the test server's certificate
	md, err := d.Discover(context.Background(), issuer)
	if err != nil {
		log.Fatal(err)
	}
	par, _ := url.Parse(md.PushedAuthorizationRequestEndpoint)
	fmt.Println("PAR endpoint path:", par.Path)
	fmt.Println("PAR required:", md.RequirePushedAuthorizationRequests)
	ep, err := md.OAuth2Endpoint(hardened.AuthMethodPrivateKeyJWT, false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("AuthStyle in params:", ep.AuthStyle == oauth2.AuthStyleInParams)
	// Output:
	// PAR endpoint path: /par
	// PAR required: true
	// AuthStyle in params: true
}

// The mTLS alias of an endpoint is used when the client authenticates with
// a certificate (RFC 8705 §5).
func ExampleMetadata_Endpoint() {
	md, err := hardened.ParseMetadata("https://server.example.com", []byte(`{
		"issuer": "https://server.example.com",
		"token_endpoint": "https://server.example.com/token",
		"response_types_supported": ["code"],
		"token_endpoint_auth_methods_supported": ["tls_client_auth"],
		"mtls_endpoint_aliases": {"token_endpoint": "https://mtls.example.com/token"}
	}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(md.Endpoint("token_endpoint", false))
	fmt.Println(md.Endpoint("token_endpoint", true))
	// Output:
	// https://server.example.com/token
	// https://mtls.example.com/token
}

// AuthTransport gives x/oauth2's own Exchange a fresh private_key_jwt
// assertion per attempt; the secret-based credentials x/oauth2 would add are
// removed.
func ExampleAuthTransport() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		// A real server verifies the assertion; this one reports what it got.
		fmt.Println("client_id:", r.PostForm.Get("client_id"))
		fmt.Println("assertion type:", r.PostForm.Get("client_assertion_type"))
		fmt.Println("secret sent:", r.PostForm.Has("client_secret") || r.Header.Get("Authorization") != "")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"example","token_type":"Bearer","expires_in":300}`)
	}))
	defer srv.Close()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: &hardened.AuthTransport{
		Base:      srv.Client().Transport,
		Auth:      hardened.PrivateKeyJWT{ClientID: "s6BhdRkqt3", Key: key, Audience: srv.URL},
		Endpoints: []string{srv.URL + "/token"},
	}}
	conf := &oauth2.Config{
		ClientID: "s6BhdRkqt3",
		Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	tok, err := conf.Exchange(ctx, "SplxlOBeZQQYbYS6WxSbIA")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token type:", tok.TokenType)
	// Output:
	// client_id: s6BhdRkqt3
	// assertion type: urn:ietf:params:oauth:client-assertion-type:jwt-bearer
	// secret sent: false
	// token type: Bearer
}

// One client serves the token endpoint and the resources: with Endpoints
// set, AuthTransport authenticates only the token requests and passes every
// other request through unchanged, so x/oauth2's conf.Client can wrap the
// same client the exchange used. Put a dpop.Transport on top of it to
// share one DPoP nonce cache between PAR, token and resource requests.
func ExampleAuthTransport_sharedClient() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		fmt.Printf("%s %s: client assertion %t, Authorization %q\n",
			r.Method, r.URL.Path, r.PostForm.Has("client_assertion"), scheme)
		if r.URL.Path == "/token" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"example","token_type":"Bearer","expires_in":300}`)
		}
	}))
	defer srv.Close()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	conf := &oauth2.Config{
		ClientID: "s6BhdRkqt3",
		Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	client := &http.Client{Transport: &hardened.AuthTransport{
		Base:      srv.Client().Transport,
		Auth:      hardened.PrivateKeyJWT{ClientID: conf.ClientID, Key: key, Audience: srv.URL},
		Endpoints: []string{conf.Endpoint.TokenURL},
	}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	tok, err := conf.Exchange(ctx, "SplxlOBeZQQYbYS6WxSbIA")
	if err != nil {
		log.Fatal(err)
	}
	resp, err := conf.Client(ctx, tok).Get(srv.URL + "/api")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	// Output:
	// POST /token: client assertion true, Authorization ""
	// GET /api: client assertion false, Authorization "Bearer"
}
