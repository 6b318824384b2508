package hardened

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"
)

// PasswordCredentialsToken refuses the resource owner password credentials
// grant with [ErrUnsupportedGrant], and sends nothing: RFC 9700 §2.4
// (https://datatracker.ietf.org/doc/html/rfc9700#section-2.4) says it "MUST
// NOT be used", and FAPI 2.0 allows only the authorization code grant for
// end-users. It shadows oauth2.Config.PasswordCredentialsToken, which would
// send the user's password to the token endpoint outside this Config's
// stack.
func (c *Config) PasswordCredentialsToken(context.Context, string, string) (*oauth2.Token, error) {
	return nil, fmt.Errorf("%w: the password grant is forbidden (RFC 9700 §2.4); use AuthCodeURL", ErrUnsupportedGrant)
}

// DeviceAuth refuses the device authorization grant (RFC 8628) with
// [ErrUnsupportedGrant], and sends nothing: it is not part of FAPI 2.0, and
// oauth2.Config.DeviceAuth, which it shadows, would bypass PAR, DPoP and
// this Config's checks.
func (c *Config) DeviceAuth(context.Context, ...oauth2.AuthCodeOption) (*oauth2.DeviceAuthResponse, error) {
	return nil, fmt.Errorf("%w: the device authorization grant is not part of FAPI 2.0", ErrUnsupportedGrant)
}

// DeviceAccessToken refuses the device authorization grant (RFC 8628) with
// [ErrUnsupportedGrant], as [Config.DeviceAuth] does. It shadows
// oauth2.Config.DeviceAccessToken.
func (c *Config) DeviceAccessToken(context.Context, *oauth2.DeviceAuthResponse, ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	return nil, fmt.Errorf("%w: the device authorization grant is not part of FAPI 2.0", ErrUnsupportedGrant)
}
