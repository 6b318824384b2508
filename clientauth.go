package hardened

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// Client authentication method names, as registered in the IANA "OAuth
// Token Endpoint Authentication Methods" registry and returned by
// [ClientAuth.Method].
const (
	// AuthMethodPrivateKeyJWT is RFC 7523 §2.2 client authentication with
	// a JWT signed by the client's private key.
	AuthMethodPrivateKeyJWT = "private_key_jwt"
	// AuthMethodClientSecretBasic is RFC 6749 §2.3.1 HTTP Basic
	// authentication with a client secret.
	AuthMethodClientSecretBasic = "client_secret_basic"
	// AuthMethodClientSecretPost is RFC 6749 §2.3.1 authentication with the
	// client secret in the request body.
	AuthMethodClientSecretPost = "client_secret_post"
	// AuthMethodTLSClientAuth is RFC 8705 §2.1 PKI mutual-TLS
	// authentication.
	AuthMethodTLSClientAuth = "tls_client_auth"
	// AuthMethodSelfSignedTLSClientAuth is RFC 8705 §2.2 mutual-TLS
	// authentication with a self-signed certificate.
	AuthMethodSelfSignedTLSClientAuth = "self_signed_tls_client_auth"
	// AuthMethodNone is a public client: it sends only its client_id.
	AuthMethodNone = "none"
)

// ClientAssertionType is the client_assertion_type of a JWT client
// assertion (RFC 7523 §2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Lifetimes of a private_key_jwt client assertion.
const (
	// DefaultAssertionLifetime is used when [PrivateKeyJWT.Lifetime] is zero.
	DefaultAssertionLifetime = 60 * time.Second
	// MaxAssertionLifetime is the longest [PrivateKeyJWT.Lifetime] accepted:
	// an assertion is made for one request, so a long-lived one only widens
	// the window for replay.
	MaxAssertionLifetime = 5 * time.Minute
)

// jtiBytes is the number of random bytes in a client assertion's "jti":
// 192 bits, above the 128 bits needed to make a collision negligible.
const jtiBytes = 24

// assertionAlgorithms are the algorithms a client assertion may be signed
// with: the FAPI 2.0 Security Profile §5.4.1 list.
var assertionAlgorithms = []string{jose.ES256, jose.PS256, jose.EdDSA}

// ClientAuth authenticates a client to an authorization server's token,
// pushed authorization request, introspection or revocation endpoint.
//
// The implementations in this package are plain config structs, safe for
// concurrent use; they validate their fields on every call and return a
// [*ConfigError] when one is missing or wrong. The par and phantom packages
// define the one-method interface they consume (Authenticate alone), which
// every ClientAuth satisfies.
type ClientAuth interface {
	// Authenticate adds the client's credentials to form and/or header. It
	// is called once per attempt, so that every attempt carries a fresh
	// client assertion (new jti).
	//
	// It fails with [ErrConflictingCredentials], leaving form and header
	// untouched, when they already carry credentials: a client_secret,
	// client_assertion or client_assertion_type parameter, an Authorization
	// header, or a client_id other than the method's own.
	Authenticate(form url.Values, header http.Header) error
	// Method returns the method's registered name, e.g. "private_key_jwt".
	Method() string
}

// clientIdentified is implemented by this package's methods, so that
// [AuthTransport] can check the client_id that x/oauth2 put in a request.
type clientIdentified interface {
	clientIdentifier() string
}

// PrivateKeyJWT authenticates with a JWT client assertion signed by the
// client's private key: private_key_jwt, RFC 7523 §2.2 and §3
// (https://datatracker.ietf.org/doc/html/rfc7523#section-3), as the FAPI 2.0
// Security Profile requires it.
//
// Each call of Authenticate signs a new assertion with "iss" and "sub" set to
// ClientID, "aud" set to Audience as a single string, a random "jti" of 192
// bits, "iat" now and "exp" Lifetime later, and adds it as client_assertion
// with client_assertion_type [ClientAssertionType], next to client_id.
type PrivateKeyJWT struct {
	// ClientID is the client identifier, used as "iss" and "sub" and sent
	// as client_id. Required.
	ClientID string
	// Key signs the assertions. Any crypto.Signer works, so a KMS, HSM or
	// PKCS #11 key can be used: an ECDSA P-256, Ed25519 or RSA (2048 bits or
	// more) key. Required.
	Key crypto.Signer
	// Algorithm is the JWS "alg": "ES256", "PS256" or "EdDSA" (FAPI 2.0).
	// Empty means the algorithm that fits Key (PS256 for RSA).
	Algorithm string
	// KeyID is the JWS "kid" header, naming the key in the client's
	// registered JWK Set. Empty omits it.
	KeyID string
	// Audience is the "aud" claim: the authorization server's issuer
	// identifier, as FAPI 2.0 requires (not the token endpoint URL), so that
	// one assertion form serves the token, PAR and introspection endpoints.
	// Required.
	Audience string
	// Lifetime is the time between "iat" and "exp", in whole seconds. Zero
	// means [DefaultAssertionLifetime]; at most [MaxAssertionLifetime].
	Lifetime time.Duration
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

var _ ClientAuth = PrivateKeyJWT{}

// Method returns "private_key_jwt".
func (PrivateKeyJWT) Method() string { return AuthMethodPrivateKeyJWT }

func (p PrivateKeyJWT) clientIdentifier() string { return p.ClientID }

// String describes the method without its key.
func (p PrivateKeyJWT) String() string {
	return fmt.Sprintf("%s(client_id=%q, kid=%q, aud=%q)", AuthMethodPrivateKeyJWT, p.ClientID, p.KeyID, p.Audience)
}

// GoString describes the method without its key, for %#v.
func (p PrivateKeyJWT) GoString() string { return p.String() }

// assertionClaims are the claims of a client assertion (RFC 7523 §3), in
// the order they are marshaled.
type assertionClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	ID       string `json:"jti"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
}

// signer validates the configuration and returns the JWS signer and the
// lifetime in seconds.
func (p PrivateKeyJWT) signer() (*jose.Signer, int64, error) {
	m := AuthMethodPrivateKeyJWT
	if err := checkClientID(m, p.ClientID); err != nil {
		return nil, 0, err
	}
	if p.Key == nil {
		return nil, 0, &ConfigError{Method: m, Field: "Key", Reason: "required"}
	}
	if p.Audience == "" {
		return nil, 0, &ConfigError{Method: m, Field: "Audience", Reason: "required: the authorization server's issuer identifier"}
	}
	if !isVSChars(p.Audience) {
		return nil, 0, &ConfigError{Method: m, Field: "Audience", Reason: "must hold printable ASCII only"}
	}
	lifetime := p.Lifetime
	if lifetime == 0 {
		lifetime = DefaultAssertionLifetime
	}
	if lifetime < time.Second || lifetime > MaxAssertionLifetime {
		return nil, 0, &ConfigError{Method: m, Field: "Lifetime", Reason: fmt.Sprintf("must be between 1s and %s", MaxAssertionLifetime)}
	}
	alg := p.Algorithm
	if alg == "" {
		a, err := jose.AlgorithmFor(p.Key.Public())
		if err != nil {
			return nil, 0, &ConfigError{Method: m, Field: "Key", Reason: "unsupported key type"}
		}
		alg = a
	}
	if !slices.Contains(assertionAlgorithms, alg) {
		return nil, 0, &ConfigError{Method: m, Field: "Algorithm", Reason: "must be ES256, PS256 or EdDSA (FAPI 2.0), got " + quoteTrunc(alg)}
	}
	s, err := jose.NewSigner(p.Key, jose.SignerOptions{Algorithm: alg, KeyID: p.KeyID})
	if err != nil {
		return nil, 0, &ConfigError{Method: m, Field: "Key", Reason: "cannot sign with " + alg + " (wrong key type or curve, or RSA under 2048 bits)"}
	}
	return s, int64(lifetime / time.Second), nil
}

// Authenticate signs a fresh client assertion and sets client_id,
// client_assertion_type and client_assertion in form. header is only
// checked for an Authorization header; it may be nil.
func (p PrivateKeyJWT) Authenticate(form url.Values, header http.Header) error {
	s, lifetime, err := p.signer()
	if err != nil {
		return err
	}
	if err := checkCarried(form, header, p.ClientID, true); err != nil {
		return err
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	iat := now().Unix()
	var jti [jtiBytes]byte
	_, _ = rand.Read(jti[:]) // crypto/rand.Read never fails (Go 1.24+): it crashes the program instead
	assertion, err := s.SignJSON(assertionClaims{
		Issuer:   p.ClientID,
		Subject:  p.ClientID,
		Audience: p.Audience,
		ID:       base64.RawURLEncoding.EncodeToString(jti[:]),
		IssuedAt: iat,
		Expiry:   iat + lifetime,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrClientAssertion, err)
	}
	form.Set("client_id", p.ClientID)
	form.Set("client_assertion_type", ClientAssertionType)
	form.Set("client_assertion", assertion)
	return nil
}

// ClientSecretBasic authenticates with HTTP Basic authentication:
// client_secret_basic, RFC 6749 §2.3.1
// (https://datatracker.ietf.org/doc/html/rfc6749#section-2.3.1). The client
// identifier and secret are each encoded with the
// application/x-www-form-urlencoded algorithm before they are joined with
// ":" and base64-encoded, as §2.3.1 requires (so "a b" is sent as "a+b").
type ClientSecretBasic struct {
	// ClientID is the client identifier. Required.
	ClientID string
	// ClientSecret is the client secret. Required.
	ClientSecret string
}

var _ ClientAuth = ClientSecretBasic{}

// Method returns "client_secret_basic".
func (ClientSecretBasic) Method() string { return AuthMethodClientSecretBasic }

func (c ClientSecretBasic) clientIdentifier() string { return c.ClientID }

// String describes the method without its secret.
func (c ClientSecretBasic) String() string {
	return fmt.Sprintf("%s(client_id=%q, client_secret=REDACTED)", AuthMethodClientSecretBasic, c.ClientID)
}

// GoString describes the method without its secret, for %#v.
func (c ClientSecretBasic) GoString() string { return c.String() }

// Authenticate sets the Authorization header. It leaves form unchanged (a
// client_id already there must be ClientID); form may be nil, header may
// not.
func (c ClientSecretBasic) Authenticate(form url.Values, header http.Header) error {
	if err := checkSecret(AuthMethodClientSecretBasic, c.ClientID, c.ClientSecret); err != nil {
		return err
	}
	if header == nil {
		return fmt.Errorf("%w: client_secret_basic needs a header", ErrUnsupportedRequest)
	}
	if err := checkCarried(form, header, c.ClientID, false); err != nil {
		return err
	}
	cred := url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(c.ClientSecret)
	header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cred)))
	return nil
}

// ClientSecretPost authenticates with the client secret in the request body:
// client_secret_post, RFC 6749 §2.3.1
// (https://datatracker.ietf.org/doc/html/rfc6749#section-2.3.1), which the
// RFC advises against. Prefer [PrivateKeyJWT] or mutual TLS.
type ClientSecretPost struct {
	// ClientID is the client identifier. Required.
	ClientID string
	// ClientSecret is the client secret. Required.
	ClientSecret string
}

var _ ClientAuth = ClientSecretPost{}

// Method returns "client_secret_post".
func (ClientSecretPost) Method() string { return AuthMethodClientSecretPost }

func (c ClientSecretPost) clientIdentifier() string { return c.ClientID }

// String describes the method without its secret.
func (c ClientSecretPost) String() string {
	return fmt.Sprintf("%s(client_id=%q, client_secret=REDACTED)", AuthMethodClientSecretPost, c.ClientID)
}

// GoString describes the method without its secret, for %#v.
func (c ClientSecretPost) GoString() string { return c.String() }

// Authenticate sets client_id and client_secret in form. header is only
// checked for an Authorization header; it may be nil.
func (c ClientSecretPost) Authenticate(form url.Values, header http.Header) error {
	if err := checkSecret(AuthMethodClientSecretPost, c.ClientID, c.ClientSecret); err != nil {
		return err
	}
	if err := checkCarried(form, header, c.ClientID, true); err != nil {
		return err
	}
	form.Set("client_id", c.ClientID)
	form.Set("client_secret", c.ClientSecret)
	return nil
}

// TLSClientAuth authenticates with a client certificate issued under a PKI:
// tls_client_auth, RFC 8705 §2.1
// (https://datatracker.ietf.org/doc/html/rfc8705#section-2.1).
//
// Authenticate only adds client_id, which RFC 8705 §2 requires in the
// request. The certificate itself is presented during the TLS handshake:
// the transport that sends the request MUST be configured with it (for
// example an *http.Transport whose TLSClientConfig has Certificates or
// GetClientCertificate set), and should use the server's
// mtls_endpoint_aliases ([Metadata.Endpoint] with mtls true). Nothing here
// can check that; without a certificate the server rejects the request.
type TLSClientAuth struct {
	// ClientID is the client identifier. Required.
	ClientID string
}

var _ ClientAuth = TLSClientAuth{}

// Method returns "tls_client_auth".
func (TLSClientAuth) Method() string { return AuthMethodTLSClientAuth }

func (c TLSClientAuth) clientIdentifier() string { return c.ClientID }

// Authenticate sets client_id in form. header is only checked for an
// Authorization header; it may be nil.
func (c TLSClientAuth) Authenticate(form url.Values, header http.Header) error {
	return setClientID(AuthMethodTLSClientAuth, c.ClientID, form, header)
}

// SelfSignedTLSClientAuth authenticates with a self-signed client
// certificate registered in the client's JWK Set:
// self_signed_tls_client_auth, RFC 8705 §2.2
// (https://datatracker.ietf.org/doc/html/rfc8705#section-2.2).
//
// As with [TLSClientAuth], Authenticate only adds client_id; the transport
// MUST present the certificate during the TLS handshake.
type SelfSignedTLSClientAuth struct {
	// ClientID is the client identifier. Required.
	ClientID string
}

var _ ClientAuth = SelfSignedTLSClientAuth{}

// Method returns "self_signed_tls_client_auth".
func (SelfSignedTLSClientAuth) Method() string { return AuthMethodSelfSignedTLSClientAuth }

func (c SelfSignedTLSClientAuth) clientIdentifier() string { return c.ClientID }

// Authenticate sets client_id in form. header is only checked for an
// Authorization header; it may be nil.
func (c SelfSignedTLSClientAuth) Authenticate(form url.Values, header http.Header) error {
	return setClientID(AuthMethodSelfSignedTLSClientAuth, c.ClientID, form, header)
}

// NoClientAuth is the "none" method of a public client (RFC 6749 §2.1): the
// request carries the client_id and no credentials. A public client must use
// PKCE; FAPI 2.0 does not allow public clients.
type NoClientAuth struct {
	// ClientID is the client identifier. Required.
	ClientID string
}

var _ ClientAuth = NoClientAuth{}

// Method returns "none".
func (NoClientAuth) Method() string { return AuthMethodNone }

func (c NoClientAuth) clientIdentifier() string { return c.ClientID }

// Authenticate sets client_id in form. header is only checked for an
// Authorization header; it may be nil.
func (c NoClientAuth) Authenticate(form url.Values, header http.Header) error {
	return setClientID(AuthMethodNone, c.ClientID, form, header)
}

func setClientID(method, clientID string, form url.Values, header http.Header) error {
	if err := checkClientID(method, clientID); err != nil {
		return err
	}
	if err := checkCarried(form, header, clientID, true); err != nil {
		return err
	}
	form.Set("client_id", clientID)
	return nil
}

// credentialParams are the form parameters that carry client credentials
// besides client_id.
var credentialParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// checkCarried rejects a form or header that already carries credentials.
// A client_id equal to clientID is allowed (PAR bodies carry it as an
// authorization request parameter). needForm rejects a nil form.
func checkCarried(form url.Values, header http.Header, clientID string, needForm bool) error {
	if needForm && form == nil {
		return fmt.Errorf("%w: nil form", ErrUnsupportedRequest)
	}
	for _, p := range credentialParams {
		if _, ok := form[p]; ok {
			return fmt.Errorf("%w: form already has %s", ErrConflictingCredentials, p)
		}
	}
	if ids, ok := form["client_id"]; ok && (len(ids) != 1 || ids[0] != clientID) {
		return fmt.Errorf("%w: form has a different client_id", ErrConflictingCredentials)
	}
	for k, v := range header {
		if len(v) > 0 && strings.EqualFold(k, "Authorization") {
			return fmt.Errorf("%w: request already has an Authorization header", ErrConflictingCredentials)
		}
	}
	return nil
}

func checkClientID(method, id string) error {
	if id == "" {
		return &ConfigError{Method: method, Field: "ClientID", Reason: "required"}
	}
	if !isVSChars(id) {
		// RFC 6749 Appendix A.1: client-id = *VSCHAR
		return &ConfigError{Method: method, Field: "ClientID", Reason: "must hold printable ASCII only (RFC 6749 Appendix A.1)"}
	}
	return nil
}

func checkSecret(method, id, secret string) error {
	if err := checkClientID(method, id); err != nil {
		return err
	}
	if secret == "" {
		return &ConfigError{Method: method, Field: "ClientSecret", Reason: "required"}
	}
	if !isVSChars(secret) {
		// RFC 6749 Appendix A.2: client-secret = *VSCHAR
		return &ConfigError{Method: method, Field: "ClientSecret", Reason: "must hold printable ASCII only (RFC 6749 Appendix A.2)"}
	}
	return nil
}

// isVSChars reports whether s holds only VSCHAR (%x20-7E, RFC 6749
// Appendix A).
func isVSChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// quoteTrunc quotes s for an error message, truncated to 32 bytes.
func quoteTrunc(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return fmt.Sprintf("%q", s)
}
