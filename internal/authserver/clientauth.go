package authserver

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// authenticateClient authenticates the client of a PAR, token,
// introspection or revocation request with the one method registered for
// it. Exactly one method may be used (RFC 6749 §2.3).
func (s *Server) authenticateClient(r *http.Request, form url.Values) (*client, *oautherr.Error) {
	basicID, basicSecret, hasBasic, e := basicCredentials(r.Header)
	if e != nil {
		return nil, e
	}
	_, hasSecret := form["client_secret"]
	_, hasAssertion := form["client_assertion"]
	_, hasAssertionType := form["client_assertion_type"]
	hasAssertion = hasAssertion || hasAssertionType
	n := 0
	for _, b := range []bool{hasBasic, hasSecret, hasAssertion} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, invalidRequest("more than one client authentication method")
	}
	formID, hasFormID := form["client_id"]
	var id, method string
	var assertion *jose.JWS
	switch {
	case hasBasic:
		id, method = basicID, AuthClientSecretBasic
	case hasSecret:
		id, method = form.Get("client_id"), AuthClientSecretPost
	case hasAssertion:
		if form.Get("client_assertion_type") != assertionTypeJWT {
			return nil, invalidClient("unsupported client_assertion_type")
		}
		j, err := jose.ParseCompact(form.Get("client_assertion"))
		if err != nil {
			return nil, invalidClient("malformed client assertion")
		}
		// The claims are read before the signature is checked, to find the
		// client and its keys; the strict decoding rejects a payload that
		// another parser would read differently (RFC 7523 §3).
		var peek struct {
			Sub string `json:"sub"`
		}
		if strictjson.UnmarshalStrict(j.Payload, &peek) != nil {
			return nil, invalidClient("malformed client assertion")
		}
		id, method, assertion = peek.Sub, AuthPrivateKeyJWT, j
	default:
		id = form.Get("client_id")
	}
	if id == "" {
		return nil, invalidClient("client authentication required")
	}
	if hasFormID && formID[0] != id {
		return nil, invalidClient("client_id does not match the authenticated client")
	}
	c := s.clients[id]
	if c == nil {
		return nil, invalidClient("unknown client")
	}
	switch c.AuthMethod {
	case AuthClientSecretBasic, AuthClientSecretPost:
		if method != c.AuthMethod {
			return nil, invalidClient("client authentication method not registered for this client")
		}
		secret := basicSecret
		if method == AuthClientSecretPost {
			secret = form.Get("client_secret")
		}
		if subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
			return nil, invalidClient("client authentication failed")
		}
	case AuthPrivateKeyJWT:
		if method != AuthPrivateKeyJWT {
			return nil, invalidClient("client authentication method not registered for this client")
		}
		if e := s.verifyAssertion(r.Context(), c, assertion); e != nil {
			return nil, e
		}
	case AuthTLSClient, AuthSelfSignedTLSClient:
		if method != "" {
			return nil, invalidClient("client authentication method not registered for this client")
		}
		if e := s.verifyClientCertificate(r, c); e != nil {
			return nil, e
		}
	case AuthNone:
		if method != "" {
			return nil, invalidClient("client authentication method not registered for this client")
		}
	default:
		return nil, invalidClient("client authentication failed")
	}
	return c, nil
}

// basicCredentials returns the HTTP Basic credentials (RFC 7617) of the
// Authorization field of h, whose user and password are form-url-encoded
// (RFC 6749 §2.3.1); ok is false when h has no Authorization field. The
// field is parsed by httpx.Authorization: several fields or another scheme
// is invalid_request, a malformed token invalid_client.
func basicCredentials(h http.Header) (id, secret string, ok bool, e *oautherr.Error) {
	_, tok, err := httpx.Authorization(h, "Basic")
	switch {
	case err == nil:
	case len(h.Values("Authorization")) == 0:
		return "", "", false, nil
	case len(h.Values("Authorization")) > 1:
		return "", "", false, invalidRequest("repeated Authorization header")
	case errors.Is(err, httpx.ErrNoCredentials):
		return "", "", false, invalidRequest("unsupported Authorization scheme at this endpoint")
	default:
		return "", "", false, invalidClient("malformed Basic credentials")
	}
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return "", "", false, invalidClient("malformed Basic credentials")
	}
	u, p, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false, invalidClient("malformed Basic credentials")
	}
	if id, err = url.QueryUnescape(u); err != nil {
		return "", "", false, invalidClient("malformed Basic credentials")
	}
	if secret, err = url.QueryUnescape(p); err != nil {
		return "", "", false, invalidClient("malformed Basic credentials")
	}
	return id, secret, true, nil
}

// assertionClaims are the claims of a private_key_jwt assertion (RFC 7523
// §3). "aud" is kept raw to insist on a JSON string.
type assertionClaims struct {
	jose.Claims
	Aud json.RawMessage `json:"aud"`
}

// verifyAssertion checks a private_key_jwt client assertion: signature by
// a registered key under an allowed algorithm, iss = sub = client_id, aud =
// the issuer identifier as a JSON string, exp present and near, jti unseen.
func (s *Server) verifyAssertion(ctx context.Context, c *client, j *jose.JWS) *oautherr.Error {
	if t := j.Header.Typ; t != "" && !strings.EqualFold(t, "JWT") && t != "client-authentication+jwt" {
		return invalidClient("client assertion has a foreign typ")
	}
	if !slices.Contains(jose.DefaultAlgorithms, j.Header.Alg) {
		return invalidClient("client assertion algorithm is not allowed (ES256, PS256, EdDSA)")
	}
	if _, err := j.VerifyWith(ctx, c, jose.DefaultAlgorithms); err != nil {
		return invalidClient("client assertion signature does not verify")
	}
	var cl assertionClaims
	if err := strictjson.UnmarshalStrict(j.Payload, &cl); err != nil {
		return invalidClient("malformed client assertion claims")
	}
	if cl.Issuer != c.ID || cl.Subject != c.ID {
		return invalidClient("client assertion iss and sub must be the client_id")
	}
	if aud, err := strictjson.String(cl.Aud); err != nil || aud != s.issuer {
		return invalidClient("client assertion aud must be the issuer identifier, as a string")
	}
	now, skew := s.now(), s.skew()
	if err := cl.Validate(jose.Expected{Now: now, Skew: skew, RequireExpiry: true}); err != nil {
		return invalidClient("client assertion is expired, not yet valid or lacks exp")
	}
	if cl.IssuedAt != nil && cl.IssuedAt.Time().After(now.Add(skew)) {
		return invalidClient("client assertion iat is in the future")
	}
	exp := cl.Expiry.Time()
	if exp.After(now.Add(orDuration(s.cfg.MaxAssertionLifetime, defaultAssertionMax) + skew)) {
		return invalidClient("client assertion lifetime too long")
	}
	if cl.ID == "" {
		return invalidClient("client assertion lacks jti")
	}
	s.mu.Lock()
	fresh := s.seen.add("assertion\x00"+c.ID+"\x00"+cl.ID, struct{}{}, exp.Add(skew), now)
	s.mu.Unlock()
	if !fresh {
		return invalidClient("client assertion jti replayed")
	}
	return nil
}

// verifyClientCertificate checks the TLS client certificate of the
// tls_client_auth (PKI, subject DN) and self_signed_tls_client_auth
// (registered certificate) methods of RFC 8705 §2.
func (s *Server) verifyClientCertificate(r *http.Request, c *client) *oautherr.Error {
	leaf := peerCertificate(r)
	if leaf == nil {
		return invalidClient("client certificate required")
	}
	if c.AuthMethod == AuthSelfSignedTLSClient {
		for _, der := range c.certs {
			if bytes.Equal(der, leaf.Raw) {
				return nil
			}
		}
		return invalidClient("client certificate is not registered")
	}
	if s.clientCAs == nil {
		return invalidClient("no CA configured for tls_client_auth")
	}
	inter := x509.NewCertPool()
	for _, ic := range r.TLS.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         s.clientCAs,
		Intermediates: inter,
		CurrentTime:   s.now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return invalidClient("client certificate does not chain to a trusted CA")
	}
	if leaf.Subject.String() != c.TLSSubjectDN {
		return invalidClient("client certificate subject does not match")
	}
	return nil
}

// peerCertificate returns the TLS client certificate, or nil.
func peerCertificate(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}
