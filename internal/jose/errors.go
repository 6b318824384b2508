package jose

import "errors"

var (
	// ErrMalformed reports a token, header, key or claim set that does not
	// parse.
	ErrMalformed = errors.New("jose: malformed input")
	// ErrAlgorithmNotAllowed reports an "alg" (or "enc") outside the
	// allow-list, including "none" and every symmetric algorithm.
	ErrAlgorithmNotAllowed = errors.New("jose: algorithm not allowed")
	// ErrNoAlgorithms reports an empty allow-list.
	ErrNoAlgorithms = errors.New("jose: no algorithms allowed")
	// ErrInvalidSignature reports a signature that does not verify.
	ErrInvalidSignature = errors.New("jose: invalid signature")
	// ErrKeyMismatch reports a key whose type or curve cannot be used with
	// the algorithm.
	ErrKeyMismatch = errors.New("jose: key does not match algorithm")
	// ErrUnsupportedKey reports a key type, curve or size that is not
	// supported (RSA keys must have at least 2048 bits).
	ErrUnsupportedKey = errors.New("jose: unsupported key")
	// ErrPrivateKey reports a JWK that carries private members where a
	// public key is required.
	ErrPrivateKey = errors.New("jose: JWK contains private key material")
	// ErrNoMatchingKey reports that no key in a set matches the header's
	// kid, alg, kty and use.
	ErrNoMatchingKey = errors.New("jose: no matching key")
	// ErrCritical reports a "crit" header parameter, none of which this
	// package understands (RFC 7515 §4.1.11).
	ErrCritical = errors.New("jose: unsupported critical header")
	// ErrEncrypt reports a failure to produce a JWE.
	ErrEncrypt = errors.New("jose: encryption failed")
	// ErrDecrypt reports a JWE that cannot be decrypted with the given keys.
	ErrDecrypt = errors.New("jose: decryption failed")
	// ErrNotEncrypted reports a JWS where a JWE was required.
	ErrNotEncrypted = errors.New("jose: token is not encrypted")
	// ErrTooLarge reports an input over the package's size limits.
	ErrTooLarge = errors.New("jose: input too large")
	// ErrJWKSFetch reports a failed remote JWK Set fetch.
	ErrJWKSFetch = errors.New("jose: fetching JWK Set failed")

	// ErrExpired reports a JWT whose "exp" has passed.
	ErrExpired = errors.New("jose: token expired")
	// ErrNotYetValid reports a JWT whose "nbf" (or "iat") is in the future.
	ErrNotYetValid = errors.New("jose: token not yet valid")
	// ErrIssuer reports a JWT whose "iss" is not the expected issuer.
	ErrIssuer = errors.New("jose: unexpected issuer")
	// ErrAudience reports a JWT whose "aud" does not contain the expected
	// audience.
	ErrAudience = errors.New("jose: unexpected audience")
	// ErrMissingClaim reports a required claim that is absent.
	ErrMissingClaim = errors.New("jose: required claim missing")
	// ErrType reports a "typ" header other than the one required.
	ErrType = errors.New("jose: unexpected typ header")
)
