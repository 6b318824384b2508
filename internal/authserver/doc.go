// Package authserver is a strict, in-process OAuth 2.0 authorization server
// implementing the FAPI 2.0 Security Profile
// (https://openid.net/specs/fapi-security-profile-2_0-final.html) and the
// FAPI 2.0 Message Signing profile, for the module's examples and end-to-end
// tests. It needs nothing but Go: `go run ./examples/...` and the root
// package's tests start it on a loopback listener.
//
// It is a test peer, so it is strict on purpose: a lenient server would
// hide client bugs. It does not import the module's client packages (dpop,
// jar, par, jarm, mtlsbound); every server-side check is written here on top
// of internal/jose and the standard library, which gives those packages an
// independent verification path.
//
// # What it serves
//
//   - Discovery: RFC 8414 (https://datatracker.ietf.org/doc/html/rfc8414) at
//     /.well-known/oauth-authorization-server and the OpenID Connect
//     Discovery document at /.well-known/openid-configuration, and the JWK
//     Set at /jwks (an ES256 signing key and the keys that decrypt request
//     objects).
//   - Pushed authorization requests, RFC 9126
//     (https://datatracker.ietf.org/doc/html/rfc9126), at /par: client
//     authentication, request objects (RFC 9101,
//     https://datatracker.ietf.org/doc/html/rfc9101) signed and optionally
//     encrypted, PKCE S256 only (RFC 7636,
//     https://datatracker.ietf.org/doc/html/rfc7636), dpop_jkt and DPoP proofs
//     (RFC 9449 §10, https://datatracker.ietf.org/doc/html/rfc9449#section-10).
//     A request_uri is single use, expires, and is bound to its client.
//   - Authorization at /authorize: a fixed test user is logged in with no UI
//     and no cookies, and the response carries code, state and iss (RFC 9207,
//     https://datatracker.ietf.org/doc/html/rfc9207), or a JARM response
//     (https://openid.net/specs/oauth-v2-jarm-final.html) in the query,
//     fragment or an auto-submitting form, signed with ES256 and optionally
//     encrypted to the client (RSA-OAEP-256 or ECDH-ES with A256GCM).
//   - The token endpoint at /token: authorization_code (single use; a second
//     use revokes what the first issued), refresh_token (rotated; reuse
//     revokes the grant) and client_credentials; client authentication by
//     private_key_jwt, client_secret_basic, client_secret_post,
//     tls_client_auth and self_signed_tls_client_auth (RFC 8705 §2,
//     https://datatracker.ietf.org/doc/html/rfc8705#section-2); DPoP proofs
//     checked as RFC 9449 §4.3 lists, with server nonces off, optional or
//     required; access tokens bound with cnf.jkt or cnf.x5t#S256, opaque or
//     JWT (RFC 9068, https://datatracker.ietf.org/doc/html/rfc9068).
//   - ID tokens (OpenID Connect Core 1.0 §2 and §3.1.3.3,
//     https://openid.net/specs/openid-connect-core-1_0.html): when the
//     authorization request's scope holds openid, the code grant's token
//     response carries an id_token signed by the server's signing key (its
//     kid in the header, its key in the JWK Set) with iss, sub, aud (the
//     client_id, plus Client.IDTokenAudiences with azp), exp, iat,
//     auth_time, nonce (from the authorization request), at_hash and
//     c_hash; a refresh of such a grant carries a new one with the original
//     auth_time and no nonce or c_hash (§12.2). at_hash and c_hash use the
//     hash of the signing algorithm, SHA-512 for EdDSA (errata set 2).
//   - Resource indicators, RFC 8707
//     (https://datatracker.ietf.org/doc/html/rfc8707): "resource", the one
//     parameter that may be repeated, in the authorization request, PAR,
//     request objects (a string or an array of strings) and token requests.
//     The access token's "aud" (JWT and introspection) is the resources, or
//     the /userinfo URL when none was requested; a token request names a
//     subset of the grant's resources, so a grant without any issues
//     default-audience tokens only.
//   - Rich authorization requests, RFC 9396
//     (https://datatracker.ietf.org/doc/html/rfc9396): authorization_details
//     as a JSON string parameter in the query, PAR and token requests, as a
//     JSON array (never a string) in request objects; validated strictly and
//     echoed in the token response, JWT access tokens and introspection. A
//     token request may narrow them to objects of the grant.
//   - Introspection, RFC 7662 (https://datatracker.ietf.org/doc/html/rfc7662),
//     at /introspect, as JSON or, for Accept:
//     application/token-introspection+jwt, as the signed JWT of RFC 9701
//     (https://datatracker.ietf.org/doc/html/rfc9701), or, for Accept:
//     application/jwt, as the access token itself in RFC 9068 form (the
//     "phantom token" pattern; an inactive token still gets the JSON
//     {"active":false}); revocation, RFC 7009
//     (https://datatracker.ietf.org/doc/html/rfc7009), at /revoke, with
//     client authentication; and a protected resource at /userinfo that
//     checks the token's audience and binding (a DPoP proof with ath and its
//     own nonces, or the mTLS certificate).
//
// When served over TLS ([StartTLS]) the listener requests (but does not
// require) client certificates, and the same endpoints are also offered
// under /mtls/ as the mtls_endpoint_aliases of RFC 8705 §5.
//
// # Decisions a client author should know
//
//   - The "aud" of a private_key_jwt client assertion must be the issuer
//     identifier, as a JSON string. The token endpoint URL and arrays are
//     rejected, as the FAPI 2.0 Security Profile §5.3.2.1 and
//     draft-ietf-oauth-rfc7523bis require against audience injection.
//   - A client assertion's "exp" is required and at most 5 minutes ahead
//     (MaxAssertionLifetime), its "jti" is single use; a DPoP proof's "iat"
//     must be within 60 seconds (DPoPProofMaxAge) plus the 10 second skew.
//   - A request object needs typ "oauth-authz-req+jwt", iss and client_id
//     equal to the client, aud containing the issuer, nbf (not in the future
//     beyond the skew), exp (at most 60 minutes after nbf) and jti (never
//     seen before); an encrypted one must be a nested JWT (cty "JWT").
//   - Every JSON document a client sends (request object claims, client
//     assertion claims, DPoP proof headers, embedded JWKs and claims, JWE
//     headers) is read under the policy of internal/strictjson: a
//     duplicate member, a member spelled in another case ("AUD" beside or
//     instead of "aud"), invalid UTF-8, an unpaired surrogate escape or
//     nesting deeper than strictjson.MaxDepth is rejected with the
//     error of the document (invalid_request_object, invalid_client,
//     invalid_dpop_proof), even where encoding/json would have picked one
//     reading.
//   - The Authorization field is read by httpx.Authorization: one field,
//     the scheme in any case, then a b64token and nothing else. At
//     /userinfo no field is a bare 401 challenge, another scheme, several
//     fields or a malformed token a 400 invalid_request; at the other
//     endpoints several fields or another scheme is invalid_request and
//     malformed Basic credentials invalid_client.
//   - Parameters sent with the authorization request besides client_id and
//     request_uri are ignored when a request_uri or a request object is used
//     (RFC 9101 §5, RFC 9126 §4); only the pushed parameters count.
//   - Authorization errors go to the redirect URI, with iss, when the client
//     and a registered redirect URI are known (from a redeemed request_uri,
//     a verified request object or the query); otherwise the endpoint
//     answers 400 with an RFC 6749 JSON error body rather than an HTML page.
//   - An authorization code is consumed by the first token request that
//     passes client authentication, DPoP and parameter syntax checks, even
//     if that request then fails (wrong verifier, redirect URI, key,
//     resource or authorization_details), so codes cannot be probed.
//   - Revoking an access token revokes that token alone; revoking a refresh
//     token revokes its whole grant (every access and refresh token of the
//     same code or request), as RFC 7009 §2.1 allows. token_type_hint must
//     be access_token or refresh_token (else unsupported_token_type) and is
//     only a hint. Revoked tokens are inactive at introspection and refused
//     at /userinfo.
//   - client_credentials tokens are bound like the others (the DPoP proof's
//     key, or the certificate of a RequireMTLSBinding client); the scope
//     openid is invalid_scope there (no end-user, no ID token), and no
//     refresh token is issued.
//   - Resources are checked against Client.Resources, or by default allowed
//     when https, or http on a loopback host; authorization_details types
//     against Client.AuthorizationDetailsTypes (any type by default; the
//     union of the lists is advertised as
//     authorization_details_types_supported); scopes against
//     Client.Scopes (any by default). /userinfo accepts only tokens whose
//     audience names it.
//   - Only "resource" may be repeated; any other repeated parameter is
//     invalid_request. Unknown parameters are ignored (RFC 6749 §3.1).
//   - DPoP nonces are stateless (an HMAC over an expiry time), one secret for
//     the authorization server and another for /userinfo, and a fresh nonce
//     is sent in every response of those endpoints while nonces are enabled.
//   - Refresh tokens of public clients are bound to the DPoP key (or client
//     certificate) of the first token request; a grant that started DPoP
//     bound cannot be refreshed without a proof.
//
// [Misbehave] switches make the server deliberately wrong in one way each,
// for the negative end-to-end tests of the client packages; the IDToken…
// switches cover each ID token check of OpenID Connect Core §3.1.3.7 and
// the FAPI 2.0 algorithm rules. Switches of the same group (the issuer, the
// audience, the signature, the nonce) exclude each other: the first listed
// in [Misbehave] wins.
//
// [StartDefault] starts a server with a ready set of clients and keys for
// examples.
package authserver
