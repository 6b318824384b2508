package hardened

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Token type hints (RFC 7009 §2.1, RFC 7662 §2.1), for [Config.Revoke] and
// [Config.Introspect].
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// maxIntrospectionBytes bounds an introspection or revocation response.
const maxIntrospectionBytes = 64 << 10

// Revoke asks the authorization server to revoke token (RFC 7009,
// https://datatracker.ietf.org/doc/html/rfc7009), with the client
// authentication of the Config's stack and the mTLS alias of the
// revocation endpoint when a certificate is used. hint is
// [HintRefreshToken], [HintAccessToken] or "". Revoking a refresh token
// usually ends the whole grant (§2.1): do it at logout. A server answers 200
// for a token it does not know (§2.2), so nil does not mean the token
// existed. An error response wraps [ErrRequestFailed] with the server's
// [*Error]; a server without a revocation_endpoint is [ErrMissingEndpoint].
func (c *Config) Revoke(ctx context.Context, token, hint string) error {
	resp, err := c.postToken(ctx, "revocation_endpoint", token, hint, "")
	if err != nil {
		return err
	}
	httpx.DrainClose(resp.Body)
	return nil
}

// Introspection is a token introspection response (RFC 7662 §2.2,
// https://datatracker.ietf.org/doc/html/rfc7662#section-2.2). Only Active
// is always present; the other members are zero when absent.
type Introspection struct {
	// Active reports whether the token is active. An inactive token has
	// no other member.
	Active bool
	// Scope is "scope", space-separated.
	Scope string
	// ClientID is "client_id", the client the token was issued to.
	ClientID string
	// Username is "username".
	Username string
	// TokenType is "token_type", e.g. "DPoP" or "Bearer".
	TokenType string
	// Expiry is "exp".
	Expiry time.Time
	// IssuedAt is "iat".
	IssuedAt time.Time
	// NotBefore is "nbf".
	NotBefore time.Time
	// Subject is "sub".
	Subject string
	// Audience is "aud".
	Audience []string
	// Issuer is "iss".
	Issuer string
	// ID is "jti".
	ID string
	// Claims is the whole response, as received: read "cnf" with
	// dpop.ConfirmationFromClaims or mtlsbound.ConfirmationFromClaims,
	// and "authorization_details" (RFC 9396 §9.2) from it.
	Claims json.RawMessage
}

// Introspect asks the authorization server about token (RFC 7662,
// https://datatracker.ietf.org/doc/html/rfc7662), as a resource server
// does, with the client authentication of the Config's stack and the mTLS
// alias of the introspection endpoint when a certificate is used; the
// client must be allowed to introspect. hint is [HintAccessToken],
// [HintRefreshToken] or "". The JSON response must be one strict object with
// a boolean "active" ([ErrInvalidResponse] otherwise). An error response
// wraps [ErrRequestFailed] with the server's [*Error].
func (c *Config) Introspect(ctx context.Context, token, hint string) (*Introspection, error) {
	resp, err := c.postToken(ctx, "introspection_endpoint", token, hint, "application/json")
	if err != nil {
		return nil, err
	}
	defer httpx.DrainClose(resp.Body)
	if !oautherr.IsJSON(resp.Header.Get("Content-Type")) {
		return nil, fmt.Errorf("%w: introspection response is not JSON", ErrInvalidResponse)
	}
	body, err := httpx.ReadBody(resp.Body, maxIntrospectionBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection response: %w", ErrInvalidResponse, err)
	}
	return parseIntrospection(body)
}

// postToken posts token (and hint) to the endpoint named by its metadata
// member and returns a 200 response.
func (c *Config) postToken(ctx context.Context, endpoint, token, hint, accept string) (*http.Response, error) {
	if token == "" {
		return nil, optionErr("token is required")
	}
	switch hint {
	case "", HintAccessToken, HintRefreshToken:
	default:
		return nil, optionErr("token_type_hint must be access_token, refresh_token or empty")
	}
	st, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	u := st.md.Endpoint(endpoint, st.aliases)
	if u == "" {
		return nil, fmt.Errorf("%w: %s", ErrMissingEndpoint, endpoint)
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRequestFailed, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := st.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRequestFailed, endpoint, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer httpx.DrainClose(resp.Body)
	body, _ := httpx.ReadBody(resp.Body, maxIntrospectionBytes)
	// The server may echo the token it was sent: redact it, whole, cut or
	// form-encoded, before any of its text reaches the error.
	if oe, perr := oautherr.ParseRedacting(resp.StatusCode, resp.Header.Get("Content-Type"), body, append([]string{token}, st.secrets...)...); perr == nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRequestFailed, endpoint, oe)
	}
	return nil, fmt.Errorf("%w: %s answered HTTP %d", ErrRequestFailed, endpoint, resp.StatusCode)
}

// introspectionJSON are the members of RFC 7662 §2.2 this package reads.
type introspectionJSON struct {
	Active    *bool             `json:"active"`
	Scope     string            `json:"scope,omitempty"`
	ClientID  string            `json:"client_id,omitempty"`
	Username  string            `json:"username,omitempty"`
	TokenType string            `json:"token_type,omitempty"`
	Expiry    *jose.NumericDate `json:"exp,omitempty"`
	IssuedAt  *jose.NumericDate `json:"iat,omitempty"`
	NotBefore *jose.NumericDate `json:"nbf,omitempty"`
	Subject   string            `json:"sub,omitempty"`
	Audience  jose.Audience     `json:"aud,omitempty"`
	Issuer    string            `json:"iss,omitempty"`
	ID        string            `json:"jti,omitempty"`
}

// parseIntrospection reads an introspection response: one strict JSON
// object (no repeated or case-variant member names, valid UTF-8) whose
// members have their registered types and whose "active" is a boolean.
func parseIntrospection(body []byte) (*Introspection, error) {
	var j introspectionJSON
	if err := jose.UnmarshalStrict(body, &j); err != nil {
		return nil, fmt.Errorf("%w: introspection response: %w", ErrInvalidResponse, err)
	}
	if j.Active == nil {
		return nil, fmt.Errorf("%w: introspection response has no boolean active", ErrInvalidResponse)
	}
	in := &Introspection{
		Active: *j.Active, Scope: j.Scope, ClientID: j.ClientID, Username: j.Username,
		TokenType: j.TokenType, Subject: j.Subject, Audience: []string(j.Audience), Issuer: j.Issuer, ID: j.ID,
		Claims: json.RawMessage(body),
	}
	for _, t := range []struct {
		d   *jose.NumericDate
		dst *time.Time
	}{{j.Expiry, &in.Expiry}, {j.IssuedAt, &in.IssuedAt}, {j.NotBefore, &in.NotBefore}} {
		if t.d != nil {
			*t.dst = t.d.Time()
		}
	}
	return in, nil
}
