package hardened_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
)

// The alias lets callers outside the module name the error that par and
// jarm carry, and match it by code.
func TestErrorAlias(t *testing.T) {
	t.Parallel()
	var err error = fmt.Errorf("push: %w", &hardened.Error{Code: "invalid_request_object", Status: 400})
	var oe *hardened.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, 400, oe.Status)
	require.ErrorIs(t, err, &hardened.Error{Code: "invalid_request_object"})
	require.False(t, errors.Is(err, &hardened.Error{Code: "invalid_grant"}))
}
