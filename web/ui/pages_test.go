package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// pool creates a MergePool with a status, as the merge controller writes
// it.
func (f *fixture) pool(org, repo, branch string, st v1alpha1.MergePoolStatus) {
	f.t.Helper()
	ctx := context.Background()
	mp := &v1alpha1.MergePool{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: org + "-" + repo + "-" + branch,
		Labels: map[string]string{v1alpha1.OrgLabel: v1alpha1.LabelValue(org), v1alpha1.RepoLabel: v1alpha1.LabelValue(repo)}},
		Spec: v1alpha1.MergePoolSpec{Org: org, Repo: repo, Branch: branch}}
	if err := env.Client.Create(ctx, mp); err != nil {
		f.t.Fatal(err)
	}
	mp.Status = st
	if err := env.Client.Status().Update(ctx, mp); err != nil {
		f.t.Fatal(err)
	}
}

// TestPRPage: every run of every job of a pull request, by commit, and the
// merge queue's verdict (the tide status's link); JSON for clients that do
// not ask for a page.
func TestPRPage(t *testing.T) {
	f := newFixture(t, func(f *fixture) {
		f.ui.PRStatus = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"from":"merge"}`)) })
		f.apiCfg.HiddenRepos = []string{"acme/private"}
	})
	now := time.Now()
	f.create(runSpec{name: "old-unit", job: "unit", pull: 3, author: "alice", sha: "1111aaaa", state: v1alpha1.FailureState, started: now.Add(-3 * time.Hour), took: time.Minute})
	f.create(runSpec{name: "old-unit-2", job: "unit", pull: 3, author: "alice", sha: "1111aaaa", state: v1alpha1.SuccessState, started: now.Add(-150 * time.Minute), took: time.Minute})
	f.create(runSpec{name: "new-unit", job: "unit", pull: 3, author: "alice", sha: "2222bbbb", state: v1alpha1.PendingState, started: now.Add(-time.Hour)})
	f.create(runSpec{name: "new-lint", job: "lint", pull: 3, author: "alice", sha: "2222bbbb", state: v1alpha1.SuccessState, started: now.Add(-time.Hour), took: time.Minute})
	f.create(runSpec{name: "other-pr", job: "unit", pull: 4, author: "bob", sha: "3333cccc", state: v1alpha1.SuccessState})
	f.pool("acme", "rocket", "main", v1alpha1.MergePoolStatus{Action: v1alpha1.MergeActionTrigger, Targets: []int32{3}, BaseSHA: "b4se0000",
		Summary:      v1alpha1.MergePoolSummary{Open: 2, InPool: 1, Pending: 1},
		PullRequests: []v1alpha1.PoolPullRequest{{Number: 3, State: v1alpha1.PoolPRPending, Reason: "Not mergeable. Job unit has not succeeded.", MissingJobs: []string{"unit"}}}})

	code, body := f.get("/pr/acme/rocket/3")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	contains(t, body, "acme/rocket#3</a> Make it fly", `href="https://forge.example/acme/rocket/pull/3"`,
		"Not mergeable. Job unit has not succeeded.", "Jobs still needed</dt><dd>unit", "Trigger", "#3",
		`href="/merge-pools#pool-`+f.ns+`-acme-rocket-main"`,
		"Commit <a href=\"https://forge.example/acme/rocket/pull/3/commits/2222bbbb\"><code>2222bbb</code>",
		"/runs/"+f.ns+"/new-unit", "/runs/"+f.ns+"/new-lint", "/runs/"+f.ns+"/old-unit-2", "/runs/"+f.ns+"/old-unit\"")
	lacks(t, body, "other-pr")
	if strings.Index(body, "2222bbb") > strings.Index(body, "1111aaa") {
		t.Error("the newest commit is not first")
	}

	_, body = f.get("/pr/acme/rocket/9")
	contains(t, body, "No merge pool knows this pull request", "No run of this pull request is known.")
	if code, _ := f.get("/pr/acme/private/1"); code != http.StatusNotFound {
		t.Errorf("a hidden repository's pull request: %d", code)
	}
	// Without Accept: text/html, the merge controller's JSON (bowline's
	// e2e tests and scripts read it).
	if code, body := f.do(http.DefaultClient, http.MethodGet, "/pr/acme/rocket/3", nil, nil); code != 200 || body != `{"from":"merge"}` {
		t.Errorf("JSON: %d %s", code, body)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(f.srv.URL + "/pr-history?org=acme&repo=rocket&pr=3")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/pr/acme/rocket/3" {
		t.Errorf("Deck's /pr-history redirects to %q", loc)
	}
}

// TestJobHistory: one job's runs, a strip of their states and durations,
// and figures.
func TestJobHistory(t *testing.T) {
	f := newFixture(t)
	base := time.Now().Add(-10 * time.Hour)
	for i, st := range []v1alpha1.ProwJobState{v1alpha1.SuccessState, v1alpha1.FailureState, v1alpha1.SuccessState, v1alpha1.SuccessState, v1alpha1.PendingState} {
		f.create(runSpec{name: "h" + string(rune('a'+i)), job: "e2e", state: st, started: base.Add(time.Duration(i) * time.Hour), took: time.Duration(i+1) * time.Minute})
	}
	f.create(runSpec{name: "other", job: "unit", state: v1alpha1.SuccessState})
	code, body := f.get("/job-history/e2e")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	contains(t, body, "5 runs known; of the 4 that ended, 3 passed and 1 failed (75% passed).", "median 3m00s", "longest 4m00s",
		`<rect class="bar s-failure"`, `<rect class="bar s-pending"`, "/runs/"+f.ns+"/ha\"")
	lacks(t, body, "/runs/"+f.ns+"/other\"")
	// The oldest run is the strip's first bar.
	if i, j := strings.Index(body, "/runs/"+f.ns+"/ha\" aria-label"), strings.Index(body, "/runs/"+f.ns+"/he\" aria-label"); i < 0 || j < 0 || i > j {
		t.Errorf("strip order: %d %d", i, j)
	}
	_, body = f.get("/job-history/none")
	contains(t, body, "No run of this job is known.")
}

// TestHelpPages: the commands and plugins from the plugins' own help
// (/api/plugin-help), for every plugin or those enabled for a repository.
func TestHelpPages(t *testing.T) {
	help := &plugin.ProwHelp{
		AllRepos:    []string{"acme/rocket"},
		RepoPlugins: map[string][]string{"": {"hold", "trigger"}, "acme": {"trigger"}, "acme/rocket": {"hold"}, "other": {"trigger"}},
		PluginHelp: map[string]plugin.ProwPluginHelp{
			"trigger": {Description: "Starts jobs.", Snippet: "triggers:\n- repos: [acme]", Events: []string{"pull_request"},
				Config:   map[string]string{"acme": "Trusted: members of acme."},
				Commands: []plugin.ProwCommand{{Usage: "/test [<job>|all]", Description: "Runs jobs.", WhoCanUse: "Anyone trusted", Featured: true, Examples: []string{"/test all"}}}},
			"hold": {Description: "Holds merges.", Commands: []plugin.ProwCommand{{Usage: "/hold [cancel]", Description: "Adds the `do-not-merge/hold` label.", WhoCanUse: "Anyone"}}},
		},
	}
	f := newFixture(t, func(f *fixture) {
		f.ui.PluginHelp = func(context.Context) (*plugin.ProwHelp, error) { return help, nil }
	})
	_, body := f.get("/command-help")
	contains(t, body, "<code>/test [&lt;job&gt;|all]</code> <span class=\"tag\">featured</span>", "<code>/hold [cancel]</code>", "Anyone trusted", "e.g. <code>/test all</code>",
		"Adds the <code>do-not-merge/hold</code> label.")
	if strings.Index(body, "/test [") > strings.Index(body, "/hold [") {
		t.Error("featured commands are not first")
	}
	_, body = f.get("/command-help?repo=other")
	contains(t, body, "/test [")
	lacks(t, body, "/hold [")
	_, body = f.get("/plugins?repo=acme/rocket")
	contains(t, body, `id="plugin-trigger"`, `id="plugin-hold"`, "Enabled for acme, other.", "Trusted: members of acme.", "triggers:\n- repos: [acme]")

	g := newFixture(t)
	_, body = g.get("/command-help")
	contains(t, body, "The plugin help is not available")
}

// TestConfigAndPools: the ConfigRepository's revision in effect, the last
// one tried and its errors with file:line; the merge pools.
func TestConfigAndPools(t *testing.T) {
	var key types.NamespacedName
	f := newFixture(t, func(f *fixture) {
		key = types.NamespacedName{Namespace: f.ns, Name: "config"}
		f.ui.ConfigRepository = key
	})
	ctx := context.Background()
	cr := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
		Spec: v1alpha1.ConfigRepositorySpec{URL: "https://user:s3cret@git.example.com/acme/config.git", Ref: &v1alpha1.GitRef{Branch: "main"}}}
	if err := env.Client.Create(ctx, cr); err != nil {
		t.Fatal(err)
	}
	cr.Status = v1alpha1.ConfigRepositoryStatus{
		Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "ValidationFailed", Message: "1 error in main@sha1:bad",
			LastTransitionTime: metav1.Now()}},
		LastAppliedRevision: "main@sha1:good", LastAttemptedRevision: "main@sha1:bad",
		ValidationErrors: []string{"config/jobs/acme/rocket.yaml:12:5: unknown field \"alway_run\""},
		Summary:          &v1alpha1.ConfigSummary{Presubmits: 3, Repositories: 1, Plugins: 4},
		History:          []v1alpha1.ReconcileRecord{{Revision: "main@sha1:bad", Time: metav1.Now(), Result: "ValidationFailed"}},
	}
	if err := env.Client.Status().Update(ctx, cr); err != nil {
		t.Fatal(err)
	}
	_, body := f.get("/config-status")
	contains(t, body, "main@sha1:good", "main@sha1:bad</code> <strong>(not applied)</strong>",
		"config/jobs/acme/rocket.yaml:12:5: unknown field &#34;alway_run&#34;", "ValidationFailed", "3 presubmits", "git.example.com/acme/config.git")
	lacks(t, body, "s3cret")

	f.pool("acme", "rocket", "main", v1alpha1.MergePoolStatus{Action: v1alpha1.MergeActionMerge, Targets: []int32{5},
		Summary:      v1alpha1.MergePoolSummary{Open: 2, InPool: 1, Success: 1},
		PullRequests: []v1alpha1.PoolPullRequest{{Number: 5, Title: "Faster", Author: "alice", State: v1alpha1.PoolPRSuccess, Reason: "In merge pool."}}})
	f.pool("acme", "secret", "main", v1alpha1.MergePoolStatus{})
	f.apiCfg.HiddenRepos = []string{"acme/secret"}
	_, body = f.get("/merge-pools")
	contains(t, body, "acme/rocket:main", "Last action: <strong>Merge</strong>", `href="/pr/acme/rocket/5">#5</a> Faster`, "In merge pool.")
	lacks(t, body, "acme/secret")
}

// TestDashboard is Deck's /pr: the logged-in user's pull requests.
func TestDashboard(t *testing.T) {
	f := newFixture(t)
	_, body := f.get("/pr")
	contains(t, body, "Logging in is not set up on this server.")

	fg := forgetest.Start(t, authSeed)
	g := newFixture(t, withLogin(fg))
	now := time.Now()
	g.create(runSpec{name: "a1", job: "unit", pull: 7, author: "alice", sha: "old", state: v1alpha1.FailureState, started: now.Add(-2 * time.Hour), took: time.Minute})
	g.create(runSpec{name: "a2", job: "unit", pull: 7, author: "alice", sha: "new", state: v1alpha1.SuccessState, started: now.Add(-time.Hour), took: time.Minute})
	g.create(runSpec{name: "b1", job: "unit", pull: 8, author: "bob", sha: "b", state: v1alpha1.SuccessState})
	_, body = g.get("/pr")
	contains(t, body, "Log in with GitHub</a> to see yours")
	alice := newBrowser(t, g)
	alice.login(fg, "alice", "/pr")
	_, body = alice.get("/pr")
	contains(t, body, `href="/pr/acme/rocket/7">acme/rocket#7</a> Make it fly`, "/runs/"+g.ns+"/a2")
	lacks(t, body, "acme/rocket#8", "/runs/"+g.ns+"/a1\"")
}

// TestEvents: pages are told when runs change, never about hidden runs.
func TestEvents(t *testing.T) {
	b := &Broker{Hidden: func(pj *v1alpha1.ProwJob) bool { return pj.Spec.Hidden }, MinInterval: time.Millisecond, ListInterval: time.Millisecond}
	f := newFixture(t, func(f *fixture) { f.ui.Events = b })
	listen := func(q string) (*bufio.Reader, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/events"+q, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
		}
		r := bufio.NewReader(resp.Body)
		if line, _ := r.ReadString('\n'); line != "retry: 5000\n" {
			t.Fatalf("first line %q", line)
		}
		return r, func() { cancel(); resp.Body.Close() }
	}
	all, stopAll := listen("")
	defer stopAll()
	one, stopOne := listen("?run=" + f.ns + "/mine")
	defer stopOne()
	waitStreams := func(n int) {
		for b.Streams() != n {
			time.Sleep(time.Millisecond)
		}
	}
	waitStreams(2)
	pj := func(name string, hidden bool) *v1alpha1.ProwJob {
		return &v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name}, Spec: v1alpha1.ProwJobSpec{Hidden: hidden}}
	}
	next := func(r *bufio.Reader) string {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return "error: " + err.Error()
			}
			if strings.HasPrefix(line, "event: ") {
				return strings.TrimSpace(line)
			}
		}
	}
	b.OnAdd(pj("hidden", true), false)
	b.OnUpdate(nil, pj("other", false))
	if got := next(all); got != "event: change" {
		t.Errorf("all runs: %q", got)
	}
	b.OnDelete(pj("mine", false))
	if got := next(one); got != "event: change" {
		t.Errorf("one run: %q", got)
	}
	// Which subscribers are told, without streams: a run's page hears of
	// its run only, nobody of hidden runs.
	sAll, _, _ := b.subscribe("")
	sOne, _, _ := b.subscribe(f.ns + "/mine")
	b.OnUpdate(nil, pj("other", false))
	b.OnUpdate(nil, pj("mine", true))
	if len(sAll.ch) != 1 || len(sOne.ch) != 0 {
		t.Errorf("after another run changed: all %d, one %d", len(sAll.ch), len(sOne.ch))
	}
	b.OnUpdate(nil, pj("mine", false))
	if len(sOne.ch) != 1 {
		t.Errorf("after its run changed: %d", len(sOne.ch))
	}
	b.unsubscribe(sAll)
	b.unsubscribe(sOne)
	stopOne()
	waitStreams(1)
	data, _ := json.Marshal(b.Streams())
	if string(data) != "1" {
		t.Errorf("streams %s", data)
	}
	// Close ends the streams, so that the server can shut down.
	b.Close()
	if _, err := all.ReadString('\n'); err == nil {
		for {
			if _, err := all.ReadString('\n'); err != nil {
				break
			}
		}
	}
	waitStreams(0)
}
