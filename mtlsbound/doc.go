// Package mtlsbound implements RFC 8705, OAuth 2.0 Mutual-TLS Client
// Authentication and Certificate-Bound Access Tokens
// (https://datatracker.ietf.org/doc/html/rfc8705), on both sides.
//
// # Client side
//
// [Client] turns a certificate and key ([KeyPair] from PEM bytes,
// [LoadKeyPair] from files, or any tls.Certificate whose PrivateKey is a
// crypto.Signer, so hardware keys work) into a tls.Config, an
// *http.Transport and an *http.Client that present it, with TLS 1.2 at
// least, the module's timeouts and no redirects. Tokens the authorization
// server issues over that connection come back bound to the certificate;
// nothing else changes for the caller (the token type stays "Bearer").
//
// [Aliases] holds the server's mtls_endpoint_aliases (RFC 8705 §5) and
// [Aliases.Resolve] picks the alias of an endpoint when one is published.
//
// # Server side
//
// [Thumbprint] computes a certificate's x5t#S256. [ParseConfirmation],
// [ConfirmationFromClaims] and [ConfirmationFromIntrospection] read a
// token's "cnf" (RFC 8705 §3.1 and §3.2); [Confirmation.Verify] compares
// it with a presented certificate in constant time. [Verifier] puts it
// together for a resource server: [Verifier.Wrap] is net/http middleware
// that takes the Bearer token, verifies it with a user-supplied function
// (JWT validation or introspection), checks the binding against the
// client certificate of the TLS connection or of a trusted proxy's header,
// and hands the [Result] to the next handler through [FromContext].
//
// # Decisions
//
//   - Canonical thumbprints only. An x5t#S256 is accepted only in its one
//     canonical spelling: 43 unpadded base64url characters whose unused low
//     bits are zero. The decoded bytes are then compared. A lenient decoder
//     would map several strings to one digest; RFC 8705 §3.1's example value
//     ("...dg2", canonically "...dg0") is such a non-canonical string and is
//     rejected with [ErrMalformedConfirmation].
//   - Unbound tokens (no "cnf") are refused by default ([ErrNoBinding]), as a
//     FAPI 2.0 resource server requires; [Verifier.InsecureAllowUnbound]
//     admits them as plain bearer tokens.
//   - A "cnf" naming any confirmation method other than x5t#S256 (DPoP's jkt,
//     jwk, kid...) is refused with [ErrUnsupportedConfirmation], alone or
//     beside x5t#S256, even with InsecureAllowUnbound: this package cannot
//     check that method and will not let a token bound to it pass as a
//     bearer or mTLS-only token.
//   - The binding check compares thumbprints only. Whether an expired,
//     self-signed or untrusted certificate may connect at all is the TLS
//     layer's policy (tls.Config.ClientAuth, VerifyPeerCertificate, or the
//     proxy's); RFC 8705 §3 binds the token to the certificate that was
//     presented, so an expired certificate that matches still matches.
//   - Behind a TLS-terminating proxy, the certificate header is believed only
//     from [Verifier.TrustedProxies], and from them it is authoritative. See
//     [Verifier.ProxyHeader], [HeaderEscapedPEM] and [HeaderXFCC] (last
//     element wins).
//   - The verifier checks no time itself (token expiry is the Token
//     function's job, certificate validity the TLS layer's), so it has no Now
//     field.
//   - JSON from tokens and metadata is read member by member through the
//     module's strict JSON policy (internal/strictjson): names match exactly
//     (not with encoding/json's case folding), and two names of one object
//     equal under case folding, invalid UTF-8 or deep nesting are errors,
//     so "cnf" cannot be smuggled under a second spelling.
package mtlsbound
