package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodPost) {
		return
	}
	site := s.asSite()
	s.setNonce(w, site)
	resp, e := s.token(r, site)
	if e != nil {
		s.writeAuthError(w, r, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// writeAuthError sends e, adding the Basic challenge RFC 6749 §5.2 asks
// for when client authentication through the Authorization header failed.
func (s *Server) writeAuthError(w http.ResponseWriter, r *http.Request, e *oautherr.Error) {
	if e.Status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="authserver"`)
	}
	writeError(w, e)
}

func (s *Server) token(r *http.Request, site dpopSite) (map[string]any, *oautherr.Error) {
	form, c, e := s.clientForm(r, repeatable...)
	if e != nil {
		return nil, e
	}
	gt := form.Get("grant_type")
	switch gt {
	case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
	case "":
		return nil, invalidRequest("grant_type is required")
	default:
		return nil, badRequest(codeUnsupportedGrantType, "unsupported grant_type")
	}
	if !c.grants[gt] {
		return nil, badRequest(codeUnauthorizedClient, "client may not use this grant type")
	}
	proof, e := s.verifyDPoP(r, site, "")
	if e != nil {
		return nil, e
	}
	if c.RequireDPoP && proof == nil {
		return nil, invalidProof("a DPoP proof is required for this client")
	}
	certX5t := certThumbprint(peerCertificate(r))
	if c.RequireMTLSBinding && certX5t == "" {
		return nil, invalidRequest("a client certificate is required for certificate-bound tokens")
	}
	bindX5t := ""
	if c.RequireMTLSBinding {
		bindX5t = certX5t
	}
	jkt := ""
	if proof != nil {
		jkt = proof.jkt
	}
	format, e := s.formatFor(c, form.Get("access_token_format"))
	if e != nil {
		return nil, e
	}
	// RFC 8707 §2.2 and RFC 9396 §6: resource and authorization_details at
	// the token endpoint, checked against the client here and against the
	// grant by each grant type.
	resources, e := s.checkResources(c, form["resource"])
	if e != nil {
		return nil, e
	}
	var details json.RawMessage
	if raw, ok := form["authorization_details"]; ok {
		if details, e = parseDetails(c, []byte(raw[0])); e != nil {
			return nil, e
		}
	}
	tr := tokenRequest{form: form, jkt: jkt, certX5t: certX5t, bindX5t: bindX5t, format: format, resources: resources, details: details}
	switch gt {
	case GrantAuthorizationCode:
		return s.codeGrant(c, tr)
	case GrantRefreshToken:
		return s.refreshGrant(c, tr)
	default:
		return s.clientCredentialsGrant(c, tr)
	}
}

// tokenRequest is what every grant type reads of a token request once the
// client and its DPoP proof or certificate are checked.
type tokenRequest struct {
	form      url.Values
	jkt       string // thumbprint of the DPoP proof's key, or ""
	certX5t   string // thumbprint of the TLS client certificate, or ""
	bindX5t   string // certX5t when the client binds tokens to it
	format    TokenFormat
	resources []string        // validated resource parameters
	details   json.RawMessage // validated authorization_details, or nil
}

// clientCredentialsGrant issues an access token to the client itself
// (RFC 6749 §4.4), bound to the DPoP key or certificate of the request.
// There is no end-user, so the scope openid is refused and no ID token or
// refresh token is issued.
func (s *Server) clientCredentialsGrant(c *client, tr tokenRequest) (map[string]any, *oautherr.Error) {
	scope := tr.form.Get("scope")
	if e := c.checkScope(scope); e != nil {
		return nil, e
	}
	if hasScope(scope, "openid") {
		return nil, badRequest(codeInvalidScope, "openid needs an end-user: not with client_credentials")
	}
	g := &grant{clientID: c.ID, sub: c.ID, scope: scope, dpop: tr.jkt != "", resources: tr.resources, details: tr.details}
	return s.issue(c, g, issuance{scope: scope, resources: tr.resources, details: tr.details, jkt: tr.jkt, x5t: tr.bindX5t, format: tr.format})
}

func (s *Server) issue(c *client, g *grant, is issuance) (map[string]any, *oautherr.Error) {
	resp, err := s.issueTokens(c, g, is)
	if err != nil {
		return nil, oerr("server_error", http.StatusInternalServerError, "cannot issue tokens")
	}
	return resp, nil
}

// formatFor picks the access token format: the request's
// access_token_format, else the client's, else the server's.
func (s *Server) formatFor(c *client, requested string) (TokenFormat, *oautherr.Error) {
	switch requested {
	case "jwt":
		return FormatJWT, nil
	case "opaque":
		return FormatOpaque, nil
	case "":
	default:
		return 0, invalidRequest("access_token_format must be jwt or opaque")
	}
	if c.AccessTokenFormat != FormatDefault {
		return c.AccessTokenFormat, nil
	}
	if s.cfg.AccessTokenFormat != FormatDefault {
		return s.cfg.AccessTokenFormat, nil
	}
	return FormatOpaque, nil
}

// codeGrant redeems an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6,
// RFC 9449 §10). The code is consumed here, whatever follows; a second use
// revokes the tokens the first one issued (RFC 6749 §4.1.2).
func (s *Server) codeGrant(c *client, tr tokenRequest) (map[string]any, *oautherr.Error) {
	form, jkt := tr.form, tr.jkt
	code := form.Get("code")
	if code == "" {
		return nil, invalidRequest("code is required")
	}
	now := s.now()
	s.mu.Lock()
	rec, ok := s.codes.get(hashKey(code), now)
	if !ok {
		s.mu.Unlock()
		return nil, invalidGrant("unknown authorization code")
	}
	if rec.used {
		if rec.grant != nil {
			rec.grant.revoked = true
		}
		s.mu.Unlock()
		return nil, invalidGrant("authorization code already used; its tokens are revoked")
	}
	rec.used = true
	g := &grant{
		clientID: rec.req.clientID, sub: rec.sub, scope: rec.req.scope, dpop: jkt != "",
		authTime: rec.authTime, resources: rec.req.resources, details: rec.req.details,
	}
	if c.AuthMethod == AuthNone {
		g.jkt, g.x5t = jkt, tr.bindX5t
	}
	rec.grant = g
	s.mu.Unlock()

	if !now.Before(rec.exp) {
		return nil, invalidGrant("authorization code expired")
	}
	if rec.req.clientID != c.ID {
		return nil, invalidGrant("authorization code was issued to another client")
	}
	if form.Get("redirect_uri") != rec.req.redirectURI {
		return nil, invalidGrant("redirect_uri does not match the authorization request")
	}
	verifier, ok := form["code_verifier"]
	if !ok {
		return nil, invalidRequest("code_verifier is required")
	}
	if !validVerifier(verifier[0]) {
		return nil, invalidGrant("malformed code_verifier")
	}
	sum := sha256.Sum256([]byte(verifier[0]))
	if subtle.ConstantTimeCompare([]byte(b64.EncodeToString(sum[:])), []byte(rec.req.codeChallenge)) != 1 {
		return nil, invalidGrant("code_verifier does not match the code_challenge")
	}
	if rec.req.dpopJKT != "" && jkt != rec.req.dpopJKT {
		return nil, invalidGrant("DPoP key does not match the dpop_jkt of the authorization request")
	}
	resources, e := narrowResources(g.resources, tr.resources)
	if e != nil {
		return nil, e
	}
	details, e := narrowDetails(g.details, tr.details)
	if e != nil {
		return nil, e
	}
	return s.issue(c, g, issuance{
		scope: g.scope, resources: resources, details: details, jkt: jkt, x5t: tr.bindX5t, format: tr.format,
		refresh: c.grants[GrantRefreshToken],
		idToken: hasScope(g.scope, "openid"), nonce: rec.req.nonce, code: code,
	})
}

// validVerifier checks RFC 7636 §4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// refreshGrant rotates a refresh token (RFC 6749 §6). Reusing a rotated
// token revokes the whole grant. A public client's refresh token is bound to
// its DPoP key or certificate (RFC 9449 §5, RFC 8705 §4).
func (s *Server) refreshGrant(c *client, tr tokenRequest) (map[string]any, *oautherr.Error) {
	form, jkt, certX5t := tr.form, tr.jkt, tr.certX5t
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, invalidRequest("refresh_token is required")
	}
	now := s.now()
	s.mu.Lock()
	rec, ok := s.tokens.get(hashKey(rt), now)
	if !ok || !rec.refresh || rec.clientID != c.ID {
		s.mu.Unlock()
		return nil, invalidGrant("unknown refresh token")
	}
	g := rec.grant
	if rec.used {
		g.revoked = true
		s.mu.Unlock()
		return nil, invalidGrant("refresh token reused; the grant is revoked")
	}
	if !rec.active(now) {
		s.mu.Unlock()
		return nil, invalidGrant("refresh token is not active")
	}
	if g.jkt != "" && jkt != g.jkt {
		s.mu.Unlock()
		return nil, invalidGrant("refresh token is bound to another DPoP key")
	}
	if g.x5t != "" && certX5t != g.x5t {
		s.mu.Unlock()
		return nil, invalidGrant("refresh token is bound to another certificate")
	}
	if g.dpop && jkt == "" {
		s.mu.Unlock()
		return nil, invalidGrant("the grant is DPoP-bound: a DPoP proof is required")
	}
	scope := g.scope
	if req := form.Get("scope"); req != "" {
		granted := strings.Fields(g.scope)
		for _, sc := range strings.Split(req, " ") {
			if !slices.Contains(granted, sc) {
				s.mu.Unlock()
				return nil, badRequest(codeInvalidScope, "scope exceeds the grant")
			}
		}
		scope = req
	}
	resources, e := narrowResources(g.resources, tr.resources)
	if e != nil {
		s.mu.Unlock()
		return nil, e
	}
	details, e := narrowDetails(g.details, tr.details)
	if e != nil {
		s.mu.Unlock()
		return nil, e
	}
	rec.used = true
	s.mu.Unlock()
	// OpenID Connect Core §12.2: an ID token again when openid was
	// granted, with the original auth_time and no nonce.
	return s.issue(c, g, issuance{
		scope: scope, resources: resources, details: details, jkt: jkt, x5t: tr.bindX5t, format: tr.format,
		refresh: true, idToken: hasScope(g.scope, "openid"),
	})
}
