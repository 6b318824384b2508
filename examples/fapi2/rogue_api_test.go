package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/authserver"
)

// TestRunRogueAPIEchoesCredentials runs the flags against an API that
// answers with what the client sent it: the access token and the DPoP
// proof, whole, in its body, with a success status and with an error
// status. The program prints what an API answers (bounded and escaped), but
// never a token or a proof: whatever the API chose to echo, no 16-byte
// piece of the access token, nor the proof, reaches stdout or stderr.
func TestRunRogueAPIEchoesCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		echo   func(token, proof string) string
	}{
		{name: "200 echoing the token", status: http.StatusOK, echo: func(tok, _ string) string { return tok }},
		{name: "200 echoing the Authorization header", status: http.StatusOK, echo: func(tok, _ string) string { return `{"you_sent":"DPoP ` + tok + `"}` }},
		{name: "200 echoing the proof", status: http.StatusOK, echo: func(_, proof string) string { return `{"proof":"` + proof + `"}` }},
		{name: "401 echoing the token", status: http.StatusUnauthorized, echo: func(tok, _ string) string { return `invalid token ` + tok }},
		{name: "403 echoing the proof", status: http.StatusForbidden, echo: func(_, proof string) string { return proof }},
		{name: "500 echoing a cut token", status: http.StatusInternalServerError, echo: func(tok, _ string) string { return "x" + tok[3:len(tok)-3] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pki, err := authserver.NewPKI()
			require.NoError(t, err)
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			require.NoError(t, err)
			const redirect = "https://app.example/cb"
			srv, err := authserver.StartTLS(authserver.Config{
				PKI: pki,
				Clients: []authserver.Client{{
					ID: "rogue-api-victim", AuthMethod: authserver.AuthPrivateKeyJWT, Keys: []crypto.PublicKey{key.Public()},
					RedirectURIs: []string{redirect}, RequirePAR: true, RequireSignedRequestObject: true, RequireDPoP: true,
				}},
			})
			require.NoError(t, err)
			t.Cleanup(srv.Close)

			var mu sync.Mutex
			var sent []string // every access token and proof the API received
			api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tok := strings.TrimPrefix(r.Header.Get("Authorization"), "DPoP ")
				proof := r.Header.Get("DPoP")
				mu.Lock()
				sent = append(sent, tok, proof)
				mu.Unlock()
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.echo(tok, proof)))
			}))
			cert, err := pki.IssueServerCertificate("127.0.0.1")
			require.NoError(t, err)
			api.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
			api.StartTLS()
			t.Cleanup(api.Close)

			keyFile, caFile := writeKeyAndCA(t, key, pki)

			var out, errOut bytes.Buffer
			code := run(t.Context(), []string{
				"-issuer", srv.Issuer(), "-client-id", "rogue-api-victim", "-key", keyFile, "-ca", caFile,
				"-redirect-uri", redirect, "-response-mode", "query", "-api", api.URL + "/me",
			}, &out, &errOut)
			if tc.status/100 == 2 {
				require.Equal(t, 0, code, errOut.String())
			} else {
				require.Equal(t, 1, code, out.String())
				require.Regexp(t, `^fapi2: api [^\n]+\n$`, errOut.String(), "one line")
			}
			mu.Lock()
			defer mu.Unlock()
			require.NotEmpty(t, sent)
			printed := out.String() + errOut.String()
			for _, s := range sent {
				require.NotEmpty(t, s)
				for i := 0; i+16 <= len(s); i++ {
					require.NotContains(t, printed, s[i:i+16], "a piece of a token or proof the API echoed was printed")
				}
			}
		})
	}
}

// TestRedact holds redact to its cases: the token whole, form-encoded or
// cut, and JWT-shaped runs (with or without their dots) are not printed;
// other text is kept.
func TestRedact(t *testing.T) {
	t.Parallel()
	const tok = "Zm9vYmFyYmF6cXV4cXV1eHF1dXpmb29iYXI/+x"
	for _, tc := range []struct{ name, in, want string }{
		{"no secret", `{"sub":"alice"}`, `{"sub":"alice"}`},
		{"token whole", "bad token " + tok + " here", "bad token [redacted] here"},
		{"token form-encoded", "t=" + url.QueryEscape(tok), "t=[redacted]"},
		{"token cut", "t=" + tok[2:20], "[withheld: the answer echoes the access token]"},
		{"JWS", "proof eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln end", "proof [redacted] end"},
		{"JWS cut before its dot", "p=eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2In0", "p=[redacted]"},
		{"two JWTs", "eyJa.b eyJc.d", "[redacted] [redacted]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, redact(tc.in, tok))
		})
	}
}
