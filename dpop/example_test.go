package dpop_test

import (
	"context"
	"crypto"
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
// persists the key (see ExampleMarshalPrivateJWK).
func exampleKey() crypto.Signer {
	k, err := dpop.ParsePrivateJWK([]byte(`{"kty":"EC","crv":"P-256",
		"x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
		"y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
		"d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"}`))
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

// A proof minted by a Proofer and checked by a Verifier.
func ExampleVerifier_VerifyProof() {
	p, err := dpop.NewProofer(dpop.ProoferConfig{Key: exampleKey()})
	if err != nil {
		panic(err)
	}
	proof, err := p.Proof("POST", "https://Server.Example.com:443/token?x=1", dpop.ProofOptions{})
	if err != nil {
		panic(err)
	}

	v := &dpop.Verifier{}
	got, err := v.VerifyProof(context.Background(), proof, "POST", "https://server.example.com/token", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.Method, got.URI)
	fmt.Println("jkt matches:", got.JKT == p.JKT())

	// The same proof again is a replay.
	_, err = v.VerifyProof(context.Background(), proof, "POST", "https://server.example.com/token", nil)
	fmt.Println(errors.Is(err, dpop.ErrProofReplayed))
	// Output:
	// POST https://server.example.com/token
	// jkt matches: true
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
		proof, err := v.Verify(r, nil)
		if err != nil {
			v.WriteTokenError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": "at-" + proof.JKT[:4], "token_type": "DPoP", "expires_in": 300,
		})
	}))
	defer as.Close()

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

// Persist the key so that DPoP-bound refresh tokens survive a restart.
func ExampleMarshalPrivateJWK() {
	key := exampleKey()
	saved, err := dpop.MarshalPrivateJWK(key) // secret: store it as such
	if err != nil {
		panic(err)
	}
	restored, err := dpop.ParsePrivateJWK(saved)
	if err != nil {
		panic(err)
	}
	a, _ := dpop.NewProofer(dpop.ProoferConfig{Key: key})
	b, _ := dpop.NewProofer(dpop.ProoferConfig{Key: restored})
	fmt.Println(a.JKT() == b.JKT())

	pemBytes, err := dpop.MarshalPrivateKeyPEM(key)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.SplitN(string(pemBytes), "\n", 2)[0])
	// Output:
	// true
	// -----BEGIN PRIVATE KEY-----
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
	fmt.Println(errors.Is(err, dpop.ErrNonceInvalid))
	// Output:
	// true
	// true
}
