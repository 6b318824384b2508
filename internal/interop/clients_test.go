package interop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/jose"
)

// Clients registered at every peer, by the letters of the interop plan.
const (
	clientFAPI       = "fapi-signed"      // (a) private_key_jwt, PAR, signed request object, JARM signed, DPoP
	clientFAPIEnc    = "fapi-encrypted"   // (b) as (a), JARM signed then encrypted, encrypted request objects accepted
	clientSelfSigned = "mtls-self-signed" // (c) self_signed_tls_client_auth, client_credentials, bound tokens
	clientPKI        = "mtls-pki"         // (d) tls_client_auth by subject DN from the test CA
	clientRS         = "resource-server"  // (e) client_secret_basic, may introspect (JSON and JWT)

	// Clients of the hardened.Config flows (wrapper_test.go).
	clientCodeSelfSigned = "code-mtls-self-signed" // (f) auth code, signed request objects, self_signed_tls_client_auth, certificate-bound tokens
	clientCodePKI        = "code-mtls-pki"         // (g) as (f) with tls_client_auth
	clientCCDPoP         = "cc-dpop"               // (h) client_credentials, private_key_jwt, DPoP-bound tokens
	clientCCUnbound      = "cc-unbound"            // (i) client_credentials, private_key_jwt, unbound (bearer) tokens
	clientCodeCertBound  = "code-pkjwt-mtls"       // (j) auth code, private_key_jwt, certificate-bound tokens (examples/fapi2 -cert)

	// redirectURI is never dereferenced: the authorize helper stops there.
	redirectURI = "https://client.interop.test/cb"

	// Resource indicators (RFC 8707): one gets at+jwt access tokens
	// (RFC 9068), the other opaque ones.
	resourceJWT    = "https://rs.interop.test/jwt"
	resourceOpaque = "https://rs.interop.test/opaque"
)

// fapiClient is a FAPI 2.0 client; the Go side keeps its private keys.
type fapiClient struct {
	id     string
	key    *ecdsa.PrivateKey // ES256 signing key: client assertions, request objects
	kid    string
	encKey *ecdsa.PrivateKey // ECDH-ES key for encrypted JARM; nil if not encrypted
	encKID string
}

// privateKeyJWT is the client's authentication at the peer whose issuer
// is iss (FAPI 2.0: the assertion's audience is the issuer).
func (c *fapiClient) privateKeyJWT(iss string) hardened.PrivateKeyJWT {
	return hardened.PrivateKeyJWT{ClientID: c.id, Key: c.key, KeyID: c.kid, Issuer: iss}
}

// mtlsClient authenticates with a TLS client certificate (RFC 8705 §2).
type mtlsClient struct {
	id   string
	cert tls.Certificate
	// auth is hardened.TLSClientAuth or hardened.SelfSignedTLSClientAuth.
	auth hardened.ClientAuth
}

// codeMTLSClient is an authorization code client that signs its request
// objects with a key and authenticates with a TLS client certificate (or,
// when mtls.auth is nil, with private_key_jwt), to which its tokens are
// bound (RFC 8705 §2, §3).
type codeMTLSClient struct {
	*fapiClient
	mtls *mtlsClient
}

// secretClient authenticates with client_secret_basic.
type secretClient struct {
	id, secret string
}

// testEnv is everything TestMain sets up, shared by all tests.
type testEnv struct {
	dir string
	pki *testPKI
	// plain is the shared transport of requests without a client
	// certificate (see transport).
	plain *http.Transport

	fapi, fapiEnc   *fapiClient
	selfSigned, ca  *mtlsClient
	resourceServer  *secretClient
	codeSelfSigned  *codeMTLSClient
	codePKI         *codeMTLSClient
	ccDPoP          *fapiClient
	ccUnbound       *fapiClient
	codeCertBound   *codeMTLSClient // authenticates with private_key_jwt; the certificate binds the tokens
	resourceServers map[string]resourceServer
	providerKeys    []providerKey

	peers map[string]*peer // by nonce mode
}

func newTestEnv(dir string) (*testEnv, error) {
	p, err := newTestPKI(dir)
	if err != nil {
		return nil, fmt.Errorf("test PKI: %w", err)
	}
	e := &testEnv{
		dir:   dir,
		pki:   p,
		plain: newTransport(p, nil),
		peers: map[string]*peer{},
		resourceServers: map[string]resourceServer{
			resourceJWT:    {Scope: "read write", AccessTokenFormat: "jwt"},
			resourceOpaque: {Scope: "read write", AccessTokenFormat: "opaque"},
		},
	}
	if e.fapi, err = newFAPIClient(clientFAPI, false); err != nil {
		return nil, err
	}
	if e.fapiEnc, err = newFAPIClient(clientFAPIEnc, true); err != nil {
		return nil, err
	}
	ss, err := selfSignedClientCert(pkix.Name{CommonName: clientSelfSigned, Organization: []string{"hardened interop"}})
	if err != nil {
		return nil, err
	}
	e.selfSigned = &mtlsClient{id: clientSelfSigned, cert: ss, auth: hardened.SelfSignedTLSClientAuth{ClientID: clientSelfSigned}}
	issued, err := p.issueClientCert(pkix.Name{CommonName: clientPKI, Organization: []string{"hardened interop"}})
	if err != nil {
		return nil, err
	}
	e.ca = &mtlsClient{id: clientPKI, cert: issued, auth: hardened.TLSClientAuth{ClientID: clientPKI}}
	if e.codeSelfSigned, e.codePKI, err = newCodeMTLSClients(p); err != nil {
		return nil, err
	}
	if e.ccDPoP, err = newFAPIClient(clientCCDPoP, false); err != nil {
		return nil, err
	}
	if e.ccUnbound, err = newFAPIClient(clientCCUnbound, false); err != nil {
		return nil, err
	}
	e.codeCertBound = &codeMTLSClient{}
	if e.codeCertBound.fapiClient, err = newFAPIClient(clientCodeCertBound, false); err != nil {
		return nil, err
	}
	certBound, err := p.issueClientCert(pkix.Name{CommonName: clientCodeCertBound, Organization: []string{"hardened interop"}})
	if err != nil {
		return nil, err
	}
	e.codeCertBound.mtls = &mtlsClient{id: clientCodeCertBound, cert: certBound}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	// The secret ends in characters that RFC 6749 §2.3.1's form encoding
	// changes (" +%:&="), and the peer checks that encoding in the Basic
	// header: a client that skipped it would not authenticate.
	e.resourceServer = &secretClient{id: clientRS, secret: base64.RawURLEncoding.EncodeToString(secret) + " +%:&="}
	if e.providerKeys, err = newProviderKeys(dir); err != nil {
		return nil, fmt.Errorf("provider keys: %w", err)
	}
	return e, nil
}

// newProviderKeys writes the peers' keys: ES256 and RSA signing keys (JARM,
// JWT introspection, at+jwt, ID tokens), ECDH-ES and RSA-OAEP-256 keys for
// the request objects clients encrypt to the peer.
func newProviderKeys(dir string) ([]providerKey, error) {
	keys := []struct {
		providerKey
		rsa bool
	}{
		{providerKey: providerKey{Kid: "sig-es256", Use: "sig", Alg: jose.ES256}},
		{providerKey: providerKey{Kid: "sig-rsa", Use: "sig"}, rsa: true}, // PS256 and RS256
		{providerKey: providerKey{Kid: "enc-ecdh", Use: "enc", Alg: jose.ECDHES}},
		{providerKey: providerKey{Kid: "enc-rsa", Use: "enc", Alg: jose.RSAOAEP256}, rsa: true},
	}
	out := make([]providerKey, 0, len(keys))
	for _, k := range keys {
		var (
			priv any
			err  error
		)
		if k.rsa {
			priv, err = rsa.GenerateKey(rand.Reader, 2048)
		} else {
			priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		}
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return nil, err
		}
		k.Path = filepath.Join(dir, "provider-"+k.Kid+".pem")
		if err := writePEM(k.Path, "PRIVATE KEY", der); err != nil {
			return nil, err
		}
		out = append(out, k.providerKey)
	}
	return out, nil
}

func newFAPIClient(id string, encrypted bool) (*fapiClient, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	c := &fapiClient{id: id, key: key, kid: id + "-sig"}
	if encrypted {
		if c.encKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
		c.encKID = id + "-enc"
	}
	return c, nil
}

// newCodeMTLSClients returns the authorization code clients that
// authenticate with a self-signed certificate and with one the test CA
// issued.
func newCodeMTLSClients(p *testPKI) (selfSigned, pki *codeMTLSClient, err error) {
	subject := func(cn string) pkix.Name {
		return pkix.Name{CommonName: cn, Organization: []string{"hardened interop"}}
	}
	ss, err := selfSignedClientCert(subject(clientCodeSelfSigned))
	if err != nil {
		return nil, nil, err
	}
	issued, err := p.issueClientCert(subject(clientCodePKI))
	if err != nil {
		return nil, nil, err
	}
	selfSigned = &codeMTLSClient{mtls: &mtlsClient{id: clientCodeSelfSigned, cert: ss, auth: hardened.SelfSignedTLSClientAuth{ClientID: clientCodeSelfSigned}}}
	pki = &codeMTLSClient{mtls: &mtlsClient{id: clientCodePKI, cert: issued, auth: hardened.TLSClientAuth{ClientID: clientCodePKI}}}
	if selfSigned.fapiClient, err = newFAPIClient(clientCodeSelfSigned, false); err != nil {
		return nil, nil, err
	}
	if pki.fapiClient, err = newFAPIClient(clientCodePKI, false); err != nil {
		return nil, nil, err
	}
	return selfSigned, pki, nil
}

// metadata returns the registration of an authorization code client that
// authenticates by mutual TLS: its request object key, and, for
// self_signed_tls_client_auth, its certificate in x5c; certificate-bound
// tokens instead of DPoP.
func (c *codeMTLSClient) metadata() (map[string]any, error) {
	m, err := c.fapiClient.metadata()
	if err != nil {
		return nil, err
	}
	delete(m, "dpop_bound_access_tokens")
	delete(m, "token_endpoint_auth_signing_alg")
	m["tls_client_certificate_bound_access_tokens"] = true
	if c.mtls.auth == nil {
		// private_key_jwt; the certificate only binds the tokens.
		m["token_endpoint_auth_signing_alg"] = jose.ES256
		return m, nil
	}
	m["token_endpoint_auth_method"] = c.mtls.auth.Method()
	switch c.mtls.auth.Method() {
	case hardened.AuthMethodSelfSignedTLSClientAuth:
		certJWK, err := publicJWK(c.mtls.cert.Leaf.PublicKey, c.id+"-tls", "", "")
		if err != nil {
			return nil, err
		}
		certJWK["x5c"] = []string{base64.StdEncoding.EncodeToString(c.mtls.cert.Leaf.Raw)}
		keys := m["jwks"].(map[string]any)["keys"].([]any)
		m["jwks"] = map[string]any{"keys": append(keys, certJWK)}
	case hardened.AuthMethodTLSClientAuth:
		m["tls_client_auth_subject_dn"] = c.mtls.cert.Leaf.Subject.String()
	}
	return m, nil
}

// ccMetadata is the registration of a client_credentials client that
// authenticates with private_key_jwt and gets DPoP-bound tokens, or,
// without bound, bearer tokens.
func (c *fapiClient) ccMetadata(bound bool) (map[string]any, error) {
	sig, err := publicJWK(c.key, c.kid, jose.ES256, "sig")
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"client_id":                       c.id,
		"token_endpoint_auth_method":      "private_key_jwt",
		"token_endpoint_auth_signing_alg": jose.ES256,
		"grant_types":                     []string{"client_credentials"},
		"response_types":                  []string{},
		"redirect_uris":                   []string{},
		"dpop_bound_access_tokens":        bound,
		"jwks":                            map[string]any{"keys": []any{sig}},
	}, nil
}

// metadata returns the client's registration (RFC 7591 names), as the peer
// loads it statically.
func (c *fapiClient) metadata() (map[string]any, error) {
	sig, err := publicJWK(c.key, c.kid, jose.ES256, "sig")
	if err != nil {
		return nil, err
	}
	keys := []any{sig}
	m := map[string]any{
		"client_id":                             c.id,
		"token_endpoint_auth_method":            "private_key_jwt",
		"token_endpoint_auth_signing_alg":       jose.ES256,
		"redirect_uris":                         []string{redirectURI},
		"grant_types":                           []string{"authorization_code", "refresh_token"},
		"response_types":                        []string{"code"},
		"scope":                                 "openid email offline_access", // static scopes only; resource scopes come from the resource servers
		"require_pushed_authorization_requests": true,
		"require_signed_request_object":         true,
		"request_object_signing_alg":            jose.ES256,
		"authorization_signed_response_alg":     jose.ES256, // the peer's default is RS256
		"id_token_signed_response_alg":          jose.ES256,
		"dpop_bound_access_tokens":              true,
	}
	if c.encKey != nil {
		enc, err := publicJWK(c.encKey, c.encKID, "ECDH-ES", "enc")
		if err != nil {
			return nil, err
		}
		keys = append(keys, enc)
		m["authorization_encrypted_response_alg"] = "ECDH-ES"
		m["authorization_encrypted_response_enc"] = "A256GCM"
	}
	m["jwks"] = map[string]any{"keys": keys}
	return m, nil
}

func (e *testEnv) clientsMetadata() ([]map[string]any, error) {
	a, err := e.fapi.metadata()
	if err != nil {
		return nil, err
	}
	b, err := e.fapiEnc.metadata()
	if err != nil {
		return nil, err
	}
	// (c): the registered JWK carries the self-signed certificate in x5c; the
	// peer matches the presented certificate by its x5t#S256.
	ssJWK, err := publicJWK(e.selfSigned.cert.Leaf.PublicKey, "", "", "")
	if err != nil {
		return nil, err
	}
	ssJWK["x5c"] = []string{base64.StdEncoding.EncodeToString(e.selfSigned.cert.Leaf.Raw)}
	c := map[string]any{
		"client_id":                  e.selfSigned.id,
		"token_endpoint_auth_method": "self_signed_tls_client_auth",
		"grant_types":                []string{"client_credentials"},
		"response_types":             []string{},
		"redirect_uris":              []string{},
		"jwks":                       map[string]any{"keys": []any{ssJWK}},
		"tls_client_certificate_bound_access_tokens": true,
	}
	d := map[string]any{
		"client_id":                  e.ca.id,
		"token_endpoint_auth_method": "tls_client_auth",
		"tls_client_auth_subject_dn": e.ca.cert.Leaf.Subject.String(),
		"grant_types":                []string{"client_credentials"},
		"response_types":             []string{},
		"redirect_uris":              []string{},
		"tls_client_certificate_bound_access_tokens": true,
	}
	rs := map[string]any{
		"client_id":                         e.resourceServer.id,
		"client_secret":                     e.resourceServer.secret,
		"token_endpoint_auth_method":        "client_secret_basic",
		"grant_types":                       []string{},
		"response_types":                    []string{},
		"redirect_uris":                     []string{},
		"introspection_signed_response_alg": jose.ES256,
	}
	f, err := e.codeSelfSigned.metadata()
	if err != nil {
		return nil, err
	}
	g, err := e.codePKI.metadata()
	if err != nil {
		return nil, err
	}
	h, err := e.ccDPoP.ccMetadata(true)
	if err != nil {
		return nil, err
	}
	i, err := e.ccUnbound.ccMetadata(false)
	if err != nil {
		return nil, err
	}
	j, err := e.codeCertBound.metadata()
	if err != nil {
		return nil, err
	}
	return []map[string]any{a, b, c, d, rs, f, g, h, i, j}, nil
}

// publicJWK returns the public JWK of key as a JSON object.
func publicJWK(key any, kid, alg, use string) (map[string]any, error) {
	k, err := jose.NewJWK(key)
	if err != nil {
		return nil, err
	}
	k.KeyID, k.Algorithm, k.Use = kid, alg, use
	raw, err := json.Marshal(k)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(raw, &m)
}

// startPeers starts one peer per nonce mode, in parallel.
func (e *testEnv) startPeers(ctx context.Context, node string) error {
	clients, err := e.clientsMetadata()
	if err != nil {
		return fmt.Errorf("client metadata: %w", err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for _, mode := range nonceModes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := startPeer(ctx, node, e.dir, peerConfig{
				Host:            peerHost,
				TLS:             peerTLS{Cert: e.pki.serverCertPath, Key: e.pki.serverKeyPath},
				ClientCA:        e.pki.caPath,
				NonceMode:       mode,
				AccountID:       accountID,
				Clients:         clients,
				ResourceServers: e.resourceServers,
				ProviderKeys:    e.providerKeys,
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			e.peers[mode] = p
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *testEnv) stopPeers() {
	var wg sync.WaitGroup
	for _, p := range e.peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop()
		}()
	}
	wg.Wait()
}
