package jose

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
)

// HalfHash is the OpenID Connect at_hash / c_hash of value for a token
// signed with alg (OpenID Connect Core §3.1.3.6 and §3.3.2.11,
// https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken): the
// base64url encoding of the left half of its hash under the hash function
// of alg. EdDSA (Ed25519) uses SHA-512, as the OpenID Connect errata set 2
// specifies. It is the one implementation the client (ID token checks) and
// the embedded server (ID token issuance) share.
func HalfHash(alg, value string) string {
	var sum []byte
	switch alg {
	case ES384, PS384, RS384:
		s := sha512.Sum384([]byte(value))
		sum = s[:]
	case ES512, PS512, RS512, EdDSA:
		s := sha512.Sum512([]byte(value))
		sum = s[:]
	default:
		s := sha256.Sum256([]byte(value))
		sum = s[:]
	}
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}
