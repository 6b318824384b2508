package hardened_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/oautherr"
)

// Every OAuth error the packages carry (the internal *oautherr.Error) is
// caught by the one public target, *hardened.Error, with its fields.
func TestErrorTarget(t *testing.T) {
	t.Parallel()
	var err error = fmt.Errorf("push: %w", &oautherr.Error{Code: "invalid_request_object", Description: "bad", Status: 400})
	var oe *hardened.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "invalid_request_object", oe.Code)
	require.Equal(t, "bad", oe.Description)
	require.Equal(t, 400, oe.Status)
	require.ErrorIs(t, err, &hardened.Error{Code: "invalid_request_object"})
	require.ErrorIs(t, err, &hardened.Error{Status: 400})
	require.False(t, errors.Is(err, &hardened.Error{Code: "invalid_grant"}))

	direct := &hardened.Error{Code: "invalid_grant", Status: 400}
	require.ErrorIs(t, fmt.Errorf("x: %w", direct), &hardened.Error{Code: "invalid_grant"})
	require.NotContains(t, direct.Error(), "\n")
}
