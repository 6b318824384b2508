package authserver_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

// TestConcurrentFlows runs whole flows from many goroutines against one
// server; run it with -race.
func TestConcurrentFlows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *authserver.Config) { c.DPoPNonce = authserver.NonceOptional })
	ep := e.srv.Endpoints()
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			verifier, challenge := pkce()
			form := url.Values{"response_type": {"code"}, "redirect_uri": {redirectURI}, "code_challenge": {challenge},
				"code_challenge_method": {"S256"}, "state": {"s"}}
			r := postNoT(e.hc, ep.PAR, form, basicAuth(basicID, basicSecret))
			if r.status != http.StatusCreated {
				errs <- "PAR failed"
				return
			}
			uri := jsonField(r.body, "request_uri")
			cb, err := e.srv.Authorize(context.Background(), e.authorizeURL(url.Values{"client_id": {basicID}, "request_uri": {uri}}))
			if err != nil {
				errs <- err.Error()
				return
			}
			tf := url.Values{"grant_type": {"authorization_code"}, "code": {cb.Params().Get("code")}, "code_verifier": {verifier}, "redirect_uri": {redirectURI}}
			r = postNoT(e.hc, ep.Token, tf, basicAuth(basicID, basicSecret))
			if r.status != http.StatusOK {
				errs <- "token failed: " + string(r.body)
				return
			}
			rt := jsonField(r.body, "refresh_token")
			r = postNoT(e.hc, ep.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, basicAuth(basicID, basicSecret))
			if r.status != http.StatusOK {
				errs <- "refresh failed: " + string(r.body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
