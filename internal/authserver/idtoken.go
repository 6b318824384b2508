package authserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// Values the ID token switches of [Misbehave] put in place of the right
// ones.
const (
	wrongAudience     = "another-client"
	untrustedAudience = "https://untrusted.example.org"
	wrongHashInput    = "not-what-was-issued"
)

// idClaims are the claims of an ID token (OpenID Connect Core §2,
// https://openid.net/specs/openid-connect-core-1_0.html#IDToken). Fields are
// pointers or omitempty so that the Misbehave switches can leave each out.
type idClaims struct {
	Issuer   string        `json:"iss,omitempty"`
	Subject  string        `json:"sub"`
	Audience jose.Audience `json:"aud,omitempty"`
	AZP      string        `json:"azp,omitempty"`
	Expiry   *int64        `json:"exp,omitempty"`
	IssuedAt int64         `json:"iat"`
	AuthTime int64         `json:"auth_time"`
	Nonce    string        `json:"nonce,omitempty"`
	ATHash   string        `json:"at_hash,omitempty"`
	CHash    string        `json:"c_hash,omitempty"`
}

// idToken builds and signs the ID token of a token response of grant g
// for client c: accessToken is the access token beside it (at_hash), nonce
// the authorization request's (code grant only) and code the code redeemed
// (c_hash, code grant only).
func (s *Server) idToken(c *client, g *grant, accessToken, nonce, code string, now time.Time) (string, error) {
	mb := s.cfg.Misbehave
	alg := s.sigAlg
	switch {
	case mb.IDTokenAlgNone:
		alg = "none"
	case mb.IDTokenRS256:
		alg = jose.RS256
	case mb.IDTokenForeignKey:
		alg = jose.ES256 // the stranger key is P-256
	case mb.IDTokenHS256:
		alg = "HS256"
	}
	iat := now
	exp := now.Add(orDuration(s.cfg.IDTokenLifetime, defaultIDTokenTTL))
	authTime := g.authTime
	switch {
	case mb.IDTokenExpired:
		iat, exp = now.Add(-3*time.Minute), now.Add(-2*time.Minute)
		if authTime.After(iat) {
			authTime = iat
		}
	case mb.IDTokenIssuedInFuture:
		iat = now.Add(7 * 24 * time.Hour)
		exp = iat.Add(orDuration(s.cfg.IDTokenLifetime, defaultIDTokenTTL))
	}
	expUnix := exp.Unix()
	cl := idClaims{
		Issuer:   s.issuer,
		Subject:  g.sub,
		Audience: append(jose.Audience{c.ID}, c.IDTokenAudiences...),
		Expiry:   &expUnix,
		IssuedAt: iat.Unix(),
		AuthTime: authTime.Unix(),
		Nonce:    nonce,
		ATHash:   jose.HalfHash(alg, accessToken),
	}
	if len(cl.Audience) > 1 {
		cl.AZP = c.ID // Core §2: azp when there are several audiences
	}
	if code != "" {
		cl.CHash = jose.HalfHash(alg, code)
	}
	switch {
	case mb.IDTokenWrongIssuer:
		cl.Issuer = wrongIssuer
	case mb.IDTokenOmitIssuer:
		cl.Issuer = ""
	}
	switch {
	case mb.IDTokenWrongAudience:
		cl.Audience[0] = wrongAudience
	case mb.IDTokenOmitAudience:
		cl.Audience = nil
	case mb.IDTokenUntrustedAudience:
		cl.Audience = append(cl.Audience, untrustedAudience)
		cl.AZP = ""
	case mb.IDTokenWrongAZP:
		cl.AZP = wrongAudience
	}
	if mb.IDTokenOmitExpiry {
		cl.Expiry = nil
	}
	switch {
	case mb.IDTokenWrongNonce:
		cl.Nonce = nonce + "-" + randomToken(8)
	case mb.IDTokenOmitNonce:
		cl.Nonce = ""
	}
	if mb.IDTokenWrongATHash {
		cl.ATHash = jose.HalfHash(alg, wrongHashInput)
	}
	if mb.IDTokenWrongCHash && code != "" {
		cl.CHash = jose.HalfHash(alg, wrongHashInput)
	}
	payload, err := json.Marshal(cl)
	if err != nil {
		return "", err
	}
	switch alg {
	case "none":
		return b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + b64.EncodeToString(payload) + ".", nil
	case "HS256":
		key := c.Secret
		if key == "" {
			key = c.ID
		}
		input := b64.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + b64.EncodeToString(payload)
		m := hmac.New(sha256.New, []byte(key))
		m.Write([]byte(input))
		return input + "." + b64.EncodeToString(m.Sum(nil)), nil
	}
	signer := s.idSigner
	if alg == jose.RS256 {
		signer = s.rs256Signer
	} else if mb.IDTokenForeignKey {
		if signer, err = jose.NewSigner(s.stranger, jose.SignerOptions{KeyID: s.kid}); err != nil {
			return "", err
		}
	}
	return signer.Sign(payload)
}
