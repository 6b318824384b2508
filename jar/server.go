package jar

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Server limits.
const (
	// DefaultMaxEntries is the number of request objects a [Server] holds
	// when MaxEntries is zero.
	DefaultMaxEntries = 1000
	// MaxRequestURILength is the longest request_uri a [Server] hands out
	// (RFC 9101 §5.2: "SHOULD NOT exceed 512 ASCII characters").
	MaxRequestURILength = 512
	// idLen is the length of the random path segment: 256 bits,
	// base64url-encoded (RFC 9101 §10.2 asks for 128 bits or more).
	idLen = 43
)

// Server hands request objects to the authorization server by reference
// (RFC 9101 §5.2, https://datatracker.ietf.org/doc/html/rfc9101#section-5.2).
// [Server.Publish] stores a request object under a new random, unguessable
// URL below BaseURL and returns that URL, to be sent as request_uri;
// [Server.ServeHTTP] serves each request object once, with Content-Type
// application/oauth-authz-req+jwt, and forgets it: a second fetch, or a
// fetch after the request object's "exp", is 404 Not Found.
//
// The handler serves only its own URLs: a GET whose path is BaseURL's path
// followed by one published identifier. Any other path is 404 Not Found
// and consumes nothing, wherever the handler is mounted. Mount it so that
// requests reach it with the path the authorization server fetches (do
// not strip the prefix), e.g.
//
//	srv := &jar.Server{BaseURL: "https://client.example.org/jar/"}
//	mux.Handle("/jar/", srv)
//
// The zero value needs BaseURL; a Server is safe for concurrent use and
// must not be copied after first use.
type Server struct {
	// BaseURL is the absolute https URL under which the authorization
	// server reaches the handler: request URIs are BaseURL, a "/" if
	// BaseURL does not end with one, and 43 random characters, and the
	// handler answers only for those paths. It must have no query,
	// fragment or user information. Required.
	BaseURL string
	// MaxEntries bounds the request objects held at once. Zero means
	// [DefaultMaxEntries]. When it is reached, expired entries are dropped,
	// and if none was, Publish fails with [ErrServerFull].
	MaxEntries int
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// InsecureAllowHTTP accepts an http BaseURL. RFC 9101 §5.2 requires
	// https: the request object may hold data meant for the authorization
	// server only. Use it only for tests on loopback.
	InsecureAllowHTTP bool

	mu      sync.Mutex
	entries map[string]entry // lazily initialized
}

type entry struct {
	jwt    string
	expiry time.Time
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) max() int {
	if s.MaxEntries > 0 {
		return s.MaxEntries
	}
	return DefaultMaxEntries
}

// base validates BaseURL and returns it and its escaped path, both with
// a trailing slash.
func (s *Server) base() (base, path string, err error) {
	u, err := url.Parse(s.BaseURL)
	if err != nil || !u.IsAbs() || u.Host == "" || u.RawQuery != "" || u.ForceQuery ||
		strings.Contains(s.BaseURL, "#") || u.User != nil {
		return "", "", configErr("Server.BaseURL", "must be an absolute URL without query, fragment or user information")
	}
	if u.Scheme != "https" && !(s.InsecureAllowHTTP && u.Scheme == "http") {
		return "", "", configErr("Server.BaseURL", "must use https (RFC 9101 §5.2)")
	}
	base = s.BaseURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	if len(base)+idLen > MaxRequestURILength {
		return "", "", configErr("Server.BaseURL", "too long for a request_uri of at most 512 characters")
	}
	path = u.EscapedPath()
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return base, path, nil
}

// Publish stores ro until it is fetched or expires and returns its
// request_uri.
func (s *Server) Publish(ro *RequestObject) (string, error) {
	if ro == nil || ro.JWT == "" {
		return "", fmt.Errorf("%w: no request object", ErrInvalidParameter)
	}
	base, _, err := s.base()
	if err != nil {
		return "", err
	}
	now := s.now()
	if !now.Before(ro.Expiry) {
		return "", ErrExpired
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("jar: reading randomness: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = make(map[string]entry)
	}
	if len(s.entries) >= s.max() {
		for k, e := range s.entries {
			if !now.Before(e.expiry) {
				delete(s.entries, k)
			}
		}
		if len(s.entries) >= s.max() {
			return "", ErrServerFull
		}
	}
	s.entries[id] = entry{jwt: ro.JWT, expiry: ro.Expiry}
	return base + id, nil
}

// Len returns the number of request objects held, expired ones included
// until they are dropped.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// take removes and returns the live request object stored under id.
func (s *Server) take(id string) (string, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !ok {
		return "", false
	}
	delete(s.entries, id)
	if !now.Before(e.expiry) {
		return "", false
	}
	return e.jwt, true
}

// ServeHTTP serves, once, the request object whose request_uri has the
// request's path. Only GET is allowed; anything else is 405 and does not
// consume the request object. A path that is not BaseURL's path followed
// by a published identifier is 404 and consumes nothing.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	id, ok := s.id(r.URL)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		h.Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	jwt, ok := s.take(id)
	if !ok {
		http.NotFound(w, r)
		return
	}
	h.Set("Content-Type", MediaType)
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(jwt))
}

// id returns the identifier named by u's path, which must be BaseURL's
// path followed by exactly one identifier of the form Publish makes.
func (s *Server) id(u *url.URL) (string, bool) {
	if u == nil {
		return "", false
	}
	_, path, err := s.base()
	if err != nil {
		return "", false
	}
	id, ok := strings.CutPrefix(u.EscapedPath(), path)
	if !ok || len(id) != idLen || !isB64URL(id) {
		return "", false
	}
	return id, true
}

func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
