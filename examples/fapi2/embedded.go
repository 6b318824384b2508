package main

// Demo only: this file stands in for the world around the client when
// fapi2 runs without -issuer: a FAPI 2.0 authorization server, and an API
// behind a phantom gateway. The gateway and API halves are what a real
// deployment does (the Phantom Token pattern: the client holds an opaque
// token, the API sees a signed JWT); copy them from here.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/phantom"
)

// Client IDs registered at the embedded authorization server.
const (
	appID     = "fapi-client" // this example's client
	gatewayID = "api-gateway" // the gateway, a resource server that introspects
)

// hooks let tests make the embedded authorization server misbehave and see
// every request the embedded servers receive. The zero value is a correct,
// silent world.
type hooks struct {
	misbehave authserver.Misbehave
	observe   func(server, path string) // server is "as", "gateway" or "api"
	jarmKey   crypto.PublicKey          // encrypts JARM responses to the client when set
	started   func(*embedded)           // called once the servers run
}

// embedded is a running authorization server, gateway and API.
type embedded struct {
	issuer, clientID, keyID string
	key                     crypto.Signer
	roots                   *x509.CertPool
	ca                      *x509.Certificate // the root of roots
	gateway, upstream, api  string            // the gateway's and the API's URLs, and the URL to call
	close                   func()
}

// startEmbedded starts, on loopback, the strict authorization server of
// internal/authserver (PAR, signed request objects, DPoP with nonces and,
// for a JARM responseMode, JARM all required of this client), the API and the
// gateway in front of it.
func startEmbedded(h hooks, redirectURI, responseMode string) (*embedded, error) {
	pki, err := authserver.NewPKI()
	if err != nil {
		return nil, err
	}
	serverCert, err := pki.IssueServerCertificate()
	if err != nil {
		return nil, err
	}
	clientKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	gatewayKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	var lns [3]net.Listener // authorization server, gateway, API
	for i := range lns {
		if lns[i], err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			for _, ln := range lns[:i] {
				_ = ln.Close()
			}
			return nil, err
		}
	}
	e := &embedded{
		issuer:   "https://" + lns[0].Addr().String(),
		gateway:  "https://" + lns[1].Addr().String(),
		upstream: "http://" + lns[2].Addr().String(),
		clientID: appID,
		key:      clientKey,
		roots:    pki.Roots(),
		ca:       pki.CA(),
	}
	e.api = e.gateway + "/me"

	as, err := authserver.New(authserver.Config{
		Issuer:            e.issuer,
		PKI:               pki,
		DPoPNonce:         authserver.NonceRequired,
		UserinfoDPoPNonce: authserver.NonceOptional,
		Misbehave:         h.misbehave,
		Clients: []authserver.Client{{
			ID: appID, AuthMethod: authserver.AuthPrivateKeyJWT, Keys: []crypto.PublicKey{clientKey.Public()},
			RedirectURIs: []string{redirectURI},
			RequirePAR:   true, RequireSignedRequestObject: true, RequireDPoP: true,
			RequireJARM: strings.HasSuffix(responseMode, "jwt"), JARMEncryptionKey: h.jarmKey,
		}, {
			ID: gatewayID, AuthMethod: authserver.AuthPrivateKeyJWT, Keys: []crypto.PublicKey{gatewayKey.Public()},
			GrantTypes: []string{}, Introspect: true,
		}},
	})
	if err != nil {
		for _, ln := range lns {
			_ = ln.Close()
		}
		return nil, err
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12}
	asTLS := tlsConf.Clone()
	asTLS.ClientAuth = tls.RequestClientCert // for mTLS clients; checked by the server itself
	asSrv := serve(lns[0], observe(as, "as", h.observe), asTLS)
	apiSrv := serve(lns[2], observe(apiHandler(e.issuer, as.PublicKey()), "api", h.observe), nil)

	// The gateway: a client of the authorization server that may introspect,
	// authenticated with private_key_jwt by hardened.AuthTransport (the
	// gateway adds no credentials itself). It asks for signed introspection
	// responses (RFC 9701), checks the DPoP proof against the token's
	// cnf.jkt with its own nonces, and forwards the signed JWT to the API.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConfig(e.roots)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	gw := &phantom.Gateway{
		IntrospectionURL: as.Endpoints().Introspection,
		HTTPClient: &http.Client{Timeout: 10 * time.Second, Transport: &hardened.AuthTransport{
			Base:      tr,
			Auth:      hardened.PrivateKeyJWT{ClientID: gatewayID, Key: gatewayKey, Issuer: e.issuer},
			Endpoints: []string{as.Endpoints().Introspection},
		}},
		Issuer:   e.issuer,
		ClientID: gatewayID,
		Audience: e.gateway, // the resource indicator the client asks tokens for
		JWKSURL:  as.Endpoints().JWKS,
		DPoP: &dpop.Verifier{
			BaseURL: e.gateway, // the URL clients reach the gateway by, never the Host header
			Nonces:  &dpop.Nonces{Secrets: [][]byte{secret}},
		},
		// Demo: introspect every request, so that the revocation shows at
		// once. The default caches a result for a minute: a revoked token
		// then passes for at most that long, for far fewer introspections.
		CacheTTL: -1,
	}
	gwCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := gw.Validate(gwCtx); err != nil { // fails at start-up, not on the first request
		_, _ = apiSrv.Close(), asSrv.Close()
		_ = lns[1].Close()
		return nil, err
	}
	upstream, _ := url.Parse(e.upstream) // well-formed: built above
	gwSrv := serve(lns[1], observe(gw.Wrap(httputil.NewSingleHostReverseProxy(upstream)), "gateway", h.observe), tlsConf)
	e.close = func() { _, _, _ = gwSrv.Close(), apiSrv.Close(), asSrv.Close() }
	if h.started != nil {
		h.started(e)
	}
	return e, nil
}

// apiHandler is the API behind the gateway. It never sees the client's
// opaque token, only "Authorization: Bearer <JWT>": the authorization
// server's signed introspection response (RFC 9701), which it verifies
// itself, so that nothing but the gateway can speak for a user. It echoes
// who called, and with which scope.
func apiHandler(issuer string, asKey crypto.PublicKey) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			http.Error(w, "no JWT from the gateway", http.StatusUnauthorized)
			return
		}
		var claims struct {
			Issuer   string `json:"iss"`
			Audience string `json:"aud"`
			Token    struct {
				Active   bool   `json:"active"`
				Subject  string `json:"sub"`
				Scope    string `json:"scope"`
				ClientID string `json:"client_id"`
			} `json:"token_introspection"`
		}
		if err := verifyES256(jwt, asKey, "token-introspection+jwt", &claims); err != nil ||
			claims.Issuer != issuer || claims.Audience != gatewayID || !claims.Token.Active {
			http.Error(w, "invalid JWT from the gateway", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"sub": claims.Token.Subject, "scope": claims.Token.Scope, "client_id": claims.Token.ClientID,
		})
	})
}

// verifyES256 verifies a compact JWS signed with ES256 by key, whose header
// has typ, and decodes its payload into v. It is the minimum, spelled out
// with the standard library so that the demo needs nothing else; a real API
// uses a JOSE library and the keys of the server's jwks_uri.
func verifyES256(jws string, key crypto.PublicKey, typ string, v any) error {
	pub, ok := key.(*ecdsa.PublicKey)
	parts := strings.Split(jws, ".")
	if !ok || pub.Curve != elliptic.P256() || len(parts) != 3 {
		return errors.New("not an ES256 JWS")
	}
	var header struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(h, &header) != nil || header.Alg != "ES256" || header.Typ != typ {
		return errors.New("wrong JWS header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || len(sig) != 64 ||
		!ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("bad signature")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	return json.Unmarshal(payload, v)
}

// observe calls see with server and the path of every request before h
// serves it.
func observe(h http.Handler, server string, see func(server, path string)) http.Handler {
	if see == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		see(server, r.URL.Path)
		h.ServeHTTP(w, r)
	})
}

// serve serves h on ln, over TLS when tc is set, until closed.
func serve(ln net.Listener, h http.Handler, tc *tls.Config) *http.Server {
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	if tc != nil {
		go func() { _ = srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { _ = srv.Serve(ln) }()
	}
	return srv
}
