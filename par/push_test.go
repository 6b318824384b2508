package par_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/par"
)

// TestPush pushes through a client whose transport authenticates: par
// sends the parameters and client_id, the transport adds the credentials.
func TestPush(t *testing.T) {
	t.Parallel()
	srv := newPARServer(t, created)
	c, auth, _ := srv.authConfig(t, false)
	params := pushParams()
	params.Set("dpop_jkt", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
	params["resource"] = []string{"https://rs1.example.com/", "https://rs2.example.com/"}
	params.Set("authorization_details", `[{"type":"account_information"}]`)
	params.Set("prompt", "") // empty: omitted
	before := cloneValues(params)

	resp, err := c.Push(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c", resp.RequestURI)
	require.Equal(t, 60*time.Second, resp.ExpiresIn)
	require.Equal(t, t0.Add(60*time.Second), resp.Expiry)
	require.False(t, resp.Expired(t0.Add(59*time.Second)))
	require.True(t, resp.Expired(t0.Add(60*time.Second)))
	require.Equal(t, before, params, "params must not be modified")
	require.Equal(t, int64(1), auth.calls.Load())

	seen := srv.seen()
	require.Len(t, seen, 1)
	f := seen[0].form
	require.Equal(t, []string{clientID}, f["client_id"])
	for _, k := range []string{"response_type", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "dpop_jkt", "authorization_details"} {
		require.Equal(t, params[k], f[k], k)
	}
	require.Equal(t, params["resource"], f["resource"], "resource repeats (RFC 8707)")
	require.False(t, f.Has("prompt"))
	require.Equal(t, "application/x-www-form-urlencoded", seen[0].header.Get("Content-Type"))
	require.Equal(t, "application/json", seen[0].header.Get("Accept"))

	// The assertion the transport added is a valid JWT signed by the client.
	require.Equal(t, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", f.Get("client_assertion_type"))
	j, err := jose.ParseCompact(f.Get("client_assertion"))
	require.NoError(t, err)
	require.NoError(t, j.Verify(&key(t).PublicKey, jose.DefaultAlgorithms))
}

// TestNoCredentialsAdded pushes with a plain client: what reaches the
// server is the parameters and client_id, and no credential of any kind.
func TestNoCredentialsAdded(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	_, err := srv.config().Push(t.Context(), pushParams())
	require.NoError(t, err)
	_, err = srv.config().PushRequestObject(t.Context(), "eyJhbGciOiJFUzI1NiJ9.e30.sig")
	require.NoError(t, err)

	seen := srv.seen()
	require.Len(t, seen, 2)
	want := pushParams()
	want.Set("client_id", clientID)
	require.Equal(t, want, seen[0].form, "exactly the parameters and client_id")
	require.Equal(t, url.Values{"client_id": {clientID}, "request": {"eyJhbGciOiJFUzI1NiJ9.e30.sig"}}, seen[1].form)
	for _, a := range seen {
		require.False(t, hasCredentials(a.form, a.header))
		require.Empty(t, a.header.Values("Authorization"))
	}
}

// TestDPoPNonceRetry pushes through dpopLike above authTransport, as
// dpop.Transport above AuthTransport: the PAR endpoint answers
// use_dpop_nonce once and rejects a reused assertion jti, so the retry
// succeeds only with the same parameters and a fresh assertion.
func TestDPoPNonceRetry(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		jtis = map[string]bool{}
	)
	srv := newPARServer(t, func(w http.ResponseWriter, r *http.Request) {
		j, err := jose.ParseCompact(r.PostForm.Get("client_assertion"))
		if err != nil || j.Verify(&key(t).PublicKey, jose.DefaultAlgorithms) != nil {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "bad assertion")
			return
		}
		var claims struct {
			JTI string `json:"jti"`
		}
		if json.Unmarshal(j.Payload, &claims) != nil || claims.JTI == "" {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "no jti")
			return
		}
		mu.Lock()
		reused := jtis[claims.JTI]
		jtis[claims.JTI] = true
		mu.Unlock()
		if reused {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "assertion replayed")
			return
		}
		if r.Header.Get("DPoP") != "proof; nonce=server-nonce-1" {
			w.Header().Set("DPoP-Nonce", "server-nonce-1")
			oauthError(w, http.StatusBadRequest, "use_dpop_nonce", "nonce required")
			return
		}
		created(w, r)
	})

	t.Run("fresh assertion per attempt, same body", func(t *testing.T) {
		c, auth, dp := srv.authConfig(t, true)
		params := pushParams()
		params["resource"] = []string{"https://rs1.example.com/", "https://rs2.example.com/"}
		resp, err := c.Push(t.Context(), params)
		require.NoError(t, err)
		require.Equal(t, "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c", resp.RequestURI)
		require.Equal(t, int64(1), dp.retries.Load())
		require.Equal(t, int64(2), auth.calls.Load(), "the transport authenticates each attempt")

		seen := srv.seen()
		require.GreaterOrEqual(t, len(seen), 2)
		first, second := seen[len(seen)-2], seen[len(seen)-1]
		require.NotEqual(t, first.form.Get("client_assertion"), second.form.Get("client_assertion"))
		require.Equal(t, withoutCredentials(first.form), withoutCredentials(second.form), "the retry's body is intact")
		want := cloneValues(params)
		want.Set("client_id", clientID)
		require.Equal(t, want, withoutCredentials(second.form))
		require.Equal(t, "proof; nonce=server-nonce-1", second.header.Get("DPoP"))
	})

	t.Run("replayed assertion is rejected", func(t *testing.T) {
		// A transport that sends the same assertion on both attempts proves
		// the endpoint's replay check bites.
		c, auth, _ := srv.authConfig(t, true)
		a, err := auth.assertion()
		require.NoError(t, err)
		auth.static = a
		_, err = c.Push(t.Context(), pushParams())
		var pe *par.Error
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "invalid_client", pe.Code)
		require.Equal(t, http.StatusUnauthorized, pe.Status)
		require.NotContains(t, err.Error(), a)
	})
}

func withoutCredentials(f url.Values) url.Values {
	out := cloneValues(f)
	out.Del("client_assertion")
	out.Del("client_assertion_type")
	return out
}

// TestUseDPoPNonceWithoutRetry returns use_dpop_nonce to the caller when no
// transport retries, with the nonce in the response header.
func TestUseDPoPNonceWithoutRetry(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("DPoP-Nonce", "n-1")
		oauthError(w, http.StatusBadRequest, "use_dpop_nonce", "")
	})
	_, err := srv.config().Push(t.Context(), pushParams())
	var pe *par.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "use_dpop_nonce", pe.Code)
	require.Equal(t, "n-1", pe.Header.Get("DPoP-Nonce"))
}

// TestTransportError surfaces an error of the client's transport (a key
// store that is down) as ErrRequestFailed wrapping it.
func TestTransportError(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	c, auth, _ := srv.authConfig(t, true)
	errKMS := errors.New("kms unavailable")
	auth.fail = errKMS
	_, err := c.Push(t.Context(), pushParams())
	require.ErrorIs(t, err, par.ErrRequestFailed)
	require.ErrorIs(t, err, errKMS)
	require.Empty(t, srv.seen())
}

// TestMalformedStatusLineBounded pushes to a server that answers with a
// malformed status line of megabytes, with control characters: net/http
// quotes the whole line in its error, which reaches the caller as
// ErrRequestFailed, bounded and sanitized.
func TestMalformedStatusLineBounded(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = buf.WriteString("\x1b[2J" + strings.Repeat("Z", 2<<20) + "\r\n\r\n")
		_ = buf.Flush()
	}))
	t.Cleanup(srv.Close)
	for _, hc := range []*http.Client{nil, srv.Client()} {
		c := &par.Config{Endpoint: srv.URL + "/par", ClientID: "s6BhdRkqt3", HTTPClient: hc, InsecureAllowHTTP: true}
		resp, err := c.Push(t.Context(), pushParams())
		require.Nil(t, resp)
		require.ErrorIs(t, err, par.ErrRequestFailed)
		var ue *url.Error
		require.ErrorAs(t, err, &ue)
		require.LessOrEqual(t, len(err.Error()), 2048, "server text in the error is bounded")
		require.NotContains(t, err.Error(), "\x1b", "server text in the error is sanitized")
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.HandlerFunc(created))
	t.Cleanup(plain.Close)
	const ep = "https://as.example.com/par"
	tests := []struct {
		name   string
		config par.Config
		field  string
	}{
		{name: "no endpoint", config: par.Config{ClientID: clientID}, field: "Config.Endpoint"},
		{name: "relative endpoint", config: par.Config{Endpoint: "/as/par", ClientID: clientID}, field: "Config.Endpoint"},
		{name: "opaque endpoint", config: par.Config{Endpoint: "https:as.example.com", ClientID: clientID}, field: "Config.Endpoint"},
		{name: "http endpoint", config: par.Config{Endpoint: plain.URL, ClientID: clientID}, field: "Config.Endpoint"},
		{name: "other scheme", config: par.Config{Endpoint: "ftp://as.example.com/par", ClientID: clientID, InsecureAllowHTTP: true}, field: "Config.Endpoint"},
		{name: "endpoint with fragment", config: par.Config{Endpoint: ep + "#x", ClientID: clientID}, field: "Config.Endpoint"},
		{name: "endpoint with user info", config: par.Config{Endpoint: "https://u:p@as.example.com/par", ClientID: clientID}, field: "Config.Endpoint"},
		{name: "no client ID", config: par.Config{Endpoint: ep}, field: "Config.ClientID"},
		{name: "negative max bytes", config: par.Config{Endpoint: ep, ClientID: clientID, MaxResponseBytes: -1}, field: "Config.MaxResponseBytes"},
		{name: "negative timeout", config: par.Config{Endpoint: ep, ClientID: clientID, Timeout: -1}, field: "Config.Timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.config
			resp, err := c.Push(t.Context(), pushParams())
			require.Nil(t, resp)
			require.ErrorIs(t, err, par.ErrInvalidConfig)
			var ce *par.ConfigError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, tc.field, ce.Field)
			require.NotEmpty(t, ce.Reason)
			require.Equal(t, "par: invalid configuration: "+ce.Field+": "+ce.Reason, err.Error())
			_, err = c.PushRequestObject(t.Context(), "a.b.c")
			require.ErrorIs(t, err, par.ErrInvalidConfig)
		})
	}

	t.Run("http allowed by name", func(t *testing.T) {
		t.Parallel()
		c := &par.Config{Endpoint: plain.URL, ClientID: clientID, InsecureAllowHTTP: true, Now: fixedNow}
		resp, err := c.Push(t.Context(), pushParams())
		require.NoError(t, err)
		require.Equal(t, 60*time.Second, resp.ExpiresIn)
	})
}

func TestParameterErrors(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	with := func(k string, v ...string) url.Values {
		p := pushParams()
		p[k] = v
		return p
	}
	tests := []struct {
		name   string
		params url.Values
	}{
		{name: "request_uri", params: with("request_uri", "urn:ietf:params:oauth:request_uri:x")},
		{name: "other client_id", params: with("client_id", "evil")},
		{name: "client_id twice", params: with("client_id", clientID, clientID)},
		{name: "duplicate state", params: with("state", "a", "b")},
		{name: "empty name", params: with("", "x")},
		{name: "client_secret", params: with("client_secret", "s3cr3t")},
		{name: "client_assertion", params: with("client_assertion", "eyJ.a.b")},
		{name: "client_assertion_type", params: with("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := srv.config().Push(t.Context(), tc.params)
			require.Nil(t, resp)
			require.ErrorIs(t, err, par.ErrInvalidParameter)
			require.NotContains(t, err.Error(), "s3cr3t")
			require.NotContains(t, err.Error(), "eyJ.a.b")
		})
	}
	_, err := srv.config().PushRequestObject(t.Context(), "")
	require.ErrorIs(t, err, par.ErrInvalidParameter)
	require.Empty(t, srv.seen(), "nothing may be sent")
}

func TestClientIDInParamsAccepted(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	p := pushParams()
	p.Set("client_id", clientID)
	_, err := srv.config().Push(t.Context(), p)
	require.NoError(t, err)
	require.Equal(t, []string{clientID}, srv.seen()[0].form["client_id"])
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := newPlainPARServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})

	t.Run("context deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := srv.config().Push(ctx, pushParams())
		require.ErrorIs(t, err, par.ErrRequestFailed)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("config timeout", func(t *testing.T) {
		c := srv.config()
		c.Timeout = 50 * time.Millisecond
		_, err := c.Push(t.Context(), pushParams())
		require.ErrorIs(t, err, par.ErrRequestFailed)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := srv.config().Push(ctx, pushParams())
		require.ErrorIs(t, err, context.Canceled)
	})
}

// TestSlowBody answers 201 at once and then stalls the body past the
// deadline.
func TestSlowBody(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := newPlainPARServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"request_uri":`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	c := srv.config()
	c.Timeout = 100 * time.Millisecond
	_, err := c.Push(t.Context(), pushParams())
	require.ErrorIs(t, err, par.ErrRequestFailed)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestConcurrentPush(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	c, _, _ := srv.authConfig(t, false)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.Push(context.Background(), pushParams())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	seen := map[string]bool{}
	for _, a := range srv.seen() {
		as := a.form.Get("client_assertion")
		require.False(t, seen[as])
		seen[as] = true
	}
	require.Len(t, seen, 20)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestDefaultClient pushes with a nil HTTPClient, which means the module's
// default client.
func TestDefaultClient(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	c := srv.config()
	c.HTTPClient = nil
	for range 2 {
		resp, err := c.Push(t.Context(), pushParams())
		require.NoError(t, err)
		require.Equal(t, time.Minute, resp.ExpiresIn)
	}
}
