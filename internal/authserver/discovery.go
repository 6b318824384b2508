package authserver

import (
	"net/http"
	"slices"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// authMethods lists the client authentication methods in a stable order.
var authMethods = []string{AuthPrivateKeyJWT, AuthClientSecretBasic, AuthClientSecretPost, AuthTLSClient, AuthSelfSignedTLSClient}

// jarmEncAlgs are the JARM encryption algorithms the server can produce.
var jarmEncAlgs = []string{jose.RSAOAEP256, jose.ECDHES}

// claimsSupported are the claims the server can put in ID tokens and
// userinfo responses (OpenID Connect Discovery §3).
var claimsSupported = []string{"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash", "c_hash", "name"}

// responseModes are the supported response modes, JARM's included.
var responseModes = []string{"query", "fragment", "form_post", "jwt", "query.jwt", "fragment.jwt", "form_post.jwt"}

// Metadata returns the server's metadata (RFC 8414 §2), as served at the
// well-known locations, before any Misbehave switch.
func (s *Server) Metadata() map[string]any {
	e := s.Endpoints()
	methods := slices.Clone(authMethods)
	if s.anyPublic {
		methods = append(methods, AuthNone)
	}
	requirePAR, requireSigned := true, true
	var detailTypes []string
	for _, c := range s.clients {
		for _, t := range c.AuthorizationDetailsTypes {
			if !slices.Contains(detailTypes, t) {
				detailTypes = append(detailTypes, t)
			}
		}
		if c.grants[GrantAuthorizationCode] {
			requirePAR = requirePAR && c.RequirePAR
			requireSigned = requireSigned && (c.RequireSignedRequestObject || c.RequireEncryptedRequestObject)
		}
	}
	m := map[string]any{
		"issuer":                                                   s.issuer,
		"authorization_endpoint":                                   e.Authorization,
		"token_endpoint":                                           e.Token,
		"pushed_authorization_request_endpoint":                    e.PAR,
		"require_pushed_authorization_requests":                    requirePAR,
		"introspection_endpoint":                                   e.Introspection,
		"revocation_endpoint":                                      e.Revocation,
		"userinfo_endpoint":                                        e.Userinfo,
		"jwks_uri":                                                 e.JWKS,
		"response_types_supported":                                 []string{"code"},
		"response_modes_supported":                                 responseModes,
		"grant_types_supported":                                    []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials},
		"code_challenge_methods_supported":                         []string{"S256"},
		"scopes_supported":                                         []string{"openid", "profile", "offline_access"},
		"subject_types_supported":                                  []string{"public"},
		"token_endpoint_auth_methods_supported":                    methods,
		"token_endpoint_auth_signing_alg_values_supported":         jose.DefaultAlgorithms,
		"introspection_endpoint_auth_methods_supported":            methods,
		"introspection_endpoint_auth_signing_alg_values_supported": jose.DefaultAlgorithms,
		"revocation_endpoint_auth_methods_supported":               methods,
		"revocation_endpoint_auth_signing_alg_values_supported":    jose.DefaultAlgorithms,
		"introspection_signing_alg_values_supported":               []string{s.sigAlg},
		"request_parameter_supported":                              true,
		"request_uri_parameter_supported":                          false,
		"require_signed_request_object":                            requireSigned,
		"request_object_signing_alg_values_supported":              jose.DefaultAlgorithms,
		"request_object_encryption_alg_values_supported":           s.encAlgs,
		"request_object_encryption_enc_values_supported":           []string{jose.A256GCM},
		"authorization_signing_alg_values_supported":               []string{s.sigAlg},
		"authorization_encryption_alg_values_supported":            jarmEncAlgs,
		"authorization_encryption_enc_values_supported":            []string{jose.A256GCM},
		"dpop_signing_alg_values_supported":                        s.dpopAlgs,
		"tls_client_certificate_bound_access_tokens":               s.tls,
		"authorization_response_iss_parameter_supported":           true,
		"id_token_signing_alg_values_supported":                    []string{s.sigAlg},
		"claims_supported":                                         claimsSupported,
		"claims_parameter_supported":                               false,
	}
	if len(detailTypes) > 0 {
		slices.Sort(detailTypes)
		m["authorization_details_types_supported"] = detailTypes
	}
	if s.tls {
		a := s.MTLSEndpoints()
		m["mtls_endpoint_aliases"] = map[string]string{
			"pushed_authorization_request_endpoint": a.PAR,
			"token_endpoint":                        a.Token,
			"introspection_endpoint":                a.Introspection,
			"revocation_endpoint":                   a.Revocation,
			"userinfo_endpoint":                     a.Userinfo,
		}
	}
	return m
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	m := s.Metadata()
	if s.cfg.Misbehave.WrongDiscoveryIssuer {
		m["issuer"] = s.issuer + "/evil"
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if !methodAllowed(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(s.jwks)
}
