package strictjson

import (
	"encoding/json"
	"testing"
)

var benchClaims = []byte(`{"iss":"https://as.example","sub":"client-1","aud":"https://rs.example","exp":1893456000,"iat":1893455700,"jti":"Vd1kLm0","client_id":"client-1","cnf":{"x5t#S256":"A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0"}}`)

// BenchmarkBaselineValid is the baseline: encoding/json's own validator,
// which checks syntax only.
func BenchmarkBaselineValid(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchClaims)))
	for b.Loop() {
		if !json.Valid(benchClaims) {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkCheck checks the same claims with the whole policy.
func BenchmarkCheck(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchClaims)))
	for b.Loop() {
		if err := Check(benchClaims, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEachMember finds cnf, as a resource server does per request.
func BenchmarkEachMember(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchClaims)))
	for b.Loop() {
		var cnf []byte
		err := EachMember(benchClaims, nil, func(name, value []byte) error {
			if string(name) == "cnf" {
				cnf = value
			}
			return nil
		})
		if err != nil || cnf == nil {
			b.Fatal(err)
		}
	}
}
