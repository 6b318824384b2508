package hardened_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/jarm"
)

// loginUntilError runs a login as an application would: it stops at the
// first error, so that the requests counted afterwards are exactly those
// the Config made.
func (e *env) loginUntilError(t testing.TB, conf *hardened.Config) (*oauth2.Token, error) {
	t.Helper()
	ctx := t.Context()
	l := hardened.NewLogin()
	u, err := conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions()...)
	if err != nil {
		return nil, err
	}
	code, err := conf.Callback(ctx, e.authorize(t, u), l.State)
	if err != nil {
		return nil, err
	}
	return conf.Exchange(ctx, code, l.ExchangeOptions()...)
}

// The callback rejects every defective authorization response the server's
// switches produce, plain and JARM, before any code is used: the token
// endpoint is never called.
func TestCallbackRejects(t *testing.T) {
	t.Parallel()
	encKey := genKey(t)
	tests := []struct {
		name   string
		mode   string
		mb     authserver.Misbehave
		enc    bool
		target error
	}{
		{name: "plain wrong iss", mb: authserver.Misbehave{WrongIssuer: true}, target: jarm.ErrIssuerMismatch},
		{name: "plain missing iss", mb: authserver.Misbehave{OmitIssuer: true}, target: jarm.ErrIssuerMismatch},
		{name: "plain wrong state", mb: authserver.Misbehave{WrongState: true}, target: jarm.ErrStateMismatch},
		{name: "jarm wrong iss", mode: jarm.ModeJWT, mb: authserver.Misbehave{WrongIssuer: true}, target: jarm.ErrIssuerMismatch},
		{name: "jarm missing iss", mode: jarm.ModeJWT, mb: authserver.Misbehave{OmitIssuer: true}, target: jarm.ErrIssuerMismatch},
		{name: "jarm wrong state", mode: jarm.ModeQueryJWT, mb: authserver.Misbehave{WrongState: true}, target: jarm.ErrStateMismatch},
		{name: "jarm forged", mode: jarm.ModeJWT, mb: authserver.Misbehave{JARMForeignKey: true}, target: jarm.ErrInvalidSignature},
		{name: "jarm expired", mode: jarm.ModeJWT, mb: authserver.Misbehave{JARMExpired: true}, target: jarm.ErrExpired},
		{name: "jarm wrong audience", mode: jarm.ModeFormPostJWT, mb: authserver.Misbehave{JARMWrongAudience: true}, target: jarm.ErrAudienceMismatch},
		{name: "jarm alg none", mode: jarm.ModeJWT, mb: authserver.Misbehave{JARMAlgNone: true}, target: jarm.ErrAlgorithmNotAllowed},
		{name: "jarm unencrypted", mode: jarm.ModeJWT, enc: true, mb: authserver.Misbehave{JARMUnencrypted: true}, target: jarm.ErrNotEncrypted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(cfg *authserver.Config, cl *authserver.Client) {
				cfg.Misbehave = tc.mb
				if tc.enc {
					cl.JARMEncryptionKey = encKey.Public()
				}
			})
			conf := e.conf()
			conf.ResponseMode = tc.mode
			if tc.enc {
				conf.DecryptionKeys = []jarm.DecryptionKey{{Key: encKey}}
			}
			_, err := e.loginUntilError(t, conf)
			require.ErrorIs(t, err, hardened.ErrAuthorizationResponse)
			require.ErrorIs(t, err, tc.target)
			require.Zero(t, e.count.get("/token"), "no token request after a rejected response")
		})
	}
}

// The callback decodes every response mode, and encrypted JARM.
func TestCallbackModes(t *testing.T) {
	t.Parallel()
	encKey := genKey(t)
	for _, mode := range []string{"", "query", "form_post", jarm.ModeJWT, jarm.ModeQueryJWT, jarm.ModeFormPostJWT, jarm.ModeFragmentJWT} {
		t.Run("mode "+mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.JARMEncryptionKey = encKey.Public() })
			conf := e.conf()
			conf.ResponseMode = mode
			if mode != "" && mode != "query" && mode != "form_post" {
				conf.DecryptionKeys = []jarm.DecryptionKey{{Key: encKey}}
			} else {
				// The server encrypts JARM only; a plain response to a
				// client with an encryption key is fine.
				conf.DecryptionKeys = nil
			}
			tok := e.login(t, conf)
			require.Equal(t, "DPoP", tok.TokenType)
		})
	}
}

// A plain response where JARM was asked for is a downgrade.
func TestCallbackRefusesPlainWhereJARM(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	plain, signed := e.conf(), e.conf()
	signed.ResponseMode = jarm.ModeJWT
	ctx := t.Context()
	l := hardened.NewLogin()
	u, err := plain.AuthCodeURL(ctx, l.State, l.AuthCodeOptions()...)
	require.NoError(t, err)
	_, err = signed.Callback(ctx, e.authorize(t, u), l.State)
	require.ErrorIs(t, err, hardened.ErrAuthorizationResponse)
	require.ErrorIs(t, err, jarm.ErrPlainResponse)
}

// The state passed to Callback must be the login's, and not empty.
func TestCallbackState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	ctx := t.Context()
	l := hardened.NewLogin()
	u, err := conf.AuthCodeURL(ctx, l.State, l.AuthCodeOptions()...)
	require.NoError(t, err)
	r := e.authorize(t, u)
	_, err = conf.Callback(ctx, r, "")
	require.ErrorIs(t, err, hardened.ErrInvalidOption)
	_, err = conf.Callback(ctx, r, hardened.NewLogin().State)
	require.ErrorIs(t, err, jarm.ErrStateMismatch)
	_, err = conf.Callback(ctx, nil, l.State)
	require.ErrorIs(t, err, hardened.ErrAuthorizationResponse)
	require.Zero(t, e.count.get("/token"))
}

// An error response of the server, plain or inside JARM, becomes an error
// that errors.As finds as *hardened.Error, after its iss and state were
// checked.
func TestCallbackErrorResponse(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"", jarm.ModeJWT} {
		t.Run("mode "+mode, func(t *testing.T) {
			t.Parallel()
			// The client must use PAR; an authorization request in the URL
			// gets invalid_request at the redirect URI.
			e := newEnv(t, func(_ *authserver.Config, cl *authserver.Client) { cl.RequireSignedRequestObject = false })
			conf := e.conf()
			conf.ResponseMode = mode
			conf.InsecureNoPAR, conf.InsecureUnsignedRequest = true, true
			_, err := e.loginUntilError(t, conf)
			require.ErrorIs(t, err, hardened.ErrAuthorizationResponse)
			var oe *hardened.Error
			require.ErrorAs(t, err, &oe)
			require.Equal(t, "invalid_request", oe.Code)
			require.Zero(t, oe.Status)
			require.ErrorIs(t, err, &hardened.Error{Code: "invalid_request"})
			var ae *jarm.AuthorizationError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, mode != "", ae.JARM)
			require.Zero(t, e.count.get("/token"))
			require.Zero(t, e.count.get("/par"))
		})
	}
}

// jarm.HTTPStatus maps Callback's errors, through the wrapping.
func TestCallbackHTTPStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conf := e.conf()
	r, err := http.NewRequestWithContext(t.Context(), http.MethodPut, redirectURI, nil)
	require.NoError(t, err)
	_, err = conf.Callback(t.Context(), r, "s")
	require.ErrorIs(t, err, jarm.ErrMethodNotAllowed)
	require.Equal(t, http.StatusMethodNotAllowed, jarm.HTTPStatus(err))
	require.False(t, errors.Is(err, hardened.ErrInvalidConfig))
}
