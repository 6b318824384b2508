package jose

import (
	"crypto"
)

// VerifySignature checks a JWS signature for callers that split and decode
// the compact serialization themselves (the DPoP verifier does, to read
// the header once and avoid encoding/json on its hot path). It performs the
// same checks as [JWS.Verify]: alg must be supported and in algs (never
// "none" or HS*), pub must fit alg (type, curve, RSA size), and sig (R||S
// for ECDSA, RFC 7518 §3.4) must verify over signingInput, the ASCII
// "header.payload" octets.
//
// pub must be an *ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey as
// produced by a parser that validated it (for ECDSA, a point on the curve,
// e.g. from ecdsa.ParseUncompressedPublicKey); it is not re-validated here,
// which saves an encoding round trip per call. An invalid point still
// fails verification. The function does not allocate for ECDSA keys beyond
// what crypto/ecdsa itself does.
func VerifySignature(alg string, algs []string, pub crypto.PublicKey, signingInput, sig []byte) error {
	if err := checkAllowed(alg, algs); err != nil {
		return err
	}
	return verifyKey(alg, pub, signingInput, sig)
}
