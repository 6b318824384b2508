package hardened

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

// Config is a FAPI 2.0 client in one value: an oauth2.Config plus the
// issuer and keys it needs, from which everything else is derived on first
// use (metadata, client authentication, request objects, DPoP, mTLS, JARM,
// ID token checks). A whole login:
//
//	conf := &hardened.Config{
//		Config: oauth2.Config{ClientID: "app", RedirectURL: "https://app.example/cb", Scopes: []string{"openid"}},
//		Issuer: "https://as.example", // metadata discovered once, on first use
//		Key:    key, KeyID: kid,      // hardened.LoadPrivateKey: private_key_jwt, request objects
//	}
//	l := hardened.NewLogin() // state, PKCE verifier, nonce: keep them in the user's session
//	u, err := conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions()...) // PAR: u has client_id, request_uri
//	// ... redirect the user to u; then, in the redirect handler:
//	code, err := conf.Callback(ctx, r, l.State)                   // iss, state, JARM, error responses
//	tok, err := conf.Exchange(ctx, code, l.ExchangeOptions()...)  // client auth, DPoP, ID token checked
//	idt, _ := hardened.IDTokenFrom(tok)                           // its verified claims
//	res, err := conf.Client(ctx, tok).Get("https://api.example/") // DPoP-bound, refreshed alike
//
// # Defaults (FAPI 2.0 Security Profile)
//
// Every authorization request is pushed (RFC 9126) and, when Key is set,
// signed as a request object (RFC 9101); the URL the user visits carries
// only client_id and request_uri. PKCE with S256 is always required, and a
// nonce with the openid scope. The authorization response is accepted only
// with the right iss (RFC 9207) and state, and as JARM when ResponseMode
// asks for it. Tokens are sender-constrained: DPoP (RFC 9449) with DPoPKey,
// or one generated per Config, unless a Certificate binds them by mutual
// TLS (RFC 8705), in which case the server's mtls_endpoint_aliases are
// used. The client authenticates with private_key_jwt when Key is set, or
// by mutual TLS. Signatures of the server are accepted with ES256, PS256
// and EdDSA only. Each weakening is a field named Insecure…, off by
// default.
//
// # One stack
//
// On first use the Config discovers the issuer's metadata (unless Metadata
// is given) and builds one *http.Client: dpop.Transport → [AuthTransport]
// (credentials for the PAR, token, introspection and revocation endpoints
// only) → a transport presenting Certificate. Pushes, token requests
// (through x/oauth2's own Exchange and refresh, with
// oauth2.AuthStyleInParams), revocation, introspection and resource calls
// all go through it. The promoted oauth2.Config methods that would bypass
// it are shadowed: [Config.AuthCodeURL], [Config.Exchange],
// [Config.TokenSource] and [Config.Client] go through the stack;
// [Config.PasswordCredentialsToken], [Config.DeviceAuth] and
// [Config.DeviceAccessToken] refuse with [ErrUnsupportedGrant].
//
// Misconfiguration is reported by the first call as a [*ConfigError];
// a failed discovery is retried by the next call. Set every field before
// the first call and do not change them afterwards; a Config is then safe
// for concurrent use. It must not be copied after first use.
type Config struct {
	// Config is the x/oauth2 configuration. ClientID is required.
	// RedirectURL is required for the authorization code flow; Scopes
	// are sent as given ("openid" makes the ID token required and
	// verified). Leave ClientSecret and Endpoint empty: the endpoints come
	// from the metadata, and credentials from Key, Certificate or
	// ClientAuth; setting either is a [*ConfigError].
	oauth2.Config

	// Issuer is the authorization server's issuer identifier (an https
	// URL). Its metadata (RFC 8414, or OpenID Connect Discovery) is
	// fetched once, on first use, and must name exactly this issuer.
	// Required, unless Metadata is set, whose Issuer it must then equal.
	Issuer string
	// Metadata, when set, is used instead of discovery: the server's
	// metadata as Discover or ParseMetadata returned it (its issuer,
	// endpoints and aliases must be https URLs, as discovery requires).
	// Nil means discover from Issuer.
	Metadata *Metadata

	// Key is the client's private key (from [LoadPrivateKey], or any
	// crypto.Signer: KMS, HSM): it signs the private_key_jwt client
	// assertions and the request objects. An ECDSA P-256, Ed25519 or RSA
	// (2048 bits or more, PS256) key. Nil means no request objects are
	// signed, and the client authenticates with Certificate or ClientAuth.
	Key crypto.Signer
	// KeyID is the "kid" of Key in the client's registered JWK Set. Empty
	// sends no kid.
	KeyID string
	// ClientAuth overrides the client authentication method. Nil means
	// private_key_jwt with Key when Key is set, else mutual TLS
	// (tls_client_auth, or self_signed_tls_client_auth when only that is
	// advertised) with Certificate. An empty ClientID (and, for
	// PrivateKeyJWT, Issuer) in it is filled in; a different one is a
	// [*ConfigError]. Secrets and "none" need InsecureClientAuth.
	ClientAuth ClientAuth
	// DPoPKey is the key DPoP proofs are signed with (RFC 9449): ECDSA
	// P-256 recommended. Nil means a P-256 key generated on first use,
	// which lives as long as the Config: DPoP-bound refresh tokens only
	// work with their key, so set it (from LoadPrivateKey) when tokens
	// outlive the process. Nil with a Certificate means no DPoP: tokens
	// are bound to the certificate instead.
	DPoPKey crypto.Signer
	// Certificate is the client's TLS certificate, presented on every
	// connection (tls.LoadX509KeyPair; its PrivateKey may be any
	// crypto.Signer). When set, the server's mtls_endpoint_aliases are
	// used (RFC 8705 §5), access tokens are certificate-bound (§3) unless
	// DPoPKey is also set, and, with neither Key nor ClientAuth, the client
	// authenticates with it (§2). Nil means no client certificate.
	Certificate *tls.Certificate
	// RootCAs are the roots that verify the servers' certificates. Nil
	// means the system roots (or those of HTTPClient's transport).
	RootCAs *x509.CertPool

	// ResponseMode is the authorization response mode: "" (the default,
	// a plain query response), "query" or "form_post", or a JARM mode
	// (signed responses: "jwt", "query.jwt", "form_post.jwt",
	// "fragment.jwt"), after which only JARM responses are accepted.
	ResponseMode string
	// EncryptRequestObject encrypts every request object to the
	// authorization server after signing it with Key (a nested JWT, RFC
	// 9101 §6.1), for servers that require or accept encrypted requests:
	// to an RSA or EC key of its jwks_uri whose use is "enc" (or absent),
	// with the key management algorithm and content encryption its
	// request_object_encryption_alg_values_supported and
	// request_object_encryption_enc_values_supported metadata name
	// (RSA-OAEP-256 or ECDH-ES, and A256GCM, when it names none). The keys
	// are read with the server's signing keys, so a login fetches the set
	// once, and a rotated key is used once the set is refetched. It needs
	// Key and a request object (not InsecureUnsignedRequest). False means
	// request objects are signed only.
	EncryptRequestObject bool
	// DecryptionKeys decrypt encrypted JARM responses; when set, every
	// response must be encrypted. They need a JARM ResponseMode. Nil means
	// responses are signed only.
	DecryptionKeys []jarm.DecryptionKey
	// TrustedAudiences are audiences besides ClientID that an ID token may
	// list (OpenID Connect Core §3.1.3.7, step 3); such a token must then
	// carry azp equal to ClientID. Nil means ClientID alone.
	TrustedAudiences []string

	// HTTPClient is the base of every request: its Transport sends them
	// (nil means the module's default, with timeouts and TLS 1.2 or later;
	// with Certificate or RootCAs it must be nil or an *http.Transport,
	// which is cloned) and its Timeout bounds each (zero means 30 s). Its
	// redirect policy is not used: no request ever follows a redirect.
	// Nil means the defaults.
	HTTPClient *http.Client
	// OnRefresh, when set, is called with every token a refresh returns,
	// before the token is used, so that a rotated refresh token can be
	// persisted. It runs on the goroutine that needed the token, while the
	// token source is locked (other requests wait for it), so it should
	// return quickly and must not ask the same token source for a token.
	// Nil means refreshed tokens are only kept in memory.
	OnRefresh func(*oauth2.Token)
	// Skew is the clock skew tolerated on the time claims of ID tokens and
	// JARM responses. Zero means 10 seconds.
	Skew time.Duration
	// Now returns the current time, for assertions, request objects,
	// proofs and every time check. Nil means time.Now.
	Now func() time.Time

	// InsecureNoPAR sends the authorization request through the browser
	// instead of pushing it: the request object by value (RFC 9101 §5.1)
	// when Key is set, else every parameter in the URL. FAPI 2.0 requires
	// PAR.
	InsecureNoPAR bool
	// InsecureUnsignedRequest pushes the authorization parameters as a
	// form even when Key is set, without a request object (for servers
	// without JAR support). The FAPI 2.0 Message Signing profile requires
	// signed requests.
	InsecureUnsignedRequest bool
	// InsecureNoSenderConstraint turns DPoP off (and, without a
	// Certificate, any binding): access and refresh tokens are bearer
	// tokens, which anyone who obtains them can use. FAPI 2.0 requires
	// sender-constrained tokens.
	InsecureNoSenderConstraint bool
	// InsecureAllowMissingIssuer accepts a plain authorization response
	// without "iss" from a server whose metadata does not advertise
	// authorization_response_iss_parameter_supported, which leaves the
	// mix-up attack of RFC 9207 open. A server that advertises it must
	// always send it.
	InsecureAllowMissingIssuer bool
	// InsecureClientAuth allows the ClientAuth methods FAPI 2.0 forbids:
	// ClientSecretBasic, ClientSecretPost and NoClientAuth.
	InsecureClientAuth bool
	// InsecureAlgorithms are signature algorithms accepted from the server
	// (ID tokens, JARM responses) besides ES256, PS256 and EdDSA, e.g.
	// "RS256" for a server that cannot sign otherwise. "none" and HS* can
	// never be listed. Nil means none.
	InsecureAlgorithms []string

	mu sync.Mutex
	st atomic.Pointer[state]
}

// fapiAlgorithms are the signature algorithms of the FAPI 2.0 Security
// Profile §5.4.
var fapiAlgorithms = []string{jose.ES256, jose.PS256, jose.EdDSA}

// defaultSkew is the skew when Config.Skew is zero.
const defaultSkew = 10 * time.Second

// responseModes are the values Config.ResponseMode accepts, and whether
// each is a JARM mode.
var responseModes = map[string]bool{
	"": false, "query": false, "form_post": false,
	jarm.ModeJWT: true, jarm.ModeQueryJWT: true, jarm.ModeFormPostJWT: true, jarm.ModeFragmentJWT: true,
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) skew() time.Duration {
	if c.Skew > 0 {
		return c.Skew
	}
	return defaultSkew
}

// serverAlgorithms is the allow-list for the server's signatures.
func (c *Config) serverAlgorithms() []string {
	algs := slices.Clone(fapiAlgorithms)
	for _, a := range c.InsecureAlgorithms {
		if !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	return algs
}

// state returns what the Config derives from its fields, building it on
// first use. A failure (a misconfiguration, a discovery that failed) is
// not kept: the next call tries again.
func (c *Config) state(ctx context.Context) (*state, error) {
	if st := c.st.Load(); st != nil {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.st.Load(); st != nil {
		return st, nil
	}
	st, err := c.build(ctx)
	if err != nil {
		return nil, err
	}
	c.st.Store(st)
	return st, nil
}

func configErr(field, reason string) error {
	return &ConfigError{Field: "Config." + field, Reason: reason}
}
