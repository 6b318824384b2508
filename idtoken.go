package hardened

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// IDToken is a verified OpenID Connect ID token (OpenID Connect Core §2,
// https://openid.net/specs/openid-connect-core-1_0.html#IDToken): its
// standard claims and all of its claims as received.
type IDToken struct {
	// Issuer is "iss", the issuer identifier.
	Issuer string
	// Subject is "sub", the end-user's identifier at the issuer.
	Subject string
	// Audience is "aud": the client ID and any trusted audience.
	Audience []string
	// AuthorizedParty is "azp", or "".
	AuthorizedParty string
	// Expiry is "exp".
	Expiry time.Time
	// IssuedAt is "iat".
	IssuedAt time.Time
	// AuthTime is "auth_time", the time of the end-user's authentication,
	// or the zero time when absent.
	AuthTime time.Time
	// Nonce is "nonce", or "" (an ID token of a refresh may have none).
	Nonce string
	// AuthContextClass is "acr", or "".
	AuthContextClass string
	// AuthMethods is "amr", or nil.
	AuthMethods []string
	// AccessTokenHash is "at_hash", checked against the access token when
	// present.
	AccessTokenHash string
	// CodeHash is "c_hash", checked against the code when present.
	CodeHash string
	// Algorithm is the JWS "alg" the token was signed with.
	Algorithm string
	// RawClaims is the verified claims set, as received.
	RawClaims json.RawMessage
}

// Claims decodes the verified claims set into v (a pointer to a struct or
// map), under the module's strict JSON policy: member names match exactly,
// and a claim given twice or in two spellings is an error.
func (t *IDToken) Claims(v any) error {
	if err := jose.UnmarshalStrict(t.RawClaims, v); err != nil {
		return &IDTokenError{Check: "format", Reason: "claims do not decode into the given value"}
	}
	return nil
}

// idTokenKey is the Extra key under which a token carries its verified
// *IDToken. A server's JSON cannot produce a *IDToken value, so the type
// assertion in IDTokenFrom only matches what this package put there.
const idTokenKey = "hardened.IDToken"

// IDTokenFrom returns the verified ID token that came with tok: from
// [Config.Exchange] (checked as OpenID Connect Core §3.1.3.7 lists), or
// from the latest refresh that returned one (§12.2). ok is false for a
// token without one, or one that did not come from a Config (a token
// restored from storage: its tok.Extra("id_token") is no longer verified).
func IDTokenFrom(tok *oauth2.Token) (idt *IDToken, ok bool) {
	if tok == nil {
		return nil, false
	}
	idt, ok = tok.Extra(idTokenKey).(*IDToken)
	return idt, ok && idt != nil
}

// attach returns tok carrying idt, with the members of its response.
func attach(tok *oauth2.Token, raw map[string]any, idt *IDToken) *oauth2.Token {
	if idt == nil {
		return tok
	}
	raw[idTokenKey] = idt
	return tok.WithExtra(raw)
}

// idCheck is what an ID token is checked against besides the Config.
type idCheck struct {
	// required: the response must carry an ID token (openid was asked).
	required bool
	// nonce is the login's nonce ("" when none was sent).
	nonce string
	// code is the code redeemed, for c_hash ("" on refresh).
	code string
	// refresh marks an ID token of a refresh (§12.2), checked against prev
	// when known.
	refresh bool
	prev    *IDToken
}

// idTokenOf verifies the id_token member of a token response, if any.
func (c *Config) idTokenOf(ctx context.Context, st *state, tok *oauth2.Token, raw map[string]any, chk idCheck) (*IDToken, error) {
	v, present := raw["id_token"]
	if !present {
		if chk.required {
			return nil, &IDTokenError{Check: "format", Reason: "the token response of an openid request has no id_token"}
		}
		return nil, nil
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return nil, &IDTokenError{Check: "format", Reason: "id_token is not a non-empty string"}
	}
	return c.verifyIDToken(ctx, st, s, tok.AccessToken, chk)
}

// verifyIDToken applies OpenID Connect Core §3.1.3.7 (and §12.2 on
// refresh): signature by the server's jwks_uri keys with an allowed
// algorithm, then iss, sub, aud, azp, exp, iat, nbf, nonce, at_hash and
// c_hash.
func (c *Config) verifyIDToken(ctx context.Context, st *state, raw, accessToken string, chk idCheck) (*IDToken, error) {
	fail := func(check, reason string) error { return &IDTokenError{Check: check, Reason: reason} }
	if jose.Segments(raw) == 5 {
		return nil, fail("format", "encrypted ID tokens are not supported")
	}
	j, err := jose.ParseCompact(raw)
	if err != nil {
		if errors.Is(err, jose.ErrAlgorithmNotAllowed) {
			return nil, fail("alg", "none and symmetric algorithms are never accepted")
		}
		return nil, fail("format", "not a compact JWS")
	}
	alg := j.Header.Alg
	if !slices.Contains(st.algs, alg) {
		return nil, fail("alg", alg+" is not allowed (ES256, PS256, EdDSA, and InsecureAlgorithms)")
	}
	if j.Header.Typ != "" && !jose.TypeIs(j.Header.Typ, "JWT") {
		return nil, fail("format", "typ is not JWT")
	}
	if st.keys == nil {
		return nil, fail("signature", "the server publishes no jwks_uri")
	}
	if _, err := j.VerifyWith(ctx, st.keys, st.algs); err != nil {
		if errors.Is(err, jose.ErrJWKSFetch) {
			return nil, fail("signature", "the server's keys are unavailable")
		}
		return nil, fail("signature", "no key of the server verifies it")
	}
	var cl idClaims
	if err := jose.UnmarshalStrict(j.Payload, &cl); err != nil {
		return nil, fail("format", "claims are not strict JSON of the registered types")
	}
	now, skew := c.now(), st.skew
	switch {
	case cl.Issuer == "":
		return nil, fail("iss", "missing")
	case cl.Issuer != st.md.Issuer:
		return nil, fail("iss", "not the issuer")
	case cl.Subject == "":
		return nil, fail("sub", "missing")
	case len(cl.Audience) == 0:
		return nil, fail("aud", "missing")
	case !slices.Contains(cl.Audience, c.ClientID):
		return nil, fail("aud", "does not list the client")
	}
	for _, a := range cl.Audience {
		if a != c.ClientID && !slices.Contains(c.TrustedAudiences, a) {
			return nil, fail("aud", "lists an audience the client does not trust")
		}
	}
	switch {
	case len(cl.Audience) > 1 && cl.AZP == "":
		return nil, fail("azp", "required with several audiences")
	case cl.AZP != "" && cl.AZP != c.ClientID:
		return nil, fail("azp", "not the client")
	case cl.Expiry == nil:
		return nil, fail("exp", "missing")
	case !now.Before(cl.Expiry.Time().Add(skew)):
		return nil, fail("exp", "expired")
	case cl.IssuedAt == nil:
		return nil, fail("iat", "missing")
	case cl.IssuedAt.Time().After(now.Add(skew)):
		return nil, fail("iat", "in the future")
	case cl.NotBefore != nil && cl.NotBefore.Time().After(now.Add(skew)):
		return nil, fail("nbf", "in the future")
	}
	if err := checkNonce(cl.Nonce, chk); err != nil {
		return nil, err
	}
	if chk.refresh && chk.prev != nil {
		switch {
		case cl.Subject != chk.prev.Subject:
			return nil, fail("sub", "differs from the ID token of the login")
		case cl.AuthTime != nil && !chk.prev.AuthTime.IsZero() && !cl.AuthTime.Time().Equal(chk.prev.AuthTime):
			return nil, fail("auth_time", "differs from the ID token of the login")
		}
	}
	if cl.ATHash != "" && !equal(cl.ATHash, jose.HalfHash(alg, accessToken)) {
		return nil, fail("at_hash", "not the hash of the access token")
	}
	if cl.CHash != "" && chk.code != "" && !equal(cl.CHash, jose.HalfHash(alg, chk.code)) {
		return nil, fail("c_hash", "not the hash of the code")
	}
	idt := &IDToken{
		Issuer: cl.Issuer, Subject: cl.Subject, Audience: []string(cl.Audience), AuthorizedParty: cl.AZP,
		Expiry: cl.Expiry.Time(), IssuedAt: cl.IssuedAt.Time(), Nonce: cl.Nonce,
		AuthContextClass: cl.ACR, AuthMethods: cl.AMR, AccessTokenHash: cl.ATHash, CodeHash: cl.CHash,
		Algorithm: alg, RawClaims: json.RawMessage(j.Payload),
	}
	if cl.AuthTime != nil {
		idt.AuthTime = cl.AuthTime.Time()
	}
	return idt, nil
}

// checkNonce: after a login the nonce must be the login's (or absent when
// none was sent); after a refresh it may be absent, and when present must
// be the login's, if that is known.
func checkNonce(got string, chk idCheck) error {
	if chk.refresh {
		if got != "" && chk.prev != nil && !equal(got, chk.prev.Nonce) {
			return &IDTokenError{Check: "nonce", Reason: "differs from the ID token of the login"}
		}
		return nil
	}
	if chk.nonce == "" {
		if got != "" {
			return &IDTokenError{Check: "nonce", Reason: "present although none was sent"}
		}
		return nil
	}
	if got == "" {
		return &IDTokenError{Check: "nonce", Reason: "missing"}
	}
	if !equal(got, chk.nonce) {
		return &IDTokenError{Check: "nonce", Reason: "not the nonce of the login"}
	}
	return nil
}

// idClaims are the claims of an ID token this package reads.
type idClaims struct {
	jose.Claims
	AZP      string            `json:"azp,omitempty"`
	Nonce    string            `json:"nonce,omitempty"`
	ATHash   string            `json:"at_hash,omitempty"`
	CHash    string            `json:"c_hash,omitempty"`
	AuthTime *jose.NumericDate `json:"auth_time,omitempty"`
	ACR      string            `json:"acr,omitempty"`
	AMR      []string          `json:"amr,omitempty"`
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
