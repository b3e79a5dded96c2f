package dco_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugins/dco"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// alice is an acme member, bob an outsider, helper[bot] an app's bot.
const seed = `
users: [{login: alice}, {login: bob}, {login: "helper[bot]", bot: true}]
orgs: [{login: acme, members: [alice]}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
`

func start(t *testing.T, cfg map[string]*plugins.Dco) *plugintest.Env {
	return plugintest.StartPlugin(t, seed, plugintest.Config(&plugins.Config{Dco: cfg}, nil), dco.New)
}

// push commits one file per message as author to branch.
func push(t *testing.T, h *plugintest.Env, author, branch string, messages ...string) {
	t.Helper()
	for i, m := range messages {
		if _, err := h.Forge.As(author).Push(h.Ctx, h.Repo, branch, map[string][]byte{fmt.Sprintf("%s-%d", branch, i): []byte(m)}, m); err != nil {
			t.Fatal(err)
		}
	}
}

// status is the dco context's state and description on the head.
func status(t *testing.T, h *plugintest.Env, n int) (string, string) {
	t.Helper()
	owner, repo, _ := strings.Cut(h.Repo, "/")
	pr, _, err := h.GitHub.PullRequests.Get(h.Ctx, owner, repo, n)
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := h.GitHub.Repositories.GetCombinedStatus(h.Ctx, owner, repo, pr.GetHead().GetSHA(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cs.Statuses {
		if s.GetContext() == dco.Context {
			return s.GetState(), s.GetTargetURL()
		}
	}
	return "", ""
}

func TestDCO(t *testing.T) {
	h := start(t, map[string]*plugins.Dco{"acme": {ContributingPath: "docs/CONTRIBUTING.md"}})
	tests := []struct {
		name      string
		author    string
		messages  []string
		wantState string
		wantList  []string // subjects listed in the comment
	}{
		{name: "signed", author: "bob", messages: []string{"Add a\n\nSigned-off-by: Bob <bob@example.com>"}, wantState: "success"},
		{name: "any case", author: "bob", messages: []string{"Add a\n\nsigned-off-by: Bob <bob@example.com>"}, wantState: "success"},
		{name: "unsigned", author: "bob", messages: []string{"Add a"}, wantState: "failure", wantList: []string{"Add a"}},
		{name: "one of two unsigned", author: "bob", messages: []string{"Add a\n\nSigned-off-by: Bob <b@x>", "Add b"},
			wantState: "failure", wantList: []string{"Add b"}},
		{name: "not at the start of a line", author: "bob", messages: []string{"Add a\n\nI Signed-off-by: Bob"}, wantState: "failure", wantList: []string{"Add a"}},
		{name: "members are checked unless skipped", author: "alice", messages: []string{"Add a"}, wantState: "failure", wantList: []string{"Add a"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			branch := fmt.Sprintf("b%d", i)
			push(t, h, tc.author, branch, tc.messages...)
			n := h.OpenPR(tc.author, h.Repo, forge.PullRequest{Title: tc.name, Head: branch}).GetNumber()
			state, url := status(t, h, n)
			if state != tc.wantState {
				t.Errorf("dco status = %q, want %q", state, tc.wantState)
			}
			if want := "/acme/widgets/blob/HEAD/docs/CONTRIBUTING.md"; !strings.HasSuffix(url, want) {
				t.Errorf("status target %q does not end in %q", url, want)
			}
			wantLabel := dco.YesLabel
			if tc.wantState == "failure" {
				wantLabel = dco.NoLabel
			}
			if got := h.Labels(h.Repo, n); !slices.Equal(got, []string{wantLabel}) {
				t.Errorf("labels = %q, want [%s]", got, wantLabel)
			}
			// The comment lists each commit as "<sha>) <message>".
			var listed []string
			for _, s := range tc.wantList {
				listed = append(listed, ") "+s)
			}
			comments := h.WantReply(t, h.Repo, n, listed...)
			if len(listed) > 0 && len(comments) == 1 && (!strings.HasPrefix(comments[0], "@"+tc.author+": ") || !strings.Contains(comments[0], "docs/CONTRIBUTING.md")) {
				t.Errorf("comment %q", comments[0])
			}
		})
	}
}

func TestDCOFollowsPushesAndConfig(t *testing.T) {
	h := start(t, nil)
	push(t, h, "alice", "feature", "Add a\n\nSigned-off-by: Alice <a@x>")
	n := h.OpenPR("alice", h.Repo, forge.PullRequest{Title: "feature", Head: "feature"}).GetNumber()
	if state, _ := status(t, h, n); state != "success" {
		t.Fatalf("status = %q", state)
	}
	push(t, h, "alice", "feature", "Add b")
	h.Wait(h.Repo, "synchronize", plugintest.PRAction(n, "synchronize"))
	if state, _ := status(t, h, n); state != "failure" {
		t.Fatalf("status after an unsigned commit = %q", state)
	}
	if got := h.Labels(h.Repo, n); !slices.Equal(got, []string{dco.NoLabel}) {
		t.Fatalf("labels = %q", got)
	}
	if got := h.BotComments(h.Repo, n); len(got) != 1 {
		t.Fatalf("comments = %q", got)
	}
	// /check-dco on a check that still fails replaces the comment.
	h.Comment("bob", h.Repo, n, "/check-dco")
	if got := h.BotComments(h.Repo, n); len(got) != 1 {
		t.Fatalf("comments after /check-dco = %q", got)
	}
	// Members may skip the check: the pull request passes at the next check.
	h.SetConfigSet(plugintest.Config(&plugins.Config{Dco: map[string]*plugins.Dco{"*": {SkipDCOCheckForMembers: true}}}, nil))
	h.Comment("bob", h.Repo, n, "/CHECK-DCO")
	if state, _ := status(t, h, n); state != "success" {
		t.Errorf("status with members skipped = %q", state)
	}
	if got := h.Labels(h.Repo, n); !slices.Equal(got, []string{dco.YesLabel}) {
		t.Errorf("labels = %q", got)
	}
	if got := h.BotComments(h.Repo, n); len(got) != 0 {
		t.Errorf("comments = %q, want the old one gone", got)
	}
}

func TestDCOTrust(t *testing.T) {
	h := start(t, map[string]*plugins.Dco{
		"acme/widgets": {TrustedApps: []string{"helper"}},
	})
	push(t, h, "helper[bot]", "bump", "Bump deps")
	n := h.OpenPR("helper[bot]", h.Repo, forge.PullRequest{Title: "bump", Head: "bump"}).GetNumber()
	if state, _ := status(t, h, n); state != "success" {
		t.Errorf("trusted app: status = %q", state)
	}
	// As in Prow, any exemption trusts org members too (trigger's rules).
	push(t, h, "alice", "member", "Add m")
	n = h.OpenPR("alice", h.Repo, forge.PullRequest{Title: "member", Head: "member"}).GetNumber()
	if state, _ := status(t, h, n); state != "success" {
		t.Errorf("member: status = %q", state)
	}
	// Outsiders are checked.
	push(t, h, "bob", "outsider", "Add o")
	n = h.OpenPR("bob", h.Repo, forge.PullRequest{Title: "outsider", Head: "outsider"}).GetNumber()
	if state, _ := status(t, h, n); state != "failure" {
		t.Errorf("outsider: status = %q", state)
	}
	// bob joins the org: /check-dco asks GitHub again rather than believe
	// the answer remembered a moment ago.
	if _, _, err := h.GitHub.Organizations.EditOrgMembership(h.Ctx, "bob", "acme", &github.Membership{Role: github.Ptr("member")}); err != nil {
		t.Fatal(err)
	}
	if err := h.Forge.As("bob").Do(h.Ctx, http.MethodPatch, "/user/memberships/orgs/acme", map[string]string{"state": "active"}, nil); err != nil {
		t.Fatal(err)
	}
	h.Comment("alice", h.Repo, n, "/check-dco")
	if state, _ := status(t, h, n); state != "success" {
		t.Errorf("outsider who joined, after /check-dco: status = %q", state)
	}
	// /check-dco on an issue does nothing.
	is := h.OpenIssue("bob", h.Repo, "question", "")
	h.Comment("bob", h.Repo, is, "/check-dco")
	if got := h.BotComments(h.Repo, is); len(got) != 0 {
		t.Errorf("comments on an issue = %q", got)
	}
}
