// Package mtlsbound implements RFC 8705, OAuth 2.0 Mutual-TLS Client
// Authentication and Certificate-Bound Access Tokens
// (https://datatracker.ietf.org/doc/html/rfc8705), on both sides.
//
// # Client side
//
// [Client] turns a tls.Certificate (whose PrivateKey may be any
// crypto.Signer, so hardware keys work) into a tls.Config, an
// *http.Transport and an *http.Client that present it, with the module's
// default TLS settings and timeouts and no redirects. Tokens the
// authorization server issues over that connection come back bound to the
// certificate; nothing else changes for the caller (the token type stays
// "Bearer").
//
// [Aliases] holds the server's mtls_endpoint_aliases (RFC 8705 §5) and
// [Aliases.Resolve] picks the alias of an endpoint when one is published.
//
// # Server side
//
// [Thumbprint] computes a certificate's x5t#S256. [ParseConfirmation] and
// [ConfirmationFromClaims] read a token's "cnf" (RFC 8705 §3.1 and §3.2)
// into a [Confirmation], the same shape as dpop's. [Verifier] puts it
// together for a resource server: [Verifier.Wrap] is net/http middleware
// that takes the access token, verifies it with a user-supplied function
// (JWT validation or introspection), checks the binding against the client
// certificate of the TLS connection or of a trusted proxy's header, and
// hands the [Result] to the next handler through [FromContext].
// [Verifier.Check] is the binding check alone, for a gateway that verified
// the token itself. With a [KeyResolver] in [Verifier.Keys], tokens bound
// by "kid" or "jku" (RFC 7800 §3.4, §3.5) are checked against the
// certificate's public key.
//
// # Decisions
//
//   - One cnf parser. "cnf" is read by the module's one RFC 7800 parser,
//     shared with dpop and the gateway, so that every component sees the
//     same methods in the same document.
//   - Canonical thumbprints only. An x5t#S256 is accepted only in its one
//     canonical spelling: 43 unpadded base64url characters whose unused low
//     bits are zero. A lenient decoder would map several strings to one
//     digest; RFC 8705 §3.1's example value ("...dg2", canonically
//     "...dg0") is such a non-canonical string and is rejected with
//     [ErrMalformedConfirmation].
//   - Unbound tokens (no "cnf") are refused by default ([ErrUnbound]), as a
//     FAPI 2.0 resource server requires; [Verifier.InsecureAllowUnbound]
//     admits them as plain bearer tokens.
//   - Every method in "cnf" must be checked by someone. x5t#S256 is checked
//     here; "jkt" and "jwk" pass only when listed in
//     [Verifier.CheckedElsewhere] (a dpop.Verifier checks them for the same
//     request); unregistered members such as "jwe" (a symmetric key) are
//     always refused with [ErrUnsupportedConfirmation], even with
//     InsecureAllowUnbound: a token bound to a method nobody checks would
//     otherwise pass as a bearer token.
//   - "kid" and "jku" (RFC 7800 §3.4, §3.5) are refused unless
//     [Verifier.Keys] resolves them ([JWKSResolver]: "kid" alone in the
//     client's registered JWK Set, "jku" only from an allow-list, fetched
//     over https without following redirects, cached and kept through an
//     outage). All members of one "cnf" name one key: the certificate's
//     public key must be the resolved key (same type, same RFC 7638
//     thumbprint), and its x5t#S256 must match a "x5t#S256" beside "kid".
//     A "kid" beside "jkt" or "jwk" names that DPoP key instead, and goes
//     with them to the dpop verifier. A "kid" known to no key or to two
//     and a "jku" off the list are [ErrUnknownKey]; a set that cannot be
//     fetched is [ErrKeyUnavailable] (503).
//   - The binding check compares thumbprints only. Whether an expired,
//     self-signed or untrusted certificate may connect at all is the TLS
//     layer's policy (tls.Config.ClientAuth, VerifyPeerCertificate, or the
//     proxy's); RFC 8705 §3 binds the token to the certificate that was
//     presented, so an expired certificate that matches still matches.
//   - Behind a TLS-terminating proxy, the certificate header is believed only
//     from [Verifier.TrustedProxies], and from them it is authoritative. See
//     [Verifier.ProxyHeader], [HeaderEscapedPEM] and [HeaderXFCC] (last
//     element wins, and the value must hold exactly
//     [Verifier.XFCCElements] elements, one by default: Envoy writes SANs
//     unquoted, so a client certificate's SAN could otherwise add one).
//   - The verifier checks no time itself (token expiry is the Token
//     function's job, certificate validity the TLS layer's), so it has no Now
//     field.
//   - Key files are read by the root package (LoadPrivateKey), or by
//     crypto/tls for a certificate and key pair; this package takes a
//     tls.Certificate.
//   - JSON from tokens and metadata is read member by member through the
//     module's strict JSON policy: names match exactly (not with
//     encoding/json's case folding), and two names of one object equal
//     under case folding, a case variant of "cnf", "active" or a method
//     name, invalid UTF-8 or deep nesting are errors, so "cnf" cannot be
//     smuggled under a second spelling.
package mtlsbound
