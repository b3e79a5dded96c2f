package trigger_test

import (
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestRunsTestTheCurrentBaseTip: Prow's trigger reads the base branch's
// tip (GetRef heads/<base>) when it creates presubmits, rather than the
// event's base.sha. A delivery that waited while the base branch moved,
// and a /retest after a fix landed on the base, both test the new tip.
func TestRunsTestTheCurrentBaseTip(t *testing.T) {
	h := start(t, []jobs.Presubmit{presubmit("unit", always)}, nil, trigger.Config{}.Trigger)
	n, sha := h.openPR("alice", "topic", map[string]string{"src/a.go": "x\n"}, false)
	stale, err := h.Forge.As("alice").PR(h.Ctx, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	before := stale.GetBase().GetSHA()
	if got := baseSHAs(h, "unit"); len(got) != 1 || got[0] != before {
		t.Fatalf("first run tests base %q, want the tip %s", got, before)
	}

	// A fix lands on main.
	tip, err := h.Forge.As("alice").Push(h.Ctx, repo, "main", map[string][]byte{"fix.go": []byte("package main\n")}, "fix")
	if err != nil {
		t.Fatal(err)
	}
	h.Wait(repo, "push to main", pushTo("refs/heads/main"))

	// An event from before the push, delivered late, still tests the tip.
	ev := &github.PullRequestEvent{Action: github.Ptr("reopened"), Number: github.Ptr(n), PullRequest: stale, Repo: stale.GetBase().GetRepo()}
	h.redeliver("late-delivery", "pull_request", ev)
	h.Wait(repo, "late reopened", plugintest.PRAction(n, "reopened"))
	// And so does /retest.
	if err := h.Forge.As(plugintest.BotLogin).SetStatus(h.Ctx, repo, sha, "unit", "failure", ""); err != nil {
		t.Fatal(err)
	}
	h.Comment("alice", repo, n, "/retest")

	got := baseSHAs(h, "unit")
	if len(got) != 3 || got[0] != before || got[1] != tip || got[2] != tip {
		t.Errorf("runs test bases %q, want %s then the new tip %s twice", got, before, tip)
	}
}

// baseSHAs lists the base commits a job's runs test, oldest first.
func baseSHAs(h *harness, job string) []string {
	h.T.Helper()
	var runs []*v1alpha1.ProwJob
	for _, pj := range h.prowJobs() {
		if pj.Spec.Job == job {
			runs = append(runs, &pj)
		}
	}
	for i := 1; i < len(runs); i++ {
		for j := i; j > 0 && v1alpha1.CreatedBefore(runs[j], runs[j-1]); j-- {
			runs[j], runs[j-1] = runs[j-1], runs[j]
		}
	}
	var out []string
	for _, pj := range runs {
		out = append(out, pj.Spec.Refs.BaseSHA)
	}
	return out
}

// TestTrustedPullRequest is the rule the web role's reruns share with
// /test (Deck's canTriggerJob): a trusted user, or a pull request labelled
// ok-to-test.
func TestTrustedPullRequest(t *testing.T) {
	h := start(t, []jobs.Presubmit{presubmit("unit", always)}, nil, trigger.Config{}.Trigger)
	n, _ := h.openPR("bob", "topic", map[string]string{"src/a.go": "x\n"}, false)
	check := func(user string, want bool) {
		t.Helper()
		got, err := h.plugin.TrustedPullRequest(h.Ctx, user, "acme", "widgets", n)
		if err != nil || got != want {
			t.Errorf("TrustedPullRequest(%s) = %v, %v; want %v", user, got, err, want)
		}
	}
	check("alice", true)
	check("carl", false)
	check("bob", false)
	if err := h.Forge.As("alice").Label(h.Ctx, repo, n, "ok-to-test"); err != nil {
		t.Fatal(err)
	}
	h.Wait(repo, "labeled ok-to-test", plugintest.PRLabeled(n, "labeled", "ok-to-test"))
	check("carl", true)
}
