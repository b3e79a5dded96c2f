package forge_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-github/v89/github"
)

func TestStatuses(t *testing.T) {
	fx := setup(t)
	pr := fx.openPR(t, "dave", "topic", map[string]string{"x": "x\n"})
	sha := pr.GetHead().GetSHA()
	bob := fx.client(t, "bob-token")
	set := func(token, context, state string) int {
		_, resp, err := fx.client(t, token).Repositories.CreateStatus(fx.ctx, "acme", "widgets", sha,
			github.RepoStatus{Context: github.Ptr(context), State: github.Ptr(state), TargetURL: github.Ptr("http://ci/1")})
		return status(t, resp, err)
	}
	tests := []struct {
		name, token, context, state string
		want                        int
	}{
		{"read-only cannot set", "carol-token", "ci", "success", http.StatusForbidden},
		{"outsider cannot set", "dave-token", "ci", "success", http.StatusForbidden},
		{"invalid state", "bob-token", "ci", "great", http.StatusUnprocessableEntity},
		{"pending", "bob-token", "ci/unit", "pending", http.StatusCreated},
		{"success", "bob-token", "ci/lint", "success", http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := set(tt.token, tt.context, tt.state); got != tt.want {
				t.Fatalf("status = %d, want %d", got, tt.want)
			}
		})
	}
	ev := fx.hook.WaitFor("status", "", wait).Parsed.(*github.StatusEvent)
	if ev.GetSHA() != sha || ev.GetContext() != "ci/unit" || ev.GetState() != "pending" {
		t.Fatalf("status event %+v", ev)
	}
	combined := must[*github.CombinedStatus](t)(bob.Repositories.GetCombinedStatus(fx.ctx, "acme", "widgets", "topic", nil))
	if combined.GetState() != "pending" || combined.GetTotalCount() != 2 {
		t.Fatalf("combined %s/%d, want pending/2", combined.GetState(), combined.GetTotalCount())
	}
	set("bob-token", "ci/unit", "failure")
	combined = must[*github.CombinedStatus](t)(bob.Repositories.GetCombinedStatus(fx.ctx, "acme", "widgets", sha, nil))
	if combined.GetState() != "failure" {
		t.Fatalf("combined %s, want failure", combined.GetState())
	}
	if got := must[*github.PullRequest](t)(bob.PullRequests.Get(fx.ctx, "acme", "widgets", pr.GetNumber())).GetMergeableState(); got != "unstable" {
		t.Fatalf("mergeable_state with a failing context = %s, want unstable", got)
	}
	set("bob-token", "ci/unit", "success")
	combined = must[*github.CombinedStatus](t)(bob.Repositories.GetCombinedStatus(fx.ctx, "acme", "widgets", sha, nil))
	if combined.GetState() != "success" {
		t.Fatalf("combined %s, want success", combined.GetState())
	}
	list := must[[]*github.RepoStatus](t)(bob.Repositories.ListStatuses(fx.ctx, "acme", "widgets", sha, nil))
	if len(list) != 4 || list[0].GetState() != "success" || list[0].GetContext() != "ci/unit" || list[0].GetCreator().GetLogin() != "bob" {
		t.Fatalf("statuses newest first = %v", list)
	}
}

func TestReviews(t *testing.T) {
	fx := setup(t)
	pr := fx.openPR(t, "dave", "topic", map[string]string{"x": "x\n"})
	n := pr.GetNumber()
	review := func(token, event, body string) (*github.PullRequestReview, int) {
		rv, resp, err := fx.client(t, token).PullRequests.CreateReview(fx.ctx, "acme", "widgets", n,
			&github.PullRequestReviewRequest{Event: github.Ptr(event), Body: github.Ptr(body)})
		return rv, status(t, resp, err)
	}
	if _, got := review("dave-token", "APPROVE", ""); got != http.StatusUnprocessableEntity {
		t.Fatalf("author approves = %d, want 422", got)
	}
	if _, got := review("bob-token", "REQUEST_CHANGES", ""); got != http.StatusUnprocessableEntity {
		t.Fatalf("request changes without a body = %d, want 422", got)
	}
	rv, got := review("bob-token", "REQUEST_CHANGES", "Needs tests")
	if got != http.StatusOK || rv.GetState() != "CHANGES_REQUESTED" || rv.GetCommitID() != pr.GetHead().GetSHA() {
		t.Fatalf("review %d %+v", got, rv)
	}
	ev := fx.hook.WaitFor("pull_request_review", "submitted", wait).Parsed.(*github.PullRequestReviewEvent)
	if ev.GetReview().GetState() != "CHANGES_REQUESTED" || ev.GetPullRequest().GetNumber() != n {
		t.Fatalf("review event %+v", ev)
	}
	if _, got := review("carol-token", "COMMENT", "Looks fine to me"); got != http.StatusOK {
		t.Fatalf("read-only comment review = %d", got)
	}
	if _, got := review("alice-token", "APPROVE", ""); got != http.StatusOK {
		t.Fatalf("approve = %d", got)
	}
	reviews := must[[]*github.PullRequestReview](t)(fx.client(t, "dave-token").PullRequests.ListReviews(fx.ctx, "acme", "widgets", n, nil))
	if len(reviews) != 3 || reviews[2].GetState() != "APPROVED" || reviews[2].GetUser().GetLogin() != "alice" {
		t.Fatalf("reviews %v", reviews)
	}

	// Review requests.
	alice := fx.client(t, "alice-token")
	_, resp, err := alice.PullRequests.RequestReviewers(fx.ctx, "acme", "widgets", n, github.ReviewersRequest{Reviewers: []string{"dave"}})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("request the author = %d, want 422", got)
	}
	must[*github.PullRequest](t)(alice.PullRequests.RequestReviewers(fx.ctx, "acme", "widgets", n,
		github.ReviewersRequest{Reviewers: []string{"carol"}, TeamReviewers: []string{"maintainers"}}))
	requested := fx.hook.WaitFor("pull_request", "review_requested", wait).Parsed.(*github.PullRequestEvent)
	if requested.GetRequestedReviewer().GetLogin() != "carol" {
		t.Fatalf("review_requested %+v", requested)
	}
	rs := must[*github.Reviewers](t)(alice.PullRequests.ListReviewers(fx.ctx, "acme", "widgets", n))
	if len(rs.Users) != 1 || len(rs.Teams) != 1 || rs.Teams[0].GetSlug() != "maintainers" {
		t.Fatalf("requested reviewers %+v", rs)
	}
	// Reviewing clears the request.
	review("carol-token", "COMMENT", "Done")
	rs = must[*github.Reviewers](t)(alice.PullRequests.ListReviewers(fx.ctx, "acme", "widgets", n))
	if len(rs.Users) != 0 {
		t.Fatalf("requested reviewers after review %+v", rs.Users)
	}
	if _, err := alice.PullRequests.RemoveReviewers(fx.ctx, "acme", "widgets", n, github.ReviewersRequest{TeamReviewers: []string{"maintainers"}}); err != nil {
		t.Fatal(err)
	}

	// Review comments.
	cm := must[*github.PullRequestComment](t)(fx.client(t, "carol-token").PullRequests.CreateComment(fx.ctx, "acme", "widgets", n,
		&github.PullRequestComment{Body: github.Ptr("typo"), Path: github.Ptr("x"), Line: github.Ptr(1), CommitID: github.Ptr(pr.GetHead().GetSHA())}))
	if cm.GetPath() != "x" || cm.GetLine() != 1 {
		t.Fatalf("review comment %+v", cm)
	}
	cms := must[[]*github.PullRequestComment](t)(alice.PullRequests.ListComments(fx.ctx, "acme", "widgets", n, nil))
	if len(cms) != 1 {
		t.Fatalf("review comments %v", cms)
	}
}

func TestBranchProtection(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	bob := fx.client(t, "bob-token")
	// go-github turns GitHub's 404 "Branch not protected" into a sentinel.
	if _, _, err := alice.Repositories.GetBranchProtection(fx.ctx, "acme", "widgets", "main"); !errors.Is(err, github.ErrBranchNotProtected) {
		t.Fatalf("unprotected: %v, want ErrBranchNotProtected", err)
	}
	_, resp, err := bob.Repositories.UpdateBranchProtection(fx.ctx, "acme", "widgets", "main", &github.ProtectionRequest{})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("writer protects = %d, want 403", got)
	}
	p := must[*github.Protection](t)(alice.Repositories.UpdateBranchProtection(fx.ctx, "acme", "widgets", "main", &github.ProtectionRequest{
		RequiredStatusChecks:       &github.RequiredStatusChecks{Strict: true, Contexts: &[]string{"ci/unit"}},
		RequiredPullRequestReviews: &github.PullRequestReviewsEnforcementRequest{RequiredApprovingReviewCount: 1},
		EnforceAdmins:              true,
	}))
	if got := *p.GetRequiredStatusChecks().Contexts; len(got) != 1 || got[0] != "ci/unit" || !p.GetEnforceAdmins().Enabled {
		t.Fatalf("protection %+v", p)
	}
	checks := must[*github.RequiredStatusChecks](t)(alice.Repositories.GetRequiredStatusChecks(fx.ctx, "acme", "widgets", "main"))
	if !checks.Strict {
		t.Fatal("strict lost")
	}
	branch := must[*github.Branch](t)(bob.Repositories.GetBranch(fx.ctx, "acme", "widgets", "main", 0))
	if !branch.GetProtected() {
		t.Fatal("branch not reported protected")
	}

	pr := fx.openPR(t, "dave", "topic", map[string]string{"x": "x\n"})
	merge := func() int {
		_, resp, err := alice.PullRequests.Merge(fx.ctx, "acme", "widgets", pr.GetNumber(), "", nil)
		return status(t, resp, err)
	}
	if got := merge(); got != http.StatusMethodNotAllowed {
		t.Fatalf("merge without the required status = %d, want 405", got)
	}
	if state := must[*github.PullRequest](t)(alice.PullRequests.Get(fx.ctx, "acme", "widgets", pr.GetNumber())).GetMergeableState(); state != "blocked" {
		t.Fatalf("mergeable_state = %s, want blocked", state)
	}
	must[*github.RepoStatus](t)(bob.Repositories.CreateStatus(fx.ctx, "acme", "widgets", pr.GetHead().GetSHA(),
		github.RepoStatus{Context: github.Ptr("ci/unit"), State: github.Ptr("success")}))
	if got := merge(); got != http.StatusMethodNotAllowed {
		t.Fatalf("merge without an approval = %d, want 405", got)
	}
	must[*github.PullRequestReview](t)(bob.PullRequests.CreateReview(fx.ctx, "acme", "widgets", pr.GetNumber(),
		&github.PullRequestReviewRequest{Event: github.Ptr("APPROVE")}))
	if got := merge(); got != http.StatusOK {
		t.Fatalf("merge when green and approved = %d, want 200", got)
	}
	if _, err := alice.Repositories.RemoveBranchProtection(fx.ctx, "acme", "widgets", "main"); err != nil {
		t.Fatal(err)
	}
}
