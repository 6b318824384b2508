package phantom

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
)

// Route adds requirements to the requests whose path falls under Prefix.
//
// A request is matched against the longest Prefix that contains its path
// and lists its method (the first such route of equal length wins); a
// request that no route matches has no requirement beyond a valid,
// sender-constrained token. Paths are compared case-sensitively, segment
// by segment, after percent-decoding and removing dot segments, so
// "/public/../admin" is under "/admin"; a request whose path holds dot
// segments, empty segments ("//"), an encoded slash, a ";" (a path
// parameter: Tomcat, Jetty and Spring strip ";..." from each segment and
// read "..;" as ".."), a backslash, raw or encoded (IIS, ASP.NET and
// WHATWG URL parsers read it as "/"), a control character, or one of
// these (or "%") encoded twice ("%252e%252e", which a second decoding
// turns into "..") is refused with 400 when routes are configured,
// because the upstream might resolve it to another route than the
// gateway did. The upstream must route the same way (case-sensitively, like net/http's ServeMux).
type Route struct {
	// Prefix is a path prefix ("/admin", "/orders/"): it covers the path
	// itself and everything below it. A trailing slash is ignored; "/"
	// covers every path. Required.
	Prefix string
	// Methods, when set, limits the route to these request methods
	// (compared exactly: "GET", "POST"). A route that lists "GET" also
	// covers "HEAD", which net/http's ServeMux (and most servers) answer
	// with the GET handler. A request is also held to the routes of the
	// methods an upstream may serve it as: its method in upper case
	// (Django and Werkzeug upper-case "delete"), and each method named by
	// an X-HTTP-Method-Override, X-HTTP-Method or X-Method-Override field
	// (Symfony, Laravel, Rack), matched case-insensitively with "_" for
	// "-"; more than eight such names are refused with 400. A method named
	// in the body ("_method") cannot be seen: an upstream that honours
	// one must not rely on Methods.
	Methods []string
	// Scopes are required in the token's "scope" (all of them). A token
	// that lacks one is refused with 403 insufficient_scope (RFC 6750
	// §3.1), the challenge naming the scopes.
	Scopes []string
	// Audience, when set, must be one of the token's "aud" values. A token
	// for another audience is refused with 401 invalid_token (RFC 9068 §4,
	// RFC 8707 §2).
	Audience string
}

// route is a checked Route.
type route struct {
	prefix   string // without trailing slash, "" for "/"
	methods  []string
	scopes   []string
	scope    string // scopes joined with spaces, for the challenge
	audience string
}

func buildRoutes(rs []Route) ([]route, error) {
	out := make([]route, 0, len(rs))
	for i, r := range rs {
		field := fmt.Sprintf("Routes[%d]", i)
		if r.Prefix == "" || r.Prefix[0] != '/' || path.Clean(r.Prefix) != strings.TrimSuffix(r.Prefix, "/") && r.Prefix != "/" {
			return nil, cfgErr(field+".Prefix", `must be a clean absolute path such as "/api/orders"`)
		}
		for _, m := range r.Methods {
			if !validToken(m) {
				return nil, cfgErr(field+".Methods", "holds an invalid method name")
			}
		}
		for _, s := range r.Scopes {
			if !validScopeToken(s) {
				return nil, cfgErr(field+".Scopes", "holds an invalid scope token (RFC 6749 §3.3)")
			}
		}
		if r.Audience != "" && strings.ContainsAny(r.Audience, "\x00\r\n") {
			return nil, cfgErr(field+".Audience", "holds control characters")
		}
		methods := slices.Clone(r.Methods)
		if slices.Contains(methods, http.MethodGet) && !slices.Contains(methods, http.MethodHead) {
			methods = append(methods, http.MethodHead)
		}
		out = append(out, route{
			prefix:   strings.TrimSuffix(r.Prefix, "/"),
			methods:  methods,
			scopes:   slices.Clone(r.Scopes),
			scope:    strings.Join(r.Scopes, " "),
			audience: r.Audience,
		})
	}
	return out, nil
}

// validScopeToken reports whether s is an RFC 6749 §3.3 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// errBadPath is the refusal of a path the routes cannot judge.
var errBadPath = fmt.Errorf("%w: path with dot segments, empty segments, an encoded slash, a path parameter, a backslash, a control character or a doubly encoded one of these", ErrInvalidRequest)

// errAmbiguousMethod is the refusal of a request naming too many methods
// in method override fields.
var errAmbiguousMethod = fmt.Errorf("%w: more than %d methods in method override fields", ErrInvalidRequest, maxOverrideMethods)

// maxOverrideMethods bounds the method names a request's override fields
// may hold.
const maxOverrideMethods = 8

// matchRoutes returns the routes a request is held to: the one of its
// method (see matchRoute) and those of every other method an upstream
// may serve it as (upstreamMethods), without repeats.
func matchRoutes(routes []route, method string, h http.Header, decoded, escaped string) ([]*route, error) {
	if len(routes) == 0 {
		return nil, nil
	}
	path, err := checkPath(decoded, escaped)
	if err != nil {
		return nil, err
	}
	methods, err := upstreamMethods(method, h)
	if err != nil {
		return nil, err
	}
	var out []*route
	for _, m := range methods {
		if r := bestRoute(routes, m, path); r != nil && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// upstreamMethods returns the methods an upstream may serve a request
// as: method itself, its upper-case form, and the upper-case methods named
// by the method override fields of h (comma-separated lists included).
func upstreamMethods(method string, h http.Header) ([]string, error) {
	methods := []string{method}
	add := func(m string) {
		if m != "" && !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	add(strings.ToUpper(method))
	n := 0
	for k, vs := range h {
		if !methodOverrideField(k) {
			continue
		}
		for _, v := range vs {
			for m := range strings.SplitSeq(v, ",") {
				if n++; n > maxOverrideMethods {
					return nil, errAmbiguousMethod
				}
				add(strings.ToUpper(strings.TrimSpace(m)))
			}
		}
	}
	return methods, nil
}

// methodOverrideField reports whether a field name is
// X-HTTP-Method-Override, X-HTTP-Method or X-Method-Override in any case,
// with "_" for "-" (CGI-style servers map both to the same variable).
func methodOverrideField(name string) bool {
	if len(name) < len("X-HTTP-Method") || len(name) > len("X-HTTP-Method-Override") {
		return false
	}
	switch strings.ReplaceAll(strings.ToLower(name), "_", "-") {
	case "x-http-method-override", "x-http-method", "x-method-override":
		return true
	}
	return false
}

// checkPath returns the path routes are matched against ("/" for an
// empty one), or errBadPath for a path the routes cannot judge. decoded
// is the percent-decoded path, escaped its raw form.
func checkPath(decoded, escaped string) (string, error) {
	if decoded == "" {
		decoded = "/"
	}
	if decoded[0] != '/' || strings.Contains(strings.ToLower(escaped), "%2f") || hasAmbiguousByte(decoded) || hasDotOrEmptySegment(decoded) || hasEncodedDelimiter(decoded) {
		return "", errBadPath
	}
	return decoded, nil
}

// matchRoute returns the route of a request's own method, nil when none
// applies.
func matchRoute(routes []route, method, decoded, escaped string) (*route, error) {
	if len(routes) == 0 {
		return nil, nil
	}
	path, err := checkPath(decoded, escaped)
	if err != nil {
		return nil, err
	}
	return bestRoute(routes, method, path), nil
}

// bestRoute returns the longest route for method whose prefix holds the
// checked path decoded, nil when none does.
func bestRoute(routes []route, method, decoded string) *route {
	var best *route
	for i := range routes {
		r := &routes[i]
		if len(r.methods) > 0 && !slices.Contains(r.methods, method) {
			continue
		}
		if !underPrefix(decoded, r.prefix) {
			continue
		}
		if best == nil || len(r.prefix) > len(best.prefix) {
			best = r
		}
	}
	return best
}

// underPrefix reports whether p is prefix or below it, segment-wise.
func underPrefix(p, prefix string) bool {
	if prefix == "" {
		return true
	}
	return p == prefix || strings.HasPrefix(p, prefix) && p[len(prefix)] == '/'
}

// hasAmbiguousByte reports whether a decoded path holds a byte that some
// upstreams read differently than the gateway: ";" (a path parameter,
// stripped per segment by Tomcat, Jetty and Spring, "..;" being ".."
// there), "\" (a separator for IIS, ASP.NET and WHATWG URL parsers) or a
// control character (NUL ends a path in C).
func hasAmbiguousByte(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == ';' || c == '\\' || c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// hasEncodedDelimiter reports whether a decoded path still holds a
// percent-encoded ".", "/", "\", ";", "%" or NUL: the request encoded it
// twice ("%252e%252e"). An upstream, or a proxy before it, that decodes
// once more resolves a path the gateway did not judge.
func hasEncodedDelimiter(p string) bool {
	for i := strings.IndexByte(p, '%'); i >= 0 && i+2 < len(p); {
		switch strings.ToLower(p[i+1 : i+3]) {
		case "2e", "2f", "5c", "3b", "25", "00":
			return true
		}
		j := strings.IndexByte(p[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// hasDotOrEmptySegment reports whether an absolute path has a "." or ".."
// segment or an empty segment other than a trailing one.
func hasDotOrEmptySegment(p string) bool {
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		switch {
		case s == "." || s == "..":
			return true
		case s == "" && i != len(segs)-1:
			return true
		}
	}
	return false
}

// hasScopes reports whether the space-separated scope holds every
// element of want.
func hasScopes(scope string, want []string) bool {
	for _, w := range want {
		found := false
		for s := range strings.SplitSeq(scope, " ") {
			if s == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
