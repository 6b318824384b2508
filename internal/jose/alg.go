package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Signature algorithm names (RFC 7518 §3.1, RFC 8037 §3.1).
const (
	ES256 = "ES256"
	ES384 = "ES384"
	ES512 = "ES512"
	PS256 = "PS256"
	PS384 = "PS384"
	PS512 = "PS512"
	RS256 = "RS256"
	RS384 = "RS384"
	RS512 = "RS512"
	EdDSA = "EdDSA"
)

// DefaultAlgorithms is the FAPI 2.0 allow-list used when a caller leaves
// its list empty: ES256, PS256 and EdDSA.
var DefaultAlgorithms = []string{ES256, PS256, EdDSA}

// MinRSABits is the smallest RSA modulus accepted for signing, verifying
// or encrypting.
const MinRSABits = 2048

// MaxRSABits is the largest RSA modulus accepted: it bounds the cost of a
// verification with an attacker-supplied key.
const MaxRSABits = 16384

// MaxProofRSABits is the largest RSA modulus accepted in a DPoP proof's
// "jwk": that key is an unauthenticated client's choice, checked before
// anything else is known of the client, and the cost of one verification
// grows with the modulus (an RSA-16384 proof costs some 20 ms of CPU, an
// ES256 one some 50 µs), so larger keys would let a few requests a second
// saturate an endpoint.
const MaxProofRSABits = 4096

type family int

const (
	famEC family = iota + 1
	famPSS
	famPKCS1
	famEd
)

type algInfo struct {
	fam   family
	hash  crypto.Hash
	curve elliptic.Curve // for famEC
	size  int            // EC coordinate size in bytes
}

func algorithm(alg string) (algInfo, bool) {
	switch alg {
	case ES256:
		return algInfo{famEC, crypto.SHA256, elliptic.P256(), 32}, true
	case ES384:
		return algInfo{famEC, crypto.SHA384, elliptic.P384(), 48}, true
	case ES512:
		return algInfo{famEC, crypto.SHA512, elliptic.P521(), 66}, true
	case PS256:
		return algInfo{famPSS, crypto.SHA256, nil, 0}, true
	case PS384:
		return algInfo{famPSS, crypto.SHA384, nil, 0}, true
	case PS512:
		return algInfo{famPSS, crypto.SHA512, nil, 0}, true
	case RS256:
		return algInfo{famPKCS1, crypto.SHA256, nil, 0}, true
	case RS384:
		return algInfo{famPKCS1, crypto.SHA384, nil, 0}, true
	case RS512:
		return algInfo{famPKCS1, crypto.SHA512, nil, 0}, true
	case EdDSA:
		return algInfo{famEd, 0, nil, 0}, true
	}
	return algInfo{}, false
}

// Supported reports whether alg is a signature algorithm this package
// implements. "none" and HS* are never supported.
func Supported(alg string) bool {
	_, ok := algorithm(alg)
	return ok
}

// CheckAlgorithms validates an allow-list: it must be non-empty and name
// only supported algorithms. A nil or empty list is ErrNoAlgorithms; callers
// that have a default substitute it before calling.
func CheckAlgorithms(algs []string) error {
	if len(algs) == 0 {
		return ErrNoAlgorithms
	}
	for _, a := range algs {
		if !Supported(a) {
			return fmt.Errorf("%w: %q", ErrAlgorithmNotAllowed, a)
		}
	}
	return nil
}

// allowed reports whether alg is in list.
func allowed(alg string, list []string) bool {
	return Supported(alg) && slices.Contains(list, alg)
}

// AlgorithmFor returns the default signature algorithm for a public key
// (or a private key, crypto.Signer or *JWK): ES256/ES384/ES512 by curve,
// EdDSA for Ed25519, PS256 for RSA.
func AlgorithmFor(pub crypto.PublicKey) (string, error) {
	n, err := normalize(pub)
	if err != nil {
		return "", err
	}
	switch k := n.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return ES256, nil
		case elliptic.P384():
			return ES384, nil
		case elliptic.P521():
			return ES512, nil
		}
	case ed25519.PublicKey:
		return EdDSA, nil
	case *rsa.PublicKey:
		return PS256, nil
	}
	return "", fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
}

// checkKey reports whether pub, a key returned by normalize, can be used
// with alg.
func checkKey(info algInfo, pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k == nil {
			return ErrUnsupportedKey
		}
		if info.fam == famEC && k.Curve == info.curve {
			return nil
		}
	case ed25519.PublicKey:
		if info.fam == famEd && len(k) == ed25519.PublicKeySize {
			return nil
		}
	case *rsa.PublicKey:
		if k == nil {
			return ErrUnsupportedKey
		}
		if info.fam == famPSS || info.fam == famPKCS1 {
			return checkRSASize(k)
		}
	case nil:
		return ErrUnsupportedKey
	}
	return ErrKeyMismatch
}

// digest hashes input with h into buf and returns the digest, without
// allocating.
func digest(h crypto.Hash, input []byte, buf *[64]byte) []byte {
	switch h {
	case crypto.SHA256:
		*(*[32]byte)(buf[:32]) = sha256.Sum256(input)
		return buf[:32]
	case crypto.SHA384:
		*(*[48]byte)(buf[:48]) = sha512.Sum384(input)
		return buf[:48]
	default:
		*buf = sha512.Sum512(input)
		return buf[:]
	}
}

// signRaw signs input with signer under alg and returns the JWS signature
// octets (R||S for ECDSA, RFC 7518 §3.4). pub is the signer's normalized
// public key. A signature of the wrong size is an error, so a faulty
// signer (an HSM or KMS returning another format) never yields a token
// that cannot verify.
//
// An ECDSA signature is written into scratch when it has room.
func signRaw(rand io.Reader, signer crypto.Signer, pub crypto.PublicKey, info algInfo, input, scratch []byte) ([]byte, error) {
	var buf [64]byte
	switch info.fam {
	case famEd:
		sig, err := signer.Sign(rand, input, crypto.Hash(0))
		if err != nil {
			return nil, err
		}
		if len(sig) != ed25519.SignatureSize {
			return nil, fmt.Errorf("%w: signer returned a %d-byte Ed25519 signature", ErrMalformed, len(sig))
		}
		return sig, nil
	case famEC:
		der, err := signer.Sign(rand, digest(info.hash, input, &buf), info.hash)
		if err != nil {
			return nil, err
		}
		return derToRaw(scratch[:0], der, info.size)
	case famPSS, famPKCS1:
		var opts crypto.SignerOpts = info.hash
		if info.fam == famPSS {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.hash}
		}
		sig, err := signer.Sign(rand, digest(info.hash, input, &buf), opts)
		if err != nil {
			return nil, err
		}
		if k, ok := pub.(*rsa.PublicKey); !ok || len(sig) != k.Size() {
			return nil, fmt.Errorf("%w: signer returned an RSA signature of the wrong size", ErrMalformed)
		}
		return sig, nil
	}
	return nil, ErrAlgorithmNotAllowed
}

// verifyRaw checks sig over input with pub under alg. The key was checked
// against the algorithm by checkKey.
func verifyRaw(info algInfo, pub crypto.PublicKey, input, sig []byte) error {
	var buf [64]byte
	switch info.fam {
	case famEd:
		if len(sig) == ed25519.SignatureSize && ed25519.Verify(pub.(ed25519.PublicKey), input, sig) {
			return nil
		}
	case famEC:
		if len(sig) != 2*info.size {
			return ErrInvalidSignature
		}
		var der [2*66 + 9]byte
		if ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest(info.hash, input, &buf), rawToDER(der[:0], sig, info.size)) {
			return nil
		}
	case famPSS:
		if rsa.VerifyPSS(pub.(*rsa.PublicKey), info.hash, digest(info.hash, input, &buf), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.hash}) == nil {
			return nil
		}
	case famPKCS1:
		if rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), info.hash, digest(info.hash, input, &buf), sig) == nil {
			return nil
		}
	}
	return ErrInvalidSignature
}

// derToRaw converts an ASN.1 DER ECDSA signature (SEQUENCE { r INTEGER,
// s INTEGER }) to the fixed-size R||S form of RFC 7518 §3.4, appended to
// dst. It accepts
// non-minimal length and integer encodings (some HSMs produce them) but
// nothing that does not fit: a negative or zero r or s, an integer wider
// than the curve, trailing bytes.
func derToRaw(dst, der []byte, size int) ([]byte, error) {
	bad := errBadDER
	seq, ok := derElem(der, 0x30)
	if !ok || len(seq.tail) != 0 {
		return nil, bad
	}
	r, ok := derElem(seq.body, 0x02)
	if !ok {
		return nil, bad
	}
	s, ok := derElem(r.tail, 0x02)
	if !ok || len(s.tail) != 0 {
		return nil, bad
	}
	dst = slices.Grow(dst, 2*size)
	out := dst[len(dst) : len(dst)+2*size]
	clear(out)
	if !putInt(out[:size], r.body) || !putInt(out[size:], s.body) {
		return nil, bad
	}
	return dst[:len(dst)+2*size], nil
}

var errBadDER = fmt.Errorf("%w: signer returned a malformed ECDSA signature", ErrMalformed)

type derPart struct{ body, tail []byte }

// derElem reads one TLV with the given tag, with a definite length in
// short form or in long form of one or two octets.
func derElem(b []byte, tag byte) (derPart, bool) {
	if len(b) < 2 || b[0] != tag {
		return derPart{}, false
	}
	n := int(b[1])
	off := 2
	switch {
	case n < 0x80:
	case n == 0x81:
		if len(b) < 3 {
			return derPart{}, false
		}
		n, off = int(b[2]), 3
	case n == 0x82:
		if len(b) < 4 {
			return derPart{}, false
		}
		n, off = int(b[2])<<8|int(b[3]), 4
	default:
		return derPart{}, false
	}
	if len(b)-off < n {
		return derPart{}, false
	}
	return derPart{b[off : off+n], b[off+n:]}, true
}

// putInt writes a positive DER INTEGER body right-aligned into dst.
func putInt(dst, v []byte) bool {
	if len(v) == 0 || v[0]&0x80 != 0 {
		return false
	}
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > len(dst) || len(v) == 1 && v[0] == 0 {
		return false
	}
	copy(dst[len(dst)-len(v):], v)
	return true
}

// rawToDER appends the DER encoding of an R||S signature to dst.
func rawToDER(dst, sig []byte, size int) []byte {
	r, s := trimInt(sig[:size]), trimInt(sig[size:])
	lr, ls := intLen(r), intLen(s)
	body := 2 + lr + 2 + ls
	dst = append(dst, 0x30)
	if body >= 0x80 {
		dst = append(dst, 0x81)
	}
	dst = append(dst, byte(body))
	dst = appendInt(dst, r, lr)
	return appendInt(dst, s, ls)
}

func trimInt(v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	return v
}

func intLen(v []byte) int {
	if v[0]&0x80 != 0 {
		return len(v) + 1
	}
	return len(v)
}

func appendInt(dst, v []byte, n int) []byte {
	dst = append(dst, 0x02, byte(n))
	if n > len(v) {
		dst = append(dst, 0)
	}
	return append(dst, v...)
}

// TypeIs reports whether a "typ" (or "cty") header value names the media
// type want, compared as RFC 7515 §4.1.9 asks: case-insensitively, with an
// optional "application/" prefix on either side. TypeIs("application/DPoP+JWT",
// "dpop+jwt") is true; a type with parameters matches nothing.
func TypeIs(typ, want string) bool {
	strip := func(s string) string {
		if len(s) > len("application/") && strings.EqualFold(s[:len("application/")], "application/") {
			return s[len("application/"):]
		}
		return s
	}
	t, w := strip(typ), strip(want)
	return t != "" && !strings.ContainsAny(t, ";/ ") && strings.EqualFold(t, w)
}
