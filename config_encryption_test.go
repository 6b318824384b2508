package hardened_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// EncryptRequestObject encrypts the request object to the server's key
// from its jwks_uri, with the algorithm its metadata names; a server that
// requires encrypted request objects accepts the login, and the JWK Set is
// fetched once for the encryption key and the ID token.
func TestEncryptRequestObject(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tests := []struct {
		name    string
		keys    []any // the server's request object decryption keys; nil: one P-256 key
		wantAlg string
	}{
		{name: "ECDH-ES", wantAlg: jose.ECDHES},
		{name: "RSA-OAEP-256", keys: []any{rsaKey}, wantAlg: jose.RSAOAEP256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(cfg *authserver.Config, cl *authserver.Client) {
				cl.RequireEncryptedRequestObject = true
				for _, k := range tc.keys {
					cfg.RequestObjectKeys = append(cfg.RequestObjectKeys, k)
				}
			})
			// Without encryption the server refuses the push.
			plain := e.conf()
			l := hardened.NewLogin()
			_, err := plain.AuthCodeURL(t.Context(), l.State, l.AuthCodeOptions()...)
			require.ErrorIs(t, err, hardened.ErrRequestFailed)
			require.ErrorIs(t, err, &hardened.Error{Code: "invalid_request_object"})

			// The request object pushed is a JWE for the server's key.
			var pushed string
			e.hc.Transport = &formSpy{base: e.hc.Transport, path: "/par", param: "request", got: &pushed}
			conf := e.conf()
			conf.EncryptRequestObject = true
			jwksPath := mustURL(t, e.srv.Endpoints().JWKS).Path
			before := e.count.get(jwksPath)
			tok := e.login(t, conf)
			require.Equal(t, "DPoP", tok.TokenType)
			_, ok := hardened.IDTokenFrom(tok)
			require.True(t, ok)
			require.Equal(t, 1, e.count.get(jwksPath)-before, "the JWK Set is fetched once: encryption key and ID token")
			h, err := jose.ParseJWEHeader(pushed)
			require.NoError(t, err)
			require.Equal(t, tc.wantAlg, h.Alg)
			require.Equal(t, jose.A256GCM, h.Enc)
			require.Equal(t, "JWT", h.Cty)
			require.NotEmpty(t, h.Kid)
		})
	}
}

// formSpy records one form parameter of the requests to one path.
type formSpy struct {
	base  http.RoundTripper
	path  string
	param string
	got   *string
}

func (s *formSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == s.path && r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(io.LimitReader(body, 1<<20))
		body.Close()
		if err != nil {
			return nil, err
		}
		if form, err := url.ParseQuery(string(raw)); err == nil && form.Get(s.param) != "" {
			*s.got = form.Get(s.param)
		}
	}
	return s.base.RoundTrip(r)
}

// EncryptRequestObject fails closed: without Key or with
// InsecureUnsignedRequest before any request, without a jwks_uri or an
// encryption key in it before the push.
func TestEncryptRequestObjectErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	md, err := (&hardened.Discovery{HTTPClient: e.hc}).Discover(t.Context(), e.srv.Issuer())
	require.NoError(t, err)

	// A JWK Set with a signing key only.
	sigOnly, err := jose.MarshalJWKSet([]*jose.JWK{{Key: genKey(t).Public(), KeyID: "sig", Use: "sig"}})
	require.NoError(t, err)
	keysSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(sigOnly)
	}))
	cert, err := e.srv.PKI().IssueServerCertificate("127.0.0.1")
	require.NoError(t, err)
	keysSrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	keysSrv.StartTLS()
	t.Cleanup(keysSrv.Close)

	noJWKS, otherJWKS := *md, *md
	noJWKS.JWKSURI = ""
	otherJWKS.JWKSURI = keysSrv.URL + "/jwks"

	tests := []struct {
		name      string
		mod       func(*hardened.Config)
		wantErr   error
		wantField string
		// noRequest: the error comes before any request, discovery included.
		noRequest bool
	}{
		{name: "no Key", mod: func(c *hardened.Config) {
			c.Key = nil
			c.ClientAuth = hardened.PrivateKeyJWT{Key: e.key, KeyID: e.kid}
		}, wantErr: hardened.ErrInvalidConfig, wantField: "Config.EncryptRequestObject", noRequest: true},
		{name: "InsecureUnsignedRequest", mod: func(c *hardened.Config) { c.InsecureUnsignedRequest = true }, wantErr: hardened.ErrInvalidConfig, wantField: "Config.EncryptRequestObject", noRequest: true},
		{name: "no jwks_uri", mod: func(c *hardened.Config) { c.Metadata = &noJWKS }, wantErr: hardened.ErrMissingEndpoint},
		{name: "no encryption key", mod: func(c *hardened.Config) { c.Metadata = &otherJWKS }, wantErr: hardened.ErrInvalidConfig, wantField: "Config.EncryptRequestObject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf := e.conf()
			conf.EncryptRequestObject = true
			tc.mod(conf)
			pars, total := e.count.get("/par"), e.count.total()
			l := hardened.NewLogin()
			_, err := conf.AuthCodeURL(t.Context(), l.State, l.AuthCodeOptions()...)
			require.ErrorIs(t, err, tc.wantErr)
			if tc.wantField != "" {
				var ce *hardened.ConfigError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tc.wantField, ce.Field)
			}
			require.Equal(t, pars, e.count.get("/par"), "nothing pushed")
			if tc.noRequest {
				require.Equal(t, total, e.count.total(), "no request at all")
			}
		})
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
