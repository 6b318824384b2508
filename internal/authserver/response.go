package authserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hardened-oauth/hardened/internal/jose"
)

// b64 is strict unpadded base64url.
var b64 = base64.RawURLEncoding.Strict()

// wrongIssuer is the issuer the Misbehave switches claim.
const wrongIssuer = "https://attacker.example"

// respond delivers an authorization response (vals holds code, or error and
// error_description) to ar's redirect URI in ar's response mode, adding
// state and iss (RFC 9207), or wrapping everything in a JARM response.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, c *client, ar *authRequest, vals url.Values) {
	mb := s.cfg.Misbehave
	state := ar.state
	if mb.WrongState {
		state += "-tampered"
	}
	iss := s.issuer
	if mb.WrongIssuer {
		iss = wrongIssuer
	}
	mode := ar.responseMode
	out := url.Values{}
	if isJWTMode(mode) {
		claims := map[string]any{}
		for k := range vals {
			claims[k] = vals.Get(k)
		}
		if state != "" {
			claims["state"] = state
		}
		if !mb.OmitIssuer {
			claims["iss"] = iss
		}
		resp, err := s.jarm(c, claims)
		if err != nil {
			writeError(w, oerr("server_error", http.StatusInternalServerError, "cannot build the JARM response"))
			return
		}
		out.Set("response", resp)
		mode = strings.TrimSuffix(mode, ".jwt")
		if mode == "jwt" {
			mode = "query" // JARM §2.3.4: jwt means query.jwt for response type code
		}
	} else {
		for k := range vals {
			out.Set(k, vals.Get(k))
		}
		if state != "" {
			out.Set("state", state)
		}
		if !mb.OmitIssuer {
			out.Set("iss", iss)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if mode == "form_post" {
		writeFormPost(w, ar.redirectURI, out)
		return
	}
	u, err := url.Parse(ar.redirectURI)
	if err != nil {
		writeError(w, oerr("server_error", http.StatusInternalServerError, "bad redirect URI"))
		return
	}
	if mode == "fragment" {
		u.Fragment = ""
		u.RawFragment = ""
		target := u.String() + "#" + out.Encode()
		redirect(w, r, target)
		return
	}
	q := u.Query()
	for k := range out {
		q.Set(k, out.Get(k))
	}
	u.RawQuery = q.Encode()
	redirect(w, r, u.String())
}

func redirect(w http.ResponseWriter, r *http.Request, target string) {
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	w.Header().Set("Location", target)
	w.WriteHeader(status)
}

// jarm signs (and, when the client registered a key, encrypts) a JARM
// response (https://openid.net/specs/oauth-v2-jarm-final.html §2.1).
func (s *Server) jarm(c *client, claims map[string]any) (string, error) {
	mb := s.cfg.Misbehave
	now := s.now()
	exp := now.Add(orDuration(s.cfg.JARMLifetime, defaultJARMTTL))
	iat := now
	if mb.JARMExpired {
		exp, iat = now.Add(-2*time.Minute), now.Add(-3*time.Minute)
	}
	claims["aud"] = c.ID
	if mb.JARMWrongAudience {
		claims["aud"] = "another-client"
	}
	claims["exp"] = exp.Unix()
	claims["iat"] = iat.Unix()
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	var signed string
	switch {
	case mb.JARMAlgNone:
		signed = b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + b64.EncodeToString(payload) + "."
	case mb.JARMForeignKey:
		st, err := jose.NewSigner(s.stranger, jose.SignerOptions{KeyID: s.kid})
		if err != nil {
			return "", err
		}
		if signed, err = st.Sign(payload); err != nil {
			return "", err
		}
	default:
		if signed, err = s.jarmSigner.Sign(payload); err != nil {
			return "", err
		}
	}
	if c.JARMEncryptionKey == nil || mb.JARMUnencrypted {
		return signed, nil
	}
	return jose.Encrypt([]byte(signed), c.JARMEncryptionKey, jose.EncryptOptions{ContentEncryption: jose.A256GCM, ContentType: "JWT"})
}

var formPostTemplate = template.Must(template.New("form_post").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Submit this form</title></head>
<body onload="javascript:document.forms[0].submit()">
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form>
</body></html>
`))

type formField struct{ Name, Value string }

// writeFormPost sends the auto-submitting form of the OAuth 2.0 Form Post
// Response Mode.
func writeFormPost(w http.ResponseWriter, action string, vals url.Values) {
	var fields []formField
	for k := range vals {
		fields = append(fields, formField{k, vals.Get(k)})
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	var buf bytes.Buffer
	// The action is a registered redirect URI: trusted, possibly with a
	// private-use scheme that html/template would otherwise replace.
	if err := formPostTemplate.Execute(&buf, struct {
		Action template.URL
		Fields []formField
	}{template.URL(action), fields}); err != nil {
		writeError(w, oerr("server_error", http.StatusInternalServerError, "cannot render the form"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; form-action *")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
