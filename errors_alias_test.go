package hardened_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hardened-oauth/hardened"
	"github.com/hardened-oauth/hardened/internal/oautherr"
	"github.com/hardened-oauth/hardened/jarm"
	"github.com/hardened-oauth/hardened/par"
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

// The package-specific errors that carry an OAuth error response are
// caught by the same target: a PAR endpoint's 400 and an authorization
// error response decoded by jarm.
func TestErrorTargetAcrossPackages(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request_object","error_description":"bad\u0007object"}`))
	}))
	t.Cleanup(srv.Close)
	pc := &par.Config{Endpoint: srv.URL + "/par", ClientID: "c", HTTPClient: srv.Client()}
	_, err := pc.Push(t.Context(), url.Values{"response_type": {"code"}})
	var pe *par.Error
	require.ErrorAs(t, err, &pe)
	var oe *hardened.Error
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "invalid_request_object", oe.Code)
	require.Equal(t, http.StatusBadRequest, oe.Status)
	require.Equal(t, pe.Description, oe.Description)
	require.NotContains(t, oe.Description, "\a", "server text is sanitized")
	require.ErrorIs(t, err, &hardened.Error{Code: "invalid_request_object"})

	dec, err := jarm.NewDecoder(jarm.Config{
		Issuer:   "https://as.example",
		ClientID: "c",
		AuthorizationResponseIssParameterSupported: true,
	})
	require.NoError(t, err)
	_, err = dec.Decode(t.Context(), url.Values{
		"error":             {"access_denied"},
		"error_description": {"user\nsaid no"},
		"state":             {"s1"},
		"iss":               {"https://as.example"},
	}, "s1")
	var ae *jarm.AuthorizationError
	require.ErrorAs(t, err, &ae)
	oe = nil
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "access_denied", oe.Code)
	require.Zero(t, oe.Status)
	require.NotContains(t, oe.Description, "\n")
	require.ErrorIs(t, err, &hardened.Error{Code: "access_denied"})
}
