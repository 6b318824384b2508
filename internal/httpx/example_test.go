package httpx_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

func ExampleReadBody() {
	_, err := httpx.ReadBody(strings.NewReader(strings.Repeat("a", 11)), 10)
	fmt.Println(errors.Is(err, httpx.ErrBodyTooLarge))
	b, _ := httpx.ReadBody(strings.NewReader("0123456789"), 10)
	fmt.Println(len(b))
	// Output:
	// true
	// 10
}

func ExampleCloneForRetry() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.Header.Get("DPoP"), b)
	}))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("grant_type=refresh_token"))
	req.Header.Set("DPoP", "proof-1")
	resp, _ := httpx.Client(nil).Do(req)
	httpx.DrainClose(resp.Body)

	// The server asked for a nonce: send again with a new proof.
	retry, err := httpx.CloneForRetry(req)
	if err != nil {
		panic(err)
	}
	retry.Header.Set("DPoP", "proof-2")
	resp, _ = httpx.Client(nil).Do(retry)
	b, _ := httpx.ReadBody(resp.Body, 0)
	httpx.DrainClose(resp.Body)
	fmt.Println(string(b))
	// Output: proof-2 grant_type=refresh_token
}

func ExampleAuthorization() {
	r := httptest.NewRequest(http.MethodGet, "https://rs.example/resource", nil)
	r.Header.Set("Authorization", "dpop Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
	scheme, _, err := httpx.Authorization(r.Header, "DPoP", "Bearer")
	fmt.Println(scheme, err)
	r.Header.Set("Authorization", "Basic YWxpY2U6c2VjcmV0")
	_, _, err = httpx.Authorization(r.Header, "DPoP", "Bearer")
	fmt.Println(errors.Is(err, httpx.ErrNoCredentials))
	r.Header.Set("Authorization", "Bearer not a token")
	_, _, err = httpx.Authorization(r.Header, "DPoP", "Bearer")
	fmt.Println(errors.Is(err, httpx.ErrMalformedCredentials))
	// Output:
	// DPoP <nil>
	// true
	// true
}
