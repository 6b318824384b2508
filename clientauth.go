package hardened

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
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

// ClientAuth is a client authentication method for the token, pushed
// authorization request, introspection and revocation endpoints of an
// authorization server: [PrivateKeyJWT], [ClientSecretBasic],
// [ClientSecretPost], [TLSClientAuth], [SelfSignedTLSClientAuth] or
// [NoClientAuth].
//
// A ClientAuth does nothing on its own: [AuthTransport] is the one place
// where credentials are added to a request, so the interface is sealed
// (only this package's methods implement it) and has no exported way to
// add credentials by hand. The methods are plain config structs, safe for
// concurrent use; they validate their fields on every request and fail it
// with a [*ConfigError] when one is missing or wrong.
type ClientAuth interface {
	// Method returns the method's registered name, e.g. "private_key_jwt".
	Method() string

	// authenticate adds the client's credentials to form and/or header,
	// which AuthTransport has checked carry none. It is called once per
	// attempt, so that every attempt carries a fresh client assertion.
	authenticate(form url.Values, header http.Header) error
	// clientID returns the client identifier the method sends.
	clientID() string
}

// PrivateKeyJWT authenticates with a JWT client assertion signed by the
// client's private key: private_key_jwt, RFC 7523 §2.2 and §3
// (https://datatracker.ietf.org/doc/html/rfc7523#section-3), as the FAPI 2.0
// Security Profile requires it.
//
// For each request, [AuthTransport] signs a new assertion with "iss" and
// "sub" set to ClientID, "aud" set to Issuer as a single string, a random
// "jti" of 192 bits, "iat" now and "exp" Lifetime later, and adds it as
// client_assertion with client_assertion_type [ClientAssertionType], next
// to client_id.
type PrivateKeyJWT struct {
	// ClientID is the client identifier, used as "iss" and "sub" and sent
	// as client_id. Required.
	ClientID string
	// Key signs the assertions. Any crypto.Signer works, so a KMS, HSM or
	// PKCS #11 key can be used: an ECDSA P-256, Ed25519 or RSA (2048 bits or
	// more) key, as [ParsePrivateKey] returns. Required.
	Key crypto.Signer
	// KeyID is the JWS "kid" header, naming the key in the client's
	// registered JWK Set. Empty omits it.
	KeyID string
	// Issuer is the authorization server's issuer identifier, sent as the
	// "aud" claim as FAPI 2.0 requires (not the token endpoint URL), so that
	// one assertion form serves the token, PAR, introspection and
	// revocation endpoints. Required.
	Issuer string
	// Algorithms are the JWS algorithms the assertion may be signed with;
	// the one that fits Key is used (ES256 for P-256, EdDSA for Ed25519,
	// PS256 for RSA). Nil means ES256, PS256 and EdDSA (FAPI 2.0), which is
	// also the most that may be listed: "none", HS* and RS* cannot be
	// enabled. A Key that fits none of them is a [*ConfigError].
	Algorithms []string
	// Lifetime is the time between "iat" and "exp", in whole seconds. Zero
	// means [DefaultAssertionLifetime]; at most [MaxAssertionLifetime].
	Lifetime time.Duration
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

var _ ClientAuth = PrivateKeyJWT{}

// Method returns "private_key_jwt".
func (PrivateKeyJWT) Method() string { return AuthMethodPrivateKeyJWT }

func (p PrivateKeyJWT) clientID() string { return p.ClientID }

// String describes the method without its key.
func (p PrivateKeyJWT) String() string {
	return fmt.Sprintf("%s(client_id=%q, kid=%q, iss=%q)", AuthMethodPrivateKeyJWT, p.ClientID, p.KeyID, p.Issuer)
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
	const t = "PrivateKeyJWT."
	if err := checkClientID(t, p.ClientID); err != nil {
		return nil, 0, err
	}
	if p.Key == nil || isNil(p.Key) {
		return nil, 0, &ConfigError{Field: t + "Key", Reason: "required"}
	}
	if p.Issuer == "" {
		return nil, 0, &ConfigError{Field: t + "Issuer", Reason: "required: the authorization server's issuer identifier"}
	}
	if !isVSChars(p.Issuer) {
		return nil, 0, &ConfigError{Field: t + "Issuer", Reason: "must hold printable ASCII only"}
	}
	lifetime := p.Lifetime
	if lifetime == 0 {
		lifetime = DefaultAssertionLifetime
	}
	if lifetime < time.Second || lifetime > MaxAssertionLifetime {
		return nil, 0, &ConfigError{Field: t + "Lifetime", Reason: fmt.Sprintf("must be between 1s and %s", MaxAssertionLifetime)}
	}
	allowed := p.Algorithms
	if len(allowed) == 0 {
		allowed = assertionAlgorithms
	}
	for _, a := range allowed {
		if !slices.Contains(assertionAlgorithms, a) {
			return nil, 0, &ConfigError{Field: t + "Algorithms", Reason: "may list only ES256, PS256 and EdDSA (FAPI 2.0), not " + quoteTrunc(a)}
		}
	}
	alg, err := jose.AlgorithmFor(p.Key.Public())
	if err != nil || !slices.Contains(assertionAlgorithms, alg) {
		return nil, 0, &ConfigError{Field: t + "Key", Reason: "must be an ECDSA P-256, Ed25519 or RSA (2048 bits or more) key"}
	}
	if !slices.Contains(allowed, alg) {
		return nil, 0, &ConfigError{Field: t + "Algorithms", Reason: "the key signs with " + alg + ", which is not listed"}
	}
	s, err := jose.NewSigner(p.Key, jose.SignerOptions{Algorithm: alg, KeyID: p.KeyID})
	if err != nil {
		return nil, 0, &ConfigError{Field: t + "Key", Reason: "cannot sign with " + alg + " (RSA under 2048 bits or invalid key)"}
	}
	return s, int64(lifetime / time.Second), nil
}

// authenticate signs a fresh client assertion and sets client_id,
// client_assertion_type and client_assertion in form.
func (p PrivateKeyJWT) authenticate(form url.Values, _ http.Header) error {
	s, lifetime, err := p.signer()
	if err != nil {
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
		Audience: p.Issuer,
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
// The form is left as it is: a client_id already in it (x/oauth2 adds one,
// a PAR request carries one) stays.
type ClientSecretBasic struct {
	// ClientID is the client identifier. Required.
	ClientID string
	// ClientSecret is the client secret. Required.
	ClientSecret string
}

var _ ClientAuth = ClientSecretBasic{}

// Method returns "client_secret_basic".
func (ClientSecretBasic) Method() string { return AuthMethodClientSecretBasic }

func (c ClientSecretBasic) clientID() string { return c.ClientID }

// String describes the method without its secret.
func (c ClientSecretBasic) String() string {
	return fmt.Sprintf("%s(client_id=%q, client_secret=REDACTED)", AuthMethodClientSecretBasic, c.ClientID)
}

// GoString describes the method without its secret, for %#v.
func (c ClientSecretBasic) GoString() string { return c.String() }

// authenticate sets the Authorization header.
func (c ClientSecretBasic) authenticate(_ url.Values, header http.Header) error {
	if err := checkSecret("ClientSecretBasic.", c.ClientID, c.ClientSecret); err != nil {
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

func (c ClientSecretPost) clientID() string { return c.ClientID }

// String describes the method without its secret.
func (c ClientSecretPost) String() string {
	return fmt.Sprintf("%s(client_id=%q, client_secret=REDACTED)", AuthMethodClientSecretPost, c.ClientID)
}

// GoString describes the method without its secret, for %#v.
func (c ClientSecretPost) GoString() string { return c.String() }

// authenticate sets client_id and client_secret in form.
func (c ClientSecretPost) authenticate(form url.Values, _ http.Header) error {
	if err := checkSecret("ClientSecretPost.", c.ClientID, c.ClientSecret); err != nil {
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
// It only adds client_id, which RFC 8705 §2 requires in the request. The
// certificate itself is presented during the TLS handshake: the
// [AuthTransport]'s Base MUST be configured with it (for example an
// *http.Transport whose TLSClientConfig has Certificates or
// GetClientCertificate set), and the client should send to the server's
// mtls_endpoint_aliases ([Metadata.Endpoint] and
// [Metadata.ClientAuthEndpoints] with mtls true). Nothing here can check
// that; without a certificate the server rejects the request.
type TLSClientAuth struct {
	// ClientID is the client identifier. Required.
	ClientID string
}

var _ ClientAuth = TLSClientAuth{}

// Method returns "tls_client_auth".
func (TLSClientAuth) Method() string { return AuthMethodTLSClientAuth }

func (c TLSClientAuth) clientID() string { return c.ClientID }

// authenticate sets client_id in form.
func (c TLSClientAuth) authenticate(form url.Values, _ http.Header) error {
	return setClientID("TLSClientAuth.", c.ClientID, form)
}

// SelfSignedTLSClientAuth authenticates with a self-signed client
// certificate registered in the client's JWK Set:
// self_signed_tls_client_auth, RFC 8705 §2.2
// (https://datatracker.ietf.org/doc/html/rfc8705#section-2.2).
//
// As with [TLSClientAuth], only client_id is added; the [AuthTransport]'s
// Base MUST present the certificate during the TLS handshake.
type SelfSignedTLSClientAuth struct {
	// ClientID is the client identifier. Required.
	ClientID string
}

var _ ClientAuth = SelfSignedTLSClientAuth{}

// Method returns "self_signed_tls_client_auth".
func (SelfSignedTLSClientAuth) Method() string { return AuthMethodSelfSignedTLSClientAuth }

func (c SelfSignedTLSClientAuth) clientID() string { return c.ClientID }

// authenticate sets client_id in form.
func (c SelfSignedTLSClientAuth) authenticate(form url.Values, _ http.Header) error {
	return setClientID("SelfSignedTLSClientAuth.", c.ClientID, form)
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

func (c NoClientAuth) clientID() string { return c.ClientID }

// authenticate sets client_id in form.
func (c NoClientAuth) authenticate(form url.Values, _ http.Header) error {
	return setClientID("NoClientAuth.", c.ClientID, form)
}

func setClientID(typ, clientID string, form url.Values) error {
	if err := checkClientID(typ, clientID); err != nil {
		return err
	}
	form.Set("client_id", clientID)
	return nil
}

// checkClientID validates the ClientID field of the method type typ
// ("PrivateKeyJWT.", ...).
func checkClientID(typ, id string) error {
	if id == "" {
		return &ConfigError{Field: typ + "ClientID", Reason: "required"}
	}
	if !isVSChars(id) {
		// RFC 6749 Appendix A.1: client-id = *VSCHAR
		return &ConfigError{Field: typ + "ClientID", Reason: "must hold printable ASCII only (RFC 6749 Appendix A.1)"}
	}
	return nil
}

func checkSecret(typ, id, secret string) error {
	if err := checkClientID(typ, id); err != nil {
		return err
	}
	if secret == "" {
		return &ConfigError{Field: typ + "ClientSecret", Reason: "required"}
	}
	if !isVSChars(secret) {
		// RFC 6749 Appendix A.2: client-secret = *VSCHAR
		return &ConfigError{Field: typ + "ClientSecret", Reason: "must hold printable ASCII only (RFC 6749 Appendix A.2)"}
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

// isNil reports whether v is an interface holding a nil pointer, map,
// slice or func, on which a method call could panic.
func isNil(v any) bool {
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Invalid:
		return true
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Interface, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// quoteTrunc quotes s for an error message, truncated to 32 bytes.
func quoteTrunc(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return fmt.Sprintf("%q", s)
}
