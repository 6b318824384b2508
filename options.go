package hardened

import (
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/jar"
)

// Parameter names the Config reads from or refuses in options.
const (
	paramNonce               = "nonce"
	paramResource            = "resource"
	paramCodeVerifier        = "code_verifier"
	paramCodeChallenge       = "code_challenge"
	paramCodeChallengeMethod = "code_challenge_method"
	paramScope               = "scope"
	paramState               = "state"
	paramClientID            = "client_id"
	paramResponseType        = "response_type"
	paramResponseMode        = "response_mode"
	paramDPoPJKT             = "dpop_jkt"
)

// credentialParams are never taken from options: AuthTransport adds the
// client's credentials.
var credentialParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// NonceOption returns the option that sends nonce as the OpenID Connect
// "nonce" (Core §3.1.2.1): give it to [Config.AuthCodeURL], and the same
// value to [Config.Exchange], which checks it in the ID token and does not
// send it to the token endpoint. [NewLogin] makes a random one.
func NonceOption(nonce string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam(paramNonce, nonce)
}

// ResourceOption returns the option that asks for access tokens for the
// given resource servers: the "resource" parameter of RFC 8707
// (https://datatracker.ietf.org/doc/html/rfc8707#section-2), once per URI,
// for [Config.AuthCodeURL] (in the request object, one URI is a string and
// several an array), [Config.Exchange] and [Config.ClientCredentials]. Each
// URI must be absolute, without a fragment.
//
// x/oauth2 options set one value per name, so give every resource to one
// ResourceOption: a second ResourceOption, or
// oauth2.SetAuthURLParam("resource", …), replaces the first, as it does for
// any option. The URIs travel space-separated in the option's one value
// (a URI holds no space) and are split again by the Config; with plain
// x/oauth2 the server would see that joined value and refuse it.
func ResourceOption(uris ...string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam(paramResource, strings.Join(uris, " "))
}

// optionValues returns the parameters opts set, read by applying them to a
// throwaway oauth2.Config (oauth2.AuthCodeOption is sealed).
func optionValues(opts []oauth2.AuthCodeOption) url.Values {
	const marker = "\x00hardened"
	conf := oauth2.Config{ClientID: marker}
	v, err := url.ParseQuery(strings.TrimPrefix(conf.AuthCodeURL("", opts...), "?"))
	if err != nil {
		// AuthCodeURL encodes with url.Values.Encode, which ParseQuery
		// always reads back.
		return url.Values{}
	}
	if v.Get(paramClientID) == marker {
		delete(v, paramClientID)
	}
	if v.Get(paramResponseType) == "code" {
		delete(v, paramResponseType)
	}
	return v
}

// takeResources removes "resource" from v and returns its URIs, split on
// spaces and checked (RFC 8707 §2: absolute, no fragment).
func takeResources(v url.Values) (url.Values, error) {
	raw := v[paramResource]
	delete(v, paramResource)
	out := url.Values{}
	for _, r := range raw {
		if err := jar.AddResource(out, strings.Fields(r)...); err != nil {
			return nil, optionErr("resource: each must be an absolute URI without fragment")
		}
	}
	return out, nil
}

// hasScope reports whether the space-separated scope holds s.
func hasScope(scope, s string) bool {
	return slices.Contains(strings.Fields(scope), s)
}

// refuse returns an error when v holds one of names.
func refuse(v url.Values, why string, names ...string) error {
	for _, n := range names {
		if _, ok := v[n]; ok {
			return optionErr(n + " " + why)
		}
	}
	return nil
}
