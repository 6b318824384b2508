package par

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/internal/strictjson"
)

// Response limits.
const (
	// MaxExpiresIn is the longest request_uri lifetime accepted. RFC 9126
	// §2.2 expects "between 5 and 600 seconds"; a day is refused as absurd.
	MaxExpiresIn = 24 * time.Hour
	// MaxRequestURILength is the longest request_uri accepted.
	MaxRequestURILength = 2048
)

// Response is a successful PAR response (RFC 9126 §2.2).
type Response struct {
	// RequestURI is the "request_uri" to send in the authorization request.
	RequestURI string
	// ExpiresIn is the "expires_in" lifetime of RequestURI.
	ExpiresIn time.Duration
	// Expiry is when RequestURI expires: the time the request was sent
	// (by [Config.Now]) plus ExpiresIn, so network delay shortens it rather
	// than lengthening it.
	Expiry time.Time
}

// Expired reports whether the request_uri has expired at now.
func (r *Response) Expired(now time.Time) bool { return !now.Before(r.Expiry) }

// parseResponse validates the body of a 201 answer.
func parseResponse(contentType string, body []byte, sent time.Time) (*Response, error) {
	if !oautherr.IsJSON(contentType) {
		return nil, fmt.Errorf("%w: content type is not JSON", ErrInvalidResponse)
	}
	// Names are compared exactly; strictjson rejects a repeated member,
	// case variants included, which encoding/json would resolve silently.
	var rawURI, rawExp []byte
	err := strictjson.EachMember(body, nil, func(name, value []byte) error {
		switch string(name) {
		case "request_uri":
			rawURI = value
		case "expires_in":
			rawExp = value
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidResponse, err)
	}
	if rawURI == nil {
		return nil, fmt.Errorf("%w: no request_uri", ErrInvalidResponse)
	}
	uri, err := strictjson.String(rawURI)
	if err != nil {
		return nil, fmt.Errorf("%w: request_uri is not a string", ErrInvalidResponse)
	}
	if err := checkRequestURI(uri); err != nil {
		return nil, err
	}
	if rawExp == nil {
		return nil, fmt.Errorf("%w: no expires_in", ErrInvalidResponse)
	}
	exp, err := expiresIn(rawExp)
	if err != nil {
		return nil, err
	}
	return &Response{RequestURI: uri, ExpiresIn: exp, Expiry: sent.Add(exp)}, nil
}

// checkRequestURI accepts a URN (RFC 8141: "urn:" NID ":" NSS) or an
// absolute http(s) URL with a host.
func checkRequestURI(s string) error {
	bad := func(what string) error { return fmt.Errorf("%w: request_uri %s", ErrInvalidResponse, what) }
	if s == "" {
		return bad("is empty")
	}
	if len(s) > MaxRequestURILength {
		return bad("is too long")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return bad("has characters a URI cannot hold")
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("is not a URI")
	}
	switch strings.ToLower(u.Scheme) {
	case "urn":
		nid, nss, ok := strings.Cut(u.Opaque, ":")
		if !ok || !validNID(nid) || nss == "" {
			return bad("is not a URN")
		}
	case "https", "http":
		if u.Host == "" || u.Opaque != "" {
			return bad("is not an absolute URL")
		}
	default:
		return bad("is neither a URN nor an http(s) URL")
	}
	return nil
}

// validNID checks an RFC 8141 namespace identifier: 2 to 32 letters,
// digits and hyphens, not starting or ending with a hyphen.
func validNID(s string) bool {
	if len(s) < 2 || len(s) > 32 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// expiresIn reads "expires_in": a JSON number whose value is a whole
// number of seconds in [1, MaxExpiresIn].
func expiresIn(raw []byte) (time.Duration, error) {
	bad := func(what string) error { return fmt.Errorf("%w: expires_in %s", ErrInvalidResponse, what) }
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, bad("is not a number")
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, bad("is not a number")
	}
	if f != math.Trunc(f) {
		return 0, bad("is not a whole number")
	}
	if f < 1 {
		return 0, bad("is not positive")
	}
	if f > MaxExpiresIn.Seconds() {
		return 0, bad("is too long")
	}
	return time.Duration(f) * time.Second, nil
}
