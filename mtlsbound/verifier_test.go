package mtlsbound_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/mtlsbound"
)

var errUnknownToken = errors.New("test: unknown token")

// TestMiddleware runs each case over a real TLS connection to a resource
// server that requests (but does not verify) client certificates.
func TestMiddleware(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	certA := newCert(t, "client-a")
	certB := newCert(t, "client-b")
	expired := newExpiredCert(t, "client-expired")
	escA := nginxEscape(string(certA.CertPEM))
	escB := nginxEscape(string(certB.CertPEM))
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	nginx := func(v *mtlsbound.Verifier) {
		v.ProxyHeader, v.ProxyFormat, v.TrustedProxies = "X-SSL-Client-Cert", mtlsbound.HeaderEscapedPEM, loopback
	}
	envoy := func(v *mtlsbound.Verifier) {
		v.ProxyHeader, v.ProxyFormat, v.TrustedProxies = "X-Forwarded-Client-Cert", mtlsbound.HeaderXFCC, loopback
	}
	envoy2 := func(v *mtlsbound.Verifier) { envoy(v); v.XFCCElements = 2 } // two trusted hops, APPEND_FORWARD
	untrustedNginx := func(v *mtlsbound.Verifier) {
		v.ProxyHeader, v.ProxyFormat = "X-SSL-Client-Cert", mtlsbound.HeaderEscapedPEM
		v.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	}
	boundA := boundClaims(certA.Leaf)
	bothA := `{"sub":"client-1","cnf":{"jkt":"` + jkt9449 + `","x5t#S256":"` + mtlsbound.Thumbprint(certA.Leaf) + `"}}`
	dpopToo := func(v *mtlsbound.Verifier) { v.CheckedElsewhere = []string{"jkt"} }
	const invalidToken = `Bearer error="invalid_token"`

	tests := []struct {
		name          string
		claims        string
		tokenErr      error
		clientCert    *testCert
		auth          []string // nil: one "Bearer <token>"
		header        map[string][]string
		configure     func(*mtlsbound.Verifier)
		wantStatus    int
		wantChallenge string
		wantErr       []error
		wantThumb     *testCert // the certificate the handler must see
	}{
		{name: "bound token, right certificate", claims: boundA, clientCert: &certA, wantStatus: 200, wantThumb: &certA},
		{name: "bound token, other certificate", claims: boundA, clientCert: &certB, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrBindingMismatch}},
		{name: "bound token, no certificate", claims: boundA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrNoCertificate}},
		// The binding is to the presented certificate; its dates are TLS policy.
		{name: "expired certificate it is bound to", claims: boundClaims(expired.Leaf), clientCert: &expired, wantStatus: 200, wantThumb: &expired},
		{name: "expired certificate, token bound to another", claims: boundA, clientCert: &expired, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrBindingMismatch}},
		{name: "lower-case scheme", claims: boundA, clientCert: &certA, auth: []string{"bearer opaque-token"}, wantStatus: 200, wantThumb: &certA},

		{name: "forged proxy header from untrusted address", claims: boundA, header: map[string][]string{"X-SSL-Client-Cert": {escA}}, configure: untrustedNginx, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrNoCertificate, mtlsbound.ErrUntrustedProxy}},
		{name: "forged proxy header from untrusted address, other TLS certificate", claims: boundA, clientCert: &certB, header: map[string][]string{"X-SSL-Client-Cert": {escA}}, configure: untrustedNginx, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrBindingMismatch}},
		{name: "trusted nginx header", claims: boundA, header: map[string][]string{"X-SSL-Client-Cert": {escA}}, configure: nginx, wantStatus: 200, wantThumb: &certA},
		{name: "trusted nginx header over the proxy's own certificate", claims: boundA, clientCert: &certB, header: map[string][]string{"X-SSL-Client-Cert": {escA}}, configure: nginx, wantStatus: 200, wantThumb: &certA},
		{name: "trusted proxy without header", claims: boundA, clientCert: &certA, configure: nginx, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrNoCertificate}},
		{name: "trusted nginx header, other certificate", claims: boundA, header: map[string][]string{"X-SSL-Client-Cert": {escB}}, configure: nginx, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrBindingMismatch}},
		{name: "trusted envoy XFCC, last element", claims: boundA, header: map[string][]string{"X-Forwarded-Client-Cert": {`By=spiffe://edge;Cert="` + escB + `",By=spiffe://rs;Hash=` + xfccHash(certA.Leaf) + `;Cert="` + escA + `";Subject="CN=client-a"`}}, configure: envoy2, wantStatus: 200, wantThumb: &certA},
		{name: "trusted envoy XFCC, two elements where one is configured", claims: boundA, header: map[string][]string{"X-Forwarded-Client-Cert": {`By=spiffe://edge;Cert="` + escB + `",By=spiffe://rs;Hash=` + xfccHash(certA.Leaf) + `;Cert="` + escA + `";Subject="CN=client-a"`}}, configure: envoy, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "trusted envoy XFCC, one element where two are configured", claims: boundA, header: map[string][]string{"X-Forwarded-Client-Cert": {`By=spiffe://rs;Hash=` + xfccHash(certA.Leaf) + `;Cert="` + escA + `"`}}, configure: envoy2, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "trusted envoy XFCC, bound cert only in an earlier element", claims: boundA, header: map[string][]string{"X-Forwarded-Client-Cert": {`Cert="` + escA + `",Cert="` + escB + `"`}}, configure: envoy2, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrBindingMismatch}},
		{name: "malformed PEM", claims: boundA, header: map[string][]string{"X-SSL-Client-Cert": {nginxEscape("-----BEGIN CERTIFICATE-----\nMIIB!!\n-----END CERTIFICATE-----\n")}}, configure: nginx, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "header with two certificates", claims: boundA, header: map[string][]string{"X-SSL-Client-Cert": {nginxEscape(string(certA.CertPEM) + string(certB.CertPEM))}}, configure: nginx, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "header repeated", claims: boundA, header: map[string][]string{"X-SSL-Client-Cert": {escA, escA}}, configure: nginx, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "header too large", claims: boundA, header: map[string][]string{"X-SSL-Client-Cert": {escA}}, configure: func(v *mtlsbound.Verifier) { nginx(v); v.MaxProxyHeaderBytes = 200 }, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedHeader}},

		{name: "cnf is a string", claims: `{"cnf":"` + certA.Leaf.Subject.CommonName + `"}`, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "cnf is an array", claims: `{"cnf":[` + boundA + `]}`, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "cnf is null", claims: `{"cnf":null}`, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "cnf of 17 KB", claims: `{"cnf":{"x5t#S256":"` + mtlsbound.Thumbprint(certA.Leaf) + `","x":"` + strings.Repeat("x", 17<<10) + `"}}`, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "non-canonical x5t#S256 (RFC 8705 §3.1)", claims: string(v.JWT.Claims), clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "x5t#S256 not a string", claims: `{"cnf":{"x5t#S256":true}}`, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "cnf without x5t#S256", claims: `{"cnf":{}}`, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "DPoP-bound token", claims: `{"cnf":{"jkt":"` + jkt9449 + `"}}`, clientCert: &certA, configure: func(v *mtlsbound.Verifier) { v.InsecureAllowUnbound = true }, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrUnsupportedConfirmation}},
		{name: "bound by x5t#S256 and jkt, jkt checked by nobody", claims: bothA, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrUnsupportedConfirmation}},
		{name: "bound by x5t#S256 and jkt, jkt checked elsewhere, DPoP scheme", claims: bothA, clientCert: &certA, auth: []string{"DPoP opaque-token"}, configure: dpopToo, wantStatus: 200, wantThumb: &certA},
		{name: "bound by x5t#S256 and jkt, jkt checked elsewhere, other certificate", claims: bothA, clientCert: &certB, auth: []string{"DPoP opaque-token"}, configure: dpopToo, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrBindingMismatch}},
		{name: "bound by x5t#S256 and jkt, sent as Bearer", claims: bothA, clientCert: &certA, configure: dpopToo, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrInvalidToken}},
		{name: "bound by x5t#S256 only, sent as DPoP", claims: boundA, clientCert: &certA, auth: []string{"DPoP opaque-token"}, configure: dpopToo, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrInvalidToken}},
		{name: "DPoP scheme read only when jkt is checked elsewhere", claims: bothA, clientCert: &certA, auth: []string{"DPoP opaque-token"}, wantStatus: 401, wantChallenge: "Bearer", wantErr: []error{mtlsbound.ErrNoToken}},
		{name: "kid-bound token", claims: `{"cnf":{"kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"}}`, clientCert: &certA, configure: dpopToo, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrUnsupportedConfirmation}},
		{name: "jwe beside x5t#S256", claims: `{"cnf":{"x5t#S256":"` + mtlsbound.Thumbprint(certA.Leaf) + `","jwe":"a.b.c.d.e"}}`, clientCert: &certA, configure: func(v *mtlsbound.Verifier) { v.InsecureAllowUnbound = true }, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrUnsupportedConfirmation}},
		{name: "unbound token refused by default", claims: `{"sub":"x"}`, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrUnbound}},
		{name: "unbound token allowed", claims: `{"sub":"x"}`, configure: func(v *mtlsbound.Verifier) { v.InsecureAllowUnbound = true }, wantStatus: 200},
		{name: "unbound token allowed, malformed proxy header still fails", claims: `{"sub":"x"}`, header: map[string][]string{"X-SSL-Client-Cert": {"%zz"}}, configure: func(v *mtlsbound.Verifier) { nginx(v); v.InsecureAllowUnbound = true }, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedHeader}},
		{name: "inactive introspection response", claims: `{"active":false}`, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrInactiveToken}},
		{name: "active introspection response", claims: `{"active":true,"client_id":"c",` + boundA[1:], clientCert: &certA, wantStatus: 200, wantThumb: &certA},
		{name: "claims not an object", claims: `null`, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrMalformedConfirmation}},
		{name: "token rejected", tokenErr: errUnknownToken, clientCert: &certA, wantStatus: 401, wantChallenge: invalidToken, wantErr: []error{mtlsbound.ErrInvalidToken, errUnknownToken}},

		{name: "no Authorization", claims: boundA, clientCert: &certA, auth: []string{}, wantStatus: 401, wantChallenge: "Bearer", wantErr: []error{mtlsbound.ErrNoToken}},
		{name: "no Authorization, realm", claims: boundA, clientCert: &certA, auth: []string{}, configure: func(v *mtlsbound.Verifier) { v.Realm = "api" }, wantStatus: 401, wantChallenge: `Bearer realm="api"`, wantErr: []error{mtlsbound.ErrNoToken}},
		{name: "realm and error", claims: boundA, clientCert: &certB, configure: func(v *mtlsbound.Verifier) { v.Realm = "api" }, wantStatus: 401, wantChallenge: `Bearer realm="api", error="invalid_token"`, wantErr: []error{mtlsbound.ErrBindingMismatch}},
		{name: "other scheme", claims: boundA, clientCert: &certA, auth: []string{"DPoP opaque-token"}, wantStatus: 401, wantChallenge: "Bearer", wantErr: []error{mtlsbound.ErrNoToken}},
		{name: "two Authorization headers", claims: boundA, clientCert: &certA, auth: []string{"Bearer opaque-token", "Bearer opaque-token"}, wantStatus: 400, wantChallenge: `Bearer error="invalid_request"`, wantErr: []error{mtlsbound.ErrInvalidRequest}},
		{name: "bearer without token", claims: boundA, clientCert: &certA, auth: []string{"Bearer "}, wantStatus: 400, wantChallenge: `Bearer error="invalid_request"`, wantErr: []error{mtlsbound.ErrInvalidRequest}},
		{name: "misconfigured verifier", claims: boundA, clientCert: &certA, configure: func(v *mtlsbound.Verifier) { v.Token = nil }, wantStatus: 500, wantErr: []error{mtlsbound.ErrInvalidConfig}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec errRecorder
			var calls atomic.Int32
			vf := &mtlsbound.Verifier{
				Token: func(_ context.Context, tok string) (json.RawMessage, error) {
					if tc.tokenErr != nil {
						return nil, tc.tokenErr
					}
					if tok != "opaque-token" {
						return nil, errUnknownToken
					}
					return json.RawMessage(tc.claims), nil
				},
				OnError: rec.record,
			}
			if tc.configure != nil {
				tc.configure(vf)
			}
			var seenP atomic.Pointer[mtlsbound.Result]
			srv := newTLSServer(t, vf.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				res, ok := mtlsbound.FromContext(r.Context())
				if ok {
					seenP.Store(res)
				}
				w.WriteHeader(http.StatusOK)
			})))
			req, err := http.NewRequest("GET", srv.URL+"/resource", nil)
			require.NoError(t, err)
			auth := tc.auth
			if auth == nil {
				auth = []string{"Bearer opaque-token"}
			}
			for _, a := range auth {
				req.Header.Add("Authorization", a)
			}
			for k, vals := range tc.header {
				for _, v := range vals {
					req.Header.Add(k, v)
				}
			}
			resp, err := clientFor(t, srv, tc.clientCert).Do(req)
			require.NoError(t, err)
			drain(resp)
			require.Equal(t, tc.wantStatus, resp.StatusCode)

			if tc.wantStatus == http.StatusOK {
				seen := seenP.Load()
				require.Equal(t, int32(1), calls.Load())
				require.Zero(t, rec.count())
				require.NotNil(t, seen)
				require.JSONEq(t, tc.claims, string(seen.Claims))
				if tc.wantThumb != nil {
					require.True(t, seen.Bound)
					require.Equal(t, mtlsbound.Thumbprint(tc.wantThumb.Leaf), seen.Thumbprint)
					require.Equal(t, tc.wantThumb.Leaf.Raw, seen.Certificate.Raw)
				} else {
					require.False(t, seen.Bound)
				}
				return
			}
			require.Zero(t, calls.Load(), "next handler called on failure")
			require.Equal(t, tc.wantChallenge, resp.Header.Get("WWW-Authenticate"))
			require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
			err = rec.last(t)
			for _, want := range tc.wantErr {
				require.ErrorIs(t, err, want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	a := newCert(t, "a")
	b := newCert(t, "b")
	both := `{"cnf":{"x5t#S256":"` + mtlsbound.Thumbprint(a.Leaf) + `","jkt":"` + jkt9449 + `"}}`
	jktOnly := `{"cnf":{"jkt":"` + jkt9449 + `"}}`
	jwkOnly := `{"cnf":{"jwk":{"kty":"EC","crv":"P-256","x":"18wHLeIgW9wVN6VD1Txgpqy2LszYkMf6J8njVAibvhM","y":"-V4dS4UaLMgP_4fY4j8ir7cl1TXlFdAgcx55o7TkcSA"}}}`
	tests := []struct {
		name      string
		claims    string
		token     string // "" means "t"
		peer      *testCert
		allow     bool
		elsewhere []string
		wantErr   error
		wantBound bool
	}{
		{name: "bound, match", claims: boundClaims(a.Leaf), peer: &a, wantBound: true},
		{name: "bound, mismatch", claims: boundClaims(a.Leaf), peer: &b, wantErr: mtlsbound.ErrBindingMismatch},
		{name: "bound, no certificate", claims: boundClaims(a.Leaf), wantErr: mtlsbound.ErrNoCertificate},
		{name: "bound, allow unbound changes nothing", claims: boundClaims(a.Leaf), peer: &b, allow: true, wantErr: mtlsbound.ErrBindingMismatch},
		{name: "unbound, refused", claims: `{}`, peer: &a, wantErr: mtlsbound.ErrUnbound},
		{name: "unbound, allowed, with certificate", claims: `{}`, peer: &a, allow: true},
		{name: "unbound, allowed, no certificate", claims: `{}`, allow: true},
		{name: "nil claims", peer: &a, wantErr: mtlsbound.ErrMalformedConfirmation},
		{name: "empty token", token: "-", claims: boundClaims(a.Leaf), peer: &a, wantErr: mtlsbound.ErrNoToken},
		{name: "inactive", claims: `{"active":false}`, peer: &a, wantErr: mtlsbound.ErrInactiveToken},

		// A token bound by both methods: refused unless jkt is checked elsewhere.
		{name: "x5t#S256 and jkt, nothing elsewhere", claims: both, peer: &a, wantErr: mtlsbound.ErrUnsupportedConfirmation},
		{name: "x5t#S256 and jkt, nothing elsewhere, allow unbound", claims: both, peer: &a, allow: true, wantErr: mtlsbound.ErrUnsupportedConfirmation},
		{name: "x5t#S256 and jkt, jwk elsewhere", claims: both, peer: &a, elsewhere: []string{"jwk"}, wantErr: mtlsbound.ErrUnsupportedConfirmation},
		{name: "x5t#S256 and jkt, jkt elsewhere, right certificate", claims: both, peer: &a, elsewhere: []string{"jkt"}, wantBound: true},
		{name: "x5t#S256 and jkt, jkt elsewhere, other certificate", claims: both, peer: &b, elsewhere: []string{"jkt"}, wantErr: mtlsbound.ErrBindingMismatch},
		{name: "x5t#S256 and jkt, jkt elsewhere, no certificate", claims: both, elsewhere: []string{"jkt"}, wantErr: mtlsbound.ErrNoCertificate},
		{name: "jkt only, elsewhere, no certificate", claims: jktOnly, elsewhere: []string{"jkt", "jwk"}, wantBound: true},
		{name: "jkt only, elsewhere, with certificate", claims: jktOnly, peer: &b, elsewhere: []string{"jkt"}, wantBound: true},
		{name: "jwk only, nothing elsewhere", claims: jwkOnly, peer: &a, wantErr: mtlsbound.ErrUnsupportedConfirmation},
		{name: "jwk only, elsewhere", claims: jwkOnly, elsewhere: []string{"jwk"}, wantBound: true},

		// Methods nobody checks.
		{name: "kid", claims: `{"cnf":{"kid":"k"}}`, peer: &a, elsewhere: []string{"jkt", "jwk"}, wantErr: mtlsbound.ErrUnsupportedConfirmation},
		{name: "jku", claims: `{"cnf":{"jku":"https://as.example/jwks","kid":"k"}}`, peer: &a, elsewhere: []string{"jkt", "jwk"}, wantErr: mtlsbound.ErrUnsupportedConfirmation},
		{name: "kid beside x5t#S256", claims: `{"cnf":{"kid":"k","x5t#S256":"` + mtlsbound.Thumbprint(a.Leaf) + `"}}`, peer: &a, wantErr: mtlsbound.ErrUnsupportedConfirmation},
		{name: "jwe", claims: `{"cnf":{"jwe":"a.b.c.d.e"}}`, peer: &a, allow: true, wantErr: mtlsbound.ErrUnsupportedConfirmation},
		{name: "unregistered beside x5t#S256", claims: `{"cnf":{"x5t#S256":"` + mtlsbound.Thumbprint(a.Leaf) + `","x5t":"x"}}`, peer: &a, wantErr: mtlsbound.ErrUnsupportedConfirmation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "https://rs.example/", nil)
			if tc.peer != nil {
				r.TLS = &tlsState{}
				r.TLS.PeerCertificates = append(r.TLS.PeerCertificates, tc.peer.Leaf)
			}
			token := tc.token
			switch token {
			case "":
				token = "t"
			case "-":
				token = ""
			}
			vf := &mtlsbound.Verifier{InsecureAllowUnbound: tc.allow, CheckedElsewhere: tc.elsewhere}
			res, err := vf.Check(r, token, json.RawMessage(tc.claims))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, res)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantBound, res.Bound)
			require.Equal(t, tc.wantBound, res.Confirmation.Bound())
			require.JSONEq(t, tc.claims, string(res.Claims))
			if tc.peer != nil {
				require.Same(t, tc.peer.Leaf, res.Certificate)
				require.Equal(t, mtlsbound.Thumbprint(tc.peer.Leaf), res.Thumbprint)
			} else {
				require.Nil(t, res.Certificate)
				require.Empty(t, res.Thumbprint)
			}
			if res.Confirmation.X5TS256 != "" {
				require.Equal(t, res.Confirmation.X5TS256, res.Thumbprint)
			}
		})
	}
}

// TestAuthorizationHeader covers how Verify reads the access token.
func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		values    []string
		elsewhere []string
		want      string
		wantErr   error
	}{
		{name: "bearer", values: []string{"Bearer mF_9.B5f-4.1JqM"}, want: "mF_9.B5f-4.1JqM"},
		{name: "case-insensitive scheme", values: []string{"BEARER abc"}, want: "abc"},
		{name: "padding and extra spaces", values: []string{"Bearer   abc+/=="}, want: "abc+/=="},
		{name: "DPoP with jkt checked elsewhere", values: []string{"DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"}, elsewhere: []string{"jkt"}, want: "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"},
		{name: "DPoP with jwk checked elsewhere", values: []string{"dpop abc"}, elsewhere: []string{"jwk"}, want: "abc"},
		{name: "DPoP without", values: []string{"DPoP abc"}, wantErr: mtlsbound.ErrNoToken},
		{name: "none", wantErr: mtlsbound.ErrNoToken},
		{name: "basic", values: []string{"Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"}, wantErr: mtlsbound.ErrNoToken},
		{name: "scheme only", values: []string{"Bearer"}, wantErr: mtlsbound.ErrInvalidRequest},
		{name: "empty token", values: []string{"Bearer  "}, wantErr: mtlsbound.ErrInvalidRequest},
		{name: "two fields", values: []string{"Bearer a", "Bearer b"}, wantErr: mtlsbound.ErrInvalidRequest},
		{name: "bearer and DPoP", values: []string{"Bearer a", "DPoP b"}, elsewhere: []string{"jkt"}, wantErr: mtlsbound.ErrInvalidRequest},
		{name: "space in token", values: []string{"Bearer a b"}, wantErr: mtlsbound.ErrInvalidRequest},
		{name: "space after token", values: []string{"Bearer ab "}, wantErr: mtlsbound.ErrInvalidRequest},
		{name: "comma in token", values: []string{"Bearer a,b"}, wantErr: mtlsbound.ErrInvalidRequest},
		{name: "padding in the middle", values: []string{"Bearer a=b"}, wantErr: mtlsbound.ErrInvalidRequest},
		{name: "only padding", values: []string{"Bearer =="}, wantErr: mtlsbound.ErrInvalidRequest},
		{name: "too long", values: []string{"Bearer " + strings.Repeat("a", 64<<10+1)}, wantErr: mtlsbound.ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "https://rs.example/", nil)
			for _, v := range tc.values {
				r.Header.Add("Authorization", v)
			}
			var got atomic.Pointer[string]
			vf := &mtlsbound.Verifier{
				CheckedElsewhere: tc.elsewhere,
				Token: func(_ context.Context, tok string) (json.RawMessage, error) {
					got.Store(&tok)
					return nil, errUnknownToken
				},
			}
			_, err := vf.Verify(r)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, got.Load(), "Token called")
				return
			}
			require.ErrorIs(t, err, mtlsbound.ErrInvalidToken)
			require.ErrorIs(t, err, errUnknownToken)
			require.NotNil(t, got.Load())
			require.Equal(t, tc.want, *got.Load())
		})
	}
}

func TestFromContextEmpty(t *testing.T) {
	t.Parallel()
	_, ok := mtlsbound.FromContext(context.Background())
	require.False(t, ok)
	_, ok = mtlsbound.FromContext(mtlsbound.NewContext(context.Background(), nil))
	require.False(t, ok)
	res := &mtlsbound.Result{Thumbprint: "x"}
	got, ok := mtlsbound.FromContext(mtlsbound.NewContext(context.Background(), res))
	require.True(t, ok)
	require.Same(t, res, got)
}

// TestWrapDoesNotModifyRequest checks that the handler gets a copy and the
// caller's request keeps its context.
func TestWrapDoesNotModifyRequest(t *testing.T) {
	t.Parallel()
	a := newCert(t, "a")
	vf := &mtlsbound.Verifier{Token: func(context.Context, string) (json.RawMessage, error) {
		return json.RawMessage(boundClaims(a.Leaf)), nil
	}}
	var inner *http.Request
	h := vf.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inner = r }))
	r := httptest.NewRequest("GET", "https://rs.example/", nil)
	r.Header.Set("Authorization", "Bearer t")
	r.TLS = &tlsState{}
	r.TLS.PeerCertificates = append(r.TLS.PeerCertificates, a.Leaf)
	ctx := r.Context()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code)
	require.NotNil(t, inner)
	require.NotSame(t, r, inner)
	require.Equal(t, ctx, r.Context())
	_, ok := mtlsbound.FromContext(r.Context())
	require.False(t, ok)
	_, ok = mtlsbound.FromContext(inner.Context())
	require.True(t, ok)
}
