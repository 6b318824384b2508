package phantom

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/hardened-oauth/hardened/internal/cnf"
	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// claimsInfo is what the gateway reads from a token's claims.
type claimsInfo struct {
	hasActive bool
	active    bool
	tokenType string
	tokenUse  string // Ory Hydra, Amazon Cognito: "access_token", "refresh_token", "access", "id"
	typ       string // Keycloak: "Bearer", "Refresh", "Offline"
	issuer    string
	audience  jose.Audience
	scope     string
	exp       int64 // 0: absent
	nbf       int64
	cnf       cnf.Confirmation
	cnfErr    error // a malformed "cnf": the token is refused per request
}

// wireClaims names the members parseClaims reads, so that a case variant
// of one of them ("ACTIVE", "Cnf") is refused rather than ignored.
type wireClaims struct {
	Active    bool            `json:"active"`
	TokenType string          `json:"token_type"`
	TokenUse  string          `json:"token_use"`
	Typ       json.RawMessage `json:"typ"`
	Issuer    string          `json:"iss"`
	Audience  json.RawMessage `json:"aud"`
	Scope     string          `json:"scope"`
	Expiry    int64           `json:"exp"`
	NotBefore int64           `json:"nbf"`
	IssuedAt  int64           `json:"iat"`
	Cnf       json.RawMessage `json:"cnf"`
}

var claimsSchema = strictjson.SchemaOf(reflect.TypeFor[wireClaims]())

// errMalformedClaims is wrapped by parseClaims errors.
var errMalformedClaims = errors.New("malformed claims")

// parseClaims reads a claims object (an RFC 7662 response, RFC 9701's
// token_introspection member, or a JWT payload) under the module's
// strict JSON policy. A malformed "cnf" does not fail the parse: it is
// kept in cnfErr and refuses the token when it is used.
func parseClaims(raw []byte) (claimsInfo, error) {
	var ci claimsInfo
	if len(raw) > cnf.MaxClaimsBytes {
		return ci, fmt.Errorf("%w: over %d bytes", errMalformedClaims, cnf.MaxClaimsBytes)
	}
	err := strictjson.EachMember(raw, claimsSchema, func(name, value []byte) error {
		var err error
		switch string(name) {
		case "active":
			ci.hasActive = true
			ci.active, err = strictjson.Bool(value)
		case "token_type":
			ci.tokenType, err = strictjson.String(value)
		case "token_use":
			ci.tokenUse, err = strictjson.String(value)
		case "typ":
			// Not a registered member: only a string is read.
			ci.typ, _ = strictjson.String(value)
		case "iss":
			ci.issuer, err = strictjson.String(value)
		case "aud":
			err = ci.audience.UnmarshalJSON(value)
		case "scope":
			ci.scope, err = strictjson.String(value)
		case "exp":
			ci.exp, err = strictjson.NumericDate(value)
		case "nbf":
			ci.nbf, err = strictjson.NumericDate(value)
		case "iat":
			_, err = strictjson.NumericDate(value)
		case "cnf":
			ci.cnf, ci.cnfErr = cnf.Parse(value)
		}
		if err != nil {
			return fmt.Errorf("%w: member %s: %w", errMalformedClaims, name, err)
		}
		return nil
	})
	if err != nil {
		if !errors.Is(err, errMalformedClaims) {
			err = fmt.Errorf("%w: %w", errMalformedClaims, err)
		}
		return claimsInfo{}, err
	}
	return ci, nil
}

// introspect asks the authorization server about token and turns the
// answer into an Entry, or an *Error when the answer is unusable (503).
func (g *Gateway) introspect(ctx context.Context, c *config, token string) (*Entry, *Error) {
	start := time.Now()
	e, rerr := g.introspectOnce(ctx, c, token)
	if m := g.Metrics.Introspection; m != nil {
		var err error
		if rerr != nil {
			err = rerr
		}
		m(time.Since(start), err)
	}
	if rerr != nil {
		g.logWarn(c, "introspection failed", rerr)
	}
	return e, rerr
}

func (g *Gateway) introspectOnce(ctx context.Context, c *config, token string) (*Entry, *Error) {
	body, ct, err := g.post(ctx, c, token)
	if err != nil {
		return nil, unavailable(err)
	}
	mt, _, _ := mime.ParseMediaType(ct)
	mt = strings.ToLower(mt)
	now := g.now()
	switch c.mode {
	case ModeJSON:
		if !oautherr.IsJSON(ct) {
			return nil, unavailable(wrapf(ErrIntrospection, "content type %.64q is not JSON", mt))
		}
		ci, err := parseClaims(body)
		if err != nil {
			return nil, unavailable(wrapf(ErrIntrospection, "%w", err))
		}
		if !ci.hasActive {
			return nil, unavailable(wrapf(ErrIntrospection, "%w: no active member", errMalformedClaims))
		}
		return g.entry(c, now, body, ci, "")
	case ModeIntrospectionJWT:
		if mt != mediaIntrospectionJWT {
			return nil, unavailable(wrapf(ErrIntrospection, "content type %.64q is not %s", mt, mediaIntrospectionJWT))
		}
		return g.introspectionJWT(ctx, c, now, body)
	default: // ModeJWT
		switch {
		case mt == mediaJWT:
			return g.accessTokenJWT(ctx, c, now, body)
		case oautherr.IsJSON(ct):
			// An inactive token has no JWT form: the server answers
			// {"active":false}.
			ci, err := parseClaims(body)
			if err != nil {
				return nil, unavailable(wrapf(ErrIntrospection, "%w", err))
			}
			if !ci.hasActive || ci.active {
				return nil, unavailable(wrapf(ErrIntrospection, "a JSON response where the access token JWT was asked for"))
			}
			return g.negative(c, now, ""), nil
		default:
			return nil, unavailable(wrapf(ErrIntrospection, "content type %.64q is not %s", mt, mediaJWT))
		}
	}
}

// post sends the introspection request (RFC 7662 §2.1) and returns the
// body of a 200 response and its content type.
func (g *Gateway) post(ctx context.Context, c *config, token string) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	form := "token=" + url.QueryEscape(token) + "&token_type_hint=access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.introspectURL, strings.NewReader(form))
	if err != nil {
		return nil, "", wrapf(ErrIntrospection, "building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", c.accept)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", wrapf(ErrIntrospection, "%w", err)
	}
	defer httpx.DrainClose(resp.Body)
	ct := resp.Header.Get("Content-Type")
	data, err := httpx.ReadBody(resp.Body, c.maxResponse)
	if resp.StatusCode != http.StatusOK {
		if err == nil {
			// A server might echo the token, as sent or as form-encoded:
			// never let it, or any piece of it, into an error.
			if oe, perr := oautherr.ParseRedacting(resp.StatusCode, ct, data, token); perr == nil {
				return nil, "", fmt.Errorf("%w: HTTP %d: %w", ErrIntrospection, resp.StatusCode, oe)
			}
		}
		return nil, "", wrapf(ErrIntrospection, "HTTP %d", resp.StatusCode)
	}
	if err != nil {
		return nil, "", wrapf(ErrIntrospection, "%w", err)
	}
	return data, ct, nil
}

// introspectionClaims are the claims of an RFC 9701 §5 response.
type introspectionClaims struct {
	jose.Claims
	TokenIntrospection json.RawMessage `json:"token_introspection"`
}

// verifyJWT checks a compact JWS from the authorization server: structure
// (never "none" or HS*), "typ", algorithm allow-list and signature.
func verifyJWT(ctx context.Context, c *config, body []byte, typ string) (*jose.JWS, error) {
	jws, err := jose.ParseCompact(string(body))
	if err != nil {
		return nil, wrapf(ErrInvalidResponse, "%w", err)
	}
	if !jose.TypeIs(jws.Header.Typ, typ) {
		return nil, wrapf(ErrInvalidResponse, "%w: want %s", jose.ErrType, typ)
	}
	if _, err := jws.VerifyWith(ctx, c.keys, c.algs); err != nil {
		return nil, wrapf(ErrInvalidResponse, "%w", err)
	}
	return jws, nil
}

// introspectionJWT verifies an RFC 9701 response and reads its
// token_introspection member.
func (g *Gateway) introspectionJWT(ctx context.Context, c *config, now time.Time, body []byte) (*Entry, *Error) {
	jws, err := verifyJWT(ctx, c, body, typIntrospection)
	if err != nil {
		return nil, invalidResponse(err)
	}
	var cl introspectionClaims
	if err := jose.UnmarshalStrict(jws.Payload, &cl); err != nil {
		return nil, invalidResponse(wrapf(ErrInvalidResponse, "%w", err))
	}
	err = cl.Validate(jose.Expected{
		Issuer: g.Issuer, Audience: g.ClientID, Now: now, Skew: c.skew,
		RequireIssuedAt: true, MaxAge: responseMaxAge,
	})
	if err != nil {
		return nil, invalidResponse(wrapf(ErrInvalidResponse, "%w", err))
	}
	if strictjson.Kind(cl.TokenIntrospection) != '{' {
		return nil, invalidResponse(wrapf(ErrInvalidResponse, "token_introspection is not an object"))
	}
	ci, err := parseClaims(cl.TokenIntrospection)
	if err != nil || !ci.hasActive {
		if err == nil {
			err = fmt.Errorf("%w: no active member", errMalformedClaims)
		}
		return nil, invalidResponse(wrapf(ErrInvalidResponse, "token_introspection: %w", err))
	}
	return g.entry(c, now, cl.TokenIntrospection, ci, string(body))
}

// accessTokenJWT verifies an RFC 9068 access token returned for Accept:
// application/jwt.
func (g *Gateway) accessTokenJWT(ctx context.Context, c *config, now time.Time, body []byte) (*Entry, *Error) {
	jws, err := verifyJWT(ctx, c, body, typAccessToken)
	if err != nil {
		return nil, invalidResponse(err)
	}
	var cl jose.Claims
	if err := jose.UnmarshalStrict(jws.Payload, &cl); err != nil {
		return nil, invalidResponse(wrapf(ErrInvalidResponse, "%w", err))
	}
	err = cl.Validate(jose.Expected{
		Issuer: g.Issuer, Audience: g.Audience, Now: now, Skew: c.skew,
		RequireExpiry: true, RequireIssuedAt: true,
	})
	switch {
	case errors.Is(err, jose.ErrExpired):
		return g.negative(c, now, ""), nil
	case errors.Is(err, jose.ErrAudience):
		return g.negative(c, now, ReasonWrongAudience), nil
	case errors.Is(err, jose.ErrNotYetValid):
		return g.negative(c, now, ReasonInvalidToken), nil
	case err != nil:
		return nil, invalidResponse(wrapf(ErrInvalidResponse, "%w", err))
	}
	ci, err := parseClaims(jws.Payload)
	if err != nil {
		return nil, invalidResponse(wrapf(ErrInvalidResponse, "%w", err))
	}
	if ci.hasActive && !ci.active {
		return g.negative(c, now, ""), nil
	}
	return g.entry(c, now, jws.Payload, ci, string(body))
}

// negative returns a negative entry: inactive (reason "") or refused.
func (g *Gateway) negative(c *config, now time.Time, reason Reason) *Entry {
	return &Entry{Refusal: reason, Expires: now.Add(c.negativeTTL)}
}

// entry turns verified claims into an Entry: negative when the token is
// inactive or refused whatever the request, else with the JWT to forward
// (signed here in ModeJSON).
func (g *Gateway) entry(c *config, now time.Time, claims []byte, ci claimsInfo, jwt string) (*Entry, *Error) {
	if r, ok := g.refusal(c, now, &ci); !ok {
		return g.negative(c, now, r), nil
	}
	expires := now.Add(c.cacheTTL)
	if ci.exp != 0 {
		expires = minTime(expires, time.Unix(ci.exp, 0))
	}
	if c.mode == ModeJSON {
		jwtExp := now.Add(c.tokenLifetime)
		if ci.exp != 0 {
			jwtExp = minTime(jwtExp, time.Unix(ci.exp, 0))
		}
		signed, err := g.sign(c, now, jwtExp, claims)
		if err != nil {
			return nil, refuse(http.StatusServiceUnavailable, "", "cannot sign the upstream token", ReasonInvalidResponse, err)
		}
		jwt = signed
		expires = minTime(expires, jwtExp)
	}
	ci2 := ci
	return &Entry{Active: true, Claims: json.RawMessage(claims), JWT: jwt, Expires: expires, info: &ci2, upstream: c.upstreamValue(jwt)}, nil
}

// refusal applies the checks that do not depend on the request. ok is
// false when the token must be refused; reason is then "" for an inactive
// token.
func (g *Gateway) refusal(c *config, now time.Time, ci *claimsInfo) (reason Reason, ok bool) {
	switch {
	case ci.hasActive && !ci.active:
		return "", false
	case ci.exp != 0 && !now.Before(time.Unix(ci.exp, 0)):
		return "", false
	case strings.EqualFold(ci.tokenType, "refresh_token") || notAccessToken(ci):
		return ReasonInvalidToken, false
	case ci.nbf != 0 && now.Add(c.skew).Before(time.Unix(ci.nbf, 0)):
		return ReasonInvalidToken, false
	case g.Issuer != "" && ci.issuer != "" && ci.issuer != g.Issuer:
		return ReasonInvalidToken, false
	case g.Audience != "" && !ci.audience.Contains(g.Audience):
		return ReasonWrongAudience, false
	}
	return "", true
}

// notAccessToken reports whether vendor members of the claims say the
// token is another kind than an access token: "token_use" other than
// "access_token" (Ory Hydra, which answers token_type "Bearer" for refresh
// tokens too) or "access" (Amazon Cognito), or "typ" "Refresh" or
// "Offline" (Keycloak's refresh tokens).
func notAccessToken(ci *claimsInfo) bool {
	if ci.tokenUse != "" && !strings.EqualFold(ci.tokenUse, "access_token") && !strings.EqualFold(ci.tokenUse, "access") {
		return true
	}
	return strings.EqualFold(ci.typ, "Refresh") || strings.EqualFold(ci.typ, "Offline")
}

// sign writes the JWT forwarded in ModeJSON: the introspection response's
// members except "active" and the time and identifier claims, which it
// sets itself ("iat" now, "exp", a new "jti"), and "iss" when the
// response had none.
func (g *Gateway) sign(c *config, now, exp time.Time, claims []byte) (string, error) {
	buf := make([]byte, 0, len(claims)+128)
	buf = append(buf, '{')
	hasIss := false
	err := strictjson.EachMember(claims, nil, func(name, value []byte) error {
		switch string(name) {
		case "active", "iat", "exp", "nbf", "jti":
			return nil
		case "iss":
			hasIss = true
		}
		buf = append(buf, marshalJSON(string(name))...)
		buf = append(buf, ':')
		buf = append(buf, value...)
		buf = append(buf, ',')
		return nil
	})
	if err != nil {
		return "", wrapf(ErrInvalidResponse, "%w", err)
	}
	if !hasIss && g.Issuer != "" {
		buf = append(buf, `"iss":`...)
		buf = append(buf, marshalJSON(g.Issuer)...)
		buf = append(buf, ',')
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	buf = append(buf, `"jti":"`...)
	buf = base64.RawURLEncoding.AppendEncode(buf, id[:])
	buf = append(buf, `","iat":`...)
	buf = strconv.AppendInt(buf, now.Unix(), 10)
	buf = append(buf, `,"exp":`...)
	buf = strconv.AppendInt(buf, exp.Unix(), 10)
	buf = append(buf, '}')
	s, err := c.signer.Sign(buf)
	if err != nil {
		return "", wrapf(ErrInvalidResponse, "signing: %w", err)
	}
	return s, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// wrapf is fmt.Errorf("%w: "+format, sentinel, args...).
func wrapf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

func unavailable(err error) *Error {
	return refuse(http.StatusServiceUnavailable, "", "the authorization server is unavailable", ReasonIntrospectionFailed, err)
}

func invalidResponse(err error) *Error {
	return refuse(http.StatusServiceUnavailable, "", "the authorization server's response failed verification", ReasonInvalidResponse, err)
}
