// Package plugintest runs GitHub plugins the way bowline runs them, for
// tests: a sandbox forge delivers signed webhooks to bowline's webhook
// server, which runs the plugins; the plugins talk to the forge through
// bowline's own GitHub client. A test acts as users through the forge and
// waits until the plugins have handled what it did, then looks at the
// forge's state.
package plugintest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// Bot is bowline's login on the forge; it is an admin of every org of the
// seed.
const (
	Bot      = "bowline-bot"
	BotToken = "bot-token"
)

const hookSecret = "hook-secret"

// Timeout bounds every wait.
const Timeout = 30 * time.Second

// Handled is one plugin's handling of one event.
type Handled struct {
	Plugin string
	Event  *plugin.Event
	Err    error
	// used is set once a wait has returned on it, so that the next wait
	// for the same kind of event waits for a new one.
	used bool
}

// Harness is a forge, bowline's webhook server and the plugins under test.
type Harness struct {
	T     testing.TB
	Ctx   context.Context
	Forge *forgetest.Env
	// Repo is the repository the helpers act on: the seed's first.
	Repo string
	// GitHub is a plain go-github client authenticated as the bot, for the
	// test's own checks.
	GitHub *github.Client

	config  atomic.Pointer[configset.Set]
	plugins []plugin.Plugin

	mu      sync.Mutex
	handled []Handled
	changed chan struct{}
}

// New starts a harness. seedYAML is the forge's content (see forge.Seed);
// the bot user, its org admin rights and the webhooks are added. newPlugins
// builds the plugins under test from their common base; they are enabled
// for every org of the seed. cfg is the applied configuration; SetConfig
// changes it.
func New(t testing.TB, seedYAML string, cfg *configset.Set, newPlugins func(pluginbase.Base) []plugin.Plugin) *Harness {
	t.Helper()
	h := &Harness{T: t, Ctx: t.Context(), changed: make(chan struct{})}
	h.SetConfig(cfg)

	var (
		ghMu sync.Mutex
		gh   *github.Client
	)
	ghFor := func(context.Context, string) (*github.Client, error) {
		ghMu.Lock()
		defer ghMu.Unlock()
		if gh == nil {
			return nil, fmt.Errorf("forge not started")
		}
		return gh, nil
	}
	h.plugins = newPlugins(pluginbase.NewBase(pluginbase.Deps{Config: h, GitHub: ghFor, Bot: plugin.NewBot(Bot)}))
	wrapped := make([]plugin.Plugin, len(h.plugins))
	for i, p := range h.plugins {
		wrapped[i] = recorder{Plugin: p, h: h}
	}

	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	enabled := enablement{}
	names := make([]string, len(h.plugins))
	for i, p := range h.plugins {
		names[i] = p.Name()
	}
	opts := automation.DefaultOptions()
	opts.RetryBackoff, opts.MaxRetryBackoff = 10*time.Millisecond, 50*time.Millisecond
	srv, err := automation.NewServer(opts, automation.Deps{
		Plugins:    wrapped,
		Enablement: enabled,
		Secrets:    automation.Secrets{"*": {[]byte(hookSecret)}},
		Log:        logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.StartWorkers()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})

	if !slices.ContainsFunc(seed.Users, func(u forge.SeedUser) bool { return u.Login == Bot }) {
		seed.Users = append(seed.Users, forge.SeedUser{Login: Bot, Token: BotToken, Bot: true})
	}
	for i := range seed.Orgs {
		o := &seed.Orgs[i]
		enabled[o.Login] = names
		o.Admins = append(o.Admins, Bot)
		o.Hooks = append(o.Hooks, forge.SeedHook{URL: hs.URL + automation.HookPath, Secret: hookSecret})
	}
	if len(seed.Repos) == 0 {
		t.Fatal("the seed has no repository")
	}
	h.Repo = seed.Repos[0].Name
	if seed.Repos[0].Owner != "" {
		h.Repo = seed.Repos[0].Owner + "/" + h.Repo
	}
	h.Forge = forgetest.StartSeed(t, seed, forge.Options{})
	// The plugins talk to the forge through bowline's own client (ETag
	// cache, retries), as the operator's do.
	bot, err := ghclient.New(ghclient.Options{BaseURL: h.Forge.URL + "/", Token: BotToken})
	if err != nil {
		t.Fatal(err)
	}
	org, _, _ := strings.Cut(h.Repo, "/")
	c, err := bot.ForOrg(org)
	if err != nil {
		t.Fatal(err)
	}
	ghMu.Lock()
	gh = c
	ghMu.Unlock()
	h.GitHub = h.Forge.Client(t, BotToken)
	return h
}

// Config builds a configuration from plugins.yaml's settings and jobs
// (either may be nil).
func Config(p *plugins.Config, j *jobs.Config) *configset.Set {
	if p == nil {
		p = &plugins.Config{}
	}
	if j == nil {
		j = &jobs.Config{}
	}
	return &configset.Set{Plugins: p, Jobs: j}
}

// SetConfig applies a configuration; nil means none is applied.
func (h *Harness) SetConfig(cfg *configset.Set) { h.config.Store(cfg) }

// Current implements pluginbase.ConfigSource.
func (h *Harness) Current() *configset.Set { return h.config.Load() }

type enablement map[string][]string

func (e enablement) EnabledPlugins(org, _ string) []string { return e[org] }
func (e enablement) Enablement() plugin.Enablement         { return e }

// recorder tells the harness what the plugin handled.
type recorder struct {
	plugin.Plugin
	h *Harness
}

func (r recorder) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	err := r.Plugin.Handle(ctx, log, ev)
	r.h.mu.Lock()
	r.h.handled = append(r.h.handled, Handled{Plugin: r.Name(), Event: ev, Err: err})
	close(r.h.changed)
	r.h.changed = make(chan struct{})
	r.h.mu.Unlock()
	return err
}

// Wait returns once every plugin under test that handles the event's type
// has handled an event matching match that no earlier wait returned on,
// failing the test after Timeout or when a plugin failed on it.
func (h *Harness) Wait(what string, match func(*plugin.Event) bool) {
	h.T.Helper()
	deadline := time.After(Timeout)
	for {
		h.mu.Lock()
		done := map[string]int{}
		var typ string
		for i, d := range h.handled {
			if d.used || !match(d.Event) {
				continue
			}
			if d.Err != nil {
				h.mu.Unlock()
				h.T.Fatalf("%s: plugin %s failed: %v", what, d.Plugin, d.Err)
			}
			if _, ok := done[d.Plugin]; !ok {
				done[d.Plugin], typ = i, d.Event.Type
			}
		}
		if typ != "" && len(done) == h.handlers(typ) {
			for _, i := range done {
				h.handled[i].used = true
			}
			h.mu.Unlock()
			return
		}
		ch := h.changed
		h.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			h.T.Fatalf("%s was not handled within %s", what, Timeout)
		}
	}
}

// WaitErr is Wait for an event a plugin is expected to fail on: it returns
// the plugin's error.
func (h *Harness) WaitErr(what string, match func(*plugin.Event) bool) error {
	h.T.Helper()
	deadline := time.After(Timeout)
	for {
		h.mu.Lock()
		for i, d := range h.handled {
			if !d.used && match(d.Event) && d.Err != nil {
				h.handled[i].used = true
				h.mu.Unlock()
				return d.Err
			}
		}
		ch := h.changed
		h.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			h.T.Fatalf("%s: no plugin failed within %s", what, Timeout)
			return nil
		}
	}
}

func (h *Harness) handlers(typ string) int {
	n := 0
	for _, p := range h.plugins {
		if slices.Contains(p.Events(), typ) {
			n++
		}
	}
	return n
}

// PRAction matches a pull_request event of a pull request.
func PRAction(number int, action string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PullRequestEvent)
		return ok && pe.GetAction() == action && pe.GetNumber() == number
	}
}

// PRLabeled matches the labeled (or unlabeled) event of one label.
func PRLabeled(number int, action, label string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PullRequestEvent)
		return ok && pe.GetAction() == action && pe.GetNumber() == number && strings.EqualFold(pe.GetLabel().GetName(), label)
	}
}

// IssueAction matches an issues event of an issue.
func IssueAction(number int, action string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		ie, ok := ev.Payload.(*github.IssuesEvent)
		return ok && ie.GetAction() == action && ie.GetIssue().GetNumber() == number
	}
}

// IssueLabeled matches the labeled (or unlabeled) event of one label on an
// issue.
func IssueLabeled(number int, action, label string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		ie, ok := ev.Payload.(*github.IssuesEvent)
		return ok && ie.GetAction() == action && ie.GetIssue().GetNumber() == number && strings.EqualFold(ie.GetLabel().GetName(), label)
	}
}

// CommentOn matches the generic comment event of a comment.
func CommentOn(number int, body string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		return ev.Type == plugin.GenericComment && ev.Comment.Number == number && ev.Comment.Body == body
	}
}

// OpenPR opens a pull request as author from a new branch with files and
// waits until the plugins have handled it being opened.
func (h *Harness) OpenPR(author string, pr forge.PullRequest) *github.PullRequest {
	h.T.Helper()
	out, err := h.Forge.As(author).OpenPR(h.Ctx, h.Repo, pr)
	if err != nil {
		h.T.Fatalf("open pull request: %v", err)
	}
	if h.handlers("pull_request") > 0 {
		h.Wait("pull request opened", PRAction(out.GetNumber(), "opened"))
	}
	if pr.Body != "" && h.handlers(plugin.GenericComment) > 0 {
		h.Wait("pull request body", CommentOn(out.GetNumber(), pr.Body))
	}
	return out
}

// OpenIssue opens an issue as author and waits until the plugins have
// handled it being opened.
func (h *Harness) OpenIssue(author, title, body string) int {
	h.T.Helper()
	is, err := h.Forge.As(author).CreateIssue(h.Ctx, h.Repo, title, body)
	if err != nil {
		h.T.Fatalf("open issue: %v", err)
	}
	if h.handlers("issues") > 0 {
		h.Wait("issue opened", IssueAction(is.GetNumber(), "opened"))
	}
	if body != "" && h.handlers(plugin.GenericComment) > 0 {
		h.Wait("issue body", CommentOn(is.GetNumber(), body))
	}
	return is.GetNumber()
}

// Comment comments as author and waits until the plugins have handled the
// comment.
func (h *Harness) Comment(author string, number int, body string) {
	h.T.Helper()
	if _, err := h.Forge.As(author).Comment(h.Ctx, h.Repo, number, body); err != nil {
		h.T.Fatalf("comment: %v", err)
	}
	h.Wait("comment "+body, CommentOn(number, body))
}

// Labels lists the labels of an issue or pull request, sorted.
func (h *Harness) Labels(number int) []string {
	h.T.Helper()
	owner, name, _ := strings.Cut(h.Repo, "/")
	ls, _, err := h.GitHub.Issues.ListLabelsByIssue(h.Ctx, owner, name, number, &github.ListOptions{PerPage: 100})
	if err != nil {
		h.T.Fatal(err)
	}
	out := []string{}
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	sort.Strings(out)
	return out
}

// BotComments lists what bowline commented on an issue or pull request,
// oldest first.
func (h *Harness) BotComments(number int) []string {
	h.T.Helper()
	owner, name, _ := strings.Cut(h.Repo, "/")
	cs, _, err := h.GitHub.Issues.ListComments(h.Ctx, owner, name, number, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		h.T.Fatal(err)
	}
	out := []string{}
	for _, c := range cs {
		if c.GetUser().GetLogin() == Bot {
			out = append(out, c.GetBody())
		}
	}
	return out
}

func logger(t testing.TB) logr.Logger {
	if tt, ok := t.(*testing.T); ok {
		return testr.New(tt)
	}
	return logr.Discard()
}
