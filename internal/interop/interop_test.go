package interop_test

import (
	"context"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// env is set up once by TestMain for all tests.
var env *testEnv

// requireEnv makes a missing peer a failure instead of a skip (CI sets it).
const requireEnv = "HARDENED_REQUIRE_INTEROP"

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	flag.Parse() // for testing.Verbose
	node, version, err := findNode()
	if err != nil {
		if os.Getenv(requireEnv) == "1" {
			banner(fmt.Sprintf("INTEROP FAILED: %v, and %s=1 requires it", err, requireEnv))
			return 1
		}
		banner(fmt.Sprintf("INTEROP SKIPPED: %v", err))
		// go test ./... hides a passing package's output; running no test
		// makes it print "ok ... [no tests to run]" instead of a bare "ok".
		if err := flag.Set("test.run", "^$"); err != nil {
			return 1
		}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "hardened-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if env, err = newTestEnv(dir); err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	start := time.Now()
	err = env.startPeers(ctx, node)
	cancel()
	defer env.stopPeers()
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop: starting node-oidc-provider peers:", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("interop: %d peers ready in %v\n", len(env.peers), time.Since(start).Round(time.Millisecond))
		for _, mode := range nonceModes {
			fmt.Printf("interop: oidc-provider %s, DPoP nonce %s, at %s\n", version, mode, env.peers[mode].issuer)
		}
	}
	return m.Run()
}

func banner(msg string) {
	line := strings.Repeat("=", len(msg)+8)
	fmt.Fprintf(os.Stderr, "\n%s\n=== %s ===\n%s\n\n", line, msg, line)
}

// testCtx bounds one test's network calls.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// peerFor returns the peer of a nonce mode, its metadata and keys, and
// arranges for its stderr to be printed if t fails.
func peerFor(t *testing.T, mode string) (*peer, *asMetadata, jose.StaticKeys) {
	t.Helper()
	p := env.peers[mode]
	require.NotNil(t, p, "no peer for nonce mode %s", mode)
	p.logOnFailure(t)
	ctx := testCtx(t)
	hc := env.httpClient(nil)
	md, err := fetchMetadata(ctx, hc, p.issuer)
	require.NoError(t, err)
	keys, err := fetchJWKS(ctx, hc, md)
	require.NoError(t, err)
	return p, md, keys
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	for _, mode := range nonceModes {
		t.Run("nonce "+mode, func(t *testing.T) {
			t.Parallel()
			p, md, keys := peerFor(t, mode)

			require.Equal(t, p.issuer, md.Issuer)
			require.Equal(t, p.issuer+"/request", md.PAREndpoint)
			require.True(t, md.RequirePAR, "require_pushed_authorization_requests")
			require.True(t, md.IssParameter, "authorization_response_iss_parameter_supported")
			require.NotEmpty(t, md.IntrospectionEndpoint)
			require.NotEmpty(t, md.RevocationEndpoint)
			require.NotEmpty(t, md.UserinfoEndpoint)
			require.ElementsMatch(t, []string{jose.ES256, jose.PS256, jose.EdDSA}, md.DPoPAlgs)
			for _, name := range []string{"token_endpoint", "pushed_authorization_request_endpoint", "introspection_endpoint", "revocation_endpoint", "userinfo_endpoint"} {
				require.True(t, strings.HasPrefix(md.MTLSAliases[name], "https://"), "mtls_endpoint_aliases.%s", name)
			}

			raw := md.Raw
			require.Equal(t, true, raw["tls_client_certificate_bound_access_tokens"])
			require.Equal(t, true, raw["require_signed_request_object"])
			require.Equal(t, []any{"S256"}, raw["code_challenge_methods_supported"])
			require.Subset(t, raw["token_endpoint_auth_methods_supported"], []any{"private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth", "client_secret_basic"})
			require.Subset(t, raw["response_modes_supported"], []any{"jwt", "query.jwt"})
			require.Subset(t, raw["authorization_signing_alg_values_supported"], []any{"ES256"})
			require.Subset(t, raw["authorization_encryption_alg_values_supported"], []any{"ECDH-ES", "RSA-OAEP-256"})
			require.Subset(t, raw["authorization_encryption_enc_values_supported"], []any{"A256GCM"})
			require.Subset(t, raw["request_object_signing_alg_values_supported"], []any{"ES256"})
			require.Subset(t, raw["request_object_encryption_alg_values_supported"], []any{"ECDH-ES", "RSA-OAEP-256"})
			require.Subset(t, raw["introspection_signing_alg_values_supported"], []any{"ES256"})
			require.Subset(t, raw["grant_types_supported"], []any{"authorization_code", "client_credentials", "refresh_token"})

			// The peer's keys: ES256 and RSA signing keys, ECDH-ES and
			// RSA-OAEP-256 encryption keys.
			for _, want := range []struct{ kid, use string }{
				{"sig-es256", "sig"}, {"sig-rsa", "sig"}, {"enc-ecdh", "enc"}, {"enc-rsa", "enc"},
			} {
				k := keyByID(keys, want.kid)
				require.NotNil(t, k, "jwks kid %s", want.kid)
				require.Equal(t, want.use, k.Use)
			}
		})
	}
}

func keyByID(keys jose.StaticKeys, kid string) *jose.JWK {
	for _, k := range keys {
		if k.KeyID == kid {
			return k
		}
	}
	return nil
}

// clientCredentials runs the client_credentials grant (RFC 6749 §4.4) over
// hc; the client authenticates with its TLS certificate (RFC 8705 §2).
func clientCredentials(ctx context.Context, hc *http.Client, md *asMetadata, clientID, resource string) (*oauth2.Token, error) {
	conf := clientcredentials.Config{
		ClientID:  clientID,
		TokenURL:  md.TokenEndpoint,
		AuthStyle: oauth2.AuthStyleInParams,
	}
	if resource != "" {
		// Resource scopes exist only with a resource (RFC 8707).
		conf.Scopes = []string{"read"}
		conf.EndpointParams = url.Values{"resource": {resource}}
	}
	return conf.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
}

func TestMTLSClientCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		client   *mtlsClient
		resource string
	}{
		{name: "self_signed_tls_client_auth", client: env.selfSigned},
		{name: "self_signed_tls_client_auth opaque resource", client: env.selfSigned, resource: resourceOpaque},
		{name: "self_signed_tls_client_auth jwt resource", client: env.selfSigned, resource: resourceJWT},
		{name: "tls_client_auth", client: env.ca},
		{name: "tls_client_auth opaque resource", client: env.ca, resource: resourceOpaque},
		{name: "tls_client_auth jwt resource", client: env.ca, resource: resourceJWT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, md, keys := peerFor(t, nonceOff)
			ctx := testCtx(t)
			tok, err := clientCredentials(ctx, env.httpClient(&tc.client.cert), md, tc.client.id, tc.resource)
			require.NoError(t, err)
			require.Equal(t, "Bearer", tok.Type())
			wantCnf := certThumbprint(tc.client.cert.Leaf.Raw)

			if env.resourceServers[tc.resource].AccessTokenFormat == "jwt" {
				claims, err := jwtAccessToken(md, keys, tok.AccessToken, tc.resource)
				require.NoError(t, err)
				require.Equal(t, tc.client.id, claims["client_id"])
				require.Equal(t, map[string]any{"x5t#S256": wantCnf}, claims["cnf"])
				return
			}
			for _, asJWT := range []bool{false, true} {
				in, err := introspect(ctx, env.httpClient(nil), md, keys, env.resourceServer, tok.AccessToken, asJWT)
				require.NoError(t, err)
				require.True(t, in.Active)
				require.Equal(t, tc.client.id, in.ClientID)
				require.Equal(t, wantCnf, in.Cnf.X5TS256)
				if tc.resource != "" {
					require.Equal(t, tc.resource, in.Aud)
					require.Equal(t, "read", in.Scope)
				}
			}
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
		name     string
		clientID string
		cert     *tls.Certificate
	}{
		{name: "tls_client_auth without certificate", clientID: clientPKI},
		{name: "tls_client_auth with self-signed certificate of the same subject", clientID: clientPKI, cert: &forged},
		{name: "tls_client_auth with CA certificate of another subject", clientID: clientPKI, cert: &otherSubject},
		{name: "self_signed_tls_client_auth without certificate", clientID: clientSelfSigned},
		{name: "self_signed_tls_client_auth with unregistered certificate", clientID: clientSelfSigned, cert: &env.ca.cert},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, md, _ := peerFor(t, nonceOff)
			_, err := clientCredentials(testCtx(t), env.httpClient(tc.cert), md, tc.clientID, "")
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			require.Equal(t, "invalid_client", re.ErrorCode)
		})
	}
}

func TestMTLSRevocation(t *testing.T) {
	t.Parallel()
	_, md, keys := peerFor(t, nonceOff)
	ctx := testCtx(t)
	hc := env.httpClient(&env.selfSigned.cert)
	tok, err := clientCredentials(ctx, hc, md, env.selfSigned.id, "")
	require.NoError(t, err)

	in, err := introspect(ctx, env.httpClient(nil), md, keys, env.resourceServer, tok.AccessToken, false)
	require.NoError(t, err)
	require.True(t, in.Active)

	require.NoError(t, revoke(ctx, hc, md, env.selfSigned.id, tok.AccessToken))
	in, err = introspect(ctx, env.httpClient(nil), md, keys, env.resourceServer, tok.AccessToken, false)
	require.NoError(t, err)
	require.False(t, in.Active)
}

// fapiResult is what a FAPI flow produced.
type fapiResult struct {
	md      *asMetadata
	keys    jose.StaticKeys
	prover  *dpopProver
	token   *oauth2.Token
	conf    *oauth2.Config
	asCtx   context.Context // carries the DPoP + client-auth client for x/oauth2
	retries int             // use_dpop_nonce retries taken
	jarm    *jarmResponse
}

// runFAPIFlow runs a whole FAPI 2.0 authorization code flow: a signed (and
// maybe encrypted) request object pushed with PAR under private_key_jwt and
// DPoP, headless authorization, JARM callback (encrypted for the encrypting
// client), code exchange with PKCE and DPoP.
// fapiFlow names one flow to run.
type fapiFlow struct {
	mode     string // DPoP nonce mode of the peer
	client   *fapiClient
	scope    string
	resource string // RFC 8707 resource indicator, or empty
	// encryptTo is the kid of the peer key the request object is encrypted
	// to ("enc-ecdh" or "enc-rsa"); empty sends it signed only.
	encryptTo string
}

func runFAPIFlow(t *testing.T, f fapiFlow) *fapiResult {
	t.Helper()
	c := f.client
	_, md, keys := peerFor(t, f.mode)
	ctx := testCtx(t)
	prover, err := newDPoPProver()
	require.NoError(t, err)
	r := &fapiResult{md: md, keys: keys, prover: prover}

	// Token endpoint and PAR: DPoP on top of client authentication.
	asClient := env.httpClient(nil)
	asClient.Transport = &dpopTransport{
		Prover:  prover,
		Retries: &r.retries,
		Base: &clientAssertionTransport{
			Base:      asClient.Transport,
			Client:    c,
			Audience:  md.Issuer,
			Endpoints: map[string]bool{md.PAREndpoint: true, md.TokenEndpoint: true},
		},
	}

	ar := newAuthzRequest(c.id, f.scope, f.resource)
	var encryptTo *jose.JWK
	if f.encryptTo != "" {
		encryptTo = keyByID(keys, f.encryptTo)
		require.NotNil(t, encryptTo, "peer key %s", f.encryptTo)
	}
	ro, err := c.requestObject(md.Issuer, ar, encryptTo)
	require.NoError(t, err)
	if encryptTo != nil {
		require.Equal(t, 5, jose.Segments(ro))
	}
	requestURI, err := pushAuthorizationRequest(ctx, asClient, md, c.id, ro)
	require.NoError(t, err)

	callback, err := authorize(ctx, env.httpClient(nil), authorizeURL(md, c.id, requestURI))
	require.NoError(t, err)
	require.Empty(t, callback.Query().Get("code"), "JARM: the code must be inside the response JWT only")
	r.jarm, err = decodeJARM(callback, md, keys, c, ar.State)
	require.NoError(t, err)

	r.conf = &oauth2.Config{
		ClientID:    c.id,
		RedirectURL: redirectURI,
		Endpoint: oauth2.Endpoint{
			AuthURL:   md.AuthorizationEndpoint,
			TokenURL:  md.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
	r.asCtx = context.WithValue(ctx, oauth2.HTTPClient, asClient)
	r.token, err = r.conf.Exchange(r.asCtx, r.jarm.Code, oauth2.VerifierOption(ar.Verifier))
	require.NoError(t, err)
	require.Equal(t, "DPoP", r.token.Type())
	return r
}

func TestFAPIFlow(t *testing.T) {
	t.Parallel()
	type testCase struct {
		name string
		flow fapiFlow
	}
	var tests []testCase
	for _, mode := range nonceModes {
		tests = append(tests,
			testCase{name: "signed JARM nonce " + mode, flow: fapiFlow{mode: mode, client: env.fapi}},
			testCase{name: "encrypted JARM and request object ECDH-ES nonce " + mode, flow: fapiFlow{mode: mode, client: env.fapiEnc, encryptTo: "enc-ecdh"}},
		)
	}
	tests = append(tests, testCase{
		name: "encrypted JARM and request object RSA-OAEP-256 nonce " + nonceOff,
		flow: fapiFlow{mode: nonceOff, client: env.fapiEnc, encryptTo: "enc-rsa"},
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mode, c := tc.flow.mode, tc.flow.client
			tc.flow.scope = "openid email"
			r := runFAPIFlow(t, tc.flow)
			ctx := testCtx(t)
			require.Equal(t, r.md.Issuer, r.jarm.Issuer)
			require.NotEmpty(t, r.token.Extra("id_token"))

			// userinfo through x/oauth2's transport: it sends
			// "Authorization: DPoP <at>"; the DPoP transport adds the
			// proof with ath (and a nonce when asked).
			rs := r.conf.Client(r.asCtx, r.token)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.md.UserinfoEndpoint, nil)
			require.NoError(t, err)
			resp, err := rs.Do(req)
			require.NoError(t, err)
			body, err := readPeerResponse("userinfo", resp)
			require.NoError(t, err)
			var ui map[string]any
			require.NoError(t, json.Unmarshal(body, &ui))
			require.Equal(t, accountID, ui["sub"])
			require.Equal(t, accountID+"@interop.test", ui["email"])

			// The token is bound to the DPoP key (RFC 9449 §6).
			in, err := introspect(ctx, env.httpClient(nil), r.md, r.keys, env.resourceServer, r.token.AccessToken, false)
			require.NoError(t, err)
			require.True(t, in.Active)
			require.Equal(t, "DPoP", in.TokenType)
			require.Equal(t, r.prover.jkt, in.Cnf.JKT)
			require.Equal(t, c.id, in.ClientID)
			require.Equal(t, accountID, in.Sub)

			// The nonce mode shows in the traffic (RFC 9449 §8).
			origin := originOf(mustParseURL(t, r.md.Issuer))
			switch mode {
			case nonceOff:
				require.Zero(t, r.retries)
				require.Empty(t, r.prover.nonce(origin))
			case nonceOptional:
				require.Zero(t, r.retries)
				require.NotEmpty(t, r.prover.nonce(origin))
			case nonceRequired:
				require.Positive(t, r.retries)
				require.NotEmpty(t, r.prover.nonce(origin))
			}
		})
	}
}

// TestFAPIFlowResource asks for a resource whose access tokens are at+jwt
// (RFC 9068): the token names the resource and carries cnf.jkt.
func TestFAPIFlowResource(t *testing.T) {
	t.Parallel()
	r := runFAPIFlow(t, fapiFlow{mode: nonceRequired, client: env.fapi, scope: "openid read", resource: resourceJWT})
	claims, err := jwtAccessToken(r.md, r.keys, r.token.AccessToken, resourceJWT)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"jkt": r.prover.jkt}, claims["cnf"])
	require.Equal(t, "read", claims["scope"])
	require.Equal(t, accountID, claims["sub"])
}

// TestDPoPBindingEnforced proves the peer refuses a DPoP-bound token used
// without its proof, so the positive tests above mean something.
func TestDPoPBindingEnforced(t *testing.T) {
	t.Parallel()
	r := runFAPIFlow(t, fapiFlow{mode: nonceOff, client: env.fapi, scope: "openid"})
	ctx := testCtx(t)
	tests := []struct {
		name       string
		scheme     string
		wantStatus int
		wantError  string
	}{
		{name: "as Bearer", scheme: "Bearer", wantStatus: http.StatusUnauthorized, wantError: "invalid_token"},
		{name: "as DPoP without proof", scheme: "DPoP", wantStatus: http.StatusBadRequest, wantError: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.md.UserinfoEndpoint, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", tc.scheme+" "+r.token.AccessToken)
			resp, err := env.httpClient(nil).Do(req)
			require.NoError(t, err)
			_, err = readPeerResponse("userinfo", resp)
			var pe *peerError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tc.wantStatus, pe.Status)
			require.NotNil(t, pe.OAuth, "OAuth error body")
			require.Equal(t, tc.wantError, pe.OAuth.Code)
		})
	}
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// TestFAPIRefresh refreshes through x/oauth2's TokenSource: the refresh
// request gets a fresh client assertion and DPoP proof (with the nonce
// retry on the nonce-required peer), and the new token is bound to the
// same DPoP key.
func TestFAPIRefresh(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{nonceOff, nonceRequired} {
		t.Run("nonce "+mode, func(t *testing.T) {
			t.Parallel()
			r := runFAPIFlow(t, fapiFlow{mode: mode, client: env.fapi, scope: "openid"})
			require.NotEmpty(t, r.token.RefreshToken)

			old := *r.token
			old.Expiry = time.Now().Add(-time.Minute) // force a refresh
			fresh, err := r.conf.TokenSource(r.asCtx, &old).Token()
			require.NoError(t, err)
			require.NotEqual(t, r.token.AccessToken, fresh.AccessToken)
			require.Equal(t, "DPoP", fresh.Type())

			in, err := introspect(testCtx(t), env.httpClient(nil), r.md, r.keys, env.resourceServer, fresh.AccessToken, true)
			require.NoError(t, err)
			require.True(t, in.Active)
			require.Equal(t, r.prover.jkt, in.Cnf.JKT)
		})
	}
}
