package invalidcommitmsg_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/invalidcommitmsg"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/plugins"
)

func TestCloseIssueRe(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"Fixes #12", true},
		{"fix #1", true},
		{"fixed: #1", true},
		{"This closes acme/widgets#4", true},
		{"Resolves #5", true},
		{"close #6 and more", true},
		{"See #12", false},
		{"fixes issue 12", false},
		{"Fixing #1", false},
		{"Fixes", false},
	} {
		if got := invalidcommitmsg.CloseIssueRe.MatchString(tc.text); got != tc.want {
			t.Errorf("CloseIssueRe(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

const seed = `
users: [{login: bob}]
orgs: [{login: acme}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
- name: acme/strict
  files: {README.md: "# strict\n"}
`

func start(t *testing.T) *plugintest.Env {
	cfg := &plugins.Config{InvalidCommitMsg: []plugins.InvalidCommitMsg{
		{Repos: []string{"acme/widgets"}, Checks: []plugins.InvalidCommitMsgCheck{{Name: plugins.CheckFixupPrefix}}},
	}}
	return plugintest.StartPlugin(t, seed, plugintest.Config(cfg, nil), invalidcommitmsg.New)
}

func TestInvalidCommitMessages(t *testing.T) {
	h := start(t)
	tests := []struct {
		name      string
		title     string
		messages  []string
		wantLabel bool
		want      []string // substrings of the one comment
	}{
		{name: "clean", title: "Add a feature", messages: []string{"Add a feature", "Document it\n\nSee #3."}},
		{name: "keyword in a body", title: "Add a feature", messages: []string{"Add a feature\n\nFixes #12"}, wantLabel: true,
			want: []string{"### Commit messages that would close issues", "Add a feature"}},
		{name: "keyword in the title", title: "Fix #3: the crash", messages: []string{"Stop the crash"}, wantLabel: true,
			want: []string{"### Pull request title", "/retitle"}},
		{name: "fixup commit", title: "Add a feature", messages: []string{"Add a feature", "fixup! Add a feature"}, wantLabel: true,
			want: []string{"### Fixup commits", "fixup! Add a feature"}},
		{name: "fixup in a body does not count", title: "Add a feature", messages: []string{"Add a feature\n\nfixup! later"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			branch := fmt.Sprintf("b%d", i)
			for j, m := range tc.messages {
				if _, err := h.Forge.As("bob").Push(h.Ctx, h.Repo, branch, map[string][]byte{fmt.Sprintf("f%d", j): []byte("x")}, m); err != nil {
					t.Fatal(err)
				}
			}
			pr := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: tc.title, Head: branch})
			n := pr.GetNumber()
			if got := slices.Contains(h.Labels(h.Repo, n), invalidcommitmsg.Label); got != tc.wantLabel {
				t.Errorf("labelled = %v, want %v", got, tc.wantLabel)
			}
			want := tc.want
			if len(want) > 0 {
				// The comment addresses the author.
				want = append(slices.Clone(want), "@bob: ")
			}
			h.WantReply(t, h.Repo, n, want...)
		})
	}
}

func TestFixupCheckIsOffByDefault(t *testing.T) {
	h := start(t)
	h.Repo = "acme/strict"
	if _, err := h.Forge.As("bob").Push(h.Ctx, h.Repo, "fix", map[string][]byte{"f": []byte("x")}, "squash! something"); err != nil {
		t.Fatal(err)
	}
	n := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: "Something", Head: "fix"}).GetNumber()
	if got := h.Labels(h.Repo, n); len(got) != 0 {
		t.Errorf("labels = %q, want none", got)
	}
}

func TestRetitleClearsTheLabel(t *testing.T) {
	h := start(t)
	if _, err := h.Forge.As("bob").Push(h.Ctx, h.Repo, "crash", map[string][]byte{"f": []byte("x")}, "Stop the crash"); err != nil {
		t.Fatal(err)
	}
	n := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: "Fixes #3", Head: "crash"}).GetNumber()
	if got := h.Labels(h.Repo, n); !slices.Equal(got, []string{invalidcommitmsg.Label}) || len(h.BotComments(h.Repo, n)) != 1 {
		t.Fatalf("labels %q, comments %q", got, h.BotComments(h.Repo, n))
	}
	if err := h.Forge.As("bob").Do(h.Ctx, http.MethodPatch, fmt.Sprintf("/repos/%s/pulls/%d", h.Repo, n), map[string]string{"title": "Stop the crash"}, nil); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "edited", plugintest.PRAction(n, "edited"))
	if got := h.Labels(h.Repo, n); len(got) != 0 {
		t.Errorf("labels after the fix = %q", got)
	}
	if got := h.BotComments(h.Repo, n); len(got) != 0 {
		t.Errorf("comments after the fix = %q", got)
	}
}
