package dpop

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNonces(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: fixedNow}
	old := []byte(strings.Repeat("o", 32))
	n := &Nonces{Secrets: [][]byte{nonceSecret}, Now: clk.Now}

	a, err := n.New()
	require.NoError(t, err)
	require.True(t, validNonce(a))
	left, err := n.Check(a)
	require.NoError(t, err)
	require.Greater(t, left, DefaultNonceLifetime*3/4-time.Second)
	require.LessOrEqual(t, left, DefaultNonceLifetime)

	// Within one step the nonce does not change.
	clk.Advance(time.Second)
	b, err := n.New()
	require.NoError(t, err)
	if !strings.EqualFold(a, b) {
		// fixedNow may sit at the very end of a step; then one more
		// second must not change it again.
		clk.Advance(time.Second)
		a = b
		b, err = n.New()
		require.NoError(t, err)
	}
	require.Equal(t, a, b)

	// Another replica with the same secret accepts it.
	replica := &Nonces{Secrets: [][]byte{nonceSecret}, Now: clk.Now}
	_, err = replica.Check(a)
	require.NoError(t, err)

	// Rotation: the new secret signs, the old one still verifies.
	byOld, err := (&Nonces{Secrets: [][]byte{old}, Now: clk.Now}).New()
	require.NoError(t, err)
	rotated := &Nonces{Secrets: [][]byte{nonceSecret, old}, Now: clk.Now}
	_, err = rotated.Check(byOld)
	require.NoError(t, err)
	cur, err := rotated.New()
	require.NoError(t, err)
	_, err = n.Check(cur)
	require.NoError(t, err, "the first secret signs")
	_, err = n.Check(byOld)
	require.ErrorIs(t, err, errNonceInvalid, "a retired secret no longer verifies")

	// Expiry.
	clk.Advance(DefaultNonceLifetime)
	_, err = n.Check(a)
	require.ErrorIs(t, err, errNonceInvalid)
	require.ErrorIs(t, err, ErrUseNonce)

	// A nonce from too far in the future (a forged or skewed epoch).
	future, err := (&Nonces{Secrets: [][]byte{nonceSecret}, Now: clock(clk.Now().Add(time.Hour))}).New()
	require.NoError(t, err)
	_, err = n.Check(future)
	require.ErrorIs(t, err, errNonceInvalid)

	for _, bad := range []string{"", "x", strings.Repeat("A", 32), a + "A", "!" + a[1:]} {
		_, err = n.Check(bad)
		require.ErrorIs(t, err, errNonceInvalid, bad)
	}
}

func TestNoncesConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		n    *Nonces
	}{
		{"nil", nil},
		{"no secrets", &Nonces{}},
		{"short secret", &Nonces{Secrets: [][]byte{nonceSecret, []byte("short")}}},
		{"short lifetime", &Nonces{Secrets: [][]byte{nonceSecret}, Lifetime: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.n.New()
			require.ErrorIs(t, err, ErrInvalidConfig)
			_, err = tc.n.Check("x")
			require.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
}

// TestAdvanceNonce: a successful response carries the next nonce when the
// presented one is close to its end (RFC 9449 §8.2).
func TestAdvanceNonce(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: fixedNow}
	n := &Nonces{Secrets: [][]byte{nonceSecret}, Lifetime: 8 * time.Minute, Now: clk.Now}
	v := &Verifier{BaseURL: "https://as.example", Nonces: n, Now: clk.Now}
	k := newKey(t)
	p, err := NewProofer(ProoferConfig{Key: k, Now: clk.Now})
	require.NoError(t, err)
	nonce, err := n.New()
	require.NoError(t, err)

	verify := func() *Proof {
		proof, err := p.Proof("POST", "https://as.example/token", ProofOptions{Nonce: nonce})
		require.NoError(t, err)
		r := httptest.NewRequest("POST", "https://as.example/token", nil)
		r.Header.Set("DPoP", proof)
		got, err := v.VerifyProof(r)
		require.NoError(t, err)
		return got
	}
	h := make(map[string][]string)
	v.AdvanceNonce(h, verify())
	require.Empty(t, h, "a fresh nonce is not replaced")

	clk.Advance(5 * time.Minute) // under half of the lifetime left
	got := verify()
	v.AdvanceNonce(h, got)
	next := h["Dpop-Nonce"]
	require.Len(t, next, 1)
	require.NotEqual(t, nonce, next[0])
	_, err = n.Check(next[0])
	require.NoError(t, err)

	// Disabled with a negative RefreshBefore.
	n2 := *n
	n2.RefreshBefore = -1
	v2 := &Verifier{BaseURL: "https://as.example", Nonces: &n2, Now: clk.Now}
	h2 := make(map[string][]string)
	v2.AdvanceNonce(h2, got)
	require.Empty(t, h2)
}
