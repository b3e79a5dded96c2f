package blunderbuss_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/blunderbuss"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// alice and bob review docs/, carol approves; dave is an outsider whom
// acme/open's OWNERS name as a reviewer.
const seed = `
users:
- {login: alice}
- {login: bob}
- {login: carol}
- {login: dave}
- {login: erin}
orgs:
- login: acme
  members: [alice, bob, carol, erin]
  defaultRepoPermission: write
repos:
- name: acme/widgets
  files: &files
    OWNERS: "approvers: [carol]\n"
    docs/OWNERS: "reviewers: [alice, bob]\n"
    ext/OWNERS: "reviewers: [dave, alice]\n"
- {name: acme/open, files: *files}
`

const pluginsYAML = `
plugins:
  acme:
    plugins: [blunderbuss]
blunderbuss:
  request_count: %d
  ignore_drafts: true
  ignore_authors: [erin]
owners:
  skip_collaborators: [acme/open]
`

func start(t *testing.T, count int) *plugintest.Env {
	t.Helper()
	return plugintest.Start(t, plugintest.Options{
		Seed:   seed,
		Config: map[string]string{"plugins.yaml": fmt.Sprintf(pluginsYAML, count)},
		Plugins: func(d plugintest.Deps) []plugin.Plugin {
			return []plugin.Plugin{blunderbuss.New(d.Base, d.Owners)}
		},
	})
}

var branches atomic.Int64

func requested(t *testing.T, e *plugintest.Env, repo string, n int) []string {
	t.Helper()
	org, name, _ := strings.Cut(repo, "/")
	r, _, err := e.GitHub.PullRequests.ListReviewers(e.Ctx, org, name, n)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range r.Users {
		out = append(out, u.GetLogin())
	}
	sort.Strings(out)
	return out
}

func open(t *testing.T, e *plugintest.Env, author, repo string, mods ...func(*forge.PullRequest)) int {
	t.Helper()
	pr := forge.PullRequest{Head: fmt.Sprintf("b%d", branches.Add(1)), Files: map[string][]byte{"docs/x.md": []byte("x\n")}}
	for _, m := range mods {
		m(&pr)
	}
	return e.OpenPR(author, repo, pr).GetNumber()
}

func TestBlunderbuss(t *testing.T) {
	e := start(t, 2)
	const w = "acme/widgets"
	t.Run("reviewers of the changed files are asked", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "carol", w)
		if got := requested(t, e, w, n); !slices.Equal(got, []string{"alice", "bob"}) {
			t.Errorf("requested %q, want alice and bob", got)
		}
	})
	t.Run("the author is not, an approver fills in", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "alice", w)
		if got := requested(t, e, w, n); !slices.Equal(got, []string{"bob", "carol"}) {
			t.Errorf("requested %q, want bob and carol", got)
		}
	})
	t.Run("drafts wait with ignore_drafts", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "carol", w, func(pr *forge.PullRequest) { pr.Draft = true })
		if got := requested(t, e, w, n); len(got) != 0 {
			t.Errorf("a draft got reviewers %q", got)
		}
		if err := e.Forge.As("carol").SetDraft(e.Ctx, w, n, false); err != nil {
			t.Fatal(err)
		}
		e.Wait(w, "ready for review", plugintest.PRAction(n, "ready_for_review"))
		if got := requested(t, e, w, n); !slices.Equal(got, []string{"alice", "bob"}) {
			t.Errorf("requested %q once ready, want alice and bob", got)
		}
	})
	t.Run("ignore_authors", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "erin", w)
		if got := requested(t, e, w, n); len(got) != 0 {
			t.Errorf("an ignored author got reviewers %q", got)
		}
		e.Comment("erin", w, n, "/auto-cc")
		if got := requested(t, e, w, n); !slices.Equal(got, []string{"alice", "bob"}) {
			t.Errorf("/auto-cc requested %q, want alice and bob", got)
		}
	})
	t.Run("a description with /cc chooses its own reviewers", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "carol", w, func(pr *forge.PullRequest) { pr.Body = "Please look.\n/cc @erin" })
		if got := requested(t, e, w, n); len(got) != 0 {
			t.Errorf("requested %q, want none", got)
		}
	})
	t.Run("GitHub refuses a reviewer who cannot review; the others are asked", func(t *testing.T) {
		t.Parallel()
		n := e.OpenPR("carol", "acme/open", forge.PullRequest{Head: fmt.Sprintf("b%d", branches.Add(1)), Files: map[string][]byte{"ext/x": []byte("x\n")}}).GetNumber()
		if got := requested(t, e, "acme/open", n); !slices.Equal(got, []string{"alice"}) {
			t.Errorf("requested %q, want alice (dave is no collaborator)", got)
		}
	})
}
