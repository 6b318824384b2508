package hardened

import (
	"context"
	"sync/atomic"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

// serverKeys is the JARM decoder's [jarm.KeySource]: the Config's one key
// set of the server, which also verifies ID tokens and gives the request
// object encryption keys, so that a login fetches the server's keys once.
//
// Without refresh it returns the shared set (fetching it when it is not
// cached yet or is an hour old). With refresh (a response named a kid the
// set lacks) it first refreshes the shared set under the set's own rate
// limit (one fetch per 30 s, shared with the ID token check's refreshes),
// so a rotated key is found as it would be without sharing; a refresh that
// fails fails the response. Keys whose use is not "sig" are left out.
type serverKeys struct {
	keys *jose.RemoteKeySet
	last atomic.Pointer[serverKeysCopy]
}

// serverKeysCopy is the conversion of one set the RemoteKeySet returned,
// kept while the set does not change (it returns the same slice until it
// fetches again).
type serverKeysCopy struct {
	first *jose.JWK
	n     int
	keys  []jarm.VerificationKey
}

// unknownKid is the header of a refresh: no key matches a header without
// "alg" (jose.Match), so KeysFor always takes its unknown-kid path, a
// refresh at most once per MinRefreshInterval (or joining the fetch
// already running); a rate-limited one returns no error.
var unknownKid = jose.Header{Kid: "unknown"}

func (s *serverKeys) VerificationKeys(ctx context.Context, refresh bool) ([]jarm.VerificationKey, error) {
	if refresh {
		h := unknownKid
		if _, err := s.keys.KeysFor(ctx, &h); err != nil {
			return nil, err
		}
	}
	set, err := s.keys.Keys(ctx)
	if err != nil || len(set) == 0 {
		return nil, err
	}
	if c := s.last.Load(); c != nil && c.first == set[0] && c.n == len(set) {
		return c.keys, nil
	}
	out := make([]jarm.VerificationKey, 0, len(set))
	for _, k := range set {
		if k == nil || k.Use != "" && k.Use != "sig" {
			continue
		}
		out = append(out, jarm.VerificationKey{KeyID: k.KeyID, Key: k.Key, Algorithm: k.Algorithm})
	}
	s.last.Store(&serverKeysCopy{first: set[0], n: len(set), keys: out})
	return out, nil
}
