package hardened

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// sharedKeys is the transport of the JARM decoder's fetches of jwks_uri: it
// answers them from the Config's one key set of the server, which also
// verifies ID tokens and gives the request object encryption keys, so that
// a login fetches the server's keys once. Any other request goes to base.
//
// The decoder's first fetch reads the shared set (fetching it when it is
// not cached yet). The decoder fetches again only when a response names a
// kid it does not know (at most once every 30 s) or its copy is an hour
// old; each such fetch refreshes the shared set first, so a rotated key is
// found as it would be without sharing. A refresh that fails fails the
// decoder's fetch, which then keeps its last good set.
type sharedKeys struct {
	url  string
	keys *jose.RemoteKeySet
	base http.RoundTripper
	used atomic.Bool
}

func (s *sharedKeys) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet || r.URL.String() != s.url {
		return s.base.RoundTrip(r)
	}
	if r.Body != nil {
		_ = r.Body.Close()
	}
	ctx := r.Context()
	if s.used.Swap(true) {
		if err := s.keys.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("jwks_uri: %w", err)
		}
	}
	set, err := s.keys.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	body, err := jose.MarshalJWKSet(set)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri: %w", err)
	}
	return &http.Response{
		Status:        "200 OK",
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}
