// Package pluginbase is what bowline's GitHub plugins (the review plugins
// approve, lgtm, blunderbuss, verify-owners and owners-label, and the
// everyday ones: hold, label, assign, lifecycle, size …) have in common:
// the applied configuration, the GitHub client of the event's org,
// bowline's own identity, Prow's trust rules, Prow's shape of a reply to a
// command, and label and comment operations that behave well when an event
// is handled twice.
//
// A plugin embeds Base and asks it for an Env at each event:
//
//	env, err := p.Env(ctx, log, ev)
//	if env == nil || err != nil { return err }
//	env.AddLabel(ctx, number, "do-not-merge/hold")
package pluginbase

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/trust"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

// GitHubFor returns the GitHub client for an org: an installation's client
// when bowline runs as a GitHub App, the bot's client otherwise.
type GitHubFor func(ctx context.Context, org string) (*github.Client, error)

// ConfigSource gives the applied configuration revision, or nil when none
// is applied yet. It is asked once per event, so a newly applied revision
// takes effect at the next event.
type ConfigSource interface {
	Current() *configset.Set
}

// SnapshotSource gives the applied config revision; a *snapshot.Store is
// one.
type SnapshotSource interface {
	Current() *snapshot.Snapshot
}

// FromSnapshot reads the configuration from the applied revision.
func FromSnapshot(src SnapshotSource) ConfigSource { return snapshotConfig{src} }

type snapshotConfig struct{ src SnapshotSource }

func (s snapshotConfig) Current() *configset.Set {
	if s.src == nil {
		return nil
	}
	snap := s.src.Current()
	if snap == nil {
		return nil
	}
	return snap.Config
}

// Static is a fixed configuration, for tests and tools.
type Static struct{ Set *configset.Set }

// Current implements ConfigSource.
func (s Static) Current() *configset.Set { return s.Set }

// Base is embedded by plugins: it turns an event into an Env.
type Base struct {
	config ConfigSource
	github GitHubFor
	bot    *plugin.Bot
	trust  *trust.Cache
}

// Deps are what a Base is built from. Plugins built on one Base share
// them.
type Deps struct {
	// Config gives the applied configuration.
	Config ConfigSource
	// GitHub gives the client of an org.
	GitHub GitHubFor
	// Bot is bowline's own identity; nil stands for one whose login is
	// asked from GitHub (GET /user) the first time it is needed.
	Bot *plugin.Bot
	// Trust remembers GitHub's answers to who is a member or a
	// collaborator; share the trigger plugin's (trigger.Plugin.Trust),
	// which organization and member webhooks clear. Nil stands for a cache
	// of the Base's own.
	Trust *trust.Cache
}

// NewBase returns a Base.
func NewBase(d Deps) Base {
	if d.Bot == nil {
		d.Bot = plugin.NewBot("")
	}
	if d.Trust == nil {
		d.Trust = trust.New()
	}
	return Base{config: d.Config, github: d.GitHub, bot: d.Bot, trust: d.Trust}
}

// Env is what a plugin works with while it handles one event.
type Env struct {
	// GitHub is the client of the event's org.
	GitHub *github.Client
	// Plugins is plugins.yaml of the applied revision (never nil).
	Plugins *plugins.Config
	// Jobs are the jobs of the applied revision (never nil).
	Jobs *jobs.Config
	// Set is the whole applied revision.
	Set *configset.Set
	// Org and Repo are the repository the event is about.
	Org, Repo string
	// Log is the handler's logger.
	Log logr.Logger

	bot   *plugin.Bot
	trust *trust.Cache

	mu sync.Mutex
	// rechecked, after Recheck, holds the users whose answers were asked
	// again.
	rechecked map[string]bool
}

// Env returns the environment for an event. It returns nil, without an
// error, when no configuration revision is applied yet or the event is not
// about a repository: the plugin then has nothing to do.
func (b Base) Env(ctx context.Context, log logr.Logger, ev *plugin.Event) (*Env, error) {
	if ev.Org == "" || ev.Repo == "" {
		return nil, nil
	}
	set := b.config.Current()
	if set == nil {
		return nil, nil
	}
	gh, err := b.github(ctx, ev.Org)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", ev.Org, err)
	}
	env := &Env{GitHub: gh, Plugins: set.Plugins, Jobs: set.Jobs, Set: set, Org: ev.Org, Repo: ev.Repo, Log: log, bot: b.bot, trust: b.trust}
	if env.Plugins == nil {
		env.Plugins = &plugins.Config{}
	}
	if env.Jobs == nil {
		env.Jobs = &jobs.Config{}
	}
	return env, nil
}

// PullRequestEnv is Env for plugins that act on some actions of
// pull_request events: it returns the event's payload and its Env when ev
// is a pull_request event whose action is one of actions, and nils when
// it is not or when Env has nothing to do.
func (b Base) PullRequestEnv(ctx context.Context, log logr.Logger, ev *plugin.Event, actions ...string) (*github.PullRequestEvent, *Env, error) {
	pe, ok := ev.Payload.(*github.PullRequestEvent)
	if !ok || !slices.Contains(actions, pe.GetAction()) {
		return nil, nil, nil
	}
	env, err := b.Env(ctx, log, ev)
	if env == nil || err != nil {
		return nil, nil, err
	}
	return pe, env, nil
}

// IsBot returns a function that tells whether a login is bowline's own
// (as a GitHub App, "name" and "name[bot]" alike).
func (e *Env) IsBot(ctx context.Context) (func(login string) bool, error) {
	return e.bot.Checker(ctx, e.GitHub.Users)
}

// FullName is "org/repo".
func (e *Env) FullName() string { return e.Org + "/" + e.Repo }

// Config is the applied configuration revision, or nil; plugins read it
// outside events, to describe their settings.
func (b Base) Config() *configset.Set {
	if b.config == nil {
		return nil
	}
	return b.config.Current()
}
