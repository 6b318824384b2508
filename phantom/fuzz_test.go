package phantom

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// roundTripFunc is an in-process transport: fuzzing needs no sockets.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func answer(ct string, body []byte) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			_ = r.Body.Close()
		}
		return &http.Response{
			StatusCode: 200, Header: http.Header{"Content-Type": {ct}},
			Body: io.NopCloser(bytes.NewReader(body)), Request: r,
		}, nil
	})}
}

// FuzzRequest feeds attacker-controlled request parts (Authorization,
// DPoP, method, path) to the whole decision.
func FuzzRequest(f *testing.F) {
	f.Add("Bearer mF_9.B5f-4.1JqM", "", "GET", "/orders") // RFC 6750 §2.1
	f.Add("DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU", "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2In0.e30.c2ln", "POST", "/a/../b")
	f.Add("bearer  tok==", "", "GET", "//x")
	f.Add("Bearer a\nBearer b", "", "GET", "/%2F")
	body := []byte(`{"active":true,"scope":"read","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`)
	g := &Gateway{
		IntrospectionURL: "https://as.example/introspect", HTTPClient: answer("application/json", body),
		Mode: ModeJSON, Key: newKey(f), InsecureAllowUnbound: true,
		Routes: []Route{{Prefix: "/admin", Scopes: []string{"admin"}}},
	}
	f.Fuzz(func(t *testing.T, auth, proof, method, path string) {
		r, err := http.NewRequest("GET", testBaseURL+"/", nil)
		if err != nil {
			t.Skip()
		}
		r.Method = method
		r.URL.Path = path
		for v := range strings.SplitSeq(auth, "\n") {
			r.Header.Add("Authorization", v)
		}
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		res, err := g.Verify(r)
		if err == nil {
			if res == nil || res.JWT == "" || !strings.Contains(string(res.Claims), `"active":true`) {
				t.Fatalf("admitted without a result")
			}
			// The introspected token is DPoP-bound and no DPoP verifier is
			// configured: nothing can be admitted.
			t.Fatalf("admitted a DPoP-bound token without a DPoP verifier")
		}
		if res != nil {
			t.Fatalf("result beside an error")
		}
	})
}

// FuzzIntrospectionResponse feeds server answers to each mode.
func FuzzIntrospectionResponse(f *testing.F) {
	f.Add(uint8(0), "application/json", []byte(`{"active":true,"client_id":"l238j323ds-23ij4","username":"jdoe","scope":"read write dolphin","sub":"Z5O3upPC88QrAjx00dis","aud":"https://protected.example.net/resource","iss":"https://server.example.com/","exp":1419356238,"iat":1419350238,"extension_field":"twenty-seven"}`)) // RFC 7662 §2.2
	f.Add(uint8(0), "application/json", []byte(`{"active":false}`))
	f.Add(uint8(1), mediaIntrospectionJWT, []byte(vector9701)) // RFC 9701 §5
	f.Add(uint8(2), mediaJWT, []byte(vector9701))
	f.Add(uint8(2), "application/json", []byte(`{"active":false}`))
	f.Add(uint8(0), "application/json", []byte(`{"active":true,"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0","jkt":1}}`))
	as := newFakeAS(f)
	f.Fuzz(func(t *testing.T, mode uint8, ct string, body []byte) {
		modes := []Mode{ModeJSON, ModeIntrospectionJWT, ModeJWT}
		m := modes[int(mode)%len(modes)]
		g := as.gateway(m)
		g.HTTPClient = answer(ct, body)
		g.IntrospectionURL = "https://as.example/introspect"
		g.Audience = ""
		if m == ModeJWT {
			g.Audience = testAudience
		}
		g.Key = as.key
		g.Now = func() time.Time { return time.Unix(1514797892, 0) }
		r := request("GET", "/", "Bearer tok")
		res, err := g.Verify(r)
		if err != nil {
			if res != nil {
				t.Fatalf("result beside an error")
			}
			return
		}
		if m != ModeJSON {
			t.Fatalf("a fuzzed body passed signature verification")
		}
		if !strings.Contains(string(res.Claims), "active") {
			t.Fatalf("admitted without an active member")
		}
	})
}

// vector9701 is the RFC 9701 §5 example response (RS256, kid wG6D: its
// key is not published, so it never verifies here).
const vector9701 = "eyJraWQiOiJ3RzZEIiwidHlwIjoidG9rZW4taW50cm9zcGVjdGlvbitqd3QiLCJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2FzLmV4YW1wbGUuY29tLyIsImF1ZCI6Imh0dHBzOi8vcnMuZXhhbXBsZS5jb20vcmVzb3VyY2UiLCJpYXQiOjE1MTQ3OTc4OTIsInRva2VuX2ludHJvc3BlY3Rpb24iOnsiYWN0aXZlIjp0cnVlLCJpc3MiOiJodHRwczovL2FzLmV4YW1wbGUuY29tLyIsImF1ZCI6Imh0dHBzOi8vcnMuZXhhbXBsZS5jb20vcmVzb3VyY2UiLCJpYXQiOjE1MTQ3OTc4MjIsImV4cCI6MTUxNDc5Nzk0MiwiY2xpZW50X2lkIjoicGFpQjJnb28wYSIsInNjb3BlIjoicmVhZCB3cml0ZSBkb2xwaGluIiwic3ViIjoiWjVPM3VwUEM4OFFyQWp4MDBkaXMiLCJiaXJ0aGRhdGUiOiIxOTgyLTAyLTAxIiwiZ2l2ZW5fbmFtZSI6IkpvaG4iLCJmYW1pbHlfbmFtZSI6IkRvZSIsImp0aSI6InQxRm9DQ2FaZDRYdjRPUkpVV1ZVZVRaZnNLaFczMENRQ3JXRERqd1h5NncifX0.przJMU5GhmNzvwtt1Sr-xa9xTkpiAg5IshbQsRiRVP_7eGR1GHYrNwQh84kxOkHCyje2g5WSRcYosGEVIiC-eoPJJ-qBwqwSlgx9JEeCDw2W5DjrblOI_N0Jvsq_dUeOyoWVMqlOydOBhKNY0smBrI4NZvEExucOm9WUJXMuJtvq1gBes-0go5j4TEv9sOP9uu81gqWTr_LOo6pgT0tFFyZfWC4kbXPXiQ2YT6mxCiQRRNM-l9cBdF6Jx6IOrsfFhBuYdYQ_mlL19HgDDOFaleyqmru6lKlASOsaE8dmLSeKcX91FbG79FKN8un24iwIDCbKT9xlUFl54xWVShNDFA"

// FuzzParseClaims feeds claims objects to the one claims reader.
func FuzzParseClaims(f *testing.F) {
	f.Add([]byte(`{"active":true,"iss":"https://as.example.com/","aud":["a","b"],"scope":"read","exp":1419356238,"nbf":1,"iat":1,"token_type":"Bearer","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`))
	f.Add([]byte(`{"active":"true","exp":"1"}`))
	f.Add([]byte(`{"ACTIVE":true}`))
	f.Add([]byte(`{"cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0","kid":"k"},"aud":"x"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ci, err := parseClaims(raw)
		if err != nil {
			if ci.hasActive || ci.scope != "" || ci.cnf.Bound() {
				t.Fatalf("values beside an error")
			}
			return
		}
		if ci.cnfErr == nil && ci.cnf.Bound() && !bytes.Contains(raw, []byte("cnf")) {
			t.Fatalf("a binding from nowhere")
		}
	})
}

// FuzzAuthRequest feeds the headers an auth-request endpoint reads.
func FuzzAuthRequest(f *testing.F) {
	f.Add(uint8(0), "GET", "/orders?x=1", "https", "api.example.com", "/_auth")
	f.Add(uint8(1), "POST", "/a b", "http", "evil", "/")
	f.Add(uint8(2), "DELETE", "//x", "", "", "/ext_authz/orders")
	f.Add(uint8(2), "GET", "", "", "", "/ext_authz?x")
	as := newFakeAS(f)
	f.Fuzz(func(t *testing.T, proto uint8, method, uri, fproto, fhost, path string) {
		p := Protocol(int(proto)%3 + 1)
		prefix := ""
		if p == ProtocolEnvoy {
			prefix = "/ext_authz"
		}
		a := &AuthRequest{Gateway: as.gateway(ModeIntrospectionJWT), Protocol: p, TrustedProxies: loopback, PathPrefix: prefix}
		r, err := http.NewRequest(method, "http://phantom.internal/", nil)
		if err != nil {
			r, _ = http.NewRequest("GET", "http://phantom.internal/", nil)
		}
		r.URL.Path = path
		for k, v := range map[string]string{
			"X-Original-Method": method, "X-Original-URI": uri, "X-Forwarded-Method": method,
			"X-Forwarded-Uri": uri, "X-Forwarded-Proto": fproto, "X-Forwarded-Host": fhost,
		} {
			r.Header.Set(k, v)
		}
		o, err := a.Original(r)
		if err != nil {
			if o != nil {
				t.Fatalf("request beside an error")
			}
			return
		}
		if o.URL.Path == "" || o.URL.Path[0] != '/' || !validToken(o.Method) || o.URL.Host != "" {
			t.Fatalf("accepted method %q URI %q", o.Method, o.RequestURI)
		}
	})
}
