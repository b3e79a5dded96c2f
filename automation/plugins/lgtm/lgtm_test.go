package lgtm_test

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/lgtm"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// alice and bob are members (and so collaborators), alice in the
// Maintainers team; dave is an outsider whom acme/owners' OWNERS name as a
// reviewer.
const seed = `
users:
- {login: alice}
- {login: bob}
- {login: dave}
orgs:
- login: acme
  members: [alice, bob]
  defaultRepoPermission: write
  teams:
  - {name: Maintainers, members: [alice]}
repos:
- name: acme/widgets
  files: &files
    OWNERS: "approvers: [alice]\nreviewers: [dave]\n"
    README.md: "widgets\n"
  labels: &labels [{name: lgtm}]
- {name: acme/reviews, files: *files, labels: *labels}
- {name: acme/tree, files: *files, labels: *labels}
- {name: acme/sticky, files: *files, labels: *labels}
- {name: acme/owners, files: *files, labels: *labels}
`

const pluginsYAML = `
plugins:
  acme:
    plugins: [lgtm]
lgtm:
- repos: [acme/reviews]
  review_acts_as_lgtm: true
- repos: [acme/tree]
  store_tree_hash: true
- repos: [acme/sticky]
  trusted_team_for_sticky_lgtm: Maintainers
owners:
  skip_collaborators: [acme/owners]
`

func start(t *testing.T) *plugintest.Env {
	t.Helper()
	return plugintest.Start(t, plugintest.Options{
		Seed:   seed,
		Config: map[string]string{"plugins.yaml": pluginsYAML},
		Plugins: func(d plugintest.Deps) []plugin.Plugin {
			return []plugin.Plugin{lgtm.New(d.Base, d.Owners)}
		},
	})
}

var branches atomic.Int64

type pr struct {
	e            *plugintest.Env
	repo, branch string
	n            int
}

func open(t *testing.T, e *plugintest.Env, author, repo string) *pr {
	t.Helper()
	branch := fmt.Sprintf("change-%d", branches.Add(1))
	n := e.OpenPR(author, repo, forge.PullRequest{Head: branch, Files: map[string][]byte{branch + ".txt": []byte("one\n")}}).GetNumber()
	return &pr{e: e, repo: repo, branch: branch, n: n}
}

func (p *pr) wantLGTM(t *testing.T, want bool) {
	t.Helper()
	if got := slices.Contains(p.e.Labels(p.repo, p.n), "lgtm"); got != want {
		t.Fatalf("%s#%d labelled lgtm: %v, want %v", p.repo, p.n, got, want)
	}
}

// botSaid reports how many of the bot's comments contain s.
func (p *pr) botSaid(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range p.e.BotComments(p.repo, p.n) {
		if strings.Contains(c, s) {
			n++
		}
	}
	return n
}

func (p *pr) assignees(t *testing.T) []string {
	t.Helper()
	org, name, _ := strings.Cut(p.repo, "/")
	got, _, err := p.e.GitHub.PullRequests.Get(p.e.Ctx, org, name, p.n)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range got.Assignees {
		out = append(out, a.GetLogin())
	}
	return out
}

func TestLGTM(t *testing.T) {
	e := start(t)
	const w = "acme/widgets"
	t.Run("/lgtm by a collaborator adds the label and assigns them", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, "bob", w)
		e.Comment("alice", w, p.n, "/lgtm")
		p.wantLGTM(t, true)
		if got := p.assignees(t); !slices.Equal(got, []string{"alice"}) {
			t.Errorf("assignees %q, want alice", got)
		}
		e.Comment("alice", w, p.n, "/lgtm cancel")
		p.wantLGTM(t, false)
		e.Comment("alice", w, p.n, "/LGTM")
		p.wantLGTM(t, true)
		e.Comment("alice", w, p.n, "/remove-lgtm")
		p.wantLGTM(t, false)
	})
	t.Run("the author cannot lgtm, but may cancel", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, "bob", w)
		e.Comment("bob", w, p.n, "/lgtm")
		p.wantLGTM(t, false)
		if p.botSaid(t, "@bob: you cannot LGTM your own PR.") != 1 {
			t.Errorf("no answer: %q", e.BotComments(w, p.n))
		}
		e.Comment("alice", w, p.n, "/lgtm")
		p.wantLGTM(t, true)
		e.Comment("bob", w, p.n, "/lgtm cancel")
		p.wantLGTM(t, false)
	})
	t.Run("an outsider is told it is restricted to collaborators", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, "bob", w)
		e.Comment("dave", w, p.n, "/lgtm")
		p.wantLGTM(t, false)
		if p.botSaid(t, "@dave: changing LGTM is restricted to collaborators") != 1 {
			t.Errorf("no answer: %q", e.BotComments(w, p.n))
		}
	})
	t.Run("commands count at the start of a line only", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, "bob", w)
		e.Comment("alice", w, p.n, "I'd say /lgtm")
		e.Comment("alice", w, p.n, "/lgtm please")
		e.Comment("alice", w, p.n, "Nice.\n/lgtm")
		p.wantLGTM(t, true)
	})
	t.Run("reviews do nothing without review_acts_as_lgtm", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, "bob", w)
		e.Review("alice", w, p.n, "APPROVE", "")
		p.wantLGTM(t, false)
	})
	t.Run("new commits remove the label", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, "bob", w)
		e.Comment("alice", w, p.n, "/lgtm")
		e.Push("bob", w, p.branch, p.n, map[string]string{"more.txt": "more\n"})
		p.wantLGTM(t, false)
		if p.botSaid(t, "New changes are detected. LGTM label has been removed.") != 1 {
			t.Errorf("no notice: %q", e.BotComments(w, p.n))
		}
		// A new /lgtm takes the notice away.
		e.Comment("alice", w, p.n, "/lgtm")
		p.wantLGTM(t, true)
		if p.botSaid(t, "New changes are detected") != 0 {
			t.Errorf("the notice stayed: %q", e.BotComments(w, p.n))
		}
	})

	t.Run("review_acts_as_lgtm", func(t *testing.T) {
		t.Parallel()
		const r = "acme/reviews"
		p := open(t, e, "bob", r)
		e.Review("alice", r, p.n, "APPROVE", "")
		p.wantLGTM(t, true)
		e.Review("alice", r, p.n, "COMMENT", "a thought")
		p.wantLGTM(t, true)
		e.Review("alice", r, p.n, "REQUEST_CHANGES", "not yet")
		p.wantLGTM(t, false)
		// A command in a review's body wins over its state.
		e.Review("alice", r, p.n, "REQUEST_CHANGES", "/lgtm")
		e.Wait(r, "review body", plugintest.CommentBody(p.n, "alice", "/lgtm"))
		p.wantLGTM(t, true)
	})

	t.Run("store_tree_hash keeps the label when the tree is unchanged", func(t *testing.T) {
		t.Parallel()
		const r = "acme/tree"
		p := open(t, e, "bob", r)
		e.Comment("alice", r, p.n, "/lgtm")
		p.wantLGTM(t, true)
		if p.botSaid(t, "LGTM label has been added.  <details>Git tree hash: ") != 1 {
			t.Fatalf("no tree hash recorded: %q", e.BotComments(r, p.n))
		}
		// The same content again: a new commit, the same tree.
		e.Push("bob", r, p.branch, p.n, map[string]string{p.branch + ".txt": "one\n"})
		p.wantLGTM(t, true)
		e.Push("bob", r, p.branch, p.n, map[string]string{p.branch + ".txt": "two\n"})
		p.wantLGTM(t, false)
		// The reviewer, assigned by /lgtm, is asked to review again.
		org, name, _ := strings.Cut(r, "/")
		req, _, err := e.GitHub.PullRequests.ListReviewers(e.Ctx, org, name, p.n)
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Users) != 1 || req.Users[0].GetLogin() != "alice" {
			t.Errorf("requested reviewers %v, want alice", req.Users)
		}
		// /lgtm cancel drops the record of the tree.
		e.Comment("alice", r, p.n, "/lgtm")
		e.Comment("alice", r, p.n, "/lgtm cancel")
		if p.botSaid(t, "Git tree hash") != 0 {
			t.Errorf("tree hash records left: %q", e.BotComments(r, p.n))
		}
	})

	t.Run("trusted_team_for_sticky_lgtm", func(t *testing.T) {
		t.Parallel()
		const r = "acme/sticky"
		byMaintainer := open(t, e, "alice", r)
		e.Comment("bob", r, byMaintainer.n, "/lgtm")
		e.Push("alice", r, byMaintainer.branch, byMaintainer.n, map[string]string{"more.txt": "more\n"})
		byMaintainer.wantLGTM(t, true)
		byOther := open(t, e, "bob", r)
		e.Comment("alice", r, byOther.n, "/lgtm")
		e.Push("bob", r, byOther.branch, byOther.n, map[string]string{"more.txt": "more\n"})
		byOther.wantLGTM(t, false)
	})

	t.Run("skip_collaborators: OWNERS decide", func(t *testing.T) {
		t.Parallel()
		const r = "acme/owners"
		p := open(t, e, "alice", r)
		e.Comment("bob", r, p.n, "/lgtm")
		p.wantLGTM(t, false)
		if p.botSaid(t, "@bob: adding LGTM is restricted to approvers and reviewers in OWNERS files.") != 1 {
			t.Errorf("no answer: %q", e.BotComments(r, p.n))
		}
		e.Comment("dave", r, p.n, "/lgtm")
		p.wantLGTM(t, true)
	})
}

var _ = github.Ptr[int]
