package authserver

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// grant groups the tokens issued from one authorization code or client
// credentials request, so that they can be revoked together.
type grant struct {
	clientID  string
	sub       string
	scope     string
	revoked   bool
	dpop      bool            // the tokens were DPoP-bound: refreshing needs a proof
	jkt       string          // public clients: refresh tokens bound to this key
	x5t       string          // public clients: refresh tokens bound to this certificate
	authTime  time.Time       // when the user logged in (zero for client credentials)
	resources []string        // RFC 8707 resources granted
	details   json.RawMessage // RFC 9396 authorization_details granted
}

// tokenRecord is an issued access or refresh token.
type tokenRecord struct {
	refresh  bool
	grant    *grant
	clientID string
	sub      string
	scope    string
	aud      []string        // access tokens: the audience
	details  json.RawMessage // authorization_details the token carries
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

// defaultAudience is the "aud" of access tokens requested without a
// resource indicator: the /userinfo URL.
func (s *Server) defaultAudience() []string { return []string{s.Endpoints().Userinfo} }

// atClaims are the claims of an RFC 9068 JWT access token.
type atClaims struct {
	jose.Claims
	ClientID string            `json:"client_id"`
	Scope    string            `json:"scope,omitempty"`
	Cnf      map[string]string `json:"cnf,omitempty"`
	Details  json.RawMessage   `json:"authorization_details,omitempty"`
}

func (s *Server) accessTokenJWT(t *tokenRecord) (string, error) {
	return s.atSigner.SignJSON(atClaims{
		Claims: jose.Claims{
			Issuer:   s.issuer,
			Subject:  t.sub,
			Audience: jose.Audience(t.aud),
			Expiry:   jose.NewNumericDate(t.exp),
			IssuedAt: jose.NewNumericDate(t.iat),
			ID:       t.jti,
		},
		ClientID: t.clientID,
		Scope:    t.scope,
		Cnf:      t.cnf(),
		Details:  t.details,
	})
}

// issuance describes one token response.
type issuance struct {
	scope     string          // scope of the access token
	resources []string        // audience of the access token; nil: the default
	details   json.RawMessage // authorization_details of the access token
	jkt, x5t  string          // binding of the access token
	format    TokenFormat
	refresh   bool   // also issue a refresh token
	idToken   bool   // also issue an ID token
	nonce     string // the ID token's nonce (code grant only)
	code      string // the code redeemed, for c_hash (code grant only)
}

// issueTokens issues an access token (and a refresh token and an ID token
// as is asks) in grant g for client c, and returns the token response.
func (s *Server) issueTokens(c *client, g *grant, is issuance) (map[string]any, error) {
	now := s.now()
	atTTL := orDuration(s.cfg.AccessTokenLifetime, defaultAccessTTL)
	aud := is.resources
	if len(aud) == 0 {
		aud = s.defaultAudience()
	}
	at := &tokenRecord{
		grant: g, clientID: g.clientID, sub: g.sub, scope: is.scope, aud: aud, details: is.details,
		iat: now, exp: now.Add(atTTL), jkt: is.jkt, x5t: is.x5t, jti: randomToken(16),
	}
	var atValue string
	if is.format == FormatJWT {
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
	if is.scope != "" {
		resp["scope"] = is.scope
	}
	if is.details != nil {
		resp["authorization_details"] = is.details
	}
	if s.cfg.Misbehave.BearerTokenType {
		resp["token_type"] = "Bearer"
	}
	if s.cfg.Misbehave.OmitTokenType {
		delete(resp, "token_type")
	}
	if is.idToken {
		idt, err := s.idToken(c, g, atValue, is.nonce, is.code, now)
		if err != nil {
			return nil, err
		}
		resp["id_token"] = idt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens.put(hashKey(atValue), at, at.exp, now)
	if is.refresh {
		rt := randomToken(32)
		rec := &tokenRecord{
			refresh: true, grant: g, clientID: g.clientID, sub: g.sub, scope: g.scope, details: g.details,
			iat: now, exp: now.Add(orDuration(s.cfg.RefreshTokenLifetime, defaultRefreshTTL)),
			jkt: g.jkt, x5t: g.x5t, jti: randomToken(16),
		}
		s.tokens.put(hashKey(rt), rec, rec.exp, now)
		resp["refresh_token"] = rt
	}
	return resp, nil
}
