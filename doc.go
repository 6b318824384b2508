// Package hardened makes OAuth 2.0 clients as safe as the FAPI 2.0 Security
// Profile (https://openid.net/specs/fapi-security-profile-2_0-final.html)
// demands, on top of golang.org/x/oauth2: oauth2.Config stays your type, and
// what x/oauth2 cannot do is added around it as plain config structs,
// http.RoundTrippers and middleware.
//
// This release of the root package holds the two pieces every other part
// needs:
//
//   - Client authentication ([ClientAuth]) for the token, pushed
//     authorization request, introspection and revocation endpoints:
//     [PrivateKeyJWT] (private_key_jwt, RFC 7523 §2.2,
//     https://datatracker.ietf.org/doc/html/rfc7523), [ClientSecretBasic]
//     and [ClientSecretPost] (RFC 6749 §2.3.1,
//     https://datatracker.ietf.org/doc/html/rfc6749#section-2.3.1),
//     [TLSClientAuth] and [SelfSignedTLSClientAuth] (RFC 8705 §2,
//     https://datatracker.ietf.org/doc/html/rfc8705) and [NoClientAuth] for
//     public clients. [AuthTransport] applies one of them to the token
//     requests x/oauth2 sends, with a fresh client assertion per attempt;
//     with its Endpoints set to the token endpoint it passes every other
//     request through unchanged, so one http.Client (and one dpop.Transport
//     on top) serves the PAR, token and resource requests of a flow.
//   - Discovery ([Discovery], [Discover]) of authorization server metadata
//     (RFC 8414, https://datatracker.ietf.org/doc/html/rfc8414, and OpenID
//     Connect Discovery 1.0): the issuer is compared byte for byte, every
//     endpoint must be https, reads are bounded, and [Metadata.OAuth2Endpoint]
//     builds an oauth2.Endpoint with an explicit AuthStyle.
//
// A hardened.Config that embeds oauth2.Config and wires discovery, client
// authentication, PKCE, PAR, JAR, JARM, DPoP and mTLS together with FAPI 2.0
// defaults comes in a later release. The protocol packages can be used on
// their own meanwhile, each without the others:
//
//   - par: pushed authorization requests (RFC 9126).
//   - jar: JWT-secured authorization requests, request objects (RFC 9101).
//   - jarm: JWT-secured authorization response mode (JARM).
//   - dpop: DPoP proofs, client transport and server verifier (RFC 9449).
//   - mtlsbound: certificate-bound access tokens (RFC 8705 §3).
//   - phantom: a gateway that introspects opaque tokens (RFC 7662, RFC 9701)
//     and forwards a JWT upstream.
//
// par and phantom each define the one-method interface they consume,
//
//	Authenticate(form url.Values, header http.Header) error
//
// so that they never import this package: pass them a [ClientAuth] from
// here.
//
// Errors wrap the sentinels of errors.go (test them with errors.Is) and, where
// a caller needs data, are typed ([*ConfigError], [*IssuerMismatchError],
// [*StatusError]). Misconfiguration is reported on first use, never skipped;
// anything weaker than the default is a field named Insecure…, off by
// default. No error or log carries a secret, key, assertion or token.
package hardened
