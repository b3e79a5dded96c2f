package forge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
)

func labelNames(ls []*github.Label) string {
	var out []string
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	return strings.Join(out, ",")
}

func TestIssuesAndComments(t *testing.T) {
	fx := setup(t)
	dave := fx.client(t, "dave-token")
	alice := fx.client(t, "alice-token")
	// An outsider's labels are dropped silently, as on GitHub.
	iss := must[*github.Issue](t)(dave.Issues.Create(fx.ctx, "acme", "widgets", &github.IssueRequest{
		Title: github.Ptr("Broken"), Body: github.Ptr("It breaks."), Labels: &[]string{"lgtm"}}))
	if iss.GetNumber() != 1 || len(iss.Labels) != 0 || iss.GetUser().GetLogin() != "dave" {
		t.Fatalf("created %+v", iss)
	}
	opened := fx.hook.WaitFor("issues", "opened", wait).Parsed.(*github.IssuesEvent)
	if opened.GetIssue().GetNumber() != 1 {
		t.Fatalf("opened %+v", opened)
	}
	c := must[*github.IssueComment](t)(dave.Issues.CreateComment(fx.ctx, "acme", "widgets", 1, &github.IssueComment{Body: github.Ptr("/retest")}))
	ce := fx.hook.WaitFor("issue_comment", "created", wait).Parsed.(*github.IssueCommentEvent)
	if ce.GetComment().GetBody() != "/retest" || ce.GetComment().GetAuthorAssociation() != "NONE" || ce.GetIssue().GetNumber() != 1 {
		t.Fatalf("comment event %+v", ce)
	}
	_, resp, err := fx.client(t, "carol-token").Issues.EditComment(fx.ctx, "acme", "widgets", c.GetID(), &github.IssueComment{Body: github.Ptr("hijack")})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("edit someone else's comment = %d, want 403", got)
	}
	must[*github.IssueComment](t)(dave.Issues.EditComment(fx.ctx, "acme", "widgets", c.GetID(), &github.IssueComment{Body: github.Ptr("/test all")}))
	edited := fx.hook.WaitFor("issue_comment", "edited", wait).Parsed.(*github.IssueCommentEvent)
	if edited.GetChanges().GetBody().GetFrom() != "/retest" {
		t.Fatalf("edited changes %+v", edited.GetChanges())
	}
	must[*github.IssueComment](t)(alice.Issues.CreateComment(fx.ctx, "acme", "widgets", 1, &github.IssueComment{Body: github.Ptr("ack")}))
	var bodies []string
	for cm, err := range alice.Issues.ListCommentsIter(fx.ctx, "acme", "widgets", 1, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 1}}) {
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, cm.GetUser().GetLogin()+":"+cm.GetBody()+":"+cm.GetAuthorAssociation())
	}
	if got := strings.Join(bodies, ","); got != "dave:/test all:NONE,alice:ack:MEMBER" {
		t.Fatalf("comments = %s", got)
	}
	if _, err := alice.Issues.DeleteComment(fx.ctx, "acme", "widgets", c.GetID()); err != nil {
		t.Fatal(err)
	}
	fx.hook.WaitFor("issue_comment", "deleted", wait)
	_, resp, err = alice.Issues.GetComment(fx.ctx, "acme", "widgets", c.GetID())
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Fatalf("deleted comment = %d, want 404", got)
	}
	closed := must[*github.Issue](t)(dave.Issues.Edit(fx.ctx, "acme", "widgets", 1, &github.IssueRequest{State: github.Ptr("closed")}))
	if closed.GetState() != "closed" || closed.GetStateReason() != "completed" || closed.GetClosedBy().GetLogin() != "dave" {
		t.Fatalf("closed %+v", closed)
	}
	fx.hook.WaitFor("issues", "closed", wait)
	list := must[[]*github.Issue](t)(alice.Issues.ListByRepo(fx.ctx, "acme", "widgets", &github.IssueListByRepoOptions{State: "closed"}))
	if len(list) != 1 {
		t.Fatalf("closed issues = %v", list)
	}
}

func TestLabels(t *testing.T) {
	fx := setup(t)
	bob := fx.client(t, "bob-token")
	carol := fx.client(t, "carol-token")
	pr := fx.openPR(t, "dave", "topic", map[string]string{"x": "x\n"})
	n := pr.GetNumber()

	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"read-only collaborator", "carol-token", http.StatusForbidden},
		{"outsider", "dave-token", http.StatusForbidden},
		{"anonymous", "", http.StatusUnauthorized},
		{"team member with write", "bob-token", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run("add as "+tt.name, func(t *testing.T) {
			_, resp, err := fx.client(t, tt.token).Issues.AddLabelsToIssue(fx.ctx, "acme", "widgets", n, []string{"lgtm"})
			if got := status(t, resp, err); got != tt.want {
				t.Fatalf("status = %d, want %d", got, tt.want)
			}
		})
	}
	labeled := fx.hook.WaitFor("pull_request", "labeled", wait).Parsed.(*github.PullRequestEvent)
	if labeled.GetLabel().GetName() != "lgtm" || labeled.GetSender().GetLogin() != "bob" {
		t.Fatalf("labeled %+v", labeled)
	}
	ls := must[[]*github.Label](t)(bob.Issues.AddLabelsToIssue(fx.ctx, "acme", "widgets", n, []string{"approved", "brand-new"}))
	if got := labelNames(ls); got != "lgtm,approved,brand-new" {
		t.Fatalf("labels = %s", got)
	}
	if _, err := bob.Issues.RemoveLabelForIssue(fx.ctx, "acme", "widgets", n, "lgtm"); err != nil {
		t.Fatal(err)
	}
	unlabeled := fx.hook.WaitFor("pull_request", "unlabeled", wait).Parsed.(*github.PullRequestEvent)
	if unlabeled.GetLabel().GetName() != "lgtm" {
		t.Fatalf("unlabeled %+v", unlabeled)
	}
	_, err := bob.Issues.RemoveLabelForIssue(fx.ctx, "acme", "widgets", n, "lgtm")
	if got := status(t, nil, err); got != http.StatusNotFound {
		t.Fatalf("remove a label the issue lacks = %d, want 404", got)
	}
	ls = must[[]*github.Label](t)(bob.Issues.ReplaceLabelsForIssue(fx.ctx, "acme", "widgets", n, []string{"do-not-merge/hold"}))
	if got := labelNames(ls); got != "do-not-merge/hold" {
		t.Fatalf("replaced labels = %s", got)
	}
	got := labelNames(must[[]*github.Label](t)(carol.Issues.ListLabelsByIssue(fx.ctx, "acme", "widgets", n, nil)))
	if got != "do-not-merge/hold" {
		t.Fatalf("listed labels = %s", got)
	}
	if _, err := bob.Issues.RemoveLabelsForIssue(fx.ctx, "acme", "widgets", n); err != nil {
		t.Fatal(err)
	}

	// Repository labels.
	_, resp, err := carol.Issues.CreateLabel(fx.ctx, "acme", "widgets", &github.Label{Name: github.Ptr("kind/bug")})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("read-only creates a label = %d, want 403", got)
	}
	l := must[*github.Label](t)(bob.Issues.CreateLabel(fx.ctx, "acme", "widgets", &github.Label{Name: github.Ptr("kind/bug"), Color: github.Ptr("ee0701"), Description: github.Ptr("Broken")}))
	if l.GetColor() != "ee0701" {
		t.Fatalf("label %+v", l)
	}
	_, resp, err = bob.Issues.CreateLabel(fx.ctx, "acme", "widgets", &github.Label{Name: github.Ptr("KIND/BUG")})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate label = %d, want 422", got)
	}
	l = must[*github.Label](t)(bob.Issues.EditLabel(fx.ctx, "acme", "widgets", "kind/bug", &github.Label{Name: github.Ptr("kind/defect"), Color: github.Ptr("000000")}))
	if l.GetName() != "kind/defect" || l.GetColor() != "000000" {
		t.Fatalf("edited label %+v", l)
	}
	must[*github.Label](t)(carol.Issues.GetLabel(fx.ctx, "acme", "widgets", "kind/defect"))
	if _, err := bob.Issues.DeleteLabel(fx.ctx, "acme", "widgets", "kind/defect"); err != nil {
		t.Fatal(err)
	}
	all := labelNames(must[[]*github.Label](t)(carol.Issues.ListLabels(fx.ctx, "acme", "widgets", nil)))
	if all != "approved,brand-new,do-not-merge/hold,lgtm" {
		t.Fatalf("repository labels = %s", all)
	}
}

func TestAssignees(t *testing.T) {
	fx := setup(t)
	bob := fx.client(t, "bob-token")
	iss := must[*github.Issue](t)(bob.Issues.Create(fx.ctx, "acme", "widgets", &github.IssueRequest{Title: github.Ptr("Task")}))
	// dave has no access, so GitHub drops him silently.
	got := must[*github.Issue](t)(bob.Issues.AddAssignees(fx.ctx, "acme", "widgets", iss.GetNumber(), []string{"alice", "carol", "dave"}))
	var logins []string
	for _, u := range got.Assignees {
		logins = append(logins, u.GetLogin())
	}
	if strings.Join(logins, ",") != "alice,carol" || got.GetAssignee().GetLogin() != "alice" {
		t.Fatalf("assignees = %v", logins)
	}
	assigned := fx.hook.WaitFor("issues", "assigned", wait).Parsed.(*github.IssuesEvent)
	if assigned.GetAssignee().GetLogin() != "alice" {
		t.Fatalf("assigned %+v", assigned)
	}
	got = must[*github.Issue](t)(bob.Issues.RemoveAssignees(fx.ctx, "acme", "widgets", iss.GetNumber(), []string{"alice"}))
	if len(got.Assignees) != 1 || got.Assignees[0].GetLogin() != "carol" {
		t.Fatalf("after removal %v", got.Assignees)
	}
	fx.hook.WaitFor("issues", "unassigned", wait)
	if !must[bool](t)(bob.Issues.IsAssignee(fx.ctx, "acme", "widgets", "carol")) || must[bool](t)(bob.Issues.IsAssignee(fx.ctx, "acme", "widgets", "dave")) {
		t.Fatal("IsAssignee: carol should be assignable, dave not")
	}
	_, resp, err := fx.client(t, "carol-token").Issues.AddAssignees(fx.ctx, "acme", "widgets", iss.GetNumber(), []string{"carol"})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("read-only assigns = %d, want 403", got)
	}
}

func TestMilestones(t *testing.T) {
	fx := setup(t)
	bob := fx.client(t, "bob-token")
	_, resp, err := fx.client(t, "carol-token").Issues.CreateMilestone(fx.ctx, "acme", "widgets", &github.Milestone{Title: github.Ptr("v1")})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("read-only creates a milestone = %d, want 403", got)
	}
	m := must[*github.Milestone](t)(bob.Issues.CreateMilestone(fx.ctx, "acme", "widgets", &github.Milestone{Title: github.Ptr("v1")}))
	iss := must[*github.Issue](t)(bob.Issues.Create(fx.ctx, "acme", "widgets", &github.IssueRequest{Title: github.Ptr("t"), Milestone: m.Number}))
	if iss.GetMilestone().GetTitle() != "v1" {
		t.Fatalf("issue milestone %+v", iss.GetMilestone())
	}
	res := must[*github.IssuesSearchResult](t)(bob.Search.Issues(fx.ctx, "repo:acme/widgets milestone:v1", nil))
	if res.GetTotal() != 1 {
		t.Fatalf("search by milestone: %d", res.GetTotal())
	}
	list := must[[]*github.Milestone](t)(bob.Issues.ListMilestones(fx.ctx, "acme", "widgets", nil))
	if len(list) != 1 || list[0].GetNumber() != m.GetNumber() {
		t.Fatalf("milestones %v", list)
	}
}
