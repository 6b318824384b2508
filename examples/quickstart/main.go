// Command quickstart walks through a complete FAPI 2.0 authorization code
// flow (https://openid.net/specs/fapi-security-profile-2_0-final.html) with
// this module and golang.org/x/oauth2:
//
//  1. discovery of the authorization server's metadata (RFC 8414),
//  2. a DPoP key (RFC 9449) and private_key_jwt client authentication
//     (RFC 7523),
//  3. PKCE (RFC 7636) and a signed request object (RFC 9101),
//  4. a pushed authorization request (RFC 9126),
//  5. the user's login,
//  6. a signed authorization response (JARM) checked before use,
//  7. the code exchange for a DPoP-bound access token,
//  8. a call to a protected resource with that token and a proof,
//  9. a refresh, bound to the same key.
//
// It runs against a strict authorization server embedded in the process, so
// nothing but Go is needed:
//
//	go run ./examples/quickstart
//
// Every numbered step is what a real client does, in the order it does it.
// Only the code marked "demo only" stands in for what a real deployment has
// instead: an authorization server on the network, a browser and a user, and
// time passing. The program prints one line per step and never a token, code,
// assertion or key.
package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/jar"
	"github.com/hardened-oauth/hardened/jarm"
	"github.com/hardened-oauth/hardened/par"
)

// maxResponseBytes bounds what is read from a resource server's response.
const maxResponseBytes = 1 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run performs the whole flow and writes one line per step to w.
func run(ctx context.Context, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	// Demo only: start a strict FAPI 2.0 authorization server on
	// https://127.0.0.1, with a self-signed certificate and a client
	// registered for us. In real life the issuer, client ID, redirect URI and
	// client key come from your registration with the authorization server
	// (load the key with hardened.LoadPrivateKey, which returns a JWK's kid
	// too); httpClient is nil (this module's default: timeouts, no
	// redirects) or your own, and baseRT is nil (this module's default
	// transport) or a transport of yours (one presenting your certificate,
	// for mutual TLS).
	as, err := authserver.StartDefault()
	if err != nil {
		return err
	}
	defer as.Close()
	var (
		issuer      = as.Issuer
		clientID    = as.FAPI.ID
		redirectURI = as.FAPI.RedirectURI
		clientKeyID = as.FAPI.KeyID // the "kid" of clientKey in the client's registered JWK Set
		httpClient  = as.HTTPClient // trusts the demo server's certificate
		baseRT      = httpClient.Transport
	)
	// clientKey signs client assertions and request objects. Any
	// crypto.Signer works: a KMS, HSM or PKCS #11 key too.
	var clientKey crypto.Signer = as.FAPI.Key

	// 1. Discover the authorization server (RFC 8414 §3) and make sure it
	// offers what this client relies on before sending it anything.
	md, err := discover(ctx, httpClient, issuer)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "1. discovered: PAR endpoint, PKCE %v, JARM algs %v, DPoP algs %v\n",
		md.CodeChallengeMethodsSupported, md.AuthorizationSigningAlgValuesSupported,
		md.DPoPSigningAlgValuesSupported)

	// 2. The client's keys. The DPoP key (RFC 9449 §4.2) is the key the
	// tokens get bound to: a real client generates it once per installation
	// and stores it (hardened.MarshalPrivateKeyPEM, read back with
	// hardened.LoadPrivateKey) as long as its refresh tokens live. Client
	// authentication is private_key_jwt (RFC 7523 §2.2) with "aud" = the
	// issuer, as FAPI 2.0 §5.3.2.1 requires.
	dpopKey, err := dpop.GenerateKey()
	if err != nil {
		return err
	}
	proofer, err := dpop.NewProofer(dpop.ProoferConfig{Key: dpopKey})
	if err != nil {
		return err
	}
	auth := hardened.PrivateKeyJWT{ClientID: clientID, Key: clientKey, KeyID: clientKeyID, Issuer: md.Issuer}
	fmt.Fprintf(w, "2. keys: DPoP proofs signed with %s, client authentication %s\n", proofer.Algorithm(), auth.Method())

	// The oauth2.Config stays x/oauth2's own type, without ClientSecret:
	// the credentials come from AuthTransport alone. OAuth2Endpoint sets
	// AuthStyleInParams, so x/oauth2 sends only client_id, never guesses and
	// never retries with another style.
	endpoint, err := md.OAuth2Endpoint(auth.Method(), false)
	if err != nil {
		return err
	}
	conf := &oauth2.Config{
		ClientID:    clientID,
		Endpoint:    endpoint,
		RedirectURL: redirectURI,
		Scopes:      []string{"profile"},
	}

	// The HTTP stack: one client for PAR, the token endpoint and the
	// resources, so one DPoP nonce cache serves them all.
	//  - dpop.Transport adds a proof by the DPoP key to every request (with
	//    "ath" when an access token is sent, RFC 9449 §7) and keeps the
	//    servers' nonces per origin, apart for authorization and resource
	//    servers (RFC 9449 §8, §9): the nonce learned at PAR is used at the
	//    token endpoint on the same server.
	//  - hardened.AuthTransport beneath it is the one place client
	//    credentials come from: a fresh client assertion on each request to
	//    the PAR, token, introspection and revocation endpoints the
	//    metadata lists, so a use_dpop_nonce retry gets a new assertion too.
	//    Every other request passes through untouched: a resource server
	//    never sees client credentials.
	stack := &http.Client{Transport: &dpop.Transport{
		Base:    &hardened.AuthTransport{Base: baseRT, Auth: auth, Endpoints: md.ClientAuthEndpoints(false)},
		Proofer: proofer,
	}}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, stack)

	// 3. The authorization request: PKCE with S256 (RFC 7636 §4.2), a state
	// against CSRF (RFC 6749 §10.12), dpop_jkt binding the code to the DPoP
	// key (RFC 9449 §10) and response_mode "jwt" for a signed response
	// (JARM §2.3.4). It all goes into a request object signed with the client
	// key (RFC 9101 §4), so nobody can alter it on the way.
	verifier := oauth2.GenerateVerifier()
	state := rand.Text() // 128 bits from crypto/rand, kept with the user's session
	params := jar.AuthCodeParams(conf, state,
		oauth2.S256ChallengeOption(verifier),
		dpop.JKTOption(proofer.JKT()),
		jarm.ResponseModeOption(jarm.ModeJWT),
	)
	jarConf := jar.Config{ClientID: clientID, Issuer: md.Issuer, Key: clientKey, KeyID: clientKeyID}
	requestObject, err := jarConf.Build(params)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "3. request object: signed, valid %s, parameters %v\n",
		requestObject.Expiry.Sub(requestObject.IssuedAt), sortedKeys(params))

	// 4. Push the request object to the PAR endpoint (RFC 9126 §3) through
	// the stack, which adds the client assertion and a DPoP proof
	// (RFC 9449 §10.1), then build the authorization URL, which carries only
	// client_id and request_uri (RFC 9126 §4).
	parConf := par.Config{Endpoint: md.PushedAuthorizationRequestEndpoint, ClientID: clientID, HTTPClient: stack}
	pushed, err := parConf.PushRequestObject(ctx, requestObject.JWT)
	if err != nil {
		return err
	}
	authURL := par.AuthCodeURL(md.AuthorizationEndpoint, clientID, pushed)
	authQuery, err := queryOf(authURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "4. pushed: request_uri valid %s, authorization URL parameters %v\n",
		pushed.ExpiresIn, sortedKeys(authQuery))

	// 5. Demo only: a real client redirects the user's browser to authURL;
	// the user logs in and the browser comes back to redirectURI. Here the
	// embedded server logs a test user in and hands back that redirect.
	callback, err := as.Server.Authorize(ctx, authURL)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "5. logged in: callback parameters %v\n", sortedKeys(callback.URL.Query()))

	// 6. Validate the callback before using anything in it (JARM §2.4):
	// issuer (the mix-up defence of RFC 9207), audience, expiry and signature
	// of the response JWT, then state; only then is the code read. Build the
	// Decoder once at start-up and share it: it caches the server's keys.
	// In a web server this is the redirect handler calling
	// decoder.DecodeRequest(r.Context(), r, state).
	decoder, err := jarm.NewDecoder(jarm.Config{
		Issuer:                                 md.Issuer,
		ClientID:                               clientID,
		JWKSURL:                                md.JWKSURI,
		HTTPClient:                             httpClient,
		AuthorizationSigningAlgValuesSupported: md.AuthorizationSigningAlgValuesSupported,
		AuthorizationResponseIssParameterSupported: md.AuthorizationResponseIssParameterSupported,
	})
	if err != nil {
		return err
	}
	authResp, err := decoder.DecodeURL(ctx, callback.URL.String(), state)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "6. authorization response: JARM %t, issuer and state verified, code received\n", authResp.JARM)

	// 7. Exchange the code (RFC 6749 §4.1.3) with x/oauth2's own Exchange and
	// the PKCE verifier (RFC 7636 §4.5). The stack in ctx adds the DPoP
	// proof (RFC 9449 §5), with the server's nonce learned at PAR
	// (RFC 9449 §8), and the client assertion.
	tok, err := conf.Exchange(ctx, authResp.Code, oauth2.VerifierOption(verifier))
	if err != nil {
		return err
	}
	// token_type "DPoP" is the server saying the token is bound to the
	// proof's key (RFC 9449 §5). Anything else is a downgrade: refuse it.
	if tok.Type() != "DPoP" {
		return fmt.Errorf("token_type %q: the access token is not DPoP-bound", tok.Type())
	}
	if err := requireBoundTo(ctx, httpClient, md.IntrospectionEndpoint, as.ResourceServer, tok.AccessToken, proofer.JKT()); err != nil {
		return err
	}
	fmt.Fprintf(w, "7. token: type %s, has refresh token %t, bound to our DPoP key (cnf.jkt)\n", tok.Type(), tok.RefreshToken != "")

	// 8. Call a protected resource (RFC 9449 §7). conf.Client wraps the
	// stack in oauth2.Transport, which sends "Authorization: DPoP <token>";
	// dpop.Transport beneath it adds a proof carrying "ath", the token's
	// hash, and AuthTransport passes the request on without client
	// credentials.
	sub, err := userinfo(ctx, conf.Client(ctx, tok), md.UserinfoEndpoint)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "8. userinfo: sub %s\n", sub)

	// 9. Refresh (RFC 6749 §6) through the same stack. Demo only: the
	// access token lives 10 minutes, so pretend it has expired. The
	// TokenSource refreshes before the call; the refresh
	// request carries a DPoP proof and a client assertion, the server
	// rotates the refresh token, and the new access token is bound to the
	// same key (RFC 9449 §5).
	// conf.Client(ctx, t) is oauth2.NewClient(ctx, conf.TokenSource(ctx, t));
	// spelled out here to read the refreshed token back.
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	src := conf.TokenSource(ctx, &stale)
	if _, err := userinfo(ctx, oauth2.NewClient(ctx, src), md.UserinfoEndpoint); err != nil {
		return err
	}
	fresh, err := src.Token() // the token the call above refreshed to
	if err != nil {
		return err
	}
	if fresh.AccessToken == tok.AccessToken {
		return errors.New("the access token was not refreshed")
	}
	if fresh.Type() != "DPoP" {
		return fmt.Errorf("token_type %q: the refreshed access token is not DPoP-bound", fresh.Type())
	}
	if err := requireBoundTo(ctx, httpClient, md.IntrospectionEndpoint, as.ResourceServer, fresh.AccessToken, proofer.JKT()); err != nil {
		return err
	}
	fmt.Fprintf(w, "9. refreshed: type %s, refresh token rotated %t, bound to our DPoP key (cnf.jkt)\n",
		fresh.Type(), fresh.RefreshToken != "" && fresh.RefreshToken != tok.RefreshToken)

	fmt.Fprintln(w, "ok")
	return nil
}

// discover fetches the authorization server's metadata (RFC 8414 §3.1;
// hardened.Discovery checks the issuer byte for byte and that every endpoint
// is https) and checks that it supports what this client uses: PAR, PKCE
// S256, private_key_jwt, JARM, DPoP with ES256, and the iss parameter.
func discover(ctx context.Context, hc *http.Client, issuer string) (*hardened.Metadata, error) {
	d := hardened.Discovery{HTTPClient: hc}
	md, err := d.Discover(ctx, issuer)
	if err != nil {
		return nil, err
	}
	var missing []string
	if md.PushedAuthorizationRequestEndpoint == "" {
		missing = append(missing, "pushed_authorization_request_endpoint")
	}
	if !slices.Contains(md.CodeChallengeMethodsSupported, "S256") {
		missing = append(missing, "PKCE S256")
	}
	if !md.SupportsAuthMethod(hardened.AuthMethodPrivateKeyJWT) {
		missing = append(missing, hardened.AuthMethodPrivateKeyJWT)
	}
	if !slices.Contains(md.ResponseModesSupported, jarm.ModeJWT) {
		missing = append(missing, "response_mode jwt")
	}
	if !slices.Contains(md.DPoPSigningAlgValuesSupported, "ES256") {
		missing = append(missing, "DPoP ES256")
	}
	if !md.AuthorizationResponseIssParameterSupported {
		missing = append(missing, "authorization_response_iss_parameter_supported")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("authorization server lacks %s", strings.Join(missing, ", "))
	}
	return md, nil
}

// userinfo GETs the UserInfo endpoint with the token-carrying client and
// returns the "sub" it reports.
func userinfo(ctx context.Context, api *http.Client, endpoint string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", err
	}
	resp, err := api.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("userinfo: HTTP %d", resp.StatusCode)
	}
	var body struct {
		Sub string `json:"sub"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&body); err != nil {
		return "", fmt.Errorf("userinfo: %w", err)
	}
	if body.Sub == "" {
		return "", errors.New("userinfo: no sub")
	}
	return body.Sub, nil
}

// requireBoundTo checks, through token introspection (RFC 7662 §2), that
// an access token is bound to the DPoP key with thumbprint jkt: its "cnf"
// claim holds that "jkt" (RFC 9449 §6.2).
//
// Demo only: a client never introspects its own tokens (an access token is
// opaque to it), so this uses the credentials of the embedded server's
// resource server, to show what a resource server sees when it decides which
// key a request must prove.
func requireBoundTo(ctx context.Context, hc *http.Client, endpoint string, rs authserver.SecretClient, token, jkt string) error {
	// The resource server's own client: hc, whose transport is wrapped in
	// an AuthTransport that authenticates it at the introspection endpoint
	// (client_secret_basic).
	rsClient := *hc
	rsClient.Transport = &hardened.AuthTransport{
		Base:      hc.Transport,
		Auth:      hardened.ClientSecretBasic{ClientID: rs.ID, ClientSecret: rs.Secret},
		Endpoints: []string{endpoint},
	}
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := rsClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("introspection: HTTP %d", resp.StatusCode)
	}
	claims, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("introspection: %w", err)
	}
	cnf, err := dpop.ConfirmationFromClaims(claims) // also requires "active": true
	if err != nil {
		return err
	}
	if cnf.JKT != jkt {
		return errors.New("introspection: the access token is not bound to our DPoP key")
	}
	return nil
}

// queryOf returns the query parameters of rawURL.
func queryOf(rawURL string) (url.Values, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	return u.Query(), nil
}

// sortedKeys returns the parameter names of v in order, for printing
// without values.
func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
