package httpx

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAuthorization(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		values  []string // Authorization fields
		schemes []string // nil: DPoP and Bearer
		scheme  string
		token   string
		err     error
	}{
		// RFC 6750 §2.1 and RFC 9449 §7.1 examples.
		{name: "bearer", values: []string{"Bearer mF_9.B5f-4.1JqM"}, scheme: "Bearer", token: "mF_9.B5f-4.1JqM"},
		{name: "dpop", values: []string{"DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"}, scheme: "DPoP", token: "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"},
		{name: "scheme in any case, returned as listed", values: []string{"dPoP abc"}, scheme: "DPoP", token: "abc"},
		{name: "padding and extra spaces", values: []string{"Bearer   abc+/=="}, scheme: "Bearer", token: "abc+/=="},
		{name: "only the listed schemes", values: []string{"DPoP abc"}, schemes: []string{"Bearer"}, err: ErrNoCredentials},
		{name: "no field", values: nil, err: ErrNoCredentials},
		{name: "another scheme", values: []string{"Basic YTpi"}, err: ErrNoCredentials},
		{name: "scheme without a space", values: []string{"Bearerabc"}, err: ErrNoCredentials},
		{name: "tab after the scheme", values: []string{"Bearer\tabc"}, err: ErrNoCredentials},
		{name: "scheme alone", values: []string{"DPoP"}, err: ErrMalformedCredentials},
		{name: "empty token", values: []string{"Bearer  "}, err: ErrMalformedCredentials},
		{name: "two fields", values: []string{"Bearer a", "Bearer b"}, err: ErrMalformedCredentials},
		{name: "two fields of other schemes", values: []string{"Basic a", "Basic b"}, err: ErrMalformedCredentials},
		{name: "space in token", values: []string{"Bearer a b"}, err: ErrMalformedCredentials},
		{name: "space after token", values: []string{"Bearer ab "}, err: ErrMalformedCredentials},
		{name: "comma in token", values: []string{"Bearer a,b"}, err: ErrMalformedCredentials},
		{name: "auth-param syntax", values: []string{`DPoP token="abc"`}, err: ErrMalformedCredentials},
		{name: "padding in the middle", values: []string{"Bearer a=b"}, err: ErrMalformedCredentials},
		{name: "only padding", values: []string{"Bearer =="}, err: ErrMalformedCredentials},
		{name: "non-ASCII", values: []string{"Bearer é"}, err: ErrMalformedCredentials},
		{name: "longest token", values: []string{"Bearer " + strings.Repeat("a", MaxCredentialsBytes)}, scheme: "Bearer", token: strings.Repeat("a", MaxCredentialsBytes)},
		{name: "too long", values: []string{"Bearer " + strings.Repeat("a", MaxCredentialsBytes+1)}, err: ErrCredentialsTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tc.values {
				h.Add("Authorization", v)
			}
			schemes := tc.schemes
			if schemes == nil {
				schemes = []string{"DPoP", "Bearer"}
			}
			scheme, token, err := Authorization(h, schemes...)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				require.Empty(t, scheme)
				require.Empty(t, token)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.scheme, scheme)
			require.Equal(t, tc.token, token)
		})
	}
	t.Run("too long is malformed", func(t *testing.T) {
		t.Parallel()
		require.ErrorIs(t, ErrCredentialsTooLarge, ErrMalformedCredentials)
	})
}

// FuzzAuthorization holds the parser to the RFC 6750 §2.1 grammar:
// whatever it accepts is one field of an accepted scheme, one or more
// spaces, and a b64token.
func FuzzAuthorization(f *testing.F) {
	f.Add("DPoP Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") // RFC 9449 §7.1
	f.Add("Bearer mF_9.B5f-4.1JqM")                           // RFC 6750 §2.1
	f.Add("dpop  a==")
	f.Add("Bearer a b")
	f.Fuzz(func(t *testing.T, v string) {
		scheme, token, err := Authorization(http.Header{"Authorization": {v}}, "DPoP", "Bearer")
		if err != nil {
			if scheme != "" || token != "" {
				t.Fatalf("results beside an error")
			}
			return
		}
		if v != v[:len(v)-len(token)]+token || !IsB64Token(token) || len(token) > MaxCredentialsBytes {
			t.Fatalf("accepted %q as token %q", v, token)
		}
		prefix := strings.TrimRight(v[:len(v)-len(token)], " ")
		if !strings.EqualFold(prefix, scheme) || prefix == v[:len(v)-len(token)] {
			t.Fatalf("accepted %q with scheme %q", v, scheme)
		}
	})
}
