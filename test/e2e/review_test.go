package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
)

// TestReviewFlow takes a pull request from opened to lgtm and approved
// through `bowline up` with the quickstart configuration, as its README's
// demo does: demo/hello's OWNERS make alice the approver and bob a
// reviewer. bob opens the pull request; bowline asks alice to review, labels
// it from OWNERS, and posts the approval notification; bob cannot lgtm his
// own pull request; alice's /lgtm and /approve add both labels, and the one
// notification turns to approved.
func TestReviewFlow(t *testing.T) {
	p := startUp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	repo := p.ready.Sandbox.DemoRepo
	owner, name, _ := strings.Cut(repo, "/")
	alice := p.sandboxClient(t, p.ready.Sandbox.Token)
	bob := p.sandboxClient(t, "bob-token")

	openPullRequest(ctx, t, bob, repo, "friendlier", map[string]string{"hello.sh": "#!/bin/sh\necho 'Hello, friend!'\n"})
	const n = 1
	labels := func() []string {
		ls, _, err := alice.Issues.ListLabelsByIssue(ctx, owner, name, n, nil)
		if err != nil {
			return nil
		}
		var out []string
		for _, l := range ls {
			out = append(out, l.GetName())
		}
		return out
	}
	botComments := func() []string {
		cs, _, err := alice.Issues.ListComments(ctx, owner, name, n, nil)
		if err != nil {
			return nil
		}
		var out []string
		for _, c := range cs {
			if c.GetUser().GetLogin() == "bowline-bot" {
				out = append(out, c.GetBody())
			}
		}
		return out
	}
	notifications := func() []string {
		return slices.DeleteFunc(botComments(), func(c string) bool { return !strings.HasPrefix(c, "[APPROVALNOTIFIER]") })
	}
	commented := func(substr string) func() (bool, string) {
		return func() (bool, string) {
			cs := botComments()
			return slices.ContainsFunc(cs, func(c string) bool { return strings.Contains(c, substr) }), fmt.Sprintf("%q", cs)
		}
	}

	eventually(t, "the approval notification asks for alice", time.Minute, func() (bool, string) {
		ns := notifications()
		return len(ns) == 1 && strings.Contains(ns[0], "This PR is **NOT APPROVED**") && strings.Contains(ns[0], "[alice]("), fmt.Sprintf("%q", ns)
	})
	eventually(t, "alice is asked to review", time.Minute, func() (bool, string) {
		rs, _, err := alice.PullRequests.ListReviewers(ctx, owner, name, n)
		if err != nil {
			return false, err.Error()
		}
		return len(rs.Users) == 1 && rs.Users[0].GetLogin() == "alice", fmt.Sprint(rs.Users)
	})
	eventually(t, "owners-label labels area/hello", time.Minute, func() (bool, string) {
		return slices.Contains(labels(), "area/hello"), fmt.Sprint(labels())
	})

	comment := func(gh *github.Client, body string) {
		t.Helper()
		if _, _, err := gh.Issues.CreateComment(ctx, owner, name, n, &github.IssueComment{Body: github.Ptr(body)}); err != nil {
			t.Fatal(err)
		}
	}
	comment(bob, "/lgtm")
	eventually(t, "bob is told he cannot lgtm his own pull request", time.Minute, commented("@bob: you cannot LGTM your own PR."))
	if slices.Contains(labels(), "lgtm") {
		t.Fatalf("the author's /lgtm added the label: %v", labels())
	}

	comment(alice, "Looks good.\n/lgtm")
	eventually(t, "alice's /lgtm adds lgtm", time.Minute, func() (bool, string) {
		return slices.Contains(labels(), "lgtm"), fmt.Sprint(labels())
	})
	comment(alice, "/approve")
	eventually(t, "alice's /approve adds approved", time.Minute, func() (bool, string) {
		ls := labels()
		return slices.Contains(ls, "approved") && slices.Contains(ls, "lgtm"), fmt.Sprint(ls)
	})
	eventually(t, "the one notification says approved", time.Minute, func() (bool, string) {
		ns := notifications()
		return len(ns) == 1 && strings.Contains(ns[0], "This PR is **APPROVED**") &&
			strings.Contains(ns[0], `title="Approved">alice</a>`) && strings.Contains(ns[0], "~~[OWNERS]"), fmt.Sprintf("%q", ns)
	})

	// The plugins' help, in Prow's shape, says what the demo org runs.
	resp, err := http.Get(p.ready.URL + "/api/plugin-help")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var help struct {
		RepoPlugins map[string][]string
		PluginHelp  map[string]struct{ Description string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&help); err != nil {
		t.Fatalf("/api/plugin-help: %s: %v", resp.Status, err)
	}
	for _, name := range []string{"approve", "lgtm", "blunderbuss", "verify-owners", "owners-label"} {
		if !slices.Contains(help.RepoPlugins["demo"], name) || help.PluginHelp[name].Description == "" {
			t.Errorf("/api/plugin-help lacks %s: enabled for demo %q", name, help.RepoPlugins["demo"])
		}
	}
	p.stop(t)
}
