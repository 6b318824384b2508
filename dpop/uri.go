package dpop

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
)

var errURI = errors.New("not an absolute http(s) URI")

// normalizeURI returns the form of an http or https URI used to compare
// "htu" values (RFC 9449 §4.3 check 9): query and fragment dropped, then
// the syntax-based and scheme-based normalizations of RFC 3986 §6.2.2 and
// §6.2.3: scheme and host lower-cased, percent-encodings upper-cased and
// unreserved characters decoded, dot segments removed, the default port
// and an empty port dropped, and an empty path made "/". A URI with
// userinfo, without a host, or of another scheme is an error.
func normalizeURI(s string) (string, error) {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", errURI
	}
	if u.Scheme != "http" && u.Scheme != "https" { // url.Parse lower-cases the scheme
		return "", errURI
	}
	host, err := normalizeHost(u.Scheme, u.Hostname(), u.Port())
	if err != nil {
		return "", err
	}
	path, err := normalizePath(u.EscapedPath())
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + host + path, nil
}

// normalizeHost lower-cases host and appends the port unless it is the
// scheme's default.
func normalizeHost(scheme, host, port string) (string, error) {
	if host == "" {
		return "", errURI
	}
	host = asciiLower(host)
	if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	if port == "" {
		return host, nil
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", errURI
	}
	if scheme == "https" && p == 443 || scheme == "http" && p == 80 {
		return host, nil
	}
	return host + ":" + strconv.FormatUint(p, 10), nil
}

// originOf returns scheme://host[:port] of u, normalized as by
// normalizeURI, for keying nonces and building htu on the client.
func originOf(u *url.URL) (string, error) {
	scheme := asciiLower(u.Scheme)
	if scheme != "http" && scheme != "https" || u.Host == "" {
		return "", errURI
	}
	host, err := normalizeHost(scheme, u.Hostname(), u.Port())
	if err != nil {
		return "", err
	}
	return scheme + "://" + host, nil
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// normalizePath applies percent-encoding normalization and dot-segment
// removal to an escaped path.
func normalizePath(p string) (string, error) {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + 1)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(p) {
			return "", errURI
		}
		h, ok1 := unhex(p[i+1])
		l, ok2 := unhex(p[i+2])
		if !ok1 || !ok2 {
			return "", errURI
		}
		v := h<<4 | l
		if unreserved(v) {
			b.WriteByte(v)
		} else {
			b.WriteByte('%')
			b.WriteByte(hexUpper[v>>4])
			b.WriteByte(hexUpper[v&15])
		}
		i += 2
	}
	out := removeDotSegments(b.String())
	if out == "" {
		out = "/"
	}
	return out, nil
}

// removeDotSegments implements RFC 3986 §5.2.4.
func removeDotSegments(in string) string {
	if !strings.Contains(in, ".") {
		return in
	}
	var out []string // output segments, each starting with "/" (or not, for the first)
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			j := strings.IndexByte(in[1:], '/')
			if j < 0 {
				out = append(out, in)
				in = ""
			} else {
				out = append(out, in[:j+1])
				in = in[j+1:]
			}
		}
	}
	return strings.Join(out, "")
}

// cleanPath reports whether an escaped request path is in the clean form
// a path prefix needs: it starts with "/", has no empty segment ("//"), no
// "." or ".." segment, no backslash, and no percent-encoded dot, slash or
// backslash (which a proxy and this server could decode differently).
// The root "/" is clean; a trailing slash is allowed.
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			return false
		case '%':
			if i+2 >= len(p) {
				return false
			}
			switch p[i+1 : i+3] {
			case "2e", "2E", "2f", "2F", "5c", "5C":
				return false
			}
		case '/':
			seg := p[i+1:]
			if j := strings.IndexByte(seg, '/'); j >= 0 {
				seg = seg[:j]
				if j == 0 {
					return false // "//"
				}
			}
			if seg == "." || seg == ".." {
				return false
			}
		}
	}
	return true
}
