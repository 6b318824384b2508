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
	"golang.org/x/oauth2"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/par"
)

func TestPush(t *testing.T) {
	t.Parallel()
	srv := newPARServer(t, created)
	auth := newPrivateKeyJWT(t, srv.URL)
	c := srv.config(auth)
	params := pushParams()
	params.Set("dpop_jkt", "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
	params["resource"] = []string{"https://rs1.example.com/", "https://rs2.example.com/"}
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

	seen := srv.seen()
	require.Len(t, seen, 1)
	f := seen[0].form
	require.Equal(t, clientID, f.Get("client_id"))
	for _, k := range []string{"response_type", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "dpop_jkt"} {
		require.Equal(t, params.Get(k), f.Get(k), k)
	}
	require.Equal(t, params["resource"], f["resource"])
	require.False(t, f.Has("prompt"))
	require.Equal(t, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", f.Get("client_assertion_type"))
	require.Equal(t, "application/x-www-form-urlencoded", seen[0].header.Get("Content-Type"))
	require.Equal(t, "application/json", seen[0].header.Get("Accept"))
	require.Equal(t, "1", seen[0].header.Get("X-Auth-Call"))

	// The assertion is a valid JWT signed by the client.
	j, err := jose.ParseCompact(f.Get("client_assertion"))
	require.NoError(t, err)
	require.NoError(t, j.Verify(&key(t).PublicKey, jose.DefaultAlgorithms))
}

func TestAuthCodeURLFromPush(t *testing.T) {
	t.Parallel()
	srv := newPARServer(t, created)
	c := srv.config(noAuth)
	resp, err := c.Push(t.Context(), pushParams())
	require.NoError(t, err)
	u := par.AuthCodeURL("https://as.example.com/authorize", c.ClientID, resp)
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	require.Equal(t, url.Values{"client_id": {clientID}, "request_uri": {resp.RequestURI}}, parsed.Query())
}

// TestDPoPNonceRetry pushes through a DPoP-like transport: the PAR endpoint
// answers use_dpop_nonce once and rejects a reused assertion jti, so the
// retry only succeeds with a freshly authenticated body.
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

	t.Run("fresh assertion per attempt", func(t *testing.T) {
		auth := newPrivateKeyJWT(t, srv.URL)
		dp := &dpopLike{base: srv.Client().Transport}
		c := srv.config(auth)
		c.HTTPClient = &http.Client{Transport: dp}
		resp, err := c.Push(t.Context(), pushParams())
		require.NoError(t, err)
		require.Equal(t, "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c", resp.RequestURI)
		require.Equal(t, int64(1), dp.retries.Load())
		require.Equal(t, int64(2), auth.calls.Load(), "Authenticate runs once per attempt")

		seen := srv.seen()
		require.GreaterOrEqual(t, len(seen), 2)
		first, second := seen[len(seen)-2], seen[len(seen)-1]
		require.NotEqual(t, first.form.Get("client_assertion"), second.form.Get("client_assertion"))
		require.Equal(t, first.form.Get("state"), second.form.Get("state"))
		// The first call's headers travel with the retry; the second call's
		// header map is thrown away.
		require.Equal(t, "1", first.header.Get("X-Auth-Call"))
		require.Equal(t, "1", second.header.Get("X-Auth-Call"))
		require.Equal(t, "proof; nonce=server-nonce-1", second.header.Get("DPoP"))
	})

	t.Run("replayed assertion is rejected", func(t *testing.T) {
		// A ClientAuth that sends the same assertion twice proves the
		// endpoint's replay check bites.
		inner := newPrivateKeyJWT(t, srv.URL)
		form := url.Values{}
		require.NoError(t, inner.Authenticate(form, http.Header{}))
		static := par.ClientAuthFunc(func(f url.Values, _ http.Header) error {
			f.Set("client_assertion_type", form.Get("client_assertion_type"))
			f.Set("client_assertion", form.Get("client_assertion"))
			return nil
		})
		c := srv.config(static)
		c.HTTPClient = &http.Client{Transport: &dpopLike{base: srv.Client().Transport}}
		_, err := c.Push(t.Context(), pushParams())
		var pe *par.Error
		require.ErrorAs(t, err, &pe)
		require.Equal(t, "invalid_client", pe.ErrorCode)
		require.Equal(t, http.StatusUnauthorized, pe.Status)
		require.NotContains(t, err.Error(), form.Get("client_assertion"))
	})
}

// TestUseDPoPNonceWithoutRetry returns use_dpop_nonce to the caller when no
// transport retries, with the nonce reachable through the response.
func TestUseDPoPNonceWithoutRetry(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("DPoP-Nonce", "n-1")
		oauthError(w, http.StatusBadRequest, "use_dpop_nonce", "")
	})
	_, err := srv.config(noAuth).Push(t.Context(), pushParams())
	var pe *par.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "use_dpop_nonce", pe.ErrorCode)
	require.Equal(t, "n-1", pe.Response.Header.Get("DPoP-Nonce"))
}

// growingAuth adds a credential one byte longer on every call.
type growingAuth struct {
	mu sync.Mutex
	n  int
}

func (g *growingAuth) Authenticate(form url.Values, _ http.Header) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	form.Set("client_secret", strings.Repeat("s", g.n))
	return nil
}

func TestBodyChangedOnRetry(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("DPoP") == "proof; nonce=" {
			w.Header().Set("DPoP-Nonce", "x")
			oauthError(w, http.StatusBadRequest, "use_dpop_nonce", "")
			return
		}
		created(w, r)
	})
	c := srv.config(&growingAuth{})
	c.HTTPClient = &http.Client{Transport: &dpopLike{base: srv.Client().Transport}}
	_, err := c.Push(t.Context(), pushParams())
	require.ErrorIs(t, err, par.ErrRequestFailed)
	require.ErrorIs(t, err, par.ErrBodyChanged)
}

func TestRetryAuthError(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("DPoP-Nonce", "x")
		oauthError(w, http.StatusBadRequest, "use_dpop_nonce", "")
	})
	errKMS := errors.New("kms unavailable")
	calls := 0
	auth := par.ClientAuthFunc(func(f url.Values, _ http.Header) error {
		calls++
		if calls > 1 {
			return errKMS
		}
		return nil
	})
	c := srv.config(auth)
	c.HTTPClient = &http.Client{Transport: &dpopLike{base: srv.Client().Transport}}
	_, err := c.Push(t.Context(), pushParams())
	require.ErrorIs(t, err, par.ErrClientAuth)
	require.ErrorIs(t, err, errKMS)
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	plain := httptest.NewServer(http.HandlerFunc(created))
	t.Cleanup(plain.Close)
	tests := []struct {
		name   string
		config par.Config
		err    error
	}{
		{name: "no endpoint", config: par.Config{ClientID: clientID, ClientAuth: noAuth}, err: par.ErrInvalidConfig},
		{name: "relative endpoint", config: par.Config{Endpoint: "/as/par", ClientID: clientID, ClientAuth: noAuth}, err: par.ErrInvalidConfig},
		{name: "http endpoint", config: par.Config{Endpoint: plain.URL, ClientID: clientID, ClientAuth: noAuth}, err: par.ErrInvalidConfig},
		{name: "endpoint with fragment", config: par.Config{Endpoint: "https://as.example.com/par#x", ClientID: clientID, ClientAuth: noAuth}, err: par.ErrInvalidConfig},
		{name: "endpoint with user info", config: par.Config{Endpoint: "https://u:p@as.example.com/par", ClientID: clientID, ClientAuth: noAuth}, err: par.ErrInvalidConfig},
		{name: "no client ID", config: par.Config{Endpoint: "https://as.example.com/par", ClientAuth: noAuth}, err: par.ErrInvalidConfig},
		{name: "no client auth", config: par.Config{Endpoint: "https://as.example.com/par", ClientID: clientID}, err: par.ErrInvalidConfig},
		{name: "negative max bytes", config: par.Config{Endpoint: "https://as.example.com/par", ClientID: clientID, ClientAuth: noAuth, MaxResponseBytes: -1}, err: par.ErrInvalidConfig},
		{name: "negative timeout", config: par.Config{Endpoint: "https://as.example.com/par", ClientID: clientID, ClientAuth: noAuth, Timeout: -1}, err: par.ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.config
			resp, err := c.Push(t.Context(), pushParams())
			require.Nil(t, resp)
			require.ErrorIs(t, err, tc.err)
		})
	}

	t.Run("http allowed by name", func(t *testing.T) {
		t.Parallel()
		c := &par.Config{Endpoint: plain.URL, ClientID: clientID, ClientAuth: noAuth, InsecureAllowHTTP: true, Now: fixedNow}
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
		auth   par.ClientAuth
		err    error
	}{
		{name: "request_uri", params: with("request_uri", "urn:ietf:params:oauth:request_uri:x"), err: par.ErrRequestURINotAllowed},
		{name: "request_uri added by auth", params: pushParams(), auth: par.ClientAuthFunc(func(f url.Values, _ http.Header) error {
			f.Set("request_uri", "urn:x:y")
			return nil
		}), err: par.ErrRequestURINotAllowed},
		{name: "other client_id", params: with("client_id", "evil"), err: par.ErrClientIDMismatch},
		{name: "client_id changed by auth", params: pushParams(), auth: par.ClientAuthFunc(func(f url.Values, _ http.Header) error {
			f.Set("client_id", "evil")
			return nil
		}), err: par.ErrClientIDMismatch},
		{name: "client_id repeated by auth", params: pushParams(), auth: par.ClientAuthFunc(func(f url.Values, _ http.Header) error {
			f.Add("client_id", clientID)
			return nil
		}), err: par.ErrClientIDMismatch},
		{name: "duplicate state", params: with("state", "a", "b"), err: par.ErrDuplicateParameter},
		{name: "empty name", params: with("", "x"), err: par.ErrInvalidParameter},
		{name: "auth fails", params: pushParams(), auth: par.ClientAuthFunc(func(url.Values, http.Header) error {
			return errors.New("no key")
		}), err: par.ErrClientAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			auth := tc.auth
			if auth == nil {
				auth = noAuth
			}
			resp, err := srv.config(auth).Push(t.Context(), tc.params)
			require.Nil(t, resp)
			require.ErrorIs(t, err, tc.err)
		})
	}
	require.Empty(t, srv.seen(), "nothing may be sent")

	_, err := srv.config(noAuth).PushRequestObject(t.Context(), "")
	require.ErrorIs(t, err, par.ErrInvalidParameter)
}

func TestClientIDInParamsAccepted(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	p := pushParams()
	p.Set("client_id", clientID)
	_, err := srv.config(noAuth).Push(t.Context(), p)
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
		_, err := srv.config(noAuth).Push(ctx, pushParams())
		require.ErrorIs(t, err, par.ErrRequestFailed)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("config timeout", func(t *testing.T) {
		c := srv.config(noAuth)
		c.Timeout = 50 * time.Millisecond
		_, err := c.Push(t.Context(), pushParams())
		require.ErrorIs(t, err, par.ErrRequestFailed)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := srv.config(noAuth).Push(ctx, pushParams())
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
	c := srv.config(noAuth)
	c.Timeout = 100 * time.Millisecond
	_, err := c.Push(t.Context(), pushParams())
	require.ErrorIs(t, err, par.ErrRequestFailed)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestConcurrentPush(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	auth := newPrivateKeyJWT(t, srv.URL)
	c := srv.config(auth)
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

func TestAuthCodeParams(t *testing.T) {
	t.Parallel()
	srv := newPlainPARServer(t, created)
	conf := &oauth2.Config{
		ClientID:    clientID,
		RedirectURL: "https://client.example.org/cb",
		Scopes:      []string{"openid"},
		Endpoint:    oauth2.Endpoint{AuthURL: "https://as.example.com/authorize?x=1", TokenURL: "https://as.example.com/token"},
	}
	v := oauth2.GenerateVerifier()
	params := par.AuthCodeParams(conf, "st", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("dpop_jkt", "jkt"))
	require.Equal(t, url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {"https://client.example.org/cb"},
		"scope": {"openid"}, "state": {"st"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(v)},
		"code_challenge_method": {"S256"}, "dpop_jkt": {"jkt"},
	}, params)
	_, err := srv.config(noAuth).Push(t.Context(), params)
	require.NoError(t, err)
	require.Equal(t, "jkt", srv.seen()[0].form.Get("dpop_jkt"))
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
	c := srv.config(noAuth)
	c.HTTPClient = nil
	for range 2 {
		resp, err := c.Push(t.Context(), pushParams())
		require.NoError(t, err)
		require.Equal(t, time.Minute, resp.ExpiresIn)
	}
}
