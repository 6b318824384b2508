package authserver

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// handleUserinfo is a protected resource that accepts a valid access token
// only with its binding: a DPoP proof with ath (RFC 9449 §7) for cnf.jkt, the
// same client certificate (RFC 8705 §3) for cnf.x5t#S256. It has its own
// DPoP nonces (UserinfoDPoPNonce).
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	site := s.rsSite()
	s.setNonce(w, site)
	scheme, tok, err := httpx.Authorization(r.Header, "DPoP", "Bearer")
	switch {
	case err == nil:
	case len(r.Header.Values("Authorization")) == 0:
		// RFC 6750 §3.1: no error code when the request has no credentials.
		s.challenge(w, "", oerr("", http.StatusUnauthorized, ""))
		return
	case errors.Is(err, httpx.ErrNoCredentials):
		s.challenge(w, "", badRequest(codeInvalidRequest, "unsupported authorization scheme"))
		return
	default:
		s.challenge(w, "", badRequest(codeInvalidRequest, "malformed Authorization header"))
		return
	}
	isDPoP := scheme == "DPoP"
	now := s.now()
	s.mu.Lock()
	rec, ok := s.tokens.get(hashKey(tok), now)
	var t tokenRecord
	active := ok && rec.active(now)
	if active {
		t = *rec
	}
	s.mu.Unlock()
	if !active || t.refresh {
		s.challenge(w, scheme, oerr(codeInvalidToken, http.StatusUnauthorized, "the access token is not active"))
		return
	}
	if t.jkt != "" {
		if !isDPoP {
			s.challenge(w, "DPoP", oerr(codeInvalidToken, http.StatusUnauthorized, "a DPoP-bound token needs the DPoP scheme"))
			return
		}
		proof, e := s.verifyDPoP(r, site, tok)
		if e != nil {
			e.Status = http.StatusUnauthorized
			s.challenge(w, "DPoP", e)
			return
		}
		if proof == nil {
			s.challenge(w, "DPoP", oerr(codeInvalidDPoPProof, http.StatusUnauthorized, "a DPoP proof is required"))
			return
		}
		if proof.jkt != t.jkt {
			s.challenge(w, "DPoP", oerr(codeInvalidToken, http.StatusUnauthorized, "the DPoP key does not match the token"))
			return
		}
	} else if isDPoP {
		s.challenge(w, "Bearer", oerr(codeInvalidToken, http.StatusUnauthorized, "the token is not DPoP-bound"))
		return
	}
	// RFC 8707 §2: a token issued for other resources is not for this one.
	if !slices.Contains(t.aud, s.Endpoints().Userinfo) && !slices.Contains(t.aud, s.MTLSEndpoints().Userinfo) {
		s.challenge(w, t.tokenType(), oerr(codeInvalidToken, http.StatusUnauthorized, "the access token is not for this resource"))
		return
	}
	if t.x5t != "" && certThumbprint(peerCertificate(r)) != t.x5t {
		s.challenge(w, t.tokenType(), oerr(codeInvalidToken, http.StatusUnauthorized, "the client certificate does not match the token"))
		return
	}
	body := map[string]any{"sub": t.sub, "name": "Test User", "client_id": t.clientID}
	if t.scope != "" {
		body["scope"] = t.scope
	}
	writeJSON(w, http.StatusOK, body)
}

// challenge answers 401 (or e.Status) with WWW-Authenticate challenges
// (RFC 6750 §3, RFC 9449 §7.1) and, when e has a code, a JSON error body.
// scheme "" offers both schemes.
func (s *Server) challenge(w http.ResponseWriter, scheme string, e *oautherr.Error) {
	params := func() []oautherr.Param {
		var ps []oautherr.Param
		if e.Code != "" {
			ps = append(ps, oautherr.Param{Name: "error", Value: e.Code})
		}
		if e.Description != "" {
			ps = append(ps, oautherr.Param{Name: "error_description", Value: e.Description})
		}
		return ps
	}
	h := w.Header()
	dpop := oautherr.Challenge{Scheme: "DPoP", Params: append(params(), oautherr.Param{Name: "algs", Value: strings.Join(s.dpopAlgs, " ")})}
	bearer := oautherr.Challenge{Scheme: "Bearer", Params: append([]oautherr.Param{{Name: "realm", Value: "authserver"}}, params()...)}
	switch {
	case strings.EqualFold(scheme, "DPoP"):
		h.Add("WWW-Authenticate", dpop.String())
	case strings.EqualFold(scheme, "Bearer"):
		h.Add("WWW-Authenticate", bearer.String())
	default:
		h.Add("WWW-Authenticate", dpop.String())
		h.Add("WWW-Authenticate", bearer.String())
	}
	if e.Status == 0 || e.Status == http.StatusBadRequest && e.Code != codeInvalidRequest {
		e.Status = http.StatusUnauthorized
	}
	if e.Code == "" {
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(e.Status)
		return
	}
	writeError(w, e)
}
