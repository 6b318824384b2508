package httpx

import (
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDefaultClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var targetHits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		targetHits.Add(1)
	}))
	t.Cleanup(target.Close)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			src := httptest.NewServer(http.RedirectHandler(target.URL, status))
			t.Cleanup(src.Close)
			for name, c := range map[string]*http.Client{"DefaultClient": DefaultClient(), "Client(nil)": Client(nil)} {
				resp, err := c.Post(src.URL, "application/x-www-form-urlencoded", nil)
				require.NoError(t, err, name)
				DrainClose(resp.Body)
				require.Equal(t, status, resp.StatusCode, name)
				require.Equal(t, target.URL, resp.Header.Get("Location"), name)
			}
		})
	}
	t.Cleanup(func() { require.Zero(t, targetHits.Load()) })
}

func TestClient(t *testing.T) {
	t.Parallel()
	mine := &http.Client{Timeout: time.Second}
	got := Client(mine)
	require.NotSame(t, mine, got, "a caller's client is copied, never changed")
	require.Nil(t, mine.CheckRedirect)
	require.Equal(t, time.Second, got.Timeout)
	require.ErrorIs(t, got.CheckRedirect(nil, nil), http.ErrUseLastResponse, "no redirect is followed, whatever client the caller hands in")
	require.Same(t, Transport(nil), Transport(nil))
	require.Same(t, Client(nil).Transport, Transport(nil))
	rt := &http.Transport{}
	require.Same(t, rt, Transport(rt))
	require.Same(t, Client(nil), Client(nil), "the default client is shared, so connections are reused")
	require.NotSame(t, DefaultClient(), DefaultClient())

	c := DefaultClient()
	require.Equal(t, DefaultTimeout, c.Timeout)
	tr, ok := c.Transport.(*http.Transport)
	require.True(t, ok)
	require.NotZero(t, tr.TLSHandshakeTimeout)
	require.NotZero(t, tr.ResponseHeaderTimeout)
	require.Equal(t, uint16(tls.VersionTLS12), tr.TLSClientConfig.MinVersion)
	require.NotSame(t, DefaultTransport().TLSClientConfig, DefaultTransport().TLSClientConfig, "each transport may change its own TLS settings")
}

func TestDefaultTLSConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		max     uint16
		suites  []uint16
		success bool
	}{
		{"TLS 1.3", tls.VersionTLS13, nil, true},
		{"TLS 1.2 with ECDHE-RSA-AES128-GCM", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, true},
		{"TLS 1.2 with ECDHE-RSA-AES256-GCM", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, true},
		{"TLS 1.2 with ECDHE-RSA-CHACHA20 only", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305}, false},
		{"TLS 1.2 with ECDHE-RSA-AES128-CBC only", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}, false},
		{"TLS 1.1", tls.VersionTLS11, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			srv.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tc.max, CipherSuites: tc.suites}
			srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are expected
			srv.StartTLS()
			t.Cleanup(srv.Close)
			tr := DefaultTransport()
			tr.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
			if tc.success {
				require.NoError(t, err)
				DrainClose(resp.Body)
				return
			}
			require.Error(t, err)
		})
	}
}
