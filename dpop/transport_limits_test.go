package dpop

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nonceBase is a Base transport that answers every request with the
// status, body and DPoP-Nonce its nonce function gives, and counts calls.
type nonceBase struct {
	calls atomic.Int32
	nonce func(r *http.Request) (status int, body, nonce string)
}

func (b *nonceBase) RoundTrip(r *http.Request) (*http.Response, error) {
	b.calls.Add(1)
	if r.Body != nil {
		_ = r.Body.Close()
	}
	status, body, nonce := b.nonce(r)
	h := http.Header{"Content-Type": {"application/json"}}
	if nonce != "" {
		h.Set("DPoP-Nonce", nonce)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// send makes a GET to origin (with an access token when resource is set)
// and returns the nonce claim of the proof it carried.
func send(t *testing.T, tr *Transport, origin string, resource bool) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, origin+"/r", nil)
	require.NoError(t, err)
	if resource {
		req.Header.Set("Authorization", "DPoP tok")
	}
	var sent string
	inner := tr.Base
	tr.Base = rtFunc(func(r *http.Request) (*http.Response, error) {
		sent, _ = claimsOf(t, r.Header.Get("DPoP"))["nonce"].(string)
		return inner.RoundTrip(r)
	})
	defer func() { tr.Base = inner }()
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return sent
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The nonces a Transport remembers are bounded (MaxNonceOrigins per kind
// of server, 2*MaxNonceOrigins entries in all): past the cap, each new
// origin's nonce is kept and an older entry is forgotten, while a known
// origin's new nonce replaces its old one without evicting anything.
func TestTransportNonceOriginsCap(t *testing.T) {
	t.Parallel()
	base := &nonceBase{nonce: func(r *http.Request) (int, string, string) {
		kind := "as"
		if r.Header.Get("Authorization") != "" {
			kind = "rs"
		}
		return http.StatusOK, "{}", "n-" + kind + "-" + r.URL.Host
	}}
	tr := &Transport{Base: base, Proofer: newProofer(t, newKey(t), time.Now())}
	origin := func(i int) string { return fmt.Sprintf("https://o%d.example", i) }
	limit := 2 * MaxNonceOrigins
	total := limit + 100
	for i := range total {
		send(t, tr, origin(i), i%2 == 1)
		tr.mu.Lock()
		n := len(tr.nonces)
		tr.mu.Unlock()
		require.LessOrEqual(t, n, limit, "after %d origins", i+1)
		// The newest origin's nonce is always kept.
		require.Equal(t, fmt.Sprintf("n-%s-o%d.example", map[bool]string{false: "as", true: "rs"}[i%2 == 1], i), tr.Nonce(origin(i), i%2 == 1))
	}
	tr.mu.Lock()
	require.Len(t, tr.nonces, limit, "full, not over")
	before := slices.Collect(maps.Keys(tr.nonces))
	tr.mu.Unlock()

	// A remembered origin is sent its nonce; its new nonce replaces the
	// old one and forgets no other origin.
	k := before[0]
	require.Equal(t, tr.Nonce(k.origin, k.resource), send(t, tr, k.origin, k.resource))
	tr.mu.Lock()
	after := slices.Collect(maps.Keys(tr.nonces))
	tr.mu.Unlock()
	require.ElementsMatch(t, before, after)

	// A forgotten origin is sent no nonce (the server asks again).
	forgotten := 0
	for i := range total {
		if tr.Nonce(origin(i), i%2 == 1) == "" {
			forgotten++
		}
	}
	require.Equal(t, total-limit, forgotten)
}

// A DPoP-Nonce longer than maxNonceBytes is neither stored, nor put in a
// proof, nor a reason to retry; one of exactly maxNonceBytes is.
func TestTransportNonceLength(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("n", maxNonceBytes)
	cases := []struct {
		name    string
		nonce   string
		stored  bool
		retried bool
	}{
		{"at the limit", long, true, true},
		{"over the limit", long + "n", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const origin = "https://as.example"
			base := &nonceBase{nonce: func(r *http.Request) (int, string, string) {
				if n, _ := claimsOf(t, r.Header.Get("DPoP"))["nonce"].(string); n == tc.nonce {
					return http.StatusOK, "{}", ""
				}
				return http.StatusBadRequest, `{"error":"use_dpop_nonce"}`, tc.nonce
			}}
			tr := &Transport{Base: base, Proofer: newProofer(t, newKey(t), time.Now())}

			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, origin+"/token", nil)
			require.NoError(t, err)
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			if tc.retried {
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.EqualValues(t, 2, base.calls.Load())
			} else {
				require.Equal(t, http.StatusBadRequest, resp.StatusCode, "no retry with an oversized nonce")
				require.EqualValues(t, 1, base.calls.Load())
			}
			if tc.stored {
				require.Equal(t, tc.nonce, tr.Nonce(origin, false))
				return
			}
			require.Empty(t, tr.Nonce(origin, false))
			require.Empty(t, send(t, tr, origin, false), "the next proof carries no nonce")

			// An oversized nonce does not replace a good one either.
			tr2 := &Transport{Proofer: tr.Proofer, Base: &nonceBase{nonce: func(*http.Request) (int, string, string) {
				return http.StatusOK, "{}", "good"
			}}}
			send(t, tr2, origin, false)
			tr2.Base = base
			require.Equal(t, "good", send(t, tr2, origin, false))
			require.Equal(t, "good", tr2.Nonce(origin, false))
		})
	}
}
