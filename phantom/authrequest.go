package phantom

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
)

// Protocol is the way a gateway that delegates authentication describes
// the original request to an [AuthRequest] endpoint.
type Protocol int

// Protocols of [AuthRequest.Protocol].
const (
	// ProtocolNGINX is nginx's auth_request module
	// (https://nginx.org/en/docs/http/ngx_http_auth_request_module.html)
	// with the original request line passed in two headers the location
	// sets:
	//
	//	proxy_set_header X-Original-Method $request_method;
	//	proxy_set_header X-Original-URI    $request_uri;
	//
	// The subrequest carries the client's headers (Authorization, DPoP).
	ProtocolNGINX Protocol = iota + 1
	// ProtocolTraefik is Traefik's ForwardAuth middleware
	// (https://doc.traefik.io/traefik/middlewares/http/forwardauth/):
	// X-Forwarded-Method and X-Forwarded-Uri give the request line,
	// X-Forwarded-Proto and X-Forwarded-Host, when present, must name the
	// gateway's external URL (the DPoP verifier's BaseURL). Copy the
	// upstream header with authResponseHeaders.
	ProtocolTraefik
	// ProtocolEnvoy is Envoy's ext_authz filter with an HTTP service
	// (https://www.envoyproxy.io/docs/envoy/latest/api-v3/extensions/filters/http/ext_authz/v3/ext_authz.proto):
	// the check request has the original method and path, after
	// [AuthRequest.PathPrefix] (the http_service's path_prefix). List
	// "dpop" in allowed_headers and the upstream header in
	// allowed_upstream_headers.
	ProtocolEnvoy
)

// String returns the protocol's name.
func (p Protocol) String() string {
	switch p {
	case ProtocolNGINX:
		return "nginx"
	case ProtocolTraefik:
		return "traefik"
	case ProtocolEnvoy:
		return "envoy"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// maxOriginalURI bounds the original request URI read from a header.
const maxOriginalURI = 8 << 10

// AuthRequest is an http.Handler for gateways that delegate
// authentication to a subrequest: nginx auth_request, Traefik ForwardAuth
// and Envoy ext_authz over HTTP. It rebuilds the original request from
// what the gateway sends (method and URI headers, the client's
// Authorization and DPoP headers, the client certificate header that
// Gateway.MTLS trusts), makes the [Gateway]'s decision for it, and answers
//
//   - 200 with the upstream header (Gateway.UpstreamHeader, by default
//     "Authorization: Bearer <JWT>") for the gateway to copy onto the
//     upstream request, and DPoP-Nonce when the next nonce is due;
//   - 401 or 403 with WWW-Authenticate (one field) and DPoP-Nonce, as
//     [Gateway.Wrap] would; a malformed request is 401 invalid_request
//     rather than 400, since nginx passes only 401 and 403 to the client;
//   - 503 with Retry-After when the authorization server is unavailable
//     (nginx turns any other status into 500);
//   - 403 without a challenge to a caller outside TrustedProxies.
//
// The original request's headers are believed from TrustedProxies only.
// Configure the gateway to overwrite X-Original-Method/X-Original-URI (or
// to generate the X-Forwarded-* set) on every subrequest, and to remove
// the DPoP header and replace the upstream header on the request it
// forwards. An AuthRequest is safe for concurrent use; its fields must
// not change once it is in use.
type AuthRequest struct {
	// Gateway makes the decision. Required.
	Gateway *Gateway
	// Protocol says how the original request is described. Required.
	Protocol Protocol
	// TrustedProxies lists the addresses of the gateways allowed to call
	// the endpoint. IPv4-mapped IPv6 peers are matched as IPv4. Required.
	TrustedProxies []netip.Prefix
	// PathPrefix is Envoy's path_prefix, removed from the check request's
	// path to give the original one. Used with ProtocolEnvoy only.
	PathPrefix string

	once sync.Once
	err  error
}

func (a *AuthRequest) init() error {
	a.once.Do(func() {
		switch {
		case a.Gateway == nil:
			a.err = &ConfigError{Field: "AuthRequest.Gateway", Reason: "is required"}
		case a.Protocol < ProtocolNGINX || a.Protocol > ProtocolEnvoy:
			a.err = &ConfigError{Field: "AuthRequest.Protocol", Reason: "must be ProtocolNGINX, ProtocolTraefik or ProtocolEnvoy"}
		case len(a.TrustedProxies) == 0:
			a.err = &ConfigError{Field: "AuthRequest.TrustedProxies", Reason: "is required: the original request is believed from these addresses only"}
		case a.PathPrefix != "" && (a.Protocol != ProtocolEnvoy || a.PathPrefix[0] != '/'):
			a.err = &ConfigError{Field: "AuthRequest.PathPrefix", Reason: "is for ProtocolEnvoy only and must start with /"}
		}
		for i, p := range a.TrustedProxies {
			if a.err == nil && !p.IsValid() {
				a.err = &ConfigError{Field: fmt.Sprintf("AuthRequest.TrustedProxies[%d]", i), Reason: "is not a valid prefix"}
			}
		}
	})
	return a.err
}

// ServeHTTP implements http.Handler.
func (a *AuthRequest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g := a.Gateway
	if err := a.init(); err != nil {
		if g == nil {
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		g.reject(w, r, refuse(http.StatusInternalServerError, "", "", ReasonConfig, err), true)
		return
	}
	c, err := g.init()
	if err != nil {
		g.reject(w, r, refuse(http.StatusInternalServerError, "", "", ReasonConfig, err), true)
		return
	}
	if !trusted(r.RemoteAddr, a.TrustedProxies) {
		g.reject(w, r, refuse(http.StatusForbidden, "", "", ReasonUntrustedProxy, ErrUntrustedProxy), true)
		return
	}
	orig, err := a.Original(r)
	if err != nil {
		g.reject(w, r, refuse(http.StatusBadRequest, CodeInvalidRequest, "malformed original request", ReasonInvalidRequest, err), true)
		return
	}
	res, e := g.decide(orig, c, orig.URL.Path, orig.URL.EscapedPath())
	if e != nil {
		g.reject(w, orig, e, true)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	g.advanceNonce(h, res)
	h[c.upstream] = []string{res.upstream}
	w.WriteHeader(http.StatusOK)
}

// Original returns the original request r describes, as the decision sees
// it: its method and URI from the protocol's headers, r's other headers,
// remote address, TLS state and context. It checks nothing about the
// caller's address; the handler does. Errors wrap [ErrInvalidRequest].
func (a *AuthRequest) Original(r *http.Request) (*http.Request, error) {
	var method, uri string
	var err error
	switch a.Protocol {
	case ProtocolNGINX:
		if method, err = single(r.Header, "X-Original-Method"); err != nil {
			return nil, err
		}
		if uri, err = single(r.Header, "X-Original-URI"); err != nil {
			return nil, err
		}
	case ProtocolTraefik:
		if method, err = single(r.Header, "X-Forwarded-Method"); err != nil {
			return nil, err
		}
		if uri, err = single(r.Header, "X-Forwarded-Uri"); err != nil {
			return nil, err
		}
		if err := a.checkOrigin(r.Header); err != nil {
			return nil, err
		}
	case ProtocolEnvoy:
		method = r.Method
		uri = r.URL.RequestURI()
		if r.URL.Path == "" || r.URL.Path[0] != '/' {
			return nil, wrapf(ErrInvalidRequest, "check request has no absolute path")
		}
		if a.PathPrefix != "" {
			rest, ok := strings.CutPrefix(uri, a.PathPrefix)
			if !ok || rest == "" || rest[0] != '/' && rest[0] != '?' {
				return nil, wrapf(ErrInvalidRequest, "check request path outside PathPrefix")
			}
			if rest[0] == '?' {
				rest = "/" + rest
			}
			uri = rest
		}
	default:
		return nil, wrapf(ErrInvalidConfig, "unknown protocol")
	}
	if !validToken(method) || len(method) > 32 {
		return nil, wrapf(ErrInvalidRequest, "invalid original method")
	}
	u, err := parseOriginForm(uri)
	if err != nil {
		return nil, err
	}
	o := r.Clone(r.Context())
	o.Method = method
	o.URL = u
	o.RequestURI = uri
	o.Body = http.NoBody
	o.ContentLength = 0
	return o, nil
}

// parseOriginForm parses an origin-form request target (RFC 9112 §3.2.1):
// an absolute path and an optional query, printable ASCII only.
func parseOriginForm(uri string) (*url.URL, error) {
	if uri == "" || uri[0] != '/' || len(uri) > maxOriginalURI {
		return nil, wrapf(ErrInvalidRequest, "original URI is not an absolute path")
	}
	for i := 0; i < len(uri); i++ {
		if c := uri[i]; c <= 0x20 || c >= 0x7f || c == '#' {
			return nil, wrapf(ErrInvalidRequest, "original URI holds an invalid character")
		}
	}
	u, err := url.ParseRequestURI(uri)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		return nil, wrapf(ErrInvalidRequest, "original URI does not parse")
	}
	return u, nil
}

// single returns the one value of a header, refusing none or several.
func single(h http.Header, name string) (string, error) {
	v := h.Values(name)
	switch len(v) {
	case 0:
		return "", wrapf(ErrInvalidRequest, "no %s header", name)
	case 1:
		if v[0] == "" {
			return "", wrapf(ErrInvalidRequest, "empty %s header", name)
		}
		return v[0], nil
	}
	return "", wrapf(ErrInvalidRequest, "several %s headers", name)
}

// checkOrigin compares Traefik's X-Forwarded-Proto and X-Forwarded-Host,
// when present, with the DPoP verifier's BaseURL: they describe the
// request, but the expected origin comes from configuration.
func (a *AuthRequest) checkOrigin(h http.Header) error {
	var base *url.URL
	if g := a.Gateway; g.DPoP != nil && g.DPoP.BaseURL != "" {
		base, _ = url.Parse(g.DPoP.BaseURL)
	}
	for _, name := range []string{"X-Forwarded-Proto", "X-Forwarded-Host"} {
		vals := h.Values(name)
		if len(vals) == 0 {
			continue
		}
		if len(vals) > 1 {
			return wrapf(ErrInvalidRequest, "several %s headers", name)
		}
		if base == nil {
			continue
		}
		want := base.Scheme
		if name == "X-Forwarded-Host" {
			want = base.Host
		}
		if !strings.EqualFold(vals[0], want) {
			return wrapf(ErrInvalidRequest, "%s does not name the gateway's external URL", name)
		}
	}
	return nil
}

// trusted reports whether remoteAddr ("ip:port") is in one of prefixes.
func trusted(remoteAddr string, prefixes []netip.Prefix) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
