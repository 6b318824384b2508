package cnf_test

import (
	"errors"
	"fmt"

	"github.com/hardened-oauth/hardened/internal/cnf"
)

func ExampleParse() {
	for _, raw := range []string{
		`{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}`,          // RFC 8705 Appendix A
		`{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`,               // RFC 9449 §6.1
		`{"jku":"https://keys.example.net/pop-keys.json","kid":"2015-08-28"}`, // RFC 7800 §3.5
		`{"jwe":"eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkExMjhHQ00ifQ.a.b.c.d"}`,    // nobody checks it
	} {
		c, err := cnf.Parse([]byte(raw))
		fmt.Println(c.Methods(), c.Other, err)
	}
	// RFC 8705 §3.1's value is not canonical base64url.
	_, err := cnf.Parse([]byte(`{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}`))
	fmt.Println(errors.Is(err, cnf.ErrMalformed))
	// Output:
	// [x5t#S256] [] <nil>
	// [jkt] [] <nil>
	// [kid jku] [] <nil>
	// [jwe] [jwe] <nil>
	// true
}

func ExampleFromClaims() {
	// RFC 9449 §6.2, an introspection response.
	c, err := cnf.FromClaims([]byte(`{"active":true,"sub":"someone@example.com","cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}`))
	fmt.Println(c.JKT, err)
	_, err = cnf.FromClaims([]byte(`{"active":false}`))
	fmt.Println(errors.Is(err, cnf.ErrInactive))
	// Output:
	// 0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I <nil>
	// true
}

func ExampleConfirmation_KIDTarget() {
	for _, raw := range []string{
		`{"kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"}`,                        // RFC 7800 §3.4
		`{"kid":"k1","jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`,      // the DPoP key
		`{"kid":"k1","x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}`, // the certificate's key
		`{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`,                 // no kid
	} {
		c, _ := cnf.Parse([]byte(raw))
		fmt.Println(c.KIDTarget() == cnf.TargetPresented, c.KIDTarget() == cnf.TargetDPoP, c.KIDTarget() == cnf.TargetCertificate)
	}
	// Output:
	// true false false
	// false true false
	// false false true
	// false false false
}
