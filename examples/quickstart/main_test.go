package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRun runs the whole demo against the embedded authorization server and
// checks the line of every step. Each line is printed only after its step
// succeeded, and most carry what the servers answered: the metadata, the
// parameters that reached the authorization URL and the callback, the token
// type and binding checked by introspection, the subject from /userinfo and
// the rotation of the refresh token.
func TestRun(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out))

	want := []string{
		// Discovery read the embedded server's metadata.
		"1. discovered: PAR endpoint, PKCE [S256], JARM algs [ES256], DPoP algs [ES256 PS256 EdDSA]",
		"2. keys: DPoP proofs signed with ES256, client authentication private_key_jwt",
		// The request object holds PKCE, state, dpop_jkt and the JARM mode.
		"3. request object: signed, valid 1m0s, parameters [client_id code_challenge code_challenge_method dpop_jkt redirect_uri response_mode response_type scope state]",
		// PAR answered 201 with a request_uri; the front channel carries
		// nothing else.
		"4. pushed: request_uri valid 1m0s, authorization URL parameters [client_id request_uri]",
		// The code came back only inside the signed response JWT.
		"5. logged in: callback parameters [response]",
		"6. authorization response: JARM true, issuer and state verified, code received",
		// The server issued a DPoP token bound to the demo's key.
		"7. token: type DPoP, has refresh token true, bound to our DPoP key (cnf.jkt)",
		// /userinfo accepted the token with a proof carrying ath.
		"8. userinfo: sub test-user",
		// The refresh went through x/oauth2 with a proof and an assertion.
		"9. refreshed: type DPoP, refresh token rotated true, bound to our DPoP key (cnf.jkt)",
		"ok",
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Equal(t, want, got)
}

// TestRunCanceled checks that run stops with the context's error, and
// prints no step, when its context is already canceled.
func TestRunCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out bytes.Buffer
	err := run(ctx, &out)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, out.String())
}
