package par

import (
	"net/url"
	"strings"
)

// AuthCodeValues returns the parameters of the authorization request that
// follows a push: client_id and request_uri only (RFC 9126 §4).
func AuthCodeValues(clientID string, resp *Response) url.Values {
	return url.Values{"client_id": {clientID}, "request_uri": {resp.RequestURI}}
}

// AuthCodeURL returns the authorization endpoint URL with client_id and
// request_uri appended to its query, and nothing else (RFC 9126 §4,
// https://datatracker.ietf.org/doc/html/rfc9126#section-4; FAPI 2.0 wants
// only these two). Unlike x/oauth2's Config.AuthCodeURL it adds no
// response_type, redirect_uri, scope or state: those were pushed.
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
