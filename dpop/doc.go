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
// [MarshalPrivateKeyPEM], [ParsePrivateKeyPEM], [MarshalPrivateJWK] and
// [ParsePrivateJWK] persist the key, since DPoP-bound refresh tokens only
// work with the key they are bound to.
//
// # Server side
//
// [Verifier] checks proofs (every item of RFC 9449 §4.3), the binding of
// an access token to the proof key (§6, §7.1, including "cnf" "jwk" of
// RFC 7800 §3.2), replays (§11.1, through a [ReplayStore]: [MemoryStore]
// or dpop/redisstore) and, with [Nonces], stateless server nonces (§8, §9).
// [Verifier.Wrap] is net/http middleware for a resource server; the
// verified proof reaches the handler through [FromContext]. An
// authorization server calls [Verifier.Verify] and
// [Verifier.WriteTokenError].
//
// # Decisions
//
//   - Nonces are stateless: the start of a time step and an HMAC-SHA256
//     over it, with a list of secrets whose first signs and all verify, so
//     any replica checks any nonce and secrets rotate with an overlap.
//     Nonces change once per quarter lifetime rather than per response.
//   - The replay store is keyed by SHA-256(jkt, jti): a jti is unique per
//     key, fixed-size keys bound memory, and one client cannot burn
//     another's jti. A proof is recorded only after every other check
//     passed. [MemoryStore] is bounded and fails closed when full of
//     unexpired entries: it never evicts an entry that could still be
//     replayed.
//   - "htu" is compared after RFC 3986 §6.2.2/§6.2.3 normalization, with
//     the request URI the client saw: [Verifier.BaseURL] behind a
//     TLS-terminating proxy, never X-Forwarded-* headers.
//   - A "cnf" naming a method this package cannot check (x5t#S256, ...) is
//     refused, alone or beside jkt: a token is never half-verified.
//   - Proof headers and claims are read by the module's strict JSON pull
//     reader (internal/strictjson), not encoding/json: member names match
//     exactly; two names equal under Unicode case folding in any object,
//     invalid UTF-8, unpaired surrogates and deep nesting are refused; and
//     the verification hot path stays close to the cost of the signature
//     check itself. Claims are written by hand on the client for the same
//     reason.
//   - Timestamps: "iat" must lie within [now-MaxAge-Skew, now+Skew]; the
//     nonce, when required, is checked in addition, never instead.
package dpop
