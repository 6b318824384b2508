package phantom

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	_, edPriv, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	tests := []struct {
		name  string
		mod   func(g *Gateway)
		field string
	}{
		{"no introspection URL", func(g *Gateway) { g.IntrospectionURL = "" }, "Gateway.IntrospectionURL"},
		{"http introspection URL", func(g *Gateway) { g.IntrospectionURL = "http://as.example/introspect" }, "Gateway.IntrospectionURL"},
		{"relative introspection URL", func(g *Gateway) { g.IntrospectionURL = "/introspect" }, "Gateway.IntrospectionURL"},
		{"user info in URL", func(g *Gateway) { g.IntrospectionURL = "https://u:p@as.example/introspect" }, "Gateway.IntrospectionURL"},
		{"negative timeout", func(g *Gateway) { g.Timeout = -1 }, "Gateway.Timeout"},
		{"negative max response", func(g *Gateway) { g.MaxResponseBytes = -1 }, "Gateway.MaxResponseBytes"},
		{"negative skew", func(g *Gateway) { g.Skew = -1 }, "Gateway.Skew"},
		{"negative max introspections", func(g *Gateway) { g.MaxIntrospections = -1 }, "Gateway.MaxIntrospections"},
		{"huge max token", func(g *Gateway) { g.MaxTokenBytes = 1 << 20 }, "Gateway.MaxTokenBytes"},
		{"unknown mode", func(g *Gateway) { g.Mode = "xml" }, "Gateway.Mode"},
		{"9701 without client id", func(g *Gateway) { g.ClientID = "" }, "Gateway.ClientID"},
		{"jwt without audience", func(g *Gateway) { g.Mode = ModeJWT; g.Audience = "" }, "Gateway.Audience"},
		{"jwt modes need keys", func(g *Gateway) { g.Keys = nil }, "Gateway.JWKSURL"},
		{"jwt modes need issuer", func(g *Gateway) { g.Issuer = "" }, "Gateway.Issuer"},
		{"jwks url and keys", func(g *Gateway) { g.JWKSURL = "https://as.example/jwks" }, "Gateway.JWKSURL"},
		{"http jwks url", func(g *Gateway) { g.Keys = nil; g.JWKSURL = "http://as.example/jwks" }, "Gateway.JWKSURL"},
		{"bad static key", func(g *Gateway) { g.Keys = []VerificationKey{{Key: "nope"}} }, "Gateway.Keys[0].Key"},
		{"bad static key alg", func(g *Gateway) { g.Keys[0].Algorithm = "HS256" }, "Gateway.Keys[0].Algorithm"},
		{"bad jwks", func(g *Gateway) { g.Keys = nil; g.JWKS = []byte(`{"keys":`) }, "Gateway.JWKS"},
		{"empty jwks", func(g *Gateway) { g.Keys = nil; g.JWKS = []byte(`{"keys":[]}`) }, "Gateway.JWKS"},
		{"alg none", func(g *Gateway) { g.Algorithms = []string{"none"} }, "Gateway.Algorithms"},
		{"HS256", func(g *Gateway) { g.Algorithms = []string{"ES256", "HS256"} }, "Gateway.Algorithms"},
		{"empty algorithms", func(g *Gateway) { g.Algorithms = []string{} }, "Gateway.Algorithms"},
		{"json without key", func(g *Gateway) { g.Mode = ModeJSON }, "Gateway.Key"},
		{"json with unusable key alg", func(g *Gateway) { g.Mode = ModeJSON; g.Key = newKey(t); g.KeyAlgorithm = "EdDSA" }, "Gateway.KeyAlgorithm"},
		{"json lifetime below cache TTL", func(g *Gateway) {
			g.Mode = ModeJSON
			g.Key = edPriv
			g.CacheTTL = time.Minute
			g.TokenLifetime = time.Minute
		}, "Gateway.TokenLifetime"},
		{"json negative lifetime", func(g *Gateway) { g.Mode = ModeJSON; g.Key = edPriv; g.TokenLifetime = -1 }, "Gateway.TokenLifetime"},
		{"bad upstream header", func(g *Gateway) { g.UpstreamHeader = "X Bad" }, "Gateway.UpstreamHeader"},
		{"DPoP as upstream header", func(g *Gateway) { g.UpstreamHeader = "dpop" }, "Gateway.UpstreamHeader"},
		{"hop-by-hop upstream header", func(g *Gateway) { g.UpstreamHeader = "Connection" }, "Gateway.UpstreamHeader"},
		{"route without slash", func(g *Gateway) { g.Routes = []Route{{Prefix: "admin"}} }, "Gateway.Routes[0].Prefix"},
		{"route with dots", func(g *Gateway) { g.Routes = []Route{{Prefix: "/"}, {Prefix: "/a/../b"}} }, "Gateway.Routes[1].Prefix"},
		{"route bad scope", func(g *Gateway) { g.Routes = []Route{{Prefix: "/", Scopes: []string{"a b"}}} }, "Gateway.Routes[0].Scopes"},
		{"route bad method", func(g *Gateway) { g.Routes = []Route{{Prefix: "/", Methods: []string{"GE T"}}} }, "Gateway.Routes[0].Methods"},
		{"route bad audience", func(g *Gateway) { g.Routes = []Route{{Prefix: "/", Audience: "a\nb"}} }, "Gateway.Routes[0].Audience"},
		{"DPoP without BaseURL", func(g *Gateway) { g.DPoP = &dpop.Verifier{} }, "Gateway.DPoP.BaseURL"},
		{"both verifiers, DPoP unaware", func(g *Gateway) {
			g.DPoP = &dpop.Verifier{BaseURL: testBaseURL}
			g.MTLS = &mtlsbound.Verifier{}
		}, "Gateway.DPoP.CheckedElsewhere"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := as.gateway(ModeIntrospectionJWT)
			tc.mod(g)
			err := g.Validate(context.Background())
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.Equal(t, tc.field, ce.Field)
			require.NotEmpty(t, ce.Reason)

			// Every request meets it: 500, next never called.
			up := &upstream{}
			rec := serve(g.Wrap(up), request("GET", "/", "Bearer tok"))
			require.Equal(t, http.StatusInternalServerError, rec.Code)
			require.Zero(t, up.count())
			_, verr := g.Verify(request("GET", "/", "Bearer tok"))
			require.ErrorIs(t, verr, ErrInvalidConfig)
			require.Zero(t, as.calls.Load(), "a misconfigured gateway calls nobody")
		})
	}
}

func TestConfigErrorText(t *testing.T) {
	t.Parallel()
	e := &ConfigError{Field: "Gateway.ClientID", Reason: "is required"}
	require.Equal(t, "phantom: invalid configuration: Gateway.ClientID: is required", e.Error())
	require.ErrorIs(t, e, ErrInvalidConfig)
}

func TestValidateFetchesRemoteKeys(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	g := as.gateway(ModeIntrospectionJWT)
	g.Keys = nil
	g.JWKSURL = as.srv.URL + "/jwks"
	as.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/jwks" {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		return true
	})
	require.ErrorIs(t, g.Validate(context.Background()), ErrIntrospection)
}

func TestRemoteKeySet(t *testing.T) {
	t.Parallel()
	as := newFakeAS(t)
	as.active("tok", nil)
	jwks, err := jose.MarshalJWKSet([]*jose.JWK{{Key: as.key.Public(), KeyID: as.kid}})
	require.NoError(t, err)
	var fetches atomic.Int64
	as.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/jwks" {
			return false
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(jwks)
		return true
	})
	g := as.gateway(ModeIntrospectionJWT)
	g.Keys = nil
	g.JWKSURL = as.srv.URL + "/jwks"
	require.NoError(t, g.Validate(context.Background()))
	for _, tok := range []string{"tok", "tok", "other"} {
		_, err := g.Verify(request("GET", "/", "Bearer "+tok))
		if tok == "tok" {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, ErrInactiveToken)
		}
	}
	require.Equal(t, int64(1), fetches.Load(), "the key set is cached")
}
