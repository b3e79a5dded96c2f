// Package plugintest runs plugins the way bowline does, for their tests: a
// sandbox forge whose orgs deliver webhooks to the real webhook server,
// which runs the plugins under test with a configuration loaded from YAML,
// and helpers to act on the forge as users and wait until the plugins have
// handled what that caused.
package plugintest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/repoowners"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	ghclient "github.com/bowline-ci/bowline/scm/github"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// The bot the plugins act as; Start adds it to the seed as an admin of
// every org.
const (
	BotLogin = "bowline-bot"
	BotToken = "bowline-bot-token"
	secret   = "plugintest-secret"
)

// Deps are what Options.Plugins constructs the plugins from.
type Deps struct {
	// Config is the configuration loaded from Options.Config.
	Config *snapshot.Store
	// GitHub is the bot's client, through bowline's GitHub client (ETag
	// cache and all) and Options.Transport.
	GitHub func(ctx context.Context, org string) (*github.Client, error)
	Bot    *plugin.Bot
	Owners *repoowners.Client
	// Base is the base of plugins built on pluginbase, from the above.
	Base pluginbase.Base
}

// Options describe an environment.
type Options struct {
	// Seed is the forge's seed YAML.
	Seed string
	// Config maps file names (config.yaml, plugins.yaml) to their content.
	Config map[string]string
	// Plugins constructs the plugins under test.
	Plugins func(Deps) []plugin.Plugin
	// Transport, when set, wraps the bot's HTTP transport: tests inject
	// faults with it.
	Transport func(http.RoundTripper) http.RoundTripper
	// Quiet drops the webhook server's logs (benchmarks).
	Quiet bool
	// NoHooks leaves the forge's orgs without the webhook: the test
	// delivers events itself, with Deliver.
	NoHooks bool
	// Forge are the forge's options (its rate limit, for benchmarks).
	Forge forge.Options
}

// Env is a running environment.
type Env struct {
	T     testing.TB
	Ctx   context.Context
	Forge *forgetest.Env
	Store *snapshot.Store
	// GitHub is a plain client acting as the bot, for checks.
	GitHub *github.Client
	// HookURL is the webhook server's endpoint.
	HookURL string

	plugins []plugin.Plugin
	set     *plugin.Set

	mu      sync.Mutex
	cond    *sync.Cond
	reports []*report
}

// report is one event a plugin finished handling.
type report struct {
	plugin  string
	ev      *plugin.Event
	err     error
	claimed bool
}

// recorder reports every event its plugin handles.
type recorder struct {
	plugin.Plugin
	env *Env
}

func (r recorder) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	err := r.Plugin.Handle(ctx, log, ev)
	r.env.mu.Lock()
	r.env.reports = append(r.env.reports, &report{plugin: r.Name(), ev: ev, err: err})
	r.env.cond.Broadcast()
	r.env.mu.Unlock()
	return err
}

// Start runs the environment until the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	e := &Env{T: t, Ctx: t.Context(), Store: &snapshot.Store{}}
	e.cond = sync.NewCond(&e.mu)
	e.SetConfig(o.Config)

	seed, err := forge.ParseSeed([]byte(o.Seed))
	if err != nil {
		t.Fatal(err)
	}
	seed.Users = append(seed.Users, forge.SeedUser{Login: BotLogin, Name: "bowline", Token: BotToken, Bot: true})

	log := logr.Discard()
	if tt, ok := t.(*testing.T); ok && !o.Quiet {
		log = testr.New(tt)
	}
	var bot *ghclient.Client
	var botMu sync.Mutex
	deps := Deps{
		Config: e.Store,
		GitHub: func(_ context.Context, org string) (*github.Client, error) {
			botMu.Lock()
			defer botMu.Unlock()
			return bot.ForOrg(org)
		},
		Bot:    plugin.NewBot(BotLogin),
		Owners: repoowners.NewClient(),
	}
	deps.Base = pluginbase.NewBase(pluginbase.Deps{Config: pluginbase.FromSnapshot(deps.Config), GitHub: deps.GitHub, Bot: deps.Bot})
	e.plugins = o.Plugins(deps)
	wrapped := make([]plugin.Plugin, len(e.plugins))
	for i, p := range e.plugins {
		wrapped[i] = recorder{Plugin: p, env: e}
	}
	if e.set, err = plugin.NewSet(e.plugins...); err != nil {
		t.Fatal(err)
	}
	opts := automation.DefaultOptions()
	opts.RetryBackoff, opts.MaxRetryBackoff = 10*time.Millisecond, 50*time.Millisecond
	srv, err := automation.NewServer(opts, automation.Deps{
		Plugins:    wrapped,
		Enablement: automation.PluginsFromSnapshot(e.Store),
		Secrets:    automation.Secrets{"*": {[]byte(secret)}},
		Log:        log,
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
	e.HookURL = hs.URL + automation.HookPath
	for i := range seed.Orgs {
		seed.Orgs[i].Admins = append(seed.Orgs[i].Admins, BotLogin)
		if !o.NoHooks {
			seed.Orgs[i].Hooks = append(seed.Orgs[i].Hooks, forge.SeedHook{URL: e.HookURL, Secret: secret})
		}
	}
	e.Forge = forgetest.StartSeed(t, seed, o.Forge)
	gopts := ghclient.Options{BaseURL: e.Forge.URL + "/", Token: BotToken}
	if o.Transport != nil {
		base := http.DefaultTransport.(*http.Transport).Clone()
		// As bowline's own client does: no new connection per request.
		base.MaxIdleConnsPerHost = 100
		gopts.Transport = o.Transport(base)
	}
	c, err := ghclient.New(gopts)
	if err != nil {
		t.Fatal(err)
	}
	botMu.Lock()
	bot = c
	botMu.Unlock()
	e.GitHub = e.Forge.Client(t, BotToken)
	return e
}

// Deliver posts a webhook to the server as GitHub would, signed; it
// returns once the server accepted it (202).
func (e *Env) Deliver(client *http.Client, event, delivery string, payload []byte) error {
	req, err := http.NewRequest(http.MethodPost, e.HookURL, bytes.NewReader(payload))
	if err != nil {
		return err
	}
	req.Header.Set(webhook.HeaderEvent, event)
	req.Header.Set(webhook.HeaderDelivery, delivery)
	req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(secret), payload))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("delivery %s answered %s", delivery, resp.Status)
	}
	return nil
}

// SetConfig loads files (config.yaml, plugins.yaml) as the applied
// configuration.
func (e *Env) SetConfig(files map[string]string) {
	e.T.Helper()
	fsys := fstest.MapFS{}
	opts := configset.Options{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
		switch name {
		case "config.yaml":
			opts.ConfigPath = name
		case "plugins.yaml":
			opts.PluginConfigPath = name
		default:
			e.T.Fatalf("unknown config file %s", name)
		}
	}
	set, err := configset.Load(e.Ctx, fsys, opts)
	if err != nil {
		e.T.Fatalf("load config: %v", err)
	}
	e.Store.Set(&snapshot.Snapshot{Revision: fmt.Sprintf("test@%d", time.Now().UnixNano()), Config: set, LoadedAt: time.Now()})
}

// Wait returns once every plugin enabled for org/repo that handles
// eventType has handled an event of that type matching match (and not
// claimed by an earlier Wait). Attempts that failed in a way the server
// retries do not count. It fails the test when a plugin failed for good,
// or after 30 seconds.
func (e *Env) Wait(org, repo, eventType, what string, match func(*plugin.Event) bool) {
	e.T.Helper()
	var want []string
	for _, p := range e.set.For(automation.PluginsFromSnapshot(e.Store).Enablement(), org, repo, eventType) {
		want = append(want, p.Name())
	}
	if len(want) == 0 {
		e.T.Fatalf("%s: no plugin handles %s events in %s/%s", what, eventType, org, repo)
	}
	deadline := time.Now().Add(30 * time.Second)
	timer := time.AfterFunc(30*time.Second, func() {
		e.mu.Lock()
		e.cond.Broadcast()
		e.mu.Unlock()
	})
	defer timer.Stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		var done []string
		var claim []*report
		for _, r := range e.reports {
			if r.claimed || r.ev.Type != eventType || r.ev.Org != org || r.ev.Repo != repo ||
				!slices.Contains(want, r.plugin) || slices.Contains(done, r.plugin) || !match(r.ev) {
				continue
			}
			if r.err != nil && plugin.Retryable(r.err) {
				// The server retries it; wait for the outcome.
				r.claimed = true
				continue
			}
			if r.err != nil {
				e.T.Fatalf("%s: %s failed: %v", what, r.plugin, r.err)
			}
			done = append(done, r.plugin)
			claim = append(claim, r)
		}
		if len(done) == len(want) {
			for _, r := range claim {
				r.claimed = true
			}
			return
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("%s: within 30s only %q of %q handled it", what, done, want)
		}
		e.cond.Wait()
	}
}

// Count counts the events of eventType matching match that plugins have
// handled so far, and those that failed (each attempt that failed counts).
func (e *Env) Count(eventType string, match func(*plugin.Event) bool) (ok, failed int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.count(eventType, match)
}

// CountLocked is Count for use inside Await's condition, which runs with
// the lock held.
func (e *Env) CountLocked(eventType string, match func(*plugin.Event) bool) (ok, failed int) {
	return e.count(eventType, match)
}

// Await waits until done (called under the environment's lock, after each
// event a plugin handled) holds, or timeout passes; it reports whether done
// held.
func (e *Env) Await(timeout time.Duration, done func() bool) bool {
	timer := time.AfterFunc(timeout, func() {
		e.mu.Lock()
		e.cond.Broadcast()
		e.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	e.mu.Lock()
	defer e.mu.Unlock()
	for !done() {
		if time.Now().After(deadline) {
			return false
		}
		e.cond.Wait()
	}
	return true
}

// count is Count with the lock held.
func (e *Env) count(eventType string, match func(*plugin.Event) bool) (ok, failed int) {
	for _, r := range e.reports {
		if r.ev.Type != eventType || !match(r.ev) {
			continue
		}
		if r.err != nil {
			failed++
		} else {
			ok++
		}
	}
	return ok, failed
}

// Failures lists the errors plugins returned so far.
func (e *Env) Failures() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []error
	for _, r := range e.reports {
		if r.err != nil {
			out = append(out, fmt.Errorf("%s on %s: %w", r.plugin, r.ev.Type, r.err))
		}
	}
	return out
}

// split cuts "org/repo".
func split(repo string) (string, string) {
	org, name, _ := strings.Cut(repo, "/")
	return org, name
}

// OpenPR opens a pull request in repo from a new branch with files, as
// author, and waits until the plugins handled its opening.
func (e *Env) OpenPR(author, repo, branch string, files map[string]string, mods ...func(*forge.PullRequest)) int {
	e.T.Helper()
	pr := forge.PullRequest{Title: "Change " + branch, Head: branch, Files: bytesOf(files)}
	for _, m := range mods {
		m(&pr)
	}
	got, err := e.Forge.As(author).OpenPR(e.Ctx, repo, pr)
	if err != nil {
		e.T.Fatalf("open a pull request: %v", err)
	}
	n := got.GetNumber()
	org, name := split(repo)
	e.Wait(org, name, "pull_request", "opening #"+fmt.Sprint(n), PRAction(n, "opened"))
	return n
}

func bytesOf(files map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range files {
		out[k] = []byte(v)
	}
	return out
}

// Comment comments as author and waits until the plugins handled it.
func (e *Env) Comment(author, repo string, n int, body string) {
	e.T.Helper()
	if _, err := e.Forge.As(author).Comment(e.Ctx, repo, n, body); err != nil {
		e.T.Fatalf("comment: %v", err)
	}
	org, name := split(repo)
	e.Wait(org, name, plugin.GenericComment, "comment "+body, CommentBody(n, author, body))
}

// Review submits a review (APPROVE, REQUEST_CHANGES or COMMENT) as author
// and waits until the plugins handled the review event.
func (e *Env) Review(author, repo string, n int, event, body string) {
	e.T.Helper()
	if _, err := e.Forge.As(author).Review(e.Ctx, repo, n, event, body); err != nil {
		e.T.Fatalf("review: %v", err)
	}
	org, name := split(repo)
	e.Wait(org, name, "pull_request_review", "review by "+author, func(ev *plugin.Event) bool {
		re, ok := ev.Payload.(*github.PullRequestReviewEvent)
		return ok && re.GetReview().GetUser().GetLogin() == author && re.GetPullRequest().GetNumber() == n
	})
}

// Push pushes files to branch as author and, when the branch is a pull
// request's (n > 0), waits until the plugins handled the synchronize.
func (e *Env) Push(author, repo, branch string, n int, files map[string]string) string {
	e.T.Helper()
	sha, err := e.Forge.As(author).Push(e.Ctx, repo, branch, bytesOf(files), "Update "+branch)
	if err != nil {
		e.T.Fatalf("push: %v", err)
	}
	if n > 0 {
		org, name := split(repo)
		e.Wait(org, name, "pull_request", "push to #"+fmt.Sprint(n), PRAction(n, "synchronize"))
	}
	return sha
}

// PRAction matches a pull_request event.
func PRAction(n int, action string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PullRequestEvent)
		return ok && pe.GetNumber() == n && pe.GetAction() == action
	}
}

// PRLabeled matches the labeling of a pull request with label.
func PRLabeled(n int, label string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PullRequestEvent)
		return ok && pe.GetNumber() == n && pe.GetAction() == "labeled" && pe.GetLabel().GetName() == label
	}
}

// CommentBody matches a generic comment on issue or pull request n.
func CommentBody(n int, author, body string) func(*plugin.Event) bool {
	return func(ev *plugin.Event) bool {
		return ev.Comment != nil && ev.Comment.Number == n && ev.Comment.Author == author && ev.Comment.Body == body
	}
}

// Labels returns the labels of an issue or pull request, sorted.
func (e *Env) Labels(repo string, n int) []string {
	e.T.Helper()
	org, name := split(repo)
	ls, _, err := e.GitHub.Issues.ListLabelsByIssue(e.Ctx, org, name, n, &github.ListOptions{PerPage: 100})
	if err != nil {
		e.T.Fatal(err)
	}
	var out []string
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	sort.Strings(out)
	return out
}

// BotComments returns the bodies of the bot's comments, oldest first.
func (e *Env) BotComments(repo string, n int) []string {
	e.T.Helper()
	org, name := split(repo)
	cs, _, err := e.GitHub.Issues.ListComments(e.Ctx, org, name, n, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		e.T.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		if c.GetUser().GetLogin() == BotLogin {
			out = append(out, c.GetBody())
		}
	}
	return out
}
