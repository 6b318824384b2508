package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"time"
)

// maxCallbackBytes bounds the body of a form_post callback.
const maxCallbackBytes = 1 << 20

// realBrowser returns the authorize function of -headless=false: it prints
// the authorization URL for the user to open, and serves the redirect URI's
// host, port and path until the browser comes back there, at most
// callbackTimeout. An https redirect URI is served with a throw-away
// self-signed certificate, which the browser will warn about; prefer an
// http://127.0.0.1:port/ redirect URI on the user's machine (RFC 8252 §7.3).
// Response modes that put the response in the fragment (fragment.jwt) cannot
// work this way: the browser keeps the fragment to itself.
func realBrowser(w io.Writer, redirectURI string) func(context.Context, string) (*http.Request, error) {
	return func(ctx context.Context, authURL string) (*http.Request, error) {
		ru, err := url.Parse(redirectURI)
		if err != nil || (ru.Scheme != "http" && ru.Scheme != "https") || ru.Host == "" {
			return nil, errors.New("-redirect-uri must be an absolute http or https URL to serve the callback")
		}
		addr := ru.Host
		if ru.Port() == "" {
			addr = net.JoinHostPort(ru.Hostname(), map[string]string{"http": "80", "https": "443"}[ru.Scheme])
		}
		path := ru.EscapedPath()
		if path == "" {
			path = "/"
		}
		got := make(chan *http.Request, 1)
		srv := &http.Server{
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
			Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if r.URL.EscapedPath() != path {
					http.NotFound(rw, r)
					return
				}
				// Hand the flow a copy that outlives this handler:
				// Config.Callback reads the query, or the form of a POST.
				body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxCallbackBytes))
				if err != nil {
					http.Error(rw, "callback too large", http.StatusRequestEntityTooLarge)
					return
				}
				cb, err := http.NewRequestWithContext(ctx, r.Method, ru.Scheme+"://"+ru.Host+r.URL.RequestURI(), bytes.NewReader(body))
				if err != nil {
					http.Error(rw, "malformed callback", http.StatusBadRequest)
					return
				}
				cb.Header.Set("Content-Type", r.Header.Get("Content-Type"))
				select {
				case got <- cb:
					fmt.Fprintln(rw, "Login received: the result is in your terminal. You can close this window.")
				default:
					http.Error(rw, "a callback was already received", http.StatusConflict)
				}
			}),
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("serving the callback: %w", err)
		}
		if ru.Scheme == "https" {
			cert, err := selfSigned(ru.Hostname())
			if err != nil {
				_ = ln.Close()
				return nil, err
			}
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			go func() { _ = srv.ServeTLS(ln, "", "") }()
		} else {
			go func() { _ = srv.Serve(ln) }()
		}
		defer srv.Close()

		fmt.Fprintf(w, "   open       %s\n", clean(authURL, maxErrorLine)) // the server chose its request_uri
		fmt.Fprintf(w, "   waiting    for the browser at %s (at most %s)\n", redirectURI, callbackTimeout)
		wait, cancel := context.WithTimeout(ctx, callbackTimeout)
		defer cancel()
		select {
		case cb := <-got:
			return cb, nil
		case <-wait.Done():
			return nil, fmt.Errorf("no callback at %s: %w", redirectURI, wait.Err())
		}
	}
}

// selfSigned returns a throw-away TLS server certificate for host.
func selfSigned(host string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// tlsConfig trusts roots (nil: the system roots).
func tlsConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
}
