package par

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// FuzzReadResponse feeds arbitrary PAR endpoint answers (status, content
// type, body) to the response reader, seeded with the RFC 9126 §1.1, §2.2
// and §2.3 responses from testdata/rfc9126-par.json. It checks that the
// reader never panics, that success means a valid request_uri and
// expires_in, and that every failure is one of the package's errors.
func FuzzReadResponse(f *testing.F) {
	b, err := os.ReadFile("testdata/rfc9126-par.json")
	if err != nil {
		f.Fatal(err)
	}
	var v struct {
		Responses []struct {
			Status      int             `json:"status"`
			ContentType string          `json:"content_type"`
			JSON        json.RawMessage `json:"json"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		f.Fatal(err)
	}
	for _, r := range v.Responses {
		f.Add(r.Status, r.ContentType, []byte(r.JSON))
	}
	f.Add(201, "application/json", []byte(`{"request_uri":"https://as.example.com/r/1","expires_in":6e1}`))
	f.Add(201, "application/json", []byte(`{"request_uri":"urn:a:b","request_uri":"urn:a:c","expires_in":1}`))
	f.Add(201, "text/html", []byte(`<html></html>`))
	f.Add(302, "", []byte(nil))
	f.Add(401, "application/json", []byte(`{"error":"invalid_client"}`))

	sent := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{
			StatusCode: status,
			Header:     http.Header{"Content-Type": {contentType}},
			Body:       io.NopCloser(bytes.NewReader(body)),
		}
		r, err := readResponse(resp, DefaultMaxResponseBytes, sent)
		if err == nil {
			if status != http.StatusCreated || r == nil {
				t.Fatalf("success for status %d", status)
			}
			if checkRequestURI(r.RequestURI) != nil {
				t.Fatalf("accepted request_uri %q", r.RequestURI)
			}
			if r.ExpiresIn < time.Second || r.ExpiresIn > MaxExpiresIn || r.ExpiresIn%time.Second != 0 {
				t.Fatalf("accepted expires_in %v", r.ExpiresIn)
			}
			if !r.Expiry.Equal(sent.Add(r.ExpiresIn)) {
				t.Fatalf("expiry %v", r.Expiry)
			}
			return
		}
		if r != nil {
			t.Fatal("response with an error")
		}
		var pe *Error
		switch {
		case errors.As(err, &pe):
			if status == http.StatusCreated || pe.Status != status || len(pe.Description) > oautherr.MaxDescription {
				t.Fatalf("bad *Error for status %d", status)
			}
			if !errors.Is(err, ErrErrorResponse) {
				t.Fatal("*Error is not ErrErrorResponse")
			}
			var oe *oautherr.Error
			if !errors.As(err, &oe) || oe.Code != pe.Code || oe.Status != status {
				t.Fatal("*Error does not unwrap to its OAuth error")
			}
			_ = pe.Error()
		case errors.Is(err, ErrInvalidResponse):
			if status != http.StatusCreated {
				t.Fatalf("ErrInvalidResponse for status %d", status)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
