package main

// The demo that runs with no flags: the module's embedded authorization
// server (internal/authserver), a small upstream API on loopback, and a
// client that shows what the gateway lets through and what it refuses.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
)

type demo struct {
	as    *authserver.Default
	api   *http.Server
	roots *x509.CertPool
}

// startDemo starts the authorization server and the API, and points o at
// them: the gateway authenticates as the server's resource-server client.
func startDemo(o *options) (*demo, error) {
	as, err := authserver.StartDefault()
	if err != nil {
		return nil, err
	}
	d := &demo{as: as, roots: as.Server.PKI().Roots()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		as.Close()
		return nil, err
	}
	d.api = &http.Server{Handler: apiHandler(as.Server.PublicKey()), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = d.api.Serve(ln) }()
	o.listen = "127.0.0.1:0"
	o.upstream = "http://" + ln.Addr().String()
	o.issuer = as.Issuer
	o.clientID, o.clientSecret = as.ResourceServer.ID, as.ResourceServer.Secret
	o.roots = d.roots
	return d, nil
}

func (d *demo) close() {
	_ = d.api.Close()
	d.as.Close()
}

// apiHandler is the upstream API. It verifies the JWT the gateway forwards
// (here an RFC 9701 response signed by the authorization server) and
// answers who called.
func apiHandler(asKey any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		j, err := jose.ParseCompact(jwt)
		if !ok || err != nil || j.Verify(asKey, []string{jose.ES256}) != nil {
			http.Error(w, "no valid JWT", http.StatusUnauthorized)
			return
		}
		var claims struct {
			Intro struct {
				Sub   string `json:"sub"`
				Scope string `json:"scope"`
			} `json:"token_introspection"`
		}
		_ = json.Unmarshal(j.Payload, &claims)
		fmt.Fprintf(w, "hello %s: the API got a %s JWT, never the opaque token", claims.Intro.Sub, j.Header.Typ)
	})
}

// show plays a client of the authorization server against the gateway
// and prints one line per request.
func (d *demo) show(ctx context.Context, gateway string, out io.Writer) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := d.play(ctx, gateway, out); err != nil {
		fmt.Fprintln(out, "demo: failed:", err)
		return
	}
	fmt.Fprintln(out, "demo: done; the gateway keeps serving until interrupted")
}

func (d *demo) play(ctx context.Context, gateway string, out io.Writer) error {
	key, err := dpop.GenerateKey()
	if err != nil {
		return err
	}
	proofer, err := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	if err != nil {
		return err
	}
	tlsBase := &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: d.roots}}
	token := d.as.Server.Endpoints().Token
	dt := &dpop.Transport{Proofer: proofer, Base: &hardened.AuthTransport{
		Base:      tlsBase,
		Auth:      hardened.ClientSecretBasic{ClientID: d.as.Secret.ID, ClientSecret: d.as.Secret.Secret},
		Endpoints: []string{token},
	}}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: dt, Timeout: 10 * time.Second})
	// The token is for the gateway's API: resource (RFC 8707) names it,
	// and the gateway refuses tokens whose aud does not.
	cc := clientcredentials.Config{ClientID: d.as.Secret.ID, TokenURL: token, AuthStyle: oauth2.AuthStyleInParams,
		EndpointParams: url.Values{"resource": {gateway}}}
	tok, err := cc.Token(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demo: got a %s-bound opaque access token (client_credentials)\n", tok.Type())

	// 1. The token with a fresh proof (the transport answers the gateway's
	// use_dpop_nonce by itself).
	api := oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))
	resp, err := api.Get(gateway + "/hello")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	fmt.Fprintf(out, "demo: GET /hello, DPoP token and proof  -> %d %s\n", resp.StatusCode, body)

	plain := &http.Client{Timeout: 10 * time.Second}
	send := func(auth, proof string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, gateway+"/hello", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", auth)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		resp, err := plain.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	// 2. The same token as a plain bearer token: a stolen DPoP token is
	// useless without its key.
	code, err := send("Bearer "+tok.AccessToken, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demo: GET /hello, the token as Bearer     -> %d\n", code)

	// 3. A proof used twice.
	origin, _ := url.Parse(gateway)
	proof, err := proofer.Proof(http.MethodGet, gateway+"/hello", dpop.ProofOptions{
		AccessToken: tok.AccessToken, Nonce: dt.Nonce(origin.Scheme+"://"+origin.Host, true),
	})
	if err != nil {
		return err
	}
	first, err := send("DPoP "+tok.AccessToken, proof)
	if err != nil {
		return err
	}
	second, err := send("DPoP "+tok.AccessToken, proof)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demo: GET /hello, one proof sent twice     -> %d then %d\n", first, second)

	// 4. No token at all.
	code, err = send("", "")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "demo: GET /hello, no token                -> %d\n", code)

	// 5. A token the server issued for another API (no resource: for its
	// userinfo), sent with its key and a fresh proof.
	cc.EndpointParams = nil
	other, err := cc.Token(ctx)
	if err != nil {
		return err
	}
	resp, err = oauth2.NewClient(ctx, oauth2.StaticTokenSource(other)).Get(gateway + "/hello")
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Fprintf(out, "demo: GET /hello, a token for another API -> %d\n", resp.StatusCode)
	return nil
}
