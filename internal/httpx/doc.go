// Package httpx holds the HTTP plumbing shared by the module: bounded body
// reads, a default client with timeouts that does not follow redirects and
// speaks TLS as the FAPI 2.0 Security Profile asks
// (https://openid.net/specs/fapi-security-profile-2_0-final.html: TLS 1.2
// or later, and for TLS 1.2 only the cipher suites of BCP 195,
// https://datatracker.ietf.org/doc/html/rfc9325#section-4.2), and request
// cloning for a single retry of a request whose body can be sent again
// (RFC 9110 §9.2.2, https://datatracker.ietf.org/doc/html/rfc9110#section-9.2.2,
// leaves the decision to retry to the client).
package httpx
