package hardened_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
)

// echoPath answers requests for path with an OAuth error whose
// description echoes the token it was sent, as some servers do.
type echoPath struct {
	base  http.RoundTripper
	path  string
	cut   int     // when positive, echo only the first cut bytes
	field string  // the form field echoed; "" means token
	seen  *string // when set, receives the value echoed
}

func (e echoPath) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != e.path {
		return e.base.RoundTrip(r)
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, err
	}
	field := e.field
	if field == "" {
		field = "token"
	}
	tok := form.Get(field)
	if e.seen != nil {
		*e.seen = tok
	}
	if e.cut > 0 && e.cut < len(tok) {
		tok = tok[:e.cut]
	}
	body, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": "unknown token " + tok + " (see logs)"})
	return &http.Response{
		StatusCode: http.StatusBadRequest,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(string(body))),
		Request:    r,
	}, nil
}

// Revocation and introspection send the token itself: a server that
// echoes it in its error (whole, or cut by some limit) must not put any
// of it into the error the caller logs. The OAuth error stays readable.
func TestRevokeErrorNeverEchoesTheToken(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("S3cr3tT0k3n-", 200) // 2,400 bytes, past the 1 KiB description bound
	for _, tc := range []struct {
		name     string
		endpoint func(authserver.Endpoints) string
		call     func(ctx context.Context, conf *hardened.Config, token string) error
		token    string
		cut      int
	}{
		{"revocation, short token", func(ep authserver.Endpoints) string { return ep.Revocation }, revoke, "short-secret-token-1234", 0},
		{"revocation, long token", func(ep authserver.Endpoints) string { return ep.Revocation }, revoke, long, 0},
		{"revocation, token cut", func(ep authserver.Endpoints) string { return ep.Revocation }, revoke, long, 700},
		{"introspection, long token", func(ep authserver.Endpoints) string { return ep.Introspection }, introspect, long, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.Introspect = true })
			p := mustURL(t, tc.endpoint(e.srv.Endpoints())).Path
			conf := e.conf()
			conf.HTTPClient = &http.Client{Transport: echoPath{base: e.hc.Transport, path: p, cut: tc.cut}}
			err := tc.call(t.Context(), conf, tc.token)
			require.ErrorIs(t, err, hardened.ErrRequestFailed)
			var oe *hardened.Error
			require.True(t, errors.As(err, &oe))
			require.Equal(t, "invalid_request", oe.Code)
			msg := err.Error() + " " + oe.Description
			requireNoPiece(t, msg, tc.token, "a piece of the token reached the error")
		})
	}
}

func revoke(ctx context.Context, conf *hardened.Config, token string) error {
	return conf.Revoke(ctx, token, hardened.HintAccessToken)
}

func introspect(ctx context.Context, conf *hardened.Config, token string) error {
	_, err := conf.Introspect(ctx, token, hardened.HintAccessToken)
	return err
}

// A refresh sends the refresh token, a long-lived credential: a token
// endpoint that echoes it in its error (whole, or cut by some limit) must
// not put any of it into the error that reaches the caller of Token, or of
// the http.Client of Config.Client, which logs it. The OAuth error stays
// readable.
func TestRefreshErrorNeverEchoesTheRefreshToken(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("R3fr3shT0k3n-", 200) // 2,600 bytes, past the 1 KiB description bound
	for _, tc := range []struct {
		name  string
		rt    string
		cut   int
		viaHC bool
	}{
		{"short refresh token", "short-refresh-token-1234", 0, false},
		{"long refresh token", long, 0, false},
		{"refresh token cut", long, 700, false},
		{"through Config.Client", long, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			p := mustURL(t, e.srv.Endpoints().Token).Path
			conf := e.conf()
			conf.HTTPClient = &http.Client{Transport: echoPath{base: e.hc.Transport, path: p, cut: tc.cut, field: "refresh_token"}}
			expired := &oauth2.Token{AccessToken: "at", TokenType: "DPoP", RefreshToken: tc.rt, Expiry: time.Now().Add(-time.Minute)}
			var err error
			if tc.viaHC {
				var res *http.Response
				res, err = conf.Client(t.Context(), expired).Get(e.srv.Endpoints().Userinfo)
				if res != nil {
					require.NoError(t, res.Body.Close())
				}
			} else {
				_, err = conf.TokenSource(t.Context(), expired).Token()
			}
			require.ErrorIs(t, err, hardened.ErrRequestFailed)
			var oe *hardened.Error
			require.ErrorAs(t, err, &oe)
			require.Equal(t, "invalid_request", oe.Code)
			msg := err.Error() + " " + oe.Description
			requireNoPiece(t, msg, tc.rt, "a piece of the refresh token reached the error")
		})
	}
}

// A code exchange sends the code, its PKCE verifier and the client's
// credential (an assertion, or a secret): a token endpoint that echoes any
// of them in its error must not put it into the error that reaches the
// caller. The OAuth error stays readable. Client credentials likewise.
func TestTokenErrorNeverEchoesTheRequest(t *testing.T) {
	t.Parallel()
	code := "authorization-code-" + strings.Repeat("C0de", 30)
	verifier := oauth2.GenerateVerifier()
	secret := "client-secret-" + strings.Repeat("S3cr", 20)
	for _, tc := range []struct {
		name  string
		field string
		sent  string // the echoed value, when the test knows it
		post  bool   // ClientSecretPost instead of private_key_jwt
		cc    bool   // client credentials instead of the code exchange
	}{
		{name: "code", field: "code", sent: code},
		{name: "code_verifier", field: "code_verifier", sent: verifier},
		{name: "client_assertion", field: "client_assertion"},
		{name: "client_secret", field: "client_secret", sent: secret, post: true},
		{name: "client credentials: client_assertion", field: "client_assertion", cc: true},
		{name: "client credentials: client_secret", field: "client_secret", sent: secret, post: true, cc: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			p := mustURL(t, e.srv.Endpoints().Token).Path
			conf := e.conf()
			if tc.post {
				conf.ClientAuth = hardened.ClientSecretPost{ClientID: appID, ClientSecret: secret}
				conf.InsecureClientAuth = true
			}
			var seen string
			conf.HTTPClient = &http.Client{Transport: echoPath{base: e.hc.Transport, path: p, field: tc.field, seen: &seen}}
			var err error
			if tc.cc {
				_, err = conf.ClientCredentials(t.Context()).Token()
			} else {
				_, err = conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier), hardened.NonceOption("nonce-1234"))
			}
			require.ErrorIs(t, err, hardened.ErrRequestFailed)
			var oe *hardened.Error
			require.ErrorAs(t, err, &oe)
			require.Equal(t, "invalid_request", oe.Code)
			require.NotEmpty(t, seen, "the request did not carry %s", tc.field)
			if tc.sent != "" {
				require.Equal(t, tc.sent, seen)
			}
			msg := err.Error() + " " + oe.Description
			requireNoPiece(t, msg, seen, "a piece of the %s reached the error", tc.field)
			require.Contains(t, oe.Description, "[redacted]")
		})
	}
}

// requireNoPiece fails when msg holds any 16 bytes of secret: a whole,
// cut or altered echo.
func requireNoPiece(t *testing.T, msg, secret string, msgAndArgs ...any) {
	t.Helper()
	for i := 0; i+16 <= len(secret); i++ {
		require.NotContains(t, msg, secret[i:i+16], msgAndArgs...)
	}
}
