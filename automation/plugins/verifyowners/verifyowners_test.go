package verifyowners_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/automation/plugins/verifyowners"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// alice and bob are members; carol a collaborator only; dave an outsider.
const seed = `
users:
- {login: alice}
- {login: bob}
- {login: carol}
- {login: dave}
orgs:
- login: acme
  members: [alice, bob]
repos:
- name: acme/widgets
  files: &files
    OWNERS: "approvers: [alice]\n"
    OWNERS_ALIASES: "aliases:\n  team: [alice, bob]\n"
    sub/OWNERS: "reviewers: [bob]\n"
  collaborators: {carol: write}
  labels: &labels [{name: do-not-merge/invalid-owners-file}]
- {name: acme/skip, files: *files, labels: *labels, collaborators: {carol: write}}
- {name: acme/members, files: *files, labels: *labels, collaborators: {carol: write}}
`

const pluginsYAML = `
plugins:
  acme:
    plugins: [verify-owners]
owners:
  labels_denylist: [approved, lgtm]
  skip_collaborators: [acme/skip]
triggers:
- repos: [acme/members]
  only_org_members: true
`

func start(t *testing.T) *plugintest.Env {
	t.Helper()
	return plugintest.Start(t, plugintest.Options{
		Seed:   seed,
		Config: map[string]string{"plugins.yaml": pluginsYAML},
		Plugins: func(d plugintest.Deps) []plugin.Plugin {
			return []plugin.Plugin{verifyowners.New(d.Base)}
		},
	})
}

var branches atomic.Int64

type pr struct {
	e            *plugintest.Env
	repo, branch string
	n            int
}

func open(t *testing.T, e *plugintest.Env, repo string, files map[string]string) *pr {
	t.Helper()
	b := fmt.Sprintf("b%d", branches.Add(1))
	return &pr{e: e, repo: repo, branch: b, n: e.OpenPR("bob", repo, forge.PullRequest{Head: b, Files: plugintest.Files(files)}).GetNumber()}
}

func (p *pr) invalid(t *testing.T) bool {
	t.Helper()
	return slices.Contains(p.e.Labels(p.repo, p.n), verifyowners.InvalidOwnersLabel)
}

func (p *pr) wantInvalid(t *testing.T, want bool) {
	t.Helper()
	if got := p.invalid(t); got != want {
		t.Fatalf("%s#%d invalid: %v, want %v; comments %q; review comments %q", p.repo, p.n, got, want,
			p.e.BotComments(p.repo, p.n), p.reviewComments(t))
	}
}

// reviewComments lists the bot's review comments as "path:line: body".
func (p *pr) reviewComments(t *testing.T) []string {
	t.Helper()
	org, name, _ := strings.Cut(p.repo, "/")
	cs, _, err := p.e.GitHub.PullRequests.ListComments(p.e.Ctx, org, name, p.n, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s:%d: %s", c.GetPath(), c.GetLine(), c.GetBody()))
	}
	return out
}

func (p *pr) wantReviewComment(t *testing.T, want string) {
	t.Helper()
	for _, c := range p.reviewComments(t) {
		if strings.HasPrefix(c, want) {
			return
		}
	}
	t.Errorf("no review comment starts with %q: %q", want, p.reviewComments(t))
}

func (p *pr) wantComment(t *testing.T, substrings ...string) {
	t.Helper()
	for _, c := range p.e.BotComments(p.repo, p.n) {
		ok := true
		for _, s := range substrings {
			ok = ok && strings.Contains(c, s)
		}
		if ok {
			return
		}
	}
	t.Errorf("no comment contains %q: %q", substrings, p.e.BotComments(p.repo, p.n))
}

func TestVerifyOwners(t *testing.T) {
	e := start(t)
	const w = "acme/widgets"
	t.Run("no OWNERS change: nothing to do", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, w, map[string]string{"x.go": "x\n"})
		p.wantInvalid(t, false)
		if c := e.BotComments(w, p.n); len(c) != 0 {
			t.Errorf("comments %q", c)
		}
	})
	t.Run("trusted users and aliases are fine", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, w, map[string]string{"new/OWNERS": "approvers: [alice, team]\nreviewers:\n- bob\n"})
		p.wantInvalid(t, false)
		if c := e.BotComments(w, p.n); len(c) != 0 {
			t.Errorf("comments %q", c)
		}
	})
	t.Run("a file that is not OWNERS YAML", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, w, map[string]string{"new/OWNERS": "approvers:\n- alice\nreviewers: [bob\n"})
		p.wantInvalid(t, true)
		p.wantReviewComment(t, "new/OWNERS:3: Cannot parse file:")
	})
	t.Run("a denied label", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, w, map[string]string{"new/OWNERS": "approvers: [alice]\nlabels: [lgtm, area/x]\n"})
		p.wantInvalid(t, true)
		p.wantReviewComment(t, "new/OWNERS:1: File contains banned labels: lgtm.")
	})
	t.Run("a filter that is not a regular expression", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, w, map[string]string{"new/OWNERS": "filters:\n  '(':\n    approvers: [alice]\n"})
		p.wantInvalid(t, true)
		p.wantReviewComment(t, `new/OWNERS:1: The filter "(" is not a regular expression`)
	})
	t.Run("a root OWNERS without approvers", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, w, map[string]string{"OWNERS": "reviewers: [alice]\n"})
		p.wantInvalid(t, true)
		p.wantReviewComment(t, "OWNERS:1: No approvers defined in this root directory OWNERS file.")
	})
	t.Run("an untrusted user, then a fix", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, w, map[string]string{"sub/OWNERS": "reviewers: [bob, dave]\n"})
		p.wantInvalid(t, true)
		p.wantComment(t, "name users who are not trusted", "- dave\n  - not a member of acme, and not a collaborator of acme/widgets\n  - sub/OWNERS")
		e.Push("bob", w, p.branch, p.n, map[string]string{"sub/OWNERS": "reviewers: [bob, carol]\n"})
		p.wantInvalid(t, false)
		for _, c := range e.BotComments(w, p.n) {
			if strings.Contains(c, "not trusted") {
				t.Errorf("the outdated comment stayed: %q", c)
			}
		}
	})
	t.Run("/verify-owners after the user joined", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, w, map[string]string{"x/OWNERS": "approvers: [carol]\n"})
		p.wantInvalid(t, false) // carol collaborates
		p2 := open(t, e, "acme/members", map[string]string{"x/OWNERS": "approvers: [carol]\n"})
		p2.wantInvalid(t, true)
		p2.wantComment(t, "- carol\n  - not a member of acme (only members are trusted)")
		// carol is invited and accepts.
		if _, _, err := e.GitHub.Organizations.EditOrgMembership(e.Ctx, "carol", "acme", &github.Membership{Role: github.Ptr("member")}); err != nil {
			t.Fatal(err)
		}
		if err := e.Forge.As("carol").Do(e.Ctx, http.MethodPatch, "/user/memberships/orgs/acme", map[string]string{"state": "active"}, nil); err != nil {
			t.Fatal(err)
		}
		e.Comment("alice", "acme/members", p2.n, "/verify-owners")
		p2.wantInvalid(t, false)
	})
	t.Run("skip_collaborators does not check trust", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, "acme/skip", map[string]string{"sub/OWNERS": "reviewers: [dave]\n"})
		p.wantInvalid(t, false)
	})
	t.Run("aliases: untrusted members, empty aliases, invalid content", func(t *testing.T) {
		t.Parallel()
		p := open(t, e, w, map[string]string{"OWNERS_ALIASES": "aliases:\n  team: [alice, bob, dave]\n  nobody: []\n"})
		p.wantInvalid(t, true)
		p.wantComment(t, "- dave\n", "OWNERS_ALIASES")
		p.wantComment(t, "OWNERS_ALIASES has empty aliases (nobody)")
		bad := open(t, e, w, map[string]string{"OWNERS_ALIASES": "aliases:\n  team: alice\n"})
		bad.wantInvalid(t, true)
		bad.wantComment(t, "The content of OWNERS_ALIASES is invalid:")
	})
	t.Run("a removed OWNERS file is not checked", func(t *testing.T) {
		t.Parallel()
		b := fmt.Sprintf("b%d", branches.Add(1))
		n := e.OpenPR("bob", w, forge.PullRequest{Head: b, Files: map[string][]byte{"sub/OWNERS": {}}}).GetNumber()
		p := &pr{e: e, repo: w, branch: b, n: n}
		p.wantInvalid(t, false)
	})
}
