package hardened_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
)

// printRequest is a stand-in for the network: it prints what a request to
// the token endpoint carries.
type printRequest struct{}

func (printRequest) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	form, _ := url.ParseQuery(string(b))
	if h := r.Header.Get("Authorization"); h != "" {
		fmt.Println("Authorization:", h)
	}
	for _, k := range []string{"grant_type", "client_id", "client_secret", "client_assertion_type"} {
		if form.Has(k) {
			fmt.Printf("%s: %s\n", k, form.Get(k))
		}
	}
	if a := form.Get("client_assertion"); a != "" {
		// The assertion is a credential; print only its claims.
		parts := strings.Split(a, ".")
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
		fmt.Println("iss:", claims.Iss, "sub:", claims.Sub, "aud:", claims.Aud)
		fmt.Println("lifetime:", claims.Exp-claims.Iat, "s, jti length:", len(claims.Jti))
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
}

// A confidential client with client_secret_basic: AuthTransport builds the
// Basic header, the identifier and the secret form-encoded first (RFC 6749
// §2.3.1). x/oauth2 adds only the client_id, since its Config has no
// secret and uses AuthStyleInParams.
func ExampleClientSecretBasic() {
	auth := hardened.ClientSecretBasic{ClientID: "a b", ClientSecret: "p@ss:word%"}
	client := &http.Client{Transport: &hardened.AuthTransport{
		Base:      printRequest{},
		Auth:      auth,
		Endpoints: []string{"https://server.example.com/token"},
	}}
	_, err := client.PostForm("https://server.example.com/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {"a b"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(auth) // the secret is never printed
	// Output:
	// Authorization: Basic YStiOnAlNDBzcyUzQXdvcmQlMjU=
	// grant_type: client_credentials
	// client_id: a b
	// client_secret_basic(client_id="a b", client_secret=REDACTED)
}

// A FAPI 2.0 client authenticates with private_key_jwt: AuthTransport signs
// a new assertion for the issuer on every request.
func ExamplePrivateKeyJWT() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // in production: a KMS or HSM crypto.Signer, or LoadPrivateKey
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: &hardened.AuthTransport{
		Base: printRequest{},
		Auth: hardened.PrivateKeyJWT{
			ClientID: "s6BhdRkqt3",
			Key:      key,
			KeyID:    "client-key-1",
			Issuer:   "https://server.example.com",
			Now:      func() time.Time { return time.Unix(1_700_000_000, 0) },
		},
		Endpoints: []string{"https://server.example.com/token"},
	}}
	_, err = client.PostForm("https://server.example.com/token", url.Values{
		"grant_type": {"client_credentials"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// grant_type: client_credentials
	// client_id: s6BhdRkqt3
	// client_assertion_type: urn:ietf:params:oauth:client-assertion-type:jwt-bearer
	// alg: ES256 kid: client-key-1
	// iss: s6BhdRkqt3 sub: s6BhdRkqt3 aud: https://server.example.com
	// lifetime: 60 s, jti length: 32
}

// Credentials come only from AuthTransport: a request that already carries
// some (here x/oauth2's client_secret) is refused before anything is sent,
// with an error that says what to change.
func ExampleAuthTransport_conflictingCredentials() {
	client := &http.Client{Transport: &hardened.AuthTransport{
		Base:      printRequest{},
		Auth:      hardened.ClientSecretBasic{ClientID: "s6BhdRkqt3", ClientSecret: "secret"},
		Endpoints: []string{"https://server.example.com/token"},
	}}
	conf := &oauth2.Config{
		ClientID:     "s6BhdRkqt3",
		ClientSecret: "secret", // wrong: AuthTransport adds the credentials
		Endpoint:     oauth2.Endpoint{TokenURL: "https://server.example.com/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	_, err := conf.Exchange(ctx, "SplxlOBeZQQYbYS6WxSbIA")
	fmt.Println(errors.Is(err, hardened.ErrConflictingCredentials))
	// Output:
	// true
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
// assertion per attempt. The oauth2.Config holds no secret and uses
// AuthStyleInParams, so x/oauth2 adds only the client_id.
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
		Auth:      hardened.PrivateKeyJWT{ClientID: "s6BhdRkqt3", Key: key, Issuer: srv.URL},
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

// One client serves the authorization server and the resources:
// AuthTransport authenticates only the requests to its Endpoints and passes
// every other request through unchanged, so x/oauth2's conf.Client can wrap
// the same client the exchange used. Put a dpop.Transport on top of it to
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
		Auth:      hardened.PrivateKeyJWT{ClientID: conf.ClientID, Key: key, Issuer: srv.URL},
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

// ClientAuthEndpoints lists, from discovered metadata, the endpoints
// AuthTransport authenticates: PAR, token, introspection and revocation,
// with their mTLS aliases for a client that uses a certificate.
func ExampleMetadata_ClientAuthEndpoints() {
	md, err := hardened.ParseMetadata("https://server.example.com", []byte(`{
		"issuer": "https://server.example.com",
		"authorization_endpoint": "https://server.example.com/authz",
		"pushed_authorization_request_endpoint": "https://server.example.com/par",
		"token_endpoint": "https://server.example.com/token",
		"introspection_endpoint": "https://server.example.com/introspect",
		"response_types_supported": ["code"],
		"mtls_endpoint_aliases": {"token_endpoint": "https://mtls.example.com/token"}
	}`))
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range md.ClientAuthEndpoints(true) {
		fmt.Println(e)
	}
	// Output:
	// https://server.example.com/par
	// https://server.example.com/token
	// https://mtls.example.com/token
	// https://server.example.com/introspect
}

// ParsePrivateKey reads a private JWK (here RFC 7517 Appendix A.2's EC
// key) or a PEM file, and returns a crypto.Signer with its kid, ready for
// PrivateKeyJWT, a request object, DPoP or JARM decryption.
func ExampleParsePrivateKey() {
	key, kid, err := hardened.ParsePrivateKey([]byte(`{"kty":"EC","crv":"P-256",
		"x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
		"y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
		"d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE",
		"use":"enc","kid":"1"}`))
	if err != nil {
		log.Fatal(err)
	}
	ec := key.(*ecdsa.PrivateKey) // also usable to decrypt (ECDH-ES)
	fmt.Println("kid:", kid, "curve:", ec.Curve.Params().Name)

	_, _, err = hardened.ParsePrivateKey([]byte(`{"kty":"EC","crv":"P-256",
		"x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
		"y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}`))
	fmt.Println("public key only:", errors.Is(err, hardened.ErrUnsupportedKey))
	// Output:
	// kid: 1 curve: P-256
	// public key only: true
}

// A key is written once, as PKCS #8 PEM or as a private JWK with its kid,
// and read back with ParsePrivateKey or LoadPrivateKey: the same key keeps
// tokens bound to it (DPoP, a registered JWK Set) working after a restart.
func ExampleMarshalPrivateJWK() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	data, err := hardened.MarshalPrivateJWK(key, "client-key-1") // secret: store it as such
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("example-%d.jwk", os.Getpid()))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(path)

	back, kid, err := hardened.LoadPrivateKey(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kid:", kid, "same key:", key.Equal(back))
	// Output:
	// kid: client-key-1 same key: true
}
