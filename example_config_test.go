package hardened_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/headless"
	"github.com/hardened-oauth/hardened/jarm"
)

// A whole FAPI 2.0 login against the embedded authorization server on
// loopback: PAR with a signed request object, a JARM response, private_key_jwt,
// DPoP with server nonces, and a verified ID token. headless.Authorize plays
// the user's browser; a web application redirects the user to authURL
// instead and calls Callback in its redirect handler.
func ExampleConfig() {
	d, err := authserver.StartDefault()
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()

	conf := &hardened.Config{
		Config:       oauth2.Config{ClientID: d.FAPI.ID, RedirectURL: d.FAPI.RedirectURI, Scopes: []string{"openid"}},
		Issuer:       d.Issuer,
		Key:          d.FAPI.Key, // hardened.LoadPrivateKey("client.pem") in an application
		KeyID:        d.FAPI.KeyID,
		ResponseMode: jarm.ModeJWT,
		RootCAs:      d.Server.PKI().Roots(), // the test server's CA; nil means the system roots
	}

	login := hardened.NewLogin() // keep it in the user's session
	authURL, err := conf.AuthCodeURL(ctx, login.State, login.AuthCodeOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	fmt.Println("authorization URL carries:", slices.Sorted(maps.Keys(u.Query())))

	callback, err := headless.Authorize(ctx, d.HTTPClient, authURL, conf.RedirectURL)
	if err != nil {
		log.Fatal(err)
	}
	code, err := conf.Callback(ctx, callback, login.State)
	if err != nil {
		log.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code, login.ExchangeOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token type:", tok.Type())
	idt, _ := hardened.IDTokenFrom(tok)
	fmt.Println("subject:", idt.Subject)

	res, err := conf.Client(ctx, tok).Get(d.Server.Endpoints().Userinfo)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	fmt.Println("userinfo:", res.Status)
	// Output:
	// authorization URL carries: [client_id request_uri]
	// token type: DPoP
	// subject: test-user
	// userinfo: 200 OK
}

// Refreshing and revoking: the token source refreshes through the same
// stack (DPoP proof of the bound key, client authentication) and hands each
// rotated token to OnRefresh; Revoke ends the grant at logout.
func ExampleConfig_TokenSource() {
	d, err := authserver.StartDefault()
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()

	var saved *oauth2.Token
	conf := &hardened.Config{
		Config:       oauth2.Config{ClientID: d.FAPI.ID, RedirectURL: d.FAPI.RedirectURI, Scopes: []string{"openid"}},
		Issuer:       d.Issuer,
		Key:          d.FAPI.Key,
		KeyID:        d.FAPI.KeyID,
		ResponseMode: jarm.ModeJWT,
		RootCAs:      d.Server.PKI().Roots(),
		OnRefresh:    func(tok *oauth2.Token) { saved = tok }, // persist it in an application
	}
	tok := exampleLogin(ctx, d, conf)

	tok.Expiry = time.Now().Add(-time.Minute) // as if it had expired
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("refreshed:", fresh.AccessToken != tok.AccessToken, fresh.Type())
	fmt.Println("rotated refresh token saved:", saved == fresh && fresh.RefreshToken != tok.RefreshToken)

	if err := conf.Revoke(ctx, fresh.RefreshToken, hardened.HintRefreshToken); err != nil {
		log.Fatal(err)
	}
	fresh.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(ctx, fresh).Token()
	fmt.Println("after revocation:", errors.Is(err, &hardened.Error{Code: "invalid_grant"}))
	// Output:
	// refreshed: true DPoP
	// rotated refresh token saved: true
	// after revocation: true
}

// A service without an end-user: the client credentials grant, with the
// client authenticated by its TLS certificate (RFC 8705 §2) and the token
// bound to it (§3), asked for one resource server (RFC 8707).
func ExampleConfig_ClientCredentials() {
	d, err := authserver.StartDefault()
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()

	conf := &hardened.Config{
		Config:      oauth2.Config{ClientID: d.MTLS.ID},
		Issuer:      d.Issuer,
		Certificate: &d.MTLS.Certificate, // tls.LoadX509KeyPair("client.crt", "client.key") in an application
		RootCAs:     d.Server.PKI().Roots(),
	}
	ts := conf.ClientCredentials(ctx, hardened.ResourceOption(d.Server.Endpoints().Userinfo))
	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token type:", tok.Type())
	res, err := conf.NewClient(ctx, ts).Get(d.Server.Endpoints().Userinfo)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	fmt.Println("call over the same certificate:", res.Status)
	// Output:
	// token type: Bearer
	// call over the same certificate: 200 OK
}

// The redirect handler: Callback checks the issuer (RFC 9207) and the state
// before it reads anything else; an error response of the server is then a
// *hardened.Error.
func ExampleConfig_Callback() {
	d, err := authserver.StartDefault()
	if err != nil {
		log.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	conf := &hardened.Config{
		Config:      oauth2.Config{ClientID: d.MTLS.ID, RedirectURL: d.MTLS.RedirectURI},
		Issuer:      d.Issuer,
		Certificate: &d.MTLS.Certificate,
		RootCAs:     d.Server.PKI().Roots(),
	}
	login := hardened.NewLogin()

	// What the browser brings back when the user declines.
	q := url.Values{"error": {"access_denied"}, "state": {login.State}, "iss": {d.Issuer}}
	r, _ := http.NewRequestWithContext(ctx, http.MethodGet, conf.RedirectURL+"?"+q.Encode(), nil)

	_, err = conf.Callback(ctx, r, login.State)
	var oe *hardened.Error
	if errors.As(err, &oe) {
		fmt.Println("the server said:", oe.Code)
	}
	fmt.Println("answer with:", jarm.HTTPStatus(err))

	// The same from another issuer (a mix-up attack) is refused first.
	q.Set("iss", "https://attacker.example")
	r, _ = http.NewRequestWithContext(ctx, http.MethodGet, conf.RedirectURL+"?"+q.Encode(), nil)
	_, err = conf.Callback(ctx, r, login.State)
	fmt.Println("issuer mismatch:", errors.Is(err, jarm.ErrIssuerMismatch), errors.As(err, &oe))
	// Output:
	// the server said: access_denied
	// answer with: 400
	// issuer mismatch: true false
}

// NewLogin makes the per-login secrets; they stay out of logs.
func ExampleNewLogin() {
	login := hardened.NewLogin()
	fmt.Println(len(login.Verifier), "character verifier;", len(login.AuthCodeOptions()), "authorization options")
	fmt.Println(login)
	// Output:
	// 43 character verifier; 2 authorization options
	// hardened.Login{State:<redacted> Verifier:<redacted> Nonce:<redacted>}
}

// exampleLogin runs the login of ExampleConfig.
func exampleLogin(ctx context.Context, d *authserver.Default, conf *hardened.Config) *oauth2.Token {
	login := hardened.NewLogin()
	authURL, err := conf.AuthCodeURL(ctx, login.State, login.AuthCodeOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	callback, err := headless.Authorize(ctx, d.HTTPClient, authURL, conf.RedirectURL)
	if err != nil {
		log.Fatal(err)
	}
	code, err := conf.Callback(ctx, callback, login.State)
	if err != nil {
		log.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, code, login.ExchangeOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	return tok
}
