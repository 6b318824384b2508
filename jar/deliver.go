package jar

import (
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// ByValue returns the authorization request parameters that pass ro by
// value (RFC 9101 §5.1): client_id and request.
func ByValue(clientID string, ro *RequestObject) url.Values {
	return url.Values{"client_id": {clientID}, "request": {ro.JWT}}
}

// ByReference returns the authorization request parameters that pass a
// request object by reference (RFC 9101 §5.2): client_id and request_uri,
// e.g. a URI returned by [Server.Publish].
func ByReference(clientID, requestURI string) url.Values {
	return url.Values{"client_id": {clientID}, "request_uri": {requestURI}}
}

// AuthCodeURL appends params to the authorization endpoint's query, as
// x/oauth2's Config.AuthCodeURL does, and returns the URL to send the user
// to. With [ByValue] or [ByReference] it carries nothing but client_id and
// request or request_uri, as FAPI 2.0 wants.
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

// RequestOption returns an option that adds ro as the "request" parameter
// to x/oauth2's Config.AuthCodeURL. That URL also carries response_type,
// client_id and whatever else the oauth2.Config adds; RFC 9101 §5 lets the
// server ignore those duplicates, but profiles that want only client_id and
// request should use [AuthCodeURL] with [ByValue].
func RequestOption(ro *RequestObject) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("request", ro.JWT)
}

// RequestURIOption is [RequestOption] for a request object passed by
// reference: it adds the "request_uri" parameter.
func RequestURIOption(requestURI string) oauth2.AuthCodeOption {
	return oauth2.SetAuthURLParam("request_uri", requestURI)
}

// AuthCodeParams returns the parameters x/oauth2's conf.AuthCodeURL(state,
// opts...) would put in the authorization URL (response_type=code,
// client_id, redirect_uri, scope, state and those of opts, such as
// oauth2.S256ChallengeOption), ready to be put in a request object with
// [Config.Build]. Parameters in conf.Endpoint.AuthURL's own query are not
// included.
func AuthCodeParams(conf *oauth2.Config, state string, opts ...oauth2.AuthCodeOption) url.Values {
	c := *conf
	c.Endpoint.AuthURL = ""
	q := strings.TrimPrefix(c.AuthCodeURL(state, opts...), "?")
	v, err := url.ParseQuery(q)
	if err != nil {
		// AuthCodeURL encodes with url.Values.Encode, which ParseQuery
		// always reads back.
		return url.Values{}
	}
	return v
}
