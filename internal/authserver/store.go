package authserver

import "time"

// store is a bounded map whose entries expire. It is not safe for
// concurrent use: the server's mutex guards every store.
type store[V any] struct {
	max int
	m   map[string]storeEntry[V]
}

type storeEntry[V any] struct {
	v   V
	exp time.Time
}

func newStore[V any](max int) *store[V] {
	return &store[V]{max: max, m: make(map[string]storeEntry[V])}
}

// get returns the live entry under k. An expired entry is removed.
func (s *store[V]) get(k string, now time.Time) (V, bool) {
	e, ok := s.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	if !now.Before(e.exp) {
		delete(s.m, k)
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v under k until exp, replacing any previous entry.
func (s *store[V]) put(k string, v V, exp, now time.Time) {
	if _, ok := s.m[k]; !ok {
		s.makeRoom(now)
	}
	s.m[k] = storeEntry[V]{v: v, exp: exp}
}

// add stores v under k until exp unless a live entry is there; it reports
// whether it stored it. It is the replay check of jti values.
func (s *store[V]) add(k string, v V, exp, now time.Time) bool {
	if _, ok := s.get(k, now); ok {
		return false
	}
	s.put(k, v, exp, now)
	return true
}

func (s *store[V]) del(k string) { delete(s.m, k) }

func (s *store[V]) len() int { return len(s.m) }

// makeRoom frees one slot when the store is full: expired entries go first,
// then the entry closest to expiry. A bounded replay cache can thus forget a
// jti early under a flood; the lifetime limits on every checked token keep
// that window short.
func (s *store[V]) makeRoom(now time.Time) {
	if len(s.m) < s.max {
		return
	}
	for k, e := range s.m {
		if !now.Before(e.exp) {
			delete(s.m, k)
		}
	}
	for len(s.m) >= s.max {
		var victim string
		var first time.Time
		found := false
		for k, e := range s.m {
			if !found || e.exp.Before(first) {
				victim, first, found = k, e.exp, true
			}
		}
		delete(s.m, victim)
	}
}
