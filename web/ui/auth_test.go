package ui

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/web/api"
)

const authSeed = `
users:
- {login: bowline-bot, token: bot-token, bot: true}
- {login: alice, token: alice-token}
- {login: mallory, token: mallory-token}
orgs:
- login: acme
  admins: [bowline-bot]
  members: [alice]
repos:
- name: acme/rocket
  files: {README.md: "# rocket\n"}
`

// withLogin sets up logins against a sandbox forge acting as GitHub, and
// reruns for alice (deck.rerun_auth_configs names her).
func withLogin(fg *forgetest.Env, mods ...func(*Auth)) func(*fixture) {
	return func(f *fixture) {
		app := forge.OAuthApp{ClientID: "web-client", ClientSecret: "web-secret", Name: "bowline", CallbackURL: f.srv.URL + CallbackPath}
		if err := fg.Forge.RegisterOAuthApp(app); err != nil {
			f.t.Fatal(err)
		}
		bot := fg.Client(f.t, "bot-token")
		f.apiCfg.RerunAuth = []api.RerunAuthEntry{{OrgRepo: "acme", Auth: v1alpha1.RerunAuthConfig{GitHubUsers: []string{"alice"}}}}
		identify := api.GitHubIdentity{BaseURL: fg.URL + "/"}.Identify
		members := api.GitHubMembership{ForOrg: func(string) (*github.Client, error) { return bot, nil }}
		f.api.Rerun = &api.Reruns{Creator: env.Client, Status: env.Client, Identify: identify, Members: members}
		f.ui.Auth = &Auth{
			OAuth:        OAuthConfig{ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: app.CallbackURL},
			GitHubURL:    fg.URL,
			Identify:     identify,
			CookieSecret: []byte("0123456789abcdef0123456789abcdef"),
			Members:      members,
		}
		for _, m := range mods {
			m(f.ui.Auth)
		}
	}
}

// browser is an HTTP client with cookies that sends what browsers send.
type browser struct {
	t  *testing.T
	f  *fixture
	hc *http.Client
}

func newBrowser(t *testing.T, f *fixture) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, f: f, hc: &http.Client{Jar: jar}}
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	return b.f.do(b.hc, http.MethodGet, path, nil, map[string]string{"Accept": "text/html"})
}

// post submits a form of the UI's own pages.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	return b.f.do(b.hc, http.MethodPost, path, strings.NewReader(form.Encode()), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html",
		"Origin": b.f.srv.URL, "Sec-Fetch-Site": "same-origin"})
}

// login logs in through the forge's OAuth pages, as a user fills them.
func (b *browser) login(fg *forgetest.Env, user, dest string) (int, string) {
	b.t.Helper()
	code, page := b.get(LoginPath + "?dest=" + url.QueryEscape(dest))
	if code != http.StatusOK || !strings.Contains(page, "Authorize bowline") {
		b.t.Fatalf("the forge's authorization page: %d %s", code, page)
	}
	hidden := map[string]string{}
	for _, m := range regexp.MustCompile(`name="(\w+)" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		hidden[m[1]] = htmlUnescape(m[2])
	}
	form := url.Values{"login": {user}, "token": {user + "-token"}, "authorize": {"1"}}
	for _, k := range []string{"client_id", "redirect_uri", "scope", "state"} {
		form.Set(k, hidden[k])
	}
	req, err := http.NewRequest(http.MethodPost, fg.URL+forge.OAuthAuthorizePath, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(b.t, resp)
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil || m[1] == "" {
		t.Fatalf("no form token on the page")
	}
	return m[1]
}

// TestLoginRerunAbort: anonymous users are refused, a user logged in
// through GitHub's OAuth flow (the forge) may rerun and abort what
// rerun_auth_configs allows them, forms carry the session's token and come
// from the UI's own pages.
func TestLoginRerunAbort(t *testing.T) {
	fg := forgetest.Start(t, authSeed)
	f := newFixture(t, withLogin(fg))
	f.create(runSpec{name: "done", job: "unit", state: v1alpha1.FailureState, buildID: "1"})
	f.create(runSpec{name: "busy", job: "unit", state: v1alpha1.PendingState, buildID: "2"})
	runPage := "/runs/" + f.ns + "/done"

	anon := newBrowser(t, f)
	_, page := anon.get(runPage)
	contains(t, page, `id="login" href="/github-login?dest=%2Fruns%2F`, `id="rerun"`, "Log in with GitHub to rerun or abort this job.")
	if code, page := anon.post(runPage+"/rerun", nil); code != http.StatusUnauthorized || !strings.Contains(page, "log in with GitHub to rerun") {
		t.Errorf("anonymous rerun: %d %s", code, page)
	}

	alice := newBrowser(t, f)
	code, page := alice.login(fg, "alice", runPage)
	if code != http.StatusOK || !strings.Contains(page, `Logged in as <strong id="user">alice</strong>`) || !strings.Contains(page, `<span class="job">unit</span>`) {
		t.Fatalf("after login: %d %s", code, page)
	}
	lacks(t, page, "disabled")
	token := csrfOf(t, page)

	if code, _ := alice.post(runPage+"/rerun", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("rerun with a wrong form token: %d", code)
	}
	code, page = alice.post(runPage+"/rerun", url.Values{"csrf": {token}})
	if code != http.StatusOK || !strings.Contains(page, "This run was started from the web UI.") {
		t.Fatalf("rerun: %d %s", code, page)
	}
	var list v1alpha1.ProwJobList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(f.ns), client.MatchingLabels{v1alpha1.RerunLabel: "true"}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Annotations[v1alpha1.TriggeredByAnnotation] != "alice" || list.Items[0].Spec.Job != "unit" {
		t.Fatalf("reruns: %+v", list.Items)
	}

	if code, page := alice.post("/runs/"+f.ns+"/busy/abort", url.Values{"csrf": {token}}); code != http.StatusOK || !strings.Contains(page, "The run was asked to stop.") {
		t.Errorf("abort: %d %s", code, page)
	}
	busy := &v1alpha1.ProwJob{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: "busy"}, busy); err != nil || busy.Status.State != v1alpha1.AbortedState {
		t.Errorf("busy after abort: %s (%v)", busy.Status.State, err)
	}
	if code, _ := alice.post("/runs/"+f.ns+"/done/abort", url.Values{"csrf": {token}}); code != http.StatusConflict {
		t.Errorf("abort of a run that ended: %d, want 409", code)
	}

	// A form posted from another site is refused before anything else.
	code, _ = f.do(alice.hc, http.MethodPost, runPage+"/rerun", strings.NewReader(url.Values{"csrf": {token}}.Encode()), map[string]string{
		"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	if code != http.StatusForbidden {
		t.Errorf("cross-site form: %d, want 403", code)
	}

	mallory := newBrowser(t, f)
	_, page = mallory.login(fg, "mallory", runPage)
	contains(t, page, `id="rerun" disabled`, "mallory may not rerun or abort unit")
	if code, _ := mallory.post(runPage+"/rerun", url.Values{"csrf": {csrfOf(t, page)}}); code != http.StatusForbidden {
		t.Errorf("mallory's rerun: %d, want 403", code)
	}

	// Logging out ends the session.
	if code, page := alice.post(LogoutPath, url.Values{"csrf": {token}}); code != http.StatusOK || strings.Contains(page, `id="user"`) {
		t.Errorf("logout: %d", code)
	}
	if code, _ := alice.post(runPage+"/rerun", url.Values{"csrf": {token}}); code != http.StatusUnauthorized {
		t.Errorf("rerun after logout: %d, want 401", code)
	}
}

// TestLoginState refuses callbacks that did not start here or were
// tampered with.
func TestLoginState(t *testing.T) {
	fg := forgetest.Start(t, authSeed)
	f := newFixture(t, withLogin(fg))
	b := newBrowser(t, f)
	if code, _ := b.get(CallbackPath + "?code=x&state=y"); code != http.StatusBadRequest {
		t.Errorf("callback without a login: %d", code)
	}
	// Start a login, then come back with another state.
	b.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+LoginPath+"?dest=//evil.example/", nil)
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := resp.Location()
	if loc == nil || !strings.HasPrefix(loc.String(), fg.URL+forge.OAuthAuthorizePath) || loc.Query().Get("state") == "" {
		t.Fatalf("login goes to %v", loc)
	}
	if code, _ := b.get(CallbackPath + "?code=x&state=forged"); code != http.StatusBadRequest {
		t.Errorf("callback with another state: %d", code)
	}
	if localPath("//evil.example/") != "" || localPath("https://evil.example/") != "" || localPath("/runs/a/b?x=1") != "/runs/a/b?x=1" {
		t.Error("localPath lets a foreign destination through")
	}
}

// TestRequireLogin: with the setting on, pages send strangers to log in,
// the JSON API wants a GitHub token, and only members of the named orgs
// get in.
func TestRequireLogin(t *testing.T) {
	fg := forgetest.Start(t, authSeed)
	f := newFixture(t, withLogin(fg, func(a *Auth) { a.RequireLogin, a.Orgs = true, []string{"acme"} }))
	f.create(runSpec{name: "r", job: "unit", state: v1alpha1.SuccessState})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	code, _ := f.do(noFollow, http.MethodGet, "/", nil, map[string]string{"Accept": "text/html"})
	if code != http.StatusFound {
		t.Errorf("page without login: %d, want a redirect to log in", code)
	}
	tests := []struct {
		path, token string
		want        int
	}{
		{"/api/prowjobs", "", http.StatusUnauthorized},
		{"/prowjobs.js", "", http.StatusUnauthorized},
		{"/events", "", http.StatusUnauthorized},
		{"/api/prowjobs", "alice-token", http.StatusOK},
		{"/api/prowjobs", "mallory-token", http.StatusUnauthorized},
		{"/api/prowjobs", "made-up", http.StatusUnauthorized},
		{StaticPrefix + "app.css", "", http.StatusOK},
	}
	for _, tt := range tests {
		hdr := map[string]string{}
		if tt.token != "" {
			hdr["Authorization"] = "Bearer " + tt.token
		}
		if code, _ := f.do(noFollow, http.MethodGet, tt.path, nil, hdr); code != tt.want {
			t.Errorf("%s with %q: %d, want %d", tt.path, tt.token, code, tt.want)
		}
	}

	alice := newBrowser(t, f)
	if code, page := alice.login(fg, "alice", "/"); code != http.StatusOK || !strings.Contains(page, "/runs/"+f.ns+"/r") {
		t.Errorf("member: %d", code)
	}
	mallory := newBrowser(t, f)
	if code, page := mallory.login(fg, "mallory", "/"); code != http.StatusForbidden || !strings.Contains(page, "not a member of acme") {
		t.Errorf("outsider: %d %s", code, page)
	}
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oauth := write("oauth.yaml", "client_id: id\nclient_secret: s\nredirect_url: https://ci.example.com/github-login/redirect\nfinal_redirect_url: https://ci.example.com/pr\n")
	badOAuth := write("bad.yaml", "client_id: id\nclient_secret: s\nredirect_url: https://ci.example.com/callback\n")
	typo := write("typo.yaml", "client_id: id\nclient_secert: s\nredirect_url: https://ci.example.com/github-login/redirect\n")
	b64 := write("cookie.txt", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=\n") // openssl rand -base64 32
	short := write("short.txt", "too short")
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"nothing: nobody logs in", Options{GitHubURL: "https://github.com"}, ""},
		{"Prow's files", Options{OAuthConfigFile: oauth, CookieSecretFile: b64, GitHubURL: "https://github.com"}, ""},
		{"OAuth without a cookie secret", Options{OAuthConfigFile: oauth, GitHubURL: "https://github.com"}, "go together"},
		{"require login without OAuth", Options{RequireLogin: true, GitHubURL: "https://github.com"}, "nobody could log in"},
		{"orgs without require login", Options{OAuthConfigFile: oauth, CookieSecretFile: b64, LoginOrgs: []string{"acme"}, GitHubURL: "https://github.com"}, "only applies"},
		{"a relative hook URL", Options{HookURL: "hook:8888", GitHubURL: "https://github.com"}, "--hook-url"},
		{"the callback elsewhere", Options{OAuthConfigFile: badOAuth, CookieSecretFile: b64, GitHubURL: "https://github.com"}, "must end in /github-login/redirect"},
		{"a misspelled field", Options{OAuthConfigFile: typo, CookieSecretFile: b64, GitHubURL: "https://github.com"}, "client_secert"},
		{"a short cookie secret", Options{OAuthConfigFile: oauth, CookieSecretFile: short, GitHubURL: "https://github.com"}, "at least 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.o.Validate()
			if err == nil && tt.o.LoginEnabled() {
				_, _, err = tt.o.Load()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
	cfg, secret, err := (&Options{OAuthConfigFile: oauth, CookieSecretFile: b64}).Load()
	if err != nil || cfg.FinalRedirectURL != "https://ci.example.com/pr" || string(secret) != "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef" {
		t.Errorf("Load: %+v %q %v", cfg, secret, err)
	}
}
