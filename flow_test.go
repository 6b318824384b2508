package hardened_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/authserver"
	"github.com/hardened-oauth/hardened/internal/headless"
	"github.com/hardened-oauth/hardened/jarm"
)

// TestNewcomerFlow is the acceptance test of the API: a whole FAPI 2.0
// client written as a newcomer would (and as examples/fapi2 does), from
// discovery through a call with the token, a refresh and the revocation.
// The flow between the markers must stay within 60 lines.
func TestNewcomerFlow(t *testing.T) {
	t.Parallel()
	d, err := authserver.StartDefault()
	require.NoError(t, err)
	t.Cleanup(d.Close)
	ctx := t.Context()
	userinfo := d.Server.Endpoints().Userinfo

	// ---- flow: begin ----
	var latest *oauth2.Token // rotated refresh tokens, as an app would persist them
	conf := &hardened.Config{
		Config:       oauth2.Config{ClientID: d.FAPI.ID, RedirectURL: d.FAPI.RedirectURI, Scopes: []string{"openid"}},
		Issuer:       d.Issuer,
		Key:          d.FAPI.Key,
		KeyID:        d.FAPI.KeyID,
		ResponseMode: jarm.ModeJWT,
		RootCAs:      d.Server.PKI().Roots(),
		OnRefresh:    func(tok *oauth2.Token) { latest = tok },
	}

	// Login: push the request, let the "browser" authorize, check the callback.
	login := hardened.NewLogin()
	authURL, err := conf.AuthCodeURL(ctx, login.State, login.AuthCodeOptions()...)
	require.NoError(t, err)
	callback, err := headless.Authorize(ctx, d.HTTPClient, authURL, conf.RedirectURL)
	require.NoError(t, err)
	code, err := conf.Callback(ctx, callback, login.State)
	require.NoError(t, err)
	tok, err := conf.Exchange(ctx, code, login.ExchangeOptions()...)
	require.NoError(t, err)
	require.Equal(t, "DPoP", tok.Type())
	idt, ok := hardened.IDTokenFrom(tok)
	require.True(t, ok)
	require.Equal(t, "test-user", idt.Subject)

	// A call with the token: DPoP proof with ath, nonce handled.
	res, err := conf.Client(ctx, tok).Get(userinfo)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode)

	// The token expires: the client refreshes it through the same stack.
	tok.Expiry = time.Now().Add(-time.Minute)
	res, err = conf.Client(ctx, tok).Get(userinfo)
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NotNil(t, latest)
	require.NotEqual(t, tok.RefreshToken, latest.RefreshToken, "rotated")

	// Logout: revoke the grant; its refresh token no longer works.
	require.NoError(t, conf.Revoke(ctx, latest.RefreshToken, hardened.HintRefreshToken))
	latest.Expiry = time.Now().Add(-time.Minute)
	_, err = conf.TokenSource(ctx, latest).Token()
	require.ErrorIs(t, err, &hardened.Error{Code: "invalid_grant"})
	// ---- flow: end ----
}
