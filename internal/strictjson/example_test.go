package strictjson_test

import (
	"errors"
	"fmt"

	"github.com/hardened-oauth/hardened/internal/strictjson"
)

func ExampleCheckObject() {
	for _, doc := range []string{
		`{"alg":"ES256","kid":"k1"}`,
		`{"alg":"none","alg":"ES256"}`, // RFC 7515 §4 lets parsers pick either
		`{"kid":"a","\u212Aid":"b"}`,   // KELVIN SIGN folds to "k"
		"{\"sub\":\"\xff\"}",
	} {
		err := strictjson.CheckObject([]byte(doc), nil)
		fmt.Println(err == nil, errors.Is(err, strictjson.ErrDuplicate), errors.Is(err, strictjson.ErrUTF8))
	}
	// Output:
	// true false false
	// false true false
	// false true false
	// false false true
}

func ExampleEachMember() {
	claims := []byte(`{"iss":"https://as.example","cnf":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"},"exp":1893456000}`)
	var cnf []byte
	var exp int64
	err := strictjson.EachMember(claims, nil, func(name, value []byte) error {
		var err error
		switch string(name) {
		case "cnf":
			cnf = value
		case "exp":
			exp, err = strictjson.NumericDate(value)
		}
		return err
	})
	fmt.Println(err, string(cnf), exp)
	// Output: <nil> {"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0"} 1893456000
}

func ExampleReader() {
	r := strictjson.NewReader([]byte(`{"htm":"POST","iat":1562262616,"extra":[1,{"a":null}]}`))
	if err := r.Enter(); err != nil {
		fmt.Println(err)
		return
	}
	for {
		name, ok, err := r.Next()
		if err != nil || !ok {
			break
		}
		switch string(name) {
		case "htm":
			v, _ := r.Str()
			fmt.Println("htm", string(v))
		case "iat":
			v, _ := r.NumericDate()
			fmt.Println("iat", v)
		default:
			_ = r.Skip()
		}
	}
	fmt.Println(r.End())
	// Output:
	// htm POST
	// iat 1562262616
	// <nil>
}

func ExampleUnmarshalStrict() {
	var claims struct {
		Issuer string `json:"iss"`
	}
	fmt.Println(strictjson.UnmarshalStrict([]byte(`{"iss":"https://as.example"}`), &claims), claims.Issuer)
	// encoding/json alone would fill Issuer from "ISS".
	err := strictjson.UnmarshalStrict([]byte(`{"ISS":"https://evil.example"}`), &claims)
	fmt.Println(errors.Is(err, strictjson.ErrCase))
	// Output:
	// <nil> https://as.example
	// true
}
