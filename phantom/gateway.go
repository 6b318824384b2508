package phantom

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

// Mode selects what the gateway asks the authorization server for, and so
// which JWT it forwards upstream.
type Mode string

// Modes of [Gateway.Mode].
const (
	// ModeIntrospectionJWT asks for a signed introspection response
	// (RFC 9701, Accept: application/token-introspection+jwt), verifies it
	// (signature with the authorization server's keys, typ
	// token-introspection+jwt, iss, aud = ClientID, iat) and forwards it
	// as is. The zero Mode means this one: every claim the upstream sees is
	// signed by the authorization server.
	ModeIntrospectionJWT Mode = "token-introspection+jwt"
	// ModeJWT asks for the access token itself as a JWT (Accept:
	// application/jwt, RFC 9068 form), verifies it (signature, typ at+jwt,
	// iss, aud = Audience, exp, iat) and forwards it.
	ModeJWT Mode = "jwt"
	// ModeJSON asks for a plain RFC 7662 response and forwards a
	// short-lived JWT that the gateway signs with its own Key; upstreams
	// verify it with the key set served by [Gateway.JWKSHandler].
	ModeJSON Mode = "json"
)

// Defaults of [Gateway].
const (
	// DefaultTimeout bounds one introspection call.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxResponseBytes bounds an introspection response body.
	DefaultMaxResponseBytes = 64 << 10
	// DefaultCacheTTL is the longest time an introspection result is
	// reused: the longest a revoked token is still let through.
	DefaultCacheTTL = time.Minute
	// DefaultNegativeTTL is how long an inactive or refused token is
	// remembered, so that a stream of bad tokens does not become a stream
	// of introspections.
	DefaultNegativeTTL = 5 * time.Second
	// DefaultSkew is the clock skew tolerated on the time claims of the
	// authorization server's responses and tokens.
	DefaultSkew = time.Minute
	// DefaultMaxTokenBytes bounds the opaque token a client presents.
	DefaultMaxTokenBytes = 4 << 10
	// DefaultMaxIntrospections bounds the introspections in flight.
	DefaultMaxIntrospections = 256
	// DefaultRetryAfter is the Retry-After of 503 answers, in seconds.
	DefaultRetryAfter = 5
	// responseMaxAge bounds the age of a signed introspection response's
	// "iat" (beyond Skew).
	responseMaxAge = 5 * time.Minute
	// minTokenLifetime is the shortest default lifetime of JWTs the
	// gateway signs.
	minTokenLifetime = 2 * time.Minute
)

// Media types of introspection responses.
const (
	mediaIntrospectionJWT = "application/token-introspection+jwt"
	mediaJWT              = "application/jwt"
	mediaJSON             = "application/json"
	typIntrospection      = "token-introspection+jwt"
	typAccessToken        = "at+jwt"
)

// VerificationKey is a public key of the authorization server.
type VerificationKey struct {
	// KeyID is the key's "kid". A JWT naming a kid is verified only with
	// the keys of that kid.
	KeyID string
	// Key is an *ecdsa.PublicKey (P-256, P-384, P-521), an
	// ed25519.PublicKey or an *rsa.PublicKey of 2048 bits or more.
	Key crypto.PublicKey
	// Algorithm, when set, is the only "alg" this key verifies.
	Algorithm string
}

// Gateway is the Phantom Token pattern for an API gateway: it takes the
// opaque access token a client presents ("Authorization: Bearer" or
// "DPoP"), introspects it at the authorization server (RFC 7662, RFC 9701),
// enforces its sender constraint (DPoP proof, client certificate), and
// forwards the request upstream with a JWT in place of the opaque token.
// See the package documentation for the whole picture.
//
// Fields are read on first use, when the configuration is checked: a
// mistake is a [*ConfigError] from every call (500 from the handlers),
// never a silently weaker gateway. A Gateway is safe for concurrent use; it
// must not be copied, nor its fields changed, after first use.
type Gateway struct {
	// IntrospectionURL is the authorization server's introspection
	// endpoint, an absolute https URL. Required.
	IntrospectionURL string
	// HTTPClient makes the introspection calls and fetches JWKSURL. Its
	// transport must authenticate the gateway as a client of the
	// authorization server (the root package's AuthTransport, with the
	// introspection endpoint in its Endpoints): the gateway adds no
	// credentials itself. Nil means the module's default client with
	// timeouts. Redirects are never followed, whatever the client says.
	HTTPClient *http.Client
	// Timeout bounds one introspection call, whoever waits for it. Zero
	// means [DefaultTimeout].
	Timeout time.Duration
	// MaxResponseBytes bounds an introspection response. Zero means
	// [DefaultMaxResponseBytes].
	MaxResponseBytes int64

	// Mode selects the response asked for and the JWT forwarded. The zero
	// value is [ModeIntrospectionJWT].
	Mode Mode
	// Issuer is the authorization server's issuer identifier. Required in
	// ModeIntrospectionJWT and ModeJWT ("iss" of the JWTs); in every mode
	// an introspection response whose "iss" differs is refused.
	Issuer string
	// ClientID is the gateway's client_id at the authorization server: the
	// "aud" a signed introspection response must carry (RFC 9701 §5).
	// Required in ModeIntrospectionJWT.
	ClientID string
	// Audience is the identifier of the protected resource. Required in
	// ModeJWT, where the access token's "aud" must contain it (RFC 9068
	// §4); in the other modes, when set, the introspection response's
	// "aud" must contain it. A token for another audience is refused with
	// 401 invalid_token.
	Audience string

	// JWKSURL is the authorization server's jwks_uri (https), for the
	// JWT modes. Its keys are cached, refetched on an unknown kid (rate
	// limited) and kept when a refetch fails. It cannot be combined with
	// Keys or JWKS.
	JWKSURL string
	// Keys are static verification keys of the authorization server.
	Keys []VerificationKey
	// JWKS is a static JWK Set in its JSON form, used like Keys.
	JWKS []byte
	// Algorithms is the allow-list of signature algorithms of the
	// authorization server's JWTs. Nil means ES256, PS256 and EdDSA;
	// "none" and HS* cannot be listed.
	Algorithms []string
	// Skew is the clock skew tolerated on time claims. Zero means
	// [DefaultSkew].
	Skew time.Duration

	// Key signs the JWTs forwarded in ModeJSON. Any crypto.Signer works
	// (KMS, HSM). Required in ModeJSON, unused otherwise.
	Key crypto.Signer
	// KeyID is the "kid" of Key, in the JWTs and in [Gateway.JWKSHandler]. Empty
	// means Key's RFC 7638 thumbprint.
	KeyID string
	// KeyAlgorithm is the "alg" of the JWTs the gateway signs. Empty means
	// the one that fits Key: ES256 for a P-256 key.
	KeyAlgorithm string
	// TokenLifetime is the lifetime of the JWTs the gateway signs; their
	// "exp" is also never after the access token's. Zero means twice
	// CacheTTL, and at least two minutes. It must exceed CacheTTL.
	TokenLifetime time.Duration

	// UpstreamHeader is the request header that carries the JWT upstream.
	// Empty means "Authorization", sent as "Bearer <JWT>"; any other name
	// carries the bare JWT. A copy sent by the client is always removed,
	// as are its Authorization and DPoP headers.
	UpstreamHeader string

	// Routes adds per-route requirements (scopes, audience), matched on
	// the request path; see [Route].
	Routes []Route

	// DPoP checks the proofs of DPoP-bound tokens ("cnf" "jkt" or "jwk",
	// RFC 9449). Its BaseURL must be the gateway's external URL, the one
	// clients send in "htu" (the Host header is never believed); its
	// Nonces and Replay store serve every request; its Keys resolves a
	// "cnf" "kid"/"jku" (nil: such tokens are refused). Nil means
	// DPoP-bound tokens are refused.
	DPoP *dpop.Verifier
	// MTLS checks the client certificate of certificate-bound tokens
	// ("cnf" "x5t#S256", RFC 8705); its Keys resolves a "cnf" "kid"/"jku"
	// the certificate's key must match (nil: such tokens are refused). Nil
	// means certificate-bound tokens are refused. When both DPoP and MTLS are set, each must list the
	// other's methods in CheckedElsewhere ("x5t#S256" on DPoP; "jkt" and
	// "jwk" on MTLS): a token bound both ways then needs both.
	MTLS *mtlsbound.Verifier
	// InsecureAllowUnbound lets tokens without "cnf" through as plain
	// bearer tokens. The zero value refuses them (FAPI 2.0 requires
	// sender-constrained tokens).
	InsecureAllowUnbound bool

	// Cache holds introspection results. Nil means a [MemoryCache] of
	// [DefaultMaxEntries] owned by the Gateway. Replicas that share a
	// cache (phantom/redisstore) must share Key too.
	Cache Cache
	// CacheTTL bounds how long a result is reused; an entry also never
	// outlives the token's "exp". Zero means [DefaultCacheTTL]; negative
	// disables caching of active tokens.
	CacheTTL time.Duration
	// NegativeTTL is how long an inactive or refused token is remembered.
	// Zero means [DefaultNegativeTTL]; negative disables it.
	NegativeTTL time.Duration
	// MaxTokenBytes bounds the presented token. Zero means
	// [DefaultMaxTokenBytes].
	MaxTokenBytes int
	// MaxIntrospections bounds the introspections in flight (one per
	// distinct uncached token): past it, a request that needs another one
	// is answered 503 at once, so that a flood of random tokens cannot
	// pile up calls to the authorization server. Zero means
	// [DefaultMaxIntrospections].
	MaxIntrospections int

	// Realm, when set, is the realm of every challenge.
	Realm string
	// Logger receives one record per refusal and per failed introspection,
	// with the reason; never a token, proof or JWT. Nil means no logs.
	Logger *slog.Logger
	// Metrics receives counts of cache hits and misses, introspections and
	// refusals. Its nil functions are skipped.
	Metrics Metrics
	// OnError, when set, is called with every refused request and its
	// [*Error] before the response is written.
	OnError func(r *http.Request, err error)
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	once sync.Once
	cfg  *config
	err  error

	mu       sync.Mutex
	inflight map[[32]byte]*flight
}

// Metrics are the gateway's counters. Each nil function is skipped; each
// must be safe for concurrent use and quick.
type Metrics struct {
	// CacheHit counts requests answered from the cache, negative entries
	// included.
	CacheHit func()
	// CacheMiss counts requests that needed an introspection (joined to
	// one in flight or not).
	CacheMiss func()
	// Introspection counts calls to the authorization server, with their
	// duration and outcome (nil, or an error wrapping ErrIntrospection or
	// ErrInvalidResponse).
	Introspection func(elapsed time.Duration, err error)
	// Rejection counts refused requests by reason.
	Rejection func(reason Reason)
}

// config is the checked form of a Gateway's fields.
type config struct {
	introspectURL  string
	client         *http.Client
	timeout        time.Duration
	maxResponse    int64
	mode           Mode
	accept         string
	keys           jose.KeyProvider
	remote         *jose.RemoteKeySet
	algs           []string
	skew           time.Duration
	signer         *jose.Signer
	jwks           []byte
	tokenLifetime  time.Duration
	upstream       string // canonical header name
	bearerUpstream bool   // upstream is Authorization: "Bearer <JWT>"
	routes         []route
	cache          Cache
	ownCache       bool // cache is the gateway's MemoryCache, on the gateway's clock
	cacheTTL       time.Duration
	negativeTTL    time.Duration
	maxToken       int
	slots          chan struct{} // one per introspection in flight
	dpopAlgs       string
	log            *slog.Logger
}

func (g *Gateway) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// init checks the configuration once.
func (g *Gateway) init() (*config, error) {
	g.once.Do(func() { g.cfg, g.err = g.build() })
	return g.cfg, g.err
}

func cfgErr(field, reason string) error {
	return &ConfigError{Field: "Gateway." + field, Reason: reason}
}

func (g *Gateway) build() (*config, error) {
	c := &config{
		client:      httpx.Client(g.HTTPClient),
		timeout:     orDuration(g.Timeout, DefaultTimeout),
		maxResponse: g.MaxResponseBytes,
		mode:        g.Mode,
		skew:        orDuration(g.Skew, DefaultSkew),
		cacheTTL:    orDuration(g.CacheTTL, DefaultCacheTTL),
		negativeTTL: orDuration(g.NegativeTTL, DefaultNegativeTTL),
		maxToken:    g.MaxTokenBytes,
		log:         g.Logger,
	}
	if err := checkHTTPS(g.IntrospectionURL); err != nil {
		return nil, cfgErr("IntrospectionURL", err.Error())
	}
	c.introspectURL = g.IntrospectionURL
	switch {
	case g.Timeout < 0:
		return nil, cfgErr("Timeout", "must not be negative")
	case g.MaxResponseBytes < 0:
		return nil, cfgErr("MaxResponseBytes", "must not be negative")
	case g.MaxResponseBytes == 0:
		c.maxResponse = DefaultMaxResponseBytes
	}
	if g.Skew < 0 {
		return nil, cfgErr("Skew", "must not be negative")
	}
	switch {
	case g.MaxTokenBytes < 0 || g.MaxTokenBytes > httpx.MaxCredentialsBytes:
		return nil, cfgErr("MaxTokenBytes", fmt.Sprintf("must be between 0 and %d", httpx.MaxCredentialsBytes))
	case g.MaxTokenBytes == 0:
		c.maxToken = DefaultMaxTokenBytes
	}
	switch {
	case g.MaxIntrospections < 0:
		return nil, cfgErr("MaxIntrospections", "must not be negative")
	case g.MaxIntrospections == 0:
		c.slots = make(chan struct{}, DefaultMaxIntrospections)
	default:
		c.slots = make(chan struct{}, g.MaxIntrospections)
	}
	if c.mode == "" {
		c.mode = ModeIntrospectionJWT
	}
	switch c.mode {
	case ModeIntrospectionJWT:
		c.accept = mediaIntrospectionJWT
		if g.ClientID == "" {
			return nil, cfgErr("ClientID", "is required in ModeIntrospectionJWT: it is the aud of the signed response")
		}
	case ModeJWT:
		c.accept = mediaJWT
		if g.Audience == "" {
			return nil, cfgErr("Audience", "is required in ModeJWT: it is the aud of the access token (RFC 9068 §4)")
		}
	case ModeJSON:
		c.accept = mediaJSON
	default:
		return nil, cfgErr("Mode", `must be "token-introspection+jwt", "jwt" or "json"`)
	}
	if err := g.buildKeys(c); err != nil {
		return nil, err
	}
	if err := g.buildSigner(c); err != nil {
		return nil, err
	}
	if err := g.buildUpstream(c); err != nil {
		return nil, err
	}
	routes, err := buildRoutes(g.Routes)
	if err != nil {
		return nil, err
	}
	c.routes = routes
	if err := g.checkVerifiers(c); err != nil {
		return nil, err
	}
	c.cache = g.Cache
	if c.cache == nil {
		c.cache, c.ownCache = &MemoryCache{Now: g.now}, true
	}
	return c, nil
}

// checkHTTPS requires an absolute https URL without user information or
// fragment.
func checkHTTPS(s string) error {
	if s == "" {
		return fmt.Errorf("is required")
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("must be an absolute https URL without user information or fragment")
	}
	return nil
}

func (g *Gateway) buildKeys(c *config) error {
	static := len(g.Keys) > 0 || g.JWKS != nil
	switch {
	case g.JWKSURL != "" && static:
		return cfgErr("JWKSURL", "cannot be combined with Keys or JWKS")
	case g.JWKSURL != "":
		if err := checkHTTPS(g.JWKSURL); err != nil {
			return cfgErr("JWKSURL", err.Error())
		}
		c.remote = &jose.RemoteKeySet{URL: g.JWKSURL, Client: c.client, Now: g.now}
		c.keys = c.remote
	case static:
		var set jose.StaticKeys
		for i, k := range g.Keys {
			if _, err := jose.AlgorithmFor(k.Key); err != nil {
				return cfgErr(fmt.Sprintf("Keys[%d].Key", i), "is not a supported public key")
			}
			if k.Algorithm != "" && !jose.Supported(k.Algorithm) {
				return cfgErr(fmt.Sprintf("Keys[%d].Algorithm", i), "is not a supported signature algorithm")
			}
			set = append(set, &jose.JWK{Key: k.Key, KeyID: k.KeyID, Algorithm: k.Algorithm})
		}
		if g.JWKS != nil {
			keys, err := jose.ParseJWKSet(g.JWKS)
			if err != nil {
				return cfgErr("JWKS", "is not a JWK Set of public keys")
			}
			set = append(set, keys...)
		}
		if len(set) == 0 {
			return cfgErr("JWKS", "holds no usable key")
		}
		c.keys = set
	}
	if c.mode != ModeJSON && c.keys == nil {
		return cfgErr("JWKSURL", "or Keys or JWKS is required to verify the authorization server's JWTs")
	}
	if c.mode != ModeJSON && g.Issuer == "" {
		return cfgErr("Issuer", "is required to verify the authorization server's JWTs")
	}
	c.algs = g.Algorithms
	if c.algs == nil {
		c.algs = jose.DefaultAlgorithms
	}
	if err := jose.CheckAlgorithms(c.algs); err != nil {
		return cfgErr("Algorithms", "must list supported asymmetric algorithms only")
	}
	c.algs = slices.Clone(c.algs)
	return nil
}

func (g *Gateway) buildSigner(c *config) error {
	if c.mode != ModeJSON {
		return nil
	}
	if g.Key == nil {
		return cfgErr("Key", "is required in ModeJSON: it signs the JWTs forwarded upstream")
	}
	kid := g.KeyID
	if kid == "" {
		tp, err := jose.Thumbprint(g.Key.Public())
		if err != nil {
			return cfgErr("Key", "is not a supported signing key")
		}
		kid = tp
	}
	s, err := jose.NewSigner(g.Key, jose.SignerOptions{Algorithm: g.KeyAlgorithm, Type: typAccessToken, KeyID: kid})
	if err != nil {
		if g.KeyAlgorithm != "" {
			return cfgErr("KeyAlgorithm", "is not a supported algorithm for Key")
		}
		return cfgErr("Key", "is not a supported signing key")
	}
	jwks, err := jose.MarshalJWKSet([]*jose.JWK{{Key: s.Public(), KeyID: kid, Algorithm: s.Algorithm(), Use: "sig"}})
	if err != nil {
		return cfgErr("Key", "cannot be published as a JWK")
	}
	c.signer, c.jwks = s, jwks
	switch {
	case g.TokenLifetime < 0:
		return cfgErr("TokenLifetime", "must not be negative")
	case g.TokenLifetime == 0:
		c.tokenLifetime = max(minTokenLifetime, 2*c.cacheTTL)
	case g.TokenLifetime <= c.cacheTTL:
		return cfgErr("TokenLifetime", "must exceed CacheTTL, or cached JWTs would expire before their entries")
	default:
		c.tokenLifetime = g.TokenLifetime
	}
	return nil
}

func (g *Gateway) buildUpstream(c *config) error {
	name := g.UpstreamHeader
	if name == "" {
		name = "Authorization"
	}
	if !validToken(name) {
		return cfgErr("UpstreamHeader", "is not a valid header name")
	}
	name = http.CanonicalHeaderKey(name)
	switch strings.ToLower(name) {
	case "dpop", "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
		"transfer-encoding", "upgrade", "host", "content-length", "cookie":
		return cfgErr("UpstreamHeader", "names a header that cannot carry the JWT")
	}
	c.upstream = name
	c.bearerUpstream = name == "Authorization"
	return nil
}

func (g *Gateway) checkVerifiers(c *config) error {
	if g.DPoP != nil {
		if g.DPoP.BaseURL == "" {
			return cfgErr("DPoP.BaseURL", "must be the gateway's external URL: the Host header is never believed")
		}
		c.dpopAlgs = g.DPoP.Algs()
	}
	if g.DPoP != nil && g.MTLS != nil {
		if !slices.Contains(g.DPoP.CheckedElsewhere, "x5t#S256") {
			return cfgErr("DPoP.CheckedElsewhere", `must list "x5t#S256": Gateway.MTLS checks it`)
		}
		if m := g.MTLS.CheckedElsewhere; !slices.Contains(m, "jkt") || !slices.Contains(m, "jwk") {
			return cfgErr("MTLS.CheckedElsewhere", `must list "jkt" and "jwk": Gateway.DPoP checks them`)
		}
	}
	switch {
	case g.CacheTTL < 0:
		c.cacheTTL = 0
	case g.NegativeTTL < 0:
		c.negativeTTL = 0
	}
	if g.NegativeTTL < 0 {
		c.negativeTTL = 0
	}
	return nil
}

func orDuration(v, d time.Duration) time.Duration {
	if v == 0 {
		return d
	}
	return v
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// Validate checks the configuration and, with JWKSURL, fetches the key
// set once, so that a gateway fails at start-up rather than on its first
// request. It returns the [*ConfigError] every request would meet, or the
// key set fetch error.
func (g *Gateway) Validate(ctx context.Context) error {
	c, err := g.init()
	if err != nil {
		return err
	}
	if c.remote != nil {
		if err := c.remote.Refresh(ctx); err != nil {
			return fmt.Errorf("%w: fetching the authorization server's keys: %w", ErrIntrospection, err)
		}
	}
	return nil
}

// JWKSHandler returns a handler that serves the public key of [Gateway.Key] as a
// JWK Set (RFC 7517 §5), for upstreams that verify the JWTs the gateway
// signs in ModeJSON. In the other modes, or when the configuration is
// invalid, it answers 404.
func (g *Gateway) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := g.init()
		if err != nil || c.jwks == nil {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(c.jwks)
	})
}

// marshalJSON is json.Marshal for values that cannot fail.
func marshalJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
