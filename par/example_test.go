package par_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/hardened-oauth/hardened/par"
)

// Push an authorization request to a PAR endpoint, then send the user to
// the authorization endpoint with only client_id and request_uri.
func ExampleConfig_Push() {
	// A stand-in PAR endpoint answering as RFC 9126 §2.2 shows.
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "s6BhdRkqt3" || pass != "7Fjfp0ZBr1KtDRbnfVdmIw" || r.PostFormValue("response_type") != "code" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache, no-store")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}`)
	}))
	defer as.Close()

	// client_secret_basic; the module's root package provides this and
	// private_key_jwt, tls_client_auth, ...
	basic := par.ClientAuthFunc(func(_ url.Values, h http.Header) error {
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("s6BhdRkqt3:7Fjfp0ZBr1KtDRbnfVdmIw")))
		return nil
	})
	c := &par.Config{
		Endpoint:   as.URL + "/as/par",
		ClientID:   "s6BhdRkqt3",
		ClientAuth: basic,
		HTTPClient: as.Client(),
		Now:        func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
	resp, err := c.Push(context.Background(), url.Values{
		"response_type":         {"code"},
		"redirect_uri":          {"https://client.example.org/cb"},
		"scope":                 {"account-information"},
		"state":                 {"af0ifjsldkj"},
		"code_challenge":        {"K2-ltc83acc4h0c9w6ESC_rEMTJ3bww-uCHaoeK1t8U"},
		"code_challenge_method": {"S256"},
	})
	if err != nil {
		fmt.Println("push failed:", err)
		return
	}
	fmt.Println("request_uri:", resp.RequestURI)
	fmt.Println("expires:", resp.Expiry.Format(time.RFC3339))
	fmt.Println(par.AuthCodeURL("https://as.example.com/authorize", c.ClientID, resp))
	// Output:
	// request_uri: urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c
	// expires: 2025-01-02T03:05:05Z
	// https://as.example.com/authorize?client_id=s6BhdRkqt3&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A6esc_11ACC5bwc014ltc14eY22c
}

// An error from the PAR endpoint comes back as a *par.Error.
func ExampleError() {
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_request","error_description":"The redirect_uri is not valid for the given client"}`)
	}))
	defer as.Close()
	c := &par.Config{
		Endpoint:   as.URL,
		ClientID:   "s6BhdRkqt3",
		ClientAuth: par.ClientAuthFunc(func(url.Values, http.Header) error { return nil }),
		HTTPClient: as.Client(),
	}
	_, err := c.Push(context.Background(), url.Values{"response_type": {"code"}, "redirect_uri": {"https://evil.example/cb"}})
	var pe *par.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Status, pe.ErrorCode)
		fmt.Println(pe.ErrorDescription)
	}
	// Output:
	// 400 invalid_request
	// The redirect_uri is not valid for the given client
}
