package par

import (
	"encoding/json"
	"testing"
	"time"
)

var benchBody = []byte(`{"request_uri":"urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c","expires_in":60}`)

// BenchmarkParseResponse validates a PAR response body.
func BenchmarkParseResponse(b *testing.B) {
	sent := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseResponse("application/json", benchBody, sent); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineJSONUnmarshal is plain encoding/json decoding of the
// same body into a struct, with no validation.
func BenchmarkBaselineJSONUnmarshal(b *testing.B) {
	var v struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int64  `json:"expires_in"`
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := json.Unmarshal(benchBody, &v); err != nil {
			b.Fatal(err)
		}
	}
}
