package authserver_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

// Example starts the default server and reads its discovery document.
func Example() {
	d, err := authserver.StartDefault()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	issuer, _ := url.Parse(d.Issuer)
	fmt.Println(issuer.Scheme)

	resp, err := d.HTTPClient.Get(d.Issuer + "/.well-known/oauth-authorization-server")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var md struct {
		PAR string `json:"pushed_authorization_request_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		fmt.Println(err)
		return
	}
	par, _ := url.Parse(md.PAR)
	fmt.Println(par.Path)
	// Output:
	// https
	// /par
}

// Example_idToken runs an OpenID Connect code flow with a client secret
// client, once against a correct server and once against one whose ID
// tokens carry the wrong nonce, and prints the ID token's claim names and
// whether its nonce is the one sent.
func Example_idToken() {
	for _, mb := range []authserver.Misbehave{{}, {IDTokenWrongNonce: true}} {
		claims, err := idTokenClaims(mb)
		if err != nil {
			fmt.Println(err)
			return
		}
		names := make([]string, 0, len(claims))
		for k := range claims {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Println(strings.Join(names, " "), "| nonce echoed:", claims["nonce"] == "n-0S6_WzA2Mj")
	}
	// Output:
	// at_hash aud auth_time c_hash exp iat iss nonce sub | nonce echoed: true
	// at_hash aud auth_time c_hash exp iat iss nonce sub | nonce echoed: false
}

// idTokenClaims runs the code flow against a server with the given
// switches and returns the claims of the ID token, unverified.
func idTokenClaims(mb authserver.Misbehave) (map[string]any, error) {
	const id, secret, redirect = "app", "app-secret", "https://app.example/cb"
	srv, err := authserver.Start(authserver.Config{
		Clients:   []authserver.Client{{ID: id, AuthMethod: authserver.AuthClientSecretBasic, Secret: secret, RedirectURIs: []string{redirect}}},
		Misbehave: mb,
	})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"openid"},
		"nonce": {"n-0S6_WzA2Mj"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	cb, err := srv.Authorize(context.Background(), srv.Endpoints().Authorization+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Params().Get("code")},
		"code_verifier": {verifier}, "redirect_uri": {redirect}}
	req, err := http.NewRequest(http.MethodPost, srv.Endpoints().Token, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return nil, err
	}
	parts := strings.Split(tok.IDToken, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("no ID token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	return claims, json.Unmarshal(payload, &claims)
}
