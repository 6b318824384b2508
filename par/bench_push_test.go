package par_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hardened-oauth/hardened/internal/httpx"
)

// BenchmarkPush pushes over loopback HTTP to a PAR endpoint that answers
// 201 at once, through a transport that adds a private_key_jwt client
// assertion (ES256) per push.
func BenchmarkPush(b *testing.B) {
	srv := newServer(created)
	srv.Start()
	defer srv.Close()
	c, _, _ := srv.authConfig(b, false)
	params := pushParams()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Push(ctx, params); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselinePost is the same exchange done by hand: sign an
// assertion, POST the form with net/http, read the body. No validation.
func BenchmarkBaselinePost(b *testing.B) {
	srv := newServer(created)
	srv.Start()
	defer srv.Close()
	auth := newAuthTransport(b, nil, srv.URL)
	hc := srv.Client()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		form := pushParams()
		form.Set("client_id", clientID)
		assertion, err := auth.assertion()
		if err != nil {
			b.Fatal(err)
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := httpx.ReadBody(resp.Body, 64<<10); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}
