package authserver

import (
	"crypto"
	"crypto/x509"
	"time"
)

// Client authentication methods (RFC 8414 §2 token_endpoint_auth_methods,
// RFC 7523 §2.2, RFC 8705 §2).
const (
	AuthPrivateKeyJWT       = "private_key_jwt"
	AuthClientSecretBasic   = "client_secret_basic"
	AuthClientSecretPost    = "client_secret_post"
	AuthTLSClient           = "tls_client_auth"
	AuthSelfSignedTLSClient = "self_signed_tls_client_auth"
	// AuthNone is a public client: it authenticates with its client_id only.
	AuthNone = "none"
)

// Grant types (RFC 6749 §4).
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// NonceMode selects when DPoP server nonces (RFC 9449 §8 and §9,
// https://datatracker.ietf.org/doc/html/rfc9449#section-8) are demanded.
type NonceMode int

const (
	// NonceOff issues no nonces; a proof that carries one is rejected, as
	// the server never gave it.
	NonceOff NonceMode = iota
	// NonceOptional sends a fresh nonce in every response and accepts a
	// proof without one; a proof with an unknown or expired nonce gets
	// use_dpop_nonce.
	NonceOptional
	// NonceRequired sends a fresh nonce in every response and answers
	// use_dpop_nonce to a proof without a valid one.
	NonceRequired
)

// TokenFormat selects the form of access tokens.
type TokenFormat int

const (
	// FormatDefault defers to the next level: a client's format to the
	// server's, the server's to FormatOpaque.
	FormatDefault TokenFormat = iota
	// FormatOpaque issues random strings, meaningful only through
	// introspection.
	FormatOpaque
	// FormatJWT issues RFC 9068 JWT access tokens (typ "at+jwt") signed with
	// the server's key. They are recorded like opaque tokens, so that
	// introspection and revocation work for them too.
	FormatJWT
)

// Config configures a [Server]. The zero value of each field is a safe
// default; Clients must list at least one client.
type Config struct {
	// Issuer is the issuer identifier (RFC 8414 §2). [New] requires it and
	// serves every endpoint under it. [Start] and [StartTLS] use the
	// listener's URL when it is empty; when it is set, it is the identifier
	// the server claims (in metadata, tokens and responses) while the
	// endpoints stay on the listener.
	Issuer string
	// Clients are the statically registered clients.
	Clients []Client
	// SigningKey signs ID tokens, JARM responses, JWT access tokens and JWT
	// introspection responses, with the algorithm of its type: ES256,
	// ES384 or ES512 by curve, EdDSA for Ed25519, PS256 for RSA. Nil means
	// a new ECDSA P-256 key (ES256).
	SigningKey crypto.Signer
	// RequestObjectKeys decrypt encrypted request objects: *ecdsa.PrivateKey
	// (ECDH-ES) or *rsa.PrivateKey (RSA-OAEP-256), published in the JWK Set
	// with use "enc". Nil means one new ECDSA P-256 key; RSA keys are never
	// generated here (too slow for start-up), pass one to test RSA-OAEP-256.
	RequestObjectKeys []crypto.PrivateKey
	// DPoPNonce is the nonce policy of the PAR and token endpoints. The zero
	// value is NonceOff.
	DPoPNonce NonceMode
	// UserinfoDPoPNonce is the nonce policy of /userinfo, with its own
	// nonces (RFC 9449 §9). The zero value is NonceOff.
	UserinfoDPoPNonce NonceMode
	// DPoPAlgorithms lists the accepted DPoP proof algorithms. Nil means
	// ES256, PS256 and EdDSA.
	DPoPAlgorithms []string
	// AccessTokenFormat is the default access token format. The zero value
	// is FormatOpaque. A client's AccessTokenFormat, and a token request's
	// "access_token_format" parameter ("jwt" or "opaque"), override it.
	AccessTokenFormat TokenFormat
	// PKI issues the TLS server certificate of [StartTLS] and the client
	// certificates of tls_client_auth clients. Nil means [StartTLS] creates
	// one; [Start] and [New] have none unless it is set.
	PKI *PKI
	// ClientCAs are the roots a tls_client_auth certificate must chain to.
	// Nil means the roots of PKI.
	ClientCAs *x509.CertPool
	// Subject is the "sub" of the automatically logged-in test user. Empty
	// means "test-user".
	Subject string
	// Skew is the clock skew tolerated on every time claim received. Zero
	// means 10 seconds.
	Skew time.Duration
	// CodeLifetime bounds authorization codes. Zero means 60 seconds.
	CodeLifetime time.Duration
	// RequestURILifetime is the expires_in of a pushed request. Zero means
	// 60 seconds.
	RequestURILifetime time.Duration
	// AccessTokenLifetime bounds access tokens. Zero means 10 minutes.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime bounds refresh tokens. Zero means 24 hours.
	RefreshTokenLifetime time.Duration
	// JARMLifetime is the lifetime of a JARM response. Zero means 60 seconds.
	JARMLifetime time.Duration
	// IDTokenLifetime is the lifetime of an ID token. Zero means 5 minutes.
	IDTokenLifetime time.Duration
	// MaxAssertionLifetime bounds how far in the future a client assertion's
	// "exp" may be. Zero means 5 minutes.
	MaxAssertionLifetime time.Duration
	// DPoPProofMaxAge bounds the age of a DPoP proof's "iat". Zero means 60
	// seconds.
	DPoPProofMaxAge time.Duration
	// NonceLifetime bounds how long a DPoP nonce is accepted. Zero means 5
	// minutes.
	NonceLifetime time.Duration
	// MaxEntries bounds each of the server's stores (pushed requests, codes,
	// tokens, seen jti values). When a store is full, expired entries are
	// purged and then the entry closest to expiry is evicted. Zero means
	// 10000.
	MaxEntries int
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// Misbehave makes the server wrong on purpose. The zero value is a
	// correct server.
	Misbehave Misbehave
}

// Client is a statically registered client.
type Client struct {
	// ID is the client_id. Required and unique.
	ID string
	// AuthMethod is the one client authentication method the client may use
	// at the PAR, token, introspection and revocation endpoints: one of the
	// Auth* constants. Required.
	AuthMethod string
	// Secret is the client secret of client_secret_basic and
	// client_secret_post.
	Secret string
	// Keys are public keys (*ecdsa.PublicKey, ed25519.PublicKey,
	// *rsa.PublicKey, or the matching private keys or crypto.Signers, whose
	// public halves are used) that verify the client's assertions and
	// request objects.
	Keys []crypto.PublicKey
	// JWKS is the client's public JWK Set in JSON, used like Keys. The
	// first "x5c" certificate of each key is also registered for
	// self_signed_tls_client_auth.
	JWKS []byte
	// Certificates are registered certificates for
	// self_signed_tls_client_auth: the client's TLS certificate must equal
	// one of them.
	Certificates []*x509.Certificate
	// TLSSubjectDN is the expected subject of a tls_client_auth certificate,
	// in the form of pkix.Name.String() (RFC 8705 §2.1.2
	// tls_client_auth_subject_dn), e.g. "CN=client,O=example".
	TLSSubjectDN string
	// RedirectURIs are the registered redirect URIs, compared exactly.
	RedirectURIs []string
	// GrantTypes are the grant types the client may use. Nil means
	// authorization_code and refresh_token.
	GrantTypes []string
	// RequirePAR accepts authorization requests only through a request_uri
	// from the PAR endpoint.
	RequirePAR bool
	// RequireSignedRequestObject requires every authorization request to be
	// a signed request object (RFC 9101).
	RequireSignedRequestObject bool
	// RequireEncryptedRequestObject requires the request object to be
	// encrypted to the server (and signed inside).
	RequireEncryptedRequestObject bool
	// RequireDPoP requires a DPoP proof at the token endpoint and issues
	// DPoP-bound tokens only.
	RequireDPoP bool
	// RequireMTLSBinding requires a client certificate at the token endpoint
	// and binds the access token to it (cnf x5t#S256, RFC 8705 §3).
	RequireMTLSBinding bool
	// RequireJARM requires a JWT response mode (jwt, query.jwt,
	// fragment.jwt, form_post.jwt).
	RequireJARM bool
	// JARMEncryptionKey, when set, encrypts JARM responses to the client:
	// RSA-OAEP-256 for an *rsa.PublicKey, ECDH-ES for an *ecdsa.PublicKey,
	// both with A256GCM.
	JARMEncryptionKey crypto.PublicKey
	// AccessTokenFormat overrides the server's access token format for this
	// client.
	AccessTokenFormat TokenFormat
	// Introspect allows the client to call the introspection endpoint (a
	// resource server). Other clients get 403 unauthorized_client there.
	Introspect bool
	// Scopes are the scope values the client may request, at the
	// authorization endpoint and in client_credentials requests; any other
	// is invalid_scope. Nil means any well-formed scope.
	Scopes []string
	// Resources are the resource indicators (RFC 8707,
	// https://datatracker.ietf.org/doc/html/rfc8707) the client may
	// request, compared exactly; any other is invalid_target. Nil means any
	// https URL, or an http URL on a loopback host (127.0.0.1, [::1],
	// localhost), without fragment or user information.
	Resources []string
	// AuthorizationDetailsTypes are the authorization_details types (RFC
	// 9396, https://datatracker.ietf.org/doc/html/rfc9396) the client may
	// request; any other is invalid_authorization_details. Nil means any
	// type.
	AuthorizationDetailsTypes []string
	// IDTokenAudiences are audiences added to the client_id in the "aud" of
	// the client's ID tokens (OpenID Connect Core §2); when there are any,
	// the ID tokens carry "azp" with the client_id. Nil means the client_id
	// alone, without azp.
	IDTokenAudiences []string
}

// Misbehave holds switches that make the server wrong on purpose, one way
// each, so that a client's negative tests can prove it notices. Every switch
// is off in the zero value.
type Misbehave struct {
	// WrongDiscoveryIssuer publishes metadata whose "issuer" differs from
	// the issuer identifier (RFC 8414 §3.3).
	WrongDiscoveryIssuer bool
	// WrongIssuer puts a different "iss" in authorization responses: the iss
	// parameter (RFC 9207) and the iss claim of JARM responses.
	WrongIssuer bool
	// OmitIssuer leaves "iss" out of authorization responses (parameter and
	// JARM claim).
	OmitIssuer bool
	// WrongState returns a "state" other than the one requested.
	WrongState bool
	// JARMForeignKey signs JARM responses with a key that is not in the
	// server's JWK Set.
	JARMForeignKey bool
	// JARMExpired issues JARM responses whose "exp" has passed.
	JARMExpired bool
	// JARMWrongAudience issues JARM responses whose "aud" is not the client.
	JARMWrongAudience bool
	// JARMAlgNone issues unsigned JARM responses (alg "none").
	JARMAlgNone bool
	// JARMUnencrypted sends signed but unencrypted JARM responses to clients
	// that registered an encryption key.
	JARMUnencrypted bool
	// PARExpiresIn, when not empty, is the raw JSON value sent as the PAR
	// response's expires_in instead of the real lifetime: "0", "-5",
	// "\"60\"", "null", "1e9".
	PARExpiresIn string
	// DemandNonceTwice answers use_dpop_nonce (with a new nonce) even to a
	// proof that carries a valid nonce, so that a client that retries once
	// sees the nonce demanded twice. It has an effect only while nonces are
	// enabled.
	DemandNonceTwice bool
	// OmitNonceHeader leaves the DPoP-Nonce header out of responses,
	// use_dpop_nonce errors included.
	OmitNonceHeader bool
	// BearerTokenType answers token_type "Bearer" for DPoP-bound tokens.
	BearerTokenType bool
	// OmitTokenType leaves token_type out of token responses.
	OmitTokenType bool
	// IntrospectionWrongType signs JWT introspection responses with typ
	// "JWT" instead of "token-introspection+jwt".
	IntrospectionWrongType bool
	// IntrospectionForeignKey signs JWT introspection responses with a key
	// that is not in the server's JWK Set.
	IntrospectionForeignKey bool
	// IntrospectionWrongAudience issues JWT introspection responses whose
	// "aud" is not the calling resource server.
	IntrospectionWrongAudience bool

	// The IDToken switches break ID tokens (OpenID Connect Core §2 and
	// §3.1.3.7) in one way each, both those of the code grant and those of
	// refresh, and leave every other claim and the signature correct.
	// Switches of one group (issuer; audience and azp; exp and iat; nonce;
	// algorithm and key) exclude each other: the first listed wins.

	// IDTokenWrongIssuer issues ID tokens whose "iss" is another issuer.
	IDTokenWrongIssuer bool
	// IDTokenOmitIssuer issues ID tokens without "iss".
	IDTokenOmitIssuer bool
	// IDTokenWrongAudience issues ID tokens whose "aud" is another client
	// (with the client's IDTokenAudiences, if any, and azp unchanged).
	IDTokenWrongAudience bool
	// IDTokenOmitAudience issues ID tokens without "aud".
	IDTokenOmitAudience bool
	// IDTokenUntrustedAudience adds an audience the client does not trust
	// to "aud" and leaves "azp" out.
	IDTokenUntrustedAudience bool
	// IDTokenWrongAZP issues ID tokens whose "azp" is another client, "aud"
	// unchanged.
	IDTokenWrongAZP bool
	// IDTokenExpired issues ID tokens whose "exp" has passed by two
	// minutes; "iat" (and "auth_time" if it was later) moves back with it.
	IDTokenExpired bool
	// IDTokenOmitExpiry issues ID tokens without "exp".
	IDTokenOmitExpiry bool
	// IDTokenIssuedInFuture issues ID tokens whose "iat" is a week ahead
	// ("exp" follows it).
	IDTokenIssuedInFuture bool
	// IDTokenWrongNonce issues ID tokens whose "nonce" is not the one the
	// authorization request sent (one is added when none was sent, and on
	// refresh).
	IDTokenWrongNonce bool
	// IDTokenOmitNonce leaves "nonce" out of ID tokens although the
	// authorization request sent one.
	IDTokenOmitNonce bool
	// IDTokenAlgNone issues unsigned ID tokens (alg "none", empty
	// signature).
	IDTokenAlgNone bool
	// IDTokenRS256 signs ID tokens with RS256, an algorithm outside the
	// FAPI 2.0 list, by an RSA key that the server generates and publishes
	// in its JWK Set (alg "RS256", its own kid), so that only the algorithm
	// is wrong. Generating the key slows start-up.
	IDTokenRS256 bool
	// IDTokenForeignKey signs ID tokens with a P-256 key (ES256, the
	// algorithm of the default signing key) that is not in the server's JWK
	// Set, under the kid of the server's signing key.
	IDTokenForeignKey bool
	// IDTokenHS256 signs ID tokens with HS256 keyed with the client's
	// Secret (its client_id when it has none): a symmetric algorithm where
	// FAPI 2.0 allows only asymmetric ones.
	IDTokenHS256 bool
	// IDTokenWrongATHash issues ID tokens whose "at_hash" is not the hash
	// of the access token beside it.
	IDTokenWrongATHash bool
	// IDTokenWrongCHash issues ID tokens of the code grant whose "c_hash"
	// is not the hash of the code redeemed. Refresh ID tokens have no
	// c_hash.
	IDTokenWrongCHash bool
}

const (
	defaultSubject        = "test-user"
	defaultSkew           = 10 * time.Second
	defaultCodeLifetime   = 60 * time.Second
	defaultRequestURITTL  = 60 * time.Second
	defaultAccessTTL      = 10 * time.Minute
	defaultRefreshTTL     = 24 * time.Hour
	defaultJARMTTL        = 60 * time.Second
	defaultIDTokenTTL     = 5 * time.Minute
	defaultAssertionMax   = 5 * time.Minute
	defaultDPoPMaxAge     = 60 * time.Second
	defaultNonceTTL       = 5 * time.Minute
	defaultMaxEntries     = 10000
	maxRequestObjectSpan  = 60 * time.Minute // RFC 9101 via FAPI 2.0 MS: exp - nbf
	maxFormBytes          = 64 << 10
	requestURIPrefix      = "urn:ietf:params:oauth:request_uri:"
	assertionTypeJWT      = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	typRequestObject      = "oauth-authz-req+jwt"
	typDPoP               = "dpop+jwt"
	typAccessToken        = "at+jwt"
	typIntrospection      = "token-introspection+jwt"
	mediaIntrospectionJWT = "application/token-introspection+jwt"
	mediaJWT              = "application/jwt"
)

func orDuration(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}
