package merge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// TestBlockerIssueHoldsTheBranch: an open issue with blocker_label holds
// the branch, and every pull request's status says which issue; closing it
// lets the pool merge.
func TestBlockerIssueHoldsTheBranch(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	n, sha := fx.openPR("blocked", map[string]string{"x.txt": "x\n"})
	issue, err := fx.alice.CreateIssue(fx.ctx, "acme/widgets", "Release freeze", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.alice.Label(fx.ctx, "acme/widgets", issue.GetNumber(), "tide/merge-blocker"); err != nil {
		t.Fatal(err)
	}
	fx.start(testSet(fx.ns, func(t *prowconfig.Tide) { t.BlockerLabel = "tide/merge-blocker" }), alwaysSucceed)
	want := fmt.Sprintf("Not mergeable. Merging is blocked by issue %d.", issue.GetNumber())
	eventually(t, "the blocked status", wait, func() (bool, string) {
		state, desc, _ := fx.tide(sha)
		mp := fx.pool()
		return state == "error" && desc == want && mp.Status.Action == v1alpha1.MergeActionBlocked, state + " " + desc + " " + poolSummary(mp)
	})
	if fx.pull(n).GetMerged() {
		t.Fatal("merged while blocked")
	}
	if err := fx.alice.Close(fx.ctx, "acme/widgets", issue.GetNumber()); err != nil {
		t.Fatal(err)
	}
	fx.waitMerged(n)
}

// TestProtectionReviewsAndTemplates: with from-branch-protection, the
// contexts the branch's protection requires on GitHub are required too;
// reviewApprovedRequired waits for GitHub's approval; the squash label and
// merge_commit_template shape the merge.
func TestProtectionReviewsAndTemplates(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	n, sha := fx.openPR("protected", map[string]string{"p.txt": "p\n"})
	if err := fx.alice.Label(fx.ctx, "acme/widgets", n, "tide/merge-method-squash"); err != nil {
		t.Fatal(err)
	}
	err := fx.bot.Do(fx.ctx, http.MethodPut, "/repos/acme/widgets/branches/main/protection", map[string]any{
		"required_status_checks": map[string]any{"strict": false, "contexts": []string{"security/scan"}},
		"enforce_admins":         false, "required_pull_request_reviews": nil, "restrictions": nil}, nil)
	if err != nil {
		t.Fatal(err)
	}
	set := testSet(fx.ns, func(t *prowconfig.Tide) {
		t.Queries[0].ReviewApprovedRequired = true
		t.ContextOptions.FromBranchProtection = boolp(true)
		t.SquashLabel = "tide/merge-method-squash"
		t.MergeTemplate = map[string]prowconfig.MergeCommitTemplate{"acme/widgets": {Title: "{{.Title}} (#{{.Number}}) by {{.Author.Login}}"}}
	})
	fx.start(set, alwaysSucceed)
	waitTide := func(what, want string) {
		t.Helper()
		eventually(t, what, wait, func() (bool, string) {
			_, desc, _ := fx.tide(sha)
			return desc == want, desc
		})
	}
	waitTide("the protection's context required", "Not mergeable. Job security/scan has not succeeded.")
	if err := fx.bot.SetStatus(fx.ctx, "acme/widgets", sha, "security/scan", "success", "No finding."); err != nil {
		t.Fatal(err)
	}
	waitTide("GitHub's approval required", "Not mergeable. PullRequest is missing sufficient approving GitHub review(s)")
	if _, err := fx.bot.Review(fx.ctx, "acme/widgets", n, "APPROVE", ""); err != nil {
		t.Fatal(err)
	}
	fx.waitMerged(n)
	var commit github.RepositoryCommit
	if err := fx.alice.Do(fx.ctx, http.MethodGet, "/repos/acme/widgets/commits/"+fx.pull(n).GetMergeCommitSHA(), nil, &commit); err != nil {
		t.Fatal(err)
	}
	title, _, _ := strings.Cut(commit.GetCommit().GetMessage(), "\n")
	if want := fmt.Sprintf("Change protected (#%d) by alice", n); title != want || len(commit.Parents) != 1 {
		t.Errorf("merge commit %q with %d parents, want a squash titled %q", title, len(commit.Parents), want)
	}
}

// TestOnlyTheLeaderActs runs two replicas with leader election: one of
// them searches, decides and merges; the other makes no GitHub request.
func TestOnlyTheLeaderActs(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	n, _ := fx.openPR("leader", map[string]string{"l.txt": "l\n"})
	fx.mu.Lock()
	fx.outcome = alwaysSucceed
	fx.mu.Unlock()
	defer fx.runJobs()()
	set := testSet(fx.ns, nil)
	var counters []*callCounter
	for range 2 {
		c := &callCounter{counts: map[string]int{}}
		counters = append(counters, c)
		gh, err := ghclient.New(ghclient.Options{BaseURL: fx.forge.URL + "/", Token: "bot-token",
			Transport: &countingTransport{next: http.DefaultTransport, counter: c}, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		fx.controller(set, gh, func(o *ctrl.Options) {
			lease, renew, retry := 3*time.Second, 2*time.Second, 200*time.Millisecond
			o.LeaderElection, o.LeaderElectionID, o.LeaderElectionNamespace = true, "merge-test", fx.ns
			o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = &lease, &renew, &retry
			o.LeaderElectionReleaseOnCancel = true
		})
	}
	fx.waitMerged(n)
	if a, b := counters[0].total.Load(), counters[1].total.Load(); (a == 0) == (b == 0) {
		t.Errorf("GitHub requests by replica: %d and %d; want one replica to act", a, b)
	}
}

// TestRemoteEventsRequestASync: a webhook server running apart from the
// merge controller asks it to sync through the MergePool's annotation.
func TestRemoteEventsRequestASync(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	_, _ = fx.openPR("remote", map[string]string{"r.txt": "r\n"})
	fx.start(testSet(fx.ns, nil), func(*v1alpha1.ProwJob) v1alpha1.ProwJobState { return "" })
	eventually(t, "the MergePool", wait, func() (bool, string) { return fx.pool().Name != "", "" })
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	remote := &RemoteEvents{Client: env.Client, Namespace: func() string { return fx.ns }, Now: func() time.Time { return now }}
	ev := decodeEvent(t, "status", &github.StatusEvent{Repo: &github.Repository{FullName: github.Ptr("acme/widgets"),
		Name: github.Ptr("widgets"), Owner: &github.User{Login: github.Ptr("acme")}}, Context: github.Ptr("cla"), State: github.Ptr("success")})
	if err := remote.Handle(fx.ctx, ctrl.Log, ev); err != nil {
		t.Fatal(err)
	}
	want := now.Format(time.RFC3339Nano)
	eventually(t, "the request handled", wait, func() (bool, string) {
		mp := &v1alpha1.MergePool{}
		if err := env.Client.Get(fx.ctx, client.ObjectKey{Namespace: fx.ns, Name: PoolName("acme", "widgets", "main")}, mp); err != nil {
			return false, err.Error()
		}
		return mp.Status.LastHandledReconcileAt == want, mp.Status.LastHandledReconcileAt
	})
}

// decodeEvent is an event as the webhook server hands it to handlers.
func decodeEvent(t *testing.T, typ string, payload any) *plugin.Event {
	t.Helper()
	return plugin.Decode(typ, "delivery-1", payload).Event
}
