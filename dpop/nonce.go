package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"
)

// Defaults of [Nonces].
const (
	// DefaultNonceLifetime is how long a nonce is accepted.
	DefaultNonceLifetime = 5 * time.Minute
	// MinNonceSecret is the shortest accepted nonce secret: 32 bytes.
	MinNonceSecret = 32
)

// nonceLen is the decoded length of a nonce: 8 bytes of epoch and 16 of
// truncated HMAC-SHA256.
const (
	nonceMAC = 16
	nonceLen = 8 + nonceMAC
)

var nonceLabel = []byte("hardened-oauth dpop nonce v1\x00")

// Nonces issues and checks server-provided DPoP nonces (RFC 9449 §8 and §9,
// https://datatracker.ietf.org/doc/html/rfc9449#section-8) without state:
// a nonce is the start of its time step and an HMAC-SHA256 over it, so any
// replica holding the secrets can check any nonce, and nothing is stored.
//
// Nonces change once per step (a quarter of the lifetime), so clients that
// make many requests are not sent a new nonce on every response, and stay
// valid for Lifetime from the start of their step. Secrets can be rotated
// with an overlap: the first secret signs, all of them verify. Set the same
// secrets on every replica; use different secrets for an authorization
// server and a resource server, whose nonces must not be interchangeable.
//
// A Nonces value is safe for concurrent use; its fields must not change
// once it is in use.
type Nonces struct {
	// Secrets are the HMAC keys, each at least [MinNonceSecret] bytes of
	// random data. The first issues nonces; all of them are tried when
	// checking one. Required: an empty list is a [*ConfigError].
	Secrets [][]byte
	// Lifetime is how long a nonce is accepted after the start of its
	// step. Zero means [DefaultNonceLifetime]; it must be at least 4 s.
	Lifetime time.Duration
	// RefreshBefore: when a presented nonce has less than this left, the
	// successful response carries the next nonce in DPoP-Nonce (RFC 9449
	// §8.2), so the client can switch before it expires. Zero means half
	// the lifetime; a negative value disables it.
	RefreshBefore time.Duration
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// check validates the configuration; field is the Go path of n in error
// messages ("Nonces", "Verifier.Nonces").
func (n *Nonces) check(field string) error {
	if n == nil {
		return configError(field, "nil *Nonces")
	}
	if len(n.Secrets) == 0 {
		return configError(field+".Secrets", "required")
	}
	for _, s := range n.Secrets {
		if len(s) < MinNonceSecret {
			return configError(field+".Secrets", fmt.Sprintf("each secret needs %d bytes or more", MinNonceSecret))
		}
	}
	if n.Lifetime != 0 && n.Lifetime < 4*time.Second {
		return configError(field+".Lifetime", "under 4s")
	}
	return nil
}

func (n *Nonces) lifetime() time.Duration {
	if n.Lifetime == 0 {
		return DefaultNonceLifetime
	}
	return n.Lifetime
}

func (n *Nonces) step() time.Duration { return n.lifetime() / 4 }

func (n *Nonces) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

// New returns the current nonce. It fails only on a misconfiguration.
func (n *Nonces) New() (string, error) {
	if err := n.check("Nonces"); err != nil {
		return "", err
	}
	return n.at(n.now()), nil
}

func (n *Nonces) at(t time.Time) string {
	step := n.step()
	epoch := t.UnixNano() / int64(step) * int64(step) / int64(time.Millisecond)
	var raw [nonceLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(epoch))
	mac := n.mac(n.Secrets[0], raw[:8])
	copy(raw[8:], mac[:nonceMAC])
	return b64.EncodeToString(raw[:])
}

func (n *Nonces) mac(secret, epoch []byte) [sha256.Size]byte {
	h := hmac.New(sha256.New, secret)
	h.Write(nonceLabel)
	h.Write(epoch)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// Check verifies a nonce presented in a proof and returns how long it
// stays valid. An unknown, forged or expired nonce wraps [ErrUseNonce]. A
// [Verifier] with Nonces set checks the nonces of proofs itself; Check is
// for servers that carry nonces elsewhere.
func (n *Nonces) Check(nonce string) (time.Duration, error) {
	if err := n.check("Nonces"); err != nil {
		return 0, err
	}
	return n.verify(nonce, n.now())
}

func (n *Nonces) verify(nonce string, now time.Time) (time.Duration, error) {
	var raw [nonceLen]byte
	if b64.EncodedLen(nonceLen) != len(nonce) {
		return 0, useNonce(errNonceInvalid, "invalid nonce")
	}
	if _, err := b64.Decode(raw[:], []byte(nonce)); err != nil {
		return 0, useNonce(errNonceInvalid, "invalid nonce")
	}
	ok := false
	for _, s := range n.Secrets {
		mac := n.mac(s, raw[:8])
		if hmac.Equal(mac[:nonceMAC], raw[8:]) {
			ok = true
		}
	}
	if !ok {
		return 0, useNonce(errNonceInvalid, "invalid nonce")
	}
	epoch := int64(binary.BigEndian.Uint64(raw[:8]))
	start := time.UnixMilli(epoch)
	// A replica whose clock runs a little ahead may have issued a nonce
	// for the next step: accept one step of skew.
	if start.After(now.Add(n.step())) {
		return 0, useNonce(errNonceInvalid, "nonce from the future")
	}
	left := start.Add(n.lifetime()).Sub(now)
	if left <= 0 {
		return 0, useNonce(errNonceInvalid, "nonce expired")
	}
	return left, nil
}

// refreshBefore returns the remaining life under which a new nonce is sent
// ahead, or a negative value when disabled.
func (n *Nonces) refreshBefore() time.Duration {
	switch {
	case n.RefreshBefore < 0:
		return -1
	case n.RefreshBefore == 0:
		return n.lifetime() / 2
	}
	return n.RefreshBefore
}
