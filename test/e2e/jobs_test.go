package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

// jobsConfig is a config repository for demo/hello with one job of each
// kind the loop needs: a presubmit that passes, one that fails when a
// "broken" file changes, a slow one that is running when a new commit
// arrives, a postsubmit and a periodic every minute.
var jobsConfig = map[string]string{
	"config/prow/config.yaml": `prowjob_namespace: default
pod_namespace: default
plank:
  default_decoration_config_entries:
  - config:
      timeout: 10m
      grace_period: 5s
`,
	"config/prow/plugins.yaml": `plugins:
  demo:
    plugins:
    - trigger
`,
	"config/jobs/demo/hello.yaml": `presubmits:
  demo/hello:
  - name: passes
    always_run: true
    decorate: true
    spec:
      containers:
      - image: alpine
        command: [sh, ./test.sh]
  - name: fails-on-broken
    run_if_changed: '^broken'
    decorate: true
    spec:
      containers:
      - image: alpine
        command: [sh, -c, 'echo "broken files found"; exit 1']
  - name: slow
    always_run: true
    optional: true
    decorate: true
    spec:
      containers:
      - image: alpine
        command: [sh, -c, 'sleep 600']
postsubmits:
  demo/hello:
  - name: publish
    branches: ['^main$']
    decorate: true
    spec:
      containers:
      - image: alpine
        command: [sh, -c, 'echo published']
periodics:
- name: every-minute
  interval: 1m
  decorate: true
  spec:
    containers:
    - image: alpine
      command: [sh, -c, 'echo tick']
`,
}

// run is what the JSON API says of a ProwJob.
type run struct {
	Name  string `json:"name"`
	Job   string `json:"job"`
	Type  string `json:"type"`
	State string `json:"state"`
	Refs  *struct {
		Pulls []struct {
			Number int    `json:"number"`
			SHA    string `json:"sha"`
		} `json:"pulls"`
	} `json:"refs"`
}

// runs lists the ProwJobs the JSON API has for a query.
func runs(t *testing.T, api string, query url.Values) []run {
	t.Helper()
	resp, err := http.Get(api + "/api/prowjobs?" + query.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Items []run `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// eventually polls cond until it holds or the time is up.
func eventually(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s (last seen: %s)", what, timeout, last)
}

func statusOf(ctx context.Context, gh *github.Client, sha string) map[string]string {
	out := map[string]string{}
	st, _, err := gh.Repositories.GetCombinedStatus(ctx, "demo", "hello", sha, nil)
	if err != nil {
		return out
	}
	for _, s := range st.Statuses {
		out[s.GetContext()] = s.GetState()
	}
	return out
}

// gitRepo writes files (path to content) into a new git repository with
// one commit on main, and returns its directory.
func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"commit", "-q", "-m", "jobs"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	return dir
}

// TestJobsLoop is the loop users judge a CI system by, end to end: bowline
// up with the local agent and the sandbox forge, a config repository with a
// passing presubmit, a failing conditional one, a slow one, a postsubmit and
// a one-minute periodic.
func TestJobsLoop(t *testing.T) {
	p := startUp(t, "--config-repo", gitRepo(t, jobsConfig))
	api := p.ready.URL
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	alice := p.sandboxClient(t, p.ready.Sandbox.Token)
	const wait = 2 * time.Minute

	// Opening a PR runs the jobs whose rules match.
	sha1 := openPullRequest(ctx, t, alice, "demo/hello", "change", map[string]string{"broken.txt": "oops\n"})
	eventually(t, "statuses of the first commit", wait, func() (bool, string) {
		st := statusOf(ctx, alice, sha1)
		return st["passes"] == "success" && st["fails-on-broken"] == "failure" && st["slow"] == "pending", fmt.Sprint(st)
	})
	eventually(t, "a summary comment naming the failed job", wait, func() (bool, string) {
		cs, _, err := alice.Issues.ListComments(ctx, "demo", "hello", 1, nil)
		if err != nil {
			return false, err.Error()
		}
		for _, c := range cs {
			if c.GetUser().GetLogin() == "bowline-bot" && strings.Contains(c.GetBody(), "fails-on-broken") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d comments", len(cs))
	})

	// /retest runs the failed job again.
	if _, _, err := alice.Issues.CreateComment(ctx, "demo", "hello", 1, &github.IssueComment{Body: github.Ptr("/retest")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a second run of the failed job", wait, func() (bool, string) {
		rs := runs(t, api, url.Values{"job": {"fails-on-broken"}, "pull": {"1"}})
		return len(rs) == 2, fmt.Sprintf("%d runs", len(rs))
	})

	// A new commit aborts the runs of the old one and tests the new one.
	sha2 := pushFiles(ctx, t, alice, "demo/hello", "change", map[string]string{"broken.txt": "still\n"}, false)
	eventually(t, "the old slow run aborted and the new commit tested", wait, func() (bool, string) {
		var oldSlow, newPasses string
		for _, r := range runs(t, api, url.Values{"pull": {"1"}}) {
			if r.Refs == nil || len(r.Refs.Pulls) == 0 {
				continue
			}
			switch {
			case r.Job == "slow" && r.Refs.Pulls[0].SHA == sha1:
				oldSlow = r.State
			case r.Job == "passes" && r.Refs.Pulls[0].SHA == sha2:
				newPasses = r.State
			}
		}
		return oldSlow == "aborted" && newPasses == "success", "old slow " + oldSlow + ", new passes " + newPasses
	})

	// An author outside the org gets nothing until a member says /ok-to-test.
	pushFiles(ctx, t, alice, "demo/hello", "outside", map[string]string{"CONTRIBUTING.md": "Welcome.\n"}, true)
	eve := p.sandboxClient(t, "eve-token")
	pr2, _, err := eve.PullRequests.Create(ctx, "demo", "hello", &github.NewPullRequest{
		Title: github.Ptr("A contribution"), Head: github.Ptr("outside"), Base: github.Ptr("main"),
	})
	if err != nil {
		t.Fatal(err)
	}
	n2 := pr2.GetNumber()
	eventually(t, "needs-ok-to-test on the outside contribution", wait, func() (bool, string) {
		labels, _, err := alice.Issues.ListLabelsByIssue(ctx, "demo", "hello", n2, nil)
		if err != nil {
			return false, err.Error()
		}
		for _, l := range labels {
			if l.GetName() == "needs-ok-to-test" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d labels", len(labels))
	})
	if rs := runs(t, api, url.Values{"pull": {fmt.Sprint(n2)}}); len(rs) != 0 {
		t.Fatalf("%d runs for an untrusted pull request before /ok-to-test", len(rs))
	}
	if _, _, err := alice.Issues.CreateComment(ctx, "demo", "hello", n2, &github.IssueComment{Body: github.Ptr("/ok-to-test")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "runs after /ok-to-test", wait, func() (bool, string) {
		rs := runs(t, api, url.Values{"pull": {fmt.Sprint(n2)}, "job": {"passes"}})
		return len(rs) == 1 && rs[0].State == "success", fmt.Sprint(rs)
	})

	// Merging runs the postsubmit.
	if _, _, err := alice.PullRequests.Merge(ctx, "demo", "hello", 1, "", &github.PullRequestOptions{MergeMethod: "squash"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the postsubmit after the merge", wait, func() (bool, string) {
		rs := runs(t, api, url.Values{"job": {"publish"}, "type": {"postsubmit"}})
		return len(rs) >= 1 && rs[0].State == "success", fmt.Sprint(rs)
	})

	// The one-minute periodic has run.
	eventually(t, "a run of the periodic", wait, func() (bool, string) {
		rs := runs(t, api, url.Values{"job": {"every-minute"}, "type": {"periodic"}})
		for _, r := range rs {
			if r.State == "success" {
				return true, ""
			}
		}
		return false, fmt.Sprint(rs)
	})

	p.stop(t)
}
