package forge

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The OAuth web application flow of GitHub's OAuth apps, as github.com
// serves it, so that a web UI can log users in against the sandbox as it
// does against GitHub:
//
//	GET  /login/oauth/authorize?client_id=&redirect_uri=&scope=&state=&login=
//	POST /login/oauth/authorize      (the sign-in form of that page)
//	POST /login/oauth/access_token   (client_id, client_secret, code, redirect_uri)
//
// GitHub asks a user who is not signed in for a password, then whether to
// authorize the app. The sandbox has no passwords: its sign-in form asks for
// the login and one of the user's personal access tokens. A code is valid
// for ten minutes and once; the token it buys ("gho_…") carries the scopes
// asked for.

// OAuthAuthorizePath and OAuthAccessTokenPath are GitHub's OAuth endpoints,
// on the forge's address (github.com's, not the API's, on GitHub).
const (
	OAuthAuthorizePath   = "/login/oauth/authorize"
	OAuthAccessTokenPath = "/login/oauth/access_token"
)

// oauthCodeTTL is how long an authorization code may be exchanged.
const oauthCodeTTL = 10 * time.Minute

// oauthErrorURI documents the errors of the flow, as GitHub's answers link
// to its documentation.
const oauthErrorURI = "https://docs.github.com/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"

// OAuthApp is an OAuth app registered on the forge.
type OAuthApp struct {
	// ClientID and ClientSecret are the app's credentials.
	ClientID     string `json:"clientID"`
	ClientSecret string `json:"clientSecret"`
	// Name is shown on the authorization page.
	Name string `json:"name,omitempty"`
	// CallbackURL is the "Authorization callback URL": users come back to
	// it, or to a redirect_uri under it.
	CallbackURL string `json:"callbackURL"`
}

// oauthCode is an authorization code waiting to be exchanged.
type oauthCode struct {
	ClientID    string    `json:"clientID"`
	User        string    `json:"user"`
	RedirectURI string    `json:"redirectURI,omitempty"`
	Scopes      []string  `json:"scopes"`
	Expires     time.Time `json:"expires"`
}

// RegisterOAuthApp registers an OAuth app, or updates the one with the same
// client ID.
func (f *Forge) RegisterOAuthApp(a OAuthApp) error {
	if a.ClientID == "" || a.ClientSecret == "" {
		return fmt.Errorf("an OAuth app needs a client ID and a client secret")
	}
	if u, err := url.Parse(a.CallbackURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("OAuth app %s: the callback URL must be an absolute http(s) URL, not %q", a.ClientID, a.CallbackURL)
	}
	return f.write(func(t *tx) error {
		if t.OAuthApps == nil {
			t.OAuthApps = map[string]*OAuthApp{}
		}
		app := a
		t.OAuthApps[a.ClientID] = &app
		return nil
	})
}

// serveOAuth serves the OAuth endpoints; it reports false for other paths.
func (f *Forge) serveOAuth(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case OAuthAuthorizePath:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			f.authorizePage(w, r)
		case http.MethodPost:
			// The sign-in form is the forge's own: only its own pages may
			// post it.
			http.NewCrossOriginProtection().Handler(http.HandlerFunc(f.authorize)).ServeHTTP(w, r)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		}
		return true
	case OAuthAccessTokenPath:
		if r.Method != http.MethodPost {
			// GitHub answers 404 to anything but a POST here.
			http.NotFound(w, r)
			return true
		}
		f.accessToken(w, r)
		return true
	}
	return false
}

// authRequest is the query of an authorization request.
type authRequest struct {
	ClientID, RedirectURI, Scope, State, Login string
}

func authRequestFrom(v url.Values) authRequest {
	return authRequest{ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		Scope: v.Get("scope"), State: v.Get("state"), Login: v.Get("login")}
}

// check finds the app and where to send the user back. A request for an
// unknown app is 404, as on GitHub; a redirect_uri that the callback URL
// does not cover sends the user back to the callback URL with
// redirect_uri_mismatch.
func (f *Forge) check(w http.ResponseWriter, r *http.Request, ar authRequest) (*OAuthApp, string, bool) {
	var app *OAuthApp
	_ = f.read(func(s *state) error {
		if a := s.OAuthApps[ar.ClientID]; a != nil {
			cp := *a
			app = &cp
		}
		return nil
	})
	if app == nil {
		http.Error(w, "Not Found: no OAuth app has this client_id", http.StatusNotFound)
		return nil, "", false
	}
	if ar.RedirectURI == "" {
		return app, app.CallbackURL, true
	}
	if !redirectAllowed(app.CallbackURL, ar.RedirectURI) {
		redirectBack(w, r, app.CallbackURL, url.Values{"error": {"redirect_uri_mismatch"},
			"error_description": {"redirect_uri is not the app's callback URL or a path under it"},
			"error_uri":         {oauthErrorURI}, "state": {ar.State}})
		return nil, "", false
	}
	return app, ar.RedirectURI, true
}

// redirectAllowed is GitHub's rule: the same scheme, host and port as the
// callback URL (any port for a loopback host) and its path or one below it.
func redirectAllowed(callback, redirect string) bool {
	cb, err1 := url.Parse(callback)
	ru, err2 := url.Parse(redirect)
	if err1 != nil || err2 != nil || ru.Fragment != "" || !strings.EqualFold(cb.Scheme, ru.Scheme) ||
		!strings.EqualFold(cb.Hostname(), ru.Hostname()) {
		return false
	}
	if cb.Port() != ru.Port() && !loopback(cb.Hostname()) {
		return false
	}
	base := strings.TrimSuffix(cb.EscapedPath(), "/")
	p := ru.EscapedPath()
	return p == base || p == base+"/" || strings.HasPrefix(p, base+"/") && !strings.Contains(p, "/../")
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func redirectBack(w http.ResponseWriter, r *http.Request, to string, params url.Values) {
	u, err := url.Parse(to)
	if err != nil {
		http.Error(w, "bad redirect", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

var authorizeTmpl = template.Must(template.New("authorize").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize {{.App}} · sandbox forge</title></head>
<body><main>
<h1>Authorize {{.App}}</h1>
<p>{{.App}} asks to know who you are on this sandbox forge{{if .Scopes}}, with the scopes {{.Scopes}}{{end}}.
The sandbox has no passwords: sign in with your login and one of your personal access tokens.</p>
{{if .Error}}<p role="alert" id="error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="client_id" value="{{.Req.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Req.RedirectURI}}">
<input type="hidden" name="scope" value="{{.Req.Scope}}">
<input type="hidden" name="state" value="{{.Req.State}}">
<p><label for="login">Login</label> <input id="login" name="login" autocomplete="username" required value="{{.Req.Login}}"></p>
<p><label for="token">Personal access token</label> <input id="token" name="token" type="password" autocomplete="current-password" required></p>
<p><button type="submit" name="authorize" value="1" id="authorize">Authorize {{.App}}</button>
<button type="submit" name="cancel" value="1" formnovalidate id="cancel">Cancel</button></p>
</form>
</main></body></html>
`))

func (f *Forge) authorizePage(w http.ResponseWriter, r *http.Request) {
	ar := authRequestFrom(r.URL.Query())
	app, _, ok := f.check(w, r, ar)
	if !ok {
		return
	}
	f.renderAuthorize(w, http.StatusOK, app, ar, "")
}

func (f *Forge) renderAuthorize(w http.ResponseWriter, code int, app *OAuthApp, ar authRequest, msg string) {
	name := app.Name
	if name == "" {
		name = app.ClientID
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(code)
	_ = authorizeTmpl.Execute(w, map[string]any{"App": name, "Req": ar, "Error": msg, "Action": OAuthAuthorizePath,
		"Scopes": strings.Join(scopesOf(ar.Scope), ", ")})
}

// authorize handles the sign-in form: the user's token must be one of
// theirs; then the user goes back to the app with a code, or with
// access_denied when they cancelled.
func (f *Forge) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ar := authRequestFrom(r.PostForm)
	app, back, ok := f.check(w, r, ar)
	if !ok {
		return
	}
	if r.PostForm.Get("cancel") != "" {
		redirectBack(w, r, back, url.Values{"error": {"access_denied"},
			"error_description": {"the user did not authorize the application"}, "error_uri": {oauthErrorURI}, "state": {ar.State}})
		return
	}
	token := r.PostForm.Get("token")
	var code string
	err := f.write(func(t *tx) error {
		tok := t.Tokens[token]
		u := t.user(ar.Login)
		if tok == nil || tok.Installation != 0 || u == nil || key(tok.User) != key(u.Login) ||
			(!tok.Expires.IsZero() && !t.now.Before(tok.Expires)) {
			return errStatus(http.StatusUnauthorized, "Incorrect login or token.")
		}
		if t.OAuthCodes == nil {
			t.OAuthCodes = map[string]*oauthCode{}
		}
		for c, oc := range t.OAuthCodes {
			if !t.now.Before(oc.Expires) {
				delete(t.OAuthCodes, c)
			}
		}
		code = newToken("")[:20]
		t.OAuthCodes[code] = &oauthCode{ClientID: app.ClientID, User: u.Login, RedirectURI: ar.RedirectURI,
			Scopes: scopesOf(ar.Scope), Expires: f.now().Add(oauthCodeTTL)}
		return nil
	})
	if err != nil {
		f.renderAuthorize(w, http.StatusUnauthorized, app, ar, "Incorrect login or token.")
		return
	}
	redirectBack(w, r, back, url.Values{"code": {code}, "state": {ar.State}})
}

// scopesOf splits a scope parameter: GitHub takes spaces, and commas too.
func scopesOf(s string) []string {
	out := []string{}
	for _, sc := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// accessToken exchanges a code for a user token. Like GitHub it takes the
// client credentials as parameters or as HTTP basic auth, answers errors
// with 200 and an error field, and answers in the format Accept asks for:
// JSON, XML, or form encoding by default.
func (f *Forge) accessToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	clientID, secret := r.Form.Get("client_id"), r.Form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	codeParam, redirect := r.Form.Get("code"), r.Form.Get("redirect_uri")
	var res map[string]string
	_ = f.write(func(t *tx) error {
		app := t.OAuthApps[clientID]
		if app == nil || subtle.ConstantTimeCompare([]byte(app.ClientSecret), []byte(secret)) != 1 {
			res = oauthError("incorrect_client_credentials", "the client_id or client_secret is not right")
			return nil
		}
		oc := t.OAuthCodes[codeParam]
		if oc == nil || oc.ClientID != clientID || !t.now.Before(oc.Expires) {
			res = oauthError("bad_verification_code", "the code is wrong, used or expired")
			return nil
		}
		// redirect_uri is optional here; when sent, it must be the one the
		// code was issued for.
		if redirect != "" && redirect != cmp.Or(oc.RedirectURI, app.CallbackURL) {
			res = oauthError("redirect_uri_mismatch", "redirect_uri is not the one the code was issued for")
			return nil
		}
		// A code is good for one token.
		delete(t.OAuthCodes, codeParam)
		access := newToken("gho_")
		t.Tokens[access] = &token{User: oc.User, Scopes: slices.Clone(oc.Scopes)}
		res = map[string]string{"access_token": access, "scope": strings.Join(oc.Scopes, ","), "token_type": "bearer"}
		return nil
	})
	w.Header().Set("Cache-Control", "no-store")
	accept := r.Header.Get("Accept")
	switch {
	case strings.Contains(accept, "application/json"):
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(res)
	case strings.Contains(accept, "application/xml"):
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		_, _ = w.Write([]byte(xml.Header + "<OAuth>"))
		for _, k := range slices.Sorted(maps.Keys(res)) {
			fmt.Fprintf(w, "<%s>", k)
			_ = xml.EscapeText(w, []byte(res[k]))
			fmt.Fprintf(w, "</%s>", k)
		}
		_, _ = w.Write([]byte("</OAuth>"))
	default:
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		v := url.Values{}
		for k, val := range res {
			v.Set(k, val)
		}
		_, _ = w.Write([]byte(v.Encode()))
	}
}

func oauthError(code, desc string) map[string]string {
	return map[string]string{"error": code, "error_description": desc, "error_uri": oauthErrorURI}
}
