package jarm

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// Response modes of JARM §2.3, for the authorization request's
// "response_mode" (see [ResponseModeOption]).
const (
	// ModeQueryJWT returns the JWT in the "response" query parameter.
	ModeQueryJWT = "query.jwt"
	// ModeFragmentJWT returns the JWT in the "response" fragment parameter.
	ModeFragmentJWT = "fragment.jwt"
	// ModeFormPostJWT POSTs the JWT as the "response" form field.
	ModeFormPostJWT = "form_post.jwt"
	// ModeJWT is the response type's default encoding: query.jwt for
	// response_type=code.
	ModeJWT = "jwt"
)

// Defaults applied to a zero [Config].
const (
	// DefaultSkew is the clock skew tolerated on exp, iat and nbf.
	DefaultSkew = 10 * time.Second
	// DefaultMaxLifetime bounds how long a response may live: JARM §2.1
	// (https://openid.net/specs/oauth-v2-jarm.html#section-2.1) says of
	// "exp": "A maximum JWT lifetime of 10 minutes is RECOMMENDED."
	DefaultMaxLifetime = 10 * time.Minute
	// DefaultMaxResponseBytes bounds the "response" parameter.
	DefaultMaxResponseBytes = 16 << 10
	// DefaultMaxBodyBytes bounds a form post body, a redirect URL and a
	// fragment.
	DefaultMaxBodyBytes = 64 << 10
)

// defaultKeyAlgorithms is the JWE "alg" allow-list used when
// Config.KeyAlgorithms is empty.
var defaultKeyAlgorithms = []string{jose.RSAOAEP256, jose.ECDHES, jose.ECDHESA128KW, jose.ECDHESA192KW, jose.ECDHESA256KW}

// defaultContentEncryptions is the JWE "enc" allow-list used when
// Config.ContentEncryptions is empty.
var defaultContentEncryptions = []string{jose.A128GCM, jose.A192GCM, jose.A256GCM, jose.A128CBCHS256, jose.A192CBCHS384, jose.A256CBCHS512}

// VerificationKey is a public key of the authorization server that signs
// responses.
type VerificationKey struct {
	// KeyID is the key's "kid". A response naming a kid is verified only
	// with the keys of that kid; a response without a kid is tried against
	// every key that fits its "alg".
	KeyID string
	// Key is an *ecdsa.PublicKey (P-256, P-384, P-521), an
	// ed25519.PublicKey or an *rsa.PublicKey of 2048 bits or more.
	Key crypto.PublicKey
	// Algorithm, when set, is the only "alg" this key verifies.
	Algorithm string
}

// KeySource supplies the authorization server's verification keys from a
// key set the caller already holds: typically one cached copy of the
// server's jwks_uri shared with the ID token check, so that a login
// fetches the server's keys once. Set it in [Config.KeySource].
//
// The Decoder calls VerificationKeys with refresh false for every JARM
// response it verifies; the source returns its current set, fetching it
// when it has none or its copy is stale. When a response names a "kid"
// that no key of that set has, the Decoder calls it once more with refresh
// true: the source should refetch its set if its own rate limit allows
// (the Decoder does not limit these calls; a source over a remote set must,
// e.g. to one fetch per 30 s, or random kids turn responses into fetches),
// and return the set it then has. A rate-limited refresh returns the
// current set and no error; the response then fails with
// [ErrInvalidSignature].
//
// Any error, with refresh true or false, fails the response with an error
// wrapping [ErrKeySetUnavailable] (and the source's error). The Decoder
// may keep what it derived from a returned slice until the source returns
// a different one: return a new slice when the set changes and never
// modify one already returned. Keys of unsupported types or algorithms are
// skipped. A KeySource must be safe for concurrent use.
type KeySource interface {
	// VerificationKeys returns the server's current signature keys,
	// after refetching them when refresh is true and the source's rate
	// limit allows it.
	VerificationKeys(ctx context.Context, refresh bool) ([]VerificationKey, error)
}

// DecryptionKey is a private key of the client that decrypts responses.
type DecryptionKey struct {
	// KeyID is the key's "kid"; a JWE naming a kid is decrypted only with
	// the key of that kid (or keys without one).
	KeyID string
	// Key is an *rsa.PrivateKey (2048 bits or more; RSA-OAEP-256) or an
	// *ecdsa.PrivateKey on P-256, P-384 or P-521 (ECDH-ES, ECDH-ES+AxxxKW).
	Key crypto.PrivateKey
}

// Config configures a [Decoder]. The zero value of every optional field is
// the safe default.
type Config struct {
	// Issuer is the authorization server's issuer identifier, compared
	// exactly with "iss". Required.
	Issuer string
	// ClientID is the client_id that "aud" must contain. Required when the
	// Decoder verifies JARM responses.
	ClientID string

	// JWKSURL is the server's jwks_uri, an absolute https URL. Its keys
	// are fetched on first use, cached for an hour, and refetched when a
	// response names an unknown kid (at most once every 30 s); the last
	// good set is kept when a fetch fails. A redirect is never followed:
	// a 3xx is a failed fetch. It cannot be combined with Keys or JWKS.
	JWKSURL string
	// KeySource supplies the server's keys from a set the caller holds
	// (see [KeySource]) in place of JWKSURL. It cannot be combined with
	// JWKSURL, Keys or JWKS.
	KeySource KeySource
	// HTTPClient fetches JWKSURL. Nil means the module's default client
	// with timeouts. A caller's client is used through a copy that never
	// follows redirects; its Transport, Jar and Timeout are kept.
	HTTPClient *http.Client
	// Keys are static verification keys. They may be combined with JWKS.
	Keys []VerificationKey
	// JWKS is a static JWK Set in its JSON form ({"keys":[...]}). Keys of
	// unsupported types are skipped; private keys are refused.
	JWKS []byte

	// Algorithms is the JWS "alg" allow-list. Nil means
	// AuthorizationSigningAlgValuesSupported ∩ {ES256, PS256, EdDSA}, or
	// {ES256, PS256, EdDSA} when that is nil. RS256 (the JARM default when
	// a client registered no authorization_signed_response_alg) is
	// accepted only when listed here. "none" and HS* cannot be listed.
	Algorithms []string
	// AuthorizationSigningAlgValuesSupported is the server metadata value
	// authorization_signing_alg_values_supported (JARM §4), copied as is.
	// It only narrows the default of Algorithms; an empty intersection is
	// an error.
	AuthorizationSigningAlgValuesSupported []string
	// AuthorizationResponseIssParameterSupported is the server metadata
	// value authorization_response_iss_parameter_supported (RFC 9207 §3).
	// When true, a plain response without "iss" is refused.
	AuthorizationResponseIssParameterSupported bool

	// DecryptionKeys are the client's keys for encrypted responses. When
	// set, every response must be encrypted (a JWE whose content is the
	// signed JWT); when empty, an encrypted response is refused.
	DecryptionKeys []DecryptionKey
	// KeyAlgorithms is the JWE "alg" allow-list. Nil means RSA-OAEP-256,
	// ECDH-ES, ECDH-ES+A128KW, ECDH-ES+A192KW and ECDH-ES+A256KW.
	KeyAlgorithms []string
	// ContentEncryptions is the JWE "enc" allow-list. Nil means A128GCM,
	// A192GCM, A256GCM, A128CBC-HS256, A192CBC-HS384 and A256CBC-HS512.
	ContentEncryptions []string

	// InsecureAllowPlainResponses admits plain responses although the
	// Decoder has verification keys, which otherwise means JARM is
	// required. Their "iss" is still checked per RFC 9207, but nothing in
	// them is signed. Not allowed together with DecryptionKeys.
	InsecureAllowPlainResponses bool
	// InsecureAllowNoState lets callers pass an empty expected state, for
	// clients that send no state and rely on PKCE alone against CSRF. The
	// response must then carry no state either.
	InsecureAllowNoState bool

	// Skew is the clock skew tolerated on exp, iat and nbf. Zero means
	// DefaultSkew (10 s); negative is an error.
	Skew time.Duration
	// MaxLifetime bounds a response's lifetime: "exp" may lie at most
	// MaxLifetime (plus Skew) after now, and, when "iat" is present, at
	// most MaxLifetime after "iat". Zero means DefaultMaxLifetime
	// (10 minutes, JARM §2.1); negative is an error.
	MaxLifetime time.Duration
	// MaxResponseBytes bounds the "response" parameter. Zero means
	// DefaultMaxResponseBytes (16 KiB); at most 64 KiB.
	MaxResponseBytes int
	// MaxBodyBytes bounds a form post body, and the URL, query and
	// fragment given to DecodeURL, DecodeFragment and DecodeRequest. Zero
	// means DefaultMaxBodyBytes (64 KiB); negative is an error.
	MaxBodyBytes int64
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Decoder validates authorization responses for one authorization server
// and client. It is safe for concurrent use.
type Decoder struct {
	issuer       string
	clientID     string
	keys         jose.KeyProvider // nil: plain responses only
	remote       *jose.RemoteKeySet
	source       *sourceKeys
	algs         []string
	dec          []jose.DecryptionKey
	decOpts      jose.DecryptOptions
	jarmRequired bool
	issParam     bool
	allowNoState bool
	skew         time.Duration
	maxLifetime  time.Duration
	maxResp      int
	maxBody      int64
	now          func() time.Time
}

// NewDecoder checks cfg and returns a Decoder. It does not fetch JWKSURL;
// call [Decoder.Refresh] to fail early at start-up. A configuration error
// is a [*ConfigError], wrapping [ErrInvalidConfig].
func NewDecoder(cfg Config) (*Decoder, error) {
	bad := func(field, reason string) (*Decoder, error) {
		return nil, &ConfigError{Field: field, Reason: reason}
	}
	if cfg.Issuer == "" {
		return bad("Issuer", "required")
	}
	d := &Decoder{
		issuer:       cfg.Issuer,
		clientID:     cfg.ClientID,
		issParam:     cfg.AuthorizationResponseIssParameterSupported,
		allowNoState: cfg.InsecureAllowNoState,
		skew:         cfg.Skew,
		maxLifetime:  cfg.MaxLifetime,
		maxResp:      cfg.MaxResponseBytes,
		maxBody:      cfg.MaxBodyBytes,
		now:          cfg.Now,
	}
	if d.now == nil {
		d.now = time.Now
	}
	switch {
	case d.skew < 0:
		return bad("Skew", "negative")
	case d.skew == 0:
		d.skew = DefaultSkew
	}
	switch {
	case d.maxLifetime < 0:
		return bad("MaxLifetime", "negative")
	case d.maxLifetime == 0:
		d.maxLifetime = DefaultMaxLifetime
	}
	switch {
	case d.maxResp < 0 || d.maxResp > jose.MaxTokenSize:
		return bad("MaxResponseBytes", fmt.Sprintf("must be between 0 and %d", jose.MaxTokenSize))
	case d.maxResp == 0:
		d.maxResp = DefaultMaxResponseBytes
	}
	switch {
	case d.maxBody < 0:
		return bad("MaxBodyBytes", "negative")
	case d.maxBody == 0:
		d.maxBody = DefaultMaxBodyBytes
	}

	static := len(cfg.Keys) > 0 || cfg.JWKS != nil
	switch {
	case cfg.KeySource != nil && (cfg.JWKSURL != "" || static):
		return bad("KeySource", "cannot be combined with JWKSURL, Keys or JWKS")
	case cfg.KeySource != nil:
		d.source = &sourceKeys{src: cfg.KeySource}
		d.keys = d.source
	case cfg.JWKSURL != "" && static:
		return bad("JWKSURL", "cannot be combined with Keys or JWKS")
	case cfg.JWKSURL != "":
		if jose.CheckJWKSURL(cfg.JWKSURL) != nil {
			return bad("JWKSURL", "must be an absolute https URL without user information")
		}
		d.remote = &jose.RemoteKeySet{URL: cfg.JWKSURL, Client: cfg.HTTPClient, Now: d.now}
		d.keys = d.remote
	case static:
		keys, err := staticKeys(cfg.Keys, cfg.JWKS)
		if err != nil {
			return nil, err
		}
		d.keys = keys
	}

	if d.keys != nil {
		if cfg.ClientID == "" {
			return bad("ClientID", "required to verify JARM responses")
		}
		algs, err := signingAlgorithms(cfg.Algorithms, cfg.AuthorizationSigningAlgValuesSupported)
		if err != nil {
			return nil, err
		}
		d.algs = algs
		d.jarmRequired = !cfg.InsecureAllowPlainResponses
	}

	if len(cfg.DecryptionKeys) > 0 {
		if d.keys == nil {
			return bad("DecryptionKeys", "need verification keys (JWKSURL, KeySource, Keys or JWKS): encrypted responses are signed too")
		}
		if cfg.InsecureAllowPlainResponses {
			return bad("InsecureAllowPlainResponses", "cannot be combined with DecryptionKeys")
		}
		for i, k := range cfg.DecryptionKeys {
			if reason := checkDecryptionKey(k.Key); reason != "" {
				return bad(fmt.Sprintf("DecryptionKeys[%d].Key", i), reason)
			}
			d.dec = append(d.dec, jose.DecryptionKey{KeyID: k.KeyID, Key: k.Key})
		}
		var err error
		if d.decOpts.KeyAlgorithms, err = subsetOf("KeyAlgorithms", cfg.KeyAlgorithms, defaultKeyAlgorithms); err != nil {
			return nil, err
		}
		if d.decOpts.ContentEncryptions, err = subsetOf("ContentEncryptions", cfg.ContentEncryptions, defaultContentEncryptions); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// staticKeys builds the verification set from Keys and JWKS.
func staticKeys(keys []VerificationKey, set []byte) (jose.StaticKeys, error) {
	var out jose.StaticKeys
	for i, k := range keys {
		j, err := jose.NewJWK(k.Key)
		if err != nil {
			return nil, &ConfigError{Field: fmt.Sprintf("Keys[%d].Key", i), Reason: "unsupported key: want an ECDSA P-256/P-384/P-521, Ed25519 or RSA (2048 bits or more) public key"}
		}
		if k.Algorithm != "" && !jose.Supported(k.Algorithm) {
			return nil, &ConfigError{Field: fmt.Sprintf("Keys[%d].Algorithm", i), Reason: "unsupported algorithm"}
		}
		j.KeyID, j.Algorithm, j.Use = k.KeyID, k.Algorithm, "sig"
		out = append(out, j)
	}
	if set != nil {
		parsed, err := jose.ParseJWKSet(set)
		if err != nil {
			return nil, &ConfigError{Field: "JWKS", Reason: "not a usable JWK Set of public keys"}
		}
		out = append(out, parsed...)
	}
	if len(out) == 0 {
		return nil, &ConfigError{Field: "JWKS", Reason: "no usable verification key"}
	}
	return out, nil
}

// signingAlgorithms resolves the JWS allow-list.
func signingAlgorithms(explicit, server []string) ([]string, error) {
	if len(explicit) > 0 {
		if err := jose.CheckAlgorithms(explicit); err != nil {
			return nil, &ConfigError{Field: "Algorithms", Reason: "lists an algorithm that is not supported (\"none\" and HS* never are)"}
		}
		return slices.Clone(explicit), nil
	}
	if len(server) == 0 {
		return slices.Clone(jose.DefaultAlgorithms), nil
	}
	var out []string
	for _, a := range jose.DefaultAlgorithms {
		if slices.Contains(server, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, &ConfigError{Field: "AuthorizationSigningAlgValuesSupported", Reason: "the server advertises none of ES256, PS256, EdDSA; list the algorithm in Algorithms to accept it"}
	}
	return out, nil
}

// subsetOf checks that list names only members of all; nil means all.
func subsetOf(field string, list, all []string) ([]string, error) {
	if len(list) == 0 {
		return slices.Clone(all), nil
	}
	for _, a := range list {
		if !slices.Contains(all, a) {
			return nil, &ConfigError{Field: field, Reason: "lists an unsupported algorithm"}
		}
	}
	return slices.Clone(list), nil
}

// checkDecryptionKey returns why k cannot decrypt responses, or "".
func checkDecryptionKey(k crypto.PrivateKey) string {
	switch v := k.(type) {
	case *rsa.PrivateKey:
		if v != nil && v.N != nil && v.N.BitLen() >= jose.MinRSABits {
			return ""
		}
		return fmt.Sprintf("RSA key under %d bits", jose.MinRSABits)
	case *ecdsa.PrivateKey:
		if v != nil && (v.Curve == elliptic.P256() || v.Curve == elliptic.P384() || v.Curve == elliptic.P521()) {
			return ""
		}
		return "EC key not on P-256, P-384 or P-521"
	}
	return "unsupported key type: want an *rsa.PrivateKey or an *ecdsa.PrivateKey"
}

// Algorithms returns the JWS "alg" allow-list in use (nil for a Decoder
// without verification keys).
func (d *Decoder) Algorithms() []string { return slices.Clone(d.algs) }

// JARMRequired reports whether plain responses are refused.
func (d *Decoder) JARMRequired() bool { return d.jarmRequired }

// Refresh fetches the JWKSURL key set now, or asks the KeySource for its
// keys with refresh true, to fail at start-up rather than on the first
// response. It does nothing for static keys. Errors wrap
// [ErrKeySetUnavailable].
func (d *Decoder) Refresh(ctx context.Context) error {
	if d.source != nil {
		_, err := d.source.load(ctx, true)
		return err
	}
	if d.remote == nil {
		return nil
	}
	if err := d.remote.Refresh(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrKeySetUnavailable, err)
	}
	return nil
}
