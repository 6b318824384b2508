// Package par implements the client side of OAuth 2.0 Pushed Authorization
// Requests (PAR), RFC 9126 (https://datatracker.ietf.org/doc/html/rfc9126).
//
// [Config.Push] sends the authorization request parameters (or, with
// [Config.PushRequestObject], a request object of RFC 9101 built with the
// jar package) to the authorization server's PAR endpoint and returns the
// request_uri with its absolute expiry in a [Response]. [AuthCodeURL] then
// builds the authorization URL that carries only client_id and request_uri
// (RFC 9126 §4, https://datatracker.ietf.org/doc/html/rfc9126#section-4),
// as FAPI 2.0 requires. The parameters to push come from the jar package's
// AuthCodeParams, or any url.Values.
//
// # One HTTP client, no credentials of its own
//
// The package adds no client credentials: it takes an *http.Client
// ([Config.HTTPClient]) whose transports do. The module's client stack is
//
//	dpop.Transport → hardened.AuthTransport (lists the PAR endpoint) → TLS
//
// and the same client serves the token endpoint. Each push is one POST of
// an application/x-www-form-urlencoded body holding client_id and the
// parameters, with GetBody set to replay that same body: a transport may
// read the form (AuthTransport checks client_id and adds a fresh client
// assertion to every attempt) and send the request again (dpop.Transport
// after a 400 use_dpop_nonce answer, RFC 9449 §8). client_id is always in
// the form (RFC 9126 §2.1), so a public client needs no transport at all.
// Credentials passed as parameters (client_secret, client_assertion,
// client_assertion_type) are refused with [ErrInvalidParameter]: there is
// one place that adds them.
//
// # Decisions
//
//   - Only 201 Created is success, as RFC 9126 §2.2 says. Any other status,
//     a 200 included, is an [*Error] (errors.Is(err, [ErrErrorResponse])).
//   - Redirects are never followed, whatever the given http.Client does: a
//     3xx is an [*Error] too. Following a 307 would resend the request, and
//     the credentials a transport added, to another location.
//   - The PAR endpoint must use https (RFC 9126 §2); [Config.InsecureAllowHTTP]
//     lifts this for tests on loopback.
//   - The success body must be a JSON object (application/json or a +json
//     type), at most [DefaultMaxResponseBytes] unless configured, with no
//     repeated member names. request_uri must be a string holding a URN or
//     an absolute http(s) URL of at most [MaxRequestURILength] characters;
//     expires_in must be a JSON number that is a whole number of seconds
//     between 1 and [MaxExpiresIn] (a day): 0, negatives, fractions,
//     strings and absurd lifetimes are refused with [ErrInvalidResponse].
//   - A request_uri parameter is never pushed (RFC 9126 §2.1); a parameter
//     given twice, other than "resource" (RFC 8707), is refused; a
//     parameter whose values are all empty is omitted (RFC 6749 §3.1).
//     These are [ErrInvalidParameter], and nothing is sent.
//   - Errors never contain the request body or a credential. [Error] keeps
//     the response's status, header and parsed OAuth error (its description
//     sanitized), not the body, which a server may use to echo the request.
package par
