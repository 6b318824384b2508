package phantom_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"

	"github.com/hardened-oauth/hardened/phantom"
)

// authorizationServer is a stand-in introspection endpoint (RFC 7662):
// "opaque-abc" is an active token with the scope orders:read.
func authorizationServer() *httptest.Server {
	return httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		body := map[string]any{"active": false}
		if r.PostForm.Get("token") == "opaque-abc" {
			body = map[string]any{"active": true, "sub": "alice", "scope": "orders:read"}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
}

// The gateway in front of an httputil.ReverseProxy: the upstream sees a
// JWT signed by the gateway, never the opaque token.
func ExampleGateway_Wrap() {
	as := authorizationServer()
	defer as.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		jwt, isBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		fmt.Println("upstream got a JWT:", isBearer && strings.Count(jwt, ".") == 2)
	}))
	defer api.Close()
	target, _ := url.Parse(api.URL)

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	g := &phantom.Gateway{
		IntrospectionURL:     as.URL + "/introspect",
		HTTPClient:           as.Client(), // in production: the root package's AuthTransport underneath
		Mode:                 phantom.ModeJSON,
		Key:                  key,
		InsecureAllowUnbound: true, // this example's tokens are plain bearer tokens
		Routes:               []phantom.Route{{Prefix: "/admin", Scopes: []string{"admin"}}},
	}
	front := httptest.NewServer(g.Wrap(httputil.NewSingleHostReverseProxy(target)))
	defer front.Close()

	for _, c := range []struct{ path, auth string }{
		{"/orders", "Bearer opaque-abc"},
		{"/orders", "Bearer revoked"},
		{"/admin", "Bearer opaque-abc"},
	} {
		req, _ := http.NewRequest("GET", front.URL+c.path, nil)
		req.Header.Set("Authorization", c.auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("WWW-Authenticate"))))
	}
	// Output:
	// upstream got a JWT: true
	// 200
	// 401 Bearer error="invalid_token", error_description="access token is not active"
	// 403 Bearer error="insufficient_scope", error_description="access token lacks a required scope", scope="admin"
}

// The same decision for nginx's auth_request: 200 with the header nginx
// copies upstream (auth_request_set + proxy_set_header), or the refusal.
func ExampleAuthRequest() {
	as := authorizationServer()
	defer as.Close()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a := &phantom.AuthRequest{
		Gateway: &phantom.Gateway{
			IntrospectionURL: as.URL + "/introspect", HTTPClient: as.Client(),
			Mode: phantom.ModeJSON, Key: key, InsecureAllowUnbound: true,
		},
		Protocol:       phantom.ProtocolNGINX,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	}
	for _, token := range []string{"opaque-abc", "unknown"} {
		r := httptest.NewRequest("GET", "/_phantom", nil)
		r.RemoteAddr = "127.0.0.1:40000" // nginx
		r.Header.Set("X-Original-Method", "GET")
		r.Header.Set("X-Original-URI", "/orders?page=2")
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.HasPrefix(w.Header().Get("Authorization"), "Bearer ey"))
	}
	// Output:
	// 200 true
	// 401 false
}
