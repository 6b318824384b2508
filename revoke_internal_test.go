package hardened

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rfc7662Example is the introspection response of RFC 7662 §2.2.
const rfc7662Example = `{
  "active": true,
  "client_id": "l238j323ds-23ij4",
  "username": "jdoe",
  "scope": "read write dolphin",
  "sub": "Z5O3upPC88QrAjx00dis",
  "aud": "https://protected.example.net/resource",
  "iss": "https://server.example.com/",
  "exp": 1419356238,
  "iat": 1419350238,
  "extension_field": "twenty-seven"
}`

func TestParseIntrospection(t *testing.T) {
	t.Parallel()
	in, err := parseIntrospection([]byte(rfc7662Example))
	require.NoError(t, err)
	require.True(t, in.Active)
	require.Equal(t, "l238j323ds-23ij4", in.ClientID)
	require.Equal(t, "jdoe", in.Username)
	require.Equal(t, "read write dolphin", in.Scope)
	require.Equal(t, "Z5O3upPC88QrAjx00dis", in.Subject)
	require.Equal(t, []string{"https://protected.example.net/resource"}, in.Audience)
	require.Equal(t, "https://server.example.com/", in.Issuer)
	require.Equal(t, time.Unix(1419356238, 0), in.Expiry)
	require.Equal(t, time.Unix(1419350238, 0), in.IssuedAt)
	require.True(t, in.NotBefore.IsZero())
	var ext struct {
		Extension string `json:"extension_field"`
	}
	require.NoError(t, json.Unmarshal(in.Claims, &ext))
	require.Equal(t, "twenty-seven", ext.Extension)

	in, err = parseIntrospection([]byte(`{"active":false}`))
	require.NoError(t, err)
	require.False(t, in.Active)

	for name, body := range map[string]string{
		"no active":          `{"scope":"x"}`,
		"active null":        `{"active":null}`,
		"active string":      `{"active":"true"}`,
		"active twice":       `{"active":false,"active":true}`,
		"case variant":       `{"active":false,"ACTIVE":true}`,
		"exp string":         `{"active":true,"exp":"1"}`,
		"aud number":         `{"active":true,"aud":1}`,
		"array":              `[{"active":true}]`,
		"trailing data":      `{"active":true} {}`,
		"invalid utf-8":      "{\"active\":true,\"sub\":\"\xff\"}",
		"unpaired surrogate": `{"active":true,"sub":"\ud800"}`,
		"empty":              ``,
	} {
		_, err := parseIntrospection([]byte(body))
		require.ErrorIs(t, err, ErrInvalidResponse, name)
	}
}

// FuzzParseIntrospection: no input panics; whatever parses is kept whole.
func FuzzParseIntrospection(f *testing.F) {
	f.Add([]byte(rfc7662Example))
	f.Add([]byte(`{"active":false}`))
	f.Add([]byte(`{"active":true,"aud":["a","b"],"cnf":{"jkt":"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"},"nbf":0}`))
	f.Add([]byte(`{"active":true,"exp":1e300}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := parseIntrospection(body)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidResponse)
			return
		}
		require.Equal(t, string(body), string(in.Claims))
	})
}
