package jarm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

// FuzzDecode feeds attacker-controlled redirect parameters to every entry
// point of three Decoders (signed, encrypted, plain). Seeds: the JARM
// §2.3 examples, the RFC 9207 §2.1 and §2.2 responses, and responses signed
// and encrypted for these Decoders. It checks that nothing panics, that
// every failure is typed, and that a success carries the expected state.
func FuzzDecode(f *testing.F) {
	v := loadJARMVectors(f)
	r9207 := loadRFC9207(f)
	for _, s := range []string{
		strings.SplitN(v.Query.RedirectURL, "?", 2)[1],
		strings.SplitN(v.Fragment.RedirectURL, "#", 2)[1],
		v.FormPost.PostRequest.Body,
		strings.SplitN(r9207.AuthorizationResponse.Location, "?", 2)[1],
		strings.SplitN(r9207.ErrorResponse.Location, "?", 2)[1],
		"response=" + signStdlib(f, asEC(), "ec1", claims(nil)),
		"response=" + signJose(f, asEC(), jose.ES256, "ec1", claims(map[string]any{"code": nil, "error": "access_denied"})),
		"response=" + encrypt(f, signStdlib(f, asEC(), "ec1", claims(nil)), clientEC().Public(), "enc-ec", jose.EncryptOptions{}),
		"code=c&state=" + testState + "&iss=" + url.QueryEscape(testIssuer),
		"response=a.b.c&response=d",
		"",
	} {
		f.Add(s)
	}
	signed := staticDecoder(f, nil)
	enc := staticDecoder(f, withDecryption)
	plain := plainDecoder(f, testIssuer, true)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range []*jarm.Decoder{signed, enc, plain} {
			check := func(r *jarm.Response, err error) {
				if err != nil {
					require.Nil(t, r)
					require.True(t, typed(err), "untyped error: %v", err)
					return
				}
				require.Equal(t, testState, r.State)
				require.NotEmpty(t, r.Code)
			}
			if params, err := url.ParseQuery(s); err == nil {
				check(d.Decode(ctx, params, testState))
			}
			check(d.DecodeFragment(ctx, s, testState))
			check(d.DecodeURL(ctx, "https://client.example.com/cb?"+s, testState))
			req := httptest.NewRequest(http.MethodPost, "/cb", strings.NewReader(s))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			check(d.DecodeRequest(ctx, req, testState))
			if u, err := url.Parse("https://client.example.com/cb?" + s); err == nil {
				check(d.DecodeRequest(ctx, &http.Request{Method: http.MethodGet, URL: u}, testState))
			}
		}
	})
}

// typed reports whether err wraps one of the package's sentinels.
func typed(err error) bool {
	for _, s := range []error{
		jarm.ErrInvalidConfig, jarm.ErrNoExpectedState, jarm.ErrMalformed, jarm.ErrTooLarge,
		jarm.ErrMethodNotAllowed, jarm.ErrUnsupportedMediaType, jarm.ErrPlainResponse, jarm.ErrNotEncrypted,
		jarm.ErrDecrypt, jarm.ErrAlgorithmNotAllowed, jarm.ErrInvalidSignature, jarm.ErrKeySetUnavailable,
		jarm.ErrIssuerMismatch, jarm.ErrAudienceMismatch, jarm.ErrExpired, jarm.ErrNotYetValid,
		jarm.ErrLifetimeTooLong, jarm.ErrStateMismatch, jarm.ErrAuthorization,
	} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzResponseJWT feeds the "response" value itself (a JWS or JWE, not
// URL-encoded) to a signed and an encrypting Decoder, so that the fuzzer
// reaches JOSE parsing, decryption, the claim checks and the error
// response path without having to learn form encoding first. Seeds: the
// JARM §2.3 examples and responses made for these Decoders, including an
// error response with control characters in its description.
func FuzzResponseJWT(f *testing.F) {
	v := loadJARMVectors(f)
	for _, s := range []string{
		v.Query.Response, v.Fragment.Response, v.FormPost.Response,
		signStdlib(f, asEC(), "ec1", claims(nil)),
		signStdlib(f, asEC(), "ec1", claims(map[string]any{"exp": testNow.AddDate(1, 0, 0).Unix()})),
		signJose(f, asEC(), jose.ES256, "ec1", claims(map[string]any{"code": nil, "error": "access_denied", "error_description": "a\r\n\x00b", "error_uri": "https://as.example/e"})),
		encrypt(f, signStdlib(f, asEC(), "ec1", claims(nil)), clientEC().Public(), "enc-ec", jose.EncryptOptions{}),
		encrypt(f, signStdlib(f, asEC(), "ec1", claims(nil)), clientRSA().Public(), "enc-rsa", jose.EncryptOptions{}),
		"a.b.c", "a.b.c.d.e", "",
	} {
		f.Add(s)
	}
	signed := staticDecoder(f, nil)
	enc := staticDecoder(f, withDecryption)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		for _, d := range []*jarm.Decoder{signed, enc} {
			r, err := d.Decode(ctx, url.Values{"response": {tok}}, testState)
			if err != nil {
				require.Nil(t, r)
				require.True(t, typed(err), "untyped error: %v", err)
				if ae, ok := errors.AsType[*jarm.AuthorizationError](err); ok {
					require.LessOrEqual(t, len(ae.Description), 1024)
					require.False(t, strings.ContainsAny(ae.Description, "\r\n\x00"))
				}
				continue
			}
			require.Equal(t, testState, r.State)
			require.NotEmpty(t, r.Code)
		}
	})
}
