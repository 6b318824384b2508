package dpop

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// claimsOf decodes a proof's claims without verifying it (the servers
// of these tests verify with a Verifier; this is for inspection).
func claimsOf(t testing.TB, proof string) map[string]any {
	parts := strings.Split(proof, ".")
	require.Len(t, parts, 3)
	b, err := b64.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

func randomToken(t testing.TB) string {
	var b [16]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}

// authServer is a strict token endpoint: every proof is verified with a
// Verifier that demands its own nonces; tokens are DPoP-bound (cnf.jkt),
// refresh tokens too (RFC 9449 §5).
type authServer struct {
	t        *testing.T
	srv      *httptest.Server
	v        *Verifier
	clock    *movableClock
	mu       sync.Mutex
	attempts []attempt
	access   map[string]string // access token -> claims JSON
	refresh  map[string]string // refresh token -> jkt
}

type attempt struct {
	grant, jti, nonce, body string
	status                  int
}

func newAuthServer(t *testing.T) *authServer {
	as := &authServer{t: t, clock: &movableClock{t: time.Now()}, access: map[string]string{}, refresh: map[string]string{}}
	as.v = &Verifier{Nonces: &Nonces{Secrets: [][]byte{[]byte(strings.Repeat("a", 32))}, Now: as.clock.Now}}
	as.srv = httptest.NewServer(http.HandlerFunc(as.token))
	as.v.BaseURL = as.srv.URL
	t.Cleanup(as.srv.Close)
	return as
}

func (as *authServer) token(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	a := attempt{grant: form.Get("grant_type"), body: string(body)}
	if h := r.Header.Get("DPoP"); h != "" {
		c := claimsOf(as.t, h)
		a.jti, _ = c["jti"].(string)
		a.nonce, _ = c["nonce"].(string)
	}
	defer func() {
		as.mu.Lock()
		as.attempts = append(as.attempts, a)
		as.mu.Unlock()
	}()
	if r.URL.Path != "/token" || r.Header.Get("Authorization") != "" {
		a.status = 404
		http.NotFound(w, r)
		return
	}
	p, err := as.v.VerifyProof(r)
	if err != nil {
		a.status = 400
		as.v.WriteTokenError(w, err)
		return
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	switch a.grant {
	case "authorization_code":
		if form.Get("code") != "code-1" {
			a.status = 400
			http.Error(w, `{"error":"invalid_grant"}`, 400)
			return
		}
	case "refresh_token":
		if jkt, ok := as.refresh[form.Get("refresh_token")]; !ok || jkt != p.JKT {
			a.status = 400
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
	default:
		a.status = 400
		http.Error(w, "unsupported", 400)
		return
	}
	at, rt := randomToken(as.t), randomToken(as.t)
	as.access[at] = `{"sub":"alice","cnf":{"jkt":"` + p.JKT + `"}}`
	as.refresh[rt] = p.JKT
	as.v.AdvanceNonce(w.Header(), p)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	a.status = 200
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": at, "token_type": "DPoP", "expires_in": 3600, "refresh_token": rt})
}

func (as *authServer) claims(tok string) (json.RawMessage, bool) {
	as.mu.Lock()
	defer as.mu.Unlock()
	c, ok := as.access[tok]
	return json.RawMessage(c), ok
}

func (as *authServer) take() []attempt {
	as.mu.Lock()
	defer as.mu.Unlock()
	out := as.attempts
	as.attempts = nil
	return out
}

// resourceServer is a Verifier.Wrap protected API with nonces of its own.
type resourceServer struct {
	srv      *httptest.Server
	attempts atomic.Int32
	served   atomic.Int32
}

func newResourceServer(t *testing.T, as *authServer) *resourceServer {
	rs := &resourceServer{}
	v := &Verifier{
		Nonces: &Nonces{Secrets: [][]byte{[]byte(strings.Repeat("r", 32))}},
		Token: func(_ context.Context, tok string) (json.RawMessage, error) {
			c, ok := as.claims(tok)
			if !ok {
				return nil, errors.New("unknown token")
			}
			return c, nil
		},
	}
	h := v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.served.Add(1)
		res, _ := FromContext(r.Context())
		fmt.Fprint(w, res.Proof.JKT)
	}))
	rs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.attempts.Add(1)
		h.ServeHTTP(w, r)
	}))
	v.BaseURL = rs.srv.URL
	t.Cleanup(rs.srv.Close)
	return rs
}

// TestTransportWithOAuth2 is the end-to-end test: x/oauth2's own Exchange,
// resource client and refresh go through the Transport, against an
// authorization server that demands nonces at the token endpoint (400
// use_dpop_nonce) and a resource server that demands its own (401
// challenge). Both servers verify every proof with a Verifier.
func TestTransportWithOAuth2(t *testing.T) {
	t.Parallel()
	as := newAuthServer(t)
	rs := newResourceServer(t, as)
	key := newKey(t)
	p, err := NewProofer(ProoferConfig{Key: key})
	require.NoError(t, err)
	tr := &Transport{Proofer: p}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
	conf := &oauth2.Config{
		ClientID: "client-1",
		Endpoint: oauth2.Endpoint{TokenURL: as.srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}

	// Exchange: the first attempt has no nonce and gets 400
	// use_dpop_nonce; the transport retries once with the nonce.
	tok, err := conf.Exchange(ctx, "code-1")
	require.NoError(t, err)
	require.Equal(t, "DPoP", tok.Type())
	at := as.take()
	require.Len(t, at, 2)
	require.Equal(t, 400, at[0].status)
	require.Empty(t, at[0].nonce)
	require.Equal(t, 200, at[1].status)
	require.NotEmpty(t, at[1].nonce)
	require.NotEqual(t, at[0].jti, at[1].jti, "a fresh proof per attempt")
	require.Equal(t, at[0].body, at[1].body, "the body was replayed whole")
	asOrigin := strings.TrimSuffix(as.srv.URL, "/")
	require.Equal(t, at[1].nonce, tr.Nonce(asOrigin, false))

	// Resource request through x/oauth2's client: oauth2.Transport sets
	// "Authorization: DPoP", the Transport beneath adds ath, and retries
	// once on the 401 use_dpop_nonce challenge.
	client := conf.Client(ctx, tok)
	get := func(c *http.Client) (int, string) {
		resp, err := c.Get(rs.srv.URL + "/data?page=2")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	status, body := get(client)
	require.Equal(t, 200, status)
	require.Equal(t, p.JKT(), body)
	require.EqualValues(t, 2, rs.attempts.Load())
	rsOrigin := strings.TrimSuffix(rs.srv.URL, "/")
	require.NotEmpty(t, tr.Nonce(rsOrigin, true))
	require.Empty(t, tr.Nonce(rsOrigin, false), "resource server nonces are kept apart")
	require.Empty(t, tr.Nonce(asOrigin, true))

	// The nonce is reused: one attempt now.
	status, _ = get(client)
	require.Equal(t, 200, status)
	require.EqualValues(t, 3, rs.attempts.Load())

	// Refresh with an expired token after the authorization server's
	// nonce has expired: 400 use_dpop_nonce, retry, new DPoP-bound tokens.
	as.clock.Advance(10 * time.Minute)
	expired := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: tok.TokenType, Expiry: time.Now().Add(-time.Hour)}
	ts := conf.TokenSource(ctx, expired)
	fresh, err := ts.Token()
	require.NoError(t, err)
	require.NotEqual(t, tok.AccessToken, fresh.AccessToken)
	require.Equal(t, "DPoP", fresh.Type())
	at = as.take()
	require.Len(t, at, 2)
	require.Equal(t, "refresh_token", at[0].grant)
	require.Equal(t, 400, at[0].status)
	require.Equal(t, 200, at[1].status)
	require.NotEqual(t, at[0].nonce, at[1].nonce)

	// The refreshed token works at the resource server.
	status, body = get(oauth2.NewClient(ctx, ts))
	require.Equal(t, 200, status)
	require.Equal(t, p.JKT(), body)

	// A refresh token is bound to the key: another key's proof fails.
	other, err := NewProofer(ProoferConfig{Key: newKey(t)})
	require.NoError(t, err)
	octx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: &Transport{Proofer: other}})
	_, err = conf.TokenSource(octx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "invalid_grant", re.ErrorCode)
}

// recorder is a test server that records what each attempt carried and
// answers with a scripted handler.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []seenReq
}

type seenReq struct {
	auth, body, jti, nonce, ath string
	hasAth                      bool
}

func newRecorder(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *recorder {
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s := seenReq{auth: r.Header.Get("Authorization"), body: string(b)}
		if h := r.Header.Get("DPoP"); h != "" {
			c := claimsOf(t, h)
			s.jti, _ = c["jti"].(string)
			s.nonce, _ = c["nonce"].(string)
			s.ath, s.hasAth = c["ath"].(string)
		}
		rec.mu.Lock()
		rec.seen = append(rec.seen, s)
		n := len(rec.seen)
		rec.mu.Unlock()
		h(w, r, n)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (rec *recorder) all() []seenReq {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seenReq(nil), rec.seen...)
}

func useNonce400(w http.ResponseWriter, nonce string) {
	w.Header().Set("DPoP-Nonce", nonce)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(400)
	_, _ = io.WriteString(w, `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}`)
}

// countingBody tracks Close.
type countingBody struct {
	io.Reader
	closed atomic.Int32
}

func (b *countingBody) Close() error { b.closed.Add(1); return nil }

func TestTransportRetryUsesGetBody(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			useNonce400(w, "nonce-1")
			return
		}
		w.WriteHeader(201)
	})
	p := newProofer(t, newKey(t), time.Now())
	tr := &Transport{Proofer: p}

	// As the par package builds it: GetBody re-creates the body with a
	// fresh client assertion.
	var calls atomic.Int32
	first := &countingBody{Reader: strings.NewReader("client_assertion=a0")}
	var second *countingBody
	req, err := http.NewRequest("POST", rec.srv.URL+"/par", nil)
	require.NoError(t, err)
	req.Body = first
	req.GetBody = func() (io.ReadCloser, error) {
		n := calls.Add(1)
		second = &countingBody{Reader: strings.NewReader(fmt.Sprintf("client_assertion=a%d", n))}
		return second, nil
	}
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 201, resp.StatusCode)
	require.EqualValues(t, 1, calls.Load(), "the retry takes its body from GetBody")
	seen := rec.all()
	require.Len(t, seen, 2)
	require.Equal(t, "client_assertion=a0", seen[0].body)
	require.Equal(t, "client_assertion=a1", seen[1].body)
	require.Equal(t, "nonce-1", seen[1].nonce)
	require.NotEqual(t, seen[0].jti, seen[1].jti)
	require.Positive(t, first.closed.Load())
	require.Positive(t, second.closed.Load())
	require.Empty(t, req.Header.Get("DPoP"), "the caller's request is not modified")
}

func TestTransportNoRetry(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), time.Now())

	t.Run("body without GetBody", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) { useNonce400(w, "n") })
		tr := &Transport{Proofer: p}
		req, err := http.NewRequest("POST", rec.srv.URL, nil)
		require.NoError(t, err)
		req.Body = io.NopCloser(strings.NewReader("x=1"))
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 400, resp.StatusCode)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Contains(t, string(b), "use_dpop_nonce", "the caller still gets the body")
		require.Len(t, rec.all(), 1)
		require.Equal(t, "n", tr.Nonce(strings.TrimSuffix(rec.srv.URL, "/"), false), "but the nonce is kept for next time")
	})

	t.Run("exactly one retry", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) { useNonce400(w, fmt.Sprint("n", n)) })
		tr := &Transport{Proofer: p}
		resp, err := (&http.Client{Transport: tr}).PostForm(rec.srv.URL, url.Values{"a": {"b"}})
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 400, resp.StatusCode)
		require.Len(t, rec.all(), 2)
	})

	t.Run("nonce unchanged", func(t *testing.T) {
		t.Parallel()
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) { useNonce400(w, "same") })
		tr := &Transport{Proofer: p}
		c := &http.Client{Transport: tr}
		resp, err := c.Get(rec.srv.URL)
		require.NoError(t, err)
		resp.Body.Close()
		require.Len(t, rec.all(), 2)
		resp, err = c.Get(rec.srv.URL)
		require.NoError(t, err)
		resp.Body.Close()
		require.Len(t, rec.all(), 3, "the proof already had that nonce: no retry")
	})

	for _, tc := range []struct {
		name string
		h    func(w http.ResponseWriter)
	}{
		{"400 other error", func(w http.ResponseWriter) {
			w.Header().Set("DPoP-Nonce", "n")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
		}},
		{"400 not JSON", func(w http.ResponseWriter) {
			w.Header().Set("DPoP-Nonce", "n")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `use_dpop_nonce`)
		}},
		{"400 without a nonce", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"use_dpop_nonce"}`)
		}},
		{"400 with an invalid nonce", func(w http.ResponseWriter) {
			w.Header().Set("DPoP-Nonce", `bad "nonce"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"use_dpop_nonce"}`)
		}},
		{"400 huge body", func(w http.ResponseWriter) {
			w.Header().Set("DPoP-Nonce", "n")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error":"use_dpop_nonce","x":"`+strings.Repeat("x", maxErrorBody)+`"}`)
		}},
		{"401 Bearer challenge", func(w http.ResponseWriter) {
			w.Header().Set("DPoP-Nonce", "n")
			w.Header().Set("WWW-Authenticate", `Bearer error="use_dpop_nonce"`)
			w.WriteHeader(401)
		}},
		{"401 invalid_token", func(w http.ResponseWriter) {
			w.Header().Set("DPoP-Nonce", "n")
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
			w.WriteHeader(401)
		}},
		{"401 malformed challenge", func(w http.ResponseWriter) {
			w.Header().Set("DPoP-Nonce", "n")
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce`)
			w.WriteHeader(401)
		}},
		{"500", func(w http.ResponseWriter) {
			w.Header().Set("DPoP-Nonce", "n")
			w.WriteHeader(500)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) { tc.h(w) })
			resp, err := (&http.Client{Transport: &Transport{Proofer: p}}).Get(rec.srv.URL)
			require.NoError(t, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			require.Len(t, rec.all(), 1)
		})
	}
}

func TestTransport401Retry(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			// RFC 9449 Figure 24, with the scheme in lower case.
			w.Header().Set("WWW-Authenticate", `Bearer realm="x", dpop error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
			w.Header().Set("DPoP-Nonce", "eyJ7S_zG.eyJH0-Z.HX4w-7v")
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(200)
	})
	p := newProofer(t, newKey(t), time.Now())
	tr := &Transport{Proofer: p}
	req, err := http.NewRequest("GET", rec.srv.URL+"/r", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "DPoP at-1")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	seen := rec.all()
	require.Len(t, seen, 2)
	require.Equal(t, "eyJ7S_zG.eyJH0-Z.HX4w-7v", seen[1].nonce)
	require.Equal(t, AccessTokenHash("at-1"), seen[1].ath)
}

func TestTransportAuthorization(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), time.Now())
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(204) })
	for _, tc := range []struct {
		name     string
		upgrade  bool
		auth     string
		wantAuth string
		ath      string
	}{
		{"DPoP from x/oauth2", false, "DPoP tok", "DPoP tok", "tok"},
		{"dpop lower case", false, "dpop tok", "DPoP tok", "tok"},
		{"Bearer stays Bearer", false, "Bearer tok", "Bearer tok", "tok"},
		{"Bearer upgraded", true, "Bearer tok", "DPoP tok", "tok"},
		{"Basic client authentication", false, "Basic YTpi", "Basic YTpi", ""},
		{"none", false, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &Transport{Proofer: p, UpgradeBearer: tc.upgrade}
			req, err := http.NewRequest("GET", rec.srv.URL, nil)
			require.NoError(t, err)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			seen := rec.all()
			last := seen[len(seen)-1]
			require.Equal(t, tc.wantAuth, last.auth)
			if tc.ath == "" {
				require.False(t, last.hasAth)
			} else {
				require.Equal(t, AccessTokenHash(tc.ath), last.ath)
			}
			require.Equal(t, tc.auth, req.Header.Get("Authorization"), "the caller's request is not modified")
		})
	}

	// x/oauth2 with a token restored without its type: Bearer reaches the
	// transport; UpgradeBearer makes it DPoP.
	tr := &Transport{Proofer: p, UpgradeBearer: true}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
	c := oauth2.NewClient(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "restored"}))
	resp, err := c.Get(rec.srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	seen := rec.all()
	require.Equal(t, "DPoP restored", seen[len(seen)-1].auth)
}

// TestTransportNonceScopes: nonces are remembered from every response
// (successful ones too), per origin, separately for the authorization
// server and the resource server even on one origin.
func TestTransportNonceScopes(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Header.Get("Authorization") != "" {
			w.Header().Set("DPoP-Nonce", "rs-nonce")
		} else {
			w.Header().Set("DPoP-Nonce", "as-nonce")
		}
		w.WriteHeader(200)
	})
	other := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(200) })
	tr := &Transport{Proofer: newProofer(t, newKey(t), time.Now())}
	c := &http.Client{Transport: tr}
	do := func(u string, tok string) {
		req, err := http.NewRequest("GET", u, nil)
		require.NoError(t, err)
		if tok != "" {
			req.Header.Set("Authorization", "DPoP "+tok)
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	do(rec.srv.URL+"/token", "")
	do(rec.srv.URL+"/api", "t")
	do(rec.srv.URL+"/token", "")
	do(rec.srv.URL+"/api", "t")
	do(other.srv.URL+"/x", "")
	seen := rec.all()
	require.Equal(t, []string{"", "", "as-nonce", "rs-nonce"}, []string{seen[0].nonce, seen[1].nonce, seen[2].nonce, seen[3].nonce})
	require.Empty(t, other.all()[0].nonce, "another origin gets no nonce")
	u, err := url.Parse(rec.srv.URL)
	require.NoError(t, err)
	require.Equal(t, "as-nonce", tr.Nonce("http://"+u.Host, false))
	require.Equal(t, "rs-nonce", tr.Nonce("http://"+u.Host, true))
}

type errRT struct{ err error }

func (e errRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	return nil, e.err
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), time.Now())
	for _, tc := range []struct {
		name string
		tr   *Transport
		url  string
		want error
	}{
		{"nil proofer", &Transport{}, "https://as.example/token", ErrInvalidConfig},
		{"not http", &Transport{Proofer: p}, "ftp://as.example/token", ErrInvalidRequest},
		{"base error", &Transport{Proofer: p, Base: errRT{io.ErrUnexpectedEOF}}, "https://as.example/token", io.ErrUnexpectedEOF},
		{"signer error", &Transport{Proofer: &Proofer{signer: mustSigner(t, failingSigner{newKey(t)}), now: time.Now}}, "https://as.example/token", io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := &countingBody{Reader: strings.NewReader("x")}
			req, err := http.NewRequest("POST", tc.url, body)
			require.NoError(t, err)
			resp, err := tc.tr.RoundTrip(req)
			require.Nil(t, resp)
			require.ErrorIs(t, err, tc.want)
			require.Positive(t, body.closed.Load(), "the body is closed on every path")
		})
	}
}

// TestTransportDefaultBase: a nil Base sends through the module's shared
// default transport (timeouts, TLS 1.2+), never http.DefaultTransport nor
// a transport of its own.
func TestTransportDefaultBase(t *testing.T) {
	t.Parallel()
	var a, b Transport
	require.True(t, a.base() == httpx.Transport(nil), "the shared default")
	require.True(t, b.base() == a.base())
	require.False(t, a.base() == http.DefaultTransport)
	// A Base is what sends, under the module's bounded transport errors.
	rt := errRT{io.EOF}
	_, err := (&Transport{Base: rt}).base().RoundTrip(httptest.NewRequest(http.MethodGet, "https://rs.example/", nil))
	require.ErrorIs(t, err, io.EOF)
}

func TestTransportConcurrent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	jtis := map[string]bool{}
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, n int) {
		c := claimsOf(t, r.Header.Get("DPoP"))
		mu.Lock()
		dup := jtis[c["jti"].(string)]
		jtis[c["jti"].(string)] = true
		mu.Unlock()
		if dup {
			w.WriteHeader(409)
			return
		}
		if c["nonce"] == nil {
			useNonce400(w, "n1")
			return
		}
		w.WriteHeader(200)
	})
	tr := &Transport{Proofer: newProofer(t, newKey(t), time.Now())}
	c := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				resp, err := c.PostForm(rec.srv.URL, url.Values{"a": {"b"}})
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
}
