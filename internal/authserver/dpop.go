package authserver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// dpopProof is a verified DPoP proof.
type dpopProof struct {
	jkt string // RFC 7638 thumbprint of the proof's key
}

// dpopClaims are the claims of a DPoP proof (RFC 9449 §4.2). Nonce and ath
// are pointers to tell absent from empty.
type dpopClaims struct {
	jose.Claims
	HTM   string  `json:"htm"`
	HTU   string  `json:"htu"`
	Nonce *string `json:"nonce"`
	ATH   *string `json:"ath"`
}

func invalidProof(desc string) *oautherr.Error { return badRequest(codeInvalidDPoPProof, desc) }

// dpopSite is the nonce policy and secret of one DPoP-checking site: the
// authorization server (PAR and token endpoints) or /userinfo.
type dpopSite struct {
	mode NonceMode
	key  []byte
}

func (s *Server) asSite() dpopSite { return dpopSite{s.cfg.DPoPNonce, s.asNonceKey} }
func (s *Server) rsSite() dpopSite { return dpopSite{s.cfg.UserinfoDPoPNonce, s.rsNonceKey} }

// setNonce sends a fresh nonce when the site uses nonces (RFC 9449 §8.2:
// the server may send a new nonce in any response).
func (s *Server) setNonce(w http.ResponseWriter, site dpopSite) {
	if site.mode == NonceOff || s.cfg.Misbehave.OmitNonceHeader {
		return
	}
	w.Header().Set("DPoP-Nonce", s.newNonce(site.key))
}

// newNonce returns a stateless nonce: base64url(expiry || random || MAC).
func (s *Server) newNonce(key []byte) string {
	var b [32]byte
	exp := s.now().Add(orDuration(s.cfg.NonceLifetime, defaultNonceTTL)).Unix()
	binary.BigEndian.PutUint64(b[:8], uint64(exp))
	_, _ = rand.Read(b[8:16])
	m := hmac.New(sha256.New, key)
	m.Write(b[:16])
	copy(b[16:], m.Sum(nil))
	return b64.EncodeToString(b[:])
}

// validNonce reports whether n was issued with key and has not expired.
func (s *Server) validNonce(key []byte, n string) bool {
	if len(n) != 43 {
		return false
	}
	b, err := b64.DecodeString(n)
	if err != nil || len(b) != 32 {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil)[:16], b[16:]) {
		return false
	}
	return s.now().Unix() < int64(binary.BigEndian.Uint64(b[:8]))
}

// verifyDPoP checks the DPoP proof of r as RFC 9449 §4.3 lists, and
// returns nil, nil when r has no DPoP header. accessToken is the token the
// proof must be bound to with ath (at a resource), or "". Errors have status
// 400; a resource turns them into 401 challenges.
func (s *Server) verifyDPoP(r *http.Request, site dpopSite, accessToken string) (*dpopProof, *oautherr.Error) {
	vals := r.Header.Values("DPoP")
	if len(vals) == 0 {
		return nil, nil
	}
	// 1. exactly one DPoP header field
	if len(vals) > 1 {
		return nil, invalidProof("more than one DPoP header")
	}
	// 2. a well-formed JWT; 5. alg supported, never none; 7. no private key
	if jose.Segments(vals[0]) != 3 {
		return nil, invalidProof("DPoP proof is not a JWS")
	}
	j, err := jose.ParseCompact(vals[0])
	if err != nil {
		return nil, invalidProof("DPoP proof is malformed or uses a forbidden algorithm")
	}
	// 4. typ
	if !jose.TypeIs(j.Header.Typ, typDPoP) {
		return nil, invalidProof(`DPoP proof typ must be "dpop+jwt"`)
	}
	// 3. required header parameter jwk
	if j.Header.JWK == nil {
		return nil, invalidProof("DPoP proof has no jwk header")
	}
	// 5. alg on the allow-list; 6. signature with the embedded key
	jwk, err := j.VerifyEmbedded(s.dpopAlgs)
	if err != nil {
		return nil, invalidProof("DPoP proof signature does not verify or its algorithm is not allowed")
	}
	var cl dpopClaims
	if err := strictjson.UnmarshalStrict(j.Payload, &cl); err != nil {
		return nil, invalidProof("malformed DPoP proof claims")
	}
	// 3. required claims
	if cl.ID == "" || cl.HTM == "" || cl.HTU == "" || cl.IssuedAt == nil {
		return nil, invalidProof("DPoP proof lacks jti, htm, htu or iat")
	}
	// 8. htm
	if cl.HTM != r.Method {
		return nil, invalidProof("DPoP proof htm does not match the request method")
	}
	// 9. htu
	got, ok := normalizeHTU(cl.HTU)
	want, _ := normalizeHTU(s.requestURL(r))
	if !ok || got != want {
		return nil, invalidProof("DPoP proof htu does not match the request URI")
	}
	// 12. ath
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if cl.ATH == nil || !hmac.Equal([]byte(*cl.ATH), []byte(b64.EncodeToString(sum[:]))) {
			return nil, invalidProof("DPoP proof ath does not match the access token")
		}
	}
	// 11. iat window
	now, skew := s.now(), s.skew()
	maxAge := orDuration(s.cfg.DPoPProofMaxAge, defaultDPoPMaxAge)
	iat := cl.IssuedAt.Time()
	if iat.After(now.Add(skew)) || iat.Before(now.Add(-maxAge-skew)) {
		return nil, invalidProof("DPoP proof iat is outside the acceptable window")
	}
	// 10. nonce
	switch site.mode {
	case NonceOff:
		if cl.Nonce != nil {
			return nil, invalidProof("DPoP proof carries a nonce this server never issued")
		}
	case NonceOptional, NonceRequired:
		valid := cl.Nonce != nil && s.validNonce(site.key, *cl.Nonce)
		if cl.Nonce != nil && !valid || site.mode == NonceRequired && cl.Nonce == nil {
			return nil, badRequest(codeUseDPoPNonce, "a valid DPoP nonce is required")
		}
		if valid && s.cfg.Misbehave.DemandNonceTwice {
			return nil, badRequest(codeUseDPoPNonce, "a valid DPoP nonce is required")
		}
	}
	jkt, err := jwk.Thumbprint()
	if err != nil {
		return nil, invalidProof("DPoP proof key has no thumbprint")
	}
	// jti replay, within the window the proof is acceptable in
	s.mu.Lock()
	fresh := s.seen.add("dpop\x00"+cl.ID, struct{}{}, iat.Add(maxAge+2*skew), now)
	s.mu.Unlock()
	if !fresh {
		return nil, invalidProof("DPoP proof jti replayed")
	}
	return &dpopProof{jkt: jkt}, nil
}

// requestURL is the URI a proof for r must name: the server's origin and
// the request path.
func (s *Server) requestURL(r *http.Request) string {
	u, _ := url.Parse(s.base)
	return u.Scheme + "://" + u.Host + r.URL.EscapedPath()
}

// normalizeHTU applies the syntax- and scheme-based normalization of
// RFC 3986 §6.2.2 and §6.2.3 that RFC 9449 §4.3 asks for, and rejects a URI
// with a query or fragment (RFC 9449 §4.2: htu has neither).
func normalizeHTU(raw string) (string, bool) {
	if strings.ContainsAny(raw, "?#") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if host == "" {
		return "", false
	}
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		port = ""
	}
	hp := host
	switch {
	case port != "":
		hp = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		hp = "[" + host + "]"
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + hp + path, true
}
