package authserver

import (
	"mime"
	"net/http"
	"strings"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// introspection returns the RFC 7662 §2.2 response for token, and the
// record when the token is an active access token.
func (s *Server) introspection(token string) (map[string]any, *tokenRecord) {
	now := s.now()
	s.mu.Lock()
	rec, ok := s.tokens.get(hashKey(token), now)
	if !ok || !rec.active(now) {
		s.mu.Unlock()
		return map[string]any{"active": false}, nil
	}
	t := *rec
	s.mu.Unlock()
	body := map[string]any{
		"active":    true,
		"client_id": t.clientID,
		"sub":       t.sub,
		"iss":       s.issuer,
		"iat":       t.iat.Unix(),
		"exp":       t.exp.Unix(),
		"jti":       t.jti,
		"username":  t.sub,
	}
	if t.scope != "" {
		body["scope"] = t.scope
	}
	if cnf := t.cnf(); cnf != nil {
		body["cnf"] = cnf
	}
	if t.details != nil {
		body["authorization_details"] = t.details
	}
	if t.refresh {
		body["token_type"] = "refresh_token"
		return body, nil
	}
	body["token_type"] = t.tokenType()
	body["aud"] = jose.Audience(t.aud) // RFC 8707: the resources, or the default
	return body, &t
}

func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodPost) {
		return
	}
	form, c, e := s.clientForm(r)
	if e != nil {
		s.writeAuthError(w, r, e)
		return
	}
	if !c.Introspect {
		writeError(w, oerr(codeUnauthorizedClient, http.StatusForbidden, "client may not introspect"))
		return
	}
	token := form.Get("token")
	if token == "" {
		writeError(w, invalidRequest("token is required"))
		return
	}
	body, at := s.introspection(token)
	switch {
	case accepts(r, mediaIntrospectionJWT):
		s.writeIntrospectionJWT(w, c, body)
	case accepts(r, mediaJWT) && at != nil:
		// The access token itself as a JWT (the "phantom token" pattern).
		v, err := s.accessTokenJWT(at)
		if err != nil {
			writeError(w, oerr("server_error", http.StatusInternalServerError, "cannot sign"))
			return
		}
		w.Header().Set("Content-Type", mediaJWT)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(v))
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

// introspectionClaims are the claims of an RFC 9701 §5 response.
type introspectionClaims struct {
	Issuer   string         `json:"iss"`
	Audience string         `json:"aud"`
	IssuedAt int64          `json:"iat"`
	ID       string         `json:"jti"`
	Body     map[string]any `json:"token_introspection"`
}

func (s *Server) writeIntrospectionJWT(w http.ResponseWriter, c *client, body map[string]any) {
	mb := s.cfg.Misbehave
	cl := introspectionClaims{Issuer: s.issuer, Audience: c.ID, IssuedAt: s.now().Unix(), ID: randomToken(16), Body: body}
	if mb.IntrospectionWrongAudience {
		cl.Audience = "another-resource-server"
	}
	signer := s.introSigner
	var err error
	switch {
	case mb.IntrospectionForeignKey:
		signer, err = jose.NewSigner(s.stranger, jose.SignerOptions{KeyID: s.kid, Type: typIntrospection})
	case mb.IntrospectionWrongType:
		signer, err = jose.NewSigner(s.rawSigner, jose.SignerOptions{Algorithm: s.sigAlg, KeyID: s.kid, Type: "JWT"})
	}
	var v string
	if err == nil {
		v, err = signer.SignJSON(cl)
	}
	if err != nil {
		writeError(w, oerr("server_error", http.StatusInternalServerError, "cannot sign"))
		return
	}
	w.Header().Set("Content-Type", mediaIntrospectionJWT)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(v))
}

// accepts reports whether r's Accept header lists media type mt.
func accepts(r *http.Request, mt string) bool {
	for _, h := range r.Header.Values("Accept") {
		for _, part := range strings.Split(h, ",") {
			t, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && strings.EqualFold(t, mt) {
				return true
			}
		}
	}
	return false
}

// handleRevoke revokes a token of the calling client (RFC 7009,
// https://datatracker.ietf.org/doc/html/rfc7009). The client authenticates
// as at the token endpoint. Revoking an access token revokes that token
// only; revoking a refresh token revokes its whole grant: every access and
// refresh token issued from the same authorization code (or request), as
// RFC 7009 §2.1 allows. token_type_hint, when sent, must be access_token or
// refresh_token (unsupported_token_type otherwise); it is only a hint, and
// the token is found whatever its type. Unknown tokens, inactive ones and
// tokens of other clients are answered 200 and left alone (RFC 7009 §2.2).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodPost) {
		return
	}
	form, c, e := s.clientForm(r)
	if e != nil {
		s.writeAuthError(w, r, e)
		return
	}
	token := form.Get("token")
	if token == "" {
		writeError(w, invalidRequest("token is required"))
		return
	}
	switch form.Get("token_type_hint") {
	case "", "access_token", "refresh_token":
	default:
		writeError(w, badRequest(codeUnsupportedTokenType, "token_type_hint must be access_token or refresh_token"))
		return
	}
	now := s.now()
	s.mu.Lock()
	if rec, ok := s.tokens.get(hashKey(token), now); ok && rec.clientID == c.ID {
		if rec.refresh {
			rec.grant.revoked = true
		} else {
			rec.revoked = true
		}
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
}
