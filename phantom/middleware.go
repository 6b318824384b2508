package phantom

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Wrap returns middleware that admits a request only when
// [Gateway.Verify] does, and then calls next with a copy of the request
// that carries the JWT in [Gateway.UpstreamHeader] ("Authorization:
// Bearer <JWT>" by default) instead of the opaque token, without the DPoP
// header nor any copy of the upstream header the client sent, with a
// Connection field that names none of these (so a reverse proxy cannot be
// made to strip the JWT as a hop-by-hop field), and whose
// context holds the [Result] (read it with [FromContext]). next is
// typically an httputil.ReverseProxy; the gateway proxies nothing itself.
//
// A refused request never reaches next. The response has no body,
// Cache-Control: no-store, and:
//
//   - 401 with one WWW-Authenticate field listing a challenge per scheme
//     the gateway accepts (DPoP with "algs", Bearer), the error code on
//     the scheme the client used (RFC 6750 §3, RFC 9449 §7.1), and a
//     fresh DPoP-Nonce when DPoP nonces are on; no error code when no
//     token was sent;
//   - 400 invalid_request for a malformed Authorization header;
//   - 403 insufficient_scope, with the required scope, for a route the
//     token has no scope for;
//   - 503 with Retry-After when the authorization server, its keys or a
//     store cannot be used: never a pass-through, never a cached success;
//   - 500 for a misconfiguration.
func (g *Gateway) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, e := g.verify(r)
		if e != nil {
			g.reject(w, r, e, false)
			return
		}
		c := g.cfg
		g.advanceNonce(w.Header(), res)
		r2 := r.WithContext(withResult(r.Context(), res))
		r2.Header = upstreamHeader(r.Header, c.upstream, res.upstream)
		next.ServeHTTP(w, r2)
	})
}

// upstreamHeader returns a copy of the client's header without
// Authorization, DPoP and the upstream header, then with the upstream
// header set to value. The map is new; the value slices of the other
// fields are shared with h, as a shallow request copy shares them.
//
// The Connection field loses any option naming one of those three: a
// reverse proxy removes the fields Connection names (RFC 9110 §7.6.1), so
// a client sending "Connection: Authorization" would otherwise have the
// gateway's JWT stripped on its way to an upstream that trusts the gateway.
func upstreamHeader(h http.Header, name, value string) http.Header {
	out := make(http.Header, len(h)+1)
	for k, v := range h {
		// net/http canonicalizes names; EqualFold also catches a field
		// some other server put in the map as received.
		if ownField(k, name) {
			continue
		}
		if strings.EqualFold(k, "Connection") {
			if v = connectionOptions(v, name); len(v) == 0 {
				continue
			}
		}
		out[k] = v
	}
	out[name] = []string{value}
	return out
}

// ownField reports whether field is one the gateway replaces: Authorization,
// DPoP or the upstream header name.
func ownField(field, name string) bool {
	return strings.EqualFold(field, "Authorization") || strings.EqualFold(field, "Dpop") || strings.EqualFold(field, name)
}

// connectionOptions returns the Connection field values without the
// options that name a field the gateway replaces; values is returned as
// it is when there are none.
func connectionOptions(values []string, name string) []string {
	found := false
	for _, v := range values {
		for opt := range strings.SplitSeq(v, ",") {
			if ownField(strings.TrimSpace(opt), name) {
				found = true
			}
		}
	}
	if !found {
		return values
	}
	var out []string
	for _, v := range values {
		var keep []string
		for opt := range strings.SplitSeq(v, ",") {
			if opt = strings.TrimSpace(opt); opt != "" && !ownField(opt, name) {
				keep = append(keep, opt)
			}
		}
		if len(keep) > 0 {
			out = append(out, strings.Join(keep, ", "))
		}
	}
	return out
}

// upstreamValue is the value of the upstream header for jwt.
func (c *config) upstreamValue(jwt string) string {
	if c.bearerUpstream {
		return "Bearer " + jwt
	}
	return jwt
}

// advanceNonce sends the next DPoP nonce on a success when the one the
// client used nears its end (RFC 9449 §8.2).
func (g *Gateway) advanceNonce(h http.Header, res *Result) {
	if g.DPoP != nil && res.DPoP != nil && res.DPoP.Proof != nil {
		g.DPoP.AdvanceNonce(h, res.DPoP.Proof)
	}
}

// reject reports e to OnError, the logger and the metrics, and writes the
// refusal. authRequest turns 400 into 401 (the auth_request module of
// nginx passes only 401 and 403 to the client).
func (g *Gateway) reject(w http.ResponseWriter, r *http.Request, e *Error, authRequest bool) {
	if g.OnError != nil {
		g.OnError(r, e)
	}
	if m := g.Metrics.Rejection; m != nil {
		m(e.Reason)
	}
	g.logRefusal(r, e)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	status := e.Status
	if authRequest && status == http.StatusBadRequest {
		status = http.StatusUnauthorized
	}
	switch status {
	case http.StatusUnauthorized, http.StatusBadRequest, http.StatusForbidden:
		if e.Reason == ReasonUntrustedProxy {
			break
		}
		h.Set("WWW-Authenticate", g.challenges(e))
		if g.DPoP != nil && g.DPoP.Nonces != nil {
			if n, err := g.DPoP.Nonces.New(); err == nil {
				h.Set("DPoP-Nonce", n)
			}
		}
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", strconv.Itoa(DefaultRetryAfter))
	}
	w.WriteHeader(status)
}

// challenges is the WWW-Authenticate value for e: one challenge per
// accepted scheme, DPoP first, the error on the scheme the client used
// (on every one when the scheme could not be read).
func (g *Gateway) challenges(e *Error) string {
	var list []string
	offerBearer := g.InsecureAllowUnbound || g.MTLS != nil || e.Scheme == "Bearer"
	offerDPoP := g.DPoP != nil || e.Scheme == "DPoP"
	if offerDPoP {
		list = append(list, g.challenge("DPoP", e, e.Scheme == "" || e.Scheme == "DPoP").String())
	}
	if offerBearer {
		list = append(list, g.challenge("Bearer", e, e.Scheme == "" || e.Scheme == "Bearer").String())
	}
	if len(list) == 0 {
		list = append(list, g.challenge("Bearer", e, true).String())
	}
	return strings.Join(list, ", ")
}

func (g *Gateway) challenge(scheme string, e *Error, withError bool) oautherr.Challenge {
	ch := oautherr.Challenge{Scheme: scheme}
	if g.Realm != "" {
		ch.Params = append(ch.Params, oautherr.Param{Name: "realm", Value: g.Realm})
	}
	if withError && e.Code != "" {
		ch.Params = append(ch.Params, oautherr.Param{Name: "error", Value: e.Code})
		if e.Description != "" {
			ch.Params = append(ch.Params, oautherr.Param{Name: "error_description", Value: e.Description})
		}
		if e.Scope != "" {
			ch.Params = append(ch.Params, oautherr.Param{Name: "scope", Value: e.Scope})
		}
	}
	if scheme == "DPoP" && g.cfg != nil && g.cfg.dpopAlgs != "" {
		ch.Params = append(ch.Params, oautherr.Param{Name: "algs", Value: g.cfg.dpopAlgs})
	}
	return ch
}

// logRefusal writes one record per refusal: the reason, status and
// request line, never a token or a header value.
func (g *Gateway) logRefusal(r *http.Request, e *Error) {
	if g.Logger == nil {
		return
	}
	level := slog.LevelInfo
	switch {
	case e.Status >= 500:
		level = slog.LevelWarn
	case e.Reason == ReasonConfig:
		level = slog.LevelError
	}
	g.Logger.LogAttrs(r.Context(), level, "phantom: request refused",
		slog.String("reason", string(e.Reason)),
		slog.Int("status", e.Status),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("error", e.Error()))
}

func (g *Gateway) logWarn(c *config, msg string, err error) {
	if c.log == nil {
		return
	}
	c.log.LogAttrs(context.Background(), slog.LevelWarn, "phantom: "+msg, slog.String("error", err.Error()))
}
