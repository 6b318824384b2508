package httpx

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultTimeout bounds a whole exchange made with [DefaultClient].
const DefaultTimeout = 30 * time.Second

// DefaultClient returns a new client for calls to authorization servers: a
// 30 s overall timeout, 10 s dial, TLS handshake and response header
// timeouts, the TLS settings of [DefaultTLSConfig], and no redirects (a
// 3xx is returned to the caller, which treats it as an error: RFC 6749
// endpoints do not redirect POSTs, and a JWKS or metadata fetch must not
// be sent elsewhere).
//
// Each call returns a client with its own connection pool; prefer
// [Client](nil), which shares one.
func DefaultClient() *http.Client {
	return &http.Client{
		Timeout:       DefaultTimeout,
		Transport:     DefaultTransport(),
		CheckRedirect: NoRedirect,
	}
}

// MaxResponseHeaderBytes bounds the header section of a response to
// [DefaultTransport]: far above what an authorization server sends, far
// below net/http's 10 MiB default (some 40 MB of heap once parsed).
const MaxResponseHeaderBytes = 64 << 10

// DefaultTransport returns a new transport with the timeouts of
// [DefaultClient], the TLS settings of [DefaultTLSConfig] and response
// header sections bounded to [MaxResponseHeaderBytes]. Callers may
// replace or modify its TLSClientConfig (to add a client certificate).
func DefaultTransport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            d.DialContext,
		TLSClientConfig:        DefaultTLSConfig(),
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
	}
}

// DefaultTLSConfig returns a new TLS client configuration for FAPI 2.0: TLS
// 1.2 or later and, for TLS 1.2, only the ECDHE AES-GCM cipher suites that
// BCP 195 recommends (TLS 1.3 suites are all allowed).
func DefaultTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		},
	}
}

// NoRedirect is an http.Client CheckRedirect func that returns the 3xx
// response itself instead of following it.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

var (
	sharedOnce      sync.Once
	sharedClient    *http.Client
	sharedTransport http.RoundTripper
)

func shared() {
	sharedOnce.Do(func() {
		sharedTransport = bound(DefaultTransport())
		sharedClient = &http.Client{Timeout: DefaultTimeout, Transport: sharedTransport, CheckRedirect: NoRedirect}
	})
}

// Client returns the client every HTTP call of the module uses. For nil it
// is a shared client with the settings of [DefaultClient]. For a caller's
// client it is a shallow copy whose CheckRedirect is [NoRedirect], so that
// no call of the module follows a redirect (to http, or to another host)
// whatever client it was handed: the caller's Jar and Timeout are kept, and
// its Transport (http.DefaultTransport when nil) is used through a wrapper
// that passes every error through [BoundError], so that no error of the
// module quotes megabytes of what a server sent. The copy is cheap (a
// struct copy) and shares the caller's connection pool.
func Client(c *http.Client) *http.Client {
	if c == nil {
		shared()
		return sharedClient
	}
	cp := *c
	cp.CheckRedirect = NoRedirect
	cp.Transport = bound(c.Transport)
	return &cp
}

// Transport returns the transport beneath every http.RoundTripper of the
// module: rt, or for nil the module's shared default transport
// ([DefaultTransport]: dial, TLS handshake and response header timeouts,
// TLS 1.2+), wrapped so that its errors go through [BoundError]. A
// transport it returned is returned as is.
func Transport(rt http.RoundTripper) http.RoundTripper {
	if rt != nil {
		return bound(rt)
	}
	shared()
	return sharedTransport
}
