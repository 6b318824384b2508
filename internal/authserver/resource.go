package authserver

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Bounds on resource indicators (RFC 8707): how many one request may name
// and how long each may be.
const (
	maxResources      = 16
	maxResourceLength = 2048
)

func invalidTarget(desc string) *oautherr.Error { return badRequest(codeInvalidTarget, desc) }

// checkResources validates the "resource" values of a request of client c
// (RFC 8707 §2, https://datatracker.ietf.org/doc/html/rfc8707#section-2):
// each an absolute URI without fragment, allowed for c. It returns them
// without duplicates, in order; nil when vals is empty.
func (s *Server) checkResources(c *client, vals []string) ([]string, *oautherr.Error) {
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > maxResources {
		return nil, invalidTarget("too many resource parameters")
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if !wellFormedResource(v) {
			return nil, invalidTarget("resource must be an absolute URI without fragment")
		}
		if !c.resourceAllowed(v) {
			return nil, invalidTarget("resource is not allowed for this client")
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out, nil
}

// wellFormedResource reports whether v is an absolute URI without fragment
// and without user information, within the length bound.
func wellFormedResource(v string) bool {
	if v == "" || len(v) > maxResourceLength || strings.Contains(v, "#") {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= 0x20 || v[i] >= 0x7f {
			return false
		}
	}
	u, err := url.Parse(v)
	return err == nil && u.IsAbs() && u.User == nil
}

// resourceAllowed applies Client.Resources, or the default: https with a
// host, or http on a loopback host.
func (c *client) resourceAllowed(v string) bool {
	if c.Resources != nil {
		return slices.Contains(c.Resources, v)
	}
	u, err := url.Parse(v)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return u.Hostname() != ""
	case "http":
		h := u.Hostname()
		if h == "localhost" {
			return true
		}
		ip := net.ParseIP(h)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// narrowResources checks the resources of a token request against those
// of the grant (RFC 8707 §2.2): each must have been granted. A grant that
// named none issues tokens for the default audience only. Empty requested
// means all of the grant's.
func narrowResources(granted, requested []string) ([]string, *oautherr.Error) {
	if len(requested) == 0 {
		return granted, nil
	}
	for _, r := range requested {
		if !slices.Contains(granted, r) {
			return nil, invalidTarget("resource was not part of the authorization grant")
		}
	}
	return requested, nil
}
