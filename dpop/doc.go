// Package dpop implements OAuth 2.0 Demonstrating Proof of Possession
// (DPoP), RFC 9449 (https://datatracker.ietf.org/doc/html/rfc9449), on both
// sides.
//
// # Client side
//
// [NewProofer] turns a crypto.Signer (ES256 by default; ES384, ES512,
// PS256, PS384, PS512 and EdDSA as well) into a [Proofer] that mints
// proofs (RFC 9449 §4.2) and knows its key thumbprint ([Proofer.JKT]) for
// "dpop_jkt" ([JKTOption], [SetJKT], RFC 9449 §10). [Transport] is an
// http.RoundTripper that adds a proof to every request, turns DPoP tokens
// into "Authorization: DPoP", remembers server nonces per origin and
// retries once when a server asks for a new one; it composes with
// golang.org/x/oauth2's Exchange, refresh and Client (see [Transport]).
// [GenerateKey] makes a P-256 key; keys are persisted and loaded by the
// root package (hardened.ParsePrivateKey and friends), the module's one
// place for key files, since DPoP-bound refresh tokens only work with the
// key they are bound to.
//
// # Server side
//
// [Verifier] checks proofs (every item of RFC 9449 §4.3), the binding of
// an access token to the proof key (§6, §7.1: "cnf" "jkt", "jwk" of
// RFC 7800 §3.2 and, with a [KeyResolver] such as [JWKSResolver] in
// [Verifier.Keys], "kid" and "jku" of RFC 7800 §3.4 and §3.5), replays (§11.1, through a [ReplayStore]: [MemoryStore]
// or dpop/redisstore) and, with [Nonces], stateless server nonces (§8, §9).
// Its verbs are those of mtlsbound.Verifier:
//
//   - [Verifier.Verify] checks a whole resource request (Authorization
//     header, [Verifier.Token], binding); [Verifier.Wrap] is the same as
//     net/http middleware, passing a [Result] to the handler through
//     [FromContext].
//   - [Verifier.Check] checks the binding of a token whose claims the
//     caller already verified: a gateway's verb. A gateway answers a
//     failure with [Verifier.WriteError] (or builds its own challenge with
//     [Verifier.Algs]) and a success with [Verifier.AdvanceNonce].
//   - [Verifier.VerifyProof] checks the proof of a token or PAR request at
//     an authorization server, answered by [Verifier.WriteTokenError].
//
// # Decisions
//
//   - The expected "htu" is [Verifier.BaseURL], which is required,
//     followed by the request's path: the origin never comes from the
//     request (Host, TLS state, X-Forwarded-*), which the client controls.
//     With a path prefix in BaseURL, request paths must be in clean form
//     ("..", ".", "//" and percent-encoded dots, slashes and backslashes
//     are refused), so that no path moves the expected "htu" out of the
//     prefix. "htu" is otherwise compared after RFC 3986 §6.2.2/§6.2.3
//     normalization.
//   - "cnf" is read by the module's one parser ([ConfirmationFromClaims]).
//     This package enforces "jkt" and "jwk"; "x5t#S256" passes only when
//     [Verifier.CheckedElsewhere] lists it (an mtlsbound verifier checks
//     it for the same request); unregistered members ("jwe", a symmetric
//     key, among them) are refused. A token is never half-verified.
//   - "kid" and "jku" (with "kid") are refused unless [Verifier.Keys]
//     resolves them: "kid" alone in the client's registered JWK Set,
//     "jku" only when it is on an allow-list, fetched over https without
//     following redirects, cached and kept through an outage
//     ([JWKSResolver]). All members of one "cnf" name one key: the proof
//     key must be the resolved key (same type, same RFC 7638 thumbprint),
//     and a "jkt" or "jwk" beside "kid" must name it too. A "kid" known to
//     no key or to two, a "jku" off the list, and a "kid" naming another
//     key than "jkt" are [ErrUnknownKey]; a set that cannot be fetched is
//     [ErrKeyUnavailable] (503). "kid" beside "x5t#S256" alone names the
//     certificate's key and goes with "x5t#S256" to the mTLS verifier.
//   - A DPoP-bound token presented with the Bearer scheme is always
//     refused (RFC 9449 §7.2); unbound tokens are refused unless
//     [Verifier.InsecureAllowUnbound], and then only with the Bearer
//     scheme.
//   - The replay store is keyed by SHA-256(jkt, jti): a jti is unique per
//     key, and one client cannot burn another's jti. A proof is recorded
//     only after every other check passed. [MemoryStore] is bounded and,
//     when a flood fills it, forgets its oldest proofs and refuses every
//     proof at or before their "iat" (its horizon): fresh proofs pass,
//     replays do not, and clients are not locked out.
//   - Nonces are stateless: the start of a time step and an HMAC-SHA256
//     over it, with a list of secrets whose first signs and all verify, so
//     any replica checks any nonce and secrets rotate with an overlap.
//     Nonces change once per quarter lifetime rather than per response.
//   - Proof headers are read by internal/jose's DPoP reader and claims by
//     the module's strict JSON pull reader (internal/strictjson), not
//     encoding/json: member names match exactly; two names equal under
//     Unicode case folding in any object, invalid UTF-8, unpaired
//     surrogates and deep nesting are refused; proof keys are validated by
//     the same code as every JWK of the module and cached by thumbprint;
//     and verification costs within 10% of the signature check itself.
//     Claims are written by hand on the client for the same reason.
//   - Timestamps: "iat" must lie within [now-MaxAge-Skew, now+Skew]; the
//     nonce, when required, is checked in addition, never instead.
//   - Errors: the sentinels of errors.go are the ones a caller acts on; a
//     refused proof or binding is an [*Error] carrying the OAuth error code
//     to answer with, and a misconfiguration a [*ConfigError] naming the
//     field. No error text carries a proof, a token, a key or a nonce.
package dpop
