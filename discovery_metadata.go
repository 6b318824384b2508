package hardened

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Metadata is an authorization server's metadata document (RFC 8414 §2,
// https://datatracker.ietf.org/doc/html/rfc8414#section-2, and the members
// added by later RFCs and by OpenID Connect Discovery 1.0), as returned by
// [Discovery.Discover] or [ParseMetadata] after validation: the issuer is the
// one asked for, every endpoint is an absolute https URL, and every member
// has its registered JSON type.
//
// Members that are absent are zero. RFC 8414 defines defaults for some
// absent members (token_endpoint_auth_methods_supported defaults to
// client_secret_basic, response_modes_supported to query and fragment);
// they are not filled in, except by [Metadata.SupportsAuthMethod].
// Members this struct does not name are in Raw.
//
// The …Supported members are what the server advertises, not what this
// client accepts: the client's own allow-lists are the Algorithms fields of
// the packages that sign or verify, whose FAPI 2.0 defaults a server's
// document never widens.
type Metadata struct {
	// Issuer is the authorization server's issuer identifier (RFC 8414 §2).
	Issuer string `json:"issuer"`
	// AuthorizationEndpoint is the authorization endpoint (RFC 6749 §3.1).
	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	// TokenEndpoint is the token endpoint (RFC 6749 §3.2).
	TokenEndpoint string `json:"token_endpoint,omitempty"`
	// PushedAuthorizationRequestEndpoint is the PAR endpoint (RFC 9126 §5).
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	// RequirePushedAuthorizationRequests reports that the server accepts
	// authorization requests only through PAR (RFC 9126 §5).
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// JWKSURI is the server's JWK Set document (RFC 8414 §2).
	JWKSURI string `json:"jwks_uri,omitempty"`
	// IntrospectionEndpoint is the token introspection endpoint (RFC 7662).
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`
	// RevocationEndpoint is the token revocation endpoint (RFC 7009).
	RevocationEndpoint string `json:"revocation_endpoint,omitempty"`
	// UserinfoEndpoint is the OpenID Connect UserInfo endpoint.
	UserinfoEndpoint string `json:"userinfo_endpoint,omitempty"`
	// RegistrationEndpoint is the dynamic client registration endpoint
	// (RFC 7591).
	RegistrationEndpoint string `json:"registration_endpoint,omitempty"`
	// DeviceAuthorizationEndpoint is the device authorization endpoint
	// (RFC 8628 §4).
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`

	// ResponseTypesSupported is the response_type values the server
	// advertises (RFC 8414 §2, required).
	ResponseTypesSupported []string `json:"response_types_supported"`
	// ResponseModesSupported is the response_mode values the server
	// advertises, including the JARM modes such as "jwt" and "query.jwt".
	ResponseModesSupported []string `json:"response_modes_supported,omitempty"`
	// GrantTypesSupported is the grant types the server advertises.
	GrantTypesSupported []string `json:"grant_types_supported,omitempty"`
	// ScopesSupported is the scope values the server advertises.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// CodeChallengeMethodsSupported is the PKCE methods the server
	// advertises (RFC 7636); FAPI 2.0 needs "S256".
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported,omitempty"`

	// TokenEndpointAuthMethodsSupported is the client authentication
	// methods the server advertises at the token endpoint. Absent means
	// client_secret_basic only (see [Metadata.SupportsAuthMethod]).
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	// TokenEndpointAuthSigningAlgValuesSupported is the algorithms the
	// server advertises for private_key_jwt assertions.
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	// IntrospectionEndpointAuthMethodsSupported is the client
	// authentication methods the server advertises at the introspection
	// endpoint.
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	// IntrospectionEndpointAuthSigningAlgValuesSupported is the algorithms
	// the server advertises for client assertions at the introspection
	// endpoint.
	IntrospectionEndpointAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
	// RevocationEndpointAuthMethodsSupported is the client authentication
	// methods the server advertises at the revocation endpoint.
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	// IntrospectionSigningAlgValuesSupported is the algorithms the server
	// advertises for JWT introspection responses (RFC 9701 §7).
	IntrospectionSigningAlgValuesSupported []string `json:"introspection_signing_alg_values_supported,omitempty"`

	// RequestObjectSigningAlgValuesSupported is the algorithms the server
	// advertises for request objects (RFC 9101 §10.5).
	RequestObjectSigningAlgValuesSupported []string `json:"request_object_signing_alg_values_supported,omitempty"`
	// RequestObjectEncryptionAlgValuesSupported is the key management
	// algorithms the server advertises for encrypted request objects.
	RequestObjectEncryptionAlgValuesSupported []string `json:"request_object_encryption_alg_values_supported,omitempty"`
	// RequestObjectEncryptionEncValuesSupported is the content encryption
	// algorithms the server advertises for encrypted request objects.
	RequestObjectEncryptionEncValuesSupported []string `json:"request_object_encryption_enc_values_supported,omitempty"`
	// AuthorizationSigningAlgValuesSupported is the JARM response signing
	// algorithms the server advertises.
	AuthorizationSigningAlgValuesSupported []string `json:"authorization_signing_alg_values_supported,omitempty"`
	// AuthorizationEncryptionAlgValuesSupported is the JARM response key
	// management algorithms the server advertises.
	AuthorizationEncryptionAlgValuesSupported []string `json:"authorization_encryption_alg_values_supported,omitempty"`
	// AuthorizationEncryptionEncValuesSupported is the JARM response
	// content encryption algorithms the server advertises.
	AuthorizationEncryptionEncValuesSupported []string `json:"authorization_encryption_enc_values_supported,omitempty"`
	// DPoPSigningAlgValuesSupported is the DPoP proof algorithms the server
	// advertises (RFC 9449 §5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`

	// TLSClientCertificateBoundAccessTokens reports support for
	// certificate-bound access tokens (RFC 8705 §3.3).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// MTLSEndpointAliases maps endpoint metadata names (such as
	// "token_endpoint") to the URLs a client using mutual TLS must use
	// instead (RFC 8705 §5). Use [Metadata.Endpoint] and
	// [Metadata.ClientAuthEndpoints].
	MTLSEndpointAliases map[string]string `json:"mtls_endpoint_aliases,omitempty"`
	// AuthorizationResponseIssParameterSupported reports that authorization
	// responses carry "iss" (RFC 9207 §3); the client must then check it.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`

	// Raw holds every top-level member of the document as received, keyed
	// by its exact name, including those named above.
	Raw map[string]json.RawMessage `json:"-"`
}

// endpointFields lists the members that hold URLs the library sends
// requests to (or, for the authorization endpoint, sends the user to).
func (m *Metadata) endpointFields() []struct {
	name string
	ptr  *string
} {
	return []struct {
		name string
		ptr  *string
	}{
		{"authorization_endpoint", &m.AuthorizationEndpoint},
		{"token_endpoint", &m.TokenEndpoint},
		{"pushed_authorization_request_endpoint", &m.PushedAuthorizationRequestEndpoint},
		{"jwks_uri", &m.JWKSURI},
		{"introspection_endpoint", &m.IntrospectionEndpoint},
		{"revocation_endpoint", &m.RevocationEndpoint},
		{"userinfo_endpoint", &m.UserinfoEndpoint},
		{"registration_endpoint", &m.RegistrationEndpoint},
		{"device_authorization_endpoint", &m.DeviceAuthorizationEndpoint},
	}
}

// fields maps the exact member names this package decodes to their
// destinations. Matching is exact: encoding/json's case-insensitive matching
// would let "ISSUER" or "Token_Endpoint" fill a field.
func (m *Metadata) fields() map[string]any {
	f := map[string]any{
		"require_pushed_authorization_requests":          &m.RequirePushedAuthorizationRequests,
		"tls_client_certificate_bound_access_tokens":     &m.TLSClientCertificateBoundAccessTokens,
		"authorization_response_iss_parameter_supported": &m.AuthorizationResponseIssParameterSupported,
		"mtls_endpoint_aliases":                          &m.MTLSEndpointAliases,

		"response_types_supported":                                 (*stringList)(&m.ResponseTypesSupported),
		"response_modes_supported":                                 (*stringList)(&m.ResponseModesSupported),
		"grant_types_supported":                                    (*stringList)(&m.GrantTypesSupported),
		"scopes_supported":                                         (*stringList)(&m.ScopesSupported),
		"code_challenge_methods_supported":                         (*stringList)(&m.CodeChallengeMethodsSupported),
		"token_endpoint_auth_methods_supported":                    (*stringList)(&m.TokenEndpointAuthMethodsSupported),
		"token_endpoint_auth_signing_alg_values_supported":         (*stringList)(&m.TokenEndpointAuthSigningAlgValuesSupported),
		"introspection_endpoint_auth_methods_supported":            (*stringList)(&m.IntrospectionEndpointAuthMethodsSupported),
		"introspection_endpoint_auth_signing_alg_values_supported": (*stringList)(&m.IntrospectionEndpointAuthSigningAlgValuesSupported),
		"revocation_endpoint_auth_methods_supported":               (*stringList)(&m.RevocationEndpointAuthMethodsSupported),
		"introspection_signing_alg_values_supported":               (*stringList)(&m.IntrospectionSigningAlgValuesSupported),
		"request_object_signing_alg_values_supported":              (*stringList)(&m.RequestObjectSigningAlgValuesSupported),
		"request_object_encryption_alg_values_supported":           (*stringList)(&m.RequestObjectEncryptionAlgValuesSupported),
		"request_object_encryption_enc_values_supported":           (*stringList)(&m.RequestObjectEncryptionEncValuesSupported),
		"authorization_signing_alg_values_supported":               (*stringList)(&m.AuthorizationSigningAlgValuesSupported),
		"authorization_encryption_alg_values_supported":            (*stringList)(&m.AuthorizationEncryptionAlgValuesSupported),
		"authorization_encryption_enc_values_supported":            (*stringList)(&m.AuthorizationEncryptionEncValuesSupported),
		"dpop_signing_alg_values_supported":                        (*stringList)(&m.DPoPSigningAlgValuesSupported),
	}
	for _, e := range m.endpointFields() {
		f[e.name] = e.ptr
	}
	return f
}

// stringList decodes a JSON array of strings, rejecting null elements
// (encoding/json would turn them into "").
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var ps []*string
	if err := json.Unmarshal(b, &ps); err != nil {
		return err
	}
	if ps == nil {
		*l = nil
		return nil
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		if p == nil {
			return errors.New("null in an array of strings")
		}
		out[i] = *p
	}
	*l = out
	return nil
}

// ParseMetadata validates an authorization server metadata document fetched
// for issuer, with the rules of a zero [Discovery]: see [Discovery.Parse].
func ParseMetadata(issuer string, data []byte) (*Metadata, error) {
	var d Discovery
	return d.Parse(issuer, data)
}

// Parse validates an authorization server metadata document fetched for
// issuer and returns it. The document must be at most MaxBytes of valid
// UTF-8 holding one JSON object with unique member names, whose known
// members have their registered types (a string where an array is expected
// is [ErrInvalidMetadata]); "issuer" must equal issuer byte for byte
// ([*IssuerMismatchError], RFC 8414 §3.3); response_types_supported is
// required (RFC 8414 §2); every endpoint and mtls_endpoint_aliases value
// must be an absolute https URL without fragment or user information.
// Every failure but the issuer's wraps [ErrInvalidMetadata]. Other members
// (service_documentation, ...) are kept in Raw unchecked.
func (d *Discovery) Parse(issuer string, data []byte) (*Metadata, error) {
	if err := d.checkIssuer(issuer); err != nil {
		return nil, err
	}
	limit, err := d.maxBytes()
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes (Discovery.MaxBytes)", ErrInvalidMetadata, limit)
	}
	raw, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	m := &Metadata{Raw: raw}
	// The issuer first: a document for another issuer "MUST NOT be used"
	// (RFC 8414 §3.3), whatever else it holds.
	if v, ok := raw["issuer"]; !ok || json.Unmarshal(v, &m.Issuer) != nil || m.Issuer == "" {
		return nil, fmt.Errorf("%w: issuer must be a non-empty string", ErrInvalidMetadata)
	}
	if m.Issuer != issuer {
		return nil, &IssuerMismatchError{Expected: issuer, Got: truncateUTF8(oautherr.Sanitize(m.Issuer), 256)}
	}
	for name, dst := range m.fields() {
		v, ok := raw[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return nil, fmt.Errorf("%w: member %s has the wrong type", ErrInvalidMetadata, name)
		}
	}
	if len(m.ResponseTypesSupported) == 0 {
		return nil, fmt.Errorf("%w: response_types_supported is required", ErrInvalidMetadata)
	}
	for _, e := range m.endpointFields() {
		if *e.ptr == "" {
			continue
		}
		if err := d.checkURL(*e.ptr); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalidMetadata, e.name, err)
		}
	}
	for name, u := range m.MTLSEndpointAliases {
		if name == "" {
			return nil, fmt.Errorf("%w: empty name in mtls_endpoint_aliases", ErrInvalidMetadata)
		}
		if err := d.checkURL(u); err != nil {
			return nil, fmt.Errorf("%w: mtls_endpoint_aliases %s: %w", ErrInvalidMetadata, truncateName(name), err)
		}
	}
	return m, nil
}

// decodeObject decodes a JSON object into its members after
// internal/strictjson checked it: valid UTF-8, no repeated member names
// (case variants included) in any object, no trailing data. The members
// share one copy of data, not data itself.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	data = bytes.Clone(data)
	raw := map[string]json.RawMessage{}
	err := strictjson.EachMember(data, nil, func(name, value []byte) error {
		raw[string(name)] = value
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMetadata, err)
	}
	return raw, nil
}

// truncateName quotes a member name from the document for an error
// message, sanitized and truncated to 64 bytes.
func truncateName(s string) string {
	return fmt.Sprintf("%q", truncateUTF8(oautherr.Sanitize(s), 64))
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// checkIssuer validates an issuer identifier: an https URL with a host and
// no query, fragment or user information (RFC 8414 §2), or an http URL on a
// loopback host when InsecureAllowHTTPLoopback is set.
func (d *Discovery) checkIssuer(issuer string) error {
	if issuer == "" {
		return fmt.Errorf("%w: empty", ErrInvalidIssuer)
	}
	if strings.ContainsAny(issuer, "?#") {
		return fmt.Errorf("%w: has a query or fragment", ErrInvalidIssuer)
	}
	if err := d.checkURL(issuer); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidIssuer, err)
	}
	return nil
}

// checkURL requires an absolute https URL with a host, without fragment or
// user information. http is accepted for a loopback host when
// InsecureAllowHTTPLoopback is set.
func (d *Discovery) checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	switch {
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return errors.New("not an absolute URL with a host")
	case u.User != nil:
		return errors.New("has user information")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return errors.New("has a fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if d.InsecureAllowHTTPLoopback && isLoopback(u.Hostname()) {
			return nil
		}
	}
	return errors.New("scheme is not https")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Endpoint returns the URL of the endpoint named by its metadata member
// name, such as "token_endpoint" or "pushed_authorization_request_endpoint".
// With mtls set, the mtls_endpoint_aliases entry is returned when there is
// one (RFC 8705 §5), else the plain endpoint. It returns "" for an endpoint
// the document does not have.
func (m *Metadata) Endpoint(name string, mtls bool) string {
	if mtls {
		if u := m.MTLSEndpointAliases[name]; u != "" {
			return u
		}
	}
	for _, e := range m.endpointFields() {
		if e.name == name {
			return *e.ptr
		}
	}
	return ""
}

// SupportsAuthMethod reports whether method is in
// token_endpoint_auth_methods_supported, which RFC 8414 §2 defaults to
// client_secret_basic when absent.
func (m *Metadata) SupportsAuthMethod(method string) bool {
	if m.TokenEndpointAuthMethodsSupported == nil {
		return method == AuthMethodClientSecretBasic
	}
	return slices.Contains(m.TokenEndpointAuthMethodsSupported, method)
}

// OAuth2Endpoint returns the oauth2.Endpoint for a client that
// authenticates with method (a [ClientAuth.Method] value) through
// [AuthTransport]. The method must be known and supported by the server
// ([ErrAuthMethodNotSupported]) and the token endpoint present
// ([ErrMissingEndpoint]).
//
// AuthStyle is always oauth2.AuthStyleInParams, never left to x/oauth2's
// auto-detection (which retries a failed request with the other style):
// with oauth2.Config's ClientSecret empty, x/oauth2 then adds only the
// client_id, and AuthTransport adds the credentials. The token and device
// authorization URLs are the mTLS aliases when mtls is set or method is
// tls_client_auth or self_signed_tls_client_auth (RFC 8705 §5); AuthURL,
// which the user's browser visits, is never an alias.
func (m *Metadata) OAuth2Endpoint(method string, mtls bool) (oauth2.Endpoint, error) {
	if !slices.Contains(authMethods, method) {
		return oauth2.Endpoint{}, fmt.Errorf("%w: unknown method %s", ErrAuthMethodNotSupported, quoteTrunc(method))
	}
	if !m.SupportsAuthMethod(method) {
		return oauth2.Endpoint{}, fmt.Errorf("%w: %s is not in token_endpoint_auth_methods_supported", ErrAuthMethodNotSupported, method)
	}
	if method == AuthMethodTLSClientAuth || method == AuthMethodSelfSignedTLSClientAuth {
		mtls = true
	}
	ep := oauth2.Endpoint{
		AuthURL:       m.AuthorizationEndpoint,
		DeviceAuthURL: m.Endpoint("device_authorization_endpoint", mtls),
		TokenURL:      m.Endpoint("token_endpoint", mtls),
		AuthStyle:     oauth2.AuthStyleInParams,
	}
	if ep.TokenURL == "" {
		return oauth2.Endpoint{}, fmt.Errorf("%w: token_endpoint", ErrMissingEndpoint)
	}
	return ep, nil
}

// authMethods are the client authentication methods this package
// implements.
var authMethods = []string{
	AuthMethodPrivateKeyJWT, AuthMethodClientSecretBasic, AuthMethodClientSecretPost,
	AuthMethodTLSClientAuth, AuthMethodSelfSignedTLSClientAuth, AuthMethodNone,
}

// clientAuthEndpoints are the metadata members naming the endpoints a
// client authenticates to: PAR (RFC 9126 §2), token (RFC 6749 §3.2),
// introspection (RFC 7662 §2.1), revocation (RFC 7009 §2) and device
// authorization (RFC 8628 §3.1).
var clientAuthEndpoints = []string{
	"pushed_authorization_request_endpoint",
	"token_endpoint",
	"introspection_endpoint",
	"revocation_endpoint",
	"device_authorization_endpoint",
}

// ClientAuthEndpoints returns the endpoints of the document that require
// client authentication, for [AuthTransport.Endpoints]: the pushed
// authorization request, token, introspection, revocation and device
// authorization endpoints the server has. With mtls set (a client that
// authenticates with a certificate, or uses certificate-bound tokens), their
// mtls_endpoint_aliases (RFC 8705 §5) are listed too, each after its plain
// endpoint; aliases of other endpoints are not. Duplicates are listed once;
// the result is nil when the document has none of these endpoints.
func (m *Metadata) ClientAuthEndpoints(mtls bool) []string {
	var out []string
	add := func(u string) {
		if u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	for _, name := range clientAuthEndpoints {
		add(m.Endpoint(name, false))
		if mtls {
			add(m.MTLSEndpointAliases[name])
		}
	}
	return out
}
