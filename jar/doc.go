// Package jar builds JWT-Secured Authorization Requests (JAR), RFC 9101
// (https://datatracker.ietf.org/doc/html/rfc9101), for an OAuth 2.0 client.
//
// A [Config] turns authorization request parameters (an url.Values, as
// x/oauth2's AuthCodeURL would put them in the query, see [AuthCodeParams])
// into a Request Object: a JWT whose claims are the parameters, signed with a
// crypto.Signer (so KMS and HSM keys work) and, when [Config.Encryption] is
// set, then encrypted to the authorization server as a nested JWT
// (RFC 9101 §4 and §6.1). The result is delivered either by value, as the
// "request" parameter ([ByValue], [RequestOption]), or by reference, as a
// "request_uri" that a [Server] serves once to the authorization server
// ([ByReference], [RequestURIOption]). [AuthCodeURL] builds the
// authorization URL carrying only client_id and request or request_uri.
//
// # Claims
//
// Every request object carries "iss" and "client_id" (the client ID), "aud"
// (the authorization server's issuer identifier), "iat", "nbf", "exp" (60 s
// after iat by default, never more than 60 minutes) and a random "jti", and
// its header carries "typ": "oauth-authz-req+jwt" (RFC 9101 §10.8), "alg"
// and, when configured, "kid". Parameters keep their JSON type as RFC 9101
// §4 requires: "max_age" is a JSON number, "claims" a JSON object,
// "authorization_details" (RFC 9396) a JSON array, a repeated "resource"
// (RFC 8707) an array of strings and a single one a string; every other
// parameter, including unknown extensions, is a string.
//
// # Decisions
//
//   - Fail closed on ambiguous input. A parameter given twice (other than
//     "resource") is refused: RFC 6749 §3.1 forbids it and there is no way to
//     know which value was meant. "request" and "request_uri" are refused
//     inside a request object (RFC 9101 §4), as are the JWT claims the
//     package sets itself (iss, aud, exp, nbf, iat, jti), a client_id other
//     than the configured one (RFC 9101 §6.3), and a "sub" equal to the client
//     ID (RFC 9101 §10.8). Values must be valid UTF-8 (RFC 9101 §4); a
//     parameter with an empty value is treated as omitted (RFC 6749 §3.1).
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
//   - [Server] keeps at most MaxEntries request objects, each until it is
//     fetched or its "exp" passes; when full it refuses new ones with
//     [ErrServerFull] rather than evicting a live request object whose user
//     is on the way to the authorization server.
package jar
