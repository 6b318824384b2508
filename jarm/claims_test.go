package jarm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
)

func TestParseClaims(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    string
		iss   string
		state string
		code  string
		aud   []string
		err   error
	}{
		{name: "JARM §2.1.1 example", in: `{  "iss": "https://accounts.example.com",  "aud": "s6BhdRkqt3",  "exp": 1311281970,  "code": "PyyFaux2o7Q0YfXBU32jhw.5FXSQpvr8akv9CeRDSd0QA",  "state": "S8NJ7uqk5fY4EjNvP_G_FtyJu6pUsvH9jsYni9dMAJw"}`,
			iss: "https://accounts.example.com", state: "S8NJ7uqk5fY4EjNvP_G_FtyJu6pUsvH9jsYni9dMAJw", code: "PyyFaux2o7Q0YfXBU32jhw.5FXSQpvr8akv9CeRDSd0QA", aud: []string{"s6BhdRkqt3"}},
		{name: "empty object", in: ` { } `},
		{name: "escaped member name", in: `{"i\u0073s":"a"}`, iss: "a"},
		{name: "escaped value", in: `{"iss":"https:\/\/as\u002eexample"}`, iss: "https://as.example"},
		{name: "nested members are not claims", in: `{"x":{"iss":"evil","y":["}",{"state":"s"}]},"iss":"good","z":"\"}"}`, iss: "good"},
		{name: "other case alone is not the claim", in: `{"ISS":"evil"}`},
		{name: "other case beside the claim", in: `{"ISS":"evil","iss":"good"}`, err: ErrMalformed},
		{name: "aud array", in: `{"aud":["a","b"]}`, aud: []string{"a", "b"}},
		{name: "whitespace everywhere", in: "\t{\n\"state\"\r:\n\"s\"\t,\"code\" : \"c\" }\n", state: "s", code: "c"},
		{name: "numbers and literals skipped", in: `{"a":1.5e3,"b":true,"c":null,"d":-0,"code":"c"}`, code: "c"},
		{name: "dates as integers and floats", in: `{"exp":2000000000,"iat":1.9e9,"nbf":0}`},
		{name: "date over 2^40", in: `{"exp":1099511627777}`, err: ErrMalformed},
		{name: "date as a fraction", in: `{"exp":-0.5}`, err: ErrMalformed},
		{name: "repeated iss", in: `{"iss":"a","iss":"b"}`, err: ErrMalformed},
		{name: "repeated iss, one escaped", in: `{"iss":"a","\u0069ss":"b"}`, err: ErrMalformed},
		{name: "iss number", in: `{"iss":1}`, err: ErrMalformed},
		{name: "state null", in: `{"state":null}`, err: ErrMalformed},
		{name: "exp string", in: `{"exp":"1"}`, err: ErrMalformed},
		{name: "exp negative", in: `{"exp":-1}`, err: ErrMalformed},
		{name: "aud object", in: `{"aud":{}}`, err: ErrMalformed},
		{name: "invalid UTF-8", in: "{\"code\":\"\xff\"}", err: ErrMalformed},
		{name: "invalid UTF-8 in an ignored member", in: "{\"x\":\"\xff\"}", err: ErrMalformed},
		{name: "unpaired surrogate", in: `{"state":"\ud800"}`, err: ErrMalformed},
		{name: "duplicate in an ignored member", in: `{"x":{"a":1,"a":2}}`, err: ErrMalformed},
		{name: "array", in: `[]`, err: ErrMalformed},
		{name: "string", in: `"iss"`, err: ErrMalformed},
		{name: "trailing garbage", in: `{}x`, err: ErrMalformed},
		{name: "two objects", in: `{}{}`, err: ErrMalformed},
		{name: "empty", in: ``, err: ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := parseClaims([]byte(tc.in))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.iss, c.iss)
			require.Equal(t, tc.state, c.state)
			require.Equal(t, tc.code, c.code)
			require.Equal(t, tc.aud, []string(c.aud))
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(tc.in), &m))
			for name, d := range map[string]*jose.NumericDate{"exp": c.exp, "iat": c.iat, "nbf": c.nbf} {
				if want, ok := m[name]; ok {
					require.EqualValues(t, int64(want.(float64)), int64(*d), name)
				} else {
					require.Nil(t, d, name)
				}
			}
		})
	}
}

// FuzzClaims checks the member scanner against encoding/json: whenever
// parseClaims accepts a payload, encoding/json reads the same object and
// the same values for every claim found.
func FuzzClaims(f *testing.F) {
	b, err := os.ReadFile("testdata/jarm.json")
	require.NoError(f, err)
	var v struct {
		Q struct {
			P string `json:"decoded_by_us_payload_json_text"`
		} `json:"query_jwt_example"`
		F struct {
			P string `json:"decoded_by_us_payload_json_text"`
		} `json:"fragment_jwt_example"`
		E struct {
			Claims json.RawMessage `json:"claims"`
		} `json:"error_claims"`
	}
	require.NoError(f, json.Unmarshal(b, &v))
	f.Add([]byte(v.Q.P))
	f.Add([]byte(v.F.P))
	f.Add([]byte(v.E.Claims))
	f.Add([]byte(`{"iss":"a","aud":["b","c"],"exp":1e9,"iat":0,"nbf":1,"error":"e","error_description":"d","error_uri":"u"}`))
	f.Add([]byte(`{"x":{"iss":"e","y":["}",{"state":"\"s"}]},"iss":"g"}`))
	f.Add([]byte(`{"i\u0073s":"\ud800"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := parseClaims(p)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		// The oracle reads numbers as json.Number: a member parseClaims
		// ignores may hold one past float64's range ({"x":1E1000}, valid
		// JSON, RFC 8259 §6), which encoding/json refuses as a float64.
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(p))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&m))
		for name, got := range map[string]string{"iss": c.iss, "code": c.code, "state": c.state, "error": c.errCode, "error_description": c.errDesc, "error_uri": c.errURI} {
			if want, ok := m[name]; ok {
				require.Equal(t, want, got, name)
			} else {
				require.Empty(t, got, name)
			}
		}
		_, hasCode := m["code"]
		require.Equal(t, hasCode, c.hasCode)
		_, hasState := m["state"]
		require.Equal(t, hasState, c.hasState)
		if c.exp != nil {
			exp, err := m["exp"].(json.Number).Float64()
			require.NoError(t, err)
			require.EqualValues(t, int64(exp), int64(*c.exp))
		}
	})
}

// The examples' base64url payloads decode to the same text as the vector's
// decoded copy; this keeps the fuzz seeds honest.
func TestVectorPayloads(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/jarm.json")
	require.NoError(t, err)
	var v struct {
		Q struct {
			R string `json:"response"`
			P string `json:"decoded_by_us_payload_json_text"`
		} `json:"query_jwt_example"`
	}
	require.NoError(t, json.Unmarshal(b, &v))
	segs := strings.Split(v.Q.R, ".")
	require.Len(t, segs, 3)
	p, err := base64.RawURLEncoding.DecodeString(segs[1])
	require.NoError(t, err)
	require.Equal(t, v.Q.P, string(p))
	c, err := parseClaims(p)
	require.NoError(t, err)
	require.Equal(t, "https://accounts.example.com", c.iss)
	require.EqualValues(t, 1311281970, *c.exp)
}
