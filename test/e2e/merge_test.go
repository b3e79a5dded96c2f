package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestMergePool is the merge queue end to end, with the quickstart as
// `bowline up` runs it: two approved pull requests whose test results went
// stale when main moved are tested together in a batch and merged; a third
// whose test fails is not, and its tide status says why, as does the page
// the status links to.
func TestMergePool(t *testing.T) {
	p := startUp(t)
	api := p.ready.URL
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	alice := p.sandboxClient(t, p.ready.Sandbox.Token)
	const wait = 3 * time.Minute

	shaA := openPullRequest(ctx, t, alice, "demo/hello", "add-a", map[string]string{"a.txt": "a\n"})
	shaB := openPullRequest(ctx, t, alice, "demo/hello", "add-b", map[string]string{"b.txt": "b\n"})
	shaC := openPullRequest(ctx, t, alice, "demo/hello", "break-greeting",
		map[string]string{"hello.sh": "greet() { echo \"Bye, ${1:-world}!\"; }\n"})
	waitStatus(ctx, t, alice, p, shaA, "success")
	waitStatus(ctx, t, alice, p, shaB, "success")
	eventually(t, "the failing presubmit of the third pull request", wait, func() (bool, string) {
		st := statusOf(ctx, alice, shaC)
		return st["pull-hello-test"] == "failure", fmt.Sprint(st)
	})

	// main moves on: the results of #1 and #2 are stale now.
	pushFiles(ctx, t, alice, "demo/hello", "main", map[string]string{"CHANGELOG.md": "Unreleased.\n"}, false)
	for n := 1; n <= 3; n++ {
		if _, _, err := alice.Issues.AddLabelsToIssue(ctx, "demo", "hello", n, []string{"lgtm", "approved"}); err != nil {
			t.Fatal(err)
		}
	}

	eventually(t, "#1 and #2 merged", wait, func() (bool, string) {
		var open []int
		for _, n := range []int{1, 2} {
			pr, _, err := alice.PullRequests.Get(ctx, "demo", "hello", n)
			if err != nil || !pr.GetMerged() {
				open = append(open, n)
			}
		}
		return len(open) == 0, fmt.Sprintf("open: %v", open)
	})
	batched := false
	for _, r := range runs(t, api, url.Values{"type": {"batch"}}) {
		if r.Refs == nil {
			continue
		}
		var ns []int
		for _, pl := range r.Refs.Pulls {
			ns = append(ns, pl.Number)
		}
		batched = batched || (slices.Contains(ns, 1) && slices.Contains(ns, 2) && r.State == "success")
	}
	if !batched {
		t.Errorf("no batch run tested #1 and #2 together: %+v", runs(t, api, url.Values{"type": {"batch"}}))
	}
	if pr, _, err := alice.PullRequests.Get(ctx, "demo", "hello", 3); err != nil || pr.GetMerged() {
		t.Fatalf("#3 merged although its test fails (%v)", err)
	}
	eventually(t, "the tide status of #3", wait, func() (bool, string) {
		st, _, err := alice.Repositories.GetCombinedStatus(ctx, "demo", "hello", shaC, nil)
		if err != nil {
			return false, err.Error()
		}
		for _, s := range st.Statuses {
			if s.GetContext() == "tide" {
				return s.GetState() == "pending" && s.GetDescription() == "Not mergeable. Job pull-hello-test has not succeeded." &&
					s.GetTargetURL() == api+"/pr/demo/hello/3", s.GetState() + " " + s.GetDescription() + " " + s.GetTargetURL()
			}
		}
		return false, "no tide status"
	})

	// The status's link answers why.
	resp, err := http.Get(api + "/pr/demo/hello/3")
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || page.State != "NotMergeable" || page.Reason != "Not mergeable. Job pull-hello-test has not succeeded." {
		t.Errorf("/pr/demo/hello/3 = %+v (%v)", page, err)
	}

	// And the MergePool, as kubectl shows it, recorded the batch's merge.
	c := upClient(t, p)
	var pools v1alpha1.MergePoolList
	if err := c.List(ctx, &pools, client.MatchingLabels{v1alpha1.RepoLabel: "hello"}); err != nil || len(pools.Items) != 1 {
		t.Fatalf("MergePools of demo/hello: %d (%v)", len(pools.Items), err)
	}
	st := pools.Items[0].Status
	if len(st.LastMerges) == 0 || st.LastMerges[0].Action != v1alpha1.MergeActionMergeBatch || len(st.LastMerges[0].Pulls) != 2 {
		t.Errorf("last merges: %+v", st.LastMerges)
	}
	p.stop(t)
}

// jobsState is GitHub's combined state of a commit's statuses other than
// the merge controller's tide status (which stays pending until a pull
// request is approved): failure if one failed, pending if one is pending
// or there is none, else success; and the contexts it combined.
func jobsState(st *github.CombinedStatus) (string, []string) {
	state := "success"
	var contexts []string
	for _, s := range st.Statuses {
		if s.GetContext() == "tide" {
			continue
		}
		contexts = append(contexts, s.GetContext())
		switch s.GetState() {
		case "failure", "error":
			state = "failure"
		case "pending":
			if state == "success" {
				state = "pending"
			}
		}
	}
	if len(contexts) == 0 {
		return "pending", nil
	}
	return state, contexts
}
