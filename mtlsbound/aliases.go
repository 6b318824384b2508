package mtlsbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Metadata names of the endpoints a client may call with mutual TLS, as
// they appear in authorization server metadata (RFC 8414) and as keys of
// mtls_endpoint_aliases.
const (
	// MetadataAliases is the metadata member holding the aliases
	// (https://datatracker.ietf.org/doc/html/rfc8705#section-5).
	MetadataAliases = "mtls_endpoint_aliases"

	TokenEndpoint                      = "token_endpoint"                        // RFC 8414
	PushedAuthorizationRequestEndpoint = "pushed_authorization_request_endpoint" // RFC 9126
	IntrospectionEndpoint              = "introspection_endpoint"                // RFC 8414, RFC 7662
	RevocationEndpoint                 = "revocation_endpoint"                   // RFC 8414, RFC 7009
	UserinfoEndpoint                   = "userinfo_endpoint"                     // OpenID Connect Discovery
	DeviceAuthorizationEndpoint        = "device_authorization_endpoint"         // RFC 8628
	BackchannelAuthenticationEndpoint  = "backchannel_authentication_endpoint"   // OpenID CIBA
	RegistrationEndpoint               = "registration_endpoint"                 // RFC 7591
)

// Limits on an mtls_endpoint_aliases member.
const (
	maxAliasesBytes = 64 << 10
	maxAliases      = 64
)

// Aliases is the mtls_endpoint_aliases metadata of an authorization server
// (RFC 8705 §5, https://datatracker.ietf.org/doc/html/rfc8705#section-5):
// endpoint metadata name to the URL a client must use instead of the
// conventional one when it talks mutual TLS. A nil Aliases is valid and
// empty. Values in a parsed Aliases are absolute https URLs.
type Aliases map[string]string

// Resolve returns the endpoint URL a client using mutual TLS must call
// for the metadata name (e.g. [TokenEndpoint]): the alias when the server
// published one, else endpoint, the conventional URL from the same
// metadata. RFC 8705 §5: "When an endpoint is not present in
// mtls_endpoint_aliases, then the client uses the conventional endpoint
// URL". Call it only when the client authenticates with, or binds tokens
// to, a certificate; other clients use the conventional URLs.
func (a Aliases) Resolve(name, endpoint string) string {
	if alias, ok := a[name]; ok && alias != "" {
		return alias
	}
	return endpoint
}

// ParseAliases parses the value of the mtls_endpoint_aliases member. It
// must be a JSON object (at most 64 KiB and 64 members, names unique)
// whose values are strings holding absolute https URLs without a fragment
// or user information; anything else wraps [ErrMalformedMetadata].
// Members with names this package does not list are kept: Resolve is
// generic. JSON null is treated as absent and returns nil.
func ParseAliases(member json.RawMessage) (Aliases, error) {
	if len(member) > maxAliasesBytes {
		return nil, fmt.Errorf("%w: over %d bytes", ErrMalformedMetadata, maxAliasesBytes)
	}
	switch strictjson.Kind(member) {
	case 'n':
		if string(bytes.TrimSpace(member)) == "null" {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedMetadata)
	case '{':
	default:
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedMetadata)
	}
	out := Aliases{}
	err := strictjson.EachMember(member, nil, func(name, v []byte) error {
		if len(out) == maxAliases {
			return fmt.Errorf("over %d members", maxAliases)
		}
		if strictjson.Kind(v) != '"' {
			return errors.New("a value is not a string")
		}
		s, err := strictjson.Unquote(v)
		if err != nil {
			return err
		}
		if !isHTTPSURL(string(s)) {
			return errors.New("a value is not an absolute https URL")
		}
		out[string(name)] = string(s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedMetadata, err)
	}
	return out, nil
}

// AliasesFromMetadata reads mtls_endpoint_aliases from a whole
// authorization server metadata document (the caller bounds its size). A
// document without the member, or with null, returns nil, nil. A document
// that is not one JSON object with unique member names wraps
// [ErrMalformedMetadata].
func AliasesFromMetadata(doc []byte) (Aliases, error) {
	var member []byte
	err := strictjson.EachMember(doc, nil, func(name, v []byte) error {
		if string(name) == MetadataAliases {
			member = v
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: metadata: %w", ErrMalformedMetadata, err)
	}
	if member == nil {
		return nil, nil
	}
	return ParseAliases(member)
}

func isHTTPSURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil &&
		!strings.Contains(s, "#") && !u.ForceQuery && u.Opaque == "" && u.Hostname() != ""
}
