package hardened_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/jarm"
)

// declaredMethods returns the methods the package's own (non-test) files
// declare on Config or *Config.
func declaredMethods(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			typ := fd.Recv.List[0].Type
			if st, ok := typ.(*ast.StarExpr); ok {
				typ = st.X
			}
			if id, ok := typ.(*ast.Ident); ok && id.Name == "Config" {
				out[fd.Name.Name] = true
			}
		}
	}
	return out
}

// Every method of oauth2.Config (value and pointer receivers) is declared by
// hardened.Config itself, so that none is promoted past the hardening. When
// x/oauth2 gains a method, this test fails until Config shadows it.
func TestConfigShadowsEveryOAuth2Method(t *testing.T) {
	t.Parallel()
	own := declaredMethods(t)
	seen := 0
	for _, typ := range []reflect.Type{reflect.TypeFor[oauth2.Config](), reflect.TypeFor[*oauth2.Config]()} {
		for m := range typ.Methods() {
			seen++
			require.True(t, own[m.Name], "oauth2.Config.%s is promoted: declare it on *hardened.Config (through the stack, or refusing with ErrUnsupportedGrant)", m.Name)
		}
	}
	require.GreaterOrEqual(t, seen, 7)
	// And reflection on hardened.Config sees the shadowing signatures.
	m, ok := reflect.TypeFor[*hardened.Config]().MethodByName("AuthCodeURL")
	require.True(t, ok)
	require.Equal(t, 4, m.Type.NumIn(), "receiver, ctx, state, opts")
}

// The shadowed grants refuse before sending anything.
func TestConfigRefusedGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	ctx := t.Context()
	_, err := conf.PasswordCredentialsToken(ctx, "user", "password")
	require.ErrorIs(t, err, hardened.ErrUnsupportedGrant)
	_, err = conf.DeviceAuth(ctx)
	require.ErrorIs(t, err, hardened.ErrUnsupportedGrant)
	_, err = conf.DeviceAccessToken(ctx, &oauth2.DeviceAuthResponse{DeviceCode: "x"})
	require.ErrorIs(t, err, hardened.ErrUnsupportedGrant)
	require.Zero(t, e.count.total())
}

// Misconfiguration is a *ConfigError naming the field, on first use, before
// any request (discovery included, where the field needs no metadata).
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	md := discover(t, e)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	tests := []struct {
		name  string
		mod   func(c *hardened.Config)
		field string
	}{
		{name: "no client ID", mod: func(c *hardened.Config) { c.ClientID = "" }, field: "Config.ClientID"},
		{name: "client secret", mod: func(c *hardened.Config) { c.ClientSecret = "s" }, field: "Config.ClientSecret"},
		{name: "endpoint", mod: func(c *hardened.Config) { c.Endpoint.TokenURL = "https://x.example/token" }, field: "Config.Endpoint"},
		{name: "auth style", mod: func(c *hardened.Config) { c.Endpoint.AuthStyle = oauth2.AuthStyleInHeader }, field: "Config.Endpoint"},
		{name: "no issuer", mod: func(c *hardened.Config) { c.Issuer, c.Metadata = "", nil }, field: "Config.Issuer"},
		{name: "metadata of another issuer", mod: func(c *hardened.Config) { c.Metadata = &hardened.Metadata{Issuer: "https://other.example"} }, field: "Config.Metadata"},
		{name: "response mode", mod: func(c *hardened.Config) { c.ResponseMode = "fragment" }, field: "Config.ResponseMode"},
		{name: "decryption keys without JARM", mod: func(c *hardened.Config) { c.DecryptionKeys = []jarm.DecryptionKey{{Key: genKey(t)}} }, field: "Config.DecryptionKeys"},
		{name: "algorithm HS256", mod: func(c *hardened.Config) { c.InsecureAlgorithms = []string{"HS256"} }, field: "Config.InsecureAlgorithms"},
		{name: "algorithm none", mod: func(c *hardened.Config) { c.InsecureAlgorithms = []string{"none"} }, field: "Config.InsecureAlgorithms"},
		{name: "P-384 key (ES384)", mod: func(c *hardened.Config) { c.Key = p384 }, field: "Config.Key"},
		{name: "negative skew", mod: func(c *hardened.Config) { c.Skew = -1 }, field: "Config.Skew"},
		{name: "empty trusted audience", mod: func(c *hardened.Config) { c.TrustedAudiences = []string{""} }, field: "Config.TrustedAudiences"},
		{name: "DPoP key without DPoP", mod: func(c *hardened.Config) { c.DPoPKey, c.InsecureNoSenderConstraint = genKey(t), true }, field: "Config.DPoPKey"},
		{name: "custom transport and RootCAs", mod: func(c *hardened.Config) {
			c.HTTPClient = &http.Client{Transport: roundTripFunc(nil)}
			c.RootCAs = e.srv.PKI().Roots()
		}, field: "Config.HTTPClient.Transport"},
		{name: "no credentials", mod: func(c *hardened.Config) { c.Key = nil }, field: "Config.Key"},
		{name: "client secret without Insecure", mod: func(c *hardened.Config) {
			c.ClientAuth = hardened.ClientSecretBasic{ClientSecret: "s"}
		}, field: "Config.ClientAuth"},
		{name: "public client without Insecure", mod: func(c *hardened.Config) { c.ClientAuth = &hardened.NoClientAuth{} }, field: "Config.ClientAuth"},
		{name: "another client ID", mod: func(c *hardened.Config) { c.ClientAuth = hardened.PrivateKeyJWT{ClientID: "other", Key: e.key} }, field: "Config.ClientAuth"},
		{name: "another issuer", mod: func(c *hardened.Config) {
			c.ClientAuth = hardened.PrivateKeyJWT{Issuer: "https://x.example", Key: e.key}
		}, field: "Config.ClientAuth"},
		{name: "P-384 DPoP key (ES384)", mod: func(c *hardened.Config) { c.DPoPKey = p384 }, field: "Config.DPoPKey"},
		{name: "metadata with an http endpoint", mod: func(c *hardened.Config) {
			m := *md
			m.TokenEndpoint = "http://127.0.0.1/token"
			c.Metadata = &m
		}, field: "Config.Metadata"},
		{name: "metadata with an http alias", mod: func(c *hardened.Config) {
			m := *md
			m.MTLSEndpointAliases = map[string]string{"token_endpoint": "http://127.0.0.1/token"}
			c.Metadata = &m
		}, field: "Config.Metadata.MTLSEndpointAliases"},
		{name: "metadata with an http issuer", mod: func(c *hardened.Config) {
			m := *md
			m.Issuer = "http://127.0.0.1"
			c.Metadata, c.Issuer = &m, ""
		}, field: "Config.Metadata.Issuer"},
		{name: "nil ClientAuth pointer", mod: func(c *hardened.Config) { c.ClientAuth = (*hardened.PrivateKeyJWT)(nil) }, field: "Config.ClientAuth"},
		{name: "tls_client_auth without certificate", mod: func(c *hardened.Config) { c.ClientAuth = hardened.TLSClientAuth{} }, field: "Config.Certificate"},
		{name: "decryption key of the wrong type", mod: func(c *hardened.Config) {
			c.ResponseMode = jarm.ModeJWT
			c.DecryptionKeys = []jarm.DecryptionKey{{Key: "not a key"}}
		}, field: "Config.DecryptionKeys[0].Key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			conf := e.conf()
			conf.Metadata = md
			tc.mod(conf)
			_, err := conf.AuthCodeURL(t.Context(), "state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), hardened.NonceOption("n"))
			require.ErrorIs(t, err, hardened.ErrInvalidConfig)
			var ce *hardened.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field, ce.Reason)
			// Every other entry point reports it too.
			_, err = conf.Exchange(t.Context(), "code", oauth2.VerifierOption("v"), hardened.NonceOption("n"))
			require.ErrorIs(t, err, hardened.ErrInvalidConfig)
			_, err = conf.Callback(t.Context(), &http.Request{}, "s")
			require.ErrorIs(t, err, hardened.ErrInvalidConfig)
			_, err = conf.TokenSource(t.Context(), &oauth2.Token{RefreshToken: "r"}).Token()
			require.ErrorIs(t, err, hardened.ErrInvalidConfig)
			_, err = conf.Client(t.Context(), &oauth2.Token{AccessToken: "a", TokenType: "DPoP"}).Get(e.srv.Endpoints().Userinfo)
			require.ErrorIs(t, err, hardened.ErrInvalidConfig)
			_, err = conf.ClientCredentials(t.Context()).Token()
			require.ErrorIs(t, err, hardened.ErrInvalidConfig)
			require.ErrorIs(t, conf.Revoke(t.Context(), "t", ""), hardened.ErrInvalidConfig)
			_, err = conf.Introspect(t.Context(), "t", "")
			require.ErrorIs(t, err, hardened.ErrInvalidConfig)
		})
	}
	t.Cleanup(func() { require.Zero(t, e.count.total(), "no request for a misconfigured Config") })
}

// discover fetches the metadata of e's server with its HTTP client.
func discover(t *testing.T, e *env) *hardened.Metadata {
	t.Helper()
	d := &hardened.Discovery{HTTPClient: e.srv.HTTPClient()}
	md, err := d.Discover(t.Context(), e.srv.Issuer())
	require.NoError(t, err)
	return md
}

// Missing or refused options are caught before any request.
func TestConfigOptionErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	v := oauth2.GenerateVerifier()
	pkce, nonce := oauth2.S256ChallengeOption(v), hardened.NonceOption("n")
	authTests := []struct {
		name  string
		state string
		opts  []oauth2.AuthCodeOption
	}{
		{name: "no state", opts: []oauth2.AuthCodeOption{pkce, nonce}},
		{name: "no PKCE", state: "s", opts: []oauth2.AuthCodeOption{nonce}},
		{name: "plain PKCE", state: "s", opts: []oauth2.AuthCodeOption{nonce, oauth2.SetAuthURLParam("code_challenge", v), oauth2.SetAuthURLParam("code_challenge_method", "plain")}},
		{name: "PKCE without method", state: "s", opts: []oauth2.AuthCodeOption{nonce, oauth2.SetAuthURLParam("code_challenge", v)}},
		{name: "openid without nonce", state: "s", opts: []oauth2.AuthCodeOption{pkce}},
		{name: "verifier in the URL", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, oauth2.VerifierOption(v)}},
		{name: "relative resource", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, hardened.ResourceOption("/api")}},
		{name: "resource with fragment", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, hardened.ResourceOption("https://api.example/#x")}},
		{name: "client_id", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, oauth2.SetAuthURLParam("client_id", "other")}},
		{name: "state", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, oauth2.SetAuthURLParam("state", "other")}},
		{name: "response_type", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, oauth2.SetAuthURLParam("response_type", "token")}},
		{name: "response_mode", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, jarm.ResponseModeOption(jarm.ModeJWT)}},
		{name: "request_uri", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, oauth2.SetAuthURLParam("request_uri", "urn:x")}},
		{name: "client_secret", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, oauth2.SetAuthURLParam("client_secret", "x")}},
		{name: "foreign dpop_jkt", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, oauth2.SetAuthURLParam("dpop_jkt", "AAAA")}},
		{name: "bad authorization_details", state: "s", opts: []oauth2.AuthCodeOption{pkce, nonce, oauth2.SetAuthURLParam("authorization_details", `{"type":"x"}`)}},
	}
	for _, tc := range authTests {
		t.Run("AuthCodeURL "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.conf().AuthCodeURL(t.Context(), tc.state, tc.opts...)
			require.ErrorIs(t, err, hardened.ErrInvalidOption)
		})
	}
	exTests := []struct {
		name string
		code string
		opts []oauth2.AuthCodeOption
	}{
		{name: "no code", opts: []oauth2.AuthCodeOption{oauth2.VerifierOption(v), nonce}},
		{name: "no verifier", code: "c", opts: []oauth2.AuthCodeOption{nonce}},
		{name: "openid without nonce", code: "c", opts: []oauth2.AuthCodeOption{oauth2.VerifierOption(v)}},
		{name: "the authorization options", code: "c", opts: []oauth2.AuthCodeOption{pkce, nonce, oauth2.VerifierOption(v)}},
		{name: "client_assertion", code: "c", opts: []oauth2.AuthCodeOption{oauth2.VerifierOption(v), nonce, oauth2.SetAuthURLParam("client_assertion", "x")}},
		{name: "grant_type", code: "c", opts: []oauth2.AuthCodeOption{oauth2.VerifierOption(v), nonce, oauth2.SetAuthURLParam("grant_type", "password")}},
		{name: "relative resource", code: "c", opts: []oauth2.AuthCodeOption{oauth2.VerifierOption(v), nonce, hardened.ResourceOption("api")}},
	}
	for _, tc := range exTests {
		t.Run("Exchange "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.conf().Exchange(t.Context(), tc.code, tc.opts...)
			require.ErrorIs(t, err, hardened.ErrInvalidOption)
		})
	}
	ccTests := []struct {
		name string
		opts []oauth2.AuthCodeOption
	}{
		{name: "PKCE", opts: []oauth2.AuthCodeOption{pkce}},
		{name: "nonce", opts: []oauth2.AuthCodeOption{nonce}},
		{name: "client_id", opts: []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("client_id", "x")}},
		{name: "relative resource", opts: []oauth2.AuthCodeOption{hardened.ResourceOption("api")}},
	}
	for _, tc := range ccTests {
		t.Run("ClientCredentials "+tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.conf().ClientCredentials(t.Context(), tc.opts...).Token()
			require.ErrorIs(t, err, hardened.ErrInvalidOption)
		})
	}
	t.Run("Revoke and Introspect", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, e.conf().Revoke(t.Context(), "", ""), hardened.ErrInvalidOption)
		require.ErrorIs(t, e.conf().Revoke(t.Context(), "t", "id_token"), hardened.ErrInvalidOption)
		_, err := e.conf().Introspect(t.Context(), "", "")
		require.ErrorIs(t, err, hardened.ErrInvalidOption)
	})
	t.Run("no redirect URL", func(t *testing.T) {
		t.Parallel()
		conf := e.conf()
		conf.RedirectURL = ""
		_, err := conf.AuthCodeURL(t.Context(), "s", pkce, nonce)
		var ce *hardened.ConfigError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "Config.RedirectURL", ce.Field)
	})
	t.Cleanup(func() {
		// Only the checks that need the metadata (dpop_jkt, the request
		// object's authorization_details) discovered it; nothing else was sent.
		require.Equal(t, e.count.get("/.well-known/oauth-authorization-server"), e.count.total())
		require.LessOrEqual(t, e.count.total(), 2)
	})
}
