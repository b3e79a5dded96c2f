package approve_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/approve"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// seed: alice approves everything; bob approves a/; nina approves n/ alone
// (no_parent_owners); olga is an approver of o/ but no collaborator; dave
// is an outsider. Each repository has its own approve settings.
const seed = `
users:
- {login: alice}
- {login: bob}
- {login: nina}
- {login: olga}
- {login: dave}
orgs:
- login: acme
  members: [alice, bob, nina]
  defaultRepoPermission: write
repos:
- name: acme/widgets
  files: &files
    OWNERS: "approvers: [alice]\nreviewers: [bob]\n"
    OWNERS_ALIASES: "aliases:\n  a-team: [bob]\n"
    a/OWNERS: "approvers: [a-team]\n"
    a/a.go: "package a\n"
    n/OWNERS: "options: {no_parent_owners: true}\napprovers: [nina]\n"
    o/OWNERS: "approvers: [olga]\n"
    bad/OWNERS: "approvers: [unclosed\n"
  labels: &labels [{name: approved}, {name: lgtm}]
- {name: acme/strict, files: *files, labels: *labels}
- {name: acme/lgtm, files: *files, labels: *labels}
- {name: acme/skip, files: *files, labels: *labels}
`

const pluginsYAML = `
plugins:
  acme:
    plugins: [approve]
approve:
- repos: [acme/strict]
  require_self_approval: true
  issue_required: true
  ignore_review_state: true
- repos: [acme/lgtm]
  lgtm_acts_as_approve: true
owners:
  skip_collaborators: [acme/skip]
`

func start(t *testing.T, transport func(http.RoundTripper) http.RoundTripper) *plugintest.Env {
	t.Helper()
	return plugintest.Start(t, plugintest.Options{
		Seed:   seed,
		Config: map[string]string{"plugins.yaml": pluginsYAML},
		Plugins: func(d plugintest.Deps) []plugin.Plugin {
			return []plugin.Plugin{approve.New(d.Base, d.Owners)}
		},
		Transport: transport,
	})
}

// notification returns the one approval notification, failing when there
// is none or more than one.
func notification(t *testing.T, e *plugintest.Env, repo string, n int) string {
	t.Helper()
	var found []string
	for _, c := range e.BotComments(repo, n) {
		if strings.HasPrefix(c, "[APPROVALNOTIFIER]") {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("#%d has %d approval notifications, want 1:\n%s", n, len(found), strings.Join(found, "\n---\n"))
	}
	return found[0]
}

func wantApproved(t *testing.T, e *plugintest.Env, repo string, n int, approved bool, substrings ...string) {
	t.Helper()
	labelled := slices.Contains(e.Labels(repo, n), "approved")
	msg := notification(t, e, repo, n)
	verdict := strings.Contains(msg, "This PR is **APPROVED**")
	if labelled != approved || verdict != approved {
		t.Fatalf("#%d: labelled approved %v, notification says approved %v, want %v:\n%s", n, labelled, verdict, approved, msg)
	}
	for _, s := range substrings {
		if !strings.Contains(msg, s) {
			t.Errorf("#%d: the notification lacks %q:\n%s", n, s, msg)
		}
	}
}

var branches atomic.Int64

func open(t *testing.T, e *plugintest.Env, author, repo string, files map[string]string, mods ...func(*forge.PullRequest)) int {
	t.Helper()
	pr := forge.PullRequest{Head: fmt.Sprintf("change-%d", branches.Add(1)), Files: plugintest.Files(files)}
	for _, m := range mods {
		m(&pr)
	}
	return e.OpenPR(author, repo, pr).GetNumber()
}

func TestApprove(t *testing.T) {
	e := start(t, nil)
	const w = "acme/widgets"
	a := map[string]string{"a/x.go": "package a\n"}
	t.Run("an approver's own pull request is approved by them", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "alice", w, map[string]string{"x.go": "x\n"})
		wantApproved(t, e, w, n, true, `title="Author self-approved">alice</a>`, "~~[OWNERS]")
	})
	t.Run("/approve by an approver, then /approve cancel and /remove-approve", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, a)
		wantApproved(t, e, w, n, false, "**[a/OWNERS]", "assign [bob]", `<!-- META={"approvers":["bob"]} -->`)
		e.Comment("bob", w, n, "looks right\n/approve")
		wantApproved(t, e, w, n, true, `title="Approved">bob</a>`, "~~[a/OWNERS]", "/blob/main/a/OWNERS", `META={"approvers":[]}`)
		e.Comment("bob", w, n, "/approve cancel")
		wantApproved(t, e, w, n, false)
		e.Comment("bob", w, n, "/approve")
		wantApproved(t, e, w, n, true)
		e.Comment("bob", w, n, "/remove-approve")
		wantApproved(t, e, w, n, false)
	})
	t.Run("someone else's approval does not count", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, a)
		e.Comment("nina", w, n, "/approve")
		wantApproved(t, e, w, n, false, `title="Approved">nina</a>`, "**[a/OWNERS]")
	})
	t.Run("a parent's approver approves", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, a)
		e.Comment("alice", w, n, "/approve")
		wantApproved(t, e, w, n, true, "~~[a/OWNERS]")
	})
	t.Run("no_parent_owners keeps the parent's approvers out", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, map[string]string{"n/x": "x\n"})
		e.Comment("alice", w, n, "/approve")
		wantApproved(t, e, w, n, false, "**[n/OWNERS]", "[nina]")
		e.Comment("nina", w, n, "/approve")
		wantApproved(t, e, w, n, true)
	})
	t.Run("every OWNERS file needs its approver", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, map[string]string{"a/y": "y\n", "n/y": "y\n"})
		e.Comment("bob", w, n, "/approve")
		wantApproved(t, e, w, n, false, "~~[a/OWNERS]", "**[n/OWNERS]", "assign [nina]")
		e.Comment("nina", w, n, "/approve")
		wantApproved(t, e, w, n, true, "~~[n/OWNERS]")
	})
	t.Run("reviews approve and request changes", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, a)
		e.Review("bob", w, n, "APPROVE", "")
		wantApproved(t, e, w, n, true)
		e.Review("bob", w, n, "REQUEST_CHANGES", "not yet")
		wantApproved(t, e, w, n, false)
	})
	t.Run("an approver who is not a collaborator does not count", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, map[string]string{"o/x": "x\n"})
		e.Comment("olga", w, n, "/approve")
		// Without olga, the root OWNERS owns o/.
		wantApproved(t, e, w, n, false, "**[OWNERS]", "assign [alice]")
	})
	t.Run("skip_collaborators counts them", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", "acme/skip", map[string]string{"o/x": "x\n"})
		e.Comment("olga", "acme/skip", n, "/approve")
		wantApproved(t, e, "acme/skip", n, true, "~~[o/OWNERS]")
	})
	t.Run("an OWNERS file that cannot be read leaves its directory to the parent", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, map[string]string{"bad/x": "x\n"})
		e.Comment("alice", w, n, "/approve")
		wantApproved(t, e, w, n, true, "~~[OWNERS]")
	})
	t.Run("new commits keep the approval", func(t *testing.T) {
		t.Parallel()
		branch := fmt.Sprintf("change-%d", branches.Add(1))
		n := e.OpenPR("dave", w, forge.PullRequest{Head: branch, Files: plugintest.Files(a)}).GetNumber()
		e.Comment("bob", w, n, "/approve")
		wantApproved(t, e, w, n, true)
		e.Push("dave", w, branch, n, map[string]string{"a/z.go": "package a\n"})
		wantApproved(t, e, w, n, true)
	})
	t.Run("a label added by hand is respected", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, a)
		if err := e.Forge.As("alice").Label(e.Ctx, w, n, "approved"); err != nil {
			t.Fatal(err)
		}
		e.Wait(w, "labeled", plugintest.PRLabeled(n, "labeled", "approved"))
		wantApproved(t, e, w, n, true, "added by hand")
	})
	t.Run("the bot's own commands do nothing", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, a)
		if _, err := e.Forge.As(plugintest.BotLogin).Comment(e.Ctx, w, n, "/approve"); err != nil {
			t.Fatal(err)
		}
		e.Comment("nina", w, n, "/approve cancel")
		wantApproved(t, e, w, n, false)
		if msg := notification(t, e, w, n); strings.Contains(msg, plugintest.BotLogin) {
			t.Errorf("the bot counts as an approver:\n%s", msg)
		}
	})

	const strict = "acme/strict"
	t.Run("require_self_approval, issue_required, ignore_review_state", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "bob", strict, a)
		wantApproved(t, e, strict, n, false, "*No associated issue*")
		e.Review("alice", strict, n, "APPROVE", "")
		wantApproved(t, e, strict, n, false)
		e.Comment("bob", strict, n, "/approve")
		wantApproved(t, e, strict, n, false, `title="Approved">bob</a>`, "~~[a/OWNERS]", "*No associated issue*")
		e.Comment("bob", strict, n, "/approve no-issue")
		wantApproved(t, e, strict, n, true, "No associated issue needed, said:")
		e.Comment("bob", strict, n, "/approve")
		wantApproved(t, e, strict, n, true)
	})
	t.Run("issue_required met by the description", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", strict, a, func(pr *forge.PullRequest) { pr.Body = "This fixes #42." })
		e.Comment("bob", strict, n, "/approve")
		wantApproved(t, e, strict, n, true, "Associated issue: *#42*")
	})

	const lgtm = "acme/lgtm"
	t.Run("lgtm_acts_as_approve", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", lgtm, a)
		e.Comment("bob", lgtm, n, "/lgtm")
		wantApproved(t, e, lgtm, n, true, `title="LGTM">bob</a>`)
		e.Comment("bob", lgtm, n, "/lgtm cancel")
		wantApproved(t, e, lgtm, n, false)
	})
	t.Run("/lgtm does not approve elsewhere", func(t *testing.T) {
		t.Parallel()
		n := open(t, e, "dave", w, a)
		e.Comment("bob", w, n, "/lgtm")
		e.Comment("nina", w, n, "/approve")
		wantApproved(t, e, w, n, false)
	})
}

// TestOneNotification checks that stale notifications are cleaned up: one
// comment is edited, duplicates (from a race or an older bowline) deleted.
func TestOneNotification(t *testing.T) {
	e := start(t, nil)
	n := open(t, e, "dave", "acme/widgets", map[string]string{"a/x": "x\n"})
	for range 2 {
		if _, err := e.Forge.As(plugintest.BotLogin).Comment(e.Ctx, "acme/widgets", n, "[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\nstale"); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.BotComments("acme/widgets", n)); got != 3 {
		t.Fatalf("%d bot comments before, want 3", got)
	}
	e.Comment("bob", "acme/widgets", n, "/approve")
	wantApproved(t, e, "acme/widgets", n, true)
	if got := e.BotComments("acme/widgets", n); len(got) != 1 {
		t.Fatalf("%d bot comments after, want 1", len(got))
	}
}

// TestTransientFailure injects GitHub errors into labelling: the event is
// retried and the label lands.
func TestTransientFailure(t *testing.T) {
	var failures atomic.Int64
	failures.Store(2)
	e := start(t, func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/labels") && failures.Add(-1) >= 0 {
				return &http.Response{StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway", Header: http.Header{},
					Body: http.NoBody, Request: r}, nil
			}
			return rt.RoundTrip(r)
		})
	})
	n := open(t, e, "dave", "acme/widgets", map[string]string{"a/x": "x\n"})
	e.Comment("bob", "acme/widgets", n, "/approve")
	wantApproved(t, e, "acme/widgets", n, true)
	if failures.Load() >= 0 {
		t.Error("no failure was injected")
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

var _ = github.Ptr[int]
