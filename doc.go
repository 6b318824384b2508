// Package hardened makes OAuth 2.0 clients as safe as the FAPI 2.0 Security
// Profile (https://openid.net/specs/fapi-security-profile-2_0-final.html)
// demands, on top of golang.org/x/oauth2: oauth2.Config stays your type, and
// what x/oauth2 cannot do is added around it as plain config structs,
// http.RoundTrippers and middleware. ARCHITECTURE.md in the repository shows
// how the packages fit together.
//
// # The client: Config
//
// [Config] embeds oauth2.Config and is a whole FAPI 2.0 client: write the
// client ID, the issuer and the keys once, and every request is derived
// from them.
//
//	conf := &hardened.Config{
//		Config: oauth2.Config{ClientID: "app", RedirectURL: "https://app.example/cb", Scopes: []string{"openid"}},
//		Issuer: "https://as.example",
//		Key:    key, KeyID: kid, // hardened.LoadPrivateKey
//	}
//	login := hardened.NewLogin()
//	u, err := conf.AuthCodeURL(ctx, login.State, login.AuthCodeOptions()...)
//	code, err := conf.Callback(ctx, r, login.State)
//	tok, err := conf.Exchange(ctx, code, login.ExchangeOptions()...)
//	res, err := conf.Client(ctx, tok).Get("https://api.example/")
//
// Its defaults are the profile's: metadata discovered from the issuer (RFC
// 8414), pushed authorization requests (RFC 9126,
// https://datatracker.ietf.org/doc/html/rfc9126) carrying a signed request
// object (RFC 9101, https://datatracker.ietf.org/doc/html/rfc9101), PKCE
// with S256 (RFC 7636), the authorization response checked in one place
// (issuer per RFC 9207, https://datatracker.ietf.org/doc/html/rfc9207,
// state, JARM, error responses) before the code is used, private_key_jwt
// (RFC 7523) or mutual TLS (RFC 8705) client authentication,
// sender-constrained tokens (DPoP, RFC 9449,
// https://datatracker.ietf.org/doc/html/rfc9449, or certificate-bound
// tokens through the server's mtls_endpoint_aliases), ID tokens verified as
// OpenID Connect Core §3.1.3.7
// (https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)
// asks ([IDTokenFrom]), and ES256, PS256 and EdDSA only. Each weakening is a
// field named Insecure…. Token requests, refreshes ([Config.TokenSource],
// OnRefresh), client credentials ([Config.ClientCredentials]), revocation
// (RFC 7009) and introspection (RFC 7662) go through x/oauth2's own code or
// the same one *http.Client; the oauth2.Config methods that would bypass it
// are shadowed. [ResourceOption] (RFC 8707), [NonceOption] and
// jar.AuthorizationDetailsOption (RFC 9396) are per-call options.
//
// The pieces below are what Config is built of; use them directly to
// compose a client differently.
//
// # Client authentication: one transport
//
// [AuthTransport] is the one place in the module where client credentials
// are added to a request. It client-authenticates the requests to the
// endpoints it lists — pushed authorization requests (RFC 9126,
// https://datatracker.ietf.org/doc/html/rfc9126), token requests (RFC 6749
// §3.2, https://datatracker.ietf.org/doc/html/rfc6749#section-3.2),
// introspection (RFC 7662, https://datatracker.ietf.org/doc/html/rfc7662)
// and revocation (RFC 7009, https://datatracker.ietf.org/doc/html/rfc7009)
// — and passes every other request through untouched. So one *http.Client,
// whose transport stack is dpop.Transport → AuthTransport → TLS, serves the
// PAR, token, introspection, revocation and resource requests of a flow,
// with one DPoP nonce cache; the par and phantom packages take that
// *http.Client and add no credentials of their own. [Metadata.ClientAuthEndpoints]
// lists the endpoints from discovered metadata, with their
// mtls_endpoint_aliases for a client that uses a certificate.
//
// Its Auth is one of the [ClientAuth] methods: [PrivateKeyJWT]
// (private_key_jwt, RFC 7523 §2.2,
// https://datatracker.ietf.org/doc/html/rfc7523#section-2.2, with a fresh
// assertion and jti for every attempt, retries included), [ClientSecretBasic]
// and [ClientSecretPost] (RFC 6749 §2.3.1,
// https://datatracker.ietf.org/doc/html/rfc6749#section-2.3.1),
// [TLSClientAuth] and [SelfSignedTLSClientAuth] (RFC 8705 §2,
// https://datatracker.ietf.org/doc/html/rfc8705#section-2) and
// [NoClientAuth] for public clients. A request that reaches AuthTransport
// with credentials already on it (a client_secret or client_assertion
// parameter, an Authorization header, another client_id) is refused with
// [ErrConflictingCredentials] and nothing is sent: with x/oauth2, leave
// oauth2.Config's ClientSecret empty and use the endpoint
// [Metadata.OAuth2Endpoint] returns (AuthStyleInParams, never
// auto-detection).
//
// # Discovery
//
// [Discovery] and [Discover] fetch authorization server metadata (RFC 8414,
// https://datatracker.ietf.org/doc/html/rfc8414, and OpenID Connect
// Discovery 1.0): the issuer is compared byte for byte, every endpoint must
// be https, reads are bounded, redirects are never followed, and the
// document is parsed strictly (unique member names, registered types). The
// …Supported members of [Metadata] are what the server advertises, never
// an allow-list of this client.
//
// # Keys
//
// [ParsePrivateKey] and [LoadPrivateKey] read a private key — PEM (PKCS #8,
// SEC 1, PKCS #1) or a private JWK with its kid (RFC 7517,
// https://datatracker.ietf.org/doc/html/rfc7517) — for client assertions,
// request objects, DPoP proofs and JARM decryption alike;
// [MarshalPrivateKeyPEM] and [MarshalPrivateJWK] write one. This is the
// module's only key-file code: the protocol packages take crypto.Signer
// values, so KMS, HSM and PKCS #11 keys work everywhere.
//
// # Protocol packages
//
// Each can be used on its own, without the others:
//
//   - par: pushed authorization requests (RFC 9126).
//   - jar: JWT-secured authorization requests, request objects (RFC 9101).
//   - jarm: JWT-secured authorization response mode (JARM).
//   - dpop: DPoP proofs, client transport and server verifier (RFC 9449).
//   - mtlsbound: certificate-bound access tokens (RFC 8705 §3).
//   - phantom: a gateway that introspects opaque tokens (RFC 7662, RFC 9701)
//     and forwards a JWT upstream.
//
// # Errors
//
// Errors wrap the sentinels of this package (test them with errors.Is) and,
// where a caller needs data, are typed: [*ConfigError] names the
// misconfigured field and wraps [ErrInvalidConfig]; [*IDTokenError] names
// the failed ID token check; [*IssuerMismatchError] and [*StatusError] carry
// what discovery got. Config's methods wrap [ErrInvalidOption] (a missing
// or refused option, before any request), [ErrAuthorizationResponse] (a
// rejected callback), [ErrRequestFailed] (the server refused or could not
// be reached), [ErrNotSenderConstrained] and [ErrInvalidIDToken]. Every OAuth error response
// that any package of the module surfaces — a token or PAR endpoint's error
// body, an authorization or JARM error, a WWW-Authenticate challenge — is
// caught by one errors.As target, [*Error], with its Code, Description, URI
// and Status. Misconfiguration is reported on first use, never skipped;
// anything weaker than the default is a field named Insecure…, off by
// default. No error carries a secret, key, assertion or token, and text
// that came from a server is bounded and cleaned of control characters.
package hardened
