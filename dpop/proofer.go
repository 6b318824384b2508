package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// ProofType is the "typ" header of a DPoP proof (RFC 9449 §4.2).
const ProofType = "dpop+jwt"

// JKTParam is the authorization request parameter that binds the
// authorization code to a DPoP key (RFC 9449 §10,
// https://datatracker.ietf.org/doc/html/rfc9449#section-10).
const JKTParam = "dpop_jkt"

// clientAlgs are the algorithms a [Proofer] signs with. RSASSA-PKCS1-v1_5
// (RS*) is not offered: FAPI 2.0 does not allow it.
var clientAlgs = []string{jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

// jtiBytes is the randomness of a proof's jti: 128 bits, above the 96 bits
// RFC 9449 §11.1 asks for.
const jtiBytes = 16

var b64 = base64.RawURLEncoding.Strict()

// GenerateKey returns a new ECDSA P-256 key, the default DPoP key (ES256).
// DPoP-bound refresh tokens (RFC 9449 §5) only work with the key they are
// bound to: persist it with the root package's key functions
// (hardened.MarshalPrivateKey, hardened.ParsePrivateKey), the module's one
// place for key files.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// ProoferConfig configures [NewProofer].
type ProoferConfig struct {
	// Key signs the proofs. Any crypto.Signer works (KMS, HSM, PKCS#11),
	// as long as its public key is ECDSA P-256/P-384/P-521, Ed25519 or RSA
	// of 2048 bits or more. Required.
	Key crypto.Signer
	// Algorithm is the JWS algorithm. Empty selects it from the key: ES256
	// for P-256 (the default and recommended key), ES384, ES512, EdDSA for
	// Ed25519, PS256 for RSA. It must be one of ES256, ES384, ES512, PS256,
	// PS384, PS512 or EdDSA (RS* is not offered: FAPI 2.0 forbids it) and
	// fit the key.
	Algorithm string
	// Now returns the time written as "iat". Nil means time.Now.
	Now func() time.Time
}

// Proofer mints DPoP proofs (RFC 9449 §4.2) with one key. Its protected
// header and key thumbprint are computed once by [NewProofer], so minting a
// proof costs little more than the signature. A Proofer is safe for
// concurrent use if its key is.
type Proofer struct {
	signer *jose.Signer
	jkt    string
	now    func() time.Time
}

// NewProofer returns a Proofer for c.Key. It is a constructor, rather than
// a zero-value struct, because it caches the encoded header and the key
// thumbprint; an unusable key or algorithm is reported here, once.
func NewProofer(c ProoferConfig) (*Proofer, error) {
	if c.Key == nil {
		return nil, configError("ProoferConfig.Key", "required")
	}
	const keys = "must be ECDSA P-256, P-384 or P-521, Ed25519, or RSA of 2048 bits or more"
	alg := c.Algorithm
	if alg == "" {
		a, err := jose.AlgorithmFor(c.Key.Public())
		if err != nil {
			return nil, configError("ProoferConfig.Key", keys)
		}
		alg = a
	}
	if !contains(clientAlgs, alg) {
		return nil, configError("ProoferConfig.Algorithm", fmt.Sprintf("%q is not a DPoP proof algorithm (ES256, ES384, ES512, PS256, PS384, PS512, EdDSA)", truncate(alg, 32)))
	}
	s, err := jose.NewSigner(c.Key, jose.SignerOptions{Algorithm: alg, Type: ProofType, EmbedJWK: true})
	if err != nil {
		if errors.Is(err, jose.ErrKeyMismatch) {
			return nil, configError("ProoferConfig.Algorithm", "does not fit the key")
		}
		return nil, configError("ProoferConfig.Key", keys)
	}
	jkt, err := jose.Thumbprint(s.Public())
	if err != nil {
		return nil, configError("ProoferConfig.Key", keys)
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &Proofer{signer: s, jkt: jkt, now: now}, nil
}

// JKT returns the RFC 7638 SHA-256 thumbprint of the proof key, base64url
// encoded: the value of "dpop_jkt" (RFC 9449 §10) and of a bound token's
// cnf.jkt (RFC 9449 §6).
func (p *Proofer) JKT() string { return p.jkt }

// Algorithm returns the JWS algorithm of the proofs.
func (p *Proofer) Algorithm() string { return p.signer.Algorithm() }

// Public returns the proof key's public key.
func (p *Proofer) Public() crypto.PublicKey { return p.signer.Public() }

// ProofOptions are the optional claims of a proof.
type ProofOptions struct {
	// AccessToken, when set, adds "ath", the hash of the access token the
	// proof accompanies (required at a resource server, RFC 9449 §4.2).
	AccessToken string
	// Nonce, when set, adds the server-provided "nonce" (RFC 9449 §8, §9).
	Nonce string
}

// Proof returns a new proof for an HTTP request with the given method and
// target URI. The URI's query and fragment are dropped, its scheme and host
// lower-cased and a default port removed ("htu", RFC 9449 §4.2). Every call
// uses a fresh random "jti".
func (p *Proofer) Proof(method, uri string, o ProofOptions) (string, error) {
	if isPlainHTU(uri) {
		return p.proof(method, uri, o.AccessToken, o.Nonce)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("%w: request URI does not parse", ErrInvalidRequest)
	}
	htu, err := htuOf(u)
	if err != nil {
		return "", err
	}
	return p.proof(method, htu, o.AccessToken, o.Nonce)
}

// isPlainHTU reports whether uri already is its own htu: http or https,
// a lower-case host without port or userinfo, a non-empty path of
// characters that need no escaping, no query, no fragment. Such URIs (the
// common case) skip url.Parse.
func isPlainHTU(uri string) bool {
	rest, ok := strings.CutPrefix(uri, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(uri, "http://"); !ok {
			return false
		}
	}
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.':
		case i >= slash && (c >= 'A' && c <= 'Z' || c == '/' || c == '_' || c == '~'):
		default:
			return false
		}
	}
	return true
}

// htuOf returns the htu of a request URL.
func htuOf(u *url.URL) (string, error) {
	origin, err := originOf(u)
	if err != nil {
		return "", fmt.Errorf("%w: request URI is not an absolute http(s) URI", ErrInvalidRequest)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return origin + path, nil
}

// proof builds the claims by hand (no reflection on the hot path) and signs
// them.
func (p *Proofer) proof(method, htu, accessToken, nonce string) (string, error) {
	if !isToken(method) {
		return "", fmt.Errorf("%w: invalid HTTP method", ErrInvalidRequest)
	}
	var rnd [jtiBytes]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand.Read never fails (Go 1.24+)
	var arr [512]byte
	b := append(arr[:0], `{"jti":"`...)
	n := b64.EncodedLen(jtiBytes)
	b = b[:len(b)+n]
	b64.Encode(b[len(b)-n:], rnd[:])
	b = append(b, `","htm":`...)
	b = appendJSONString(b, method)
	b = append(b, `,"htu":`...)
	b = appendJSONString(b, htu)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, p.now().Unix(), 10)
	if accessToken != "" {
		b = append(b, `,"ath":"`...)
		b = appendATH(b, accessToken)
		b = append(b, '"')
	}
	if nonce != "" {
		b = append(b, `,"nonce":`...)
		b = appendJSONString(b, nonce)
	}
	b = append(b, '}')
	jws, err := p.signer.Sign(b)
	if err != nil {
		return "", fmt.Errorf("dpop: signing proof: %w", err)
	}
	return jws, nil
}

// AccessTokenHash returns the "ath" of an access token: the unpadded
// base64url SHA-256 of its ASCII octets (RFC 9449 §4.2).
func AccessTokenHash(accessToken string) string {
	var arr [43]byte
	return string(appendATH(arr[:0], accessToken))
}

func appendATH(b []byte, accessToken string) []byte {
	var sum [sha256.Size]byte
	if len(accessToken) <= 512 {
		var tb [512]byte // hash without converting (and allocating) a copy
		sum = sha256.Sum256(append(tb[:0], accessToken...))
	} else {
		sum = sha256.Sum256([]byte(accessToken))
	}
	var enc [43]byte // base64url length of 32 octets
	b64.Encode(enc[:], sum[:])
	return append(b, enc[:]...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// isToken reports whether s is an RFC 9110 token (an HTTP method).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c < 0x80 && tcharPunct[c]) {
			return false
		}
	}
	return true
}

var tcharPunct = [128]bool{'!': true, '#': true, '$': true, '%': true, '&': true, '\'': true, '*': true, '+': true, '-': true, '.': true, '^': true, '_': true, '`': true, '|': true, '~': true}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// JKTOption returns the authorization request option that binds the
// authorization code to the DPoP key with thumbprint jkt (RFC 9449 §10):
//
//	url := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(v), dpop.JKTOption(p.JKT()))
func JKTOption(jkt string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam(JKTParam, jkt)
}

// SetJKT sets the "dpop_jkt" parameter in the parameters of a pushed
// authorization request (RFC 9126) or any authorization request built as
// url.Values (RFC 9449 §10).
func SetJKT(params url.Values, jkt string) {
	params.Set(JKTParam, jkt)
}
