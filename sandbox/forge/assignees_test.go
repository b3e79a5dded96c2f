package forge_test

import (
	"fmt"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
)

// GitHub assigns org members, collaborators and people who commented on the
// issue, at most ten, and drops the others silently.
func TestAssigneesCommentersAndLimit(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	dave := fx.client(t, "dave-token")
	iss := must[*github.Issue](t)(dave.Issues.Create(fx.ctx, "acme", "widgets", &github.IssueRequest{Title: github.Ptr("Broken")}))
	n := iss.GetNumber()

	got := must[*github.Issue](t)(alice.Issues.AddAssignees(fx.ctx, "acme", "widgets", n, []string{"bob", "carol", "dave", "nobody"}))
	if want := "bob,carol"; logins(got.Assignees) != want {
		t.Fatalf("assignees = %q, want %q (dave has not commented yet)", logins(got.Assignees), want)
	}
	must[*github.IssueComment](t)(dave.Issues.CreateComment(fx.ctx, "acme", "widgets", n, &github.IssueComment{Body: github.Ptr("me too")}))
	got = must[*github.Issue](t)(alice.Issues.AddAssignees(fx.ctx, "acme", "widgets", n, []string{"dave"}))
	if want := "bob,carol,dave"; logins(got.Assignees) != want {
		t.Fatalf("assignees = %q, want %q", logins(got.Assignees), want)
	}

	// Eleven commenters: only ten assignees fit.
	iss2 := must[*github.Issue](t)(dave.Issues.Create(fx.ctx, "acme", "widgets", &github.IssueRequest{Title: github.Ptr("Popular")}))
	var many []string
	users := &forge.Seed{}
	for i := range 11 {
		login := fmt.Sprintf("user%02d", i)
		many = append(many, login)
		users.Users = append(users.Users, forge.SeedUser{Login: login})
	}
	if err := fx.env.Forge.Seed(fx.ctx, users); err != nil {
		t.Fatal(err)
	}
	for _, l := range many {
		if _, err := fx.env.As(l).Comment(fx.ctx, "acme/widgets", iss2.GetNumber(), "+1"); err != nil {
			t.Fatal(err)
		}
	}
	got = must[*github.Issue](t)(alice.Issues.AddAssignees(fx.ctx, "acme", "widgets", iss2.GetNumber(), many))
	if len(got.Assignees) != 10 || got.Assignees[9].GetLogin() != "user09" {
		t.Fatalf("assignees = %q, want the first ten", logins(got.Assignees))
	}
}

// Reviews may be asked of org members and collaborators, not of the
// author or outsiders; a refused reviewer fails the whole request.
func TestReviewRequestsFromMembers(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	if _, err := fx.env.As("alice").Push(fx.ctx, "acme/widgets", "change", map[string][]byte{"x": []byte("x")}, "change"); err != nil {
		t.Fatal(err)
	}
	pr := must[*github.PullRequest](t)(alice.PullRequests.Create(fx.ctx, "acme", "widgets", &github.NewPullRequest{
		Title: github.Ptr("Change"), Head: github.Ptr("change"), Base: github.Ptr("main")}))
	n := pr.GetNumber()
	for _, tc := range []struct {
		reviewers []string
		want      int
	}{
		{[]string{"bob"}, 201},
		{[]string{"carol"}, 201},
		{[]string{"alice"}, 422},
		{[]string{"dave"}, 422},
		{[]string{"bob", "dave"}, 422},
	} {
		_, resp, err := alice.PullRequests.RequestReviewers(fx.ctx, "acme", "widgets", n, github.ReviewersRequest{Reviewers: tc.reviewers})
		if got := status(t, resp, err); got != tc.want {
			t.Errorf("request %q: %d, want %d", tc.reviewers, got, tc.want)
		}
	}
	rv := must[*github.Reviewers](t)(alice.PullRequests.ListReviewers(fx.ctx, "acme", "widgets", n))
	if want := "bob,carol"; logins(rv.Users) != want {
		t.Errorf("requested reviewers = %q, want %q", logins(rv.Users), want)
	}
}

// "milestone": null clears an issue's milestone, with GitHub's milestoned
// and demilestoned events.
func TestMilestoneSetAndClear(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	ms := must[*github.Milestone](t)(alice.Issues.CreateMilestone(fx.ctx, "acme", "widgets", &github.Milestone{Title: github.Ptr("v1")}))
	iss := must[*github.Issue](t)(alice.Issues.Create(fx.ctx, "acme", "widgets", &github.IssueRequest{Title: github.Ptr("Plan")}))
	n := iss.GetNumber()
	got := must[*github.Issue](t)(alice.Issues.Edit(fx.ctx, "acme", "widgets", n, &github.IssueRequest{Milestone: ms.Number}))
	if got.GetMilestone().GetTitle() != "v1" {
		t.Fatalf("milestone = %+v", got.GetMilestone())
	}
	ev := fx.hook.WaitFor("issues", "milestoned", wait).Parsed.(*github.IssuesEvent)
	if ev.GetMilestone().GetTitle() != "v1" {
		t.Fatalf("milestoned event milestone = %+v", ev.GetMilestone())
	}
	// A title edit leaves the milestone alone.
	got = must[*github.Issue](t)(alice.Issues.Edit(fx.ctx, "acme", "widgets", n, &github.IssueRequest{Title: github.Ptr("Plan it")}))
	if got.GetMilestone().GetTitle() != "v1" {
		t.Fatalf("milestone after a title edit = %+v", got.GetMilestone())
	}
	got = must[*github.Issue](t)(alice.Issues.RemoveMilestone(fx.ctx, "acme", "widgets", n))
	if got.Milestone != nil {
		t.Fatalf("milestone after clearing = %+v", got.GetMilestone())
	}
	ev = fx.hook.WaitFor("issues", "demilestoned", wait).Parsed.(*github.IssuesEvent)
	if ev.GetMilestone().GetTitle() != "v1" {
		t.Fatalf("demilestoned event milestone = %+v", ev.GetMilestone())
	}
	_, resp, err := alice.Issues.Edit(fx.ctx, "acme", "widgets", n, &github.IssueRequest{Milestone: github.Ptr(99)})
	if got := status(t, resp, err); got != 422 {
		t.Errorf("unknown milestone: %d, want 422", got)
	}
}

// Issues close as completed or not planned; GitHub refuses other reasons.
func TestStateReason(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	for _, tc := range []struct {
		reason, want string
		status       int
	}{
		{"", "completed", 200},
		{"not_planned", "not_planned", 200},
		{"because", "", 422},
	} {
		iss := must[*github.Issue](t)(alice.Issues.Create(fx.ctx, "acme", "widgets", &github.IssueRequest{Title: github.Ptr("t")}))
		req := &github.IssueRequest{State: github.Ptr("closed")}
		if tc.reason != "" {
			req.StateReason = github.Ptr(tc.reason)
		}
		got, resp, err := alice.Issues.Edit(fx.ctx, "acme", "widgets", iss.GetNumber(), req)
		if st := status(t, resp, err); st != tc.status {
			t.Errorf("close with %q: %d, want %d", tc.reason, st, tc.status)
			continue
		}
		if tc.status == 200 && (got.GetState() != "closed" || got.GetStateReason() != tc.want) {
			t.Errorf("close with %q: %s/%s, want closed/%s", tc.reason, got.GetState(), got.GetStateReason(), tc.want)
		}
	}
}
