// Package oautherr holds the OAuth 2.0 error type shared by every package of
// the module, the parser of JSON error bodies (RFC 6749 §5.2,
// https://datatracker.ietf.org/doc/html/rfc6749#section-5.2) and the parser
// and formatter of WWW-Authenticate challenges (RFC 9110 §11.6.1, RFC 6750 §3
// https://datatracker.ietf.org/doc/html/rfc6750#section-3 and RFC 9449 §7.1
// https://datatracker.ietf.org/doc/html/rfc9449#section-7.1).
package oautherr
