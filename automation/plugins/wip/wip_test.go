package wip_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/automation/plugins/wip"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

const seed = `
users: [{login: alice}]
orgs: [{login: acme, members: [alice]}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
`

func TestIsWIP(t *testing.T) {
	tests := []struct {
		title string
		draft bool
		want  bool
	}{
		{"WIP add a feature", false, true},
		{"[WIP] add a feature", false, true},
		{"wip: add a feature", false, true},
		{"WIP: add a feature", false, true},
		{"(wip) add a feature", false, true},
		{"WIP", false, false}, // Prow wants a non-word character after it
		{"add a WIP feature", false, false},
		{"WIPE the disk", false, false},
		{"[[WIP]] two brackets", false, false},
		{"ready", true, true},
		{"ready", false, false},
	}
	for _, tc := range tests {
		if got := wip.IsWIP(tc.title, tc.draft); got != tc.want {
			t.Errorf("IsWIP(%q, %v) = %v, want %v", tc.title, tc.draft, got, tc.want)
		}
	}
}

func start(t *testing.T) *plugintest.Env {
	return plugintest.StartPlugin(t, seed, plugintest.Config(nil, nil), wip.New)
}

func TestWIPOnOpen(t *testing.T) {
	h := start(t)
	tests := []struct {
		title string
		draft bool
		want  bool
	}{
		{"WIP: add a feature", false, true},
		{"[wip] add a feature", false, true},
		{"add a feature", true, true},
		{"add a feature", false, false},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%s draft=%v", tc.title, tc.draft), func(t *testing.T) {
			t.Parallel()
			pr := h.OpenPR("alice", h.Repo, forge.PullRequest{Title: tc.title, Head: fmt.Sprintf("b%d", i), Draft: tc.draft,
				Files: map[string][]byte{fmt.Sprintf("f%d", i): []byte("x")}})
			if got := slices.Contains(h.Labels(h.Repo, pr.GetNumber()), wip.Label); got != tc.want {
				t.Errorf("labelled = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWIPFollowsTitleAndDraft(t *testing.T) {
	h := start(t)
	pr := h.OpenPR("alice", h.Repo, forge.PullRequest{Title: "WIP: add a feature", Head: "feature", Files: map[string][]byte{"f": []byte("x")}})
	n := pr.GetNumber()
	want := func(labelled bool) {
		t.Helper()
		if got := slices.Contains(h.Labels(h.Repo, n), wip.Label); got != labelled {
			t.Fatalf("labelled = %v, want %v", got, labelled)
		}
	}
	want(true)

	retitle := func(title string) {
		t.Helper()
		if err := h.Forge.As("alice").Do(h.Ctx, http.MethodPatch, fmt.Sprintf("/repos/%s/pulls/%d", h.Repo, n), map[string]string{"title": title}, nil); err != nil {
			t.Fatal(err)
		}
	}
	retitle("Add a feature")
	h.Wait(h.Repo, "title edited", plugintest.PRLabeled(n, "unlabeled", wip.Label))
	h.Wait(h.Repo, "title edited", plugintest.PRAction(n, "edited"))
	want(false)

	if err := h.Forge.As("alice").SetDraft(h.Ctx, h.Repo, n, true); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "converted to draft", plugintest.PRAction(n, "converted_to_draft"))
	want(true)

	// Ready for review but still titled WIP: the label stays.
	retitle("[WIP] add a feature")
	h.Wait(h.Repo, "title edited", plugintest.PRAction(n, "edited"))
	if err := h.Forge.As("alice").SetDraft(h.Ctx, h.Repo, n, false); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "ready for review", plugintest.PRAction(n, "ready_for_review"))
	want(true)

	retitle("add a feature")
	h.Wait(h.Repo, "title edited", plugintest.PRAction(n, "edited"))
	want(false)
}
