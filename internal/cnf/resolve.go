package cnf

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// Key resolution for "kid" (RFC 7800 §3.4,
// https://datatracker.ietf.org/doc/html/rfc7800#section-3.4) and "jku"
// with "kid" (§3.5, https://datatracker.ietf.org/doc/html/rfc7800#section-3.5):
// the one implementation behind dpop.JWKSResolver and
// mtlsbound.JWKSResolver, and the checks both verifiers apply to a
// resolved key, whoever resolved it.

// MaxJKUs bounds [ResolverConfig.JKUs]: each allowed URL is one cached
// JWK Set.
const MaxJKUs = 32

var (
	// ErrUnknownKey means the "kid" names no key: not in the registered
	// set (for "kid" alone), or not in the JWK Set "jku" names.
	ErrUnknownKey = errors.New("cnf: confirmation key not found")
	// ErrJKUNotAllowed means the "jku" is not on the allow-list.
	ErrJKUNotAllowed = errors.New("cnf: jku is not an allowed JWK Set URL")
	// ErrAmbiguousKey means the set holds more than one signature key with
	// the "kid": which one the token means cannot be told.
	ErrAmbiguousKey = errors.New("cnf: kid names more than one key")
	// ErrKeyConflict means "kid"/"jku" name a key other than the one
	// "jkt" or "jwk" of the same "cnf" names, or a resolver returned a key
	// that is not a supported public key.
	ErrKeyConflict = errors.New("cnf: confirmation members name different keys")
	// ErrKeySetUnavailable means the JWK Set "jku" names could not be
	// fetched and no earlier copy is cached. A kid missing from a cached
	// copy is ErrUnknownKey, even while its host is down.
	ErrKeySetUnavailable = errors.New("cnf: JWK Set unavailable")
	// ErrKeyType means the presented key (a DPoP proof key, a certificate's
	// public key) is not of the confirmed key's type and curve.
	ErrKeyType = errors.New("cnf: presented key is not of the confirmed key's type")
	// ErrKeyMismatch means the presented key is not the confirmed key: the
	// RFC 7638 thumbprints differ.
	ErrKeyMismatch = errors.New("cnf: presented key is not the confirmed key")
)

// KeyTarget tells which presented key the "kid" (and "jku") of a "cnf"
// names; see [Confirmation.KIDTarget].
type KeyTarget int

// The values of [KeyTarget].
const (
	// TargetNone: no "kid".
	TargetNone KeyTarget = iota
	// TargetDPoP: "kid" beside "jkt" or "jwk" names the same key, a DPoP
	// proof key.
	TargetDPoP
	// TargetCertificate: "kid" beside "x5t#S256" (without "jkt" or "jwk")
	// names the certificate's public key.
	TargetCertificate
	// TargetPresented: "kid" alone names the key the request proves,
	// whichever way the verifier checks it (a DPoP proof key, a client
	// certificate's key).
	TargetPresented
)

// KIDTarget tells which key "kid"/"jku" name. Every member of a "cnf"
// names one key: beside "jkt" or "jwk", "kid" names that same DPoP key;
// beside "x5t#S256" alone, the certificate's key; alone, the key the
// request presents. So dpop enforces "kid" unless it rides with
// "x5t#S256" alone, and mtlsbound enforces it unless it rides with "jkt"
// or "jwk".
func (c Confirmation) KIDTarget() KeyTarget {
	switch {
	case c.KID == "" && c.JKU == "":
		return TargetNone
	case c.JKT != "" || c.JWK != nil:
		return TargetDPoP
	case c.X5TS256 != "":
		return TargetCertificate
	}
	return TargetPresented
}

// ResolverConfig configures [NewResolver]. dpop.JWKSConfig and
// mtlsbound.JWKSConfig have the same fields, in the same order, and
// convert to it.
type ResolverConfig struct {
	// JWKS is the static JWK Set that "kid" alone is looked up in.
	JWKS []byte
	// JKUs is the allow-list of JWK Set URLs "jku" may name.
	JKUs []string
	// HTTPClient fetches the sets (through httpx.Client: no redirects).
	HTTPClient *http.Client
	// MinRefreshInterval is jose.RemoteKeySet's; zero is its default.
	MinRefreshInterval time.Duration
	// MaxAge is jose.RemoteKeySet's; zero is its default.
	MaxAge time.Duration
	// Now is the sets' clock; nil means time.Now.
	Now func() time.Time
}

// ConfigError reports a [ResolverConfig] field that [NewResolver]
// refuses; the public wrappers turn it into their own ConfigError.
type ConfigError struct {
	// Field is the field's name, e.g. "JKUs".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error returns "cnf: invalid resolver configuration: <Field>: <Reason>".
func (e *ConfigError) Error() string {
	return "cnf: invalid resolver configuration: " + e.Field + ": " + e.Reason
}

// Resolver finds the key a "cnf" "kid" names, in a static JWK Set (the
// client's registered keys) for "kid" alone, and in the JWK Set at "jku"
// for "jku" with "kid", when "jku" is on an allow-list. Each allowed URL
// is a [jose.RemoteKeySet]: https only, no redirect followed, bounded
// reads, cached, refetched on an unknown kid at most once per
// MinRefreshInterval, the last good set kept through an outage (for
// MaxAge + jose.DefaultJWKSMaxStale at most). Safe for
// concurrent use.
type Resolver struct {
	static []*jose.JWK
	sets   map[string]*jose.RemoteKeySet
}

// NewResolver checks cfg and returns its Resolver: JWKS, when set, must be
// a JWK Set of public keys with at least one usable key; each of JKUs
// (at most [MaxJKUs]; repeats are merged) an absolute https URL without
// user information or fragment, matched exactly against "jku"; one of
// them is required. A refused field is a [*ConfigError].
func NewResolver(cfg ResolverConfig) (*Resolver, error) {
	r := &Resolver{}
	if cfg.JWKS != nil {
		keys, err := jose.ParseJWKSet(cfg.JWKS)
		if err != nil {
			return nil, &ConfigError{Field: "JWKS", Reason: "not a JWK Set of public keys"}
		}
		if len(keys) == 0 {
			return nil, &ConfigError{Field: "JWKS", Reason: "no usable key"}
		}
		r.static = keys
	}
	switch {
	case len(cfg.JKUs) > MaxJKUs:
		return nil, &ConfigError{Field: "JKUs", Reason: fmt.Sprintf("more than %d URLs", MaxJKUs)}
	case cfg.MinRefreshInterval < 0:
		return nil, &ConfigError{Field: "MinRefreshInterval", Reason: "negative"}
	case cfg.MaxAge < 0:
		return nil, &ConfigError{Field: "MaxAge", Reason: "negative"}
	case cfg.JWKS == nil && len(cfg.JKUs) == 0:
		return nil, &ConfigError{Field: "JWKS", Reason: "JWKS or JKUs required"}
	}
	for _, u := range cfg.JKUs {
		if !httpsURL(u) || jose.CheckJWKSURL(u) != nil {
			return nil, &ConfigError{Field: "JKUs", Reason: "each must be an absolute https URL without user information or fragment"}
		}
		if r.sets == nil {
			r.sets = make(map[string]*jose.RemoteKeySet, len(cfg.JKUs))
		}
		if r.sets[u] == nil {
			r.sets[u] = &jose.RemoteKeySet{
				URL: u, Client: cfg.HTTPClient, MinRefreshInterval: cfg.MinRefreshInterval,
				MaxAge: cfg.MaxAge, Now: cfg.Now,
			}
		}
	}
	return r, nil
}

// Resolve returns the public key c's "kid" names: for "kid" alone, the one
// key of the static set with that kid; for "jku" with "kid", the one key
// with that kid in the set at "jku" (refreshed once, rate-limited, when
// the kid is unknown). Only keys whose "use" is absent or "sig" count.
// No such key is [ErrUnknownKey], two or more [ErrAmbiguousKey], a
// "jku" off the allow-list [ErrJKUNotAllowed], a set never fetched
// [ErrKeySetUnavailable]. Whether the key agrees with c's other
// members is [ResolvedThumbprint]'s check.
func (r *Resolver) Resolve(ctx context.Context, c Confirmation) (crypto.PublicKey, error) {
	if c.KID == "" {
		return nil, fmt.Errorf("%w: cnf has no kid", ErrUnknownKey)
	}
	if c.JKU == "" {
		if r.static == nil {
			return nil, fmt.Errorf("%w: no registered keys for kid alone", ErrUnknownKey)
		}
		return one(r.static, c.KID)
	}
	set := r.sets[c.JKU]
	if set == nil {
		return nil, ErrJKUNotAllowed
	}
	keys, err := set.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeySetUnavailable, err)
	}
	if !hasKID(keys, c.KID) {
		// An unknown kid: KeysFor refetches the set when no cached key
		// matches a header naming a kid, at most once per
		// MinRefreshInterval. A header without "alg" matches no key, so
		// this call is exactly that rate-limited refresh.
		// A failed refresh leaves the cached set, which lacks the kid.
		if _, err := set.KeysFor(ctx, &jose.Header{Kid: c.KID}); err != nil {
			return nil, fmt.Errorf("%w: refresh failed: %w", ErrUnknownKey, err)
		}
		if keys, err = set.Keys(ctx); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKeySetUnavailable, err)
		}
	}
	return one(keys, c.KID)
}

// sigKey reports whether k is a signature key with the kid.
func sigKey(k *jose.JWK, kid string) bool {
	return k != nil && k.KeyID == kid && (k.Use == "" || k.Use == "sig")
}

func hasKID(keys []*jose.JWK, kid string) bool {
	for _, k := range keys {
		if sigKey(k, kid) {
			return true
		}
	}
	return false
}

// one returns the one signature key of keys with the kid.
func one(keys []*jose.JWK, kid string) (crypto.PublicKey, error) {
	var found *jose.JWK
	for _, k := range keys {
		if !sigKey(k, kid) {
			continue
		}
		if found != nil {
			return nil, ErrAmbiguousKey
		}
		found = k
	}
	if found == nil {
		return nil, ErrUnknownKey
	}
	return found.Key, nil
}

// ResolvedThumbprint returns the RFC 7638 thumbprint of key, resolved for
// c's "kid"/"jku", after checking that it is a supported public key and
// that c's "jkt" and "jwk", when present, name the same key
// ([ErrKeyConflict] otherwise). Digests are public: they are compared as
// strings.
func ResolvedThumbprint(c Confirmation, key crypto.PublicKey) (string, error) {
	if keyType(key) == "" {
		return "", fmt.Errorf("%w: resolved key is not a supported public key", ErrKeyConflict)
	}
	jkt, err := jose.Thumbprint(key)
	if err != nil {
		return "", fmt.Errorf("%w: resolved key is not a supported public key", ErrKeyConflict)
	}
	if c.JKT != "" && c.JKT != jkt {
		return "", fmt.Errorf("%w: kid and jkt", ErrKeyConflict)
	}
	if c.JWK != nil {
		if tp, err := jose.Thumbprint(c.JWK); err != nil || tp != jkt {
			return "", fmt.Errorf("%w: kid and jwk", ErrKeyConflict)
		}
	}
	return jkt, nil
}

// SameKey checks that presented is the resolved key whose thumbprint is
// resolvedJKT: of the same type and curve ([ErrKeyType]), with the same
// RFC 7638 thumbprint ([ErrKeyMismatch]). presentedJKT is presented's
// thumbprint when the caller has it, or "" to compute it.
func SameKey(resolved crypto.PublicKey, resolvedJKT string, presented crypto.PublicKey, presentedJKT string) error {
	if t := keyType(presented); t == "" || t != keyType(resolved) {
		return ErrKeyType
	}
	if presentedJKT == "" {
		tp, err := jose.Thumbprint(presented)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrKeyType, err)
		}
		presentedJKT = tp
	}
	if presentedJKT != resolvedJKT {
		return ErrKeyMismatch
	}
	return nil
}

// keyType names a public key's JWK type and curve, or "" for a key this
// module does not use.
func keyType(k crypto.PublicKey) string {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		if k != nil && k.Curve != nil {
			return "EC " + k.Curve.Params().Name
		}
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return "OKP Ed25519"
		}
	case *rsa.PublicKey:
		if k != nil {
			return "RSA"
		}
	}
	return ""
}

// NewResolverFor is [NewResolver] for a package that exports it: a refused
// field becomes configError(prefix+Field, Reason), that package's own
// ConfigError.
func NewResolverFor(cfg ResolverConfig, prefix string, configError func(field, reason string) error) (*Resolver, error) {
	r, err := NewResolver(cfg)
	if ce := (*ConfigError)(nil); errors.As(err, &ce) {
		return nil, configError(prefix+ce.Field, ce.Reason)
	}
	return r, err
}

// ResolveError gives the error of a resolver (this package's or a
// caller's) a package's sentinels: an error wrapping unavailable or
// [ErrKeySetUnavailable] wraps unavailable; any other wraps unknown. An
// error that already wraps one of them is returned as is.
func ResolveError(err, unknown, unavailable error) error {
	switch {
	case errors.Is(err, unavailable), errors.Is(err, unknown):
		return err
	case errors.Is(err, ErrKeySetUnavailable):
		return fmt.Errorf("%w: %w", unavailable, err)
	}
	return fmt.Errorf("%w: %w", unknown, err)
}

// CheckResolved takes a resolver's answer for c (pub, err) and returns
// pub's thumbprint after [ResolvedThumbprint]'s checks, or the error with
// a package's sentinels ([ResolveError]); a nil key without an error
// names nothing (unknown).
func CheckResolved(c Confirmation, pub crypto.PublicKey, err error, unknown, unavailable error) (string, error) {
	if err == nil && pub == nil {
		err = fmt.Errorf("%w: resolver returned no key", ErrUnknownKey)
	}
	var jkt string
	if err == nil {
		jkt, err = ResolvedThumbprint(c, pub)
	}
	if err != nil {
		return "", ResolveError(err, unknown, unavailable)
	}
	return jkt, nil
}
