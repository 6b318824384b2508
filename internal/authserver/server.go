package authserver

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Server is the authorization server. It is an http.Handler; it is safe for
// concurrent use.
type Server struct {
	cfg    Config
	issuer string
	base   string // URL the endpoints are served under, without trailing "/"
	prefix string // path of base
	tls    bool
	pki    *PKI

	clients   map[string]*client
	clientCAs *x509.CertPool
	anyPublic bool

	kid         string
	sigAlg      string
	jarmSigner  *jose.Signer
	idSigner    *jose.Signer
	rs256Signer *jose.Signer // Misbehave.IDTokenRS256 only
	atSigner    *jose.Signer
	introSigner *jose.Signer
	rawSigner   crypto.Signer
	stranger    crypto.Signer
	jwks        []byte
	decKeys     []jose.DecryptionKey
	encAlgs     []string
	dpopAlgs    []string
	asNonceKey  []byte
	rsNonceKey  []byte

	mu     sync.Mutex
	pushed *store[*authRequest]
	codes  *store[*codeRecord]
	tokens *store[*tokenRecord]
	seen   *store[struct{}]

	httpSrv   *http.Server
	url       string
	closeOnce sync.Once
}

// client is a registered client with its keys and sets precomputed.
type client struct {
	Client
	keys      []*jose.JWK
	certs     [][]byte // DER of registered self-signed certificates
	grants    map[string]bool
	redirects map[string]bool
}

// New returns a Server for cfg that serves under cfg.Issuer, which is
// required: mount the Server at that URL. Use [Start] or [StartTLS] to run
// it on a loopback listener instead.
func New(cfg Config) (*Server, error) {
	if cfg.Issuer == "" {
		return nil, fmt.Errorf("%w: Issuer is required", ErrConfig)
	}
	u, err := parseIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	return newServer(cfg, cfg.Issuer, strings.TrimSuffix(cfg.Issuer, "/"), u.Scheme == "https")
}

// Start runs a Server for cfg over plain HTTP on 127.0.0.1 with a random
// port. Close it when done.
func Start(cfg Config) (*Server, error) {
	return start(cfg, false)
}

// StartTLS runs a Server for cfg over HTTPS on 127.0.0.1 with a random port.
// Its certificate is issued by cfg.PKI (a new [PKI] when nil); the listener
// requests, but does not require, client certificates (tls.RequestClientCert)
// and verifies them itself for the mTLS methods. Close it when done.
func StartTLS(cfg Config) (*Server, error) {
	return start(cfg, true)
}

func start(cfg Config, useTLS bool) (*Server, error) {
	if cfg.Issuer != "" {
		if _, err := parseIssuer(cfg.Issuer); err != nil {
			return nil, err
		}
	}
	var tlsCfg *tls.Config
	if useTLS {
		if cfg.PKI == nil {
			p, err := NewPKI()
			if err != nil {
				return nil, err
			}
			cfg.PKI = p
		}
		cert, err := cfg.PKI.IssueServerCertificate()
		if err != nil {
			return nil, err
		}
		tlsCfg = &tls.Config{
			Certificates: []tls.Certificate{cert},
			ClientAuth:   tls.RequestClientCert,
			MinVersion:   tls.VersionTLS12,
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	base := "http://" + ln.Addr().String()
	if useTLS {
		base = "https://" + ln.Addr().String()
	}
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = base
	}
	s, err := newServer(cfg, issuer, base, useTLS)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	s.url = base
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       60 * time.Second,
		TLSConfig:         tlsCfg,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	if useTLS {
		go func() { _ = s.httpSrv.ServeTLS(ln, "", "") }()
	} else {
		go func() { _ = s.httpSrv.Serve(ln) }()
	}
	return s, nil
}

func parseIssuer(issuer string) (*url.URL, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%w: Issuer must be an http(s) URL without query or fragment", ErrConfig)
	}
	return u, nil
}

func newServer(cfg Config, issuer, base string, useTLS bool) (*Server, error) {
	bu, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("%w: base URL", ErrConfig)
	}
	max := cfg.MaxEntries
	if max <= 0 {
		max = defaultMaxEntries
	}
	s := &Server{
		cfg:    cfg,
		issuer: issuer,
		base:   base,
		prefix: strings.TrimSuffix(bu.EscapedPath(), "/"),
		tls:    useTLS,
		pki:    cfg.PKI,
		pushed: newStore[*authRequest](max),
		codes:  newStore[*codeRecord](max),
		tokens: newStore[*tokenRecord](max),
		seen:   newStore[struct{}](max),
	}
	if cfg.Subject == "" {
		s.cfg.Subject = defaultSubject
	}
	s.clientCAs = cfg.ClientCAs
	if s.clientCAs == nil && cfg.PKI != nil {
		s.clientCAs = cfg.PKI.Roots()
	}
	s.dpopAlgs = cfg.DPoPAlgorithms
	if s.dpopAlgs == nil {
		s.dpopAlgs = slices.Clone(jose.DefaultAlgorithms)
	}
	if err := jose.CheckAlgorithms(s.dpopAlgs); err != nil {
		return nil, fmt.Errorf("%w: DPoPAlgorithms: %w", ErrConfig, err)
	}
	if err := s.setupKeys(); err != nil {
		return nil, err
	}
	if len(cfg.Clients) == 0 {
		return nil, fmt.Errorf("%w: no clients", ErrConfig)
	}
	s.clients = make(map[string]*client, len(cfg.Clients))
	for i := range cfg.Clients {
		c, err := newClient(cfg.Clients[i])
		if err != nil {
			return nil, err
		}
		if _, dup := s.clients[c.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate client %q", ErrConfig, c.ID)
		}
		if c.AuthMethod == AuthNone {
			s.anyPublic = true
		}
		s.clients[c.ID] = c
	}
	return s, nil
}

func (s *Server) setupKeys() error {
	signer := s.cfg.SigningKey
	if signer == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fmt.Errorf("%w: signing key: %w", ErrStart, err)
		}
		signer = k
	}
	alg, err := jose.AlgorithmFor(signer.Public())
	if err != nil {
		return fmt.Errorf("%w: SigningKey: %w", ErrConfig, err)
	}
	kid, err := jose.Thumbprint(signer.Public())
	if err != nil {
		return fmt.Errorf("%w: SigningKey: %w", ErrConfig, err)
	}
	s.kid, s.sigAlg, s.rawSigner = kid, alg, signer
	if s.jarmSigner, err = jose.NewSigner(signer, jose.SignerOptions{Algorithm: alg, KeyID: kid}); err != nil {
		return fmt.Errorf("%w: SigningKey: %w", ErrConfig, err)
	}
	if s.idSigner, err = jose.NewSigner(signer, jose.SignerOptions{Algorithm: alg, KeyID: kid}); err != nil {
		return fmt.Errorf("%w: SigningKey: %w", ErrConfig, err)
	}
	if s.atSigner, err = jose.NewSigner(signer, jose.SignerOptions{Algorithm: alg, KeyID: kid, Type: typAccessToken}); err != nil {
		return fmt.Errorf("%w: SigningKey: %w", ErrConfig, err)
	}
	if s.introSigner, err = jose.NewSigner(signer, jose.SignerOptions{Algorithm: alg, KeyID: kid, Type: typIntrospection}); err != nil {
		return fmt.Errorf("%w: SigningKey: %w", ErrConfig, err)
	}
	// The stranger key of the Misbehave switches: same algorithm family,
	// same kid, not in the JWK Set. ECDSA keys are cheap to make.
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("%w: key: %w", ErrStart, err)
	}
	s.stranger = stranger

	sigJWK := &jose.JWK{Key: signer.Public(), KeyID: kid, Algorithm: alg, Use: "sig"}
	keys := []*jose.JWK{sigJWK}
	if s.cfg.Misbehave.IDTokenRS256 {
		// A published RSA key, so that an RS256 ID token verifies and only
		// its algorithm is wrong.
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return fmt.Errorf("%w: RSA key: %w", ErrStart, err)
		}
		rkid, err := jose.Thumbprint(rk.Public())
		if err != nil {
			return fmt.Errorf("%w: RSA key: %w", ErrStart, err)
		}
		if s.rs256Signer, err = jose.NewSigner(rk, jose.SignerOptions{Algorithm: jose.RS256, KeyID: rkid}); err != nil {
			return fmt.Errorf("%w: RSA key: %w", ErrStart, err)
		}
		keys = append(keys, &jose.JWK{Key: rk.Public(), KeyID: rkid, Algorithm: jose.RS256, Use: "sig"})
	}
	decKeys := s.cfg.RequestObjectKeys
	if len(decKeys) == 0 {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return fmt.Errorf("%w: encryption key: %w", ErrStart, err)
		}
		decKeys = []crypto.PrivateKey{k}
	}
	for _, dk := range decKeys {
		var pub crypto.PublicKey
		var encAlg string
		switch k := dk.(type) {
		case *ecdsa.PrivateKey:
			pub, encAlg = k.Public(), jose.ECDHES
		case *rsa.PrivateKey:
			pub, encAlg = k.Public(), jose.RSAOAEP256
		default:
			return fmt.Errorf("%w: RequestObjectKeys: %T is not *ecdsa.PrivateKey or *rsa.PrivateKey", ErrConfig, dk)
		}
		ekid, err := jose.Thumbprint(pub)
		if err != nil {
			return fmt.Errorf("%w: RequestObjectKeys: %w", ErrConfig, err)
		}
		keys = append(keys, &jose.JWK{Key: pub, KeyID: ekid, Algorithm: encAlg, Use: "enc"})
		s.decKeys = append(s.decKeys, jose.DecryptionKey{KeyID: ekid, Key: dk})
		if !slices.Contains(s.encAlgs, encAlg) {
			s.encAlgs = append(s.encAlgs, encAlg)
		}
	}
	if s.jwks, err = jose.MarshalJWKSet(keys); err != nil {
		return fmt.Errorf("%w: JWK Set: %w", ErrConfig, err)
	}
	s.asNonceKey, s.rsNonceKey = make([]byte, 32), make([]byte, 32)
	if _, err := rand.Read(s.asNonceKey); err != nil {
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	if _, err := rand.Read(s.rsNonceKey); err != nil {
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	return nil
}

func newClient(c Client) (*client, error) {
	bad := func(msg string) error { return fmt.Errorf("%w: client %q: %s", ErrConfig, c.ID, msg) }
	if c.ID == "" {
		return nil, fmt.Errorf("%w: client without ID", ErrConfig)
	}
	out := &client{Client: c, grants: map[string]bool{}, redirects: map[string]bool{}}
	for _, k := range c.Keys {
		j, err := jose.NewJWK(k)
		if err != nil {
			return nil, bad("unsupported key in Keys")
		}
		out.keys = append(out.keys, j)
	}
	if len(c.JWKS) > 0 {
		keys, err := jose.ParseJWKSet(c.JWKS)
		if err != nil {
			return nil, bad("invalid JWKS")
		}
		out.keys = append(out.keys, keys...)
		certs, err := x5cLeaves(c.JWKS)
		if err != nil {
			return nil, bad("invalid x5c in JWKS")
		}
		out.certs = append(out.certs, certs...)
	}
	for _, cert := range c.Certificates {
		if cert == nil {
			return nil, bad("nil certificate")
		}
		out.certs = append(out.certs, cert.Raw)
	}
	switch c.AuthMethod {
	case AuthPrivateKeyJWT:
		if len(out.keys) == 0 {
			return nil, bad("private_key_jwt needs Keys or JWKS")
		}
	case AuthClientSecretBasic, AuthClientSecretPost:
		if c.Secret == "" {
			return nil, bad("secret methods need Secret")
		}
	case AuthTLSClient:
		if c.TLSSubjectDN == "" {
			return nil, bad("tls_client_auth needs TLSSubjectDN")
		}
	case AuthSelfSignedTLSClient:
		if len(out.certs) == 0 {
			return nil, bad("self_signed_tls_client_auth needs Certificates or x5c in JWKS")
		}
	case AuthNone:
	default:
		return nil, bad("unknown AuthMethod")
	}
	if c.RequireSignedRequestObject || c.RequireEncryptedRequestObject {
		if len(out.keys) == 0 {
			return nil, bad("request objects need Keys or JWKS")
		}
	}
	grants := c.GrantTypes
	if grants == nil {
		grants = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	for _, g := range grants {
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken:
		case GrantClientCredentials:
			if c.AuthMethod == AuthNone {
				return nil, bad("a public client cannot use client_credentials")
			}
		default:
			return nil, bad("unknown grant type")
		}
		out.grants[g] = true
	}
	for _, ru := range c.RedirectURIs {
		u, err := url.Parse(ru)
		if err != nil || !u.IsAbs() || u.Fragment != "" {
			return nil, bad("redirect URIs must be absolute and without fragment")
		}
		out.redirects[ru] = true
	}
	if out.grants[GrantAuthorizationCode] && len(out.redirects) == 0 {
		return nil, bad("authorization_code needs RedirectURIs")
	}
	switch c.JARMEncryptionKey.(type) {
	case nil, *rsa.PublicKey, *ecdsa.PublicKey:
	default:
		return nil, bad("JARMEncryptionKey must be *rsa.PublicKey or *ecdsa.PublicKey")
	}
	for _, sc := range c.Scopes {
		if sc == "" || strings.Contains(sc, " ") || !validScope(sc) {
			return nil, bad("Scopes must be scope tokens (RFC 6749 §3.3)")
		}
	}
	for _, r := range c.Resources {
		if !wellFormedResource(r) {
			return nil, bad("Resources must be absolute URIs without fragment")
		}
	}
	for _, t := range c.AuthorizationDetailsTypes {
		if t == "" || len(t) > maxDetailsTypeLen {
			return nil, bad("AuthorizationDetailsTypes must be non-empty strings")
		}
	}
	for _, a := range c.IDTokenAudiences {
		if a == "" || a == c.ID {
			return nil, bad("IDTokenAudiences must be non-empty and other than the client_id")
		}
	}
	return out, nil
}

// x5cLeaves returns the DER of the first x5c certificate of each key.
func x5cLeaves(jwks []byte) ([][]byte, error) {
	var set struct {
		Keys []struct {
			X5c []string `json:"x5c"`
		} `json:"keys"`
	}
	if err := strictjson.UnmarshalStrict(jwks, &set); err != nil {
		return nil, err
	}
	var out [][]byte
	for _, k := range set.Keys {
		if len(k.X5c) == 0 {
			continue
		}
		der, err := base64.StdEncoding.DecodeString(k.X5c[0])
		if err != nil {
			return nil, err
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, err
		}
		out = append(out, der)
	}
	return out, nil
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

func (s *Server) skew() time.Duration { return orDuration(s.cfg.Skew, defaultSkew) }

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.issuer }

// URL returns the base URL of the endpoints: the listener's URL for a
// started server, the issuer for one made by [New].
func (s *Server) URL() string { return s.base }

// PKI returns the PKI of the server's TLS certificate, or nil.
func (s *Server) PKI() *PKI { return s.pki }

// KeyID returns the kid of the server's signing key.
func (s *Server) KeyID() string { return s.kid }

// PublicKey returns the public half of the server's signing key, which
// verifies JARM responses, JWT access tokens and JWT introspection
// responses.
func (s *Server) PublicKey() crypto.PublicKey { return s.rawSigner.Public() }

// Endpoints are the server's endpoint URLs.
type Endpoints struct {
	// Authorization is the authorization endpoint.
	Authorization string
	// PAR is the pushed authorization request endpoint.
	PAR string
	// Token is the token endpoint.
	Token string
	// Introspection is the introspection endpoint.
	Introspection string
	// Revocation is the revocation endpoint.
	Revocation string
	// Userinfo is the protected resource that checks token binding.
	Userinfo string
	// JWKS is the JWK Set.
	JWKS string
}

// Endpoints returns the endpoint URLs.
func (s *Server) Endpoints() Endpoints {
	return Endpoints{
		Authorization: s.base + "/authorize",
		PAR:           s.base + "/par",
		Token:         s.base + "/token",
		Introspection: s.base + "/introspect",
		Revocation:    s.base + "/revoke",
		Userinfo:      s.base + "/userinfo",
		JWKS:          s.base + "/jwks",
	}
}

// MTLSEndpoints returns the mtls_endpoint_aliases (RFC 8705 §5): the same
// endpoints under /mtls/. They exist on every server; discovery lists them
// only when the server runs over TLS.
func (s *Server) MTLSEndpoints() Endpoints {
	return Endpoints{
		Authorization: s.base + "/authorize",
		PAR:           s.base + "/mtls/par",
		Token:         s.base + "/mtls/token",
		Introspection: s.base + "/mtls/introspect",
		Revocation:    s.base + "/mtls/revoke",
		Userinfo:      s.base + "/mtls/userinfo",
		JWKS:          s.base + "/jwks",
	}
}

// HTTPClient returns a new client for the server: it trusts the server's
// PKI (when there is one), has timeouts, and does not follow redirects.
func (s *Server) HTTPClient() *http.Client { return s.httpClient(nil) }

// HTTPClientWithCertificate returns [Server.HTTPClient] presenting cert as
// its TLS client certificate.
func (s *Server) HTTPClientWithCertificate(cert tls.Certificate) *http.Client {
	return s.httpClient(&cert)
}

func (s *Server) httpClient(cert *tls.Certificate) *http.Client {
	tr := httpx.DefaultTransport()
	tr.Proxy = nil
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.pki != nil {
		tc.RootCAs = s.pki.Roots()
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	tr.TLSClientConfig = tc
	return &http.Client{Transport: tr, Timeout: httpx.DefaultTimeout, CheckRedirect: httpx.NoRedirect}
}

// Close stops a started server and closes its connections. It is a no-op
// for a server made by [New].
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.httpSrv != nil {
			_ = s.httpSrv.Close()
		}
	})
}

// ServeHTTP routes a request to its endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	switch {
	case p == "/.well-known/oauth-authorization-server"+s.prefix ||
		p == s.prefix+"/.well-known/openid-configuration":
		s.handleDiscovery(w, r)
	case p == s.prefix+"/jwks":
		s.handleJWKS(w, r)
	case p == s.prefix+"/authorize":
		s.handleAuthorize(w, r)
	case p == s.prefix+"/par" || p == s.prefix+"/mtls/par":
		s.handlePAR(w, r)
	case p == s.prefix+"/token" || p == s.prefix+"/mtls/token":
		s.handleToken(w, r)
	case p == s.prefix+"/introspect" || p == s.prefix+"/mtls/introspect":
		s.handleIntrospect(w, r)
	case p == s.prefix+"/revoke" || p == s.prefix+"/mtls/revoke":
		s.handleRevoke(w, r)
	case p == s.prefix+"/userinfo" || p == s.prefix+"/mtls/userinfo":
		s.handleUserinfo(w, r)
	default:
		writeError(w, oerr(codeInvalidRequest, http.StatusNotFound, "no such endpoint"))
	}
}

// writeJSON sends v with the no-store headers of RFC 6749 §5.1.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *oautherr.Error) {
	w.Header().Set("Pragma", "no-cache")
	oautherr.Write(w, e)
}

// methodAllowed answers 405 unless r uses one of methods.
func methodAllowed(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, oerr(codeInvalidRequest, http.StatusMethodNotAllowed, "method not allowed"))
	return false
}

// readForm reads an application/x-www-form-urlencoded POST body, bounded,
// and rejects repeated parameters (RFC 6749 §3.1, §3.2) except those named
// in repeatable.
func readForm(r *http.Request, repeatable ...string) (url.Values, *oautherr.Error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded") {
		return nil, invalidRequest("content type must be application/x-www-form-urlencoded")
	}
	body, err := httpx.ReadBody(r.Body, maxFormBytes)
	if err != nil {
		if errors.Is(err, httpx.ErrBodyTooLarge) {
			return nil, oerr(codeInvalidRequest, http.StatusRequestEntityTooLarge, "request body too large")
		}
		return nil, invalidRequest("cannot read request body")
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalidRequest("malformed form body")
	}
	if err := noRepeats(vals, repeatable...); err != nil {
		return nil, err
	}
	return vals, nil
}

// clientForm reads the form body of a request to a client-authenticated
// endpoint (PAR, token, introspection, revocation) and authenticates the
// client. Parameters in repeatable may appear more than once.
func (s *Server) clientForm(r *http.Request, repeatable ...string) (url.Values, *client, *oautherr.Error) {
	form, e := readForm(r, repeatable...)
	if e != nil {
		return nil, nil, e
	}
	c, e := s.authenticateClient(r, form)
	if e != nil {
		return nil, nil, e
	}
	return form, c, nil
}

// noRepeats rejects a parameter that appears more than once, unless it is
// in repeatable.
func noRepeats(vals url.Values, repeatable ...string) *oautherr.Error {
	for k, v := range vals {
		if len(v) > 1 && !slices.Contains(repeatable, k) {
			return invalidRequest("repeated parameter")
		}
	}
	return nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// KeysFor implements jose.KeyProvider over the client's registered keys. A
// key registered with a kid matches only a JWS naming that kid (or none); a
// key registered without one (Client.Keys) matches whatever kid the JWS
// names, since the client cannot know a kid it never registered.
func (c *client) KeysFor(_ context.Context, h *jose.Header) ([]*jose.JWK, error) {
	anyKid := *h
	anyKid.Kid = ""
	var out []*jose.JWK
	for _, k := range c.keys {
		if k.KeyID != "" && h.Kid != "" && k.KeyID != h.Kid {
			continue
		}
		out = append(out, jose.Match([]*jose.JWK{k}, &anyKid)...)
	}
	return out, nil
}
