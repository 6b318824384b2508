package dpop

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened/internal/jose"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// TestRFC9449Proofs verifies the three signed proofs of RFC 9449 (Figures
// 2/5, 7 and 13) with the verifier, its clock set to each proof's iat. They
// pass every check, htu included: the verifiers are configured with the
// RFC's origins (server.example.com, resource.example.org). Nonce checks
// are off: the spec's proofs carry no nonce.
func TestRFC9449Proofs(t *testing.T) {
	t.Parallel()
	v := loadRFC(t)
	var jwk struct{ X, Y string }
	require.NoError(t, json.Unmarshal(v.PublicJWK.JWK, &jwk))
	const rfcJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" // RFC 9449 §6.1 Figure 9
	require.Equal(t, rfcJKT, v.PublicJWK.JKT.Value)
	const as = "https://server.example.com"
	tokenRequest := func(proof, htm string) *http.Request {
		r := httptest.NewRequest(htm, "/token", nil)
		r.Header.Set("DPoP", proof)
		return r
	}

	t.Run("token request (Figure 2)", func(t *testing.T) {
		t.Parallel()
		proof, htm, _, iat := v.proof(t, "token_request_proof")
		ver := &Verifier{BaseURL: as, Now: clock(time.Unix(iat, 0))}
		p, err := ver.VerifyProof(tokenRequest(proof, htm))
		require.NoError(t, err)
		require.Equal(t, rfcJKT, p.JKT)
		require.Equal(t, "-BwC3ESc6acc2lTc", p.ID)
		require.Equal(t, "POST", p.Method)
		require.Equal(t, "https://server.example.com/token", p.URI)
		require.Equal(t, int64(1562262616), p.IssuedAt.Unix())
	})

	t.Run("refresh request (Figure 7) reuses Figure 2's jti", func(t *testing.T) {
		t.Parallel()
		proof, htm, _, iat := v.proof(t, "refresh_token_request_proof")
		ver := &Verifier{BaseURL: as, Now: clock(time.Unix(iat, 0))}
		p, err := ver.VerifyProof(tokenRequest(proof, htm))
		require.NoError(t, err)
		require.Equal(t, rfcJKT, p.JKT)

		// Both figures use the jti "-BwC3ESc6acc2lTc" with the same key,
		// 2680 s apart. One server that keeps jtis for that long (MaxAge
		// 1 h here) must treat the second as a replay, as RFC 9449 §11.1
		// asks.
		first, _, _, iat2 := v.proof(t, "token_request_proof")
		clk := &movableClock{t: time.Unix(iat2, 0)}
		long := &Verifier{BaseURL: as, Now: clk.Now, MaxAge: time.Hour}
		_, err = long.VerifyProof(tokenRequest(first, htm))
		require.NoError(t, err)
		clk.Advance(time.Duration(iat-iat2) * time.Second)
		_, err = long.VerifyProof(tokenRequest(proof, htm))
		require.ErrorIs(t, err, ErrReplay)
	})

	t.Run("resource request (Figure 13) with ath and cnf.jkt", func(t *testing.T) {
		t.Parallel()
		proof, htm, htu, iat := v.proof(t, "resource_request_proof")
		require.Equal(t, v.ATH.ATH, AccessTokenHash(v.ATH.AccessToken), "RFC 9449 Figure 14 ath")
		ver := &Verifier{BaseURL: "https://resource.example.org", Now: clock(time.Unix(iat, 0))}
		b := &binding{token: v.ATH.AccessToken, cnf: Confirmation{JKT: rfcJKT}}
		p, err := verifyProof(ver, proof, htm, htu, b)
		require.NoError(t, err)
		require.Equal(t, v.ATH.ATH, p.AccessTokenHash)

		// The same proof with another token, or a token bound to another
		// key, fails.
		ver2 := &Verifier{BaseURL: "https://resource.example.org", Now: clock(time.Unix(iat, 0))}
		_, err = verifyProof(ver2, proof, htm, htu, &binding{token: "other", cnf: b.cnf})
		require.ErrorIs(t, err, errAccessTokenHash)
		_, err = verifyProof(ver2, proof, htm, htu, &binding{token: v.ATH.AccessToken, cnf: Confirmation{JKT: AccessTokenHash("k")}})
		require.ErrorIs(t, err, ErrBindingMismatch)

		// And through Verify, with the request of Figure 13 and the
		// introspection response of Figure 11 (cnf.jkt).
		r := httptest.NewRequest("GET", "https://resource.example.org/protectedresource", nil)
		r.Header.Set("Authorization", "DPoP "+v.ATH.AccessToken)
		r.Header.Set("DPoP", proof)
		ver3 := &Verifier{
			BaseURL: "https://resource.example.org",
			Now:     clock(time.Unix(iat, 0)),
			Token: func(_ context.Context, tok string) (json.RawMessage, error) {
				require.Equal(t, v.ATH.AccessToken, tok)
				return v.Introspection.Response.JSON, nil
			},
		}
		res, err := ver3.Verify(r)
		require.NoError(t, err)
		require.True(t, res.Bound)
		require.Equal(t, rfcJKT, res.Confirmation.JKT)
		require.Equal(t, rfcJKT, res.Proof.JKT)
	})

	t.Run("outside the window", func(t *testing.T) {
		t.Parallel()
		proof, htm, _, iat := v.proof(t, "token_request_proof")
		ver := &Verifier{BaseURL: as, Now: clock(time.Unix(iat, 0).Add(DefaultMaxAge + DefaultSkew + time.Second))}
		_, err := ver.VerifyProof(tokenRequest(proof, htm))
		require.ErrorIs(t, err, errProofExpired)
	})

	t.Run("cnf of Figures 9 and 11", func(t *testing.T) {
		t.Parallel()
		payload := strings.Split(v.AccessTokenJWT.Compact, ".")[1]
		claims, err := b64.DecodeString(payload)
		require.NoError(t, err)
		c, err := ConfirmationFromClaims(claims)
		require.NoError(t, err)
		require.Equal(t, rfcJKT, c.JKT)
		c, err = ConfirmationFromClaims(v.Introspection.Response.JSON)
		require.NoError(t, err)
		require.Equal(t, rfcJKT, c.JKT)
		require.True(t, c.matches(rfcJKT))
	})

	t.Run("jwk thumbprint", func(t *testing.T) {
		t.Parallel()
		k, err := jose.ParseJWK(v.PublicJWK.JWK)
		require.NoError(t, err)
		tp, err := jose.Thumbprint(k.Key)
		require.NoError(t, err)
		require.Equal(t, rfcJKT, tp)
		// A cnf.jwk holding the RFC key binds like cnf.jkt.
		require.True(t, Confirmation{JWK: k.Key}.matches(rfcJKT))
	})
}

// TestRFC9449DPoPJKT: RFC 9449 §10 Figure 25 sends dpop_jkt
// "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs". That is NOT the
// thumbprint of the spec's EC proof key: it is the RFC 7638 §3.1 example
// RSA key's thumbprint (testdata/rfc7638-thumbprint.json). The test pins
// both facts and that JKTOption sends the value as is.
func TestRFC9449DPoPJKT(t *testing.T) {
	t.Parallel()
	v := loadRFC(t)
	var jkt string
	for _, kv := range v.JKTRequest.QueryParameters {
		if kv[0] == JKTParam {
			jkt = kv[1]
		}
	}
	require.Equal(t, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", jkt)
	require.NotEqual(t, v.PublicJWK.JKT.Value, jkt)

	b, err := os.ReadFile("testdata/rfc7638-thumbprint.json")
	require.NoError(t, err)
	var r struct{ N, E string }
	require.NoError(t, json.Unmarshal(b, &r))
	n, err := b64.DecodeString(r.N)
	require.NoError(t, err)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	require.Equal(t, "AQAB", r.E)
	tp, err := jose.Thumbprint(pub)
	require.NoError(t, err)
	require.Equal(t, jkt, tp)
	require.True(t, Confirmation{JKT: jkt}.matches(tp))
}

// TestRFC9449Challenges parses the spec's error responses as the client
// transport does (Figures 20 and 24), and checks the challenges the
// verifier writes against Figures 15 and 16.
func TestRFC9449Challenges(t *testing.T) {
	t.Parallel()
	v := loadRFC(t)
	for _, n := range v.DPoPNonce {
		t.Run(n.ID, func(t *testing.T) {
			t.Parallel()
			resp := &http.Response{Header: http.Header{}, Body: http.NoBody}
			for _, h := range n.Headers {
				resp.Header.Add(h[0], h[1])
			}
			switch {
			case strings.Contains(n.ID, "400"):
				resp.StatusCode = 400
				resp.Header.Set("Content-Type", "application/json")
				resp.Body = bodyOf(string(n.JSON))
			case strings.Contains(n.ID, "401"):
				resp.StatusCode = 401
			default:
				resp.StatusCode = 200
			}
			require.Equal(t, resp.StatusCode != 200, nonceRequested(resp))
			require.True(t, validNonce(resp.Header.Get("DPoP-Nonce")))
			if resp.StatusCode == 400 {
				rest, err := readAll(resp.Body)
				require.NoError(t, err)
				require.JSONEq(t, string(n.JSON), rest, "the body is handed back whole")
			}
		})
	}

	ver := &Verifier{BaseURL: "https://resource.example.org", Algorithms: []string{"ES256", "PS256"}}
	w := httptest.NewRecorder()
	ver.WriteError(w, httptest.NewRequest("GET", "/", nil), ErrNoToken)
	require.Equal(t, []string{`DPoP algs="ES256 PS256"`}, w.Header().Values("WWW-Authenticate")) // Figure 15
	w = httptest.NewRecorder()
	ver.WriteError(w, httptest.NewRequest("GET", "/", nil), badToken(ErrBindingMismatch, nil, "Invalid DPoP key binding"))
	require.Equal(t, http.StatusUnauthorized, w.Code)
	cs, err := oautherr.ParseHeader(w.Header())
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.True(t, cs[0].Is("DPoP"))
	require.Equal(t, "invalid_token", cs[0].Get("error")) // Figure 16
	require.Equal(t, "Invalid DPoP key binding", cs[0].Get("error_description"))
}
