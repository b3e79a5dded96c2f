// Package plugintest runs plugins the way bowline does, for their tests: a
// sandbox forge whose orgs deliver signed webhooks to bowline's webhook
// server, which runs the plugins under test; the plugins talk to the forge
// through bowline's own GitHub client. A test acts on the forge as users,
// waits until the plugins have handled what that caused, then looks at the
// forge's state.
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
	"sync/atomic"
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
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/snapshot"
	ghclient "github.com/bowline-ci/bowline/scm/github"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// The bot the plugins act as; Start adds it to the seed (unless the seed
// has it) as an admin of every org.
const (
	BotLogin = "bowline-bot"
	BotToken = "bowline-bot-token"
	secret   = "plugintest-secret"
)

// Timeout bounds every wait.
const Timeout = 30 * time.Second

// Deps are what Options.Plugins constructs the plugins from.
type Deps struct {
	// Config is the applied configuration (Options.Config or
	// Options.ConfigSet).
	Config *snapshot.Store
	// GitHub is the bot's client, through bowline's GitHub client (ETag
	// cache and all) and Options.Transport. It serves once Start returns.
	GitHub func(ctx context.Context, org string) (*github.Client, error)
	Bot    *plugin.Bot
	Owners *repoowners.Client
	// Base is the base of plugins built on pluginbase, from the above.
	Base pluginbase.Base
}

// Options describe an environment.
type Options struct {
	// Seed is the forge's seed YAML; it needs a repository.
	Seed string
	// Config maps file names (config.yaml, plugins.yaml) to their content,
	// loaded as bowline loads them.
	Config map[string]string
	// ConfigSet is a configuration built in Go, applied as is; with
	// neither it nor Config, no configuration is applied.
	ConfigSet *configset.Set
	// EnableAll enables the plugins under test in every org of the seed,
	// whatever plugins.yaml says; without it plugins.yaml's plugins section
	// enables them, as in bowline.
	EnableAll bool
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
	// Repo is the seed's first repository, "org/repo".
	Repo string
	// GitHub is a plain client acting as the bot, for checks.
	GitHub *github.Client
	// HookURL is the webhook server's endpoint.
	HookURL string

	set        *plugin.Set
	enablement plugin.EnablementSource
	observe    atomic.Pointer[func(name string, ev *plugin.Event, err error)]
	branches   atomic.Int64

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
	if f := r.env.observe.Load(); f != nil {
		(*f)(r.Name(), ev, err)
		return err
	}
	r.env.mu.Lock()
	r.env.reports = append(r.env.reports, &report{plugin: r.Name(), ev: ev, err: err})
	r.env.cond.Broadcast()
	r.env.mu.Unlock()
	return err
}

// everyOrg enables the same plugins in every org it lists.
type everyOrg map[string][]string

func (e everyOrg) EnabledPlugins(org, _ string) []string { return e[org] }
func (e everyOrg) Enablement() plugin.Enablement         { return e }

// Start runs the environment until the test ends.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	e := &Env{T: t, Ctx: t.Context(), Store: &snapshot.Store{}}
	e.cond = sync.NewCond(&e.mu)
	switch {
	case o.Config != nil && o.ConfigSet != nil:
		t.Fatal("plugintest: both Config and ConfigSet are set")
	case o.Config != nil:
		e.SetConfig(o.Config)
	case o.ConfigSet != nil:
		e.SetConfigSet(o.ConfigSet)
	}

	seed, err := forge.ParseSeed([]byte(o.Seed))
	if err != nil {
		t.Fatal(err)
	}
	if len(seed.Repos) == 0 {
		t.Fatal("plugintest: the seed has no repository")
	}
	e.Repo = seed.Repos[0].Name
	if seed.Repos[0].Owner != "" {
		e.Repo = seed.Repos[0].Owner + "/" + e.Repo
	}
	botToken := BotToken
	if i := slices.IndexFunc(seed.Users, func(u forge.SeedUser) bool { return u.Login == BotLogin }); i < 0 {
		seed.Users = append(seed.Users, forge.SeedUser{Login: BotLogin, Name: "bowline", Token: BotToken, Bot: true})
	} else if seed.Users[i].Token == "" {
		seed.Users[i].Token = BotToken
	} else {
		botToken = seed.Users[i].Token
	}

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
			if bot == nil {
				return nil, fmt.Errorf("the forge is not started yet")
			}
			return bot.ForOrg(org)
		},
		Bot:    plugin.NewBot(BotLogin),
		Owners: repoowners.NewClient(),
	}
	deps.Base = pluginbase.NewBase(pluginbase.Deps{Config: pluginbase.FromSnapshot(deps.Config), GitHub: deps.GitHub, Bot: deps.Bot})
	under := o.Plugins(deps)
	wrapped := make([]plugin.Plugin, len(under))
	names := make([]string, len(under))
	for i, p := range under {
		wrapped[i] = recorder{Plugin: p, env: e}
		names[i] = p.Name()
	}
	if e.set, err = plugin.NewSet(under...); err != nil {
		t.Fatal(err)
	}
	e.enablement = automation.PluginsFromSnapshot(e.Store)
	if o.EnableAll {
		all := everyOrg{}
		for _, org := range seed.Orgs {
			all[org.Login] = names
		}
		e.enablement = all
	}
	opts := automation.DefaultOptions()
	opts.RetryBackoff, opts.MaxRetryBackoff = 10*time.Millisecond, 50*time.Millisecond
	srv, err := automation.NewServer(opts, automation.Deps{
		Plugins:    wrapped,
		Enablement: e.enablement,
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
	gopts := ghclient.Options{BaseURL: e.Forge.URL + "/", Token: ghclient.Secret(botToken)}
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
	e.GitHub = e.Forge.Client(t, botToken)
	return e
}

// StartPlugin is Start for the common case: one plugin built on
// pluginbase, enabled in every org of seed, under cfg (built with Config;
// nil applies no configuration).
func StartPlugin[P plugin.Plugin](t testing.TB, seed string, cfg *configset.Set, newPlugin func(pluginbase.Base) P) *Env {
	t.Helper()
	return Start(t, Options{
		Seed:      seed,
		ConfigSet: cfg,
		EnableAll: true,
		Plugins:   func(d Deps) []plugin.Plugin { return []plugin.Plugin{newPlugin(d.Base)} },
	})
}

// Config builds a configuration from plugins.yaml's settings and jobs
// (either may be nil), for Options.ConfigSet and SetConfigSet.
func Config(p *plugins.Config, j *jobs.Config) *configset.Set {
	if p == nil {
		p = &plugins.Config{}
	}
	if j == nil {
		j = &jobs.Config{}
	}
	return &configset.Set{Plugins: p, Jobs: j}
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
	e.SetConfigSet(set)
}

// SetConfigSet applies a configuration built in Go.
func (e *Env) SetConfigSet(set *configset.Set) {
	e.Store.Set(&snapshot.Snapshot{Revision: fmt.Sprintf("test@%d", time.Now().UnixNano()), Config: set, LoadedAt: time.Now()})
}

// Observe hands every event a plugin handles from now on to f instead of
// keeping it for waits (benchmarks that count on their own).
func (e *Env) Observe(f func(plugin string, ev *plugin.Event, err error)) {
	e.observe.Store(&f)
}

// Deliver posts a webhook to the server as GitHub would, signed; it
// returns once the server accepted it (202).
func (e *Env) Deliver(client *http.Client, event, delivery string, payload []byte) error {
	code, err := e.Post(client, event, delivery, payload)
	if err != nil {
		return err
	}
	if code != http.StatusAccepted {
		return fmt.Errorf("delivery %s answered %d %s", delivery, code, http.StatusText(code))
	}
	return nil
}

// Post posts a webhook to the server as GitHub would, signed, and returns
// the server's status code.
func (e *Env) Post(client *http.Client, event, delivery string, payload []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, e.HookURL, bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set(webhook.HeaderEvent, event)
	req.Header.Set(webhook.HeaderDelivery, delivery)
	req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(secret), payload))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	// Read to the end so that the connection is reused, as from an
	// ingress in front of the webhook server.
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// A Match picks out events: those of Type for which Fn (when set) holds.
type Match struct {
	Type string
	Fn   func(*plugin.Event) bool
}

func (m Match) matches(ev *plugin.Event) bool {
	return ev.Type == m.Type && (m.Fn == nil || m.Fn(ev))
}

// handlers names the plugins enabled for org/repo that handle eventType.
func (e *Env) handlers(org, repo, eventType string) []string {
	var out []string
	for _, p := range e.set.For(e.enablement.Enablement(), org, repo, eventType) {
		out = append(out, p.Name())
	}
	return out
}

// Wait returns once every plugin enabled for repo ("org/repo", or "org"
// for an org's events) that handles m's event type has handled an event of
// repo matching m that no earlier wait returned on. Attempts that failed in
// a way the server retries do not count. It fails the test when a plugin
// failed for good, or after Timeout.
func (e *Env) Wait(repo, what string, m Match) {
	e.T.Helper()
	org, name := split(repo)
	want := e.handlers(org, name, m.Type)
	if len(want) == 0 {
		e.T.Fatalf("%s: no plugin handles %s events in %s", what, m.Type, repo)
	}
	deadline := time.Now().Add(Timeout)
	timer := time.AfterFunc(Timeout, func() {
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
			if r.claimed || r.ev.Org != org || r.ev.Repo != name || !slices.Contains(want, r.plugin) ||
				slices.Contains(done, r.plugin) || !m.matches(r.ev) {
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
			e.T.Fatalf("%s: within %s only %q of %q handled it", what, Timeout, done, want)
		}
		e.cond.Wait()
	}
}

// WaitErr is Wait for an event a plugin is expected to fail on: it returns
// the error of the first attempt of a plugin on an event of repo matching
// m that no earlier wait returned on, failing the test after Timeout.
func (e *Env) WaitErr(repo, what string, m Match) error {
	e.T.Helper()
	org, name := split(repo)
	var err error
	found := e.Await(Timeout, func() bool {
		for _, r := range e.reports {
			if !r.claimed && r.err != nil && r.ev.Org == org && r.ev.Repo == name && m.matches(r.ev) {
				r.claimed, err = true, r.err
				return true
			}
		}
		return false
	})
	if !found {
		e.T.Fatalf("%s: no plugin failed within %s", what, Timeout)
	}
	return err
}

// Count counts the events matching m that plugins have handled so far, and
// those that failed (each attempt that failed counts).
func (e *Env) Count(m Match) (ok, failed int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.count(m)
}

// CountLocked is Count for use inside Await's condition, which runs with
// the lock held.
func (e *Env) CountLocked(m Match) (ok, failed int) {
	return e.count(m)
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
func (e *Env) count(m Match) (ok, failed int) {
	for _, r := range e.reports {
		if !m.matches(r.ev) {
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

// OpenPR opens a pull request in repo as author from a new branch
// (pr.Head, with pr.Files; the title defaults to "Change <head>") and
// waits until the plugins that handle it have handled its opening and its
// body.
func (e *Env) OpenPR(author, repo string, pr forge.PullRequest) *github.PullRequest {
	e.T.Helper()
	if pr.Title == "" {
		pr.Title = "Change " + pr.Head
	}
	got, err := e.Forge.As(author).OpenPR(e.Ctx, repo, pr)
	if err != nil {
		e.T.Fatalf("open a pull request: %v", err)
	}
	n := got.GetNumber()
	e.waitIfHandled(repo, "opening #"+fmt.Sprint(n), PRAction(n, "opened"))
	if pr.Body != "" {
		e.waitIfHandled(repo, "body of #"+fmt.Sprint(n), CommentBody(n, author, pr.Body))
	}
	return got
}

// OpenIssue opens an issue in repo as author and waits until the plugins
// that handle it have handled its opening and its body.
func (e *Env) OpenIssue(author, repo, title, body string) int {
	e.T.Helper()
	is, err := e.Forge.As(author).CreateIssue(e.Ctx, repo, title, body)
	if err != nil {
		e.T.Fatalf("open an issue: %v", err)
	}
	n := is.GetNumber()
	e.waitIfHandled(repo, "opening #"+fmt.Sprint(n), IssueAction(n, "opened"))
	if body != "" {
		e.waitIfHandled(repo, "body of #"+fmt.Sprint(n), CommentBody(n, author, body))
	}
	return n
}

// Open opens, as author, a pull request titled title from a new branch
// with one new file when pr is set, an issue otherwise, waiting as OpenPR
// and OpenIssue do; it returns its number.
func (e *Env) Open(author, repo string, pr bool, title string) int {
	e.T.Helper()
	if !pr {
		return e.OpenIssue(author, repo, title, "")
	}
	branch := fmt.Sprintf("plugintest-%d", e.branches.Add(1))
	return e.OpenPR(author, repo, forge.PullRequest{Title: title, Head: branch, Files: map[string][]byte{branch: []byte("x")}}).GetNumber()
}

// waitIfHandled is Wait when a plugin under test handles m's events in
// repo.
func (e *Env) waitIfHandled(repo, what string, m Match) {
	e.T.Helper()
	if org, name := split(repo); len(e.handlers(org, name, m.Type)) > 0 {
		e.Wait(repo, what, m)
	}
}

// Files turns a map of file contents into what the forge takes.
func Files(files map[string]string) map[string][]byte {
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
	e.Wait(repo, "comment "+body, CommentBody(n, author, body))
}

// Review submits a review (APPROVE, REQUEST_CHANGES or COMMENT) as author
// and waits until the plugins handled the review event.
func (e *Env) Review(author, repo string, n int, event, body string) {
	e.T.Helper()
	if _, err := e.Forge.As(author).Review(e.Ctx, repo, n, event, body); err != nil {
		e.T.Fatalf("review: %v", err)
	}
	e.Wait(repo, "review by "+author, Match{Type: "pull_request_review", Fn: func(ev *plugin.Event) bool {
		re, ok := ev.Payload.(*github.PullRequestReviewEvent)
		return ok && re.GetReview().GetUser().GetLogin() == author && re.GetPullRequest().GetNumber() == n
	}})
}

// Push pushes files to branch as author with message (a default when
// empty) and, when the branch is a pull request's (n > 0), waits until the
// plugins that handle it handled the synchronize.
func (e *Env) Push(author, repo, branch string, n int, files map[string]string, message ...string) string {
	e.T.Helper()
	msg := "Update " + branch
	if len(message) > 0 {
		msg = message[0]
	}
	sha, err := e.Forge.As(author).Push(e.Ctx, repo, branch, Files(files), msg)
	if err != nil {
		e.T.Fatalf("push: %v", err)
	}
	if n > 0 {
		e.waitIfHandled(repo, "push to #"+fmt.Sprint(n), PRAction(n, "synchronize"))
	}
	return sha
}

// PRAction matches a pull_request event of pull request n.
func PRAction(n int, action string) Match {
	return Match{Type: "pull_request", Fn: func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PullRequestEvent)
		return ok && pe.GetNumber() == n && pe.GetAction() == action
	}}
}

// PRLabeled matches the labeled (or unlabeled) event of one label on pull
// request n; the bot's own labels send such events too.
func PRLabeled(n int, action, label string) Match {
	return Match{Type: "pull_request", Fn: func(ev *plugin.Event) bool {
		pe, ok := ev.Payload.(*github.PullRequestEvent)
		return ok && pe.GetNumber() == n && pe.GetAction() == action && strings.EqualFold(pe.GetLabel().GetName(), label)
	}}
}

// IssueAction matches an issues event of issue n.
func IssueAction(n int, action string) Match {
	return Match{Type: "issues", Fn: func(ev *plugin.Event) bool {
		ie, ok := ev.Payload.(*github.IssuesEvent)
		return ok && ie.GetAction() == action && ie.GetIssue().GetNumber() == n
	}}
}

// IssueLabeled matches the labeled (or unlabeled) event of one label on
// issue n.
func IssueLabeled(n int, action, label string) Match {
	return Match{Type: "issues", Fn: func(ev *plugin.Event) bool {
		ie, ok := ev.Payload.(*github.IssuesEvent)
		return ok && ie.GetAction() == action && ie.GetIssue().GetNumber() == n && strings.EqualFold(ie.GetLabel().GetName(), label)
	}}
}

// CommentBody matches the generic comment event of a text author wrote, as
// written, on issue or pull request n.
func CommentBody(n int, author, body string) Match {
	return Match{Type: plugin.GenericComment, Fn: func(ev *plugin.Event) bool {
		return ev.Comment != nil && ev.Comment.Number == n && ev.Comment.Author == author && ev.Comment.RawBody == body
	}}
}

// Delivery matches the event of one delivery.
func Delivery(eventType, id string) Match {
	return Match{Type: eventType, Fn: func(ev *plugin.Event) bool { return ev.DeliveryID == id }}
}

// WantReply checks what the bot commented on issue or pull request n:
// nothing when want has no (non-empty) string, else one comment containing
// each. It reports to t, the test or subtest checking, and returns the
// comments.
func (e *Env) WantReply(t testing.TB, repo string, n int, want ...string) []string {
	t.Helper()
	want = slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "" })
	replies := e.BotComments(repo, n)
	switch {
	case len(want) == 0 && len(replies) > 0:
		t.Errorf("unexpected replies: %q", replies)
	case len(want) > 0 && len(replies) != 1:
		t.Errorf("replies = %q, want one containing %q", replies, want)
	case len(want) > 0:
		for _, w := range want {
			if !strings.Contains(replies[0], w) {
				t.Errorf("reply %q does not contain %q", replies[0], w)
			}
		}
	}
	return replies
}

// Labels returns the labels of an issue or pull request, sorted.
func (e *Env) Labels(repo string, n int) []string {
	e.T.Helper()
	org, name := split(repo)
	ls, _, err := e.GitHub.Issues.ListLabelsByIssue(e.Ctx, org, name, n, &github.ListOptions{PerPage: 100})
	if err != nil {
		e.T.Fatal(err)
	}
	out := []string{}
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
	out := []string{}
	for _, c := range cs {
		if c.GetUser().GetLogin() == BotLogin {
			out = append(out, c.GetBody())
		}
	}
	return out
}
