package authserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/http"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// Client IDs of the clients registered by [StartDefault].
const (
	DefaultFAPIClientID       = "fapi-client"
	DefaultSecretClientID     = "secret-client"
	DefaultMTLSClientID       = "mtls-client"
	DefaultSelfSignedClientID = "self-signed-client"
	DefaultResourceServerID   = "resource-server"
	// DefaultRedirectURI is the redirect URI of every default client. Nothing
	// listens there: [Server.Authorize] returns the callback instead.
	DefaultRedirectURI = "https://client.example.org/callback"
)

// Default is a running server with a ready set of clients, for examples.
type Default struct {
	// Server is the running server (HTTPS on 127.0.0.1). Close it, or the
	// Default, when done.
	Server *Server
	// Issuer is the issuer identifier, the listener's https URL.
	Issuer string
	// HTTPClient trusts the server's certificate, presents no client
	// certificate and does not follow redirects.
	HTTPClient *http.Client
	// FAPI is a FAPI 2.0 client: private_key_jwt, and PAR, a signed request
	// object, a JARM response mode and DPoP all required.
	FAPI FAPIClient
	// Secret is a confidential client with client_secret_basic and none of
	// the FAPI requirements except PKCE S256 (always required); it may use
	// the authorization_code, refresh_token and client_credentials grants.
	Secret SecretClient
	// MTLS is a tls_client_auth client (RFC 8705 §2.1) with a certificate
	// issued by the server's PKI; PAR and certificate-bound tokens required;
	// authorization_code, refresh_token and client_credentials grants.
	MTLS MTLSClient
	// SelfSigned is a self_signed_tls_client_auth client (RFC 8705 §2.2)
	// with certificate-bound tokens; authorization_code, refresh_token and
	// client_credentials grants.
	SelfSigned MTLSClient
	// ResourceServer is a client_secret_basic client that may only call the
	// introspection endpoint.
	ResourceServer SecretClient
}

// FAPIClient holds the credentials of the default FAPI 2.0 client.
type FAPIClient struct {
	// ID is the client_id.
	ID string
	// Key is the ES256 key of private_key_jwt assertions and request
	// objects, registered in the client's JWK Set under KeyID.
	Key *ecdsa.PrivateKey
	// KeyID is the kid of Key (its RFC 7638 thumbprint). Sending it is
	// optional.
	KeyID string
	// RedirectURI is the registered redirect URI.
	RedirectURI string
}

// SecretClient holds the credentials of a client_secret_basic client.
type SecretClient struct {
	// ID is the client_id.
	ID string
	// Secret is the client secret.
	Secret string
	// RedirectURI is the registered redirect URI ("" for the resource
	// server).
	RedirectURI string
}

// MTLSClient holds the credentials of a client that authenticates with its
// TLS certificate.
type MTLSClient struct {
	// ID is the client_id, sent as a form parameter.
	ID string
	// Certificate is the client's TLS certificate and key.
	Certificate tls.Certificate
	// RedirectURI is the registered redirect URI.
	RedirectURI string
	// HTTPClient presents Certificate, trusts the server and does not
	// follow redirects.
	HTTPClient *http.Client
}

// StartDefault starts a server over TLS with the clients of [Default]. DPoP
// nonces are required at the PAR and token endpoints and optional at
// /userinfo. It generates only ECDSA P-256 keys, so it starts in about a
// millisecond (see BenchmarkStartDefault).
func StartDefault() (*Default, error) {
	pki, err := NewPKI()
	if err != nil {
		return nil, err
	}
	fapiKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	kid, err := jose.Thumbprint(fapiKey.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	fapiJWKS, err := jose.MarshalJWKSet([]*jose.JWK{{Key: fapiKey.Public(), KeyID: kid}})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	mtlsSubject := pkix.Name{CommonName: DefaultMTLSClientID, Organization: []string{"hardened test"}}
	mtlsCert, err := pki.IssueClientCertificate(mtlsSubject)
	if err != nil {
		return nil, err
	}
	selfCert, err := SelfSignedCertificate(DefaultSelfSignedClientID)
	if err != nil {
		return nil, err
	}
	secret, rsSecret := randomToken(24), randomToken(24)
	all := []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}
	srv, err := StartTLS(Config{
		PKI:               pki,
		DPoPNonce:         NonceRequired,
		UserinfoDPoPNonce: NonceOptional,
		Clients: []Client{
			{
				ID: DefaultFAPIClientID, AuthMethod: AuthPrivateKeyJWT, JWKS: fapiJWKS,
				RedirectURIs: []string{DefaultRedirectURI},
				RequirePAR:   true, RequireSignedRequestObject: true, RequireJARM: true, RequireDPoP: true,
			},
			{
				ID: DefaultSecretClientID, AuthMethod: AuthClientSecretBasic, Secret: secret,
				RedirectURIs: []string{DefaultRedirectURI}, GrantTypes: all,
			},
			{
				ID: DefaultMTLSClientID, AuthMethod: AuthTLSClient, TLSSubjectDN: mtlsSubject.String(),
				RedirectURIs: []string{DefaultRedirectURI}, GrantTypes: all,
				RequirePAR: true, RequireMTLSBinding: true,
			},
			{
				ID: DefaultSelfSignedClientID, AuthMethod: AuthSelfSignedTLSClient, Certificates: []*x509.Certificate{selfCert.Leaf},
				RedirectURIs: []string{DefaultRedirectURI}, GrantTypes: all, RequireMTLSBinding: true,
			},
			{
				ID: DefaultResourceServerID, AuthMethod: AuthClientSecretBasic, Secret: rsSecret,
				GrantTypes: []string{}, Introspect: true,
			},
		},
	})
	if err != nil {
		return nil, err
	}
	return &Default{
		Server:     srv,
		Issuer:     srv.Issuer(),
		HTTPClient: srv.HTTPClient(),
		FAPI:       FAPIClient{ID: DefaultFAPIClientID, Key: fapiKey, KeyID: kid, RedirectURI: DefaultRedirectURI},
		Secret:     SecretClient{ID: DefaultSecretClientID, Secret: secret, RedirectURI: DefaultRedirectURI},
		MTLS: MTLSClient{
			ID: DefaultMTLSClientID, Certificate: mtlsCert, RedirectURI: DefaultRedirectURI,
			HTTPClient: srv.HTTPClientWithCertificate(mtlsCert),
		},
		SelfSigned: MTLSClient{
			ID: DefaultSelfSignedClientID, Certificate: selfCert, RedirectURI: DefaultRedirectURI,
			HTTPClient: srv.HTTPClientWithCertificate(selfCert),
		},
		ResourceServer: SecretClient{ID: DefaultResourceServerID, Secret: rsSecret},
	}, nil
}

// Close stops the server.
func (d *Default) Close() { d.Server.Close() }
