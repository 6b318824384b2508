package dpop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// rsSetup is a resource server behind Verifier.Wrap whose tokens are
// looked up in a map (as introspection would).
type rsSetup struct {
	srv    *httptest.Server
	v      *Verifier
	calls  atomic.Int32
	mu     sync.Mutex
	errs   []error
	tokens map[string]string
}

func newRS(t *testing.T, configure func(*Verifier)) *rsSetup {
	t.Helper()
	rs := &rsSetup{tokens: map[string]string{}}
	rs.v = &Verifier{
		Now: clock(fixedNow),
		Token: func(_ context.Context, tok string) (json.RawMessage, error) {
			rs.mu.Lock()
			defer rs.mu.Unlock()
			c, ok := rs.tokens[tok]
			if !ok {
				return nil, errors.New("unknown token")
			}
			return json.RawMessage(c), nil
		},
		OnError: func(_ *http.Request, err error) {
			rs.mu.Lock()
			rs.errs = append(rs.errs, err)
			rs.mu.Unlock()
		},
	}
	if configure != nil {
		configure(rs.v)
	}
	rs.srv = httptest.NewUnstartedServer(rs.v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.calls.Add(1)
		res, ok := FromContext(r.Context())
		if !ok {
			http.Error(w, "no result", 500)
			return
		}
		if res.Proof != nil {
			w.Header().Set("X-JKT", res.Proof.JKT)
			w.Header().Set("X-JTI", res.Proof.ID)
		}
		w.Header().Set("X-Claims", string(res.Claims))
		w.WriteHeader(http.StatusOK)
	})))
	rs.srv.StartTLS()
	t.Cleanup(rs.srv.Close)
	if rs.v.BaseURL == "" {
		rs.v.BaseURL = rs.srv.URL // set before the first request
	}
	return rs
}

func (rs *rsSetup) lastErr() error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.errs) == 0 {
		return nil
	}
	return rs.errs[len(rs.errs)-1]
}

func (rs *rsSetup) do(t *testing.T, mod func(r *http.Request)) *http.Response {
	t.Helper()
	r, err := http.NewRequest("GET", rs.srv.URL+"/resource?x=1", nil)
	require.NoError(t, err)
	mod(r)
	resp, err := rs.srv.Client().Do(r)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func challengeOf(t *testing.T, resp *http.Response, scheme string) oautherr.Challenge {
	t.Helper()
	cs, err := oautherr.ParseHeader(resp.Header)
	require.NoError(t, err)
	c, ok := oautherr.Find(cs, scheme)
	require.True(t, ok, "a %s challenge", scheme)
	return c
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	k := newKey(t)
	p := newProofer(t, k, fixedNow)
	other := newProofer(t, newKey(t), fixedNow)
	rs := newRS(t, nil)
	uri := rs.srv.URL + "/resource"
	rs.tokens["good"] = `{"sub":"alice","cnf":{"jkt":"` + p.JKT() + `"}}`
	rs.tokens["unbound"] = `{"sub":"bob"}`
	rs.tokens["inactive"] = `{"active":false,"cnf":{"jkt":"` + p.JKT() + `"}}`
	rs.tokens["mtls"] = `{"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"}}`
	rs.tokens["both"] = `{"cnf":{"jkt":"` + p.JKT() + `","x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"}}`
	rs.tokens["dupcnf"] = `{"cnf":{"jkt":"` + other.JKT() + `"},"cnf":{"jkt":"` + p.JKT() + `"}}`
	rs.tokens["kid"] = `{"cnf":{"kid":"k1"}}`
	rs.tokens["jwe"] = `{"cnf":{"jkt":"` + p.JKT() + `","jwe":"eyJ"}}`

	withProof := func(pr *Proofer, scheme, tok string) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set("Authorization", scheme+" "+tok)
			proof, err := pr.Proof("GET", uri, ProofOptions{AccessToken: tok})
			require.NoError(t, err)
			r.Header.Set("DPoP", proof)
		}
	}

	t.Run("success", func(t *testing.T) {
		resp := rs.do(t, withProof(p, "DPoP", "good"))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, p.JKT(), resp.Header.Get("X-JKT"))
		require.NotEmpty(t, resp.Header.Get("X-JTI"))
		require.JSONEq(t, rs.tokens["good"], resp.Header.Get("X-Claims"))
	})
	t.Run("scheme is case-insensitive", func(t *testing.T) {
		resp := rs.do(t, withProof(p, "dpop", "good"))
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})

	before := rs.calls.Load()
	for _, tc := range []struct {
		name   string
		mod    func(*http.Request)
		status int
		code   string
		want   error
	}{
		{"no authorization", func(r *http.Request) {}, 401, "", ErrNoToken},
		{"basic scheme", func(r *http.Request) { r.SetBasicAuth("a", "b") }, 401, "", ErrNoToken},
		{"bearer scheme refused", withProof(p, "Bearer", "good"), 401, "", ErrNoToken},
		{"two authorization headers", func(r *http.Request) {
			withProof(p, "DPoP", "good")(r)
			r.Header.Add("Authorization", "Bearer good")
		}, 400, "invalid_request", ErrInvalidRequest},
		{"scheme without token", func(r *http.Request) { r.Header.Set("Authorization", "DPoP") }, 400, "invalid_request", ErrInvalidRequest},
		{"token not token68", func(r *http.Request) { r.Header.Set("Authorization", "DPoP a b") }, 400, "invalid_request", ErrInvalidRequest},
		{"unknown token", withProof(p, "DPoP", "nope"), 401, "invalid_token", ErrInvalidToken},
		{"inactive token", withProof(p, "DPoP", "inactive"), 401, "invalid_token", ErrInactiveToken},
		{"unbound token with DPoP scheme", withProof(p, "DPoP", "unbound"), 401, "invalid_token", ErrUnbound},
		{"kid-bound token", withProof(p, "DPoP", "kid"), 401, "invalid_token", ErrUnsupportedConfirmation},
		{"jwe-bound token", withProof(p, "DPoP", "jwe"), 401, "invalid_token", ErrUnsupportedConfirmation},
		{"mtls-bound token", withProof(p, "DPoP", "mtls"), 401, "invalid_token", ErrUnsupportedConfirmation},
		{"cnf with jkt and x5t#S256", withProof(p, "DPoP", "both"), 401, "invalid_token", ErrUnsupportedConfirmation},
		{"duplicate cnf", withProof(p, "DPoP", "dupcnf"), 401, "invalid_token", ErrMalformedConfirmation},
		{"proof from another key", withProof(other, "DPoP", "good"), 401, "invalid_token", ErrBindingMismatch},
		{"no proof", func(r *http.Request) { r.Header.Set("Authorization", "DPoP good") }, 401, "invalid_dpop_proof", errNoProof},
		{"two proofs", func(r *http.Request) {
			withProof(p, "DPoP", "good")(r)
			proof, _ := p.Proof("GET", uri, ProofOptions{AccessToken: "good"})
			r.Header.Add("DPoP", proof)
		}, 401, "invalid_dpop_proof", errMultipleProofs},
		{"proof for another token", func(r *http.Request) {
			r.Header.Set("Authorization", "DPoP good")
			proof, _ := p.Proof("GET", uri, ProofOptions{AccessToken: "other"})
			r.Header.Set("DPoP", proof)
		}, 401, "invalid_dpop_proof", errAccessTokenHash},
		{"proof for another URI", func(r *http.Request) {
			r.Header.Set("Authorization", "DPoP good")
			proof, _ := p.Proof("GET", rs.srv.URL+"/other", ProofOptions{AccessToken: "good"})
			r.Header.Set("DPoP", proof)
		}, 401, "invalid_dpop_proof", errProofURI},
		{"empty proof", func(r *http.Request) {
			r.Header.Set("Authorization", "DPoP good")
			r.Header["Dpop"] = []string{""}
		}, 401, "invalid_dpop_proof", errMalformedProof},
		{"100 KB proof", func(r *http.Request) {
			r.Header.Set("Authorization", "DPoP good")
			r.Header.Set("DPoP", strings.Repeat("A", 100<<10))
		}, 401, "invalid_dpop_proof", errProofTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := rs.do(t, tc.mod)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			c := challengeOf(t, resp, "DPoP")
			require.Equal(t, tc.code, c.Get("error"))
			require.Equal(t, "ES256 PS256 EdDSA", c.Get("algs"))
			require.Empty(t, resp.Header.Get("DPoP-Nonce"), "nonces are off")
			require.ErrorIs(t, rs.lastErr(), tc.want)
		})
	}
	require.Equal(t, before, rs.calls.Load(), "next is never called on failure")

	t.Run("replayed proof", func(t *testing.T) {
		mod := withProof(p, "DPoP", "good")
		var proof string
		resp := rs.do(t, func(r *http.Request) { mod(r); proof = r.Header.Get("DPoP") })
		require.Equal(t, 200, resp.StatusCode)
		resp = rs.do(t, func(r *http.Request) { r.Header.Set("Authorization", "DPoP good"); r.Header.Set("DPoP", proof) })
		require.Equal(t, 401, resp.StatusCode)
		require.ErrorIs(t, rs.lastErr(), ErrReplay)
	})
}

func TestMiddlewareNonces(t *testing.T) {
	t.Parallel()
	k := newKey(t)
	p := newProofer(t, k, fixedNow)
	n := &Nonces{Secrets: [][]byte{nonceSecret}, Now: clock(fixedNow)}
	rs := newRS(t, func(v *Verifier) { v.Nonces = n; v.Realm = "api" })
	uri := rs.srv.URL + "/resource"
	rs.tokens["good"] = `{"cnf":{"jkt":"` + p.JKT() + `"}}`

	send := func(nonce string) *http.Response {
		return rs.do(t, func(r *http.Request) {
			r.Header.Set("Authorization", "DPoP good")
			proof, err := p.Proof("GET", uri, ProofOptions{AccessToken: "good", Nonce: nonce})
			require.NoError(t, err)
			r.Header.Set("DPoP", proof)
		})
	}
	resp := send("")
	require.Equal(t, 401, resp.StatusCode)
	c := challengeOf(t, resp, "DPoP")
	require.Equal(t, CodeUseNonce, c.Get("error"))
	require.Equal(t, "api", c.Get("realm"))
	nonce := resp.Header.Get("DPoP-Nonce")
	require.NotEmpty(t, nonce)
	require.ErrorIs(t, rs.lastErr(), errNonceMissing)

	resp = send(nonce)
	require.Equal(t, 200, resp.StatusCode)

	resp = send("stale")
	require.Equal(t, 401, resp.StatusCode)
	require.Equal(t, CodeUseNonce, challengeOf(t, resp, "DPoP").Get("error"))
	require.ErrorIs(t, rs.lastErr(), errNonceInvalid)

	// Other errors carry a nonce too.
	resp = rs.do(t, func(r *http.Request) {})
	require.Equal(t, 401, resp.StatusCode)
	require.NotEmpty(t, resp.Header.Get("DPoP-Nonce"))
}

func TestMiddlewareBearer(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	rs := newRS(t, func(v *Verifier) { v.InsecureAllowUnbound = true })
	rs.tokens["bound"] = `{"cnf":{"jkt":"` + p.JKT() + `"}}`
	rs.tokens["plain"] = `{"sub":"x"}`

	// A DPoP-bound token sent as a bearer token: the downgrade of RFC 9449
	// §7.2, refused even with InsecureAllowUnbound, proof or not.
	resp := rs.do(t, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer bound")
		proof, err := p.Proof("GET", rs.srv.URL+"/resource", ProofOptions{AccessToken: "bound"})
		require.NoError(t, err)
		r.Header.Set("DPoP", proof)
	})
	require.Equal(t, 401, resp.StatusCode)
	require.ErrorIs(t, rs.lastErr(), errDowngrade)
	require.ErrorIs(t, rs.lastErr(), ErrInvalidToken)
	require.Equal(t, "invalid_token", challengeOf(t, resp, "Bearer").Get("error"))
	require.Equal(t, "ES256 PS256 EdDSA", challengeOf(t, resp, "DPoP").Get("algs"))

	resp = rs.do(t, func(r *http.Request) { r.Header.Set("Authorization", "bearer plain") })
	require.Equal(t, 200, resp.StatusCode, "an unbound bearer token is admitted")
	require.Empty(t, resp.Header.Get("X-JKT"))

	resp = rs.do(t, func(r *http.Request) {})
	require.Equal(t, 401, resp.StatusCode)
	challengeOf(t, resp, "Bearer")
	challengeOf(t, resp, "DPoP")
}

func TestMiddlewareFailures(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	called := false
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	req := func() *http.Request {
		r := httptest.NewRequest("GET", rsURI, nil)
		r.Header.Set("Authorization", "DPoP tok")
		proof, err := p.Proof("GET", "https://rs.example/resource", ProofOptions{AccessToken: "tok"})
		require.NoError(t, err)
		r.Header.Set("DPoP", proof)
		return r
	}
	token := func(context.Context, string) (json.RawMessage, error) {
		return json.RawMessage(`{"cnf":{"jkt":"` + p.JKT() + `"}}`), nil
	}

	for _, tc := range []struct {
		name   string
		v      *Verifier
		status int
	}{
		{"no Token func", &Verifier{BaseURL: rsBase, Now: clock(fixedNow)}, 500},
		{"no BaseURL", &Verifier{Now: clock(fixedNow), Token: token}, 500},
		{"bad algorithms", &Verifier{BaseURL: rsBase, Now: clock(fixedNow), Token: token, Algorithms: []string{"none"}}, 500},
		{"replay store down", &Verifier{BaseURL: rsBase, Now: clock(fixedNow), Token: token, Replay: failingStore{errors.New("down")}}, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.v.Wrap(next).ServeHTTP(w, req())
			require.Equal(t, tc.status, w.Code)
			require.False(t, called)
		})
	}

	// The request handed to next is a copy; the original is untouched.
	v := &Verifier{BaseURL: rsBase, Now: clock(fixedNow), Token: token}
	r := req()
	var seen *http.Request
	v.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r2 *http.Request) { seen = r2 })).ServeHTTP(httptest.NewRecorder(), r)
	require.NotNil(t, seen)
	require.NotSame(t, r, seen)
	_, ok := FromContext(r.Context())
	require.False(t, ok)
	_, ok = FromContext(seen.Context())
	require.True(t, ok)
}

func TestWriteTokenError(t *testing.T) {
	t.Parallel()
	n := &Nonces{Secrets: [][]byte{nonceSecret}, Now: clock(fixedNow)}
	v := &Verifier{BaseURL: "https://as.example", Nonces: n}
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"use nonce", useNonce(errNonceMissing, "nonce required"), 400, CodeUseNonce},
		{"invalid proof", invalid(errProofSignature, "x"), 400, CodeInvalidProof},
		{"replayed proof", invalid(ErrReplay, "x"), 400, CodeInvalidProof},
		{"unclean path", fmt.Errorf("%w: %w", ErrInvalidRequest, errUncleanPath), 400, CodeInvalidRequest},
		{"store", ErrReplayStore, 503, "server_error"},
		{"config", configError("Verifier.BaseURL", "required"), 500, "server_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			v.WriteTokenError(w, tc.err)
			require.Equal(t, tc.status, w.Code)
			e, err := oautherr.Parse(w.Code, w.Header().Get("Content-Type"), w.Body.Bytes())
			require.NoError(t, err)
			require.Equal(t, tc.code, e.Code)
			require.NotEmpty(t, w.Header().Get("DPoP-Nonce"))
			require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
		})
	}
}
