package interop_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// serverTLS is the TLS configuration of the resource servers the tests
// start: the test PKI's certificate for 127.0.0.1, which every client
// trusts. It requests a client certificate without requiring or verifying
// it; mtlsbound checks the binding.
func (e *testEnv) serverTLS() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{e.pki.server},
		ClientAuth:   tls.RequestClientCert,
		MinVersion:   tls.VersionTLS12,
	}
}

// mtlsTransport is the transport of mtlsbound.Client for cert.
func mtlsTransport(t *testing.T, cert tls.Certificate) *http.Transport {
	t.Helper()
	c := &mtlsbound.Client{Certificate: cert, RootCAs: env.pki.roots, TLSHandshakeTimeout: handshakeTimeout}
	tr, err := c.Transport()
	require.NoError(t, err)
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// clientCredentials runs the client_credentials grant (RFC 6749 §4.4) at
// the token endpoint's mTLS alias (RFC 8705 §5). base presents the client
// certificate; hardened.AuthTransport, listing the mTLS aliases, adds what
// auth adds (client_id).
func clientCredentials(ctx context.Context, md *hardened.Metadata, base http.RoundTripper, clientID string, auth hardened.ClientAuth, resource string) (*oauth2.Token, error) {
	ep, err := md.OAuth2Endpoint(auth.Method(), true)
	if err != nil {
		return nil, err
	}
	conf := clientcredentials.Config{ClientID: clientID, TokenURL: ep.TokenURL, AuthStyle: ep.AuthStyle}
	if resource != "" {
		// Resource scopes exist only with a resource (RFC 8707).
		conf.Scopes = []string{"read"}
		conf.EndpointParams = url.Values{"resource": {resource}}
	}
	hc := &http.Client{Transport: &hardened.AuthTransport{Base: base, Auth: auth, Endpoints: md.ClientAuthEndpoints(true)}}
	return conf.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
}

// mtlsResourceServer is an httptest TLS server behind
// mtlsbound.Verifier.Wrap; it records the errors OnError reports.
type mtlsResourceServer struct {
	*httptest.Server
	mu   sync.Mutex
	errs []error
}

// newMTLSResourceServer starts a resource server whose Verifier.Token is
// token (an introspection at the peer, or at+jwt verification).
func newMTLSResourceServer(t *testing.T, token func(context.Context, string) (json.RawMessage, error)) *mtlsResourceServer {
	t.Helper()
	rs := &mtlsResourceServer{}
	v := &mtlsbound.Verifier{
		Token: token,
		OnError: func(_ *http.Request, err error) {
			rs.mu.Lock()
			defer rs.mu.Unlock()
			rs.errs = append(rs.errs, err)
		},
	}
	rs.Server = httptest.NewUnstartedServer(v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, ok := mtlsbound.FromContext(r.Context())
		if !ok {
			http.Error(w, "no mtlsbound result", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rsAnswer{Thumbprint: res.Thumbprint, Bound: res.Bound, Claims: res.Claims})
	})))
	rs.TLS = env.serverTLS()
	rs.StartTLS()
	t.Cleanup(rs.Close)
	return rs
}

// rsAnswer is what the resource server's handler saw.
type rsAnswer struct {
	Thumbprint string          `json:"thumbprint"`
	Bound      bool            `json:"bound"`
	Claims     json.RawMessage `json:"claims"`
}

func (rs *mtlsResourceServer) lastError() error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.errs) == 0 {
		return nil
	}
	return rs.errs[len(rs.errs)-1]
}

// call sends token as a Bearer token (x/oauth2's Transport sets it) over
// base. It returns the handler's answer, or a *peerError for a refusal.
func (rs *mtlsResourceServer) call(ctx context.Context, base http.RoundTripper, tok *oauth2.Token) (*rsAnswer, *http.Response, error) {
	hc := oauth2.NewClient(context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: base}), oauth2.StaticTokenSource(tok))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rs.URL+"/data", nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := readPeerResponse("mtls resource", resp)
	if err != nil {
		return nil, resp, err
	}
	var a rsAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, resp, err
	}
	return &a, resp, nil
}

// requireCertificateBound checks the claims the peer issued for a
// certificate-bound token (an at+jwt payload or an introspection response):
// mtlsbound reads a cnf whose x5t#S256 is the thumbprint of cert, and
// mtlsbound.Verifier.Check accepts the token from a TLS connection
// presenting cert and refuses it from one presenting other.
func requireCertificateBound(t *testing.T, claims json.RawMessage, token string, cert, other *x509.Certificate) {
	t.Helper()
	cnf, err := mtlsbound.ConfirmationFromClaims(claims)
	require.NoError(t, err)
	require.True(t, cnf.Bound())
	require.Equal(t, certSHA256(cert), cnf.X5TS256)
	require.Equal(t, mtlsbound.Thumbprint(cert), cnf.X5TS256)
	require.NotEqual(t, mtlsbound.Thumbprint(other), cnf.X5TS256)

	presenting := func(c *x509.Certificate) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "https://rs.interop.test/data", nil)
		r.TLS.PeerCertificates = []*x509.Certificate{c}
		return r
	}
	v := &mtlsbound.Verifier{}
	res, err := v.Check(presenting(cert), token, claims)
	require.NoError(t, err)
	require.True(t, res.Bound)
	require.Equal(t, cnf.X5TS256, res.Thumbprint)
	_, err = v.Check(presenting(other), token, claims)
	require.ErrorIs(t, err, mtlsbound.ErrBindingMismatch)
}

// requireInvalidToken checks a refusal: 401 with a Bearer challenge whose
// error is invalid_token (RFC 8705 §3, RFC 6750 §3.1).
func requireInvalidToken(t *testing.T, resp *http.Response, err error) {
	t.Helper()
	var pe *peerError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, http.StatusUnauthorized, pe.Status)
	cs, cerr := oautherr.ParseHeader(resp.Header)
	require.NoError(t, cerr)
	c, ok := oautherr.Find(cs, "Bearer")
	require.True(t, ok, "Bearer challenge")
	require.Equal(t, "invalid_token", c.Get("error"))
}

func TestMTLSClientCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		client   *mtlsClient
		other    *mtlsClient // a registered client with another certificate
		resource string
	}{
		{name: "self_signed_tls_client_auth", client: env.selfSigned, other: env.ca},
		{name: "self_signed_tls_client_auth opaque resource", client: env.selfSigned, other: env.ca, resource: resourceOpaque},
		{name: "self_signed_tls_client_auth jwt resource", client: env.selfSigned, other: env.ca, resource: resourceJWT},
		{name: "tls_client_auth", client: env.ca, other: env.selfSigned},
		{name: "tls_client_auth opaque resource", client: env.ca, other: env.selfSigned, resource: resourceOpaque},
		{name: "tls_client_auth jwt resource", client: env.ca, other: env.selfSigned, resource: resourceJWT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pv := peerFor(t, nonceOff)
			ctx := testCtx(t)
			base := mtlsTransport(t, tc.client.cert)
			tok, err := clientCredentials(ctx, pv.md, base, tc.client.id, tc.client.auth, tc.resource)
			require.NoError(t, err, "token endpoint")
			require.Equal(t, "Bearer", tok.Type()) // RFC 8705 §3: the type stays Bearer
			leaf := tc.client.cert.Leaf
			wantCnf := certSHA256(leaf)
			require.Equal(t, wantCnf, mtlsbound.Thumbprint(leaf))

			// The peer bound the token to the certificate presented.
			var token func(context.Context, string) (json.RawMessage, error)
			if env.resourceServers[tc.resource].AccessTokenFormat == "jwt" {
				claims, err := jwtAccessToken(pv, tok.AccessToken, tc.resource)
				require.NoError(t, err)
				m := claimsOf(t, claims)
				require.Equal(t, tc.client.id, m["client_id"])
				require.Equal(t, map[string]any{"x5t#S256": wantCnf}, m["cnf"])
				requireCertificateBound(t, claims, tok.AccessToken, leaf, tc.other.cert.Leaf)
				token = func(_ context.Context, at string) (json.RawMessage, error) {
					return jwtAccessToken(pv, at, tc.resource)
				}
			} else {
				for _, asJWT := range []bool{false, true} {
					in, err := introspect(ctx, pv, tok.AccessToken, asJWT)
					require.NoError(t, err)
					require.True(t, in.Active)
					require.Equal(t, tc.client.id, in.ClientID)
					require.Equal(t, wantCnf, in.Cnf.X5TS256)
					if tc.resource != "" {
						require.Equal(t, tc.resource, in.Aud)
						require.Equal(t, "read", in.Scope)
					}
					requireCertificateBound(t, in.Raw, tok.AccessToken, leaf, tc.other.cert.Leaf)
				}
				// The opaque resource introspects in JSON, the other in
				// signed JWT (RFC 9701).
				asJWT := tc.resource == ""
				token = func(ctx context.Context, at string) (json.RawMessage, error) {
					in, err := introspect(ctx, pv, at, asJWT)
					if err != nil {
						return nil, err
					}
					return in.Raw, nil
				}
			}

			// A resource server behind mtlsbound.Verifier.Wrap accepts the
			// token over a connection presenting the same certificate...
			rs := newMTLSResourceServer(t, token)
			got, _, err := rs.call(ctx, base, tok)
			require.NoError(t, err, "mtlsbound.Verifier rejected: %v", rs.lastError())
			require.True(t, got.Bound)
			require.Equal(t, wantCnf, got.Thumbprint)
			require.Equal(t, tc.client.id, claimsOf(t, got.Claims)["client_id"])

			// ...and refuses it with another certificate, or none.
			_, resp, err := rs.call(ctx, mtlsTransport(t, tc.other.cert), tok)
			requireInvalidToken(t, resp, err)
			require.ErrorIs(t, rs.lastError(), mtlsbound.ErrBindingMismatch)

			_, resp, err = rs.call(ctx, env.transport(nil), tok)
			requireInvalidToken(t, resp, err)
			require.ErrorIs(t, rs.lastError(), mtlsbound.ErrNoCertificate)
		})
	}
}

func TestMTLSClientAuthRejected(t *testing.T) {
	t.Parallel()
	// Same subject as the registered tls_client_auth client, not issued by
	// the test CA: certificateAuthorized must refuse it.
	forged, err := selfSignedClientCert(pkix.Name{CommonName: clientPKI, Organization: []string{"hardened interop"}})
	require.NoError(t, err)
	require.Equal(t, env.ca.cert.Leaf.Subject.String(), forged.Leaf.Subject.String())
	// Issued by the test CA, under another subject.
	otherSubject, err := env.pki.issueClientCert(pkix.Name{CommonName: "someone-else", Organization: []string{"hardened interop"}})
	require.NoError(t, err)

	tests := []struct {
		name   string
		client *mtlsClient
		cert   *tls.Certificate
	}{
		{name: "tls_client_auth without certificate", client: env.ca},
		{name: "tls_client_auth with self-signed certificate of the same subject", client: env.ca, cert: &forged},
		{name: "tls_client_auth with CA certificate of another subject", client: env.ca, cert: &otherSubject},
		{name: "self_signed_tls_client_auth without certificate", client: env.selfSigned},
		{name: "self_signed_tls_client_auth with unregistered certificate", client: env.selfSigned, cert: &env.ca.cert},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pv := peerFor(t, nonceOff)
			var base http.RoundTripper = env.transport(nil)
			if tc.cert != nil {
				base = mtlsTransport(t, *tc.cert)
			}
			_, err := clientCredentials(testCtx(t), pv.md, base, tc.client.id, tc.client.auth, "")
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			require.Equal(t, "invalid_client", re.ErrorCode)
		})
	}
}

// TestMTLSRevocation revokes a certificate-bound token (RFC 7009) at the
// revocation endpoint's mTLS alias; the peer then reports it inactive and
// the mtlsbound resource server refuses it.
func TestMTLSRevocation(t *testing.T) {
	t.Parallel()
	pv := peerFor(t, nonceOff)
	ctx := testCtx(t)
	c := env.selfSigned
	base := mtlsTransport(t, c.cert)
	tok, err := clientCredentials(ctx, pv.md, base, c.id, c.auth, "")
	require.NoError(t, err)

	rs := newMTLSResourceServer(t, func(ctx context.Context, at string) (json.RawMessage, error) {
		in, err := introspect(ctx, pv, at, false)
		if err != nil {
			return nil, err
		}
		return in.Raw, nil
	})
	_, _, err = rs.call(ctx, base, tok)
	require.NoError(t, err, "mtlsbound.Verifier rejected: %v", rs.lastError())

	endpoint := pv.md.Endpoint(mtlsbound.RevocationEndpoint, true)
	require.NotEmpty(t, endpoint)
	require.Contains(t, pv.md.ClientAuthEndpoints(true), endpoint)
	hc := &http.Client{Transport: &hardened.AuthTransport{Base: base, Auth: c.auth, Endpoints: pv.md.ClientAuthEndpoints(true)}}
	form := url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	require.NoError(t, err)
	_, err = readPeerResponse("revocation", resp)
	require.NoError(t, err)

	in, err := introspect(ctx, pv, tok.AccessToken, false)
	require.NoError(t, err)
	require.False(t, in.Active)
	_, resp, err = rs.call(ctx, base, tok)
	requireInvalidToken(t, resp, err)
	require.ErrorIs(t, rs.lastError(), mtlsbound.ErrInactiveToken)
}
