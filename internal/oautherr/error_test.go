package oautherr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// vectors is testdata/rfc6750-rfc9449-challenges.json.
type vectors struct {
	Challenges []struct {
		Section string `json:"section"`
		ID      string `json:"id"`
		Header  string `json:"header"`
	} `json:"challenges"`
	ErrorBodies []struct {
		Section string          `json:"section"`
		Status  int             `json:"status"`
		JSON    json.RawMessage `json:"json"`
	} `json:"error_bodies"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc6750-rfc9449-challenges.json")
	require.NoError(t, err)
	var v vectors
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

func TestParseRFC9449ErrorBody(t *testing.T) {
	t.Parallel()
	for _, b := range loadVectors(t).ErrorBodies {
		t.Run(b.Section, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(b.Status, "application/json", b.JSON)
			require.NoError(t, err)
			require.Equal(t, &Error{Code: "use_dpop_nonce", Description: "Authorization server requires nonce in DPoP proof", Status: 400}, e)
			require.ErrorIs(t, e, &Error{Code: "use_dpop_nonce"})
		})
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", maxField) // 2 bytes each
	tests := []struct {
		name string
		ct   string
		body string
		want *Error
		err  bool
	}{
		{"full", "application/json", `{"error":"invalid_grant","error_description":"code expired","error_uri":"https://as.example/e"}`,
			&Error{Code: "invalid_grant", Description: "code expired", URI: "https://as.example/e", Status: 400}, false},
		{"code only", "application/json;charset=UTF-8", `{"error":"invalid_client"}`, &Error{Code: "invalid_client", Status: 400}, false},
		{"+json type", "application/problem+json", `{"error":"x"}`, &Error{Code: "x", Status: 400}, false},
		{"extra members", "application/json", `{"error":"x","foo":[1,2]}`, &Error{Code: "x", Status: 400}, false},
		{"description null", "application/json", `{"error":"x","error_description":null}`, &Error{Code: "x", Status: 400}, false},
		{"description not a string is ignored", "application/json", `{"error":"x","error_description":5}`, &Error{Code: "x", Status: 400}, false},
		{"description with control characters", "application/json", `{"error":"x","error_description":"a\nb\u0000c\u001b[31m"}`, &Error{Code: "x", Description: "a\ufffdb\ufffdc\ufffd[31m", Status: 400}, false},
		{"URI with a space dropped", "application/json", `{"error":"x","error_uri":"https://a b"}`, &Error{Code: "x", Status: 400}, false},
		{"URI with a quote dropped", "application/json", `{"error":"x","error_uri":"https://a\"b"}`, &Error{Code: "x", Status: 400}, false},
		{"missing error", "application/json", `{"error_description":"x"}`, nil, true},
		{"empty error", "application/json", `{"error":""}`, nil, true},
		{"error null", "application/json", `{"error":null}`, nil, true},
		{"error a number", "application/json", `{"error":400}`, nil, true},
		{"error an array", "application/json", `{"error":["x"]}`, nil, true},
		{"ERROR", "application/json", `{"ERROR":"x"}`, nil, true},
		{"error with a quote", "application/json", `{"error":"a\"b"}`, nil, true},
		{"error with a backslash", "application/json", `{"error":"a\\b"}`, nil, true},
		{"error with a newline", "application/json", `{"error":"a\nb"}`, nil, true},
		{"error non-ASCII", "application/json", `{"error":"é"}`, nil, true},
		{"error too long", "application/json", `{"error":"` + strings.Repeat("a", maxField+1) + `"}`, nil, true},
		{"text/html", "text/html", `{"error":"x"}`, nil, true},
		{"no content type", "", `{"error":"x"}`, nil, true},
		{"bad content type", "application/json; =", `{"error":"x"}`, nil, true},
		{"form encoded", "application/x-www-form-urlencoded", `error=x`, nil, true},
		{"not JSON", "application/json", `<html>`, nil, true},
		{"an array", "application/json", `[{"error":"x"}]`, nil, true},
		{"null", "application/json", `null`, nil, true},
		{"empty", "application/json", ``, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := Parse(400, tc.ct, []byte(tc.body))
			if tc.err {
				require.ErrorIs(t, err, ErrMalformed)
				require.Nil(t, e)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, e)
		})
	}
	t.Run("long description truncated on a character boundary", func(t *testing.T) {
		t.Parallel()
		e, err := Parse(400, "application/json", []byte(`{"error":"x","error_description":"a`+long+`"}`))
		require.NoError(t, err)
		require.LessOrEqual(t, len(e.Description), maxField)
		require.Greater(t, len(e.Description), maxField-2)
		require.True(t, utf8.ValidString(e.Description))
		require.True(t, strings.HasPrefix(e.Description, "aé"))
	})
}

func TestParseRedacting(t *testing.T) {
	t.Parallel()
	long := "SECRET" + strings.Repeat("x7Qz", 400) // 1606 bytes: an echo outgrows the 1 KiB bound
	short := "tok-123"
	body := func(code, desc, uri string) string {
		b, err := json.Marshal(map[string]string{"error": code, "error_description": desc, "error_uri": uri})
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name    string
		secret  string
		body    string
		want    *Error
		wantErr error
	}{
		{name: "whole echo of a long secret, replaced before the bound", secret: long,
			body: body("invalid_request", "bad token "+long+" here", ""),
			want: &Error{Code: "invalid_request", Description: "bad token [redacted] here", Status: 400}},
		{name: "whole echo of a short secret", secret: short,
			body: body("invalid_request", "token "+short, "https://as.example/e"),
			want: &Error{Code: "invalid_request", Description: "token [redacted]", URI: "https://as.example/e", Status: 400}},
		{name: "cut echo: the description is dropped", secret: long,
			body: body("invalid_request", "bad token "+long[:200], ""),
			want: &Error{Code: "invalid_request", Status: 400}},
		{name: "echo in the URI: the URI is dropped", secret: long,
			body: body("invalid_request", "bad", "https://as.example/?t="+long[:40]),
			want: &Error{Code: "invalid_request", Description: "bad", Status: 400}},
		{name: "echo in the code: refused", secret: long,
			body: body("invalid_request_"+long[:64], "bad", ""), wantErr: ErrMalformed},
		{name: "no echo", secret: long,
			body: body("invalid_request", "token is malformed", ""),
			want: &Error{Code: "invalid_request", Description: "token is malformed", Status: 400}},
		{name: "empty secret ignored", secret: "",
			body: body("invalid_request", "token is malformed", ""),
			want: &Error{Code: "invalid_request", Description: "token is malformed", Status: 400}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := ParseRedacting(400, "application/json", []byte(tc.body), tc.secret)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.Nil(t, e)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, e)
		})
	}
}

// A server quoting a JWT the request carried (the client assertion the
// transport signed, a request object) does not put it into the error:
// every JWS or JWE compact serialization in a description is replaced.
func TestParseRedactsJWTs(t *testing.T) {
	t.Parallel()
	jws := "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJjbGllbnQifQ.c2lnbmF0dXJl"
	jwe := "eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn"
	for _, tc := range []struct{ desc, want string }{
		{"assertion " + jws + " expired", "assertion [redacted] expired"},
		{jws, "[redacted]"},
		{"two: " + jws + "," + jwe + ".", "two: [redacted],[redacted]"},
		{"unsigned " + "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "unsigned [redacted]"},
		{"a JWT cut before its dot: eyJhbGciOiJFUzI1NiJ9", "a JWT cut before its dot: [redacted]"},
		{"eyJabc and eyJ.x", "[redacted] and [redacted]"},
		{"no jwt here", "no jwt here"},
	} {
		body, err := json.Marshal(map[string]string{"error": "invalid_client", "error_description": tc.desc})
		require.NoError(t, err)
		for _, parse := range []func() (*Error, error){
			func() (*Error, error) { return Parse(400, "application/json", body) },
			func() (*Error, error) { return ParseRedacting(400, "application/json", body, "unrelated-secret") },
		} {
			e, err := parse()
			require.NoError(t, err)
			require.Equal(t, tc.want, e.Description, tc.desc)
		}
	}
}

func TestErrorIs(t *testing.T) {
	t.Parallel()
	e := &Error{Code: "invalid_token", Description: "expired", URI: "https://e", Status: 401}
	wrapped := fmt.Errorf("calling the RS: %w", e)
	tests := []struct {
		name   string
		target error
		want   bool
	}{
		{"code", &Error{Code: "invalid_token"}, true},
		{"code and status", &Error{Code: "invalid_token", Status: 401}, true},
		{"all fields", &Error{Code: "invalid_token", Description: "expired", URI: "https://e", Status: 401}, true},
		{"zero target matches any", &Error{}, true},
		{"other code", &Error{Code: "invalid_request"}, false},
		{"other status", &Error{Code: "invalid_token", Status: 400}, false},
		{"other description", &Error{Description: "revoked"}, false},
		{"other URI", &Error{URI: "https://f"}, false},
		{"nil *Error", (*Error)(nil), false},
		{"another error", errors.New("invalid_token"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, errors.Is(wrapped, tc.target))
		})
	}
	var got *Error
	require.ErrorAs(t, wrapped, &got)
	require.Equal(t, "invalid_token", got.Code)
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    *Error
		want string
	}{
		{"code", &Error{Code: "invalid_grant"}, "oauth2: invalid_grant"},
		{"status", &Error{Code: "invalid_grant", Status: 400}, "oauth2: invalid_grant (HTTP 400)"},
		{"description quoted", &Error{Code: "x", Description: "a \"b\"\n"}, `oauth2: x: "a \"b\"\n"`},
		{"no code", &Error{Status: 500}, "oauth2: error response (HTTP 500)"},
		{"nil", nil, "oauth2: <nil>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.e.Error())
		})
	}
	t.Run("long description cut", func(t *testing.T) {
		t.Parallel()
		s := (&Error{Code: "x", Description: strings.Repeat("é", 300)}).Error()
		require.Less(t, len(s), 300*2)
		require.True(t, utf8.ValidString(s))
	})
}

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		e      *Error
		status int
		body   string
	}{
		{"status kept", &Error{Code: "invalid_token", Description: "expired", Status: 401}, 401, `{"error":"invalid_token","error_description":"expired"}`},
		{"zero status is 400", &Error{Code: "invalid_request", URI: "https://e"}, 400, `{"error":"invalid_request","error_uri":"https://e"}`},
		{"nil is a server error", nil, 500, `{"error":"server_error"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			Write(rec, tc.e)
			require.Equal(t, tc.status, rec.Code)
			require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
			require.Equal(t, "no-cache", rec.Header().Get("Pragma"))
			require.JSONEq(t, tc.body, rec.Body.String())
			// What Write sends, Parse reads back.
			back, err := Parse(rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
			require.NoError(t, err)
			if tc.e != nil {
				require.Equal(t, tc.e.Code, back.Code)
				require.Equal(t, tc.e.Description, back.Description)
				require.Equal(t, tc.e.URI, back.URI)
			}
		})
	}
}

func TestIsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ct   string
		want bool
	}{
		{"application/json", true},
		{"Application/JSON; charset=utf-8", true},
		{"application/jwk-set+json", true},
		{"application/jwt", false},
		{"text/json", false},
		{"", false},
		{"application/json;;", false},
	}
	for _, tc := range tests {
		t.Run(tc.ct, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, IsJSON(tc.ct))
		})
	}
}

func TestWriteOverHTTP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		Write(w, &Error{Code: "use_dpop_nonce", Description: "Authorization server requires nonce in DPoP proof"})
	}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	e, err := Parse(resp.StatusCode, resp.Header.Get("Content-Type"), body)
	require.NoError(t, err)
	require.ErrorIs(t, e, &Error{Code: "use_dpop_nonce", Status: http.StatusBadRequest})
}
