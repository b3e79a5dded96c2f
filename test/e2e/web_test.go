package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestUpWebUI uses the web UI of `bowline up` as a person would, over
// HTTP: the status of a pull request's run links to the run's page, which
// shows its log; logging in goes through the sandbox forge's OAuth pages;
// the logged-in maintainer reruns the run from its page. (The browser test
// of web/ui drives the same pages in Chromium.)
func TestUpWebUI(t *testing.T) {
	p := startUp(t)
	r := p.ready
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	gh := p.sandboxClient(t, r.Sandbox.Token)
	sha := openPullRequest(ctx, t, gh, r.Sandbox.DemoRepo, "web-ui", map[string]string{"NOTES.md": "Seen in the web UI.\n"})
	waitStatus(ctx, t, gh, p, sha, "success")

	st, _, err := gh.Repositories.GetCombinedStatus(ctx, "demo", "hello", sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	var runPage string
	for _, s := range st.Statuses {
		if s.GetContext() == "pull-hello-test" {
			runPage = s.GetTargetURL()
		}
	}
	if !strings.HasPrefix(runPage, r.URL+"/runs/") {
		t.Fatalf("the status links to %q, not to the run's page under %s/runs/", runPage, r.URL)
	}

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	get := func(u string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, page := get(runPage)
	if code != http.StatusOK || !strings.Contains(page, `<span class="job">pull-hello-test</span>`) || !strings.Contains(page, `id="L1"`) {
		t.Fatalf("the run's page: %d\n%s", code, page)
	}
	if _, list := get(r.URL + "/?repo=demo/hello&state=success"); !strings.Contains(list, strings.TrimPrefix(runPage, r.URL)) {
		t.Errorf("the runs page does not list the run")
	}

	// Log in as alice through the sandbox forge, as GitHub's OAuth flow
	// goes, and come back to the run.
	_, authz := get(r.URL + "/github-login?dest=" + url.QueryEscape(strings.TrimPrefix(runPage, r.URL)))
	form := url.Values{"login": {"alice"}, "token": {r.Sandbox.Token}, "authorize": {"1"}}
	for _, m := range regexp.MustCompile(`name="(client_id|redirect_uri|scope|state)" value="([^"]*)"`).FindAllStringSubmatch(authz, -1) {
		form.Set(m[1], strings.ReplaceAll(m[2], "&amp;", "&"))
	}
	if form.Get("state") == "" {
		t.Fatalf("no authorization page from the sandbox forge:\n%s", authz)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.Sandbox.URL+"/login/oauth/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page = readBody(t, resp)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if !strings.Contains(page, `Logged in as <strong id="user">alice</strong>`) || csrf == nil {
		t.Fatalf("after logging in: %d\n%s", resp.StatusCode, page)
	}

	// Rerun from the page: a new run of the job, started by alice.
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, runPage+"/rerun", strings.NewReader(url.Values{"csrf": {csrf[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", r.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page = readBody(t, resp)
	if !strings.Contains(page, "This run was started from the web UI.") || resp.Request.URL.String() == runPage {
		t.Fatalf("rerun: %d at %s\n%s", resp.StatusCode, resp.Request.URL, page)
	}
	if !strings.Contains(page, "<dt>Triggered by</dt><dd>alice</dd>") {
		t.Errorf("the rerun does not say alice started it")
	}
	p.stop(t)
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
