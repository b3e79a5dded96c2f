package requirematchinglabel_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/plugins/plugintest"
	rml "github.com/bowline-ci/bowline/automation/plugins/requirematchinglabel"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/plugins"
)

const seed = `
users: [{login: bob}]
orgs: [{login: acme}]
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
  labels: [{name: kind/bug}, {name: needs-kind}, {name: lgtm}, {name: cherry-pick-approved}, {name: do-not-merge/cherry-pick-not-approved}]
`

const kindComment = "Please add a kind label with `/kind <kind>`."

func config() *plugins.Config {
	return &plugins.Config{RequireMatchingLabel: []plugins.RequireMatchingLabel{
		{Org: "acme", Repo: "widgets", Issues: true, PRs: true, Regexp: "^kind/", MissingLabel: "needs-kind",
			MissingComment: kindComment, GracePeriod: "1s"},
		{Org: "acme", PRs: true, Branch: "release", Regexp: "^cherry-pick-approved$",
			MissingLabel: "do-not-merge/cherry-pick-not-approved", GracePeriod: "3s"},
		{Org: "other", Issues: true, PRs: true, Regexp: ".*", MissingLabel: "never"},
	}}
}

// waits records the grace periods waited and runs during(), if set, while
// waiting: what other automation would do in the meantime.
type waits struct {
	mu     sync.Mutex
	asked  []time.Duration
	during func()
}

func (w *waits) wait(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	w.asked = append(w.asked, d)
	during := w.during
	w.mu.Unlock()
	if during != nil {
		during()
	}
	return nil
}

func start(t *testing.T) (*plugintest.Env, *waits) {
	w := &waits{}
	h := plugintest.StartPlugin(t, seed, plugintest.Config(config(), nil), func(b pluginbase.Base) *rml.Plugin {
		return rml.New(b, w.wait)
	})
	return h, w
}

func want(t *testing.T, h *plugintest.Env, n int, labels []string, comments int) {
	t.Helper()
	if got := h.Labels(h.Repo, n); !slices.Equal(got, labels) {
		t.Errorf("labels = %q, want %q", got, labels)
	}
	got := h.BotComments(h.Repo, n)
	if len(got) != comments {
		t.Errorf("comments = %q, want %d", got, comments)
	}
	for _, c := range got {
		if !strings.Contains(c, kindComment) {
			t.Errorf("comment %q is not the missing_comment", c)
		}
	}
}

func TestIssue(t *testing.T) {
	h, w := start(t)
	n := h.OpenIssue("bob", h.Repo, "broken", "")
	want(t, h, n, []string{"needs-kind"}, 1)
	if !slices.Equal(w.asked, []time.Duration{time.Second}) {
		t.Errorf("grace periods = %v, want [1s]", w.asked)
	}
	bot := h.Forge.As(plugintest.BotLogin)

	// A label that does not match changes nothing.
	if err := bot.Label(h.Ctx, h.Repo, n, "lgtm"); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "lgtm", plugintest.IssueLabeled(n, "labeled", "lgtm"))
	want(t, h, n, []string{"lgtm", "needs-kind"}, 1)

	if err := bot.Label(h.Ctx, h.Repo, n, "kind/bug"); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "kind/bug", plugintest.IssueLabeled(n, "labeled", "kind/bug"))
	want(t, h, n, []string{"kind/bug", "lgtm"}, 0)

	if err := bot.Unlabel(h.Ctx, h.Repo, n, "kind/bug"); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "kind/bug removed", plugintest.IssueLabeled(n, "unlabeled", "kind/bug"))
	want(t, h, n, []string{"lgtm", "needs-kind"}, 1)

	// Someone removes needs-kind by hand; the command puts it back.
	if err := bot.Unlabel(h.Ctx, h.Repo, n, "needs-kind"); err != nil {
		t.Fatal(err)
	}
	h.Comment("bob", h.Repo, n, "/check-required-labels")
	want(t, h, n, []string{"lgtm", "needs-kind"}, 2)
}

func TestPullRequests(t *testing.T) {
	h, w := start(t)
	if _, err := h.Forge.As(plugintest.BotLogin).Push(h.Ctx, h.Repo, "release", map[string][]byte{"VERSION": []byte("1\n")}, "release branch"); err != nil {
		t.Fatal(err)
	}
	main := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: "to main", Head: "a", Files: map[string][]byte{"a": []byte("a")}})
	want(t, h, main.GetNumber(), []string{"needs-kind"}, 1)

	release := h.OpenPR("bob", h.Repo, forge.PullRequest{Title: "to release", Head: "b", Base: "release", Files: map[string][]byte{"b": []byte("b")}})
	want(t, h, release.GetNumber(), []string{"do-not-merge/cherry-pick-not-approved", "needs-kind"}, 1)
	if got := w.asked[len(w.asked)-1]; got != 3*time.Second {
		t.Errorf("grace period = %v, want the longest of the entries, 3s", got)
	}
	if err := h.Forge.As(plugintest.BotLogin).Label(h.Ctx, h.Repo, release.GetNumber(), "cherry-pick-approved"); err != nil {
		t.Fatal(err)
	}
	h.Wait(h.Repo, "approved", plugintest.PRLabeled(release.GetNumber(), "labeled", "cherry-pick-approved"))
	want(t, h, release.GetNumber(), []string{"cherry-pick-approved", "needs-kind"}, 1)
}

func TestGracePeriodLetsOthersLabelFirst(t *testing.T) {
	h, w := start(t)
	w.during = func() {
		// Issue #1 is the one being opened.
		if err := h.Forge.As(plugintest.BotLogin).Label(h.Ctx, h.Repo, 1, "kind/bug"); err != nil {
			t.Error(err)
		}
	}
	n := h.OpenIssue("bob", h.Repo, "broken", "")
	h.Wait(h.Repo, "kind/bug", plugintest.IssueLabeled(n, "labeled", "kind/bug"))
	want(t, h, n, []string{"kind/bug"}, 0)
}
