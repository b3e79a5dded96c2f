package trigger_test

import (
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// standardJobs cover every way a presubmit can start.
func standardJobs() []jobs.Presubmit {
	return []jobs.Presubmit{
		presubmit("unit", always),
		presubmit("lint", always, optional),
		presubmit("docs", ifChanged(`^docs/`)),
		presubmit("build", unlessOnly(`^docs/|\.md$`)),
		presubmit("e2e"),
		presubmit("release-only", always, onBranches(`release-.*`)),
		presubmit("not-on-main", always, skipBranches(`main`)),
		// Only the merge controller starts it, right before merging.
		presubmit("before-merge", always, beforeMerge),
	}
}

const (
	codeChange = "src/new.go"
	docsChange = "docs/new.md"
)

func TestPullRequestEvents(t *testing.T) {
	tests := []struct {
		name    string
		trigger plugins.Trigger
		author  string
		file    string
		draft   bool
		// then acts after the pull request is opened.
		then       func(h *harness, number int)
		wantRuns   []string
		wantLabels []string
		wantReply  string
	}{
		{
			name: "member's code change runs always_run and matching conditional jobs", author: "alice", file: codeChange,
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "docs-only change runs run_if_changed, skips skip_if_only_changed", author: "alice", file: docsChange,
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit docs -"},
		},
		{
			name: "collaborator is trusted", author: "carol", file: codeChange,
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "only_org_members distrusts collaborators", author: "carol", file: codeChange,
			trigger:    plugins.Trigger{Repos: []string{"acme"}, OnlyOrgMembers: true},
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "trusted app runs", author: "helper[bot]", file: codeChange,
			trigger:  plugins.Trigger{Repos: []string{"acme"}, TrustedApps: []string{"helper"}},
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "untrusted author gets needs-ok-to-test and nothing runs", author: "bob", file: codeChange,
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "comment `/ok-to-test`",
		},
		{
			name: "join_org_url is linked", author: "bob", file: codeChange,
			trigger:    plugins.Trigger{Repos: []string{"acme"}, JoinOrgURL: "https://example.com/join"},
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "https://example.com/join",
		},
		{
			name: "draft runs nothing", author: "alice", file: codeChange, draft: true,
		},
		{
			name: "ready_for_review runs the automatic jobs", author: "alice", file: codeChange, draft: true,
			then: func(h *harness, n int) {
				if err := h.Forge.As("alice").SetDraft(h.Ctx, repo, n, false); err != nil {
					h.T.Fatal(err)
				}
				h.Wait(repo, "ready_for_review", plugintest.PRAction(n, "ready_for_review"))
			},
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "converting to draft aborts running presubmits", author: "alice", file: codeChange,
			then: func(h *harness, n int) {
				if err := h.Forge.As("alice").SetDraft(h.Ctx, repo, n, true); err != nil {
					h.T.Fatal(err)
				}
				h.Wait(repo, "converted_to_draft", plugintest.PRAction(n, "converted_to_draft"))
			},
			wantRuns: []string{"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted"},
		},
		{
			name: "closing aborts running presubmits", author: "alice", file: codeChange,
			then: func(h *harness, n int) {
				if err := h.Forge.As("alice").Close(h.Ctx, repo, n); err != nil {
					h.T.Fatal(err)
				}
				h.Wait(repo, "closed", plugintest.PRAction(n, "closed"))
			},
			wantRuns: []string{"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted"},
		},
		{
			name: "a new push runs again, superseding the older runs", author: "alice", file: codeChange,
			then: func(h *harness, n int) {
				h.Push("alice", repo, "topic", n, map[string]string{"src/more.go": "package main\n"})
			},
			wantRuns: []string{
				"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted",
				"presubmit unit -", "presubmit lint -", "presubmit build -",
			},
		},
		{
			name: "a push to an untrusted pull request runs nothing", author: "bob", file: codeChange,
			then: func(h *harness, n int) {
				h.Push("bob", repo, "topic", n, map[string]string{"src/more.go": "package main\n"})
			},
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "lgtm by a trusted user runs one round on an untrusted pull request", author: "bob", file: codeChange,
			then: func(h *harness, n int) {
				if err := h.Forge.As("alice").Label(h.Ctx, repo, n, "lgtm"); err != nil {
					h.T.Fatal(err)
				}
				h.Wait(repo, "labeled lgtm", plugintest.PRLabeled(n, "labeled", "lgtm"))
			},
			wantRuns:   []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
			wantLabels: []string{"lgtm", "needs-ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "reopening runs again", author: "alice", file: codeChange,
			then: func(h *harness, n int) {
				a := h.Forge.As("alice")
				if err := a.Close(h.Ctx, repo, n); err != nil {
					h.T.Fatal(err)
				}
				h.Wait(repo, "closed", plugintest.PRAction(n, "closed"))
				if err := a.Reopen(h.Ctx, repo, n); err != nil {
					h.T.Fatal(err)
				}
				h.Wait(repo, "reopened", plugintest.PRAction(n, "reopened"))
			},
			wantRuns: []string{
				"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted",
				"presubmit unit -", "presubmit lint -", "presubmit build -",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := start(t, standardJobs(), nil, tc.trigger)
			n, _ := h.openPR(tc.author, "topic", map[string]string{tc.file: "x\n"}, tc.draft)
			if tc.then != nil {
				tc.then(h, n)
			}
			h.wantRuns(tc.wantRuns...)
			h.wantLabels(n, tc.wantLabels...)
			if tc.wantReply != "" {
				h.wantBotComment(n, tc.wantReply)
			} else if c := h.BotComments(repo, n); len(c) > 0 {
				t.Fatalf("unexpected comments: %q", c)
			}
		})
	}
}
