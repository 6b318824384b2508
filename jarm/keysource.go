package jarm

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// sourceKeys is the jose.KeyProvider over a caller's [KeySource]. It keeps
// the JWKs converted from the last slice the source returned, so that a
// source that returns its cached slice costs no conversion per response.
type sourceKeys struct {
	src  KeySource
	last atomic.Pointer[convertedKeys]
}

// convertedKeys are the JWKs of one slice returned by the source,
// identified by its first element and length.
type convertedKeys struct {
	first *VerificationKey
	n     int
	jwks  []*jose.JWK
}

// KeysFor implements jose.KeyProvider: the source's keys matching h, and,
// when none does and h names a kid, the keys after one refresh.
func (s *sourceKeys) KeysFor(ctx context.Context, h *jose.Header) ([]*jose.JWK, error) {
	keys, err := s.load(ctx, false)
	if err != nil {
		return nil, err
	}
	if m := jose.Match(keys, h); len(m) > 0 || h == nil || h.Kid == "" {
		return m, nil
	}
	if keys, err = s.load(ctx, true); err != nil {
		return nil, err
	}
	return jose.Match(keys, h), nil
}

// load asks the source for its keys; an error wraps ErrKeySetUnavailable.
func (s *sourceKeys) load(ctx context.Context, refresh bool) ([]*jose.JWK, error) {
	vks, err := s.src.VerificationKeys(ctx, refresh)
	if err != nil {
		return nil, fmt.Errorf("%w: key source: %w", ErrKeySetUnavailable, err)
	}
	if len(vks) == 0 {
		return nil, nil
	}
	if c := s.last.Load(); c != nil && c.first == &vks[0] && c.n == len(vks) {
		return c.jwks, nil
	}
	jwks := make([]*jose.JWK, 0, len(vks))
	for _, k := range vks {
		if k.Algorithm != "" && !jose.Supported(k.Algorithm) {
			continue
		}
		j, err := jose.NewJWK(k.Key)
		if err != nil {
			continue
		}
		j.KeyID, j.Algorithm, j.Use = k.KeyID, k.Algorithm, "sig"
		jwks = append(jwks, j)
	}
	s.last.Store(&convertedKeys{first: &vks[0], n: len(vks), jwks: jwks})
	return jwks, nil
}

// keySourceError reports whether err came from a KeySource (already
// wrapping ErrKeySetUnavailable).
func keySourceError(err error) bool { return errors.Is(err, ErrKeySetUnavailable) }
