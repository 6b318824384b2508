package jar

import (
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// MediaType is the media type of a request object (RFC 9101 §4), served by
// [Server] as Content-Type.
const MediaType = "application/oauth-authz-req+jwt"

// JWTType is the "typ" header of every request object built here
// (RFC 9101 §10.8: explicit typing prevents cross-JWT confusion).
const JWTType = "oauth-authz-req+jwt"

// Lifetime bounds.
const (
	// DefaultLifetime is the request object lifetime used when
	// [Config.Lifetime] is zero.
	DefaultLifetime = 60 * time.Second
	// MaxLifetime is the longest lifetime accepted; FAPI 2.0 asks for "exp"
	// no more than 60 minutes after "nbf".
	MaxLifetime = 60 * time.Minute
)

// Config builds request objects for one client and one authorization
// server. The zero value is not usable: ClientID, Issuer and Key are
// required, and [Config.Build] reports their absence with a
// [*ConfigError]. A Config is safe for concurrent use once set up, if its
// Key is; do not modify it while Build runs.
type Config struct {
	// ClientID is the client identifier. It is the "iss" and the
	// "client_id" of every request object. Required.
	ClientID string
	// Issuer is the authorization server's issuer identifier (RFC 8414
	// "issuer"), written as the request object's "aud" (RFC 9101 §4).
	// Required.
	Issuer string
	// Key signs request objects: an *ecdsa.PrivateKey, ed25519.PrivateKey,
	// *rsa.PrivateKey (2048 bits or more) or any crypto.Signer over such a
	// key (KMS, HSM). Required.
	Key crypto.Signer
	// KeyID is the "kid" header, the identifier of Key's public key in the
	// client's registered JWK Set. Empty omits it.
	KeyID string
	// Algorithm is the JWS "alg". Empty means the default for the key:
	// ES256/ES384/ES512 by curve, EdDSA for Ed25519, PS256 for RSA. It
	// must be in Algorithms and fit Key.
	Algorithm string
	// Algorithms is the allow-list the algorithm must belong to. Nil means
	// ES256, PS256 and EdDSA (FAPI 2.0). List RS256 (or ES384, ...)
	// explicitly to use it. "none" and HS* cannot be listed.
	Algorithms []string
	// Lifetime is the time from "iat" to "exp". Zero means
	// [DefaultLifetime] (60 s). Less than one second, negative, or more
	// than [MaxLifetime] (60 min) is a [*ConfigError].
	Lifetime time.Duration
	// Encryption, when non-nil, makes Build encrypt every signed request
	// object to the authorization server (a nested JWT, RFC 9101 §6.1).
	// Nil means signed only.
	Encryption *Encryption
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// RequestObject is a built request object.
type RequestObject struct {
	// JWT is the compact serialization: a JWS, or a JWE whose plaintext is
	// that JWS when encryption was configured. It is the value of the
	// "request" parameter, or the content served at a "request_uri".
	JWT string
	// ID is the "jti" claim.
	ID string
	// IssuedAt is the "iat" (and "nbf") claim.
	IssuedAt time.Time
	// Expiry is the "exp" claim.
	Expiry time.Time
	// Encrypted reports whether JWT is a JWE.
	Encrypted bool
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// lifetime returns the validated lifetime.
func (c *Config) lifetime() (time.Duration, error) {
	switch {
	case c.Lifetime == 0:
		return DefaultLifetime, nil
	case c.Lifetime < time.Second || c.Lifetime > MaxLifetime:
		return 0, configErr("Config.Lifetime", "must be within [1s, 60m]")
	}
	return c.Lifetime, nil
}

// signer validates the signing configuration and returns a JWS signer.
func (c *Config) signer() (*jose.Signer, error) {
	if c.Key == nil {
		return nil, configErr("Config.Key", "required")
	}
	algs := c.Algorithms
	if algs == nil {
		algs = jose.DefaultAlgorithms
	}
	if len(algs) == 0 {
		return nil, configErr("Config.Algorithms", "empty (nil means the default)")
	}
	if jose.CheckAlgorithms(algs) != nil {
		return nil, configErr("Config.Algorithms", "lists an algorithm that cannot sign (none, HS* or unknown)")
	}
	alg := c.Algorithm
	if alg == "" {
		a, err := jose.AlgorithmFor(c.Key.Public())
		if err != nil {
			return nil, configErr("Config.Key", "unsupported key type or size")
		}
		alg = a
	}
	if !slices.Contains(algs, alg) {
		return nil, configErr("Config.Algorithm", "not in Algorithms")
	}
	s, err := jose.NewSigner(c.Key, jose.SignerOptions{Algorithm: alg, Type: JWTType, KeyID: c.KeyID})
	switch {
	case errors.Is(err, jose.ErrKeyMismatch):
		return nil, configErr("Config.Algorithm", "does not fit Key")
	case err != nil:
		return nil, configErr("Config.Key", "unsupported key type or size")
	}
	return s, nil
}

// Build returns a signed (and, with [Config.Encryption], encrypted) request
// object (RFC 9101 §4,
// https://datatracker.ietf.org/doc/html/rfc9101#section-4) holding the
// authorization request parameters params, typically from
// [AuthCodeParams]. params is not modified. A parameter with only empty
// values is omitted; "resource" may repeat, no other parameter may;
// "max_age" must be a non-negative decimal integer, "claims" a JSON object
// and "authorization_details" a JSON array of objects with a "type", and
// they keep those JSON types in the request object; client_id may be
// present if it equals [Config.ClientID]; "response_type" is required.
//
// A refused parameter is a [*ParameterError], a misconfiguration a
// [*ConfigError]; other errors wrap [ErrSigning] or [ErrEncryption].
func (c *Config) Build(params url.Values) (*RequestObject, error) {
	if c.ClientID == "" {
		return nil, configErr("Config.ClientID", "required")
	}
	if c.Issuer == "" {
		return nil, configErr("Config.Issuer", "required")
	}
	life, err := c.lifetime()
	if err != nil {
		return nil, err
	}
	s, err := c.signer()
	if err != nil {
		return nil, err
	}
	var enc *encryptionChoice
	if c.Encryption != nil {
		if enc, err = c.Encryption.choose(); err != nil {
			return nil, err
		}
	}
	claims, err := requestClaims(c.ClientID, params)
	if err != nil {
		return nil, err
	}
	jti, err := randomID()
	if err != nil {
		return nil, err
	}
	now := c.now().Truncate(time.Second)
	exp := now.Add(life)
	claims["iss"] = c.ClientID
	claims["client_id"] = c.ClientID
	claims["aud"] = c.Issuer
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = exp.Unix()
	claims["jti"] = jti
	payload, err := json.Marshal(claims)
	if err != nil {
		// Every value is a string, an int64 or checked JSON.
		return nil, fmt.Errorf("%w: encoding claims: %w", ErrSigning, err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSigning, err)
	}
	ro := &RequestObject{JWT: jws, ID: jti, IssuedAt: now, Expiry: exp}
	if enc != nil {
		jwe, err := jose.Encrypt([]byte(jws), enc.key.Key, jose.EncryptOptions{
			KeyAlgorithm:      enc.alg,
			ContentEncryption: enc.enc,
			KeyID:             enc.key.KeyID,
			ContentType:       "JWT", // nested JWT, RFC 7519 §5.2
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrEncryption, err)
		}
		ro.JWT, ro.Encrypted = jwe, true
	}
	return ro, nil
}

// randomID returns 128 random bits, base64url-encoded.
func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("%w: reading randomness: %w", ErrSigning, err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
