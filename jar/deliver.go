package jar

import (
	"net/url"
	"strings"
)

// ByValue returns the authorization request parameters that pass ro by
// value (RFC 9101 §5.1,
// https://datatracker.ietf.org/doc/html/rfc9101#section-5.1): client_id
// and request.
func ByValue(clientID string, ro *RequestObject) url.Values {
	return url.Values{"client_id": {clientID}, "request": {ro.JWT}}
}

// ByReference returns the authorization request parameters that pass a
// request object by reference (RFC 9101 §5.2,
// https://datatracker.ietf.org/doc/html/rfc9101#section-5.2): client_id
// and request_uri, e.g. a URI returned by [Server.Publish].
func ByReference(clientID, requestURI string) url.Values {
	return url.Values{"client_id": {clientID}, "request_uri": {requestURI}}
}

// AuthCodeURL appends params to the authorization endpoint's query, as
// x/oauth2's Config.AuthCodeURL does, and returns the URL to send the user
// to. With [ByValue] or [ByReference] it carries nothing but client_id and
// request or request_uri, as FAPI 2.0 wants; a request object pushed with
// the par package goes through par.AuthCodeURL instead.
func AuthCodeURL(authorizationEndpoint string, params url.Values) string {
	var b strings.Builder
	b.WriteString(authorizationEndpoint)
	if strings.Contains(authorizationEndpoint, "?") {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	b.WriteString(params.Encode())
	return b.String()
}
