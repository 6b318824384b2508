package jarm_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/jarm"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// rawES256 signs a hand-written header and payload with the stdlib signer,
// for payloads encoding/json cannot produce (repeated members, bad UTF-8).
func rawES256(t testing.TB, header, payload string) string {
	return signRawStdlib(t, asEC(), b64(header)+"."+b64(payload))
}

func withDecryption(c *jarm.Config) {
	c.DecryptionKeys = []jarm.DecryptionKey{{KeyID: "enc-rsa", Key: clientRSA()}, {KeyID: "enc-ec", Key: clientEC()}}
}

// TestReject holds the negative tests of the OpenID FAPI 2.0 Message
// Signing client test plan for JARM, and more: each response is refused
// with a typed error.
func TestReject(t *testing.T) {
	t.Parallel()
	es := func(c map[string]any) func(testing.TB) string {
		return func(t testing.TB) string { return signJose(t, asEC(), jose.ES256, "ec1", claims(c)) }
	}
	future := testNow.Add(time.Minute).Unix()
	cases := []struct {
		name   string
		tok    func(testing.TB) string
		params func(tok string) url.Values // nil: {"response": {tok}}
		edit   func(*jarm.Config)
		state  string // "" means testState
		err    error
	}{
		// Claims (JARM §2.4 steps 2-4).
		{name: "missing iss", tok: es(map[string]any{"iss": nil}), err: jarm.ErrIssuerMismatch},
		{name: "empty iss", tok: es(map[string]any{"iss": ""}), err: jarm.ErrIssuerMismatch},
		{name: "wrong iss", tok: es(map[string]any{"iss": "https://attacker.example.com"}), err: jarm.ErrIssuerMismatch},
		{name: "iss differing by a trailing slash", tok: es(map[string]any{"iss": testIssuer + "/"}), err: jarm.ErrIssuerMismatch},
		{name: "iss not a string", tok: es(map[string]any{"iss": 1}), err: jarm.ErrMalformed},
		{name: "missing aud", tok: es(map[string]any{"aud": nil}), err: jarm.ErrAudienceMismatch},
		{name: "empty aud array", tok: es(map[string]any{"aud": []string{}}), err: jarm.ErrAudienceMismatch},
		{name: "wrong aud", tok: es(map[string]any{"aud": "client-2"}), err: jarm.ErrAudienceMismatch},
		{name: "wrong aud array", tok: es(map[string]any{"aud": []string{"client-2", "client-3"}}), err: jarm.ErrAudienceMismatch},
		{name: "aud array with a number", tok: es(map[string]any{"aud": []any{testClientID, 1}}), err: jarm.ErrMalformed},
		{name: "missing exp", tok: es(map[string]any{"exp": nil}), err: jarm.ErrLifetimeTooLong},
		{name: "expired exp", tok: es(map[string]any{"exp": testNow.Add(-time.Minute).Unix()}), err: jarm.ErrExpired},
		{name: "exp at the skew boundary", tok: es(map[string]any{"exp": testNow.Add(-jarm.DefaultSkew).Unix()}), err: jarm.ErrExpired},
		{name: "exp as a string", tok: es(map[string]any{"exp": "2000000000"}), err: jarm.ErrMalformed},
		{name: "exp null", tok: es(map[string]any{"exp": nil, "x": 1}), err: jarm.ErrLifetimeTooLong},
		{name: "iat in the future", tok: es(map[string]any{"iat": future}), err: jarm.ErrNotYetValid},
		{name: "nbf in the future", tok: es(map[string]any{"nbf": future}), err: jarm.ErrNotYetValid},
		{name: "tight skew", tok: es(map[string]any{"exp": testNow.Add(-2 * time.Second).Unix()}),
			edit: func(c *jarm.Config) { c.Skew = time.Second }, err: jarm.ErrExpired},

		// Signature (step 5).
		{name: "invalid signature (other key, same kid)", tok: func(t testing.TB) string {
			return signJose(t, asEC2(), jose.ES256, "ec1", claims(nil))
		}, err: jarm.ErrInvalidSignature},
		{name: "tampered payload", tok: func(t testing.TB) string {
			p := strings.Split(signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), ".")
			p[1] = b64(fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":%d,"code":"evil","state":%q}`, testIssuer, testClientID, testNow.Add(time.Minute).Unix(), testState))
			return strings.Join(p, ".")
		}, err: jarm.ErrInvalidSignature},
		{name: "signature of 63 bytes", tok: func(t testing.TB) string {
			p := strings.Split(signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), ".")
			return p[0] + "." + p[1] + "." + b64(strings.Repeat("\x01", 63))
		}, err: jarm.ErrInvalidSignature},
		{name: "zero signature", tok: func(t testing.TB) string {
			p := strings.Split(signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), ".")
			return p[0] + "." + p[1] + "." + b64(strings.Repeat("\x00", 64))
		}, err: jarm.ErrInvalidSignature},
		{name: "signature not canonical base64url", tok: func(t testing.TB) string {
			// 64 octets take 86 characters whose last 4 bits must be zero;
			// "B" (000001) sets one of them.
			tok := signJose(t, asEC(), jose.ES256, "ec1", claims(nil))
			return tok[:len(tok)-1] + "B"
		}, err: jarm.ErrMalformed},
		{name: "alg none, empty signature", tok: func(testing.TB) string {
			return b64(`{"alg":"none"}`) + "." + b64(`{"iss":"`+testIssuer+`","aud":"`+testClientID+`","exp":2000000000,"code":"c","state":"`+testState+`"}`) + "."
		}, err: jarm.ErrAlgorithmNotAllowed},
		{name: "alg none, with a signature", tok: func(t testing.TB) string {
			p := strings.Split(signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), ".")
			p[0] = b64(`{"alg":"none","kid":"ec1"}`)
			return strings.Join(p, ".")
		}, err: jarm.ErrAlgorithmNotAllowed},
		{name: "alg None (case)", tok: func(t testing.TB) string { return rawES256(t, `{"alg":"None","kid":"ec1"}`, `{}`) }, err: jarm.ErrAlgorithmNotAllowed},
		{name: "alg HS256", tok: func(t testing.TB) string { return rawES256(t, `{"alg":"HS256","kid":"ec1"}`, `{}`) }, err: jarm.ErrAlgorithmNotAllowed},
		{name: "RS256 not listed", tok: func(t testing.TB) string { return signJose(t, asRSA(), jose.RS256, "rsa1", claims(nil)) }, err: jarm.ErrAlgorithmNotAllowed},
		{name: "ES384 not listed", tok: func(t testing.TB) string {
			return signJose(t, mustEC(ellipticP384()), jose.ES384, "ec1", claims(nil))
		}, err: jarm.ErrAlgorithmNotAllowed},
		{name: "PS256 outside the server's list", tok: func(t testing.TB) string { return signJose(t, asRSA(), jose.PS256, "rsa1", claims(nil)) },
			edit: func(c *jarm.Config) { c.AuthorizationSigningAlgValuesSupported = []string{"ES256", "RS256"} }, err: jarm.ErrAlgorithmNotAllowed},
		{name: "alg does not fit the key of its kid", tok: func(t testing.TB) string { return signJose(t, asEC(), jose.ES256, "rsa1", claims(nil)) }, err: jarm.ErrInvalidSignature},
		{name: "unknown kid", tok: func(t testing.TB) string { return signJose(t, asEC(), jose.ES256, "nope", claims(nil)) }, err: jarm.ErrInvalidSignature},
		{name: "crit header", tok: func(t testing.TB) string {
			return rawES256(t, `{"alg":"ES256","kid":"ec1","crit":["exp"]}`, `{}`)
		}, err: jarm.ErrMalformed},

		// Authorization response parameters.
		{name: "wrong state", tok: es(nil), state: "another-state", err: jarm.ErrStateMismatch},
		{name: "state differing in length", tok: es(nil), state: testState + "x", err: jarm.ErrStateMismatch},
		{name: "missing state", tok: es(map[string]any{"state": nil}), err: jarm.ErrStateMismatch},
		{name: "state not a string", tok: es(map[string]any{"state": []string{testState}}), err: jarm.ErrMalformed},
		{name: "no code", tok: es(map[string]any{"code": nil}), err: jarm.ErrMalformed},
		{name: "empty code", tok: es(map[string]any{"code": ""}), err: jarm.ErrMalformed},
		{name: "code not a string", tok: es(map[string]any{"code": 12345}), err: jarm.ErrMalformed},
		{name: "code and error", tok: es(map[string]any{"error": "access_denied"}), err: jarm.ErrMalformed},
		{name: "invalid error code", tok: es(map[string]any{"code": nil, "error": "bad\"code"}), err: jarm.ErrMalformed},
		{name: "empty error code", tok: es(map[string]any{"code": nil, "error": ""}), err: jarm.ErrMalformed},
		{name: "token response (no code)", tok: es(map[string]any{"code": nil, "access_token": "at", "token_type": "bearer"}), err: jarm.ErrMalformed},

		// Payload and encoding.
		{name: "repeated iss member", tok: func(t testing.TB) string {
			return rawES256(t, `{"alg":"ES256","kid":"ec1"}`, `{"iss":"`+testIssuer+`","iss":"https://evil.example","aud":"`+testClientID+`","exp":2000000000,"code":"c","state":"`+testState+`"}`)
		}, err: jarm.ErrMalformed},
		{name: "repeated code member", tok: func(t testing.TB) string {
			return rawES256(t, `{"alg":"ES256","kid":"ec1"}`, `{"iss":"`+testIssuer+`","aud":"`+testClientID+`","exp":2000000000,"code":"c","code":"d","state":"`+testState+`"}`)
		}, err: jarm.ErrMalformed},
		{name: "case-variant iss beside iss", tok: func(t testing.TB) string {
			return signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"ISS": "https://evil.example"}))
		}, err: jarm.ErrMalformed},
		{name: "invalid UTF-8 in an ignored claim", tok: func(t testing.TB) string {
			return rawES256(t, `{"alg":"ES256","kid":"ec1"}`, `{"iss":"`+testIssuer+`","aud":"`+testClientID+`","exp":2000000000,"code":"c","state":"`+testState+`","x":"\xff"}`)
		}, err: jarm.ErrMalformed},
		{name: "invalid UTF-8 in state", tok: func(t testing.TB) string {
			return rawES256(t, `{"alg":"ES256","kid":"ec1"}`, `{"iss":"`+testIssuer+`","aud":"`+testClientID+`","exp":2000000000,"code":"c","state":"\xff"}`)
		}, err: jarm.ErrMalformed},
		{name: "payload is an array", tok: func(t testing.TB) string { return rawES256(t, `{"alg":"ES256","kid":"ec1"}`, `["iss"]`) }, err: jarm.ErrMalformed},
		{name: "payload is not JSON", tok: func(t testing.TB) string { return rawES256(t, `{"alg":"ES256","kid":"ec1"}`, `{"iss":`) }, err: jarm.ErrMalformed},
		{name: "garbage base64", tok: func(testing.TB) string { return "eyJ!!!.@@@.###" }, err: jarm.ErrMalformed},
		{name: "padded base64", tok: func(t testing.TB) string {
			p := strings.Split(signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), ".")
			return p[0] + "=." + p[1] + "." + p[2]
		}, err: jarm.ErrMalformed},
		{name: "header not JSON", tok: func(testing.TB) string { return b64("alg") + "." + b64("{}") + ".AAAA" }, err: jarm.ErrMalformed},
		{name: "two segments", tok: func(testing.TB) string { return b64(`{"alg":"ES256"}`) + "." + b64("{}") }, err: jarm.ErrMalformed},
		{name: "four segments", tok: func(testing.TB) string { return "a.b.c.d" }, err: jarm.ErrMalformed},
		{name: "empty response", tok: func(testing.TB) string { return "" }, err: jarm.ErrMalformed},
		{name: "response over the size limit", tok: func(t testing.TB) string {
			return signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"pad": strings.Repeat("a", 1<<10)}))
		}, edit: func(c *jarm.Config) { c.MaxResponseBytes = 1 << 10 }, err: jarm.ErrTooLarge},
		{name: "response over the default size limit", tok: func(testing.TB) string { return strings.Repeat("a", jarm.DefaultMaxResponseBytes+1) }, err: jarm.ErrTooLarge},

		// Parameters around the JWT.
		{name: "repeated response parameter", tok: es(nil), params: func(tok string) url.Values { return url.Values{"response": {tok, tok}} }, err: jarm.ErrMalformed},
		{name: "code beside response", tok: es(nil), params: func(tok string) url.Values { return url.Values{"response": {tok}, "code": {"x"}} }, err: jarm.ErrMalformed},
		{name: "state beside response", tok: es(nil), params: func(tok string) url.Values { return url.Values{"response": {tok}, "state": {testState}} }, err: jarm.ErrMalformed},
		{name: "iss beside response", tok: es(nil), params: func(tok string) url.Values { return url.Values{"response": {tok}, "iss": {testIssuer}} }, err: jarm.ErrMalformed},
		{name: "error beside response", tok: es(nil), params: func(tok string) url.Values { return url.Values{"response": {tok}, "error": {"access_denied"}} }, err: jarm.ErrMalformed},
		{name: "plain response where JARM is required", tok: es(nil), params: func(string) url.Values {
			return url.Values{"code": {testCode}, "state": {testState}, "iss": {testIssuer}}
		}, err: jarm.ErrPlainResponse},
		{name: "plain error where JARM is required", tok: es(nil), params: func(string) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {testState}, "iss": {testIssuer}}
		}, err: jarm.ErrPlainResponse},
		{name: "no parameters", tok: es(nil), params: func(string) url.Values { return url.Values{} }, err: jarm.ErrPlainResponse},

		// Encryption.
		{name: "JWE without decryption keys", tok: func(t testing.TB) string {
			return encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), clientEC().Public(), "enc-ec", jose.EncryptOptions{})
		}, err: jarm.ErrDecrypt},
		{name: "JWS where a JWE is required", tok: es(nil), edit: withDecryption, err: jarm.ErrNotEncrypted},
		{name: "JWE with a disallowed enc", tok: func(t testing.TB) string {
			return encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), clientRSA().Public(), "enc-rsa", jose.EncryptOptions{ContentEncryption: jose.A128CBCHS256})
		}, edit: func(c *jarm.Config) { withDecryption(c); c.ContentEncryptions = []string{jose.A256GCM} }, err: jarm.ErrAlgorithmNotAllowed},
		{name: "JWE with a disallowed alg", tok: func(t testing.TB) string {
			return encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), clientRSA().Public(), "enc-rsa", jose.EncryptOptions{})
		}, edit: func(c *jarm.Config) { withDecryption(c); c.KeyAlgorithms = []string{jose.ECDHES} }, err: jarm.ErrAlgorithmNotAllowed},
		{name: "JWE with an unknown enc", tok: func(t testing.TB) string {
			p := strings.Split(encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), clientRSA().Public(), "enc-rsa", jose.EncryptOptions{}), ".")
			p[0] = b64(`{"alg":"RSA-OAEP-256","enc":"A128CBC","kid":"enc-rsa"}`)
			return strings.Join(p, ".")
		}, edit: withDecryption, err: jarm.ErrAlgorithmNotAllowed},
		{name: "JWE with alg RSA1_5", tok: func(t testing.TB) string {
			p := strings.Split(encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), clientRSA().Public(), "enc-rsa", jose.EncryptOptions{}), ".")
			p[0] = b64(`{"alg":"RSA1_5","enc":"A256GCM","kid":"enc-rsa"}`)
			return strings.Join(p, ".")
		}, edit: withDecryption, err: jarm.ErrAlgorithmNotAllowed},
		{name: "JWE with zip", tok: func(t testing.TB) string {
			p := strings.Split(encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), clientRSA().Public(), "enc-rsa", jose.EncryptOptions{}), ".")
			p[0] = b64(`{"alg":"RSA-OAEP-256","enc":"A256GCM","kid":"enc-rsa","zip":"DEF"}`)
			return strings.Join(p, ".")
		}, edit: withDecryption, err: jarm.ErrAlgorithmNotAllowed},
		{name: "JWE to another key", tok: func(t testing.TB) string {
			return encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), mustEC(ellipticP256()).Public(), "enc-ec", jose.EncryptOptions{})
		}, edit: withDecryption, err: jarm.ErrDecrypt},
		{name: "JWE with an unknown kid", tok: func(t testing.TB) string {
			return encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), clientEC().Public(), "enc-other", jose.EncryptOptions{})
		}, edit: withDecryption, err: jarm.ErrDecrypt},
		{name: "JWE with a tampered ciphertext", tok: func(t testing.TB) string {
			p := strings.Split(encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), clientEC().Public(), "enc-ec", jose.EncryptOptions{}), ".")
			c, err := base64.RawURLEncoding.DecodeString(p[3])
			require.NoError(t, err)
			c[0] ^= 1
			p[3] = base64.RawURLEncoding.EncodeToString(c)
			return strings.Join(p, ".")
		}, edit: withDecryption, err: jarm.ErrDecrypt},
		{name: "JWE wrapping plain JSON", tok: func(t testing.TB) string {
			return encrypt(t, `{"code":"c"}`, clientEC().Public(), "enc-ec", jose.EncryptOptions{})
		}, edit: withDecryption, err: jarm.ErrDecrypt},
		{name: "JWE wrapping a JWE", tok: func(t testing.TB) string {
			inner := encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(nil)), clientEC().Public(), "enc-ec", jose.EncryptOptions{})
			return encrypt(t, inner, clientEC().Public(), "enc-ec", jose.EncryptOptions{})
		}, edit: withDecryption, err: jarm.ErrDecrypt},
		{name: "JWE wrapping an invalid signature", tok: func(t testing.TB) string {
			return encrypt(t, signJose(t, asEC2(), jose.ES256, "ec1", claims(nil)), clientEC().Public(), "enc-ec", jose.EncryptOptions{})
		}, edit: withDecryption, err: jarm.ErrInvalidSignature},
		{name: "JWE wrapping a wrong iss", tok: func(t testing.TB) string {
			return encrypt(t, signJose(t, asEC(), jose.ES256, "ec1", claims(map[string]any{"iss": "https://attacker.example.com"})), clientEC().Public(), "enc-ec", jose.EncryptOptions{})
		}, edit: withDecryption, err: jarm.ErrIssuerMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := staticDecoder(t, tc.edit)
			tok := tc.tok(t)
			params := url.Values{"response": {tok}}
			if tc.params != nil {
				params = tc.params(tok)
			}
			state := tc.state
			if state == "" {
				state = testState
			}
			r, err := d.Decode(context.Background(), params, state)
			require.ErrorIs(t, err, tc.err)
			require.Nil(t, r)
			require.NotErrorIs(t, err, jarm.ErrAuthorization)
			// Nothing of the response leaks into the error text.
			require.NotContains(t, err.Error(), testCode)
			require.NotContains(t, err.Error(), testState)
		})
	}
}
