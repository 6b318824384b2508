// Package interop holds the interoperability tests of the module against a
// real, independent authorization server: node-oidc-provider
// (https://github.com/panva/node-oidc-provider, npm oidc-provider 9.x, an
// OpenID-certified FAPI 2.0 implementation), run on loopback with TLS.
//
// The package has no code of its own; everything is in its tests. TestMain
// generates a test PKI (a CA, a server certificate for 127.0.0.1 and
// localhost, self-signed and CA-issued client certificates) and client keys,
// writes one JSON configuration per peer, and starts three peers with
// peer/server.mjs, one per DPoP nonce mode (off, optional, required). The
// Go side keeps every private key; the peers only get public JWK Sets and
// certificates.
//
// The flows covered are those of the FAPI 2.0 Security Profile
// (https://openid.net/specs/fapi-security-profile-2_0-final.html):
// discovery (RFC 8414, https://datatracker.ietf.org/doc/html/rfc8414), PAR
// (RFC 9126), signed and encrypted request objects (RFC 9101), JARM, DPoP
// with and without nonces (RFC 9449), mTLS client authentication and
// certificate-bound tokens (RFC 8705), introspection in JSON and JWT
// (RFC 7662, RFC 9701), and userinfo.
//
// The peer needs Node.js and the npm packages pinned in package-lock.json:
//
//	npm ci --prefix internal/interop
//
// Without them the tests print a banner and pass without running, unless
// HARDENED_REQUIRE_INTEROP=1 is set (as CI does), in which case they fail.
package interop
