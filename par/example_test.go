package par_test

import (
	"context"
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
		if r.PostFormValue("client_id") != "s6BhdRkqt3" || r.PostFormValue("response_type") != "code" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache, no-store")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}`)
	}))
	defer as.Close()

	c := &par.Config{
		Endpoint:   as.URL + "/as/par",
		ClientID:   "s6BhdRkqt3",
		HTTPClient: as.Client(), // a public client: no transport adds credentials
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

// basicAuth stands in for the root package's AuthTransport: a transport
// of the client, not par, adds the client's credentials.
type basicAuth struct {
	base         http.RoundTripper
	id, password string
}

func (b *basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	r2 := req.Clone(req.Context())
	r2.SetBasicAuth(b.id, b.password)
	return b.base.RoundTrip(r2)
}

// A confidential client: the HTTP client's transport authenticates the
// push (client_secret_basic here; hardened.AuthTransport in the module,
// under a dpop.Transport when DPoP is used).
func ExampleConfig_Push_clientAuthentication() {
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id != "s6BhdRkqt3" || secret != "7Fjfp0ZBr1KtDRbnfVdmIw" || r.PostFormValue("client_id") != id {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"request_uri":"urn:example:bwc4JK-ESC0w8acc191e-Y1LTC2","expires_in":90}`)
	}))
	defer as.Close()

	client := &http.Client{Transport: &basicAuth{base: as.Client().Transport, id: "s6BhdRkqt3", password: "7Fjfp0ZBr1KtDRbnfVdmIw"}}
	c := &par.Config{Endpoint: as.URL + "/as/par", ClientID: "s6BhdRkqt3", HTTPClient: client}
	resp, err := c.Push(context.Background(), url.Values{"response_type": {"code"}, "scope": {"openid"}})
	if err != nil {
		fmt.Println("push failed:", err)
		return
	}
	fmt.Println("request_uri:", resp.RequestURI, "valid for", resp.ExpiresIn)
	// Output:
	// request_uri: urn:example:bwc4JK-ESC0w8acc191e-Y1LTC2 valid for 1m30s
}

// An error from the PAR endpoint comes back as a *par.Error.
func ExampleError() {
	as := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_request","error_description":"The redirect_uri is not valid for the given client"}`)
	}))
	defer as.Close()
	c := &par.Config{Endpoint: as.URL, ClientID: "s6BhdRkqt3", HTTPClient: as.Client()}
	_, err := c.Push(context.Background(), url.Values{"response_type": {"code"}, "redirect_uri": {"https://evil.example/cb"}})
	var pe *par.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Status, pe.Code)
		fmt.Println(pe.Description)
		fmt.Println(errors.Is(err, par.ErrErrorResponse))
	}
	// Output:
	// 400 invalid_request
	// The redirect_uri is not valid for the given client
	// true
}

// A misconfigured Config is reported on first use.
func ExampleConfigError() {
	c := &par.Config{Endpoint: "http://as.example.com/par", ClientID: "s6BhdRkqt3"}
	_, err := c.Push(context.Background(), url.Values{"response_type": {"code"}})
	var ce *par.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field, "-", ce.Reason)
	}
	fmt.Println(errors.Is(err, par.ErrInvalidConfig))
	// Output:
	// Config.Endpoint - must use https (RFC 9126 §2)
	// true
}
