package jarm

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// Response is a validated authorization response.
type Response struct {
	// Code is the authorization code
	// (https://datatracker.ietf.org/doc/html/rfc6749#section-4.1.2).
	Code string
	// State is the state, equal to the expected one ("" only with
	// Config.InsecureAllowNoState).
	State string
	// Issuer is the verified issuer: the JARM "iss" claim, or the RFC 9207
	// "iss" parameter of a plain response ("" when a plain response has
	// none and the server does not advertise it).
	Issuer string
	// JARM reports whether the response was a signed JWT.
	JARM bool
	// Encrypted reports whether the JWT was encrypted.
	Encrypted bool
	// Expiry is the JWT's "exp" (zero for a plain response).
	Expiry time.Time
}

// responseParams are the authorization response parameters that must not
// appear beside a JARM "response" (RFC 6749 §4.1.2, §4.1.2.1, §4.2.2,
// RFC 9207 §2, OpenID Connect Core §3.3.2.5 and Session Management §3).
var responseParams = []string{
	"code", "state", "iss", "error", "error_description", "error_uri",
	"access_token", "token_type", "expires_in", "scope", "id_token", "session_state",
}

// maxErrorField bounds "error" and "error_uri"; error_description is
// bounded by oautherr.Sanitize.
const maxErrorField = 1024

// Decode validates an authorization response given as its parameters
// (r.URL.Query() for query.jwt, jwt and plain query responses). When
// "response" is present it is processed as JARM; otherwise as a plain
// response under RFC 9207, unless JARM is required. expectedState is the
// state sent in the authorization request; it is compared in constant
// time. ctx bounds a fetch of the server's keys.
//
// params must come from a strict parse: r.URL.Query() silently drops
// malformed pairs, so prefer [Decoder.DecodeRequest] in a handler.
//
// On success it returns the code. An error response that passed the checks
// is an [*AuthorizationError]; every other failure wraps a sentinel of this
// package.
func (d *Decoder) Decode(ctx context.Context, params url.Values, expectedState string) (*Response, error) {
	if expectedState == "" && !d.allowNoState {
		return nil, ErrNoExpectedState
	}
	jwt, ok, err := single(params, "response")
	if err != nil {
		return nil, err
	}
	if ok {
		for _, name := range responseParams {
			if _, found := params[name]; found {
				return nil, fmt.Errorf("%w: parameter %q beside response", ErrMalformed, name)
			}
		}
		return d.decodeJWT(ctx, jwt, expectedState)
	}
	if d.jarmRequired {
		return nil, ErrPlainResponse
	}
	return d.decodePlain(params, expectedState)
}

// single returns the one value of name, and whether it is present. A
// repeated parameter is malformed (RFC 6749 §3.1).
func single(params url.Values, name string) (string, bool, error) {
	v, ok := params[name]
	switch {
	case !ok:
		return "", false, nil
	case len(v) != 1:
		return "", false, fmt.Errorf("%w: parameter %q repeated", ErrMalformed, name)
	}
	return v[0], true, nil
}

// decodePlain validates a plain response: RFC 9207 §2.4 issuer, state,
// then error or code.
func (d *Decoder) decodePlain(params url.Values, expectedState string) (*Response, error) {
	var f [6]string
	var has [6]bool
	for i, name := range [...]string{"iss", "state", "code", "error", "error_description", "error_uri"} {
		var err error
		if f[i], has[i], err = single(params, name); err != nil {
			return nil, err
		}
	}
	iss, state, code := f[0], f[1], f[2]
	switch {
	case has[0]:
		if iss != d.issuer {
			return nil, fmt.Errorf("%w: iss parameter (RFC 9207)", ErrIssuerMismatch)
		}
	case d.issParam:
		return nil, fmt.Errorf("%w: no iss parameter although the server advertises it (RFC 9207)", ErrIssuerMismatch)
	}
	if err := d.checkState(state, has[1], expectedState); err != nil {
		return nil, err
	}
	return d.result(iss, state, code, has[2], has[3], f[3], f[4], f[5], false)
}

// decodeJWT validates a JARM response (JARM §2.4).
func (d *Decoder) decodeJWT(ctx context.Context, token, expectedState string) (*Response, error) {
	if d.keys == nil {
		return nil, fmt.Errorf("%w: a JARM response, but the Decoder has no verification keys (JWKSURL, KeySource, Keys or JWKS)", ErrMalformed)
	}
	if len(token) > d.maxResp {
		return nil, fmt.Errorf("%w: response over %d bytes", ErrTooLarge, d.maxResp)
	}
	encrypted := false
	switch jose.Segments(token) {
	case 5:
		if len(d.dec) == 0 {
			return nil, fmt.Errorf("%w: encrypted response but no DecryptionKeys", ErrDecrypt)
		}
		pt, _, err := jose.Decrypt(token, d.dec, d.decOpts)
		if err != nil {
			return nil, decryptError(err)
		}
		if jose.Segments(string(pt)) != 3 {
			return nil, fmt.Errorf("%w: encrypted content is not a JWS", ErrDecrypt)
		}
		token, encrypted = string(pt), true
	case 3:
		if len(d.dec) > 0 {
			return nil, ErrNotEncrypted
		}
	default:
		return nil, fmt.Errorf("%w: response is neither a JWS nor a JWE", ErrMalformed)
	}
	jws, err := jose.ParseCompact(token)
	if err != nil {
		return nil, joseError(err)
	}
	if !slices.Contains(d.algs, jws.Header.Alg) {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithmNotAllowed, jws.Header.Alg)
	}
	c, err := parseClaims(jws.Payload)
	if err != nil {
		return nil, err
	}
	if err := d.checkClaims(c, d.now()); err != nil {
		return nil, err
	}
	if _, err := jws.VerifyWith(ctx, d.keys, d.algs); err != nil {
		return nil, verifyError(err)
	}
	if err := d.checkState(c.state, c.hasState, expectedState); err != nil {
		return nil, err
	}
	r, err := d.result(c.iss, c.state, c.code, c.hasCode, c.hasErr, c.errCode, c.errDesc, c.errURI, true)
	if err != nil {
		return nil, err
	}
	r.Encrypted, r.Expiry = encrypted, c.exp.Time()
	return r, nil
}

// checkState compares the response's state with the expected one in
// constant time.
func (d *Decoder) checkState(got string, present bool, want string) error {
	switch {
	case want == "":
		if present {
			return fmt.Errorf("%w: state present but none was sent", ErrStateMismatch)
		}
		return nil
	case !present:
		return fmt.Errorf("%w: no state in the response", ErrStateMismatch)
	case subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1:
		return ErrStateMismatch
	}
	return nil
}

// result builds the Response, or the AuthorizationError of an error
// response.
func (d *Decoder) result(iss, state, code string, hasCode, hasErr bool, errCode, desc, uri string, jarm bool) (*Response, error) {
	switch {
	case hasErr && hasCode:
		return nil, fmt.Errorf("%w: both code and error", ErrMalformed)
	case hasErr:
		if !validErrorCode(errCode) {
			return nil, fmt.Errorf("%w: invalid error code", ErrMalformed)
		}
		return nil, newAuthorizationError(errCode, desc, uri, state, iss, jarm)
	case !hasCode || code == "":
		return nil, fmt.Errorf("%w: neither code nor error", ErrMalformed)
	}
	return &Response{Code: code, State: state, Issuer: iss, JARM: jarm}, nil
}

// validErrorCode reports whether s is a non-empty RFC 6749 §4.1.2.1
// "error": %x20-21 / %x23-5B / %x5D-7E.
func validErrorCode(s string) bool {
	if s == "" || len(s) > maxErrorField {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// validErrorURI reports whether s is a usable RFC 6749 §4.1.2.1
// "error_uri": %x21 / %x23-5B / %x5D-7E, bounded.
func validErrorURI(s string) bool {
	return s != "" && !strings.ContainsRune(s, ' ') && validErrorCode(s)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// joseError maps a parsing error of internal/jose to this package's
// sentinels, keeping the cause in the chain.
func joseError(err error) error {
	switch {
	case errors.Is(err, jose.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, jose.ErrAlgorithmNotAllowed):
		return fmt.Errorf("%w: %w", ErrAlgorithmNotAllowed, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}

func decryptError(err error) error {
	switch {
	case errors.Is(err, jose.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, jose.ErrAlgorithmNotAllowed):
		return fmt.Errorf("%w: %w", ErrAlgorithmNotAllowed, err)
	case errors.Is(err, jose.ErrMalformed), errors.Is(err, jose.ErrCritical):
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return fmt.Errorf("%w: %w", ErrDecrypt, err)
}

func verifyError(err error) error {
	switch {
	case keySourceError(err):
		return err
	case errors.Is(err, jose.ErrNoMatchingKey):
		return fmt.Errorf("%w: no matching key: %w", ErrInvalidSignature, err)
	case errors.Is(err, jose.ErrInvalidSignature):
		return fmt.Errorf("%w: %w", ErrInvalidSignature, err)
	case errors.Is(err, jose.ErrAlgorithmNotAllowed):
		return fmt.Errorf("%w: %w", ErrAlgorithmNotAllowed, err)
	}
	return fmt.Errorf("%w: %w", ErrKeySetUnavailable, err)
}
