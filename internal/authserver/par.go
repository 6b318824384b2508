package authserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// handlePAR accepts a pushed authorization request (RFC 9126 §2): the
// client authenticates, the request (or its request object) is validated
// as the authorization endpoint would, and a single-use request_uri bound to
// the client is returned.
func (s *Server) handlePAR(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodPost) {
		return
	}
	site := s.asSite()
	s.setNonce(w, site)
	uri, ttl, e := s.push(r, site)
	if e != nil {
		s.writeAuthError(w, r, e)
		return
	}
	expiresIn := strconv.FormatInt(int64(ttl.Seconds()), 10)
	if raw := s.cfg.Misbehave.PARExpiresIn; raw != "" {
		expiresIn = raw
	}
	u, _ := json.Marshal(uri)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{"request_uri":` + string(u) + `,"expires_in":` + expiresIn + "}\n"))
}

func (s *Server) push(r *http.Request, site dpopSite) (string, time.Duration, *oautherr.Error) {
	form, c, e := s.clientForm(r, repeatable...)
	if e != nil {
		return "", 0, e
	}
	// RFC 9449 §10.1: a proof at the PAR endpoint binds the code to its key.
	proof, e := s.verifyDPoP(r, site, "")
	if e != nil {
		return "", 0, e
	}
	if _, ok := form["request_uri"]; ok {
		return "", 0, invalidRequest("request_uri must not be pushed (RFC 9126 §2.1)")
	}
	params := form
	if raw, ok := form["request"]; ok {
		ro, e := s.verifyRequestObject(r.Context(), c, raw[0], form.Get("client_id"))
		if e != nil {
			return "", 0, e
		}
		params = ro
	} else if c.RequireSignedRequestObject || c.RequireEncryptedRequestObject {
		return "", 0, invalidRequest("this client must push a signed request object")
	}
	ar, e := s.validateAuthRequest(c, params)
	if e != nil {
		return "", 0, e
	}
	if proof != nil {
		if ar.dpopJKT != "" && ar.dpopJKT != proof.jkt {
			return "", 0, invalidRequest("dpop_jkt does not match the DPoP proof's key")
		}
		ar.dpopJKT = proof.jkt
	}
	now := s.now()
	ttl := orDuration(s.cfg.RequestURILifetime, defaultRequestURITTL)
	uri := requestURIPrefix + randomToken(32)
	s.mu.Lock()
	s.pushed.put(uri, ar, now.Add(ttl), now)
	s.mu.Unlock()
	return uri, ttl, nil
}
