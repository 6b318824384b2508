package authserver_test

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

// Example starts the default server and reads its discovery document.
func Example() {
	d, err := authserver.StartDefault()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	issuer, _ := url.Parse(d.Issuer)
	fmt.Println(issuer.Scheme)

	resp, err := d.HTTPClient.Get(d.Issuer + "/.well-known/oauth-authorization-server")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var md struct {
		PAR string `json:"pushed_authorization_request_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		fmt.Println(err)
		return
	}
	par, _ := url.Parse(md.PAR)
	fmt.Println(par.Path)
	// Output:
	// https
	// /par
}
