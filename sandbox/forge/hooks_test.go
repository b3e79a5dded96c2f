package forge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

func TestRepoHookDeliveries(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	rc := forgetest.NewReceiver(t, "repo-secret")
	_, resp, err := fx.client(t, "bob-token").Repositories.CreateHook(fx.ctx, "acme", "widgets", &github.Hook{
		Config: &github.HookConfig{URL: github.Ptr(rc.URL)}})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("writer creates a hook = %d, want 403", got)
	}
	h := must[*github.Hook](t)(alice.Repositories.CreateHook(fx.ctx, "acme", "widgets", &github.Hook{
		Config: &github.HookConfig{URL: github.Ptr(rc.URL), ContentType: github.Ptr("json"), Secret: github.Ptr("repo-secret")},
		Events: []string{"issue_comment", "pull_request"}, Active: github.Ptr(true)}))
	if h.GetConfig().GetSecret() != "********" || h.GetType() != "Repository" {
		t.Fatalf("hook %+v", h)
	}
	ping := rc.Next(wait)
	if ping.Event != "ping" || ping.Parsed.(*github.PingEvent).GetHookID() != h.GetID() {
		t.Fatalf("first delivery %s", ping.Event)
	}
	if ua := ping.Header.Get("User-Agent"); !strings.HasPrefix(ua, "GitHub-Hookshot/") {
		t.Fatalf("User-Agent %q", ua)
	}
	if ping.Header.Get("X-Hub-Signature") == "" || ping.HookID != fmt.Sprint(h.GetID()) || ping.GUID == "" {
		t.Fatalf("headers %v", ping.Header)
	}

	// Deliveries to one hook arrive in the order of the events.
	iss := must[*github.Issue](t)(alice.Issues.Create(fx.ctx, "acme", "widgets", &github.IssueRequest{Title: github.Ptr("t")}))
	const n = 20
	for i := range n {
		must[*github.IssueComment](t)(alice.Issues.CreateComment(fx.ctx, "acme", "widgets", iss.GetNumber(), &github.IssueComment{Body: github.Ptr(fmt.Sprint(i))}))
	}
	for i := range n {
		d := rc.Next(wait)
		if d.Event != "issue_comment" {
			t.Fatalf("delivery %d is %s; the hook did not ask for it", i, d.Event)
		}
		if got := d.Parsed.(*github.IssueCommentEvent).GetComment().GetBody(); got != fmt.Sprint(i) {
			t.Fatalf("delivery %d has comment %s: out of order", i, got)
		}
	}
	if err := fx.env.Forge.Flush(fx.ctx); err != nil {
		t.Fatal(err)
	}

	// The log records every attempt; a redelivery repeats the GUID.
	ds := must[[]*github.HookDelivery](t)(alice.Repositories.ListHookDeliveries(fx.ctx, "acme", "widgets", h.GetID(), nil))
	if len(ds) != n+1 || ds[0].GetEvent() != "issue_comment" || ds[len(ds)-1].GetEvent() != "ping" || ds[0].GetStatusCode() != http.StatusNoContent {
		t.Fatalf("%d deliveries, newest %s/%d", len(ds), ds[0].GetEvent(), ds[0].GetStatusCode())
	}
	full := must[*github.HookDelivery](t)(alice.Repositories.GetHookDelivery(fx.ctx, "acme", "widgets", h.GetID(), ds[0].GetID()))
	if full.GetRequest().GetHeaders()["X-GitHub-Event"] != "issue_comment" || full.Request.RawPayload == nil {
		t.Fatalf("delivery request %+v", full.GetRequest())
	}
	_, resp, err = alice.Repositories.RedeliverHookDelivery(fx.ctx, "acme", "widgets", h.GetID(), ds[0].GetID())
	if got := status(t, resp, err); got != http.StatusAccepted {
		t.Fatalf("redeliver = %d, want 202", got)
	}
	again := rc.Next(wait)
	if again.GUID != ds[0].GetGUID() {
		t.Fatalf("redelivery GUID %s, want %s", again.GUID, ds[0].GetGUID())
	}
	if err := fx.env.Forge.Flush(fx.ctx); err != nil {
		t.Fatal(err)
	}
	ds = must[[]*github.HookDelivery](t)(alice.Repositories.ListHookDeliveries(fx.ctx, "acme", "widgets", h.GetID(), nil))
	if !ds[0].GetRedelivery() {
		t.Fatal("newest delivery is not marked as a redelivery")
	}

	// Edit, list, delete.
	h = must[*github.Hook](t)(alice.Repositories.EditHook(fx.ctx, "acme", "widgets", h.GetID(), &github.Hook{Active: github.Ptr(false)}))
	if h.GetActive() {
		t.Fatal("still active")
	}
	if hooks := must[[]*github.Hook](t)(alice.Repositories.ListHooks(fx.ctx, "acme", "widgets", nil)); len(hooks) != 1 {
		t.Fatalf("hooks %v", hooks)
	}
	if _, err := alice.Repositories.DeleteHook(fx.ctx, "acme", "widgets", h.GetID()); err != nil {
		t.Fatal(err)
	}
}

func TestOrgHookAndFormContent(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	rc := forgetest.NewReceiver(t, "")
	_, resp, err := fx.client(t, "bob-token").Organizations.CreateHook(fx.ctx, "acme", &github.Hook{Config: &github.HookConfig{URL: github.Ptr(rc.URL)}})
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Fatalf("member creates an org hook = %d, want 404", got)
	}
	// GitHub's default content type is form.
	h := must[*github.Hook](t)(alice.Organizations.CreateHook(fx.ctx, "acme", &github.Hook{
		Config: &github.HookConfig{URL: github.Ptr(rc.URL)}, Events: []string{"issues"}}))
	rc.Next(wait) // ping
	must[*github.Issue](t)(alice.Issues.Create(fx.ctx, "acme", "secret", &github.IssueRequest{Title: github.Ptr("private")}))
	d := rc.Next(wait)
	if d.Event != "issues" || d.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || d.Header.Get("X-Hub-Signature-256") != "" {
		t.Fatalf("delivery %s %v", d.Event, d.Header)
	}
	if err := fx.env.Forge.Flush(fx.ctx); err != nil {
		t.Fatal(err)
	}
	ds := must[[]*github.HookDelivery](t)(alice.Organizations.ListHookDeliveries(fx.ctx, "acme", h.GetID(), nil))
	if len(ds) != 2 {
		t.Fatalf("org deliveries %d, want 2", len(ds))
	}
	_, resp, err = alice.Organizations.RedeliverHookDelivery(fx.ctx, "acme", h.GetID(), ds[0].GetID())
	if got := status(t, resp, err); got != http.StatusAccepted {
		t.Fatalf("redeliver = %d, want 202", got)
	}
	if d := rc.Next(wait); d.Event != "issues" {
		t.Fatalf("redelivered %s", d.Event)
	}
}

// TestPayloadsParse checks that every event the forge sends parses with
// go-github (the receiver fails the test otherwise) and carries the
// fields consumers need.
func TestPayloadsParse(t *testing.T) {
	fx := setup(t)
	pr := fx.openPR(t, "dave", "topic", map[string]string{"x": "x\n"})
	must[*github.RepoStatus](t)(fx.client(t, "bob-token").Repositories.CreateStatus(fx.ctx, "acme", "widgets", pr.GetHead().GetSHA(),
		github.RepoStatus{Context: github.Ptr("ci"), State: github.Ptr("success")}))
	if _, err := fx.env.As("bob").Review(fx.ctx, "acme/widgets", pr.GetNumber(), "APPROVE", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.env.As("bob").Comment(fx.ctx, "acme/widgets", pr.GetNumber(), "/lgtm"); err != nil {
		t.Fatal(err)
	}
	if err := fx.env.As("bob").Label(fx.ctx, "acme/widgets", pr.GetNumber(), "lgtm"); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.env.As("bob").Merge(fx.ctx, "acme/widgets", pr.GetNumber(), "squash"); err != nil {
		t.Fatal(err)
	}
	if err := fx.env.Forge.Flush(fx.ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, d := range fx.hook.Pending() {
		seen[d.Event] = true
		switch ev := d.Parsed.(type) {
		case *github.PushEvent:
			if ev.GetRepo().GetFullName() != "acme/widgets" || ev.GetHeadCommit().GetID() != ev.GetAfter() {
				t.Errorf("push %+v", ev)
			}
		case *github.PullRequestEvent:
			if ev.GetPullRequest().GetHead().GetRepo().GetCloneURL() != fx.env.URL+"/acme/widgets.git" {
				t.Errorf("clone URL %s", ev.GetPullRequest().GetHead().GetRepo().GetCloneURL())
			}
		case *github.StatusEvent:
			if ev.GetSHA() != pr.GetHead().GetSHA() {
				t.Errorf("status %+v", ev)
			}
		case *github.PullRequestReviewEvent:
			if ev.GetReview().GetState() != "APPROVED" {
				t.Errorf("review %+v", ev)
			}
		case *github.IssueCommentEvent:
			if !ev.GetIssue().IsPullRequest() {
				t.Errorf("comment on a pull request has no pull_request links")
			}
		}
	}
	for _, want := range []string{"push", "pull_request", "status", "pull_request_review", "issue_comment"} {
		if !seen[want] {
			t.Errorf("no %s delivery", want)
		}
	}
}
