package hardened

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// TokenSource returns a TokenSource that returns t while it is valid and
// then refreshes it (RFC 6749 §6) through x/oauth2's own refresh, with the
// Config's stack: client authentication, the DPoP proof of the key the
// token is bound to, and its nonce retry. It shadows oauth2.Config.TokenSource,
// with the same signature.
//
// Each refreshed token is checked as [Config.Exchange] checks a new one
// (token_type, strict JSON) and its ID token, when the response carries
// one, as OpenID Connect Core §12.2 asks: same subject and, when present,
// the nonce and auth_time of the login's ID token (known when t came from
// this package). Then OnRefresh receives it, so that a rotated refresh
// token can be persisted. A refresh that fails is not retried: its error
// (wrapping [ErrRequestFailed], or [ErrTokenExpired] without a refresh
// token) reaches the caller of Token, through the http.Client of
// [Config.Client] as a *url.Error. ctx bounds every refresh.
//
// A refresh the server answered with success but that fails a check
// (token_type, strict JSON, expires_in, the ID token) ends the source:
// the server may have rotated the refresh token already, and sending the
// old one again would look like a stolen token's replay to a server that
// detects reuse (RFC 9700 §4.14.2), which revokes the whole grant. Later
// calls return [ErrTokenExpired] without a request; the user logs in
// again. A refresh refused by the server (an OAuth error) or lost in
// transport keeps the refresh token for the next call.
func (c *Config) TokenSource(ctx context.Context, t *oauth2.Token) oauth2.TokenSource {
	r := &refresher{c: c, ctx: ctx}
	if t != nil {
		r.rt = t.RefreshToken
		r.idt, _ = IDTokenFrom(t)
	}
	return oauth2.ReuseTokenSource(t, r)
}

// Client returns an *http.Client that sends t's access token, refreshed
// by [Config.TokenSource], through the Config's stack: as
// "Authorization: DPoP" with a proof carrying "ath" (RFC 9449 §7) and a
// retry when a resource server asks for a nonce, or over the connection
// presenting Certificate. It shadows oauth2.Config.Client, with the same
// signature; ctx bounds refreshes (an oauth2.HTTPClient value in it is not
// used: the stack is the Config's). The client never follows redirects (a
// 3xx is returned as is) and does not add client credentials to resource
// requests.
func (c *Config) Client(ctx context.Context, t *oauth2.Token) *http.Client {
	return c.NewClient(ctx, c.TokenSource(ctx, t))
}

// NewClient returns an *http.Client that sends the tokens of ts through
// the Config's stack, as [Config.Client] does: for [Config.ClientCredentials]
// or a TokenSource of this Config. A failed first use of the Config (a
// *ConfigError, a failed discovery) is returned by every request.
func (c *Config) NewClient(ctx context.Context, ts oauth2.TokenSource) *http.Client {
	st, err := c.state(ctx)
	if err != nil {
		return &http.Client{Transport: errTransport{err}}
	}
	return httpx.Client(&http.Client{
		Transport: &oauth2.Transport{Base: st.top, Source: oauth2.ReuseTokenSource(nil, ts)},
		Timeout:   st.timeout,
	})
}

// refresher refreshes a token with its refresh token.
type refresher struct {
	c   *Config
	ctx context.Context

	mu  sync.Mutex
	rt  string
	idt *IDToken
}

func (r *refresher) Token() (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rt == "" {
		return nil, ErrTokenExpired
	}
	st, err := r.c.state(r.ctx)
	if err != nil {
		return nil, err
	}
	rt := r.rt
	tok, raw, err := st.tokenRequest(r.ctx, nil, func(ctx context.Context) (*oauth2.Token, error) {
		return st.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}, rt)
	if err != nil {
		if errors.As(err, new(refusedAnswer)) {
			// The server answered, and may have rotated rt: sending it
			// again would look like a stolen token's replay (RFC 9700
			// §4.14.2) and revoke the grant. The source is done.
			r.rt = ""
		}
		return nil, err
	}
	idt, err := r.c.idTokenOf(r.ctx, st, tok, raw, idCheck{refresh: true, prev: r.idt})
	if err != nil {
		r.rt = "" // the same: the answer came, and is refused
		return nil, err
	}
	if idt == nil {
		idt = r.idt
	} else if r.idt == nil {
		r.idt = idt
	}
	tok = attach(tok, raw, idt)
	r.rt = tok.RefreshToken
	if r.c.OnRefresh != nil {
		r.c.OnRefresh(tok)
	}
	return tok, nil
}

// ClientCredentials returns a TokenSource of the client credentials grant
// (RFC 6749 §4.4) through x/oauth2's clientcredentials package and the
// Config's stack: the same client authentication, DPoP proof or client
// certificate, and mTLS alias, so the tokens are sender-constrained as the
// login's are. A token is requested on first use and whenever the previous
// one expired; give the source to [Config.NewClient] for calls.
//
// The scope is the Config's Scopes without openid (there is no end-user),
// unless an oauth2.SetAuthURLParam("scope", …) option replaces it;
// [ResourceOption] and jar.AuthorizationDetailsOption add RFC 8707 and RFC
// 9396 parameters. Options the grant does not take (PKCE, nonce, state,
// client credentials) wrap [ErrInvalidOption]. Options are checked, and
// the Config's first use is made (bounded by ctx), by the first Token call.
func (c *Config) ClientCredentials(ctx context.Context, opts ...oauth2.AuthCodeOption) oauth2.TokenSource {
	return oauth2.ReuseTokenSource(nil, &ccSource{c: c, ctx: ctx, opts: opts})
}

type ccSource struct {
	c    *Config
	ctx  context.Context
	opts []oauth2.AuthCodeOption
}

func (s *ccSource) Token() (*oauth2.Token, error) {
	given := optionValues(s.opts)
	if err := refuse(given, "is set by the Config", paramClientID, "grant_type"); err != nil {
		return nil, err
	}
	if err := refuse(given, "is not a client credentials parameter", append(credentialParams,
		paramCodeVerifier, paramCodeChallenge, paramCodeChallengeMethod, paramNonce, paramState,
		paramResponseType, paramResponseMode, paramDPoPJKT, "request", "request_uri", "redirect_uri")...); err != nil {
		return nil, err
	}
	resources, err := takeResources(given)
	if err != nil {
		return nil, err
	}
	if len(resources) > 0 {
		given[paramResource] = resources[paramResource]
	}
	st, err := s.c.state(s.ctx)
	if err != nil {
		return nil, err
	}
	scopes := slices.DeleteFunc(slices.Clone(s.c.Scopes), func(s string) bool { return s == "openid" })
	if _, ok := given[paramScope]; ok {
		scopes = nil
	} else if len(scopes) == 0 {
		scopes = nil
	}
	cc := &clientcredentials.Config{
		ClientID:       s.c.ClientID,
		TokenURL:       st.oauth.Endpoint.TokenURL,
		Scopes:         scopes,
		EndpointParams: given,
		AuthStyle:      oauth2.AuthStyleInParams,
	}
	tok, _, err := st.tokenRequest(s.ctx, nil, cc.Token)
	return tok, err
}
