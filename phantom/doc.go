// Package phantom implements the Phantom Token pattern for API gateways:
// clients hold opaque access tokens, and the gateway exchanges each one for
// a JWT that only the upstream services see. It introspects the opaque
// token at the authorization server with OAuth 2.0 Token Introspection,
// RFC 7662 (https://datatracker.ietf.org/doc/html/rfc7662), preferably
// answered as a signed JWT, RFC 9701
// (https://datatracker.ietf.org/doc/html/rfc9701), enforces the token's
// sender constraint (DPoP, RFC 9449, through the dpop package; mutual-TLS
// certificate binding, RFC 8705, through the mtlsbound package), and
// forwards the request with "Authorization: Bearer <JWT>".
//
// # The request
//
//	```mermaid
//	sequenceDiagram
//	    participant C as Client
//	    participant G as phantom.Gateway
//	    participant AS as Authorization server
//	    participant U as Upstream API
//	    C->>G: GET /orders  Authorization: DPoP <opaque>, DPoP: <proof>
//	    G->>G: cache lookup by SHA-256(opaque)
//	    alt miss (one call per token, however many requests wait)
//	        G->>AS: POST /introspect token=<opaque> (client-authenticated)<br/>Accept: application/token-introspection+jwt
//	        AS-->>G: 200 signed JWT {token_introspection: {active, cnf, scope, exp…}}
//	        G->>G: verify signature, typ, iss, aud, iat; cache until min(TTL, exp)
//	    end
//	    G->>G: cnf.jkt: DPoP proof (htm, htu from the configured URL, ath, jti, nonce)<br/>cnf.x5t#S256: client certificate; route scopes
//	    alt admitted
//	        G->>U: GET /orders  Authorization: Bearer <JWT>  (no DPoP header)
//	        U-->>G: 200
//	        G-->>C: 200
//	    else refused
//	        G-->>C: 401 WWW-Authenticate: DPoP error=…, Bearer (DPoP-Nonce) / 403 insufficient_scope / 503 Retry-After
//	    end
//	```
//
// # Pieces
//
//   - [Gateway] holds the configuration and the cache; [Gateway.Wrap] is
//     the middleware to put in front of an httputil.ReverseProxy (the
//     package proxies nothing itself), [Gateway.Verify] the bare decision,
//     [FromContext] the [Result] for the next handler, and [Gateway.JWKSHandler]
//     the key set upstreams use to verify the JWTs the gateway signs in
//     [ModeJSON].
//   - [AuthRequest] offers the same decision to gateways that delegate
//     authentication to a subrequest: nginx auth_request, Traefik
//     ForwardAuth, Envoy ext_authz over HTTP.
//   - [Cache] stores results under SHA-256(token): [MemoryCache] in
//     process, phantom/redisstore shared between replicas. The DPoP replay
//     store (dpop/redisstore) and the stateless DPoP nonces (dpop.Nonces
//     with one secret) are shared the same way.
//
// # Three ways to get the upstream JWT
//
//   - [ModeIntrospectionJWT] (the default): the RFC 9701 response, signed by
//     the authorization server, verified (keys from its jwks_uri or static,
//     typ token-introspection+jwt, iss, aud = the gateway's client_id, iat)
//     and forwarded as is.
//   - [ModeJWT]: the access token itself as an RFC 9068 JWT (Accept:
//     application/jwt), verified the same way (typ at+jwt, iss, aud =
//     Gateway.Audience, exp) and forwarded.
//   - [ModeJSON]: a plain RFC 7662 response, after which the gateway signs
//     its own short-lived JWT (typ at+jwt, ES256 by default) with
//     Gateway.Key.
//
// Set Gateway.Audience in every mode: in the introspection modes it makes
// the gateway refuse a token the server issued for another API (the
// response's "aud" must hold it). Left empty there, any active token of the
// server passes.
//
// # Decisions
//
//   - Fail closed. An authorization server that is down, slow past
//     Gateway.Timeout, answers 5xx or 3xx, non-JSON, an oversized body, or
//     a JWT that fails verification gives 503 with Retry-After; no error is
//     ever cached, and nothing is passed through. A token problem (inactive,
//     expired, another audience) is 401 invalid_token.
//   - The cache is keyed by the SHA-256 of the token, never the token; an
//     entry lives min(CacheTTL, exp − now) (and never past the forwarded
//     JWT's exp); inactive and refused tokens are remembered NegativeTTL.
//     A revoked token is therefore let through for at most CacheTTL.
//     Concurrent misses for one token share one introspection, which runs
//     detached from the requests and bounded by Timeout: a request that
//     gives up does not cancel it for the others. At most MaxIntrospections
//     run at once; past that a new token gets 503 at once.
//   - Sender constraints come from "cnf", parsed once for the module
//     (internal/cnf): "jkt"/"jwk" need a DPoP proof for this request, whose
//     key matches and whose "ath" is the hash of the opaque token the client
//     sent; "x5t#S256" needs the matching client certificate; both need
//     both. "kid" (and "jku" with "kid", RFC 7800 §3.4, §3.5) is resolved
//     by the Keys of the verifier that checks it (set Gateway.DPoP.Keys,
//     Gateway.MTLS.Keys; dpop.NewJWKSResolver, mtlsbound.NewJWKSResolver):
//     beside "jkt"/"jwk" it names the DPoP key, beside "x5t#S256" the
//     certificate's key, alone the key presented (the DPoP proof key with
//     the DPoP scheme, the client certificate's key with Bearer). Without
//     Keys it is refused; a "kid" naming no key is 401 invalid_token, a
//     "jku" set that cannot be fetched 503. Any other member is refused.
//     A DPoP-bound token sent as Bearer is refused (RFC 9449 §7.2), as is
//     an unbound token sent with the DPoP scheme. Unbound tokens pass only
//     with Gateway.InsecureAllowUnbound.
//   - The DPoP "htu" is checked against the dpop.Verifier's BaseURL, the
//     gateway's external URL from configuration, never the Host header.
//   - Authorization schemes are matched case-insensitively ("bearer",
//     "dpop"), as RFC 9110 §11.1 says; exactly one Authorization field is
//     accepted, and the token must be a b64token of at most MaxTokenBytes.
//   - The client's Authorization and DPoP headers, and any header named
//     like the upstream header, are removed before forwarding: the
//     upstream never sees the opaque token nor a JWT the client forged.
//   - Challenges go in one WWW-Authenticate field ("DPoP algs=…, Bearer"):
//     nginx's auth_request passes a single field on.
//   - The gateway adds no client credentials to its introspection calls:
//     the *http.Client it is given carries them (the root package's
//     AuthTransport), so one client stack serves the whole module.
//   - Logs and errors carry reasons, never a token, proof or JWT; a server
//     error_description that echoes the token is scrubbed.
package phantom
