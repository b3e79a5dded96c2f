package forge

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
)

// principal is who a request acts as.
type principal struct {
	// login is the user, or the app's bot user for an installation token.
	login string
	// inst is set for installation tokens.
	inst *installation
	// app is set for a GitHub App's JWT, which may only call /app endpoints.
	app *app
	// scopes are a personal access token's OAuth scopes, sent back in
	// X-OAuth-Scopes; nil for every other kind of principal.
	scopes []string
}

// DefaultTokenScopes are the scopes of a seeded token that names none:
// everything bowline's components use.
var DefaultTokenScopes = []string{"admin:org", "admin:repo_hook", "repo", "user"}

func (p principal) anonymous() bool { return p.login == "" && p.inst == nil && p.app == nil }

// rateKey identifies whose budget a request spends.
func (p principal) rateKey(r *http.Request) string {
	switch {
	case p.inst != nil:
		return "installation:" + strconv.FormatInt(p.inst.ID, 10)
	case p.app != nil:
		return "app:" + strconv.FormatInt(p.app.ID, 10)
	case p.login != "":
		return "user:" + key(p.login)
	}
	host := r.RemoteAddr
	if i := strings.LastIndex(host, ":"); i > 0 {
		host = host[:i]
	}
	return "anonymous:" + host
}

// authenticate resolves the Authorization header. A missing header is the
// anonymous principal; a header that names nothing is 401, as on GitHub.
func (f *Forge) authenticate(r *http.Request) (principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return principal{}, nil
	}
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "token", "bearer":
	case "basic":
		// git and some clients send the token as the basic-auth password.
		_, pass, ok := r.BasicAuth()
		if !ok {
			return principal{}, errStatus(http.StatusUnauthorized, "Bad credentials")
		}
		cred = pass
	default:
		return principal{}, errStatus(http.StatusUnauthorized, "Bad credentials")
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if t := f.st.Tokens[cred]; t != nil {
		if !t.Expires.IsZero() && !f.now().Before(t.Expires) {
			return principal{}, errStatus(http.StatusUnauthorized, "Bad credentials")
		}
		if t.Installation != 0 {
			in := f.st.Installations[t.Installation]
			if in == nil {
				return principal{}, errStatus(http.StatusUnauthorized, "Bad credentials")
			}
			p := principal{inst: in}
			if a := f.st.Apps[in.App]; a != nil {
				p.login = botLogin(a)
			}
			return p, nil
		}
		scopes := t.Scopes
		if scopes == nil {
			scopes = DefaultTokenScopes
		}
		return principal{login: f.st.user(t.User).Login, scopes: scopes}, nil
	}
	if strings.Count(cred, ".") == 2 {
		if a, err := f.verifyAppJWT(cred); err == nil {
			return principal{app: a}, nil
		}
		return principal{}, errStatus(http.StatusUnauthorized, "A JSON web token could not be decoded")
	}
	return principal{}, errStatus(http.StatusUnauthorized, "Bad credentials")
}

func botLogin(a *app) string { return a.Slug + "[bot]" }

// verifyAppJWT checks an RS256 JWT against the public key of the app named
// by its issuer claim. Callers hold f.mu.
func (f *Forge) verifyAppJWT(raw string) (*app, error) {
	var found *app
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	claims := &jwt.RegisteredClaims{}
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		id, err := strconv.ParseInt(claims.Issuer, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("issuer is not an app ID")
		}
		a := f.st.Apps[id]
		if a == nil {
			return nil, fmt.Errorf("no such app")
		}
		found = a
		return jwt.ParseRSAPublicKeyFromPEM([]byte(a.PublicKey))
	})
	if err != nil {
		return nil, err
	}
	now := f.now()
	// GitHub allows 60s of clock drift and at most ten minutes of validity.
	if claims.ExpiresAt == nil || !now.Before(claims.ExpiresAt.Time) {
		return nil, fmt.Errorf("expired")
	}
	if claims.IssuedAt != nil && claims.IssuedAt.Time.After(now.Add(time.Minute)) {
		return nil, fmt.Errorf("issued in the future")
	}
	if claims.IssuedAt != nil && claims.ExpiresAt.Time.Sub(claims.IssuedAt.Time) > 10*time.Minute+time.Second {
		return nil, fmt.Errorf("valid for too long")
	}
	return found, nil
}

func newToken(prefix string) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// perm is what p may do on r. Callers hold f.mu.
func (s *state) perm(p principal, r *repo) string {
	base := permNone
	if !r.Private {
		base = permRead
	}
	if p.inst != nil {
		if key(p.inst.Account) == key(r.Owner) {
			return permAdmin
		}
		return base
	}
	if p.login == "" {
		return base
	}
	u := s.user(p.login)
	if u == nil {
		return base
	}
	if u.SiteAdmin || key(r.Owner) == key(p.login) {
		return permAdmin
	}
	login := key(p.login)
	if o := s.org(r.Owner); o != nil {
		switch o.Members[login] {
		case "admin":
			return permAdmin
		case "member":
			def := o.DefaultPerm
			if def == "" {
				def = permRead
			}
			base = maxPerm(base, def)
		}
		for _, t := range o.Teams {
			if _, ok := t.Members[login]; !ok {
				continue
			}
			if tp, ok := t.Repos[key(r.fullName())]; ok {
				base = maxPerm(base, tp)
			}
		}
	}
	if cp, ok := r.Collaborators[login]; ok {
		base = maxPerm(base, cp)
	}
	return base
}

// repoFor finds the repository of the request's {owner}/{repo} and checks
// that the caller has at least want on it: 404 when they cannot see it,
// 403 when they can but may not do this.
func (c *call) repoFor(s *state, want string) (*repo, error) {
	r := s.repo(c.param("owner"), c.param("repo"))
	if r == nil {
		return nil, errNotFound()
	}
	if c.who.app != nil {
		return nil, errForbidden("A JSON web token cannot be used to access this resource; use an installation token")
	}
	have := s.perm(c.who, r)
	if have == permNone {
		return nil, errNotFound()
	}
	if want != permRead && c.who.anonymous() {
		return nil, errStatus(http.StatusUnauthorized, "Requires authentication")
	}
	if !atLeast(have, want) {
		if c.who.inst != nil {
			return nil, errForbidden("Resource not accessible by integration")
		}
		return nil, errForbidden(fmt.Sprintf("Must have %s access to repository", want))
	}
	if r.Archived && want != permRead {
		return nil, errForbidden("Repository was archived so is read-only.")
	}
	return r, nil
}

// needUser rejects anonymous callers and apps, for endpoints about "me".
func (c *call) needUser() error {
	if c.who.app != nil {
		return errForbidden("A JSON web token cannot be used to access this resource")
	}
	if c.who.login == "" {
		return errStatus(http.StatusUnauthorized, "Requires authentication")
	}
	return nil
}

// orgRole is the caller's role in an org: admin, member or "".
func (s *state) orgRole(p principal, o *org) string {
	if p.inst != nil {
		if key(p.inst.Account) == key(o.Login) {
			return "admin"
		}
		return ""
	}
	if u := s.user(p.login); u != nil && u.SiteAdmin {
		return "admin"
	}
	return o.Members[key(p.login)]
}

// rateLimiter counts requests per caller in GitHub's windows: an hour for
// the core API, a minute for search.
type rateLimiter struct {
	mu     sync.Mutex
	limit  int
	search int
	now    func() time.Time
	window map[string]*rateWindow
}

type rateWindow struct {
	reset time.Time
	used  int
}

func newRateLimiter(limit, search int, now func() time.Time) *rateLimiter {
	return &rateLimiter{limit: limit, search: search, now: now, window: map[string]*rateWindow{}}
}

type rateState struct {
	resource    string
	limit, used int
	reset       time.Time
}

// peek reports the budget without spending it; take spends one request.
func (l *rateLimiter) state(who, resource string, spend bool) rateState {
	limit, period := l.limit, time.Hour
	if resource == "search" {
		limit, period = l.search, time.Minute
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	k := resource + "|" + who
	w := l.window[k]
	if w == nil || !now.Before(w.reset) {
		w = &rateWindow{reset: now.Add(period).Truncate(time.Second)}
		l.window[k] = w
	}
	if spend {
		w.used++
	}
	return rateState{resource: resource, limit: limit, used: w.used, reset: w.reset}
}

func (rs rateState) remaining() int { return max(rs.limit-rs.used, 0) }

func (rs rateState) setHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(rs.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(rs.remaining()))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(rs.reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(rs.used))
	h.Set("X-RateLimit-Resource", rs.resource)
}

func parsePublicKey(pem string) (any, error) {
	k, err := jwt.ParseRSAPublicKeyFromPEM([]byte(pem))
	if err != nil {
		return nil, fmt.Errorf("public key is not an RSA public key in PEM: %w", err)
	}
	return k, nil
}
