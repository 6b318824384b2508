// Package interop holds the interoperability tests of the module against a
// real, independent authorization server: node-oidc-provider 9.13.3
// (https://github.com/panva/node-oidc-provider, npm oidc-provider, an
// OpenID-certified FAPI 2.0 implementation), run on loopback with TLS. The
// client side of every flow is the module's public API (the root package
// hardened, and par, jar, jarm, dpop, mtlsbound); the tests only play the
// user agent, record traffic, and check the peer's answers independently
// (SHA-256 and RFC 7638 thumbprints computed in the test, the peer's JWTs
// verified with internal/jose against its JWK Set).
//
// The package has no code of its own; everything is in its tests. TestMain
// generates a test PKI (a CA, a server certificate for 127.0.0.1 and
// localhost, self-signed and CA-issued client certificates) and client keys,
// writes one JSON configuration per peer, and starts three peers with
// peer/server.mjs, one per DPoP nonce mode (off, optional, required). The
// Go side keeps every private key; the peers only get public JWK Sets and
// certificates.
//
// # Flows
//
// Discovery (RFC 8414, https://datatracker.ietf.org/doc/html/rfc8414):
// hardened.Discovery fetches and strictly validates each peer's metadata;
// the mtls_endpoint_aliases (RFC 8705 §5) are read by hardened.Metadata and
// mtlsbound alike. Asked under another host name, the peer's document names
// its own issuer and discovery refuses it.
//
// FAPI 2.0 authorization code flow
// (https://openid.net/specs/fapi-security-profile-2_0-final.html), in each
// nonce mode: a jar request object (RFC 9101) signed with ES256, or signed
// and then encrypted to the peer's ECDH-ES or RSA-OAEP-256 key from its JWK
// Set, carrying PKCE, response_mode jwt or query.jwt and dpop_jkt; pushed by
// par (RFC 9126); a headless authorization; the callback validated by
// jarm.Decoder (JARM, signed, or signed then encrypted to the client); the
// code exchanged and the token refreshed by x/oauth2; userinfo called
// through x/oauth2's transport (ath). PAR, the token endpoint and userinfo
// share one client stack: dpop.Transport (RFC 9449) over
// hardened.AuthTransport, which lists the endpoints of
// Metadata.ClientAuthEndpoints and is the only source of the
// hardened.PrivateKeyJWT assertions (par adds none). The peer's
// introspection, in JSON and as an RFC 9701 JWT (typ
// token-introspection+jwt, verified against its JWK Set), shows the cnf.jkt
// that dpop computed; a dpop.Verifier accepts every proof the peer
// accepted (VerifyProof at the authorization server's endpoints, Check at
// userinfo) and refuses each replayed; an mtlsbound.Verifier refuses to
// vouch for the jkt-bound token. With nonces required, PAR answers 400
// use_dpop_nonce and userinfo 401, once each; the token endpoint never
// asks, because the one dpop.Transport reuses the nonce learned at PAR. The
// retries are accepted although the peer refuses a reused client assertion
// or proof, so each retry carried a fresh one. A token for an at+jwt
// resource (RFC 9068) is accepted by a dpop.Verifier.Wrap resource server,
// and refused with another key's proof or a replayed proof.
//
// Mutual TLS (RFC 8705): client credentials with self_signed_tls_client_auth
// and tls_client_auth through mtlsbound.Client at the mTLS aliases; the
// token's cnf x5t#S256 (introspected, or in an at+jwt) is the certificate's
// SHA-256, which mtlsbound.Verifier.Check accepts with that certificate and
// refuses with another; a resource server behind mtlsbound.Verifier.Wrap, on a TLS server
// that requests client certificates, accepts the token with that
// certificate and refuses it (401 invalid_token) with another certificate,
// without one, and after revocation (RFC 7009). The peer refuses forged or
// unregistered certificates.
//
// hardened.Config, the module's one-value FAPI 2.0 client (TestWrapperLogin),
// in each nonce mode: discovery, PAR with a signed request object (or one
// encrypted to the peer's key, EncryptRequestObject), private_key_jwt, the
// headless authorization (internal/headless), JARM jwt and query.jwt,
// signed and encrypted, the ID token, the code exchange with DPoP, userinfo
// with the bound token, a refresh whose rotated refresh token OnRefresh
// receives, revocation, and introspection showing the tokens inactive; the
// same with mutual TLS (self-signed and PKI) instead of DPoP, with
// certificate-bound tokens. Each login's requests are counted per endpoint
// (http.Transport's Proxy hook, not a timer) and must be the minimum: one
// discovery, one JWK Set fetch, and, with nonces required, exactly one
// use_dpop_nonce answer from the authorization server (at PAR) and one
// from userinfo, none after. TestWrapperClientCredentials does the client
// credentials grant through the Config, DPoP-bound and certificate-bound,
// against resource servers behind dpop.Verifier and mtlsbound.Verifier.
//
// phantom (TestPhantomGateway): a Gateway in front of a recording upstream
// introspects the peer's opaque tokens (node-oidc-provider introspects no
// at+jwt token) in each nonce mode, forwarding the peer's signed RFC 9701
// response or its own JWT; DPoP-bound, certificate-bound and unbound tokens
// pass as verified JWTs carrying their binding; another key's proof, a
// missing certificate and a revoked token (once the cache TTL has passed)
// are refused, and the upstream never sees a refused request.
//
// examples/fapi2 (TestExampleFAPI2) is built and run with its flags against
// the peer: exit 0 with DPoP or certificate-bound tokens, signed or
// encrypted JARM; exit 1, with one line on stderr, for a wrong -issuer.
//
// Rejections: the packages refuse the peer's real answers when they are not
// for them (JARM for another client, issuer or state, or unencrypted where
// encryption is required; a replayed code; a request object for another
// audience, reported by par as the peer's invalid_request_object).
//
// Failures print the peer's error responses (in the module's errors, and in
// the peer's own log of each refusal with its reason), the traffic each
// client transport recorded (without tokens) and the peer's stderr.
//
// # Running
//
// The peer needs Node.js 20.19 or later and the npm packages pinned in
// package-lock.json:
//
//	npm ci --prefix internal/interop
//
// Without them the tests print a banner and pass without running, unless
// HARDENED_REQUIRE_INTEROP=1 or HARDENED_REQUIRE_PEERS=1 is set (as CI
// does), in which case they fail.
package interop
