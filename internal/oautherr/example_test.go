package oautherr_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

func ExampleParse() {
	// RFC 9449 §8: the authorization server asks for a nonce.
	body := []byte(`{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof"}`)
	e, err := oautherr.Parse(http.StatusBadRequest, "application/json", body)
	if err != nil {
		panic(err)
	}
	fmt.Println(errors.Is(e, &oautherr.Error{Code: "use_dpop_nonce"}))
	fmt.Println(e)
	// Output:
	// true
	// oauth2: use_dpop_nonce (HTTP 400): "Authorization server requires nonce in DPoP proof"
}

func ExampleWrite() {
	rec := httptest.NewRecorder()
	oautherr.Write(rec, &oautherr.Error{Code: "invalid_request", Description: "missing code_verifier"})
	fmt.Println(rec.Code, rec.Header().Get("Cache-Control"))
	fmt.Print(rec.Body.String())
	// Output:
	// 400 no-store
	// {"error":"invalid_request","error_description":"missing code_verifier"}
}

func ExampleParseChallenges() {
	// RFC 9449 §7.2.
	cs, err := oautherr.ParseChallenges(`Bearer error="invalid_token", error_description="Invalid token", DPoP algs="ES256 PS256"`)
	if err != nil {
		panic(err)
	}
	for _, c := range cs {
		fmt.Printf("%s error=%q algs=%q\n", c.Scheme, c.Get("error"), c.Get("algs"))
	}
	if d, ok := oautherr.Find(cs, "dpop"); ok {
		fmt.Println(d)
	}
	// Output:
	// Bearer error="invalid_token" algs=""
	// DPoP error="" algs="ES256 PS256"
	// DPoP algs="ES256 PS256"
}

func ExampleChallenge_String() {
	c := oautherr.Challenge{Scheme: "DPoP", Params: []oautherr.Param{
		{Name: "error", Value: "use_dpop_nonce"},
		{Name: "error_description", Value: "Resource server requires nonce in DPoP proof"},
	}}
	h := http.Header{}
	h.Set("WWW-Authenticate", c.String())
	fmt.Println(h.Get("WWW-Authenticate"))
	// Output: DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"
}
