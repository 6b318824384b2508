package hardened

import (
	"crypto/rand"
	"slices"

	"golang.org/x/oauth2"
)

// Login holds the per-login secrets of the authorization code flow: the
// state (CSRF protection, RFC 6749 §10.12), the PKCE code verifier (RFC
// 7636) and the OpenID Connect nonce. They belong to one user's login, not
// to the Config: a web application keeps them in that user's session (the
// fields are plain strings, so any session store works), so that whichever
// replica receives the callback can finish the login. Never send Verifier
// to the browser.
type Login struct {
	// State is sent in the authorization request and checked by
	// [Config.Callback].
	State string
	// Verifier is the PKCE code verifier: its S256 challenge goes in the
	// authorization request, the verifier itself in the token request.
	Verifier string
	// Nonce is sent in the authorization request and checked in the ID
	// token by [Config.Exchange].
	Nonce string
}

// NewLogin returns a Login with a fresh random state and nonce (128 bits
// or more each) and a PKCE verifier from oauth2.GenerateVerifier (256
// bits).
func NewLogin() Login {
	return Login{State: rand.Text(), Verifier: oauth2.GenerateVerifier(), Nonce: rand.Text()}
}

// AuthCodeOptions returns the options of the authorization request,
// oauth2.S256ChallengeOption(Verifier) and [NonceOption](Nonce), followed by
// extra (e.g. [ResourceOption]), for [Config.AuthCodeURL].
func (l Login) AuthCodeOptions(extra ...oauth2.AuthCodeOption) []oauth2.AuthCodeOption {
	return slices.Concat([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(l.Verifier), NonceOption(l.Nonce)}, extra)
}

// ExchangeOptions returns the options of the token request,
// oauth2.VerifierOption(Verifier) and [NonceOption](Nonce) (checked in the
// ID token, not sent), followed by extra, for [Config.Exchange].
func (l Login) ExchangeOptions(extra ...oauth2.AuthCodeOption) []oauth2.AuthCodeOption {
	return slices.Concat([]oauth2.AuthCodeOption{oauth2.VerifierOption(l.Verifier), NonceOption(l.Nonce)}, extra)
}

// String describes the login without its values, for %v and logs: the
// state, verifier and nonce are all redacted (a logged state or nonce would
// help forge a callback or replay an ID token of this login).
func (l Login) String() string {
	return "hardened.Login{State:<redacted> Verifier:<redacted> Nonce:<redacted>}"
}

// GoString describes the login without its values, for %#v, as
// [Login.String] does.
func (l Login) GoString() string { return l.String() }
