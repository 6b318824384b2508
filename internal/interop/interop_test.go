package interop_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// env is set up once by TestMain for all tests.
var env *testEnv

// requireEnvs make a missing peer a failure instead of a skip when either
// is "1" (CI sets both).
var requireEnvs = []string{"HARDENED_REQUIRE_INTEROP", "HARDENED_REQUIRE_PEERS"}

// peersRequired returns the variable that requires the peers, or "".
func peersRequired() string {
	for _, name := range requireEnvs {
		if os.Getenv(name) == "1" {
			return name
		}
	}
	return ""
}

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

// missing is the skip banner when node-oidc-provider is not installed.
var missing string

// TestInteropPeer reports the peer: it skips, loudly and countably, when
// node-oidc-provider is missing, so a run without the peer never reads as
// a pass.
func TestInteropPeer(t *testing.T) {
	if missing != "" {
		t.Skip(missing)
	}
	require.NotNil(t, env, "peers started")
	require.NotEmpty(t, env.peers)
}

func runMain(m *testing.M) int {
	flag.Parse() // for testing.Verbose
	node, version, err := findNode()
	if err != nil {
		if name := peersRequired(); name != "" {
			banner(fmt.Sprintf("INTEROP FAILED: %v, and %s=1 requires it", err, name))
			return 1
		}
		missing = fmt.Sprintf("INTEROP SKIPPED: %v (run `make peers` to install node-oidc-provider)", err)
		banner(missing)
		// Run only TestInteropPeer, which skips with the reason: the skip is
		// counted as a skip (and fails CI), not hidden as "no tests to run".
		if err := flag.Set("test.run", "^TestInteropPeer$"); err != nil {
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
	defer env.plain.CloseIdleConnections()
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

// peerView is what a test knows of one peer: the process, its metadata as
// hardened.Discover validated it, and its public keys.
type peerView struct {
	*peer
	md   *hardened.Metadata
	jwks []byte          // the JWK Set document, for jar.ParseEncryptionKeys
	keys jose.StaticKeys // the same keys, for internal/jose verification
}

// discover fetches a peer's metadata with hardened.Discovery over a client
// that trusts the test CA.
func discover(ctx context.Context, issuer string, rt http.RoundTripper) (*hardened.Metadata, error) {
	d := hardened.Discovery{HTTPClient: &http.Client{Transport: rt, Timeout: 30 * time.Second}}
	return d.Discover(ctx, issuer)
}

// peerFor returns the peer of a nonce mode, discovered, and arranges for its
// stderr to be printed if t fails.
func peerFor(t *testing.T, mode string) *peerView {
	t.Helper()
	p := env.peers[mode]
	require.NotNil(t, p, "no peer for nonce mode %s", mode)
	p.logOnFailure(t)
	ctx := testCtx(t)
	md, err := discover(ctx, p.issuer, env.transport(nil))
	require.NoError(t, err, "discovery")
	jwks, err := getJSON(ctx, env.httpClient(nil), md.JWKSURI)
	require.NoError(t, err, "jwks_uri")
	keys, err := jose.ParseJWKSet(jwks)
	require.NoError(t, err, "jwks_uri")
	return &peerView{peer: p, md: md, jwks: jwks, keys: keys}
}

// rawMember decodes a metadata member that hardened.Metadata does not name.
func rawMember(t *testing.T, md *hardened.Metadata, name string) any {
	t.Helper()
	raw, ok := md.Raw[name]
	require.True(t, ok, "metadata member %s", name)
	var v any
	require.NoError(t, json.Unmarshal(raw, &v), "metadata member %s", name)
	return v
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	for _, mode := range nonceModes {
		t.Run("nonce "+mode, func(t *testing.T) {
			t.Parallel()
			p := env.peers[mode]
			require.NotNil(t, p)
			p.logOnFailure(t)
			// Discover asks for RFC 8414's well-known URL first, which
			// node-oidc-provider serves beside OpenID Connect Discovery's.
			rec := &recorder{Base: env.transport(nil), KeepBodies: true}
			rec.logOnFailure(t, "discovery")
			md, err := discover(testCtx(t), p.issuer, rec)
			require.NoError(t, err)
			calls := rec.exchanges("")
			require.Len(t, calls, 1)
			require.Equal(t, p.issuer+hardened.WellKnownOAuth, calls[0].URL)
			require.Equal(t, http.StatusOK, calls[0].Status)

			require.Equal(t, p.issuer, md.Issuer)
			require.Equal(t, p.issuer+"/request", md.PushedAuthorizationRequestEndpoint)
			require.True(t, md.RequirePushedAuthorizationRequests)
			require.True(t, md.AuthorizationResponseIssParameterSupported)
			require.True(t, md.TLSClientCertificateBoundAccessTokens)
			require.NotEmpty(t, md.IntrospectionEndpoint)
			require.NotEmpty(t, md.RevocationEndpoint)
			require.NotEmpty(t, md.UserinfoEndpoint)
			require.ElementsMatch(t, []string{jose.ES256, jose.PS256, jose.EdDSA}, md.DPoPSigningAlgValuesSupported)
			require.Equal(t, []string{"S256"}, md.CodeChallengeMethodsSupported)
			for _, m := range []string{hardened.AuthMethodPrivateKeyJWT, hardened.AuthMethodTLSClientAuth, hardened.AuthMethodSelfSignedTLSClientAuth, hardened.AuthMethodClientSecretBasic} {
				require.True(t, md.SupportsAuthMethod(m), m)
			}
			require.Subset(t, md.ResponseModesSupported, []string{"jwt", "query.jwt"})
			require.Subset(t, md.AuthorizationSigningAlgValuesSupported, []string{jose.ES256})
			require.Subset(t, md.AuthorizationEncryptionAlgValuesSupported, []string{jose.ECDHES, jose.RSAOAEP256})
			require.Subset(t, md.AuthorizationEncryptionEncValuesSupported, []string{jose.A256GCM})
			require.Subset(t, md.RequestObjectSigningAlgValuesSupported, []string{jose.ES256})
			require.Subset(t, md.RequestObjectEncryptionAlgValuesSupported, []string{jose.ECDHES, jose.RSAOAEP256})
			require.Subset(t, md.IntrospectionSigningAlgValuesSupported, []string{jose.ES256})
			require.Subset(t, md.GrantTypesSupported, []string{"authorization_code", "client_credentials", "refresh_token"})
			require.Equal(t, true, rawMember(t, md, "require_signed_request_object"))

			// RFC 8705 §5 aliases, read by the root package and by
			// mtlsbound; the peer publishes them on its own host.
			aliases := mtlsbound.Aliases(md.MTLSEndpointAliases)
			for _, name := range []string{mtlsbound.TokenEndpoint, mtlsbound.PushedAuthorizationRequestEndpoint, mtlsbound.IntrospectionEndpoint, mtlsbound.RevocationEndpoint, mtlsbound.UserinfoEndpoint} {
				alias, ok := aliases[name]
				require.True(t, ok, "mtls_endpoint_aliases.%s", name)
				require.True(t, strings.HasPrefix(alias, p.issuer+"/"), "mtls_endpoint_aliases.%s", name)
				require.Equal(t, alias, md.Endpoint(name, true))
				require.Equal(t, alias, aliases.Resolve(name, md.Endpoint(name, false)))
			}
			fromDoc, err := mtlsbound.AliasesFromMetadata(calls[0].body)
			require.NoError(t, err)
			require.Equal(t, aliases, fromDoc)

			// The peer's keys: ES256 and RSA signing keys, ECDH-ES and
			// RSA-OAEP-256 encryption keys.
			pv := peerFor(t, mode)
			for _, want := range []struct{ kid, use string }{
				{"sig-es256", "sig"}, {"sig-rsa", "sig"}, {"enc-ecdh", "enc"}, {"enc-rsa", "enc"},
			} {
				k := keyByID(pv.keys, want.kid)
				require.NotNil(t, k, "jwks kid %s", want.kid)
				require.Equal(t, want.use, k.Use)
			}
		})
	}
}

// TestDiscoveryIssuerMismatch asks a peer for its metadata under another
// name of the same host (its certificate covers localhost too): the
// document names 127.0.0.1, and RFC 8414 §3.3 forbids using it.
func TestDiscoveryIssuerMismatch(t *testing.T) {
	t.Parallel()
	p := env.peers[nonceOff]
	require.NotNil(t, p)
	p.logOnFailure(t)
	u := mustParseURL(t, p.issuer)
	other := "https://localhost:" + u.Port()
	_, err := discover(testCtx(t), other, env.transport(nil))
	var mismatch *hardened.IssuerMismatchError
	require.ErrorAs(t, err, &mismatch)
	require.ErrorIs(t, err, hardened.ErrIssuerMismatch)
	require.Equal(t, other, mismatch.Expected)
	require.Equal(t, p.issuer, mismatch.Got)
}

func keyByID(keys jose.StaticKeys, kid string) *jose.JWK {
	for _, k := range keys {
		if k.KeyID == kid {
			return k
		}
	}
	return nil
}
