// Package jose is the module's only door to JOSE: JSON Web Signatures
// (RFC 7515, https://datatracker.ietf.org/doc/html/rfc7515) with the
// algorithms of RFC 7518 §3 and RFC 8037, JSON Web Keys (RFC 7517,
// https://datatracker.ietf.org/doc/html/rfc7517) and their thumbprints
// (RFC 7638, https://datatracker.ietf.org/doc/html/rfc7638), JSON Web
// Encryption (RFC 7516, https://datatracker.ietf.org/doc/html/rfc7516) for
// nested JWTs (RFC 7519 §5.2), JWT claims (RFC 7519,
// https://datatracker.ietf.org/doc/html/rfc7519) and remote JWK Sets.
//
// Compact JWS signing and verification are written on the standard library
// (crypto/ecdsa, crypto/ed25519, crypto/rsa): they sit on the hot path of
// DPoP proofs and gateways, they need nothing more than RFC 7518 §3, and
// keeping them here lets the algorithm allow-list be enforced in one place.
// Signing takes any crypto.Signer, so KMS, HSM and PKCS #11 keys work; a
// signature of the wrong form from such a signer is an error, never a
// token. JWE, which needs key wrapping and content encryption, is delegated
// to github.com/lestrrat-go/jwx/v2; this package is the only importer of
// jwx, so a move to jwx/v3 touches it alone, and no jwx type leaves it.
//
// # What is rejected
//
// Every verifying function takes an explicit algorithm allow-list. Only
// asymmetric algorithms exist here: "none" and HS256/384/512 cannot be
// expressed, so they cannot be enabled by mistake, and a key is only used
// with an algorithm of its type and curve (RSA keys from 2048 to 16384
// bits). JWE "alg" and "enc" are checked against allow-lists, and "zip" and
// "crit" rejected, before any key is touched.
//
// Parsers are strict where leniency lets one token mean two things:
// base64url must be canonical and unpadded; JOSE headers, JWKs and JWK Sets
// must not repeat a member name, nor spell a known one in another case
// (encoding/json would match "ALG" to "alg" where other libraries do not),
// nor hold invalid UTF-8. [UnmarshalStrict] applies the same rules to claim
// sets. Inputs are bounded ([MaxTokenSize], [MaxJWKSize], [MaxJWKSetKeys]).
// Error messages carry the kind of failure and, at most, a truncated
// algorithm or key type name: never a token, a key or a payload.
package jose
