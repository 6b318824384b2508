package httpx

import (
	"fmt"
	"net/http"
	"strings"
)

// MaxCredentialsBytes bounds the token [Authorization] accepts: 64 KiB.
const MaxCredentialsBytes = 64 << 10

// Errors of [Authorization] with some detail, built once.
var (
	errNoAuthorization = fmt.Errorf("%w: no Authorization header", ErrNoCredentials)
	errOtherScheme     = fmt.Errorf("%w: another authentication scheme", ErrNoCredentials)
	errSeveralFields   = fmt.Errorf("%w: several Authorization fields", ErrMalformedCredentials)
	errNotB64Token     = fmt.Errorf("%w: token is not a b64token", ErrMalformedCredentials)
)

// Authorization returns the scheme and token of the one Authorization
// field of h, for an access token sent as RFC 6750 §2.1
// (https://datatracker.ietf.org/doc/html/rfc6750#section-2.1) and RFC 9449
// §7.1 (https://datatracker.ietf.org/doc/html/rfc9449#section-7.1) say:
// credentials = scheme 1*SP b64token, where
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
//
// The scheme is matched case-insensitively against schemes and returned as
// spelled in schemes. No Authorization field, or one whose scheme is not
// in schemes, wraps [ErrNoCredentials]: the request is not meant for the
// caller, which answers with a bare challenge. Several Authorization
// fields (RFC 9110 §11.6.2 allows one), a missing or malformed token and
// anything after it wrap [ErrMalformedCredentials]; a token over
// [MaxCredentialsBytes] is [ErrCredentialsTooLarge]. Tokens in the query or
// the body are never read (FAPI 2.0 forbids them).
func Authorization(h http.Header, schemes ...string) (scheme, token string, err error) {
	vals := h.Values("Authorization")
	switch len(vals) {
	case 0:
		return "", "", errNoAuthorization
	case 1:
	default:
		return "", "", errSeveralFields
	}
	got, rest, _ := strings.Cut(vals[0], " ")
	for _, s := range schemes {
		if strings.EqualFold(got, s) {
			scheme = s
			break
		}
	}
	if scheme == "" {
		return "", "", errOtherScheme
	}
	token = strings.TrimLeft(rest, " ")
	if len(token) > MaxCredentialsBytes {
		return "", "", ErrCredentialsTooLarge
	}
	if !IsB64Token(token) {
		return "", "", errNotB64Token
	}
	return scheme, token, nil
}

// IsB64Token reports whether s matches the b64token of RFC 6750 §2.1 (the
// token68 of RFC 9110 §11.2):
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func IsB64Token(s string) bool {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~+/", c) >= 0 {
			i++
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
