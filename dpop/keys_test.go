package dpop

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// rfc7800 is testdata/rfc7800-cnf.json: the claims of RFC 7800 §3.4 and
// §3.5.
type rfc7800 struct {
	KID json.RawMessage `json:"rfc7800_3_4_kid"`
	JKU json.RawMessage `json:"rfc7800_3_5_jku"`
}

func loadRFC7800(t testing.TB) rfc7800 {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc7800-cnf.json")
	require.NoError(t, err)
	var v rfc7800
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

// The kid and jku of RFC 7800 §3.4 and §3.5.
const (
	kid34 = "dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"
	jku35 = "https://keys.example.net/pop-keys.json"
	kid35 = "2015-08-28"
)

// keyHost serves a JWK Set over TLS; its client reaches it whatever the
// URL's host.
type keyHost struct {
	srv      *httptest.Server
	hits     atomic.Int64
	body     atomic.Pointer[[]byte]
	redirect atomic.Bool
}

func newKeyHost(t testing.TB, keys ...*jose.JWK) *keyHost {
	t.Helper()
	h := &keyHost{}
	b, err := jose.MarshalJWKSet(keys)
	require.NoError(t, err)
	h.body.Store(&b)
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		if h.redirect.Load() {
			http.Redirect(w, r, "https://example.com/elsewhere.json", http.StatusFound)
			return
		}
		_, _ = w.Write(*h.body.Load())
	}))
	h.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	h.srv.StartTLS()
	t.Cleanup(h.srv.Close)
	return h
}

func (h *keyHost) client() *http.Client {
	c := h.srv.Client()
	tr := c.Transport.(*http.Transport)
	addr := h.srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig.ServerName = "example.com" // the name on httptest's certificate
	return c
}

func kidJWK(t testing.TB, pub crypto.PublicKey, kid string) *jose.JWK {
	t.Helper()
	j, err := jose.NewJWK(pub)
	require.NoError(t, err)
	j.KeyID = kid
	return j
}

func jwkSet(t testing.TB, keys ...*jose.JWK) []byte {
	t.Helper()
	b, err := jose.MarshalJWKSet(keys)
	require.NoError(t, err)
	return b
}

// resolverFunc is a KeyResolver written by a test.
type resolverFunc func(ctx context.Context, c Confirmation, claims json.RawMessage) (crypto.PublicKey, error)

func (f resolverFunc) ResolveKey(ctx context.Context, c Confirmation, claims json.RawMessage) (crypto.PublicKey, error) {
	return f(ctx, c, claims)
}

// TestCheckKeyResolver: tokens bound by "kid" and "jku" pass Check with
// the proof of the key they name, and every bad input is refused with its
// typed error.
func TestCheckKeyResolver(t *testing.T) {
	t.Parallel()
	vec := loadRFC7800(t)
	p := newProofer(t, newKey(t), fixedNow)
	other := newProofer(t, newKey(t), fixedNow)
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jkt, otherJKT := p.JKT(), other.JKT()

	host := newKeyHost(t,
		kidJWK(t, p.Public(), kid35),
		kidJWK(t, p.Public(), "twice"), kidJWK(t, other.Public(), "twice"),
	)
	redirecting := newKeyHost(t, kidJWK(t, p.Public(), kid35))
	redirecting.redirect.Store(true)
	keys, err := NewJWKSResolver(JWKSConfig{
		JWKS: jwkSet(t,
			kidJWK(t, p.Public(), kid34), kidJWK(t, edPub, "ed"),
			kidJWK(t, p.Public(), "dup"), kidJWK(t, other.Public(), "dup"),
		),
		JKUs:       []string{jku35},
		HTTPClient: host.client(),
	})
	require.NoError(t, err)
	viaRedirect, err := NewJWKSResolver(JWKSConfig{JKUs: []string{jku35}, HTTPClient: redirecting.client()})
	require.NoError(t, err)

	t.Cleanup(func() { require.EqualValues(t, 1, host.hits.Load(), "the jku set is fetched once and cached") })

	const tok = "tok-kid"
	req := func(scheme string, pr *Proofer) *http.Request {
		r := httptest.NewRequest("GET", rsURI, nil)
		r.Header.Set("Authorization", scheme+" "+tok)
		if pr != nil {
			proof, err := pr.Proof("GET", rsURI, ProofOptions{AccessToken: tok})
			require.NoError(t, err)
			r.Header.Set("DPoP", proof)
		}
		return r
	}
	with := func(k KeyResolver, elsewhere ...string) func() *Verifier {
		return func() *Verifier {
			return &Verifier{BaseURL: rsBase, Now: clock(fixedNow), Keys: k, CheckedElsewhere: elsewhere}
		}
	}
	std := with(keys)
	cnfClaims := func(cnf string) string { return `{"sub":"alice","cnf":` + cnf + `}` }
	x5tCert := "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"

	for _, tc := range []struct {
		name   string
		v      func() *Verifier
		claims string
		r      *http.Request
		want   []error // nil: accepted
		proof  bool    // accepted with a proof
	}{
		{name: "RFC 7800 §3.4 kid, right proof", v: std, claims: string(vec.KID), r: req("DPoP", p), proof: true},
		{name: "RFC 7800 §3.4 kid, another key's proof", v: std, claims: string(vec.KID), r: req("DPoP", other), want: []error{ErrBindingMismatch, cnf.ErrKeyMismatch}},
		{name: "RFC 7800 §3.5 jku, right proof", v: std, claims: string(vec.JKU), r: req("DPoP", p), proof: true},
		{name: "RFC 7800 §3.5 jku, another key's proof", v: std, claims: string(vec.JKU), r: req("DPoP", other), want: []error{ErrBindingMismatch, cnf.ErrKeyMismatch}},
		{name: "kid, no proof", v: std, claims: string(vec.KID), r: req("DPoP", nil), want: []error{ErrInvalidProof}},
		{name: "kid as a bearer token", v: std, claims: string(vec.KID), r: req("Bearer", p), want: []error{ErrInvalidToken}},
		{name: "kid and jkt of the same key", v: std, claims: cnfClaims(`{"kid":"` + kid34 + `","jkt":"` + jkt + `"}`), r: req("DPoP", p), proof: true},
		{name: "kid and jwk of the same key", v: std, claims: cnfClaims(`{"kid":"` + kid34 + `","jwk":` + publicJWK(t, p.Public()) + `}`), r: req("DPoP", p), proof: true},
		{name: "kid and jkt naming another key", v: std, claims: cnfClaims(`{"kid":"` + kid34 + `","jkt":"` + otherJKT + `"}`), r: req("DPoP", p), want: []error{ErrUnknownKey, cnf.ErrKeyConflict}},
		{name: "kid and jkt naming another key, its proof", v: std, claims: cnfClaims(`{"kid":"` + kid34 + `","jkt":"` + otherJKT + `"}`), r: req("DPoP", other), want: []error{ErrUnknownKey, cnf.ErrKeyConflict}},
		{name: "kid and jwk naming another key", v: std, claims: cnfClaims(`{"kid":"` + kid34 + `","jwk":` + publicJWK(t, other.Public()) + `}`), r: req("DPoP", p), want: []error{ErrUnknownKey, cnf.ErrKeyConflict}},
		{name: "kid the resolver does not know", v: std, claims: cnfClaims(`{"kid":"nobody"}`), r: req("DPoP", p), want: []error{ErrUnknownKey, cnf.ErrUnknownKey}},
		{name: "kid of two registered keys", v: std, claims: cnfClaims(`{"kid":"dup"}`), r: req("DPoP", p), want: []error{ErrUnknownKey, cnf.ErrAmbiguousKey}},
		{name: "resolved key of another type than the proof's", v: std, claims: cnfClaims(`{"kid":"ed"}`), r: req("DPoP", p), want: []error{ErrBindingMismatch, cnf.ErrKeyType}},
		{name: "jku off the allow-list", v: std, claims: cnfClaims(`{"jku":"https://keys.example.org/pop-keys.json","kid":"` + kid35 + `"}`), r: req("DPoP", p), want: []error{ErrUnknownKey, cnf.ErrJKUNotAllowed}},
		{name: "jku over http", v: std, claims: cnfClaims(`{"jku":"http://keys.example.net/pop-keys.json","kid":"` + kid35 + `"}`), r: req("DPoP", p), want: []error{ErrMalformedConfirmation}},
		{name: "jku whose set lacks the kid", v: std, claims: cnfClaims(`{"jku":"` + jku35 + `","kid":"` + kid34 + `"}`), r: req("DPoP", p), want: []error{ErrUnknownKey, cnf.ErrUnknownKey}},
		{name: "jku whose set holds two keys with the kid", v: std, claims: cnfClaims(`{"jku":"` + jku35 + `","kid":"twice"}`), r: req("DPoP", p), want: []error{ErrUnknownKey, cnf.ErrAmbiguousKey}},
		{name: "redirecting jku", v: with(viaRedirect), claims: string(vec.JKU), r: req("DPoP", p), want: []error{ErrKeyUnavailable, jose.ErrJWKSFetch}},
		{name: "kid without Keys", v: with(nil), claims: string(vec.KID), r: req("DPoP", p), want: []error{ErrUnsupportedConfirmation}},
		{name: "jku without Keys", v: with(nil), claims: string(vec.JKU), r: req("DPoP", p), want: []error{ErrUnsupportedConfirmation}},
		{name: "kid and jkt without Keys", v: with(nil), claims: cnfClaims(`{"kid":"` + kid34 + `","jkt":"` + jkt + `"}`), r: req("DPoP", p), want: []error{ErrUnsupportedConfirmation}},
		{name: "kid and jwe", v: std, claims: cnfClaims(`{"kid":"` + kid34 + `","jwe":"a.b.c.d.e"}`), r: req("DPoP", p), want: []error{ErrUnsupportedConfirmation}},
		// "kid" beside "x5t#S256" alone names the certificate's key: it
		// goes with x5t#S256 to the mTLS verifier.
		{name: "kid and x5t#S256, checked elsewhere, Bearer", v: with(nil, "x5t#S256"), claims: cnfClaims(`{"kid":"` + kid34 + `","x5t#S256":"` + x5tCert + `"}`), r: req("Bearer", nil)},
		{name: "kid and x5t#S256, checked elsewhere, DPoP scheme", v: with(keys, "x5t#S256"), claims: cnfClaims(`{"kid":"` + kid34 + `","x5t#S256":"` + x5tCert + `"}`), r: req("DPoP", p), want: []error{ErrInvalidToken}},
		{name: "kid and x5t#S256, not checked elsewhere", v: std, claims: cnfClaims(`{"kid":"` + kid34 + `","x5t#S256":"` + x5tCert + `"}`), r: req("Bearer", nil), want: []error{ErrUnsupportedConfirmation}},
		{name: "kid, jkt and x5t#S256, checked elsewhere", v: with(keys, "x5t#S256"), claims: cnfClaims(`{"kid":"` + kid34 + `","jkt":"` + jkt + `","x5t#S256":"` + x5tCert + `"}`), r: req("DPoP", p), proof: true},

		// Resolvers of the caller's own.
		{name: "resolver returns no key", v: with(resolverFunc(func(context.Context, Confirmation, json.RawMessage) (crypto.PublicKey, error) { return nil, nil })), claims: string(vec.KID), r: req("DPoP", p), want: []error{ErrUnknownKey}},
		{name: "resolver fails", v: with(resolverFunc(func(context.Context, Confirmation, json.RawMessage) (crypto.PublicKey, error) {
			return nil, errors.New("no such client")
		})), claims: string(vec.KID), r: req("DPoP", p), want: []error{ErrUnknownKey}},
		{name: "resolver unavailable", v: with(resolverFunc(func(context.Context, Confirmation, json.RawMessage) (crypto.PublicKey, error) {
			return nil, ErrKeyUnavailable
		})), claims: string(vec.KID), r: req("DPoP", p), want: []error{ErrKeyUnavailable}},
		{name: "resolver returns a private key", v: with(resolverFunc(func(context.Context, Confirmation, json.RawMessage) (crypto.PublicKey, error) {
			return newKey(t), nil
		})), claims: string(vec.KID), r: req("DPoP", p), want: []error{ErrUnknownKey, cnf.ErrKeyConflict}},
		{name: "resolver scoped by the claims", v: with(resolverFunc(func(_ context.Context, c Confirmation, claims json.RawMessage) (crypto.PublicKey, error) {
			var cl struct{ Sub string }
			if json.Unmarshal(claims, &cl) != nil || cl.Sub != "17760704" || c.KID != kid35 || c.JKU != jku35 {
				return nil, errors.New("wrong client")
			}
			return p.Public(), nil
		})), claims: string(vec.JKU), r: req("DPoP", p), proof: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := tc.v().Check(tc.r, tok, json.RawMessage(tc.claims))
			if tc.want != nil {
				for _, w := range tc.want {
					require.ErrorIs(t, err, w)
				}
				require.Nil(t, res)
				return
			}
			require.NoError(t, err)
			require.True(t, res.Bound)
			require.Equal(t, tc.proof, res.Proof != nil)
			if tc.proof {
				require.Equal(t, jkt, res.Proof.JKT)
			}
		})
	}
}

// TestWrapKeyResolver: the middleware answers a token bound by "kid" 200
// with the right proof, 401 with another, and 503 when the set it names
// cannot be fetched.
func TestWrapKeyResolver(t *testing.T) {
	t.Parallel()
	vec := loadRFC7800(t)
	p := newProofer(t, newKey(t), fixedNow)
	other := newProofer(t, newKey(t), fixedNow)
	down := newKeyHost(t)
	down.redirect.Store(true)
	keys, err := NewJWKSResolver(JWKSConfig{JWKS: jwkSet(t, kidJWK(t, p.Public(), kid34)), JKUs: []string{jku35}, HTTPClient: down.client()})
	require.NoError(t, err)
	rs := newRS(t, func(v *Verifier) { v.Keys = keys })
	rs.tokens["kid"] = string(vec.KID)
	rs.tokens["jku"] = string(vec.JKU)
	send := func(token string, pr *Proofer) *http.Response {
		return rs.do(t, func(r *http.Request) {
			r.Header.Set("Authorization", "DPoP "+token)
			proof, err := pr.Proof("GET", rs.srv.URL+"/resource", ProofOptions{AccessToken: token})
			require.NoError(t, err)
			r.Header.Set("DPoP", proof)
		})
	}

	resp := send("kid", p)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, p.JKT(), resp.Header.Get("X-JKT"))

	resp = send("kid", other)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, CodeInvalidToken, challengeOf(t, resp, "DPoP").Get("error"))
	require.ErrorIs(t, rs.lastErr(), ErrBindingMismatch)

	resp = send("jku", p)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.ErrorIs(t, rs.lastErr(), ErrKeyUnavailable)
	require.EqualValues(t, 1, rs.calls.Load())
}

func TestNewJWKSResolverConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   JWKSConfig
		field string
	}{
		{name: "empty", cfg: JWKSConfig{}, field: "JWKSConfig.JWKS"},
		{name: "http jku", cfg: JWKSConfig{JKUs: []string{"http://keys.example.net/pop-keys.json"}}, field: "JWKSConfig.JKUs"},
		{name: "not a set", cfg: JWKSConfig{JWKS: []byte(`[]`)}, field: "JWKSConfig.JWKS"},
		{name: "negative max age", cfg: JWKSConfig{JKUs: []string{jku35}, MaxAge: -1}, field: "JWKSConfig.MaxAge"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewJWKSResolver(tc.cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field)
			require.Nil(t, r)
		})
	}
}

// TestJWKSResolverErrors: the standard resolver's errors carry this
// package's sentinels when called directly.
func TestJWKSResolverErrors(t *testing.T) {
	t.Parallel()
	k := newKey(t)
	r, err := NewJWKSResolver(JWKSConfig{JWKS: jwkSet(t, kidJWK(t, k.Public(), "k1"))})
	require.NoError(t, err)
	pub, err := r.ResolveKey(context.Background(), Confirmation{KID: "k1"}, nil)
	require.NoError(t, err)
	require.True(t, k.PublicKey.Equal(pub))
	_, err = r.ResolveKey(context.Background(), Confirmation{KID: "k2"}, nil)
	require.ErrorIs(t, err, ErrUnknownKey)
	_, err = r.ResolveKey(context.Background(), Confirmation{KID: "k1", JKU: jku35}, nil)
	require.ErrorIs(t, err, ErrUnknownKey)
	require.ErrorIs(t, err, cnf.ErrJKUNotAllowed)
}

// TestZeroJWKSResolver: a JWKSResolver not made by NewJWKSResolver fails
// as a misconfiguration (500), not as a bad token.
func TestZeroJWKSResolver(t *testing.T) {
	t.Parallel()
	p := newProofer(t, newKey(t), fixedNow)
	for _, k := range []*JWKSResolver{nil, {}} {
		v := &Verifier{BaseURL: rsBase, Now: clock(fixedNow), Keys: k}
		r := httptest.NewRequest("GET", rsURI, nil)
		proof, err := p.Proof("GET", rsURI, ProofOptions{AccessToken: "t"})
		require.NoError(t, err)
		r.Header.Set("DPoP", proof)
		_, err = v.Check(r, "t", json.RawMessage(`{"cnf":{"kid":"k"}}`))
		require.ErrorIs(t, err, ErrInvalidConfig)
		w := httptest.NewRecorder()
		v.WriteError(w, r, err)
		require.Equal(t, http.StatusInternalServerError, w.Code)
	}
}
