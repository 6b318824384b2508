package mtlsbound_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hardened-oauth/hardened/internal/httpx"
	"github.com/hardened-oauth/hardened/mtlsbound"
)

const (
	testAudience = "https://rs.example"
	testClientID = "client-1"
)

var errBadJWT = errors.New("test: bad access token")

// testAS is a minimal authorization server: the client_credentials grant
// with self_signed_tls_client_auth (RFC 8705 §2.2), issuing ES256 JWT
// access tokens (RFC 9068 shape) bound to the presented certificate.
type testAS struct {
	key     *ecdsa.PrivateKey
	issuer  string
	clients map[string]string // client_id → registered x5t#S256
}

func (as *testAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"error":%q}`, code)
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if r.Method != http.MethodPost || r.URL.Path != "/token" || r.ParseForm() != nil {
		fail(http.StatusBadRequest, "invalid_request")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		fail(http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	clientID := r.PostForm.Get("client_id")
	registered, ok := as.clients[clientID]
	if !ok || r.TLS == nil || len(r.TLS.PeerCertificates) == 0 ||
		mtlsbound.Thumbprint(r.TLS.PeerCertificates[0]) != registered {
		fail(http.StatusUnauthorized, "invalid_client")
		return
	}
	now := time.Now()
	claims, err := json.Marshal(map[string]any{
		"iss":       as.issuer,
		"sub":       clientID,
		"client_id": clientID,
		"aud":       testAudience,
		"iat":       now.Unix(),
		"exp":       now.Add(5 * time.Minute).Unix(),
		"jti":       rand.Text(),
		// RFC 8705 §3.1: bound to the certificate of this TLS connection.
		"cnf": map[string]string{"x5t#S256": mtlsbound.Thumbprint(r.TLS.PeerCertificates[0])},
	})
	if err != nil {
		fail(http.StatusInternalServerError, "server_error")
		return
	}
	tok, err := signES256(as.key, []byte(`{"alg":"ES256","typ":"at+jwt"}`), claims)
	if err != nil {
		fail(http.StatusInternalServerError, "server_error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300})
}

var b64url = base64.RawURLEncoding

// signES256 builds a compact JWS with the standard library only.
func signES256(key *ecdsa.PrivateKey, header, payload []byte) (string, error) {
	input := b64url.EncodeToString(header) + "." + b64url.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64url.EncodeToString(sig), nil
}

// verifyAccessToken is the resource server's Verifier.Token: it checks an
// ES256 at+jwt with the standard library and returns its claims.
func verifyAccessToken(pub *ecdsa.PublicKey, issuer string) func(context.Context, string) (json.RawMessage, error) {
	return func(_ context.Context, tok string) (json.RawMessage, error) {
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			return nil, errBadJWT
		}
		hdr, err := b64url.DecodeString(parts[0])
		if err != nil {
			return nil, errBadJWT
		}
		var h struct{ Alg, Typ string }
		if json.Unmarshal(hdr, &h) != nil || h.Alg != "ES256" || h.Typ != "at+jwt" {
			return nil, errBadJWT
		}
		sig, err := b64url.DecodeString(parts[2])
		if err != nil || len(sig) != 64 {
			return nil, errBadJWT
		}
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return nil, errBadJWT
		}
		payload, err := b64url.DecodeString(parts[1])
		if err != nil {
			return nil, errBadJWT
		}
		var c struct {
			Iss string `json:"iss"`
			Aud string `json:"aud"`
			Exp int64  `json:"exp"`
		}
		if json.Unmarshal(payload, &c) != nil || c.Iss != issuer || c.Aud != testAudience || time.Now().Unix() >= c.Exp {
			return nil, errBadJWT
		}
		return payload, nil
	}
}

// TestDoneWhen: tokens issued by an mTLS authorization server through
// x/oauth2's client_credentials code come back bound to the client's
// certificate; the resource server's middleware accepts them with that
// certificate and refuses them with any other, or none.
func TestDoneWhen(t *testing.T) {
	t.Parallel()
	certA := newCert(t, "client-a")
	certB := newCert(t, "client-b")
	asKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	as := &testAS{key: asKey, clients: map[string]string{testClientID: mtlsbound.Thumbprint(certA.Leaf)}}
	asSrv := newTLSServer(t, as)
	as.issuer = asSrv.URL

	var rec errRecorder
	rsVerifier := &mtlsbound.Verifier{Token: verifyAccessToken(&asKey.PublicKey, asSrv.URL), OnError: rec.record}
	rsSrv := newTLSServer(t, rsVerifier.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, ok := mtlsbound.FromContext(r.Context())
		if !ok {
			http.Error(w, "no result", http.StatusInternalServerError)
			return
		}
		_, _ = fmt.Fprint(w, res.Thumbprint)
	})))

	pool := serverPool(asSrv)
	pool.AddCert(rsSrv.Certificate())
	mtlsClient := func(c testCert) *http.Client {
		hc, err := (&mtlsbound.Client{Certificate: c.TLS, RootCAs: pool, Timeout: 10 * time.Second}).HTTPClient()
		require.NoError(t, err)
		t.Cleanup(hc.CloseIdleConnections)
		return hc
	}
	hcA, hcB := mtlsClient(certA), mtlsClient(certB)

	cc := &clientcredentials.Config{
		ClientID:  testClientID,
		TokenURL:  asSrv.URL + "/token",
		AuthStyle: oauth2.AuthStyleInParams, // tls_client_auth: client_id only, no secret
	}
	ctxA := context.WithValue(t.Context(), oauth2.HTTPClient, hcA)
	tok, err := cc.Token(ctxA)
	require.NoError(t, err)
	// Nothing changes for the caller: an ordinary Bearer token...
	require.Equal(t, "Bearer", tok.Type())
	// ...that is bound to certificate A.
	claims, err := verifyAccessToken(&asKey.PublicKey, asSrv.URL)(t.Context(), tok.AccessToken)
	require.NoError(t, err)
	conf, err := mtlsbound.ConfirmationFromClaims(claims)
	require.NoError(t, err)
	require.Equal(t, mtlsbound.Thumbprint(certA.Leaf), conf.X5TS256)

	// The AS authenticates the client by its certificate too.
	_, err = cc.Token(context.WithValue(t.Context(), oauth2.HTTPClient, hcB))
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "invalid_client", re.ErrorCode)

	plain := clientFor(t, rsSrv, nil)

	tests := []struct {
		name       string
		base       *http.Client
		wantStatus int
		wantErr    error
	}{
		{name: "same certificate", base: hcA, wantStatus: http.StatusOK},
		{name: "other certificate", base: hcB, wantStatus: http.StatusUnauthorized, wantErr: mtlsbound.ErrBindingMismatch},
		{name: "no certificate", base: plain, wantStatus: http.StatusUnauthorized, wantErr: mtlsbound.ErrNoCertificate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the cases share rec.
			ctx := context.WithValue(t.Context(), oauth2.HTTPClient, tc.base)
			resp, err := oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok)).Get(rsSrv.URL + "/data")
			require.NoError(t, err)
			body, err := httpx.ReadBody(resp.Body, 4096)
			require.NoError(t, err)
			drain(resp)
			require.Equal(t, tc.wantStatus, resp.StatusCode)
			if tc.wantErr == nil {
				require.Equal(t, mtlsbound.Thumbprint(certA.Leaf), string(body))
				return
			}
			require.Equal(t, `Bearer error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
			require.ErrorIs(t, rec.last(t), tc.wantErr)
		})
	}

	// A forged token (signed by another key) is refused before the binding.
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	forged, err := signES256(otherKey, []byte(`{"alg":"ES256","typ":"at+jwt"}`), claims)
	require.NoError(t, err)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, hcA)
	resp, err := oauth2.NewClient(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: forged, TokenType: "Bearer"})).Get(rsSrv.URL + "/data")
	require.NoError(t, err)
	drain(resp)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	err = rec.last(t)
	require.ErrorIs(t, err, mtlsbound.ErrInvalidToken)
	require.ErrorIs(t, err, errBadJWT)
}
