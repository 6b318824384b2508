// Package redisstore is a Redis-backed replay store for DPoP proofs
// (RFC 9449 §11.1, https://datatracker.ietf.org/doc/html/rfc9449#section-11.1),
// for servers that run several replicas: every replica checks and records
// proof identifiers in one Redis, so a proof accepted by one replica is
// refused by all the others.
//
// Each check is a single atomic "SET key 1 NX PX ttl": the key is created
// only if absent, with a time to live that ends when the proof leaves the
// verifier's window, so Redis forgets it by itself. Plug a [Store] into
// dpop.Verifier.Replay.
//
// Redis remembers every accepted proof for the verifier's window (MaxAge
// plus Skew, six minutes by default): size its memory for the peak rate
// of valid proofs times that window (about 100 bytes a key), and keep its
// maxmemory-policy at noeviction. When Redis is full it refuses writes and
// the verifier refuses proofs with 503 (fail closed); a policy that evicts
// keys would instead let evicted proofs be replayed.
package redisstore
