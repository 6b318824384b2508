package mtlsbound_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// The claims of RFC 7800 §3.4 and §3.5 (testdata/rfc7800-cnf.json), and
// their kid and jku.
type rfc7800 struct {
	KID json.RawMessage `json:"rfc7800_3_4_kid"`
	JKU json.RawMessage `json:"rfc7800_3_5_jku"`
}

const (
	kid34 = "dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"
	jku35 = "https://keys.example.net/pop-keys.json"
	kid35 = "2015-08-28"
)

func load7800(t testing.TB) rfc7800 {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc7800-cnf.json")
	require.NoError(t, err)
	var v rfc7800
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

// jwkSetOf returns a JWK Set holding, for each kid, its keys.
func jwkSetOf(t testing.TB, byKID map[string][]crypto.PublicKey) []byte {
	t.Helper()
	kids := make([]string, 0, len(byKID))
	for kid := range byKID {
		kids = append(kids, kid)
	}
	sort.Strings(kids)
	var set []*jose.JWK
	for _, kid := range kids {
		for _, pub := range byKID[kid] {
			j, err := jose.NewJWK(pub)
			require.NoError(t, err)
			j.KeyID = kid
			set = append(set, j)
		}
	}
	b, err := jose.MarshalJWKSet(set)
	require.NoError(t, err)
	return b
}

// rewriteHost sends every request to one host, whatever its URL names.
type rewriteHost struct {
	base http.RoundTripper
	host string
}

func (rt rewriteHost) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Host, r.Host = rt.host, ""
	return rt.base.RoundTrip(r)
}

// setHost serves a JWK Set (or a redirect) over TLS and returns a client
// that reaches it under any URL.
func setHost(t testing.TB, set []byte, redirect bool) (*http.Client, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := newTLSServerConfig(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if redirect {
			http.Redirect(w, r, "https://keys.example.net/moved.json", http.StatusMovedPermanently)
			return
		}
		_, _ = w.Write(set)
	}), &tls.Config{MinVersion: tls.VersionTLS12})
	base := srv.Client()
	return &http.Client{Transport: rewriteHost{base: base.Transport, host: srv.Listener.Addr().String()}}, &hits
}

type resolverFunc func(ctx context.Context, c mtlsbound.Confirmation, claims json.RawMessage) (crypto.PublicKey, error)

func (f resolverFunc) ResolveKey(ctx context.Context, c mtlsbound.Confirmation, claims json.RawMessage) (crypto.PublicKey, error) {
	return f(ctx, c, claims)
}

// TestCheckKeyResolver: a token bound by "kid" or "jku" passes Check with
// the certificate of the key it names, and every bad input is refused
// with its typed error.
func TestCheckKeyResolver(t *testing.T) {
	t.Parallel()
	vec := load7800(t)
	certA, certB := newCert(t, "client-a"), newCert(t, "client-b")
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	keyA, keyB := certA.Leaf.PublicKey, certB.Leaf.PublicKey

	client, hits := setHost(t, jwkSetOf(t, map[string][]crypto.PublicKey{kid35: {keyA}, "twice": {keyA, keyB}}), false)
	keys, err := mtlsbound.NewJWKSResolver(mtlsbound.JWKSConfig{
		JWKS:       jwkSetOf(t, map[string][]crypto.PublicKey{kid34: {keyA}, "ed": {edPub}, "dup": {keyA, keyB}}),
		JKUs:       []string{jku35},
		HTTPClient: client,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.EqualValues(t, 1, hits.Load(), "the jku set is fetched once and cached") })
	redirecting, redirectHits := setHost(t, nil, true)
	viaRedirect, err := mtlsbound.NewJWKSResolver(mtlsbound.JWKSConfig{JKUs: []string{jku35}, HTTPClient: redirecting})
	require.NoError(t, err)
	t.Cleanup(func() { require.EqualValues(t, 1, redirectHits.Load(), "the redirect is not followed") })

	with := func(k mtlsbound.KeyResolver, elsewhere ...string) *mtlsbound.Verifier {
		return &mtlsbound.Verifier{Keys: k, CheckedElsewhere: elsewhere}
	}
	std := with(keys)
	claims := func(cnf string) string { return `{"sub":"client-1","cnf":` + cnf + `}` }
	x5tA := mtlsbound.Thumbprint(certA.Leaf)

	for _, tc := range []struct {
		name   string
		v      *mtlsbound.Verifier
		claims string
		cert   *x509.Certificate
		want   []error // nil: accepted
	}{
		{name: "RFC 7800 §3.4 kid, right certificate", v: std, claims: string(vec.KID), cert: certA.Leaf},
		{name: "RFC 7800 §3.4 kid, another certificate", v: std, claims: string(vec.KID), cert: certB.Leaf, want: []error{mtlsbound.ErrBindingMismatch, cnf.ErrKeyMismatch}},
		{name: "RFC 7800 §3.4 kid, no certificate", v: std, claims: string(vec.KID), want: []error{mtlsbound.ErrNoCertificate}},
		{name: "RFC 7800 §3.5 jku, right certificate", v: std, claims: string(vec.JKU), cert: certA.Leaf},
		{name: "RFC 7800 §3.5 jku, another certificate", v: std, claims: string(vec.JKU), cert: certB.Leaf, want: []error{mtlsbound.ErrBindingMismatch, cnf.ErrKeyMismatch}},
		{name: "kid and x5t#S256 of the certificate", v: std, claims: claims(`{"kid":"` + kid34 + `","x5t#S256":"` + x5tA + `"}`), cert: certA.Leaf},
		{name: "kid and x5t#S256 of different certificates", v: std, claims: claims(`{"kid":"` + kid34 + `","x5t#S256":"` + mtlsbound.Thumbprint(certB.Leaf) + `"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrBindingMismatch}},
		{name: "kid the resolver does not know", v: std, claims: claims(`{"kid":"nobody"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrUnknownKey, cnf.ErrUnknownKey}},
		{name: "kid of two registered keys", v: std, claims: claims(`{"kid":"dup"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrUnknownKey, cnf.ErrAmbiguousKey}},
		{name: "resolved key of another type than the certificate's", v: std, claims: claims(`{"kid":"ed"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrBindingMismatch, cnf.ErrKeyType}},
		{name: "jku off the allow-list", v: std, claims: claims(`{"jku":"https://keys.example.org/pop-keys.json","kid":"` + kid35 + `"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrUnknownKey, cnf.ErrJKUNotAllowed}},
		{name: "jku over http", v: std, claims: claims(`{"jku":"http://keys.example.net/pop-keys.json","kid":"` + kid35 + `"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "jku whose set lacks the kid", v: std, claims: claims(`{"jku":"` + jku35 + `","kid":"` + kid34 + `"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrUnknownKey, cnf.ErrUnknownKey}},
		{name: "jku whose set holds two keys with the kid", v: std, claims: claims(`{"jku":"` + jku35 + `","kid":"twice"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrUnknownKey, cnf.ErrAmbiguousKey}},
		{name: "redirecting jku", v: with(viaRedirect), claims: string(vec.JKU), cert: certA.Leaf, want: []error{mtlsbound.ErrKeyUnavailable, jose.ErrJWKSFetch}},
		{name: "kid without Keys", v: with(nil), claims: string(vec.KID), cert: certA.Leaf, want: []error{mtlsbound.ErrUnsupportedConfirmation}},
		{name: "jku without Keys", v: with(nil), claims: string(vec.JKU), cert: certA.Leaf, want: []error{mtlsbound.ErrUnsupportedConfirmation}},
		{name: "kid and jwe", v: std, claims: claims(`{"kid":"` + kid34 + `","jwe":"a.b.c.d.e"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrUnsupportedConfirmation}},
		// "kid" beside "jkt" names the DPoP key: the dpop verifier checks
		// both.
		{name: "kid and jkt, jkt checked elsewhere", v: with(nil, "jkt"), claims: claims(`{"kid":"` + kid34 + `","jkt":"` + jkt9449 + `"}`), cert: certB.Leaf},
		{name: "kid and jkt, not checked elsewhere", v: std, claims: claims(`{"kid":"` + kid34 + `","jkt":"` + jkt9449 + `"}`), cert: certA.Leaf, want: []error{mtlsbound.ErrUnsupportedConfirmation}},

		// Resolvers of the caller's own.
		{name: "resolver returns no key", v: with(resolverFunc(func(context.Context, mtlsbound.Confirmation, json.RawMessage) (crypto.PublicKey, error) {
			return nil, nil
		})), claims: string(vec.KID), cert: certA.Leaf, want: []error{mtlsbound.ErrUnknownKey}},
		{name: "resolver fails", v: with(resolverFunc(func(context.Context, mtlsbound.Confirmation, json.RawMessage) (crypto.PublicKey, error) {
			return nil, errors.New("no such client")
		})), claims: string(vec.KID), cert: certA.Leaf, want: []error{mtlsbound.ErrUnknownKey}},
		{name: "resolver unavailable", v: with(resolverFunc(func(context.Context, mtlsbound.Confirmation, json.RawMessage) (crypto.PublicKey, error) {
			return nil, mtlsbound.ErrKeyUnavailable
		})), claims: string(vec.KID), cert: certA.Leaf, want: []error{mtlsbound.ErrKeyUnavailable}},
		{name: "resolver scoped by the claims", v: with(resolverFunc(func(_ context.Context, c mtlsbound.Confirmation, claims json.RawMessage) (crypto.PublicKey, error) {
			var cl struct{ Sub string }
			if json.Unmarshal(claims, &cl) != nil || cl.Sub != "17760704" || c.KID != kid35 || c.JKU != jku35 {
				return nil, errors.New("wrong client")
			}
			return keyA, nil
		})), claims: string(vec.JKU), cert: certA.Leaf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "https://rs.example/", nil)
			if tc.cert != nil {
				r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{tc.cert}}
			}
			res, err := tc.v.Check(r, "tok", json.RawMessage(tc.claims))
			if tc.want != nil {
				for _, w := range tc.want {
					require.ErrorIs(t, err, w)
				}
				require.Nil(t, res)
				return
			}
			require.NoError(t, err)
			require.True(t, res.Bound)
			require.Equal(t, tc.cert, res.Certificate)
			require.Equal(t, mtlsbound.Thumbprint(tc.cert), res.Thumbprint)
		})
	}
}

// TestWrapKeyResolver runs a token bound by "kid" over a real TLS
// connection: 200 with the certificate of the key it names, 401 with
// another, 503 when the JWK Set its "jku" names cannot be fetched.
func TestWrapKeyResolver(t *testing.T) {
	t.Parallel()
	vec := load7800(t)
	certA, certB := newCert(t, "client-a"), newCert(t, "client-b")
	down, _ := setHost(t, nil, true)
	keys, err := mtlsbound.NewJWKSResolver(mtlsbound.JWKSConfig{
		JWKS: jwkSetOf(t, map[string][]crypto.PublicKey{kid34: {certA.Leaf.PublicKey}}), JKUs: []string{jku35}, HTTPClient: down,
	})
	require.NoError(t, err)
	rec := &errRecorder{}
	v := &mtlsbound.Verifier{
		Keys:    keys,
		OnError: rec.record,
		Token: func(_ context.Context, tok string) (json.RawMessage, error) {
			switch tok {
			case "kid":
				return vec.KID, nil
			case "jku":
				return vec.JKU, nil
			}
			return nil, errUnknownToken
		},
	}
	srv := newTLSServer(t, v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, ok := mtlsbound.FromContext(r.Context())
		require.True(t, ok)
		w.Header().Set("X-Thumbprint", res.Thumbprint)
	})))
	send := func(cert *testCert, tok string) *http.Response {
		req, err := http.NewRequest("GET", srv.URL+"/photos", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := clientFor(t, srv, cert).Do(req)
		require.NoError(t, err)
		drain(resp)
		return resp
	}

	resp := send(&certA, "kid")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, mtlsbound.Thumbprint(certA.Leaf), resp.Header.Get("X-Thumbprint"))

	resp = send(&certB, "kid")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, `Bearer error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
	require.ErrorIs(t, rec.last(t), mtlsbound.ErrBindingMismatch)

	resp = send(nil, "kid")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.ErrorIs(t, rec.last(t), mtlsbound.ErrNoCertificate)

	resp = send(&certA, "jku")
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Empty(t, resp.Header.Get("WWW-Authenticate"))
	require.ErrorIs(t, rec.last(t), mtlsbound.ErrKeyUnavailable)
}

func TestNewJWKSResolverConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cfg   mtlsbound.JWKSConfig
		field string
	}{
		{name: "empty", cfg: mtlsbound.JWKSConfig{}, field: "JWKSConfig.JWKS"},
		{name: "http jku", cfg: mtlsbound.JWKSConfig{JKUs: []string{"http://keys.example.net/pop-keys.json"}}, field: "JWKSConfig.JKUs"},
		{name: "private key", cfg: mtlsbound.JWKSConfig{JWKS: []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`)}, field: "JWKSConfig.JWKS"},
		{name: "negative refresh interval", cfg: mtlsbound.JWKSConfig{JKUs: []string{jku35}, MinRefreshInterval: -1}, field: "JWKSConfig.MinRefreshInterval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := mtlsbound.NewJWKSResolver(tc.cfg)
			require.ErrorIs(t, err, mtlsbound.ErrInvalidConfig)
			var ce *mtlsbound.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field)
			require.Nil(t, r)
		})
	}
}

// TestZeroJWKSResolver: a JWKSResolver not made by NewJWKSResolver fails
// as a misconfiguration, not as a bad token.
func TestZeroJWKSResolver(t *testing.T) {
	t.Parallel()
	cert := newCert(t, "client-a")
	for _, k := range []*mtlsbound.JWKSResolver{nil, {}} {
		r := httptest.NewRequest("GET", "https://rs.example/", nil)
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert.Leaf}}
		_, err := (&mtlsbound.Verifier{Keys: k}).Check(r, "t", json.RawMessage(`{"cnf":{"kid":"k"}}`))
		require.ErrorIs(t, err, mtlsbound.ErrInvalidConfig)
	}
}
