package jar

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// vectors reads testdata/rfc9101-jar.json, the RFC 9101 examples.
func vectors(f *testing.F) (v struct {
	Intro struct {
		RequestLine string `json:"request_line"`
	} `json:"introductory_request"`
	RequestObject struct {
		Claims map[string]any `json:"claims"`
	} `json:"request_object"`
	PublicJWK struct {
		JWK json.RawMessage `json:"jwk"`
	} `json:"public_jwk"`
	ByValue struct {
		URL string `json:"url"`
	} `json:"authorization_request_by_value"`
	ByReference struct {
		RequestURI string `json:"request_uri"`
		URL        string `json:"url"`
	} `json:"authorization_request_by_reference"`
	Fetch struct {
		RequestLine string `json:"request_line"`
	} `json:"fetch_request"`
},
) {
	f.Helper()
	b, err := os.ReadFile("testdata/rfc9101-jar.json")
	if err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	return v
}

// target returns the request target of an HTTP request line.
func target(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// FuzzRequestClaims feeds arbitrary query strings, as url.Values, to the
// conversion of authorization request parameters into request object
// claims, seeded with the RFC 9101 §1 request, the §4 request object's
// claims and the §5.1 and §5.2.2 authorization requests. It checks that
// the conversion never panics, that every failure is a *ParameterError,
// and that what it accepts has the JSON types RFC 9101 §4 asks for and
// none of the claims Build sets or refuses.
func FuzzRequestClaims(f *testing.F) {
	v := vectors(f)
	if u, err := url.Parse(target(v.Intro.RequestLine)); err == nil {
		f.Add(u.RawQuery)
	}
	ro := url.Values{}
	for name, val := range v.RequestObject.Claims {
		switch x := val.(type) {
		case string:
			ro.Set(name, x)
		case float64:
			ro.Set(name, strconv.FormatFloat(x, 'f', -1, 64))
		}
	}
	f.Add(ro.Encode())
	ro.Del("iss")
	ro.Del("aud")
	f.Add(ro.Encode())
	for _, s := range []string{v.ByValue.URL, v.ByReference.URL} {
		if u, err := url.Parse(s); err == nil {
			f.Add(u.RawQuery + "&response_type=code")
		}
	}
	f.Add("response_type=code&max_age=0&claims=%7B%22id_token%22%3A%7B%7D%7D")
	f.Add(`response_type=code&authorization_details=[{"type":"x","type":"y"}]&resource=https://a/&resource=https://b/`)
	f.Add("response_type=code&resource=https://a/%23x&sub=s6BhdRkqt3")
	f.Add("response_type=code&state=%ff&max_age=9007199254740991")

	const client = "s6BhdRkqt3"
	f.Fuzz(func(t *testing.T, query string) {
		params, _ := url.ParseQuery(query) // a partial parse is still input
		claims, err := requestClaims(client, params)
		if err != nil {
			var pe *ParameterError
			if claims != nil || !errors.As(err, &pe) || !errors.Is(err, ErrInvalidParameter) || pe.Reason == "" {
				t.Fatalf("bad failure %v", err)
			}
			_ = err.Error()
			return
		}
		if _, err := json.Marshal(claims); err != nil {
			t.Fatalf("claims do not encode: %v", err)
		}
		for _, name := range []string{"iss", "aud", "exp", "nbf", "iat", "jti", "request", "request_uri", "client_id"} {
			if _, ok := claims[name]; ok {
				t.Fatalf("claim %q accepted", name)
			}
		}
		if claims["sub"] == client {
			t.Fatal("sub equal to the client accepted")
		}
		for name, val := range claims {
			if name == "" || !utf8.ValidString(name) {
				t.Fatalf("name %q accepted", name)
			}
			switch x := val.(type) {
			case string:
				if x == "" || !utf8.ValidString(x) || name == paramMaxAge {
					t.Fatalf("%s: string %q", name, x)
				}
			case int64:
				if name != paramMaxAge || x < 0 || x > maxSafeInteger {
					t.Fatalf("%s: number %d", name, x)
				}
			case json.RawMessage:
				if name != paramClaims && name != paramAuthzDetails || !json.Valid(x) {
					t.Fatalf("%s: JSON %q", name, x)
				}
			case []string:
				if name != paramResource || len(x) < 2 {
					t.Fatalf("%s: array %q", name, x)
				}
			default:
				t.Fatalf("%s: type %T", name, val)
			}
		}
		if _, ok := claims[paramResponseType].(string); !ok {
			t.Fatal("no response_type")
		}
	})
}

// FuzzServerPath sends arbitrary request targets to a Server holding one
// request object, seeded with the RFC 9101 §5.2.3 fetch request (whose
// identifier has the length Publish makes). Only a GET of BaseURL's path
// followed by the identifier gets it, once; nothing else consumes it.
func FuzzServerPath(f *testing.F) {
	v := vectors(f)
	fetch := target(v.Fetch.RequestLine)
	id := fetch[strings.LastIndexByte(fetch, '/')+1:]
	f.Add(http.MethodGet, fetch)
	f.Add(http.MethodHead, fetch)
	f.Add(http.MethodGet, "/request.jwt/"+id+"/")
	f.Add(http.MethodGet, "/"+id)
	f.Add(http.MethodGet, "/request.jwt//"+id)
	f.Add(http.MethodGet, "/request%2Ejwt/"+id)
	f.Add(http.MethodGet, "/request.jwt/"+id+"?x=1")
	f.Add(http.MethodGet, "http://evil.example/request.jwt/"+id)
	if u, err := url.Parse(v.ByReference.RequestURI); err == nil {
		f.Add(http.MethodGet, u.RequestURI())
	}

	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, method, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		s := &Server{BaseURL: "https://tfp.example.org/request.jwt/", Now: func() time.Time { return now }}
		s.entries = map[string]entry{id: {jwt: "a.b.c", expiry: now.Add(time.Minute)}}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, &http.Request{Method: method, URL: u, Header: http.Header{}})
		own := u.EscapedPath() == "/request.jwt/"+id
		switch {
		case rec.Code == http.StatusOK:
			if !own || method != http.MethodGet || rec.Body.String() != "a.b.c" || s.Len() != 0 {
				t.Fatalf("served %s %q", method, target)
			}
		case s.Len() != 1:
			t.Fatalf("%s %q consumed the request object", method, target)
		case own && method == http.MethodGet:
			t.Fatalf("refused its own path: %d", rec.Code)
		}
	})
}

// FuzzParseEncryptionKeys feeds arbitrary JWK Sets, seeded with the
// RFC 9101 §4 public key, to ParseEncryptionKeys: it must not panic, and
// what it returns must be usable public keys only.
func FuzzParseEncryptionKeys(f *testing.F) {
	v := vectors(f)
	f.Add([]byte(`{"keys":[` + string(v.PublicJWK.JWK) + `]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","use":"enc","alg":"ECDH-ES"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"X25519","x":"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo","use":"enc"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kty":"EC"}]}`))
	f.Fuzz(func(t *testing.T, jwks []byte) {
		keys, err := ParseEncryptionKeys(jwks)
		if err != nil {
			if keys != nil || !errors.Is(err, ErrEncryption) {
				t.Fatalf("bad failure %v", err)
			}
			return
		}
		for _, k := range keys {
			if !usable(k.Key) {
				t.Fatalf("unusable key %T", k.Key)
			}
		}
	})
}
