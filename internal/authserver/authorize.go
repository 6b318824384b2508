package authserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// authRequest is a validated authorization request.
type authRequest struct {
	clientID      string
	redirectURI   string
	responseMode  string
	state         string
	scope         string
	codeChallenge string
	dpopJKT       string
	nonce         string          // OpenID Connect nonce, echoed in the ID token
	resources     []string        // RFC 8707 resource indicators
	details       json.RawMessage // RFC 9396 authorization_details, compact
}

// codeRecord is an issued authorization code.
type codeRecord struct {
	req      *authRequest
	sub      string
	authTime time.Time // when the test user was logged in
	exp      time.Time
	used     bool
	grant    *grant // the grant its tokens belong to, once redeemed
}

const (
	maxStateLen = 2048
	maxNonceLen = 2048
)

// repeatable are the parameters that may appear more than once in a
// request (RFC 8707 §2: resource); every other repeated parameter is
// invalid_request (RFC 6749 §3.1, §3.2).
var repeatable = []string{"resource"}

// validateAuthRequest checks the parameters of an authorization request
// for client c, whether pushed, in a request object or in the query.
func (s *Server) validateAuthRequest(c *client, p url.Values) (*authRequest, *oautherr.Error) {
	if _, ok := p["request_uri"]; ok {
		return nil, invalidRequest("request_uri is not allowed here")
	}
	if cid := p.Get("client_id"); cid != "" && cid != c.ID {
		return nil, invalidRequest("client_id does not match")
	}
	if !c.grants[GrantAuthorizationCode] {
		return nil, badRequest(codeUnauthorizedClient, "client may not use the authorization code grant")
	}
	ar := &authRequest{clientID: c.ID, redirectURI: p.Get("redirect_uri"), state: p.Get("state"), scope: p.Get("scope")}
	if ar.redirectURI == "" || !c.redirects[ar.redirectURI] {
		return nil, invalidRequest("redirect_uri is missing or not registered")
	}
	ar.responseMode = p.Get("response_mode")
	switch {
	case ar.responseMode == "" && c.RequireJARM:
		return nil, invalidRequest("a JWT response_mode is required for this client")
	case ar.responseMode == "":
		ar.responseMode = "query"
	case !slices.Contains(responseModes, ar.responseMode):
		return nil, invalidRequest("unsupported response_mode")
	case c.RequireJARM && !isJWTMode(ar.responseMode):
		return nil, invalidRequest("a JWT response_mode is required for this client")
	}
	switch rt := p.Get("response_type"); rt {
	case "code":
	case "":
		return nil, invalidRequest("response_type is required")
	default:
		return nil, badRequest(codeUnsupportedRespType, "only response_type code is supported")
	}
	if len(ar.state) > maxStateLen {
		return nil, invalidRequest("state too long")
	}
	ar.codeChallenge = p.Get("code_challenge")
	if ar.codeChallenge == "" {
		return nil, invalidRequest("code_challenge is required (PKCE)")
	}
	if p.Get("code_challenge_method") != "S256" {
		return nil, invalidRequest("code_challenge_method must be S256")
	}
	if !isB64SHA256(ar.codeChallenge) {
		return nil, invalidRequest("code_challenge is not a base64url SHA-256 value")
	}
	ar.dpopJKT = p.Get("dpop_jkt")
	if ar.dpopJKT != "" && !isB64SHA256(ar.dpopJKT) {
		return nil, invalidRequest("dpop_jkt is not a base64url SHA-256 thumbprint")
	}
	if e := c.checkScope(ar.scope); e != nil {
		return nil, e
	}
	ar.nonce = p.Get("nonce")
	if _, ok := p["nonce"]; ok && (ar.nonce == "" || len(ar.nonce) > maxNonceLen) {
		return nil, invalidRequest("nonce is empty or too long")
	}
	if ma, ok := p["max_age"]; ok {
		if n, err := strconv.ParseUint(ma[0], 10, 31); err != nil || strconv.FormatUint(n, 10) != ma[0] {
			return nil, invalidRequest("max_age must be a non-negative integer")
		}
	}
	var e *oautherr.Error
	if ar.resources, e = s.checkResources(c, p["resource"]); e != nil {
		return nil, e
	}
	if raw, ok := p["authorization_details"]; ok {
		if ar.details, e = parseDetails(c, []byte(raw[0])); e != nil {
			return nil, e
		}
	}
	return ar, nil
}

// checkScope checks the syntax of scope (RFC 6749 §3.3) and that each
// value is allowed for c (Client.Scopes).
func (c *client) checkScope(scope string) *oautherr.Error {
	if !validScope(scope) {
		return badRequest(codeInvalidScope, "malformed scope")
	}
	if c.Scopes == nil || scope == "" {
		return nil
	}
	for _, v := range strings.Split(scope, " ") {
		if !slices.Contains(c.Scopes, v) {
			return badRequest(codeInvalidScope, "scope is not allowed for this client")
		}
	}
	return nil
}

// hasScope reports whether the space-separated scope holds v.
func hasScope(scope, v string) bool { return slices.Contains(strings.Fields(scope), v) }

func isJWTMode(mode string) bool { return mode == "jwt" || strings.HasSuffix(mode, ".jwt") }

// isB64SHA256 reports whether v is the unpadded base64url form of 32 bytes.
func isB64SHA256(v string) bool {
	if len(v) != 43 {
		return false
	}
	_, err := b64.DecodeString(v)
	return err == nil
}

// validScope checks RFC 6749 §3.3 scope syntax: NQCHAR tokens separated by
// single spaces.
func validScope(scope string) bool {
	if scope == "" {
		return true
	}
	if len(scope) > 1024 {
		return false
	}
	for _, tok := range strings.Split(scope, " ") {
		if tok == "" {
			return false
		}
		for i := 0; i < len(tok); i++ {
			c := tok[i]
			if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return false
			}
		}
	}
	return true
}

// errorTarget returns where an authorization error for c may be sent: the
// redirect URI in p when it is registered, with p's response mode when it is
// valid for c.
func (s *Server) errorTarget(c *client, p url.Values) (*authRequest, bool) {
	ru := p.Get("redirect_uri")
	if c == nil || ru == "" || !c.redirects[ru] {
		return nil, false
	}
	mode := p.Get("response_mode")
	if !slices.Contains(responseModes, mode) || (c.RequireJARM && !isJWTMode(mode)) {
		mode = "query"
		if c.RequireJARM {
			mode = "jwt"
		}
	}
	state := p.Get("state")
	if len(state) > maxStateLen {
		state = ""
	}
	return &authRequest{clientID: c.ID, redirectURI: ru, responseMode: mode, state: state}, true
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	var p url.Values
	if r.Method == http.MethodGet {
		p = r.URL.Query()
		if e := noRepeats(p, repeatable...); e != nil {
			writeError(w, e)
			return
		}
	} else {
		var e *oautherr.Error
		if p, e = readForm(r, repeatable...); e != nil {
			writeError(w, e)
			return
		}
	}
	cid := p.Get("client_id")
	if cid == "" {
		writeError(w, invalidRequest("client_id is required"))
		return
	}
	c := s.clients[cid]
	if c == nil {
		writeError(w, badRequest(codeInvalidClient, "unknown client"))
		return
	}
	if uri, ok := p["request_uri"]; ok {
		if _, both := p["request"]; both {
			writeError(w, invalidRequest("request and request_uri are mutually exclusive"))
			return
		}
		ar, e := s.redeemRequestURI(c, uri[0])
		if e != nil {
			writeError(w, e)
			return
		}
		s.issueCode(w, r, c, ar)
		return
	}
	if c.RequirePAR {
		s.authorizeError(w, r, c, p, invalidRequest("this client must use pushed authorization requests"))
		return
	}
	params := p
	if raw, ok := p["request"]; ok {
		ro, e := s.verifyRequestObject(r.Context(), c, raw[0], cid)
		if e != nil {
			s.authorizeError(w, r, c, p, e)
			return
		}
		params = ro
	} else if c.RequireSignedRequestObject || c.RequireEncryptedRequestObject {
		s.authorizeError(w, r, c, p, invalidRequest("this client must send a signed request object"))
		return
	}
	ar, e := s.validateAuthRequest(c, params)
	if e != nil {
		s.authorizeError(w, r, c, params, e)
		return
	}
	s.issueCode(w, r, c, ar)
}

// redeemRequestURI consumes a pushed request: it must exist, be unexpired
// and belong to c. A request_uri is single use.
func (s *Server) redeemRequestURI(c *client, uri string) (*authRequest, *oautherr.Error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, ok := s.pushed.get(uri, now)
	if !ok {
		return nil, badRequest(codeInvalidRequestURI, "request_uri is unknown, expired or already used")
	}
	if ar.clientID != c.ID {
		return nil, badRequest(codeInvalidRequestURI, "request_uri was pushed by another client")
	}
	s.pushed.del(uri)
	return ar, nil
}

// authorizeError sends e to the redirect URI when p names a registered one,
// and as a 400 JSON error otherwise (RFC 6749 §4.1.2.1).
func (s *Server) authorizeError(w http.ResponseWriter, r *http.Request, c *client, p url.Values, e *oautherr.Error) {
	tgt, ok := s.errorTarget(c, p)
	if !ok {
		e.Status = http.StatusBadRequest
		writeError(w, e)
		return
	}
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	s.respond(w, r, c, tgt, v)
}

// issueCode logs the fixed test user in and answers with a new code.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, c *client, ar *authRequest) {
	code := randomToken(32)
	now := s.now()
	exp := now.Add(orDuration(s.cfg.CodeLifetime, defaultCodeLifetime))
	rec := &codeRecord{req: ar, sub: s.cfg.Subject, authTime: now, exp: exp}
	s.mu.Lock()
	// The record outlives the code so that a late second use is still
	// recognised and revokes what the first use issued.
	s.codes.put(hashKey(code), rec, exp.Add(orDuration(s.cfg.RefreshTokenLifetime, defaultRefreshTTL)), now)
	s.mu.Unlock()
	s.respond(w, r, c, ar, url.Values{"code": {code}})
}

// hashKey is the store key of a secret value: the secret itself is never
// kept as a map key.
func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
