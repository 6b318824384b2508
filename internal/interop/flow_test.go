package interop_test

// Flow helpers: each step of a FAPI 2.0 flow as one small function. Phase 1
// writes them on the standard library, x/oauth2 and internal/jose; phase 2
// swaps their bodies for the module's packages (par, jar, jarm, dpop,
// mtlsbound) while the tests that call them stay as they are.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// maxBody bounds every response body read from a peer.
const maxBody = 1 << 20

// peerError is a non-success answer from a peer: the endpoint, the status
// and the OAuth error response (RFC 6749 §5.2) or the start of the body.
// The peer's error bodies carry codes and descriptions, never credentials.
type peerError struct {
	Endpoint string
	Status   int
	OAuth    *oautherr.Error // nil when the body is not an OAuth error
	Body     string
}

func (e *peerError) Error() string {
	if e.OAuth != nil {
		return fmt.Sprintf("%s: HTTP %d: error=%q error_description=%q", e.Endpoint, e.Status, e.OAuth.Code, e.OAuth.Description)
	}
	return fmt.Sprintf("%s: HTTP %d: %.300q", e.Endpoint, e.Status, e.Body)
}

// readPeerResponse reads a bounded body and turns a non-2xx status into a
// *peerError.
func readPeerResponse(endpoint string, resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := httpx.ReadBody(resp.Body, maxBody)
	if err != nil {
		return nil, fmt.Errorf("%s: reading body: %w", endpoint, err)
	}
	if resp.StatusCode/100 != 2 {
		pe := &peerError{Endpoint: endpoint, Status: resp.StatusCode, Body: string(body)}
		if oe, err := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body); err == nil {
			pe.OAuth = oe
		}
		return nil, pe
	}
	return body, nil
}

// ---- discovery (RFC 8414) ----

// asMetadata is the part of the authorization server metadata the tests
// use; Raw keeps every member.
type asMetadata struct {
	Issuer                string            `json:"issuer"`
	AuthorizationEndpoint string            `json:"authorization_endpoint"`
	TokenEndpoint         string            `json:"token_endpoint"`
	PAREndpoint           string            `json:"pushed_authorization_request_endpoint"`
	RequirePAR            bool              `json:"require_pushed_authorization_requests"`
	JWKSURI               string            `json:"jwks_uri"`
	UserinfoEndpoint      string            `json:"userinfo_endpoint"`
	IntrospectionEndpoint string            `json:"introspection_endpoint"`
	RevocationEndpoint    string            `json:"revocation_endpoint"`
	DPoPAlgs              []string          `json:"dpop_signing_alg_values_supported"`
	MTLSAliases           map[string]string `json:"mtls_endpoint_aliases"`
	IssParameter          bool              `json:"authorization_response_iss_parameter_supported"`
	Raw                   map[string]any    `json:"-"`
}

// fetchMetadata gets the issuer's OpenID configuration and checks that it
// names the issuer it was fetched from (RFC 8414 §3.3).
func fetchMetadata(ctx context.Context, hc *http.Client, issuer string) (*asMetadata, error) {
	endpoint := issuer + "/.well-known/openid-configuration"
	body, err := getJSON(ctx, hc, endpoint)
	if err != nil {
		return nil, err
	}
	var md asMetadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if err := json.Unmarshal(body, &md.Raw); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if md.Issuer != issuer {
		return nil, fmt.Errorf("discovery: issuer %q, fetched from %q", md.Issuer, issuer)
	}
	return &md, nil
}

// fetchJWKS gets the authorization server's public keys.
func fetchJWKS(ctx context.Context, hc *http.Client, md *asMetadata) (jose.StaticKeys, error) {
	body, err := getJSON(ctx, hc, md.JWKSURI)
	if err != nil {
		return nil, err
	}
	keys, err := jose.ParseJWKSet(body)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return jose.StaticKeys(keys), nil
}

func getJSON(ctx context.Context, hc *http.Client, endpoint string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	return readPeerResponse(endpoint, resp)
}

// ---- client authentication: private_key_jwt (RFC 7523 §2.2) ----

// assertion returns a fresh client assertion for aud (FAPI 2.0 requires
// the issuer identifier).
func (c *fapiClient) assertion(aud string) (string, error) {
	s, err := jose.NewSigner(c.key, jose.SignerOptions{Algorithm: jose.ES256, KeyID: c.kid})
	if err != nil {
		return "", err
	}
	now := time.Now()
	return s.SignJSON(jose.Claims{
		Issuer:    c.id,
		Subject:   c.id,
		Audience:  jose.Audience{aud},
		IssuedAt:  jose.NewNumericDate(now),
		NotBefore: jose.NewNumericDate(now),
		Expiry:    jose.NewNumericDate(now.Add(time.Minute)),
		ID:        randomString(),
	})
}

// clientAssertionTransport adds a fresh private_key_jwt assertion (new jti)
// to every form POST to one of endpoints, on every attempt, including the
// DPoP nonce retry.
type clientAssertionTransport struct {
	Base      http.RoundTripper
	Client    *fapiClient
	Audience  string
	Endpoints map[string]bool
}

func (t *clientAssertionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !t.Endpoints[endpointOf(req.URL)] || req.Body == nil {
		return t.Base.RoundTrip(req)
	}
	body, err := httpx.ReadBody(req.Body, maxBody)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	a, err := t.Client.assertion(t.Audience)
	if err != nil {
		return nil, err
	}
	form.Set("client_id", t.Client.id)
	form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	form.Set("client_assertion", a)
	enc := []byte(form.Encode())
	req2 := req.Clone(req.Context())
	req2.Body = io.NopCloser(bytes.NewReader(enc))
	req2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(enc)), nil }
	req2.ContentLength = int64(len(enc))
	return t.Base.RoundTrip(req2)
}

// ---- request object (RFC 9101), PAR (RFC 9126) ----

// authzRequest is one authorization request and what the client keeps to
// finish it.
type authzRequest struct {
	State, Nonce, Verifier string
	Params                 url.Values
}

func newAuthzRequest(clientID, scope, resource string) *authzRequest {
	r := &authzRequest{State: randomString(), Nonce: randomString(), Verifier: randomString() + randomString()}
	sum := sha256.Sum256([]byte(r.Verifier))
	r.Params = url.Values{
		"client_id":             {clientID},
		"response_type":         {"code"},
		"response_mode":         {"jwt"}, // JARM; query.jwt for the code flow
		"redirect_uri":          {redirectURI},
		"scope":                 {scope},
		"state":                 {r.State},
		"nonce":                 {r.Nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if resource != "" {
		r.Params.Set("resource", resource)
	}
	return r
}

// requestObject signs r's parameters as a request object
// (typ oauth-authz-req+jwt, RFC 9101 §10.8). FAPI 2.0 requires exp, nbf
// and aud. With encryptTo set, the signed object is then encrypted to that
// key of the server (a nested JWT, RFC 7519 §5.2).
func (c *fapiClient) requestObject(issuer string, r *authzRequest, encryptTo *jose.JWK) (string, error) {
	s, err := jose.NewSigner(c.key, jose.SignerOptions{Algorithm: jose.ES256, KeyID: c.kid, Type: "oauth-authz-req+jwt"})
	if err != nil {
		return "", err
	}
	now := time.Now()
	claims := map[string]any{
		"iss": c.id,
		"aud": issuer,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
		"jti": randomString(),
	}
	for k, v := range r.Params {
		claims[k] = v[0]
	}
	jws, err := s.SignJSON(claims)
	if err != nil || encryptTo == nil {
		return jws, err
	}
	return jose.Encrypt([]byte(jws), encryptTo.Key, jose.EncryptOptions{
		KeyAlgorithm:      encryptTo.Algorithm,
		ContentEncryption: jose.A256GCM,
		KeyID:             encryptTo.KeyID,
		ContentType:       "JWT",
	})
}

// pushAuthorizationRequest sends the request object to the PAR endpoint
// and returns the request_uri. hc's transport authenticates the client
// (and adds DPoP, binding the code to the DPoP key, RFC 9449 §10).
func pushAuthorizationRequest(ctx context.Context, hc *http.Client, md *asMetadata, clientID, request string) (string, error) {
	form := url.Values{"client_id": {clientID}, "request": {request}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.PAREndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	body, err := readPeerResponse("PAR", resp)
	if err != nil {
		return "", err
	}
	var out struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("PAR: %w", err)
	}
	if out.RequestURI == "" || out.ExpiresIn <= 0 {
		return "", fmt.Errorf("PAR: response without request_uri or expires_in")
	}
	return out.RequestURI, nil
}

// authorizeURL is the front-channel URL after PAR: client_id and
// request_uri only (RFC 9126 §4).
func authorizeURL(md *asMetadata, clientID, requestURI string) string {
	return md.AuthorizationEndpoint + "?" + url.Values{"client_id": {clientID}, "request_uri": {requestURI}}.Encode()
}

// authorize plays the user agent: it follows the peer's redirects (the
// peer logs the user in by itself, see peer/server.mjs) until one goes to
// redirectURI, and returns that URL. No cookie jar is needed.
func authorize(ctx context.Context, hc *http.Client, authURL string) (*url.URL, error) {
	next := authURL
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			_, err := readPeerResponse("authorization", resp)
			if err == nil {
				err = fmt.Errorf("authorization: HTTP %d without redirect", resp.StatusCode)
			}
			return nil, err
		}
		httpx.DrainClose(resp.Body)
		loc, err := resp.Location()
		if err != nil {
			return nil, fmt.Errorf("authorization: %w", err)
		}
		if strings.HasPrefix(loc.String(), redirectURI+"?") || strings.HasPrefix(loc.String(), redirectURI+"#") {
			return loc, nil
		}
		next = loc.String()
	}
	return nil, errors.New("authorization: too many redirects")
}

// ---- JARM ----

// jarmResponse is the authorization response carried in a JARM JWT.
type jarmResponse struct {
	jose.Claims
	Code             string `json:"code"`
	State            string `json:"state"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// decodeJARM validates the callback's "response" JWT (decrypting it first
// when the client registered encryption) against the issuer's keys and
// returns the authorization response in it. It checks iss, aud, exp and
// state, and that the response is not an error.
func decodeJARM(callback *url.URL, md *asMetadata, keys jose.StaticKeys, c *fapiClient, state string) (*jarmResponse, error) {
	q := callback.Query()
	if e := q.Get("error"); e != "" {
		return nil, fmt.Errorf("authorization error (not JARM): %s: %s", e, q.Get("error_description"))
	}
	token := q.Get("response")
	if token == "" {
		return nil, errors.New("JARM: no response parameter")
	}
	if c.encKey != nil {
		plain, h, err := jose.Decrypt(token, []jose.DecryptionKey{{KeyID: c.encKID, Key: c.encKey}}, jose.DecryptOptions{
			KeyAlgorithms:      []string{jose.ECDHES},
			ContentEncryptions: []string{jose.A256GCM},
		})
		if err != nil {
			return nil, fmt.Errorf("JARM: %w", err)
		}
		if h.Alg != jose.ECDHES || h.Enc != jose.A256GCM {
			return nil, fmt.Errorf("JARM: JWE %s/%s", h.Alg, h.Enc)
		}
		token = string(plain)
	}
	jws, err := jose.ParseCompact(token)
	if err != nil {
		return nil, fmt.Errorf("JARM: %w", err)
	}
	if _, err := jws.VerifyWith(context.Background(), keys, []string{jose.ES256}); err != nil {
		return nil, fmt.Errorf("JARM: %w", err)
	}
	var r jarmResponse
	if err := json.Unmarshal(jws.Payload, &r); err != nil {
		return nil, fmt.Errorf("JARM: %w", err)
	}
	if err := r.Validate(jose.Expected{Issuer: md.Issuer, Audience: c.id, Now: time.Now(), Skew: 30 * time.Second, RequireExpiry: true}); err != nil {
		return nil, fmt.Errorf("JARM: %w", err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("JARM: authorization error %s: %s", r.Error, r.ErrorDescription)
	}
	if r.State != state {
		return nil, errors.New("JARM: state mismatch")
	}
	if r.Code == "" {
		return nil, errors.New("JARM: no code")
	}
	return &r, nil
}

// ---- DPoP (RFC 9449) ----

// dpopProver holds a DPoP key and the last nonce each origin sent.
type dpopProver struct {
	signer *jose.Signer
	jkt    string // RFC 7638 thumbprint of the public key

	mu     sync.Mutex
	nonces map[string]string // origin -> nonce
}

func newDPoPProver() (*dpopProver, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	s, err := jose.NewSigner(key, jose.SignerOptions{Algorithm: jose.ES256, Type: "dpop+jwt", EmbedJWK: true})
	if err != nil {
		return nil, err
	}
	jkt, err := jose.Thumbprint(key.Public())
	if err != nil {
		return nil, err
	}
	return &dpopProver{signer: s, jkt: jkt, nonces: map[string]string{}}, nil
}

// proof returns a DPoP proof for the request (RFC 9449 §4.2), with ath
// when accessToken is set and the origin's last nonce if it sent one.
func (d *dpopProver) proof(method string, u *url.URL, accessToken string) (string, error) {
	claims := map[string]any{
		"jti": randomString(),
		"htm": method,
		"htu": endpointOf(u),
		"iat": time.Now().Unix(),
	}
	if n := d.nonce(originOf(u)); n != "" {
		claims["nonce"] = n
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return d.signer.SignJSON(claims)
}

func (d *dpopProver) nonce(origin string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nonces[origin]
}

func (d *dpopProver) setNonce(origin, nonce string) {
	if nonce == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nonces[origin] = nonce
}

// dpopTransport adds a DPoP proof to every request, turns
// "Authorization: DPoP <at>" into a proof with ath, keeps the nonces the
// server sends, and retries once when the server answers use_dpop_nonce
// (400 from the AS, RFC 9449 §8; 401 from a resource, §9).
type dpopTransport struct {
	Base   http.RoundTripper
	Prover *dpopProver
	// Retries counts use_dpop_nonce retries, for the tests.
	Retries *int
}

func (t *dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.send(req)
	if err != nil || !isNonceChallenge(resp) {
		return resp, err
	}
	if req.Body != nil && req.GetBody == nil {
		return resp, nil
	}
	httpx.DrainClose(resp.Body)
	req2 := req.Clone(req.Context())
	if req.GetBody != nil {
		if req2.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	if t.Retries != nil {
		*t.Retries++
	}
	return t.send(req2)
}

func (t *dpopTransport) send(req *http.Request) (*http.Response, error) {
	at := ""
	if scheme, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "DPoP") {
		at = tok
	}
	p, err := t.Prover.proof(req.Method, req.URL, at)
	if err != nil {
		return nil, err
	}
	req2 := req.Clone(req.Context())
	req2.Header.Set("DPoP", p)
	resp, err := t.Base.RoundTrip(req2)
	if err != nil {
		return nil, err
	}
	t.Prover.setNonce(originOf(req.URL), resp.Header.Get("DPoP-Nonce"))
	return resp, nil
}

// isNonceChallenge reports a use_dpop_nonce error, and leaves resp's body
// readable.
func isNonceChallenge(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		cs, err := oautherr.ParseHeader(resp.Header)
		if err != nil {
			return false
		}
		c, ok := oautherr.Find(cs, "DPoP")
		return ok && c.Get("error") == "use_dpop_nonce"
	case http.StatusBadRequest:
		body, err := httpx.ReadBody(resp.Body, maxBody)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return false
		}
		oe, err := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body)
		return err == nil && oe.Code == "use_dpop_nonce"
	}
	return false
}

// ---- introspection (RFC 7662, RFC 9701) ----

// introspection is the part of an introspection response the tests check.
type introspection struct {
	Active    bool   `json:"active"`
	ClientID  string `json:"client_id"`
	Sub       string `json:"sub"`
	Scope     string `json:"scope"`
	TokenType string `json:"token_type"`
	Aud       any    `json:"aud"`
	Cnf       struct {
		JKT     string `json:"jkt"`
		X5TS256 string `json:"x5t#S256"`
	} `json:"cnf"`
}

// introspect asks the peer about token as the resource server client. With
// asJWT it asks for a signed response (RFC 9701) and verifies it.
func introspect(ctx context.Context, hc *http.Client, md *asMetadata, keys jose.StaticKeys, rs *secretClient, token string, asJWT bool) (*introspection, error) {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.IntrospectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rs.id), url.QueryEscape(rs.secret)) // RFC 6749 §2.3.1
	if asJWT {
		req.Header.Set("Accept", "application/token-introspection+jwt")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	ct := resp.Header.Get("Content-Type")
	body, err := readPeerResponse("introspection", resp)
	if err != nil {
		return nil, err
	}
	if asJWT {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/token-introspection+jwt" {
			return nil, fmt.Errorf("introspection: content type %q", ct)
		}
		if body, err = verifyIntrospectionJWT(md, keys, rs.id, string(body)); err != nil {
			return nil, err
		}
	}
	var out introspection
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("introspection: %w", err)
	}
	return &out, nil
}

// verifyIntrospectionJWT checks an RFC 9701 response and returns its
// token_introspection member.
func verifyIntrospectionJWT(md *asMetadata, keys jose.StaticKeys, audience, token string) ([]byte, error) {
	jws, err := jose.ParseCompact(token)
	if err != nil {
		return nil, fmt.Errorf("introspection JWT: %w", err)
	}
	if jws.Header.Typ != "token-introspection+jwt" {
		return nil, fmt.Errorf("introspection JWT: %w: %q", jose.ErrType, jws.Header.Typ)
	}
	if _, err := jws.VerifyWith(context.Background(), keys, []string{jose.ES256}); err != nil {
		return nil, fmt.Errorf("introspection JWT: %w", err)
	}
	var claims struct {
		jose.Claims
		TokenIntrospection json.RawMessage `json:"token_introspection"`
	}
	if err := json.Unmarshal(jws.Payload, &claims); err != nil {
		return nil, fmt.Errorf("introspection JWT: %w", err)
	}
	if err := claims.Validate(jose.Expected{Issuer: md.Issuer, Audience: audience, Now: time.Now(), Skew: 30 * time.Second}); err != nil {
		return nil, fmt.Errorf("introspection JWT: %w", err)
	}
	if len(claims.TokenIntrospection) == 0 {
		return nil, fmt.Errorf("introspection JWT: %w: token_introspection", jose.ErrMissingClaim)
	}
	return claims.TokenIntrospection, nil
}

// revoke revokes token at the peer (RFC 7009); hc authenticates the client.
func revoke(ctx context.Context, hc *http.Client, md *asMetadata, clientID, token string) error {
	form := url.Values{"token": {token}, "client_id": {clientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, md.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, err = readPeerResponse("revocation", resp)
	return err
}

// ---- access tokens (RFC 9068) ----

// jwtAccessToken verifies an at+jwt access token and returns its claims.
func jwtAccessToken(md *asMetadata, keys jose.StaticKeys, token, audience string) (map[string]any, error) {
	jws, err := jose.ParseCompact(token)
	if err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	if jws.Header.Typ != "at+jwt" {
		return nil, fmt.Errorf("access token: %w: %q", jose.ErrType, jws.Header.Typ)
	}
	if _, err := jws.VerifyWith(context.Background(), keys, []string{jose.ES256}); err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	var claims jose.Claims
	if err := json.Unmarshal(jws.Payload, &claims); err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	if err := claims.Validate(jose.Expected{Issuer: md.Issuer, Audience: audience, Now: time.Now(), Skew: 30 * time.Second, RequireExpiry: true}); err != nil {
		return nil, fmt.Errorf("access token: %w", err)
	}
	var all map[string]any
	return all, json.Unmarshal(jws.Payload, &all)
}

// ---- small helpers ----

// certThumbprint is the RFC 8705 §3.1 confirmation of a certificate:
// base64url(SHA-256(DER)).
func certThumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// endpointOf is u without query and fragment (the DPoP htu, RFC 9449 §4.2).
func endpointOf(u *url.URL) string {
	v := *u
	v.RawQuery, v.Fragment, v.RawFragment = "", "", ""
	return v.String()
}

func originOf(u *url.URL) string { return u.Scheme + "://" + u.Host }

func randomString() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
