package hardened_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/jarm"
)

// A JARM login fetches the server's JWK Set once: the JARM response and the
// ID token are verified against the same keys (and, with
// EncryptRequestObject, the request object is encrypted to one of them).
func TestJARMLoginFetchesKeysOnce(t *testing.T) {
	t.Parallel()
	for _, encrypt := range []bool{false, true} {
		t.Run(map[bool]string{false: "signed request object", true: "encrypted request object"}[encrypt], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			conf := e.conf()
			conf.ResponseMode = jarm.ModeJWT
			conf.EncryptRequestObject = encrypt
			tok := e.login(t, conf)
			_, ok := hardened.IDTokenFrom(tok)
			require.True(t, ok)
			jwksPath := mustURL(t, e.srv.Endpoints().JWKS).Path
			require.Equal(t, 1, e.count.get(jwksPath), "one JWK Set fetch")
			require.Equal(t, 1, e.count.get("/.well-known/oauth-authorization-server"), "one discovery")
		})
	}
}
