package main

// Demo only: this file stands in for the world outside the client, the
// authorization server and the API, so that the example runs with nothing but
// Go. The API half (introspection, mtlsbound.Verifier) is what a real
// resource server does; copy it from here.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// Client IDs registered at the embedded authorization server.
const (
	serviceID = "mtls-service" // this example's client
	apiID     = "accounts-api" // the API, a resource server that introspects
)

// hooks let tests make the embedded authorization server misbehave and see
// every request it receives. The zero value is a correct, silent server.
type hooks struct {
	misbehave authserver.Misbehave
	observe   func(server, path string) // server is "as" or "api"
}

// embedded is a running authorization server and API.
type embedded struct {
	issuer, resource, api, clientID string
	cert, otherCert                 tls.Certificate
	roots                           *x509.CertPool
	close                           func()
}

// startEmbedded starts, on loopback, the strict authorization server of
// internal/authserver with this example's client (tls_client_auth,
// certificate-bound tokens) and an mTLS-protected API.
func startEmbedded(h hooks) (*embedded, error) {
	pki, err := authserver.NewPKI()
	if err != nil {
		return nil, err
	}
	serverCert, err := pki.IssueServerCertificate()
	if err != nil {
		return nil, err
	}
	subject := pkix.Name{CommonName: serviceID, Organization: []string{"hardened demo"}}
	cert, err := pki.IssueClientCertificate(subject)
	if err != nil {
		return nil, err
	}
	other, err := pki.IssueClientCertificate(pkix.Name{CommonName: "another-service", Organization: []string{"hardened demo"}})
	if err != nil {
		return nil, err
	}
	apiKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	asLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = asLn.Close()
		return nil, err
	}
	e := &embedded{
		issuer:    "https://" + asLn.Addr().String(),
		resource:  "https://" + apiLn.Addr().String(),
		clientID:  serviceID,
		cert:      cert,
		otherCert: other,
		roots:     pki.Roots(),
	}
	e.api = e.resource + "/accounts"

	as, err := authserver.New(authserver.Config{
		Issuer:    e.issuer,
		PKI:       pki,
		Misbehave: h.misbehave,
		Clients: []authserver.Client{{
			ID: serviceID, AuthMethod: authserver.AuthTLSClient, TLSSubjectDN: subject.String(),
			GrantTypes: []string{authserver.GrantClientCredentials}, RequireMTLSBinding: true,
			Scopes: []string{"accounts"}, Resources: []string{e.resource},
		}, {
			ID: apiID, AuthMethod: authserver.AuthPrivateKeyJWT, Keys: []crypto.PublicKey{apiKey.Public()},
			GrantTypes: []string{}, Introspect: true,
		}},
	})
	if err != nil {
		_, _ = asLn.Close(), apiLn.Close()
		return nil, err
	}
	// The authorization server asks for a client certificate and checks it
	// itself (tls_client_auth); its endpoints are also under /mtls/, the
	// mtls_endpoint_aliases of RFC 8705 §5.
	asSrv := serve(asLn, observe(as, "as", h.observe), &tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12,
	})

	// The API: a resource server. TLS requires a certificate of the CA it
	// trusts; mtlsbound.Verifier then requires the token's cnf x5t#S256 to
	// be the thumbprint of that very certificate (RFC 8705 §3). It learns
	// the token's claims by introspection (RFC 7662), as a client of the
	// authorization server authenticated with private_key_jwt.
	rs := &hardened.Config{
		Config:  oauth2.Config{ClientID: apiID},
		Issuer:  e.issuer,
		Key:     apiKey,
		RootCAs: e.roots,
	}
	verifier := &mtlsbound.Verifier{
		Token: func(ctx context.Context, token string) (json.RawMessage, error) {
			in, err := rs.Introspect(ctx, token, hardened.HintAccessToken)
			if err != nil {
				return nil, err
			}
			if !in.Active {
				return nil, errors.New("token is not active")
			}
			if !slices.Contains(in.Audience, e.resource) {
				return nil, errors.New("token is for another resource")
			}
			return in.Claims, nil
		},
	}
	apiSrv := serve(apiLn, observe(verifier.Wrap(http.HandlerFunc(accounts)), "api", h.observe), &tls.Config{
		Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: e.roots, MinVersion: tls.VersionTLS12,
	})
	e.close = func() { _, _ = apiSrv.Close(), asSrv.Close() }
	return e, nil
}

// accounts is the API's handler: it runs only for a request whose token is
// active, for this API, and bound to the presented certificate, and echoes
// what mtlsbound.Verifier found.
func accounts(w http.ResponseWriter, r *http.Request) {
	res, ok := mtlsbound.FromContext(r.Context())
	if !ok {
		http.Error(w, "no verified token", http.StatusInternalServerError)
		return
	}
	var claims struct {
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	_ = json.Unmarshal(res.Claims, &claims) // verified claims; absent ones stay empty
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"client_id": claims.ClientID,
		"scope":     claims.Scope,
		"x5t#S256":  short(res.Thumbprint),
	})
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

// serve serves h over TLS on ln until closed.
func serve(ln net.Listener, h http.Handler, tc *tls.Config) *http.Server {
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         tc,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return srv
}
