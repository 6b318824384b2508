package authserver

import (
	"crypto/sha256"
	"crypto/subtle"
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
	form, c, e := s.clientForm(r)
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
	switch gt {
	case GrantAuthorizationCode:
		return s.codeGrant(c, form, jkt, bindX5t, format)
	case GrantRefreshToken:
		return s.refreshGrant(c, form, jkt, certX5t, bindX5t, format)
	default:
		scope := form.Get("scope")
		if !validScope(scope) {
			return nil, badRequest(codeInvalidScope, "malformed scope")
		}
		g := &grant{clientID: c.ID, sub: c.ID, scope: scope, dpop: jkt != ""}
		return s.issue(g, scope, jkt, bindX5t, format, false)
	}
}

func (s *Server) issue(g *grant, scope, jkt, x5t string, format TokenFormat, refresh bool) (map[string]any, *oautherr.Error) {
	resp, err := s.issueTokens(g, scope, jkt, x5t, format, refresh)
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
func (s *Server) codeGrant(c *client, form url.Values, jkt, x5t string, format TokenFormat) (map[string]any, *oautherr.Error) {
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
	g := &grant{clientID: rec.req.clientID, sub: rec.sub, scope: rec.req.scope, dpop: jkt != ""}
	if c.AuthMethod == AuthNone {
		g.jkt, g.x5t = jkt, x5t
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
	return s.issue(g, g.scope, jkt, x5t, format, c.grants[GrantRefreshToken])
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
func (s *Server) refreshGrant(c *client, form url.Values, jkt, certX5t, bindX5t string, format TokenFormat) (map[string]any, *oautherr.Error) {
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
	rec.used = true
	s.mu.Unlock()
	return s.issue(g, scope, jkt, bindX5t, format, true)
}
