package authserver

import (
	"crypto/sha256"
	"crypto/x509"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// grant groups the tokens issued from one authorization code or client
// credentials request, so that they can be revoked together.
type grant struct {
	clientID string
	sub      string
	scope    string
	revoked  bool
	dpop     bool   // the tokens were DPoP-bound: refreshing needs a proof
	jkt      string // public clients: refresh tokens bound to this key
	x5t      string // public clients: refresh tokens bound to this certificate
}

// tokenRecord is an issued access or refresh token.
type tokenRecord struct {
	refresh  bool
	grant    *grant
	clientID string
	sub      string
	scope    string
	iat      time.Time
	exp      time.Time
	jkt      string
	x5t      string
	jti      string
	used     bool // refresh tokens: already rotated
	revoked  bool
}

func (t *tokenRecord) active(now time.Time) bool {
	return !t.revoked && !t.grant.revoked && now.Before(t.exp) && !(t.refresh && t.used)
}

// tokenType is the token_type of a bound or unbound access token.
func (t *tokenRecord) tokenType() string {
	if t.jkt != "" {
		return "DPoP"
	}
	return "Bearer"
}

// cnf is the confirmation claim (RFC 7800) of a bound token.
func (t *tokenRecord) cnf() map[string]string {
	c := map[string]string{}
	if t.jkt != "" {
		c["jkt"] = t.jkt
	}
	if t.x5t != "" {
		c["x5t#S256"] = t.x5t
	}
	if len(c) == 0 {
		return nil
	}
	return c
}

// certThumbprint is the x5t#S256 of a certificate (RFC 8705 §3.1).
func certThumbprint(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	sum := sha256.Sum256(c.Raw)
	return b64.EncodeToString(sum[:])
}

// accessTokenAudience is the "aud" of access tokens.
func (s *Server) accessTokenAudience() string { return s.Endpoints().Userinfo }

// atClaims are the claims of an RFC 9068 JWT access token.
type atClaims struct {
	jose.Claims
	ClientID string            `json:"client_id"`
	Scope    string            `json:"scope,omitempty"`
	Cnf      map[string]string `json:"cnf,omitempty"`
}

func (s *Server) accessTokenJWT(t *tokenRecord) (string, error) {
	return s.atSigner.SignJSON(atClaims{
		Claims: jose.Claims{
			Issuer:   s.issuer,
			Subject:  t.sub,
			Audience: jose.Audience{s.accessTokenAudience()},
			Expiry:   jose.NewNumericDate(t.exp),
			IssuedAt: jose.NewNumericDate(t.iat),
			ID:       t.jti,
		},
		ClientID: t.clientID,
		Scope:    t.scope,
		Cnf:      t.cnf(),
	})
}

// issueTokens issues an access token (and a refresh token when
// withRefresh) in grant g, bound to jkt and/or x5t, and returns the token
// response.
func (s *Server) issueTokens(g *grant, scope, jkt, x5t string, format TokenFormat, withRefresh bool) (map[string]any, error) {
	now := s.now()
	atTTL := orDuration(s.cfg.AccessTokenLifetime, defaultAccessTTL)
	at := &tokenRecord{
		grant: g, clientID: g.clientID, sub: g.sub, scope: scope,
		iat: now, exp: now.Add(atTTL), jkt: jkt, x5t: x5t, jti: randomToken(16),
	}
	var atValue string
	if format == FormatJWT {
		v, err := s.accessTokenJWT(at)
		if err != nil {
			return nil, err
		}
		atValue = v
	} else {
		atValue = randomToken(32)
	}
	resp := map[string]any{
		"access_token": atValue,
		"token_type":   at.tokenType(),
		"expires_in":   int64(atTTL / time.Second),
	}
	if scope != "" {
		resp["scope"] = scope
	}
	if s.cfg.Misbehave.BearerTokenType {
		resp["token_type"] = "Bearer"
	}
	if s.cfg.Misbehave.OmitTokenType {
		delete(resp, "token_type")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.put(hashKey(atValue), at, at.exp, now)
	if withRefresh {
		rt := randomToken(32)
		rec := &tokenRecord{
			refresh: true, grant: g, clientID: g.clientID, sub: g.sub, scope: g.scope,
			iat: now, exp: now.Add(orDuration(s.cfg.RefreshTokenLifetime, defaultRefreshTTL)),
			jkt: g.jkt, x5t: g.x5t, jti: randomToken(16),
		}
		s.tokens.put(hashKey(rt), rec, rec.exp, now)
		resp["refresh_token"] = rt
	}
	return resp, nil
}
