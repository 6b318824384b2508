package dpop

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Limits of the client transport.
const (
	// MaxNonceOrigins bounds the origins whose nonces a [Transport]
	// remembers: it keeps at most 2×MaxNonceOrigins nonces in all (an
	// authorization server's and a resource server's nonce are kept apart,
	// even on one origin); past that, an arbitrary entry is forgotten, which
	// costs that server one use_dpop_nonce round trip.
	MaxNonceOrigins = 256
	// maxNonceBytes bounds a DPoP-Nonce value the transport keeps.
	maxNonceBytes = 2048
	// maxErrorBody bounds the 400 body read to look for use_dpop_nonce.
	maxErrorBody = 64 << 10
)

// Transport is an http.RoundTripper that adds a DPoP proof to every
// request (RFC 9449, https://datatracker.ietf.org/doc/html/rfc9449). It
// composes with golang.org/x/oauth2 in both places a client needs it:
//
//   - Token and PAR requests: put an *http.Client using the Transport in
//     the context under oauth2.HTTPClient; Exchange and refreshes then
//     carry a proof, and the authorization server's nonce is handled.
//   - Resource requests: conf.Client(ctx, tok) wraps that client's
//     transport in an oauth2.Transport, which sets Authorization. The
//     Transport sits beneath it and adds a proof with "ath".
//
// # Access tokens
//
// x/oauth2's Token.Type returns "DPoP" when the token response's
// token_type is DPoP, and oauth2.Transport then sends
// "Authorization: DPoP <token>" itself. The Transport recognizes that
// scheme in any case, rewrites it as "DPoP", and adds "ath" to the proof.
// A token that reaches it with the Bearer scheme (an oauth2.Token restored
// from storage without TokenType, or a TokenSource that does not set it)
// is sent as is, with "ath" in the proof, unless UpgradeBearer is set, in
// which case it is sent as "Authorization: DPoP <token>". Other schemes
// (e.g. Basic client authentication at the token endpoint) are left alone
// and get a proof without "ath".
//
// # Nonces
//
// The DPoP-Nonce of every response, successful or not, is remembered per
// origin, separately for authorization servers (requests without an
// access token) and resource servers (requests with one), and put in the
// next proofs to that origin (RFC 9449 §8 and §9). When a response is
// 400 with a JSON error "use_dpop_nonce", or 401 with a DPoP challenge
// whose error is "use_dpop_nonce", carries a nonce other than the one just
// sent, and the request can be replayed (no body, or req.GetBody set), the
// request is sent once more with a new proof (fresh jti) and the new
// nonce; its body comes from req.GetBody, so a transport beneath that
// re-creates the body (a new client assertion per attempt) sees two
// distinct requests. This goes against http.RoundTripper's "RoundTrip
// should not attempt to interpret the response": the nonce protocol
// requires it, and doing it here keeps the retry under x/oauth2's own code.
//
// The Transport clones each request rather than modifying it, closes the
// request body on every path, and is safe for concurrent use. It must not
// be copied after first use.
type Transport struct {
	// Base sends the requests. Nil means the module's shared default
	// transport (dial, TLS handshake and response header timeouts, TLS 1.2
	// or later), never http.DefaultTransport. Under the root package's
	// client stack, Base is its AuthTransport.
	Base http.RoundTripper
	// Proofer mints the proofs. Required: a nil Proofer makes RoundTrip
	// fail with a [*ConfigError].
	Proofer *Proofer
	// UpgradeBearer sends access tokens that arrive with the Bearer scheme
	// as "Authorization: DPoP <token>". Set it when all tokens used
	// through this Transport are DPoP-bound but may lack their token type.
	UpgradeBearer bool

	mu     sync.Mutex
	nonces map[nonceKey]string
}

type nonceKey struct {
	resource bool
	origin   string
}

func (t *Transport) base() http.RoundTripper { return httpx.Transport(t.Base) }

// Nonce returns the nonce remembered for an origin ("https://as.example"),
// for an authorization server (resource false) or a resource server. It is
// meant for diagnostics and tests.
func (t *Transport) Nonce(origin string, resource bool) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nonces[nonceKey{resource, origin}]
}

func (t *Transport) nonce(k nonceKey) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nonces[k]
}

func (t *Transport) remember(k nonceKey, resp *http.Response) string {
	if resp == nil {
		return ""
	}
	n := resp.Header.Get("DPoP-Nonce")
	if !validNonce(n) {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nonces == nil {
		t.nonces = make(map[nonceKey]string)
	}
	if _, ok := t.nonces[k]; !ok && len(t.nonces) >= 2*MaxNonceOrigins {
		for old := range t.nonces {
			delete(t.nonces, old)
			break
		}
	}
	t.nonces[k] = n
	return n
}

// validNonce reports whether n is a nonce value of RFC 9449 §8.1:
// 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E, of bounded length.
func validNonce(n string) bool {
	if n == "" || len(n) > maxNonceBytes {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Proofer == nil {
		httpx.CloseBody(req)
		return nil, configError("Transport.Proofer", "required")
	}
	htu, err := htuOf(req.URL)
	if err != nil {
		httpx.CloseBody(req)
		return nil, err
	}
	origin, _ := originOf(req.URL)

	req2 := req.Clone(req.Context())
	token := t.accessToken(req2.Header)
	key := nonceKey{resource: token != "", origin: origin}
	sent := t.nonce(key)
	proof, err := t.Proofer.proof(req.Method, htu, token, sent)
	if err != nil {
		httpx.CloseBody(req)
		return nil, err
	}
	req2.Header.Set("DPoP", proof)
	resp, err := t.base().RoundTrip(req2) // closes req2.Body, i.e. req.Body
	if err != nil {
		return nil, err
	}
	fresh := t.remember(key, resp)
	if fresh == "" || fresh == sent || !replayable(req) || !nonceRequested(resp) {
		return resp, nil
	}
	retry, err := httpx.CloneForRetry(req2) // calls GetBody: a new body
	if err != nil {
		return resp, nil
	}
	proof, err = t.Proofer.proof(req.Method, htu, token, fresh)
	if err != nil {
		httpx.CloseBody(retry)
		return resp, nil
	}
	httpx.DrainClose(resp.Body)
	retry.Header.Set("DPoP", proof)
	resp, err = t.base().RoundTrip(retry)
	if err != nil {
		return nil, err
	}
	t.remember(key, resp)
	return resp, nil
}

// accessToken finds the access token in the Authorization header, rewrites
// a DPoP scheme (or a Bearer scheme with UpgradeBearer) to "DPoP", and
// returns the token; "" when there is none.
func (t *Transport) accessToken(h http.Header) string {
	vals := h["Authorization"]
	if len(vals) != 1 {
		return ""
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	tok = strings.TrimLeft(tok, " ")
	if !ok || tok == "" {
		return ""
	}
	switch {
	case strings.EqualFold(scheme, "DPoP"):
		h.Set("Authorization", "DPoP "+tok)
	case strings.EqualFold(scheme, "Bearer"):
		if t.UpgradeBearer {
			h.Set("Authorization", "DPoP "+tok)
		}
	default:
		return ""
	}
	return tok
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// nonceRequested reports whether resp asks for a (new) nonce: 400 with a
// JSON error "use_dpop_nonce" (RFC 9449 §8) or 401 with a DPoP challenge
// whose error is "use_dpop_nonce" (§9). The 400 body is read (bounded) and
// put back, so the caller still sees it whole.
func nonceRequested(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		cs, err := oautherr.ParseHeader(resp.Header)
		if err != nil {
			return false
		}
		for _, c := range cs {
			if c.Is("DPoP") && c.Get("error") == CodeUseNonce {
				return true
			}
		}
		return false
	case http.StatusBadRequest:
		if resp.Body == nil || !oautherr.IsJSON(resp.Header.Get("Content-Type")) {
			return false
		}
		body := resp.Body
		b, err := io.ReadAll(io.LimitReader(body, maxErrorBody+1))
		var tail io.Reader = body
		if err != nil {
			tail = errReader{err}
		}
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(b), tail), body}
		if err != nil || len(b) > maxErrorBody {
			return false
		}
		e, perr := oautherr.Parse(resp.StatusCode, resp.Header.Get("Content-Type"), b)
		return perr == nil && e.Code == CodeUseNonce
	}
	return false
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

// Read returns the stored error.
func (e errReader) Read([]byte) (int, error) { return 0, e.err }
