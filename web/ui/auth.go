package ui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/gorilla/securecookie"
	"golang.org/x/oauth2"
)

// Login paths: Prow's, so that an OAuth app registered for Deck (callback
// <base>/github-login/redirect) works for bowline as it is.
const (
	LoginPath    = "/github-login"
	CallbackPath = "/github-login/redirect"
	LogoutPath   = "/logout"
)

const (
	sessionCookie = "bowline_session"
	stateCookie   = "bowline_oauth"
	// DefaultSessionTTL is how long a login lasts.
	DefaultSessionTTL = 24 * time.Hour
	// loginTTL is how long a login may take at GitHub.
	loginTTL = 10 * time.Minute
	// tokenTTL is how long a GitHub token sent to the API is taken for
	// its owner without asking GitHub again (RequireLogin only).
	tokenTTL = 5 * time.Minute
)

// OAuthConfig is Prow's GitHub OAuth file (--github-oauth-config-file),
// field for field.
type OAuthConfig struct {
	// ClientID and ClientSecret are the OAuth app's.
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// RedirectURL is the app's callback: <base>/github-login/redirect.
	RedirectURL string `json:"redirect_url"`
	// FinalRedirectURL is where users land after logging in when they
	// came from nowhere in particular; default the runs page.
	FinalRedirectURL string `json:"final_redirect_url,omitempty"`
	// Scopes are asked of GitHub. bowline needs none: it uses the token
	// once, to learn who logged in.
	Scopes []string `json:"scopes,omitempty"`
}

// Membership answers whether a user belongs to an org, with bowline's own
// GitHub client.
type Membership interface {
	IsOrgMember(ctx context.Context, org, user string) (bool, error)
}

// Auth logs users in with GitHub's OAuth web flow and keeps who they are in
// a signed cookie. The GitHub token the flow gives is used once, to learn
// the user's login, and never stored. Nothing else is in the cookie but the
// login, the session's form token and its end, so it is signed, not
// encrypted.
type Auth struct {
	OAuth OAuthConfig
	// GitHubURL is GitHub's web address (https://github.com, a GitHub
	// Enterprise server, or the sandbox forge): its /login/oauth/authorize
	// and /login/oauth/access_token are the flow's.
	GitHubURL string
	// Identify returns the login a user's token belongs to.
	Identify func(ctx context.Context, token string) (string, error)
	// CookieSecret signs the cookies; at least 32 bytes.
	CookieSecret []byte
	// RequireLogin makes every page and the JSON API need a login (or,
	// for the API, a GitHub token).
	RequireLogin bool
	// Orgs, with RequireLogin, admit only their members; Members answers.
	Orgs    []string
	Members Membership
	// SessionTTL is how long a login lasts; default DefaultSessionTTL.
	SessionTTL time.Duration
	// HTTPClient talks to GitHub; default http.DefaultClient.
	HTTPClient *http.Client
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log records failed logins (never a code or token).
	Log logr.Logger

	once   sync.Once
	codec  *securecookie.SecureCookie
	mu     sync.Mutex
	tokens map[[32]byte]tokenEntry
}

type tokenEntry struct {
	login   string
	expires time.Time
}

// session is the content of the session cookie.
type session struct {
	Login string `json:"l"`
	// CSRF is the token the session's forms carry.
	CSRF    string `json:"c"`
	Expires int64  `json:"e"`
}

// loginState is the content of the cookie that spans the trip to GitHub.
type loginState struct {
	State   string `json:"s"`
	Dest    string `json:"d"`
	Expires int64  `json:"e"`
}

func (a *Auth) init() {
	a.once.Do(func() {
		a.codec = securecookie.New(a.CookieSecret, nil).SetSerializer(securecookie.JSONEncoder{}).MaxAge(int(a.ttl().Seconds()) + 60)
		a.tokens = map[[32]byte]tokenEntry{}
	})
}

func (a *Auth) ttl() time.Duration {
	if a.SessionTTL > 0 {
		return a.SessionTTL
	}
	return DefaultSessionTTL
}

func (a *Auth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Auth) oauth2() *oauth2.Config {
	base := strings.TrimSuffix(a.GitHubURL, "/")
	return &oauth2.Config{ClientID: a.OAuth.ClientID, ClientSecret: a.OAuth.ClientSecret, RedirectURL: a.OAuth.RedirectURL,
		Scopes: a.OAuth.Scopes, Endpoint: oauth2.Endpoint{AuthURL: base + "/login/oauth/authorize",
			TokenURL: base + "/login/oauth/access_token", AuthStyle: oauth2.AuthStyleInParams}}
}

// secureCookies: cookies are Secure when the UI is served over https, as
// its callback URL says.
func (a *Auth) secureCookies() bool { return strings.HasPrefix(a.OAuth.RedirectURL, "https://") }

func (a *Auth) setCookie(w http.ResponseWriter, name, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, Secure: a.secureCookies(), SameSite: http.SameSiteLaxMode})
}

func (a *Auth) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: a.secureCookies(), SameSite: http.SameSiteLaxMode})
}

// session returns the request's valid session, or nil.
func (a *Auth) session(r *http.Request) *session {
	if a == nil {
		return nil
	}
	a.init()
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	var s session
	if err := a.codec.Decode(sessionCookie, c.Value, &s); err != nil || s.Login == "" || a.now().Unix() >= s.Expires {
		return nil
	}
	return &s
}

// checkCSRF checks a form's token against the session's.
func (a *Auth) checkCSRF(r *http.Request, s *session) bool {
	return subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) == 1
}

func (a *Auth) routes(mux *http.ServeMux, page func(http.HandlerFunc) http.Handler) {
	mux.Handle("GET "+LoginPath, page(a.login))
	mux.Handle("GET "+CallbackPath, page(a.callback))
	mux.Handle("POST "+LogoutPath, page(a.logout))
}

// localPath keeps a destination on this site: a path, not a URL.
func localPath(dest string) string {
	if !strings.HasPrefix(dest, "/") || strings.HasPrefix(dest, "//") || strings.ContainsAny(dest, "\\\r\n") {
		return ""
	}
	if u, err := url.Parse(dest); err != nil || u.Host != "" || u.Scheme != "" {
		return ""
	}
	return dest
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login starts the web flow: a fresh state, kept in a signed cookie with
// where to come back to, and off to GitHub.
func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	a.init()
	st := loginState{State: randomToken(), Dest: localPath(r.URL.Query().Get("dest")), Expires: a.now().Add(loginTTL).Unix()}
	v, err := a.codec.Encode(stateCookie, st)
	if err != nil {
		http.Error(w, "cannot start the login", http.StatusInternalServerError)
		return
	}
	a.setCookie(w, stateCookie, v, loginTTL)
	http.Redirect(w, r, a.oauth2().AuthCodeURL(st.State), http.StatusFound)
}

// callback finishes the web flow: the state must be the one this browser
// was given, the code buys a token, the token says who the user is.
func (a *Auth) callback(w http.ResponseWriter, r *http.Request) {
	a.init()
	log := a.Log
	if log.GetSink() == nil {
		log = logr.FromContextOrDiscard(r.Context())
	}
	fail := func(code int, msg string) {
		a.clearCookie(w, stateCookie)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(msg + "\n"))
	}
	c, err := r.Cookie(stateCookie)
	var st loginState
	if err != nil || a.codec.Decode(stateCookie, c.Value, &st) != nil || a.now().Unix() >= st.Expires {
		fail(http.StatusBadRequest, "The login took too long or did not start here: log in again.")
		return
	}
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		fail(http.StatusBadRequest, "The login's state does not match: log in again.")
		return
	}
	if e := q.Get("error"); e != "" {
		fail(http.StatusForbidden, "GitHub did not log you in ("+e+").")
		return
	}
	ctx := r.Context()
	if a.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, a.HTTPClient)
	}
	tok, err := a.oauth2().Exchange(ctx, q.Get("code"))
	if err != nil {
		log.Info("A GitHub login failed at the code exchange", "reason", oauthReason(err))
		fail(http.StatusBadGateway, "GitHub did not accept the login: log in again.")
		return
	}
	login, err := a.Identify(r.Context(), tok.AccessToken)
	if err != nil || login == "" {
		fail(http.StatusBadGateway, "GitHub did not say who you are: log in again.")
		return
	}
	if ok, err := a.admitted(r.Context(), login); err != nil || !ok {
		msg := login + " is not a member of " + strings.Join(a.Orgs, " or ") + ", whose members only may use this site."
		if err != nil {
			msg = "Your membership cannot be checked with GitHub right now."
		}
		fail(http.StatusForbidden, msg)
		return
	}
	s := session{Login: login, CSRF: randomToken(), Expires: a.now().Add(a.ttl()).Unix()}
	v, err := a.codec.Encode(sessionCookie, s)
	if err != nil {
		fail(http.StatusInternalServerError, "Cannot keep the login.")
		return
	}
	a.clearCookie(w, stateCookie)
	a.setCookie(w, sessionCookie, v, a.ttl())
	dest := st.Dest
	if dest == "" {
		dest = cmpOr(a.OAuth.FinalRedirectURL, RunsPath)
	}
	http.Redirect(w, r, dest, http.StatusFound)
}

// oauthReason is the OAuth error code of a failed exchange, never its
// body.
func oauthReason(err error) string {
	if re, ok := err.(*oauth2.RetrieveError); ok && re.ErrorCode != "" {
		return re.ErrorCode
	}
	return "request failed"
}

// admitted applies Orgs when a login is required.
func (a *Auth) admitted(ctx context.Context, login string) (bool, error) {
	if !a.RequireLogin || len(a.Orgs) == 0 {
		return true, nil
	}
	for _, org := range a.Orgs {
		ok, err := a.Members.IsOrgMember(ctx, org, login)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	if s := a.session(r); s != nil && !a.checkCSRF(r, s) {
		http.Error(w, "The form is stale: load the page again.", http.StatusForbidden)
		return
	}
	a.clearCookie(w, sessionCookie)
	http.Redirect(w, r, RunsPath, http.StatusSeeOther)
}

// Gate lets only logged-in users through when RequireLogin is set: pages
// send others to log in, the JSON API answers 401 unless the request
// carries a GitHub token (Authorization: Bearer) of an admitted user. The
// login pages and static files stay open.
func (a *Auth) Gate(next http.Handler) http.Handler {
	if a == nil || !a.RequireLogin {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == LoginPath || p == CallbackPath || p == LogoutPath || strings.HasPrefix(p, StaticPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		if a.session(r) != nil {
			next.ServeHTTP(w, r)
			return
		}
		if token := bearerToken(r.Header.Get("Authorization")); token != "" {
			if login := a.tokenLogin(r.Context(), token); login != "" {
				next.ServeHTTP(w, r)
				return
			}
			http.Error(w, "the GitHub token was not accepted", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, LoginPath+"?"+url.Values{"dest": {r.URL.RequestURI()}}.Encode(), http.StatusFound)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="GitHub token"`)
		http.Error(w, "log in, or send a GitHub token as Authorization: Bearer <token>", http.StatusUnauthorized)
	})
}

func bearerToken(h string) string {
	for _, p := range []string{"Bearer ", "bearer ", "token "} {
		if t, ok := strings.CutPrefix(h, p); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}

// tokenLogin is the admitted login of a token, "" if none; answers are
// kept for tokenTTL under the token's digest.
func (a *Auth) tokenLogin(ctx context.Context, token string) string {
	a.init()
	k := sha256.Sum256([]byte(token))
	now := a.now()
	a.mu.Lock()
	e, ok := a.tokens[k]
	a.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.login
	}
	login, err := a.Identify(ctx, token)
	if err != nil || login == "" {
		return ""
	}
	if ok, err := a.admitted(ctx, login); err != nil || !ok {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.tokens) > 10000 {
		clear(a.tokens)
	}
	a.tokens[k] = tokenEntry{login: login, expires: now.Add(tokenTTL)}
	return login
}
