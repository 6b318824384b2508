// Package jar builds JWT-Secured Authorization Requests (JAR), RFC 9101
// (https://datatracker.ietf.org/doc/html/rfc9101), for an OAuth 2.0 client.
//
// [AuthCodeParams] turns an x/oauth2 Config, a state and AuthCodeOptions
// (PKCE with oauth2.S256ChallengeOption, dpop.JKTOption,
// [AuthorizationDetailsOption], ...) into the authorization request
// parameters, the one url.Values the module passes around: [AddResource]
// adds RFC 8707 resource indicators, the one parameter that repeats. A
// [Config] turns those parameters into a Request Object: a JWT whose claims
// are the parameters, signed with a crypto.Signer (so KMS and HSM keys
// work) and, when [Config.Encryption] is set, then encrypted to the
// authorization server as a nested JWT (RFC 9101 §4 and §6.1). The result
// is pushed with the par package (RFC 9126 §3), or delivered by value as
// the "request" parameter ([ByValue]) or by reference as a "request_uri"
// that a [Server] serves once to the authorization server ([ByReference]).
// [AuthCodeURL] builds the authorization URL carrying only client_id and
// request or request_uri.
//
// # Claims
//
// Every request object carries "iss" and "client_id" (the client ID), "aud"
// (the authorization server's issuer identifier, [Config.Issuer]), "iat",
// "nbf", "exp" (60 s after iat by default, never more than 60 minutes) and
// a random "jti", and its header carries "typ": "oauth-authz-req+jwt"
// (RFC 9101 §10.8), "alg" and, when configured, "kid". Parameters keep
// their JSON type as RFC 9101 §4 requires: "max_age" is a JSON number,
// "claims" a JSON object, "authorization_details" (RFC 9396) a JSON array,
// a repeated "resource" (RFC 8707) an array of strings and a single one a
// string; every other parameter, including unknown extensions, is a
// string.
//
// # Decisions
//
//   - Fail closed on ambiguous input. A parameter given twice (other than
//     "resource") is refused: RFC 6749 §3.1 forbids it and there is no way to
//     know which value was meant. "request" and "request_uri" are refused
//     inside a request object (RFC 9101 §4), as are the JWT claims the
//     package sets itself (iss, aud, exp, nbf, iat, jti), a client_id other
//     than the configured one (RFC 9101 §6.3), and a "sub" equal to the client
//     ID (RFC 9101 §10.8). Values must be valid UTF-8 (RFC 9101 §4); JSON
//     values ("claims", "authorization_details") follow the module's strict
//     JSON policy (no repeated member names); a parameter with an empty
//     value is treated as omitted (RFC 6749 §3.1). Each refusal is a
//     [*ParameterError] naming the parameter, never its value.
//   - "response_type" is required: an authorization request without it is
//     not one (RFC 6749 §4.1.1).
//   - The signing algorithm is an allow-list, by default ES256, PS256 and
//     EdDSA (FAPI 2.0); RS256 and others only when listed. "none" and HS*
//     cannot be expressed.
//   - The server's encryption keys are given as standard library public keys
//     in an [EncryptionKey], or parsed from its JWK Set with
//     [ParseEncryptionKeys]; no JOSE library type appears in the API. The
//     key management and content encryption algorithms are the intersection
//     of the server's metadata with what this module implements, in a fixed
//     preference order (see [Encryption]).
//   - [Server] answers only for its own URLs, BaseURL's path followed by an
//     identifier it handed out: any other path is 404 and consumes nothing.
//     It keeps at most MaxEntries request objects, each until it is
//     fetched or its "exp" passes; when full it refuses new ones with
//     [ErrServerFull] rather than evicting a live request object whose user
//     is on the way to the authorization server.
//   - Misconfiguration is a [*ConfigError] (wrapping [ErrInvalidConfig])
//     returned on first use, naming the field.
package jar
