package authserver

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

func invalidRequestObject(desc string) *oautherr.Error {
	return badRequest(codeInvalidRequestObject, desc)
}

// jwtClaimNames are the registered claims of a request object that are not
// authorization request parameters.
var jwtClaimNames = map[string]bool{"iss": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true, "sub": true}

// verifyRequestObject decrypts (when it is a JWE) and verifies a request
// object of client c (RFC 9101 §6, FAPI 2.0 Message Signing §5.3) and
// returns the authorization request parameters it carries. outerClientID
// is the client_id sent beside it, or "".
func (s *Server) verifyRequestObject(ctx context.Context, c *client, raw, outerClientID string) (url.Values, *oautherr.Error) {
	if len(raw) > jose.MaxTokenSize {
		return nil, invalidRequestObject("request object too large")
	}
	if jose.Segments(raw) == 5 {
		pt, h, err := jose.Decrypt(raw, s.decKeys, jose.DecryptOptions{
			KeyAlgorithms:      s.encAlgs,
			ContentEncryptions: []string{jose.A256GCM},
		})
		if err != nil {
			return nil, invalidRequestObject("request object cannot be decrypted")
		}
		if !jose.TypeIs(h.Cty, "JWT") {
			return nil, invalidRequestObject(`encrypted request object must be a nested JWT (cty "JWT")`)
		}
		raw = string(pt)
	} else if c.RequireEncryptedRequestObject {
		return nil, invalidRequestObject("request object must be encrypted")
	}
	j, err := jose.ParseCompact(raw)
	if err != nil {
		return nil, invalidRequestObject("request object is not a signed JWT with an allowed algorithm")
	}
	if !slices.Contains(jose.DefaultAlgorithms, j.Header.Alg) {
		return nil, invalidRequestObject("request object algorithm is not allowed (ES256, PS256, EdDSA)")
	}
	if !jose.TypeIs(j.Header.Typ, typRequestObject) {
		return nil, invalidRequestObject(`request object typ must be "oauth-authz-req+jwt"`)
	}
	if _, err := j.VerifyWith(ctx, c, jose.DefaultAlgorithms); err != nil {
		return nil, invalidRequestObject("request object signature does not verify with the client's keys")
	}
	// The payload is checked and decoded strictly: a duplicate or
	// case-variant member ({"aud":…,"AUD":…}), invalid UTF-8 or deep
	// nesting would let this server and another reader of the same object
	// see different requests.
	var cl jose.Claims
	if err := strictjson.UnmarshalStrict(j.Payload, &cl); err != nil {
		return nil, invalidRequestObject("malformed request object claims")
	}
	members := map[string][]byte{}
	if err := strictjson.EachMember(j.Payload, nil, func(name, value []byte) error {
		members[string(name)] = value
		return nil
	}); err != nil {
		return nil, invalidRequestObject("malformed request object claims")
	}
	if cl.Issuer != c.ID {
		return nil, invalidRequestObject("request object iss must be the client_id")
	}
	if !cl.Audience.Contains(s.issuer) {
		return nil, invalidRequestObject("request object aud must be the issuer identifier")
	}
	if cid, err := strictjson.String(members["client_id"]); err != nil || cid != c.ID || (outerClientID != "" && outerClientID != c.ID) {
		return nil, invalidRequestObject("request object client_id does not match")
	}
	if cl.Expiry == nil || cl.NotBefore == nil {
		return nil, invalidRequestObject("request object needs exp and nbf")
	}
	now, skew := s.now(), s.skew()
	if err := cl.Validate(jose.Expected{Now: now, Skew: skew, RequireExpiry: true}); err != nil {
		return nil, invalidRequestObject("request object is expired or not yet valid")
	}
	if cl.Expiry.Time().Sub(cl.NotBefore.Time()) > maxRequestObjectSpan {
		return nil, invalidRequestObject("request object exp is more than 60 minutes after nbf")
	}
	if cl.ID == "" {
		return nil, invalidRequestObject("request object lacks jti")
	}
	if _, ok := members["request"]; ok {
		return nil, invalidRequestObject("request object must not contain request")
	}
	if _, ok := members["request_uri"]; ok {
		return nil, invalidRequestObject("request object must not contain request_uri")
	}
	params := url.Values{}
	for k, v := range members {
		if jwtClaimNames[k] {
			continue
		}
		switch {
		case strictjson.IsNull(v):
		case k == "resource":
			// RFC 8707 in a request object: one string or an array of
			// strings.
			vals, ok := resourceClaim(v)
			if !ok {
				return nil, invalidTarget("resource must be a string or an array of strings")
			}
			params[k] = vals
		case k == "authorization_details" && strictjson.Kind(v) != '[':
			// RFC 9396 §3: a JSON array in a request object, never the
			// string form of the form parameter.
			return nil, invalidDetails("authorization_details in a request object must be a JSON array")
		case strictjson.Kind(v) == '"':
			str, err := strictjson.String(v)
			if err != nil {
				return nil, invalidRequestObject("malformed request object claims")
			}
			params.Set(k, str)
		default:
			params.Set(k, string(v))
		}
	}
	s.mu.Lock()
	fresh := s.seen.add("request-object\x00"+c.ID+"\x00"+cl.ID, struct{}{}, cl.Expiry.Time().Add(skew), now)
	s.mu.Unlock()
	if !fresh {
		return nil, invalidRequestObject("request object jti replayed")
	}
	return params, nil
}

// resourceClaim reads the "resource" member of a request object: a string
// or a non-empty array of strings.
func resourceClaim(v []byte) ([]string, bool) {
	if strictjson.Kind(v) == '"' {
		str, err := strictjson.String(v)
		return []string{str}, err == nil
	}
	var l []string
	if strictjson.Kind(v) != '[' || json.Unmarshal(v, &l) != nil || len(l) == 0 {
		return nil, false
	}
	return l, true
}
