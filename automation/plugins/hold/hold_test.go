package hold_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/hold"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// bob is not a member of acme: anyone may hold.
const seed = `
users: [{login: alice}, {login: bob}]
orgs: [{login: acme, members: [alice]}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
  labels: [{name: do-not-merge/hold}]
`

func TestHold(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(nil, nil), hold.New)
	tests := []struct {
		name     string
		body     string
		held     bool // the label is there before the comment
		wantHeld bool
	}{
		{name: "plain comment", body: "looks fine", wantHeld: false},
		{name: "hold", body: "/hold", wantHeld: true},
		{name: "hold with a reason", body: "/hold until the release is cut", wantHeld: true},
		{name: "hold in any case", body: "/HOLD", wantHeld: true},
		{name: "hold on a later line", body: "wait a moment\n/hold\nthanks", wantHeld: true},
		{name: "hold when held", body: "/hold", held: true, wantHeld: true},
		{name: "not at the start of a line", body: "please /hold", wantHeld: false},
		{name: "longer word", body: "/holdup", wantHeld: false},
		{name: "hold cancel", body: "/hold cancel", held: true, wantHeld: false},
		{name: "unhold", body: "/unhold", held: true, wantHeld: false},
		{name: "remove-hold", body: "/remove-hold", held: true, wantHeld: false},
		{name: "cancel with CRLF", body: "/hold cancel\r\n", held: true, wantHeld: false},
		{name: "cancel when not held", body: "/hold cancel", wantHeld: false},
		{name: "cancel wins over hold", body: "/hold\n/hold cancel", held: true, wantHeld: false},
		{name: "cancel with trailing words is a hold", body: "/hold cancel it later", held: false, wantHeld: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pr := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: tc.name, Head: fmt.Sprintf("b%d", i), Files: map[string][]byte{fmt.Sprintf("f%d", i): []byte("x")}})
			n := pr.GetNumber()
			if tc.held {
				if err := h.Forge.As(plugintest.BotLogin).Label(h.Ctx, h.Repo, n, hold.Label); err != nil {
					t.Fatal(err)
				}
			}
			h.Comment("bob", h.Repo, n, tc.body)
			if got := slices.Contains(h.Labels(h.Repo, n), hold.Label); got != tc.wantHeld {
				t.Errorf("held = %v, want %v (labels %q)", got, tc.wantHeld, h.Labels(h.Repo, n))
			}
			if c := h.BotComments(h.Repo, n); len(c) > 0 {
				t.Errorf("unexpected comments: %q", c)
			}
		})
	}
}

func TestHoldIgnoresIssues(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, plugintest.Config(nil, nil), hold.New)
	n := h.OpenIssue("alice", h.Repo, "an issue", "")
	h.Comment("alice", h.Repo, n, "/hold")
	if got := h.Labels(h.Repo, n); len(got) != 0 {
		t.Errorf("labels of an issue: %q", got)
	}
}

func TestHoldWithoutConfig(t *testing.T) {
	h := plugintest.StartPlugin(t, seed, nil, hold.New)
	pr := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: "x", Head: "x", Files: map[string][]byte{"x": []byte("x")}})
	h.Comment("bob", h.Repo, pr.GetNumber(), "/hold")
	if got := h.Labels(h.Repo, pr.GetNumber()); len(got) != 0 {
		t.Errorf("labels before any revision is applied: %q", got)
	}
}
