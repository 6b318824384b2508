// Package jarm validates OAuth 2.0 authorization responses on the client:
// JWT Secured Authorization Response Mode for OAuth 2.0 (JARM,
// https://openid.net/specs/oauth-v2-jarm.html), signed or signed then
// encrypted, and plain responses carrying the issuer identifier of RFC 9207
// (https://datatracker.ietf.org/doc/html/rfc9207). It is the one place where
// a callback is checked before its code is used: issuer (mix-up defence),
// audience, expiry, signature, state, then the error or the code.
//
// # Use
//
// Build one [Decoder] per authorization server with [NewDecoder] and share
// it: it is safe for concurrent use and caches the server's keys. Ask for
// a JWT response mode with [ResponseModeOption]. Then decode with:
//
//   - [Decoder.DecodeRequest] in the redirect handler: query.jwt, jwt and
//     plain query responses (GET), form_post.jwt and form_post (POST);
//   - [Decoder.DecodeURL] with a whole redirect URL (a headless client);
//   - [Decoder.DecodeFragment] for fragment.jwt, with the fragment the
//     page's script hands over;
//   - [Decoder.Decode] with parameters already parsed.
//
// Each returns a [Response] holding the code, state and issuer, or an
// error. An error response from the server (inside a valid JARM, or a plain
// one that passed the issuer and state checks) is an [*AuthorizationError]
// with the RFC 6749 fields; it unwraps to the module's OAuth error value,
// so the root package's *hardened.Error catches it with [errors.As]. Every
// other failure wraps one of the sentinels of errors.go, for [errors.Is];
// a bad [Config] is a [*ConfigError]. [HTTPStatus] maps an error to the
// status a redirect endpoint should answer with.
//
// # Processing order
//
// A JARM response is processed as JARM §2.4
// (https://openid.net/specs/oauth-v2-jarm.html#section-2.4) lists: decrypt
// (when the Decoder has decryption keys), then check "iss", "aud" and
// "exp" of the still unverified payload, then verify the signature. The issuer is thus
// checked before any key is looked up, as JARM §5.1 requires, so a response
// naming another issuer never causes a JWKS fetch. Only after the signature
// verifies are "state", "error" and "code" read.
//
// # Decisions
//
//   - JARM is required as soon as the Decoder has verification keys
//     (JWKSURL, KeySource, Keys or JWKS): a plain response is then a downgrade and
//     fails with [ErrPlainResponse], error responses included (an
//     unsigned error cannot be told from a forged one).
//     [Config.InsecureAllowPlainResponses] admits them during a migration.
//     A Decoder without keys handles plain responses only.
//   - Encryption is required as soon as the Decoder has decryption keys: a
//     JWS then fails with [ErrNotEncrypted].
//   - Mixed responses are refused ([ErrMalformed]): when "response" is
//     present, none of the authorization response parameters ("code",
//     "state", "iss", "error", "error_description", "error_uri",
//     "access_token", "token_type", "expires_in", "scope", "id_token",
//     "session_state") may appear beside it, since only the JWT is signed.
//     Other parameters (a redirect URI's own query) are ignored. The same
//     holds between query and fragment in [Decoder.DecodeURL], and between
//     the URL query and the body of a form post in [Decoder.DecodeRequest].
//   - Each parameter may appear once (RFC 6749 §3.1); a repeated one is
//     [ErrMalformed].
//   - Algorithms are allow-lists. The default is the server's
//     authorization_signing_alg_values_supported
//     ([Config.AuthorizationSigningAlgValuesSupported]) intersected with
//     {ES256, PS256, EdDSA}, or that set itself when the metadata list is
//     not given. RS256 is accepted only when listed in
//     [Config.Algorithms]. "none" and HS* cannot be expressed at all: JARM
//     responses signed with a client secret (JARM §2.2) are not supported.
//     JWE "alg" defaults to RSA-OAEP-256, ECDH-ES, ECDH-ES+A128KW,
//     ECDH-ES+A192KW and ECDH-ES+A256KW; "enc" to A128GCM, A192GCM, A256GCM, A128CBC-HS256,
//     A192CBC-HS384 and A256CBC-HS512. RSA1_5, RSA-OAEP (SHA-1) and
//     compressed JWEs are refused.
//   - Time: "exp" is required and must be later than now minus
//     [Config.Skew] (default [DefaultSkew], 10 s); "iat" and "nbf", when
//     present, must not be later than now plus the skew. Responses are used
//     seconds after they are issued, so the skew only absorbs clock drift.
//   - Lifetime is bounded: "exp" may lie at most [Config.MaxLifetime]
//     (default [DefaultMaxLifetime], the 10 minutes JARM §2.1 recommends)
//     plus the skew after now, and "exp" − "iat", when "iat" is present, at
//     most MaxLifetime ([ErrLifetimeTooLong]). A response valid for years
//     would be a token an attacker who once saw it could replay.
//   - State is compared in constant time. An empty expected state is a
//     caller error ([ErrNoExpectedState]) unless
//     [Config.InsecureAllowNoState] is set, in which case the response must
//     not carry a state either.
//   - Only response_type=code is supported: a response with neither "code"
//     nor "error", or both, is [ErrMalformed]. This also stops another JWT
//     of the same server (an ID token, say) from passing as a response.
//   - Server text is cleaned: error_description goes through the module's
//     one sanitizer (bounded to 1 KiB, control characters replaced), an
//     error_uri outside RFC 6749's characters is dropped, and an invalid
//     "error" code is [ErrMalformed].
//   - Claims are read member by member with exact names, through the
//     module's strict JSON policy (internal/strictjson): two members of one
//     object whose names are equal under case folding ("iss" twice, "iss"
//     and "ISS"), invalid UTF-8 anywhere, a non-string code or state is
//     [ErrMalformed]; encoding/json's case folding ("ISS" alone for "iss")
//     does not apply.
//   - The JWS "typ" and the JWE "cty" headers are not checked: JARM
//     defines no type, and servers differ. Requiring "code" (or "error")
//     and this client's "aud" keeps other JWTs of the server out.
//   - Remote keys come from an https JWKSURL only, through an internal cache
//     that refetches on an unknown "kid" (at most once every 30 s), keeps the
//     last good set when a fetch fails (for at most 24 hours past its
//     hourly refresh) and runs one fetch at a time. No
//     fetch follows a redirect, whatever [Config.HTTPClient] says: a 3xx is
//     a failed fetch ([ErrKeySetUnavailable]), so a jwks_uri that redirects
//     to http or to another host cannot hand over an attacker's keys.
//   - Sentinels are few, one per action a caller can take; the text after
//     the sentinel says which check failed. A missing claim fails the check
//     of that claim: no "iss" is [ErrIssuerMismatch], no "aud"
//     [ErrAudienceMismatch], no "state" [ErrStateMismatch], no "exp"
//     [ErrLifetimeTooLong] (an unbounded lifetime); an unknown "kid" is
//     [ErrInvalidSignature].
//   - Sizes are bounded: the "response" value by [Config.MaxResponseBytes]
//     (default 16 KiB), URLs, queries, fragments and form bodies by
//     [Config.MaxBodyBytes] (default 64 KiB).
package jarm
