package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwe"

	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Key management algorithms (RFC 7518 §4.1) supported for JWE.
const (
	RSAOAEP256   = "RSA-OAEP-256"
	ECDHES       = "ECDH-ES"
	ECDHESA128KW = "ECDH-ES+A128KW"
	ECDHESA192KW = "ECDH-ES+A192KW"
	ECDHESA256KW = "ECDH-ES+A256KW"
)

// Content encryption algorithms (RFC 7518 §5.1) supported for JWE.
const (
	A128GCM      = "A128GCM"
	A192GCM      = "A192GCM"
	A256GCM      = "A256GCM"
	A128CBCHS256 = "A128CBC-HS256"
	A192CBCHS384 = "A192CBC-HS384"
	A256CBCHS512 = "A256CBC-HS512"
)

// KeyAlgorithms lists every supported key management algorithm. RSA1_5,
// RSA-OAEP (SHA-1), direct symmetric keys and PBES2 are not supported.
var KeyAlgorithms = []string{RSAOAEP256, ECDHES, ECDHESA128KW, ECDHESA192KW, ECDHESA256KW}

// ContentEncryptions lists every supported content encryption algorithm.
var ContentEncryptions = []string{A128GCM, A192GCM, A256GCM, A128CBCHS256, A192CBCHS384, A256CBCHS512}

// JWEHeader is the protected header of a compact JWE.
type JWEHeader struct {
	// Alg is the key management algorithm (RFC 7516 §4.1.1).
	Alg string `json:"alg"`
	// Enc is the content encryption algorithm (RFC 7516 §4.1.2).
	Enc string `json:"enc"`
	// Kid is the recipient key's ID (RFC 7516 §4.1.6).
	Kid string `json:"kid,omitempty"`
	// Cty is the content type, "JWT" for a nested JWT (RFC 7516 §4.1.12).
	Cty string `json:"cty,omitempty"`
	// Typ is the media type of the whole JWE (RFC 7516 §4.1.11).
	Typ string `json:"typ,omitempty"`
}

// jweWireHeader is JWEHeader with the members parsing must inspect.
type jweWireHeader struct {
	JWEHeader
	Zip  json.RawMessage `json:"zip"`
	Crit json.RawMessage `json:"crit"`
}

var jweHeaderSchema = strictjson.SchemaOf(reflect.TypeFor[jweWireHeader]())

// EncryptOptions configures [Encrypt].
type EncryptOptions struct {
	// KeyAlgorithm is the JWE "alg". Empty means RSA-OAEP-256 for RSA keys
	// and ECDH-ES for EC keys.
	KeyAlgorithm string
	// ContentEncryption is the JWE "enc". Empty means A256GCM.
	ContentEncryption string
	// KeyID is the recipient key's "kid", copied to the JWE header.
	KeyID string
	// ContentType is the "cty" header. Set "JWT" for nested JWTs
	// (RFC 7519 §5.2).
	ContentType string
}

// Encrypt encrypts plaintext to recipient, an *rsa.PublicKey or
// *ecdsa.PublicKey, as a compact JWE.
func Encrypt(plaintext []byte, recipient crypto.PublicKey, opts EncryptOptions) (string, error) {
	pub, err := publicOf(recipient)
	if err != nil {
		return "", err
	}
	alg := opts.KeyAlgorithm
	if alg == "" {
		switch pub.(type) {
		case *rsa.PublicKey:
			alg = RSAOAEP256
		case *ecdsa.PublicKey:
			alg = ECDHES
		default:
			return "", fmt.Errorf("%w: %T cannot receive a JWE", ErrUnsupportedKey, pub)
		}
	}
	enc := opts.ContentEncryption
	if enc == "" {
		enc = A256GCM
	}
	if !slices.Contains(KeyAlgorithms, alg) || !slices.Contains(ContentEncryptions, enc) {
		return "", fmt.Errorf("%w: %q/%q", ErrAlgorithmNotAllowed, alg, enc)
	}
	if err := checkEncKey(alg, pub); err != nil {
		return "", err
	}
	h := jwe.NewHeaders()
	if opts.KeyID != "" {
		if err := h.Set(jwe.KeyIDKey, opts.KeyID); err != nil {
			return "", fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	if opts.ContentType != "" {
		if err := h.Set(jwe.ContentTypeKey, opts.ContentType); err != nil {
			return "", fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	out, err := jwe.Encrypt(plaintext,
		jwe.WithKey(jwa.KeyEncryptionAlgorithm(alg), pub),
		jwe.WithContentEncryption(jwa.ContentEncryptionAlgorithm(enc)),
		jwe.WithProtectedHeaders(h),
		jwe.WithCompact())
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrEncrypt, err)
	}
	return string(out), nil
}

func checkEncKey(alg string, pub crypto.PublicKey) error {
	switch pub.(type) {
	case *rsa.PublicKey:
		if alg == RSAOAEP256 {
			return nil
		}
	case *ecdsa.PublicKey:
		if alg != RSAOAEP256 {
			return nil
		}
	}
	return fmt.Errorf("%w: %s with %T", ErrKeyMismatch, alg, pub)
}

// DecryptionKey is a private key that can decrypt JWEs.
type DecryptionKey struct {
	// KeyID is the key's "kid"; a JWE naming a kid is decrypted only with
	// keys of that kid.
	KeyID string
	// Key is an *rsa.PrivateKey (RSA-OAEP-256) or an *ecdsa.PrivateKey
	// (ECDH-ES and ECDH-ES+AxxxKW); other types are skipped.
	Key crypto.PrivateKey
}

// DecryptOptions lists what [Decrypt] accepts.
type DecryptOptions struct {
	// KeyAlgorithms is the "alg" allow-list. Empty means [KeyAlgorithms].
	KeyAlgorithms []string
	// ContentEncryptions is the "enc" allow-list. Empty means
	// [ContentEncryptions].
	ContentEncryptions []string
}

// encInfo gives, per content encryption algorithm, the sizes RFC 7518 §5
// fixes: content encryption key, initialization vector and tag.
var encInfo = map[string]struct{ cek, iv, tag int }{
	A128GCM:      {16, 12, 16},
	A192GCM:      {24, 12, 16},
	A256GCM:      {32, 12, 16},
	A128CBCHS256: {32, 16, 16},
	A192CBCHS384: {48, 16, 24},
	A256CBCHS512: {64, 16, 32},
}

// checkJWESegments checks the encrypted key, IV, ciphertext and tag of a
// compact JWE against the sizes alg and enc imply, before any key is
// used: canonical base64url in every segment, an IV and tag of the algorithm's size, an
// AES-wrapped key of the content key's size plus 8 octets (RFC 3394), no
// encrypted key for direct ECDH-ES (RFC 7516 §5.2 step 10), whole AES
// blocks for CBC. Besides failing early, this keeps malformed input away
// from jwx, whose key unwrapping panics on an empty wrapped key.
func checkJWESegments(token string, h *JWEHeader) error {
	info, ok := encInfo[h.Enc]
	if !ok {
		return fmt.Errorf("%w: JWE enc", ErrAlgorithmNotAllowed)
	}
	seg := strings.SplitN(token, ".", 5)
	var n [5]int
	for i := 1; i < 5; i++ {
		b, err := b64.DecodeString(seg[i])
		if err != nil {
			return fmt.Errorf("%w: JWE segment %d encoding", ErrMalformed, i+1)
		}
		n[i] = len(b)
	}
	ek, iv, ct, tag := n[1], n[2], n[3], n[4]
	switch h.Alg {
	case ECDHES:
		if ek != 0 {
			return fmt.Errorf("%w: ECDH-ES with an encrypted key", ErrMalformed)
		}
	case ECDHESA128KW, ECDHESA192KW, ECDHESA256KW:
		if ek != info.cek+8 {
			return fmt.Errorf("%w: wrapped key length", ErrMalformed)
		}
	default: // RSA-OAEP-256: the key's modulus size, checked by crypto/rsa
		if ek == 0 {
			return fmt.Errorf("%w: no encrypted key", ErrMalformed)
		}
	}
	if iv != info.iv || tag != info.tag {
		return fmt.Errorf("%w: JWE IV or tag length", ErrMalformed)
	}
	if info.iv == 16 && (ct == 0 || ct%16 != 0) {
		return fmt.Errorf("%w: CBC ciphertext length", ErrMalformed)
	}
	return nil
}

// ParseJWEHeader decodes the protected header of a compact JWE without
// decrypting it. It requires five segments of canonical unpadded base64url
// (three segments is ErrNotEncrypted), a JSON object header without
// duplicate or case-variant member names, with string "alg" and "enc". It
// rejects "zip" (ErrAlgorithmNotAllowed: compression invites decompression
// bombs and no OAuth profile uses it) and "crit" (ErrCritical).
func ParseJWEHeader(token string) (*JWEHeader, error) {
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: token over %d bytes", ErrTooLarge, MaxTokenSize)
	}
	if Segments(token) != 5 {
		if Segments(token) == 3 {
			return nil, ErrNotEncrypted
		}
		return nil, fmt.Errorf("%w: not a compact JWE", ErrMalformed)
	}
	if !isB64(token) {
		return nil, fmt.Errorf("%w: invalid base64url", ErrMalformed)
	}
	hb, err := b64.DecodeString(token[:strings.IndexByte(token, '.')])
	if err != nil {
		return nil, fmt.Errorf("%w: JWE header encoding", ErrMalformed)
	}
	if err := checkObject(hb, jweHeaderSchema); err != nil {
		return nil, fmt.Errorf("%w: JWE header", err)
	}
	var raw jweWireHeader
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, fmt.Errorf("%w: JWE header member types", ErrMalformed)
	}
	if raw.Crit != nil {
		return nil, ErrCritical
	}
	if raw.Zip != nil {
		return nil, fmt.Errorf("%w: compressed JWE", ErrAlgorithmNotAllowed)
	}
	if raw.Alg == "" || raw.Enc == "" {
		return nil, fmt.Errorf("%w: JWE header lacks alg or enc", ErrMalformed)
	}
	h := raw.JWEHeader
	return &h, nil
}

// Decrypt decrypts a compact JWE. It checks "alg" and "enc" against the
// allow-lists (ErrAlgorithmNotAllowed) and the header as ParseJWEHeader
// does before any key is used, then tries the keys whose type fits "alg"
// and whose KeyID equals the header's kid (keys without a KeyID are tried
// for any kid; all keys when the header has none). No such key is
// ErrNoMatchingKey; keys that all fail is ErrDecrypt, whatever the cause,
// so that failures reveal nothing. A JWS given where a JWE is expected is
// ErrNotEncrypted.
func Decrypt(token string, keys []DecryptionKey, opts DecryptOptions) ([]byte, *JWEHeader, error) {
	h, err := ParseJWEHeader(token)
	if err != nil {
		return nil, nil, err
	}
	algs, encs := opts.KeyAlgorithms, opts.ContentEncryptions
	if len(algs) == 0 {
		algs = KeyAlgorithms
	}
	if len(encs) == 0 {
		encs = ContentEncryptions
	}
	if !slices.Contains(algs, h.Alg) || !slices.Contains(KeyAlgorithms, h.Alg) {
		return nil, nil, fmt.Errorf("%w: JWE alg %q", ErrAlgorithmNotAllowed, truncate(h.Alg, 32))
	}
	if !slices.Contains(encs, h.Enc) || !slices.Contains(ContentEncryptions, h.Enc) {
		return nil, nil, fmt.Errorf("%w: JWE enc %q", ErrAlgorithmNotAllowed, truncate(h.Enc, 32))
	}
	if err := checkJWESegments(token, h); err != nil {
		return nil, nil, err
	}
	tried := false
	for _, k := range keys {
		if h.Kid != "" && k.KeyID != "" && k.KeyID != h.Kid {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey:
		default:
			continue
		}
		pub, err := publicOf(k.Key)
		if err != nil || checkEncKey(h.Alg, pub) != nil {
			continue
		}
		tried = true
		var m jwe.Message
		pt, err := jwe.Decrypt([]byte(token), jwe.WithKey(jwa.KeyEncryptionAlgorithm(h.Alg), k.Key), jwe.WithMessage(&m))
		if err != nil {
			continue
		}
		// jwx checks alg against the key; enc is checked above, and again
		// here against what jwx actually used.
		if string(m.ProtectedHeaders().ContentEncryption()) != h.Enc {
			return nil, nil, fmt.Errorf("%w: JWE enc changed", ErrDecrypt)
		}
		return pt, h, nil
	}
	if !tried {
		return nil, nil, fmt.Errorf("%w: no decryption key for the JWE", ErrNoMatchingKey)
	}
	return nil, nil, ErrDecrypt
}
