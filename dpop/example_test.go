package dpop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/dpop"
)

// exampleKey is the P-256 key of RFC 7517 Appendix A.2, so that the
// examples print stable thumbprints. Real code uses dpop.GenerateKey and
// persists the key with the root package (hardened.MarshalPrivateKey,
// hardened.ParsePrivateKey): DPoP-bound refresh tokens only work with the
// key they are bound to.
func exampleKey() crypto.Signer {
	d, err := base64.RawURLEncoding.DecodeString("870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE")
	if err != nil {
		panic(err)
	}
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	if err != nil {
		panic(err)
	}
	return k
}

// The key thumbprint binds the authorization code to the key (RFC 9449
// §10).
func ExampleProofer_JKT() {
	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: exampleKey()})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Algorithm(), p.JKT())

	conf := &oauth2.Config{ClientID: "s6BhdRkqt3", Endpoint: oauth2.Endpoint{AuthURL: "https://server.example.com/authorize"}}
	u, _ := url.Parse(conf.AuthCodeURL("xyz", dpop.JKTOption(p.JKT())))
	fmt.Println(u.Query().Get("dpop_jkt"))
	// Output:
	// ES256 cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s
	// cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s
}

// An authorization server's token endpoint checks the proof of each token
// request (RFC 9449 §5). The expected "htu" is BaseURL followed by the
// request's path, whatever Host the request names.
func ExampleVerifier_VerifyProof() {
	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: exampleKey()})
	if err != nil {
		panic(err)
	}
	proof, err := p.Proof("POST", "https://Server.Example.com:443/token?x=1", dpop.ProofOptions{})
	if err != nil {
		panic(err)
	}

	v := &dpop.Verifier{BaseURL: "https://server.example.com"}
	r := httptest.NewRequest("POST", "http://10.0.0.7:8080/token", nil) // as a proxy forwards it
	r.Header.Set("DPoP", proof)
	got, err := v.VerifyProof(r)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Method, got.URI)
	fmt.Println("jkt matches:", got.JKT == p.JKT())

	// The same proof again is a replay, answered as RFC 9449 §5 says.
	_, err = v.VerifyProof(r)
	fmt.Println(errors.Is(err, dpop.ErrReplay), errors.Is(err, dpop.ErrInvalidProof))
	w := httptest.NewRecorder()
	v.WriteTokenError(w, err)
	fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	// Output:
	// POST https://server.example.com/token
	// jkt matches: true
	// true true
	// 400 {"error":"invalid_dpop_proof","error_description":"jti already used"}
}

// A gateway verifies (or introspects) the access token itself, then calls
// Check for the binding. Here the token is bound both to a DPoP key and to
// a client certificate: an mtlsbound.Verifier checks the certificate, so
// the DPoP verifier lists "x5t#S256" as checked elsewhere.
func ExampleVerifier_Check() {
	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: exampleKey()})
	if err != nil {
		panic(err)
	}
	claims := json.RawMessage(`{"sub":"alice","cnf":{"jkt":"` + p.JKT() + `","x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"}}`)
	request := func() *http.Request {
		proof, err := p.Proof("GET", "https://api.example.com/orders", dpop.ProofOptions{AccessToken: "at-1"})
		if err != nil {
			panic(err)
		}
		r := httptest.NewRequest("GET", "https://api.example.com/orders", nil)
		r.Header.Set("Authorization", "DPoP at-1")
		r.Header.Set("DPoP", proof)
		return r
	}

	alone := &dpop.Verifier{BaseURL: "https://api.example.com"}
	_, err = alone.Check(request(), "at-1", claims)
	fmt.Println(errors.Is(err, dpop.ErrUnsupportedConfirmation))

	gw := &dpop.Verifier{BaseURL: "https://api.example.com", CheckedElsewhere: []string{"x5t#S256"}}
	res, err := gw.Check(request(), "at-1", claims)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Bound, res.Proof.JKT == res.Confirmation.JKT)
	// Output:
	// true
	// true true
}

// The confirmation of a token, read from an introspection response.
func ExampleConfirmationFromClaims() {
	c, err := dpop.ConfirmationFromClaims([]byte(`{"active":true,"sub":"alice",
		"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Bound(), c.JKT, c.X5TS256 == "")

	_, err = dpop.ConfirmationFromClaims([]byte(`{"active":false}`))
	fmt.Println(errors.Is(err, dpop.ErrInactiveToken))
	// Output:
	// true 0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I true
	// true
}

// A resource server protected by the middleware, and a client using
// x/oauth2 over the Transport. The server demands its own nonce: the
// transport retries once with it.
func ExampleVerifier_Wrap() {
	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: exampleKey()})
	if err != nil {
		panic(err)
	}
	tokens := map[string]string{"at-1": `{"sub":"alice","cnf":{"jkt":"` + p.JKT() + `"}}`}
	v := &dpop.Verifier{
		Nonces: &dpop.Nonces{Secrets: [][]byte{[]byte("a 32-byte (or longer) secret ...")}},
		Token: func(_ context.Context, tok string) (json.RawMessage, error) {
			c, ok := tokens[tok] // a real server verifies a JWT or introspects
			if !ok {
				return nil, errors.New("unknown token")
			}
			return json.RawMessage(c), nil
		},
	}
	attempts := 0
	api := v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, _ := dpop.FromContext(r.Context())
		var claims struct{ Sub string }
		_ = json.Unmarshal(res.Claims, &claims)
		fmt.Fprintf(w, "hello %s", claims.Sub)
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts++
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	v.BaseURL = srv.URL // how clients reach the API; set before the first request

	// Without a token.
	resp, err := http.Get(srv.URL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("WWW-Authenticate"))

	// With a DPoP token through x/oauth2 and the Transport.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: &dpop.Transport{Proofer: p}})
	client := oauth2.NewClient(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "at-1", TokenType: "DPoP"}))
	attempts = 0
	resp, err = client.Get(srv.URL + "/hello")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body), "after", attempts, "attempts")
	// Output:
	// 401 DPoP algs="ES256 PS256 EdDSA"
	// 200 hello alice after 2 attempts
}

// x/oauth2's Exchange through the Transport, against a token endpoint that
// demands a nonce (400 use_dpop_nonce) and verifies every proof.
func ExampleTransport() {
	v := &dpop.Verifier{Nonces: &dpop.Nonces{Secrets: [][]byte{[]byte("another secret of 32 bytes or more")}}}
	attempts := 0
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts++
		proof, err := v.VerifyProof(r)
		if err != nil {
			v.WriteTokenError(w, err)
			return
		}
		v.AdvanceNonce(w.Header(), proof)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": "at-" + proof.JKT[:4], "token_type": "DPoP", "expires_in": 300,
		})
	}))
	defer as.Close()
	v.BaseURL = as.URL

	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: exampleKey()})
	if err != nil {
		panic(err)
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: &dpop.Transport{Proofer: p}})
	conf := &oauth2.Config{
		ClientID: "s6BhdRkqt3",
		Endpoint: oauth2.Endpoint{TokenURL: as.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	tok, err := conf.Exchange(ctx, "SplxlOBeZQQYbYS6WxSbIA")
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Type(), tok.AccessToken, "after", attempts, "attempts")
	// Output: DPoP at-cn-I after 2 attempts
}

// Stateless nonces: any replica with the same secrets checks any nonce.
func ExampleNonces() {
	secret := []byte("0123456789abcdef0123456789abcdef")
	a := &dpop.Nonces{Secrets: [][]byte{secret}}
	b := &dpop.Nonces{Secrets: [][]byte{[]byte("a newer secret, 32 bytes or more"), secret}} // rotated: new first
	n, err := a.New()
	if err != nil {
		panic(err)
	}
	_, err = b.Check(n)
	fmt.Println(err == nil)
	_, err = b.Check("forged")
	fmt.Println(errors.Is(err, dpop.ErrUseNonce))
	// Output:
	// true
	// true
}

// A token bound by "kid" (RFC 7800 §3.4) names a key the resource server
// already knows, such as one in the client's registered JWK Set: the
// proof must be signed with it.
func ExampleJWKSResolver() {
	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: exampleKey()})
	if err != nil {
		panic(err)
	}
	registered := `{"keys":[{"kty":"EC","crv":"P-256","kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad",` +
		`"x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}`
	keys, err := dpop.NewJWKSResolver(dpop.JWKSConfig{
		JWKS: []byte(registered),
		JKUs: []string{"https://keys.example.net/pop-keys.json"}, // "jku" values accepted (RFC 7800 §3.5)
	})
	if err != nil {
		panic(err)
	}
	v := &dpop.Verifier{BaseURL: "https://rs.example", Keys: keys}

	check := func(claims string, proofer *dpop.Proofer) error {
		proof, err := proofer.Proof("GET", "https://rs.example/photos", dpop.ProofOptions{AccessToken: "at-1"})
		if err != nil {
			panic(err)
		}
		r := httptest.NewRequest("GET", "https://rs.example/photos", nil)
		r.Header.Set("Authorization", "DPoP at-1")
		r.Header.Set("DPoP", proof)
		_, err = v.Check(r, "at-1", json.RawMessage(claims))
		return err
	}
	// RFC 7800 §3.4's claims.
	claims := `{"iss":"https://server.example.com","aud":"https://client.example.org","exp":1361398824,` +
		`"cnf":{"kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"}}`
	fmt.Println("registered key:", check(claims, p))

	k, err := dpop.GenerateKey()
	if err != nil {
		panic(err)
	}
	stranger, err := dpop.NewProofer(dpop.ProoferConfig{Key: k})
	if err != nil {
		panic(err)
	}
	fmt.Println("another key:", errors.Is(check(claims, stranger), dpop.ErrBindingMismatch))

	unknown := `{"cnf":{"kid":"2015-08-28"}}`
	fmt.Println("unknown kid:", errors.Is(check(unknown, p), dpop.ErrUnknownKey))
	offList := `{"cnf":{"jku":"https://attacker.example/jwks","kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"}}`
	fmt.Println("jku off the list:", errors.Is(check(offList, p), dpop.ErrUnknownKey))
	// Output:
	// registered key: <nil>
	// another key: true
	// unknown kid: true
	// jku off the list: true
}
