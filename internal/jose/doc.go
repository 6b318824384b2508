// Package jose is the module's only door to JOSE: JSON Web Signatures
// (RFC 7515, https://datatracker.ietf.org/doc/html/rfc7515), JSON Web Keys
// (RFC 7517) and their thumbprints (RFC 7638,
// https://datatracker.ietf.org/doc/html/rfc7638), JSON Web Encryption
// (RFC 7516) for nested JWTs (RFC 7519 §5.2), and remote JWK Sets.
//
// Compact JWS signing and verification are written on the standard library
// (crypto/ecdsa, crypto/ed25519, crypto/rsa): they sit on the hot path of
// DPoP proofs and gateways, they need nothing more than RFC 7518 §3, and
// keeping them here lets the algorithm allow-list be enforced in one place.
// JWE, which needs key wrapping and content encryption, is delegated to
// github.com/lestrrat-go/jwx/v2; this package is the only importer of jwx, so
// a move to jwx/v3 touches it alone, and no jwx type leaves it.
//
// Every verifying function takes an explicit algorithm allow-list. Only
// asymmetric algorithms exist here: "none" and HS256/384/512 cannot be
// expressed, so they cannot be enabled by mistake.
package jose
