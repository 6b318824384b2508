package cnf_test

import (
	"errors"
	"fmt"

	"github.com/hardened-oauth/hardened/internal/cnf"
)

func ExampleParse() {
	for _, raw := range []string{
		`{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}`,                          // RFC 8705 Appendix A
		`{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}`,                               // RFC 9449 §6.1
		`{"jku":"https://www.example.com/jwks","kid":"dfd1aa97-6d8d-4575-a0fe-34b96de2bfad"}`, // RFC 7800 §3.5
		`{"jwe":"eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkExMjhHQ00ifQ.a.b.c.d"}`,                    // nobody checks it
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
