package par

import (
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// AuthCodeValues returns the parameters of the authorization request that
// follows a push: client_id and request_uri only (RFC 9126 §4).
func AuthCodeValues(clientID string, resp *Response) url.Values {
	return url.Values{"client_id": {clientID}, "request_uri": {resp.RequestURI}}
}

// AuthCodeURL returns the authorization endpoint URL with client_id and
// request_uri appended to its query, and nothing else (RFC 9126 §4; FAPI
// 2.0 wants only these two). Unlike x/oauth2's Config.AuthCodeURL it adds
// no response_type, redirect_uri, scope or state: those were pushed.
func AuthCodeURL(authorizationEndpoint, clientID string, resp *Response) string {
	var b strings.Builder
	b.WriteString(authorizationEndpoint)
	if strings.Contains(authorizationEndpoint, "?") {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	b.WriteString(AuthCodeValues(clientID, resp).Encode())
	return b.String()
}

// AuthCodeParams returns the parameters x/oauth2's conf.AuthCodeURL(state,
// opts...) would put in the authorization URL (response_type=code,
// client_id, redirect_uri, scope, state and those of opts, such as
// oauth2.S256ChallengeOption or a dpop_jkt), ready for [Config.Push].
// Parameters in conf.Endpoint.AuthURL's own query are not included.
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
