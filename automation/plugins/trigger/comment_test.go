package trigger_test

import (
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/schema/plugins"
)

func TestCommands(t *testing.T) {
	tests := []struct {
		name   string
		author string // of the pull request
		file   string
		// act comments (and may do more) after the pull request is opened
		// and its automatic runs are deleted from the expectations: runs
		// lists every run, including those of opening.
		act        func(h *harness, number int, sha string)
		trigger    plugins.Trigger
		wantRuns   []string
		wantLabels []string
		wantReply  string
		// thenWait waits for events after act before the runs are checked.
		thenWait func(h *harness, number int)
	}{
		{
			name: "/test <job> runs a manual job", author: "alice", file: codeChange,
			act:      func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test e2e") },
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -", "presubmit e2e -"},
		},
		{
			name: "/test <job> runs a conditional job whatever changed", author: "alice", file: codeChange,
			act:      func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test docs") },
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -", "presubmit docs -"},
		},
		{
			name: "/test with several jobs on one line", author: "alice", file: codeChange,
			act: func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test e2e docs") },
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -",
				"presubmit e2e -", "presubmit docs -"},
		},
		{
			name: "/test for a job on another branch is not run", author: "alice", file: codeChange,
			act:       func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test release-only") },
			wantRuns:  []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
			wantReply: "no job on branch main answers to `/test release-only`",
		},
		{
			name: "commands count only at the start of a line", author: "alice", file: codeChange,
			act: func(h *harness, n int, _ string) {
				h.Comment("alice", repo, n, "please /test e2e and\n  /retest")
			},
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "a command on a later line counts", author: "alice", file: codeChange,
			act:      func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "Looks good.\n/test e2e\nThanks") },
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -", "presubmit e2e -"},
		},
		{
			name: "/test all runs the automatic jobs again, superseding", author: "alice", file: codeChange,
			act: func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test all") },
			wantRuns: []string{"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted",
				"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "/test ? lists the jobs", author: "alice", file: codeChange,
			act:       func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test ?") },
			wantRuns:  []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
			wantReply: "- `/test e2e`",
		},
		{
			name: "/test of an unknown job says so", author: "alice", file: codeChange,
			act:       func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test nope") },
			wantRuns:  []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
			wantReply: "`/test nope`",
		},
		{
			name: "/retest reruns failed jobs and starts those not yet reported", author: "alice", file: codeChange,
			act: func(h *harness, n int, sha string) {
				bot := h.Forge.As(plugintest.BotLogin)
				for ctx, state := range map[string]string{"unit": "failure", "lint": "success"} {
					if err := bot.SetStatus(h.Ctx, repo, sha, ctx, state, ""); err != nil {
						h.T.Fatal(err)
					}
				}
				h.Comment("alice", repo, n, "/retest")
			},
			// unit failed, build has not reported: both run again; lint passed.
			wantRuns: []string{"presubmit unit aborted", "presubmit build aborted", "presubmit lint -",
				"presubmit unit -", "presubmit build -"},
		},
		{
			name: "/retest-required reruns only failed required jobs", author: "alice", file: codeChange,
			act: func(h *harness, n int, sha string) {
				bot := h.Forge.As(plugintest.BotLogin)
				for ctx, state := range map[string]string{"unit": "failure", "lint": "error", "build": "success"} {
					if err := bot.SetStatus(h.Ctx, repo, sha, ctx, state, ""); err != nil {
						h.T.Fatal(err)
					}
				}
				h.Comment("alice", repo, n, "/retest-required")
			},
			wantRuns: []string{"presubmit unit aborted", "presubmit lint -", "presubmit build -", "presubmit unit -"},
		},
		{
			name: "/ok-to-test by a member labels and runs", author: "bob", file: codeChange,
			act:        func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/ok-to-test") },
			wantRuns:   []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
			wantLabels: []string{"ok-to-test"}, wantReply: "/ok-to-test",
			// The label bowline adds itself starts nothing more.
			thenWait: func(h *harness, n int) {
				h.Wait(repo, "ok-to-test label", plugintest.PRLabeled(n, "labeled", "ok-to-test"))
			},
		},
		{
			name: "after /ok-to-test, new pushes run and the author may /retest", author: "bob", file: codeChange,
			act: func(h *harness, n int, _ string) {
				h.Comment("alice", repo, n, "/ok-to-test")
				h.Push("bob", repo, "topic", n, map[string]string{"src/more.go": "package main\n"})
				h.Comment("bob", repo, n, "/test e2e")
			},
			wantRuns: []string{"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted",
				"presubmit unit -", "presubmit lint -", "presubmit build -", "presubmit e2e -"},
			wantLabels: []string{"ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "/ok-to-test by an outsider is refused", author: "bob", file: codeChange,
			act:        func(h *harness, n int, _ string) { h.Comment("bob", repo, n, "/ok-to-test") },
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "tests cannot be started until a trusted user",
		},
		// Prow: anyone may /test and /retest a trusted pull request
		// (trigger's TrustedPullRequest: trusted author or ok-to-test).
		{
			name: "an outsider may /test a member's pull request", author: "alice", file: codeChange,
			act:      func(h *harness, n int, _ string) { h.Comment("bob", repo, n, "/test e2e") },
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -", "presubmit e2e -"},
		},
		{
			name: "an outsider may /retest a member's pull request", author: "alice", file: codeChange,
			act: func(h *harness, n int, sha string) {
				if err := h.Forge.As(plugintest.BotLogin).SetStatus(h.Ctx, repo, sha, "unit", "failure", ""); err != nil {
					h.T.Fatal(err)
				}
				h.Comment("bob", repo, n, "/retest")
			},
			// unit failed; build and lint have not reported yet.
			wantRuns: []string{"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted",
				"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "an outsider may /test on a pull request labelled ok-to-test", author: "bob", file: codeChange,
			act: func(h *harness, n int, _ string) {
				h.Comment("alice", repo, n, "/ok-to-test")
				h.Wait(repo, "ok-to-test label", plugintest.PRLabeled(n, "labeled", "ok-to-test"))
				h.Comment("carl", repo, n, "/test e2e")
			},
			wantRuns:   []string{"presubmit unit -", "presubmit lint -", "presubmit build -", "presubmit e2e -"},
			wantLabels: []string{"ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "an outsider's /ok-to-test on a member's pull request runs the jobs but labels nothing", author: "alice", file: codeChange,
			act: func(h *harness, n int, _ string) { h.Comment("bob", repo, n, "/ok-to-test") },
			wantRuns: []string{"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted",
				"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "an outsider cannot withdraw /ok-to-test", author: "bob", file: codeChange,
			act: func(h *harness, n int, _ string) {
				h.Comment("alice", repo, n, "/ok-to-test")
				h.Wait(repo, "ok-to-test label", plugintest.PRLabeled(n, "labeled", "ok-to-test"))
				h.Comment("carl", repo, n, "/ok-to-test cancel")
			},
			wantRuns:   []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
			wantLabels: []string{"ok-to-test"}, wantReply: "only trusted users may withdraw `/ok-to-test`",
		},
		{
			name: "a person adding the ok-to-test label starts the automatic jobs", author: "bob", file: codeChange,
			act: func(h *harness, n int, _ string) {
				if err := h.Forge.As("alice").Label(h.Ctx, repo, n, "ok-to-test"); err != nil {
					h.T.Fatal(err)
				}
				h.Wait(repo, "labeled ok-to-test", plugintest.PRLabeled(n, "labeled", "ok-to-test"))
			},
			wantRuns:   []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
			wantLabels: []string{"ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "/ok-to-test in a code block is not a command", author: "bob", file: codeChange,
			act: func(h *harness, n int, _ string) {
				h.Comment("alice", repo, n, "Reply with:\n```\n/ok-to-test\n```\n")
			},
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "a quoted /test is not a command", author: "alice", file: codeChange,
			act:      func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "> /test e2e\nwhy?") },
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "/test all leaves run_before_merge jobs to the merge controller", author: "alice", file: codeChange,
			act: func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test all") },
			wantRuns: []string{"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted",
				"presubmit unit -", "presubmit lint -", "presubmit build -"},
		},
		{
			name: "/test names a run_before_merge job and it runs", author: "alice", file: codeChange,
			act:      func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test before-merge") },
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -", "presubmit before-merge -"},
		},
		{
			name: "an outsider's /test on an unverified pull request is refused", author: "bob", file: codeChange,
			act:        func(h *harness, n int, _ string) { h.Comment("bob", repo, n, "/test all") },
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "tests cannot be started until a trusted user",
		},
		{
			name: "a member's /test on an unverified pull request runs", author: "bob", file: codeChange,
			act:        func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/test e2e") },
			wantRuns:   []string{"presubmit e2e -"},
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "/ok-to-test cancel puts the pull request back to waiting", author: "bob", file: codeChange,
			act: func(h *harness, n int, _ string) {
				h.Comment("alice", repo, n, "/ok-to-test")
				h.Comment("alice", repo, n, "/ok-to-test cancel")
				h.Push("bob", repo, "topic", n, map[string]string{"src/more.go": "package main\n"})
			},
			wantRuns:   []string{"presubmit unit -", "presubmit lint -", "presubmit build -"},
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "ignore_ok_to_test ignores /ok-to-test", author: "bob", file: codeChange,
			trigger:    plugins.Trigger{Repos: []string{"acme"}, IgnoreOkToTest: true},
			act:        func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/ok-to-test") },
			wantLabels: []string{"needs-ok-to-test"}, wantReply: "/ok-to-test",
		},
		{
			name: "a job's own trigger", author: "alice", file: codeChange,
			act:      func(h *harness, n int, _ string) { h.Comment("alice", repo, n, "/run-special") },
			wantRuns: []string{"presubmit unit -", "presubmit lint -", "presubmit build -", "presubmit special -"},
		},
		{
			name: "/test on a draft runs the named job", author: "alice", file: codeChange,
			act: func(h *harness, n int, _ string) {
				if err := h.Forge.As("alice").SetDraft(h.Ctx, repo, n, true); err != nil {
					h.T.Fatal(err)
				}
				h.Wait(repo, "converted_to_draft", plugintest.PRAction(n, "converted_to_draft"))
				h.Comment("alice", repo, n, "/test e2e")
			},
			wantRuns: []string{"presubmit unit aborted", "presubmit lint aborted", "presubmit build aborted", "presubmit e2e -"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			special := presubmit("special")
			special.Trigger, special.RerunCommand = `(?m)^/run-special\s*$`, "/run-special"
			h := start(t, append(standardJobs(), special), nil, tc.trigger)
			n, sha := h.openPR(tc.author, "topic", map[string]string{tc.file: "x\n"}, false)
			tc.act(h, n, sha)
			if tc.thenWait != nil {
				tc.thenWait(h, n)
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
