package dpop

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/hardened-oauth/hardened/internal/cnf"
)

// KeyResolver finds the public key that a token's "cnf" names by "kid"
// (RFC 7800 §3.4, https://datatracker.ietf.org/doc/html/rfc7800#section-3.4)
// or by "jku" and "kid" (§3.5), for [Verifier.Keys]. [JWKSResolver] is the
// standard implementation; mtlsbound.KeyResolver has the same method.
type KeyResolver interface {
	// ResolveKey returns the one public key c.KID (in the set at c.JKU,
	// when set) names. claims are the token's verified claims, for a
	// resolver whose key IDs are scoped (by "client_id", "iss"). An error
	// wrapping [ErrKeyUnavailable] means the key could not be looked up
	// (the request is answered 503); any other error, or a nil key, means
	// the token names no usable key ([ErrUnknownKey]).
	ResolveKey(ctx context.Context, c Confirmation, claims json.RawMessage) (crypto.PublicKey, error)
}

// JWKSConfig configures [NewJWKSResolver]. mtlsbound.JWKSConfig has the
// same fields.
type JWKSConfig struct {
	// JWKS is a JWK Set (JSON) of public keys in which "kid" alone is
	// looked up: the client's registered keys (RFC 7591 "jwks"). Keys
	// whose "use" is "enc" are ignored. Nil means that "kid" alone names
	// no key.
	JWKS []byte
	// JKUs is the allow-list of JWK Set URLs a "jku" may name: absolute
	// https URLs without user information or fragment, at most 32,
	// compared with "jku" byte for byte. Each is fetched with the
	// module's bounded https client, never through a redirect, cached,
	// refetched when a "kid" is unknown (at most once per
	// MinRefreshInterval) and kept through an outage. Nil means that
	// every "jku" is refused.
	JKUs []string
	// HTTPClient fetches the sets, through a copy that never follows a
	// redirect. Nil means the module's default client with timeouts.
	HTTPClient *http.Client
	// MinRefreshInterval is the least time between two fetches of a set
	// caused by an unknown "kid", and after a failed fetch. Zero means
	// 30 s.
	MinRefreshInterval time.Duration
	// MaxAge is how long a fetched set is used before it is refetched.
	// Zero means one hour.
	MaxAge time.Duration
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// JWKSResolver is the standard [KeyResolver]: "kid" alone is looked up in
// a registered JWK Set, "jku" and "kid" in the set at "jku" when "jku" is
// on an allow-list. A "kid" held by no signature key is [ErrUnknownKey],
// as is one held by two (which key the token means cannot be told) and a
// "jku" off the list; a set that was never fetched is
// [ErrKeyUnavailable]. It is safe for concurrent use.
type JWKSResolver struct {
	r *cnf.Resolver
}

// NewJWKSResolver returns the resolver of cfg. JWKS or JKUs is required;
// a refused field is a [*ConfigError] naming it.
func NewJWKSResolver(cfg JWKSConfig) (*JWKSResolver, error) {
	r, err := cnf.NewResolverFor(cnf.ResolverConfig(cfg), "JWKSConfig.", configError)
	if err != nil {
		return nil, err
	}
	return &JWKSResolver{r: r}, nil
}

// ResolveKey implements [KeyResolver]; it does not use claims. A
// JWKSResolver not made by [NewJWKSResolver] is a [*ConfigError].
func (k *JWKSResolver) ResolveKey(ctx context.Context, c Confirmation, _ json.RawMessage) (crypto.PublicKey, error) {
	if k == nil || k.r == nil {
		return nil, configError("Verifier.Keys", "a JWKSResolver must come from NewJWKSResolver")
	}
	pub, err := k.r.Resolve(ctx, cnf.Confirmation(c))
	if err != nil {
		return nil, cnf.ResolveError(err, ErrUnknownKey, ErrKeyUnavailable)
	}
	return pub, nil
}

// resolve looks up the key c's "kid" names and checks that "jkt" and
// "jwk" of c name it too; it returns the key and its thumbprint.
func (v *Verifier) resolve(ctx context.Context, c Confirmation, claims json.RawMessage) (crypto.PublicKey, string, error) {
	pub, err := v.Keys.ResolveKey(ctx, c, claims)
	if errors.Is(err, ErrInvalidConfig) {
		return nil, "", err
	}
	jkt, err := cnf.CheckResolved(cnf.Confirmation(c), pub, err, ErrUnknownKey, ErrKeyUnavailable)
	switch {
	case err == nil:
		return pub, jkt, nil
	case errors.Is(err, ErrKeyUnavailable):
		return nil, "", err
	}
	return nil, "", &Error{Code: CodeInvalidToken, Description: "unknown confirmation key", class: ErrUnknownKey, cause: err}
}
