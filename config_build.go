package hardened

import (
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/dpop"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jar"
	"github.com/hardened-oauth/hardened/jarm"
	"github.com/hardened-oauth/hardened/mtlsbound"
	"github.com/hardened-oauth/hardened/par"
)

// state is everything a Config derives from its fields, built once.
type state struct {
	md      *Metadata
	mtls    bool              // a Certificate is presented
	aliases bool              // the mtls_endpoint_aliases are used (mtls, or an mTLS ClientAuth)
	plain   *http.Client      // discovery and key sets: no credentials, no proofs
	top     http.RoundTripper // dpop.Transport → AuthTransport → base
	client  *http.Client      // top, never following redirects
	timeout time.Duration
	proofer *dpop.Proofer // nil without DPoP
	oauth   oauth2.Config // the user's Config with the metadata's endpoint
	jar     *jar.Config   // nil without signed request objects
	par     *par.Config   // nil with InsecureNoPAR
	jarm    *jarm.Decoder
	keys    jose.KeyProvider // the server's jwks_uri; nil when it has none
	algs    []string         // the server's signatures
	skew    time.Duration
	secrets []string // what the client authentication sends that a server might echo (a client secret)
}

// build checks the fields, discovers the metadata and builds the stack.
func (c *Config) build(ctx context.Context) (*state, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	st := &state{mtls: c.Certificate != nil, algs: c.serverAlgorithms(), skew: c.skew()}
	base, err := c.baseTransport()
	if err != nil {
		return nil, err
	}
	st.timeout = httpx.DefaultTimeout
	if c.HTTPClient != nil && c.HTTPClient.Timeout > 0 {
		st.timeout = c.HTTPClient.Timeout
	}
	st.plain = &http.Client{Transport: base, CheckRedirect: httpx.NoRedirect, Timeout: st.timeout}

	if st.md = c.Metadata; st.md == nil {
		d := &Discovery{HTTPClient: st.plain}
		if st.md, err = d.Discover(ctx, c.Issuer); err != nil {
			return nil, err
		}
	} else if err := checkGivenMetadata(st.md); err != nil {
		return nil, err
	}
	auth, err := c.clientAuth(st.md)
	if err != nil {
		return nil, err
	}
	ep, err := st.md.OAuth2Endpoint(auth.Method(), st.mtls)
	if err != nil {
		return nil, err
	}
	st.secrets = clientSecrets(auth)
	st.aliases = st.mtls || auth.Method() == AuthMethodTLSClientAuth || auth.Method() == AuthMethodSelfSignedTLSClientAuth
	st.top = &AuthTransport{Base: base, Auth: auth, Endpoints: st.md.ClientAuthEndpoints(st.aliases)}
	if c.usesDPoP() {
		key := c.DPoPKey
		if key == nil {
			k, err := dpop.GenerateKey()
			if err != nil {
				return nil, err
			}
			key = k
		}
		if st.proofer, err = dpop.NewProofer(dpop.ProoferConfig{Key: key, Now: c.Now}); err != nil {
			return nil, &ConfigError{Field: "Config.DPoPKey", Reason: err.Error()}
		}
		// UpgradeBearer: every token this client accepts is DPoP-bound, so
		// a token restored without its type is still sent as DPoP.
		st.top = &dpop.Transport{Base: st.top, Proofer: st.proofer, UpgradeBearer: true}
	}
	// httpx.Client: no redirects, and the text of transport errors bounded.
	st.client = httpx.Client(&http.Client{Transport: st.top, Timeout: st.timeout})
	st.oauth = oauth2.Config{ClientID: c.ClientID, RedirectURL: c.RedirectURL, Scopes: c.Scopes, Endpoint: ep}

	if c.Key != nil && !c.InsecureUnsignedRequest {
		st.jar = &jar.Config{ClientID: c.ClientID, Issuer: st.md.Issuer, Key: c.Key, KeyID: c.KeyID, Now: c.Now}
	}
	if !c.InsecureNoPAR {
		u := st.md.Endpoint("pushed_authorization_request_endpoint", st.aliases)
		if u == "" {
			return nil, fmt.Errorf("%w: pushed_authorization_request_endpoint (FAPI 2.0 requires PAR)", ErrMissingEndpoint)
		}
		st.par = &par.Config{Endpoint: u, ClientID: c.ClientID, HTTPClient: st.client, Timeout: st.timeout, Now: c.Now}
	}
	if st.md.JWKSURI != "" {
		st.keys = &jose.RemoteKeySet{URL: st.md.JWKSURI, Client: st.plain, Now: c.Now}
	}
	if err := c.checkEncryptionMetadata(st); err != nil {
		return nil, err
	}
	if st.jarm, err = c.decoder(st); err != nil {
		return nil, err
	}
	return st, nil
}

// clientSecrets returns the secret a client authentication sends, for
// the redaction of server errors that echo it. Assertions need no entry:
// every JWT in an error description is redacted (oautherr.Parse).
func clientSecrets(auth ClientAuth) []string {
	switch a := auth.(type) {
	case ClientSecretBasic:
		return []string{a.ClientSecret}
	case *ClientSecretBasic:
		return []string{a.ClientSecret}
	case ClientSecretPost:
		return []string{a.ClientSecret}
	case *ClientSecretPost:
		return []string{a.ClientSecret}
	}
	return nil
}

// usesDPoP reports whether tokens are DPoP-bound: unless turned off, or
// bound to a Certificate instead.
func (c *Config) usesDPoP() bool {
	return !c.InsecureNoSenderConstraint && (c.Certificate == nil || c.DPoPKey != nil)
}

// check validates the fields that need no metadata.
func (c *Config) check() error {
	switch {
	case c.ClientID == "":
		return configErr("ClientID", "required")
	case c.ClientSecret != "":
		return configErr("ClientSecret", "must be empty: set ClientAuth (client secrets need InsecureClientAuth), Key or Certificate")
	case c.Endpoint != (oauth2.Endpoint{}):
		return configErr("Endpoint", "must be empty: the endpoints come from the issuer's metadata")
	case c.Issuer == "" && c.Metadata == nil:
		return configErr("Issuer", "required")
	case c.Metadata != nil && c.Issuer != "" && c.Metadata.Issuer != c.Issuer:
		return configErr("Metadata", "its Issuer differs from Issuer")
	case c.Skew < 0:
		return configErr("Skew", "negative")
	}
	if c.Metadata != nil && c.Issuer == "" && c.Metadata.Issuer == "" {
		return configErr("Metadata", "has no Issuer")
	}
	if c.Key != nil {
		if err := checkSigningKey(c.Key); err != nil {
			return configErr("Key", err.Error())
		}
	}
	if c.DPoPKey != nil {
		if c.InsecureNoSenderConstraint {
			return configErr("DPoPKey", "set together with InsecureNoSenderConstraint")
		}
		if err := checkSigningKey(c.DPoPKey); err != nil {
			return configErr("DPoPKey", err.Error())
		}
	}
	if err := c.checkEncryption(); err != nil {
		return err
	}
	jarmMode, ok := responseModes[c.ResponseMode]
	if !ok {
		return configErr("ResponseMode", "must be \"\", query, form_post, jwt, query.jwt, form_post.jwt or fragment.jwt")
	}
	if len(c.DecryptionKeys) > 0 && !jarmMode {
		return configErr("DecryptionKeys", "need a JARM ResponseMode")
	}
	for _, a := range c.InsecureAlgorithms {
		if !jose.Supported(a) {
			return configErr("InsecureAlgorithms", fmt.Sprintf("%s is not an asymmetric signature algorithm this module implements", quoteTrunc(a)))
		}
	}
	if slices.Contains(c.TrustedAudiences, "") {
		return configErr("TrustedAudiences", "holds an empty audience")
	}
	return nil
}

// checkSigningKey reports whether key signs with a FAPI 2.0 algorithm.
func checkSigningKey(key crypto.Signer) error {
	alg, err := jose.AlgorithmFor(key)
	if err != nil {
		return fmt.Errorf("unusable key: %w", err)
	}
	if !slices.Contains(fapiAlgorithms, alg) {
		return fmt.Errorf("its algorithm %s is not ES256, PS256 or EdDSA", alg)
	}
	return nil
}

// checkGivenMetadata applies discovery's URL rules to metadata given in
// Config.Metadata, which may have been built by hand: the issuer and every
// endpoint and alias must be https URLs, so that no credential is sent in
// the clear.
func checkGivenMetadata(md *Metadata) error {
	var d Discovery
	if err := d.checkIssuer(md.Issuer); err != nil {
		return configErr("Metadata.Issuer", err.Error())
	}
	for _, e := range md.endpointFields() {
		if *e.ptr != "" {
			if err := d.checkURL(*e.ptr); err != nil {
				return configErr("Metadata", e.name+": "+err.Error())
			}
		}
	}
	for name, u := range md.MTLSEndpointAliases {
		if err := d.checkURL(u); err != nil {
			return configErr("Metadata.MTLSEndpointAliases", quoteTrunc(name)+": "+err.Error())
		}
	}
	return nil
}

// baseTransport is the transport beneath the stack: HTTPClient's, or the
// module's default, presenting Certificate and trusting RootCAs.
func (c *Config) baseTransport() (http.RoundTripper, error) {
	var rt http.RoundTripper
	if c.HTTPClient != nil {
		rt = c.HTTPClient.Transport
	}
	if c.Certificate == nil && c.RootCAs == nil {
		return httpx.Transport(rt), nil
	}
	var t *http.Transport
	switch v := rt.(type) {
	case nil:
		t = httpx.DefaultTransport()
	case *http.Transport:
		t = v.Clone()
	default:
		return nil, configErr("HTTPClient.Transport", "must be nil or an *http.Transport when Certificate or RootCAs is set")
	}
	var tc *tls.Config
	if c.Certificate != nil {
		mc := &mtlsbound.Client{Certificate: *c.Certificate}
		var err error
		if tc, err = mc.TLSConfig(); err != nil {
			return nil, &ConfigError{Field: "Config.Certificate", Reason: err.Error()}
		}
		if t.TLSClientConfig != nil {
			tc.RootCAs = t.TLSClientConfig.RootCAs
		}
	} else if t.TLSClientConfig != nil {
		tc = t.TLSClientConfig.Clone()
	} else {
		tc = httpx.DefaultTLSConfig()
	}
	if c.RootCAs != nil {
		tc.RootCAs = c.RootCAs
	}
	t.TLSClientConfig = tc
	return t, nil
}

// clientAuth returns the client authentication method, with the client ID
// and issuer filled in.
func (c *Config) clientAuth(md *Metadata) (ClientAuth, error) {
	var a ClientAuth
	switch v := c.ClientAuth.(type) {
	case nil:
		switch {
		case c.Key != nil:
			a = PrivateKeyJWT{Key: c.Key, KeyID: c.KeyID}
		case c.Certificate != nil:
			a = TLSClientAuth{}
			if !md.SupportsAuthMethod(AuthMethodTLSClientAuth) && md.SupportsAuthMethod(AuthMethodSelfSignedTLSClientAuth) {
				a = SelfSignedTLSClientAuth{}
			}
		default:
			return nil, configErr("Key", "required: a Key (private_key_jwt), a Certificate (mutual TLS) or a ClientAuth")
		}
	case *PrivateKeyJWT:
		a = deref(v)
	case *ClientSecretBasic:
		a = deref(v)
	case *ClientSecretPost:
		a = deref(v)
	case *TLSClientAuth:
		a = deref(v)
	case *SelfSignedTLSClientAuth:
		a = deref(v)
	case *NoClientAuth:
		a = deref(v)
	default:
		a = v
	}
	if a == nil {
		return nil, configErr("ClientAuth", "nil pointer")
	}
	switch v := a.(type) {
	case PrivateKeyJWT:
		if v.Issuer == "" {
			v.Issuer = md.Issuer
		}
		if v.Now == nil {
			v.Now = c.Now
		}
		v.ClientID = orID(v.ClientID, c.ClientID)
		a = v
	case ClientSecretBasic:
		v.ClientID = orID(v.ClientID, c.ClientID)
		a = v
	case ClientSecretPost:
		v.ClientID = orID(v.ClientID, c.ClientID)
		a = v
	case NoClientAuth:
		v.ClientID = orID(v.ClientID, c.ClientID)
		a = v
	case TLSClientAuth:
		v.ClientID = orID(v.ClientID, c.ClientID)
		a = v
	case SelfSignedTLSClientAuth:
		v.ClientID = orID(v.ClientID, c.ClientID)
		a = v
	}
	switch a.Method() {
	case AuthMethodClientSecretBasic, AuthMethodClientSecretPost, AuthMethodNone:
		if !c.InsecureClientAuth {
			return nil, configErr("ClientAuth", a.Method()+" is not allowed by FAPI 2.0 (use private_key_jwt or mutual TLS, or set InsecureClientAuth)")
		}
	case AuthMethodTLSClientAuth, AuthMethodSelfSignedTLSClientAuth:
		if c.Certificate == nil {
			return nil, configErr("Certificate", "required by "+a.Method())
		}
	}
	if a.clientID() != c.ClientID {
		return nil, configErr("ClientAuth", "its ClientID differs from ClientID")
	}
	if p, ok := a.(PrivateKeyJWT); ok && p.Issuer != md.Issuer {
		return nil, configErr("ClientAuth", "its Issuer differs from the issuer")
	}
	return a, nil
}

func deref[T any](p *T) ClientAuth {
	if p == nil {
		return nil
	}
	if a, ok := any(*p).(ClientAuth); ok {
		return a
	}
	return nil
}

func orID(id, def string) string {
	if id == "" {
		return def
	}
	return id
}

// decoder builds the authorization response decoder.
func (c *Config) decoder(st *state) (*jarm.Decoder, error) {
	cfg := jarm.Config{
		Issuer:   st.md.Issuer,
		ClientID: c.ClientID,
		AuthorizationResponseIssParameterSupported: st.md.AuthorizationResponseIssParameterSupported || !c.InsecureAllowMissingIssuer,
		Skew: st.skew,
		Now:  c.Now,
	}
	if responseModes[c.ResponseMode] {
		if st.md.JWKSURI == "" {
			return nil, fmt.Errorf("%w: jwks_uri (a JARM ResponseMode needs the server's keys)", ErrMissingEndpoint)
		}
		if ks, ok := st.keys.(*jose.RemoteKeySet); ok {
			// One fetch of the server's keys for JARM and ID tokens alike.
			cfg.KeySource = &serverKeys{keys: ks}
		} else {
			cfg.JWKSURL, cfg.HTTPClient = st.md.JWKSURI, st.plain
		}
		cfg.AuthorizationSigningAlgValuesSupported = st.md.AuthorizationSigningAlgValuesSupported
		if len(c.InsecureAlgorithms) > 0 {
			cfg.Algorithms = st.algs
		}
		cfg.DecryptionKeys = c.DecryptionKeys
	}
	d, err := jarm.NewDecoder(cfg)
	if err != nil {
		field := "ResponseMode"
		if je := (*jarm.ConfigError)(nil); errors.As(err, &je) && strings.HasPrefix(je.Field, "DecryptionKeys") {
			field = je.Field
		}
		return nil, configErr(field, err.Error())
	}
	return d, nil
}
