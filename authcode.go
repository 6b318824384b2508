package hardened

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/jar"
	"github.com/hardened-oauth/hardened/par"
)

func optionErr(detail string) error {
	return fmt.Errorf("%w: %s", ErrInvalidOption, detail)
}

// AuthCodeURL returns the URL of the authorization endpoint to send the
// user to, after pushing the authorization request (RFC 9126): the URL
// carries only client_id and request_uri (FAPI 2.0 §5.3.1.2). It shadows
// oauth2.Config.AuthCodeURL, which cannot push: that needs the network,
// hence ctx and the error.
//
// The request holds response_type=code, client_id, redirect_uri (the
// Config's RedirectURL), scope, state, response_mode (the Config's
// ResponseMode, when set), dpop_jkt (the DPoP key's thumbprint, RFC 9449
// §10, when DPoP is used) and the parameters of opts: PKCE's
// oauth2.S256ChallengeOption is required, and so is [NonceOption] when the
// scope holds openid ([Login.AuthCodeOptions] gives both); [ResourceOption]
// (RFC 8707), jar.AuthorizationDetailsOption (RFC 9396, a JSON array in the
// request object) and any oauth2.SetAuthURLParam may be added. With Key
// set, the request is a signed request object (RFC 9101).
//
// A missing or refused option wraps [ErrInvalidOption] and nothing is sent:
// an empty state, no S256 challenge, code_challenge_method other than S256,
// no nonce with openid, a code_verifier (it must stay secret until the
// token request), a resource that is not an absolute URI, or a parameter
// the Config sets itself (client_id, state, response_type other than code,
// response_mode, request, request_uri, client credentials). A refused push
// wraps [ErrRequestFailed], with the server's *Error in the chain.
func (c *Config) AuthCodeURL(ctx context.Context, state string, opts ...oauth2.AuthCodeOption) (string, error) {
	params, err := c.authParams(state, opts)
	if err != nil {
		return "", err
	}
	st, err := c.state(ctx)
	if err != nil {
		return "", err
	}
	if c.ResponseMode != "" {
		params.Set(paramResponseMode, c.ResponseMode)
	}
	if st.proofer != nil {
		if jkt := params.Get(paramDPoPJKT); jkt != "" && jkt != st.proofer.JKT() {
			return "", optionErr("dpop_jkt is not the thumbprint of the DPoP key")
		}
		params.Set(paramDPoPJKT, st.proofer.JKT())
	}
	authEP := st.md.AuthorizationEndpoint
	if authEP == "" {
		return "", fmt.Errorf("%w: authorization_endpoint", ErrMissingEndpoint)
	}
	if st.jar != nil {
		ro, err := c.requestObject(ctx, st, params)
		if err != nil {
			return "", requestObjectErr(err)
		}
		if st.par == nil {
			return jar.AuthCodeURL(authEP, jar.ByValue(c.ClientID, ro)), nil
		}
		resp, err := st.par.PushRequestObject(ctx, ro.JWT)
		if err != nil {
			return "", pushErr(err)
		}
		return par.AuthCodeURL(authEP, c.ClientID, resp), nil
	}
	if st.par == nil {
		return jar.AuthCodeURL(authEP, params), nil
	}
	resp, err := st.par.Push(ctx, params)
	if err != nil {
		return "", pushErr(err)
	}
	return par.AuthCodeURL(authEP, c.ClientID, resp), nil
}

// authParams builds and checks the authorization request parameters, before
// any request (discovery included).
func (c *Config) authParams(state string, opts []oauth2.AuthCodeOption) (url.Values, error) {
	if c.RedirectURL == "" {
		return nil, configErr("RedirectURL", "required for the authorization code flow")
	}
	if state == "" {
		return nil, optionErr("state is required (NewLogin makes one)")
	}
	given := optionValues(opts)
	if err := refuse(given, "is set by the Config", paramClientID, paramState, paramResponseMode, "request", "request_uri"); err != nil {
		return nil, err
	}
	if err := refuse(given, "is not an authorization request parameter", credentialParams...); err != nil {
		return nil, err
	}
	if err := refuse(given, "must not leave the client before the token request (use oauth2.S256ChallengeOption)", paramCodeVerifier); err != nil {
		return nil, err
	}
	if rt, ok := given[paramResponseType]; ok && (len(rt) != 1 || rt[0] != "code") {
		return nil, optionErr("response_type must be code")
	}
	conf := oauth2.Config{ClientID: c.ClientID, RedirectURL: c.RedirectURL, Scopes: c.Scopes}
	params := jar.AuthCodeParams(&conf, state, opts...)
	resources, err := takeResources(params)
	if err != nil {
		return nil, err
	}
	if len(resources) > 0 {
		params[paramResource] = resources[paramResource]
	}
	switch {
	case params.Get(paramCodeChallenge) == "":
		return nil, optionErr("PKCE is required: add oauth2.S256ChallengeOption")
	case params.Get(paramCodeChallengeMethod) != "S256":
		return nil, optionErr("code_challenge_method must be S256")
	case hasScope(params.Get(paramScope), "openid") && params.Get(paramNonce) == "":
		return nil, optionErr("a nonce is required with the openid scope: add hardened.NonceOption")
	}
	return params, nil
}

// requestObjectErr classifies an error of jar.Config.Build.
func requestObjectErr(err error) error {
	if errors.Is(err, jar.ErrInvalidParameter) {
		return fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	if errors.Is(err, jar.ErrInvalidConfig) {
		return fmt.Errorf("%w: request object: %w", ErrInvalidConfig, err)
	}
	return fmt.Errorf("request object: %w", err)
}

// pushErr classifies an error of a push.
func pushErr(err error) error {
	if errors.Is(err, par.ErrInvalidParameter) {
		return fmt.Errorf("%w: %w", ErrInvalidOption, err)
	}
	return fmt.Errorf("%w: pushed authorization request: %w", ErrRequestFailed, err)
}
