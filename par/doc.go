// Package par implements the client side of OAuth 2.0 Pushed Authorization
// Requests (PAR), RFC 9126 (https://datatracker.ietf.org/doc/html/rfc9126).
//
// [Config.Push] sends the authorization request parameters (or, with
// [Config.PushRequestObject], a request object of RFC 9101) to the
// authorization server's PAR endpoint, authenticated as the client by a
// [ClientAuth], and returns the request_uri with its absolute expiry in a
// [Response]. [AuthCodeURL] then builds the authorization URL that carries
// only client_id and request_uri (RFC 9126 §4), as FAPI 2.0 requires.
// [AuthCodeParams] turns an x/oauth2 Config and its AuthCodeOptions into the
// parameters to push.
//
// # Client authentication
//
// The package does not implement client authentication: it consumes the
// one-method [ClientAuth] interface, which the module's root package
// implements for private_key_jwt, client_secret_basic, client_secret_post,
// tls_client_auth and none. [ClientAuthFunc] adapts a function.
//
// # DPoP and retries
//
// The package does not import the dpop package. To use DPoP at the PAR
// endpoint (RFC 9449 §5 and §10), put a DPoP transport in
// [Config.HTTPClient]. When that transport retries after a
// 400 use_dpop_nonce answer it calls the request's GetBody, and GetBody
// builds a new body with a fresh [ClientAuth.Authenticate] call, so every
// attempt carries a new client assertion (a new "jti"). Headers set by the
// first Authenticate call are on the request and travel with its clones;
// later calls get a throwaway header map. The request's Content-Length is
// that of the first body, so ClientAuth implementations must produce
// credentials of the same length on every call (a JWT with fixed-size
// claims does); a body of another length makes GetBody fail with
// [ErrBodyChanged] instead of sending a corrupt request.
//
// # Decisions
//
//   - Only 201 Created is success, as RFC 9126 §2.2 says. A 200 is an
//     error ([*Error] wrapping [ErrErrorResponse]) however good its body.
//   - Redirects are never followed, whatever the given http.Client does: a
//     3xx is an [*Error] wrapping [ErrRedirect]. Following a 307 would
//     resend the client's credentials to another location.
//   - The PAR endpoint must use https (RFC 9126 §2); [Config.InsecureAllowHTTP]
//     lifts this for tests on loopback.
//   - The success body must be a JSON object (application/json or a +json
//     type), at most [DefaultMaxResponseBytes] unless configured, with no
//     repeated member names. request_uri must be a string holding a URN or
//     an absolute http(s) URL of at most [MaxRequestURILength] characters;
//     expires_in must be a JSON number that is a whole number of seconds
//     between 1 and [MaxExpiresIn] (a day): 0, negatives, fractions,
//     strings and absurd lifetimes are refused with [ErrInvalidResponse].
//   - A request_uri parameter is never pushed (RFC 9126 §2.1,
//     [ErrRequestURINotAllowed]); a parameter given twice, other than
//     "resource" (RFC 8707), is refused ([ErrDuplicateParameter]); a
//     parameter whose values are all empty is omitted (RFC 6749 §3.1).
//   - Errors never contain the request body, the client assertion or a
//     secret. [Error.Response] has its Request removed, since that request
//     carries the client's credentials in its headers.
package par
