package jar

import (
	"encoding/json"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// AuthCodeParams returns the authorization request parameters x/oauth2's
// conf.AuthCodeURL(state, opts...) would put in the authorization URL:
// response_type=code, client_id, redirect_uri, scope, state, and those of
// opts, such as oauth2.S256ChallengeOption (PKCE, RFC 7636 §4.3),
// dpop.JKTOption or [AuthorizationDetailsOption]. It is the one place the
// module turns an oauth2.Config into parameters: the result goes into a
// request object with [Config.Build], or is pushed as it is with the par
// package. Parameters in conf.Endpoint.AuthURL's own query are not
// included, and conf is not modified.
//
// An oauth2.SetAuthURLParam option sets one value; add further RFC 8707
// resource indicators to the result with [AddResource].
func AuthCodeParams(conf *oauth2.Config, state string, opts ...oauth2.AuthCodeOption) url.Values {
	c := *conf
	c.Endpoint.AuthURL = ""
	v, err := url.ParseQuery(strings.TrimPrefix(c.AuthCodeURL(state, opts...), "?"))
	if err != nil {
		// AuthCodeURL encodes with url.Values.Encode, which ParseQuery
		// always reads back.
		return url.Values{}
	}
	return v
}

// AddResource adds resource indicators (RFC 8707 §2,
// https://datatracker.ietf.org/doc/html/rfc8707#section-2) to params: the
// "resource" parameter, once per URI, which is the one parameter that may
// repeat. Each URI must be absolute and carry no fragment; otherwise
// params is left as it was and the error is a [*ParameterError]. In a
// request object one resource is a JSON string and several are an array
// of strings.
func AddResource(params url.Values, uris ...string) error {
	for _, u := range uris {
		if !validResource(u) {
			return paramErr(paramResource, reasonResource)
		}
	}
	for _, u := range uris {
		params.Add(paramResource, u)
	}
	return nil
}

// AuthorizationDetailsOption returns an option that sets the
// "authorization_details" parameter of RFC 9396
// (https://datatracker.ietf.org/doc/html/rfc9396#section-2) to details
// encoded as JSON, for [AuthCodeParams] or x/oauth2's AuthCodeURL. details
// must marshal to a JSON array of objects, each with a string "type": a
// slice of structs or maps, or a json.RawMessage; otherwise the error is a
// [*ParameterError]. Pushed as a form (par) the parameter is that JSON
// text (RFC 9396 §3); in a request object [Config.Build] writes it as the
// JSON array itself (RFC 9396 §3, RFC 9101 §4).
func AuthorizationDetailsOption(details any) (oauth2.AuthCodeOption, error) {
	b, err := json.Marshal(details)
	if err != nil {
		return nil, paramErr(paramAuthzDetails, reasonDetails)
	}
	raw, ok := authzDetails(b)
	if !ok {
		return nil, paramErr(paramAuthzDetails, reasonDetails)
	}
	return oauth2.SetAuthURLParam(paramAuthzDetails, string(raw)), nil
}
