// Package ownerslabel is the owners-label plugin (reference: Prow's
// owners-label): it labels pull requests with the labels of the OWNERS
// files that cover the files they change (the labels: lists of the
// closest OWNERS and every OWNERS above it, up to one with
// no_parent_owners), when they are opened, reopened or pushed to. Labels
// the repository does not have are not created; they are logged and
// skipped. Labels are only added, never removed.
package ownerslabel

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/repoowners"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

// Name is the plugin's name in plugins.yaml.
const Name = "owners-label"

// IssuesAPI is the part of GitHub's issues API the plugin uses; a
// *github.IssuesService satisfies it.
type IssuesAPI interface {
	ListLabels(ctx context.Context, owner, repo string, opts *github.ListOptions) ([]*github.Label, *github.Response, error)
	AddLabelsToIssue(ctx context.Context, owner, repo string, number int, labels []string) ([]*github.Label, *github.Response, error)
}

// PullRequestsAPI is the part of GitHub's pull requests API the plugin
// uses; a *github.PullRequestsService satisfies it.
type PullRequestsAPI interface {
	ListFiles(ctx context.Context, owner, repo string, number int, opts *github.ListOptions) ([]*github.CommitFile, *github.Response, error)
}

// GitHub is the plugin's view of GitHub for one org.
type GitHub struct {
	Issues       IssuesAPI
	PullRequests PullRequestsAPI
	Owners       *repoowners.GitHub
}

// FromClient is the GitHub view of a go-github client.
func FromClient(c *github.Client) *GitHub {
	return &GitHub{Issues: c.Issues, PullRequests: c.PullRequests, Owners: repoowners.FromClient(c)}
}

// GitHubFor returns the GitHub view for an org.
type GitHubFor func(ctx context.Context, org string) (*GitHub, error)

// ConfigSource returns how OWNERS are read for a repository, or nil before
// a revision is applied.
type ConfigSource interface {
	OwnersSettings(org, repo string) *repoowners.Settings
}

// SnapshotSource gives the applied config revision; a *snapshot.Store is
// one.
type SnapshotSource interface {
	Current() *snapshot.Snapshot
}

// FromSnapshot reads the configuration from the applied revision at every
// event.
func FromSnapshot(src SnapshotSource) ConfigSource { return snapshotConfig{src} }

type snapshotConfig struct{ src SnapshotSource }

func (s snapshotConfig) OwnersSettings(org, repo string) *repoowners.Settings {
	if s.src == nil {
		return nil
	}
	snap := s.src.Current()
	if snap == nil || snap.Config == nil {
		return nil
	}
	st := repoowners.SettingsFor(snap.Config, org, repo)
	return &st
}

// Plugin is the owners-label plugin.
type Plugin struct {
	config ConfigSource
	github GitHubFor
	owners *repoowners.Client
}

// New returns the owners-label plugin; owners may be shared with other
// plugins.
func New(cfg ConfigSource, gh GitHubFor, owners *repoowners.Client) *Plugin {
	return &Plugin{config: cfg, github: gh, owners: owners}
}

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"pull_request"} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Labels pull requests with the labels listed in the OWNERS files of the files they change (the closest " +
			"OWNERS and those above it), when they are opened, reopened or pushed to. Labels the repository does not have " +
			"are skipped; labels are never removed.",
		Config: "# In an OWNERS file:\nlabels:\n- sig/testing\n- area/prow\n",
	}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	pe, ok := ev.Payload.(*github.PullRequestEvent)
	if !ok {
		return nil
	}
	switch pe.GetAction() {
	case "opened", "reopened", "synchronize":
	default:
		return nil
	}
	settings := p.config.OwnersSettings(ev.Org, ev.Repo)
	if settings == nil {
		return nil
	}
	gh, err := p.github(ctx, ev.Org)
	if err != nil {
		return fmt.Errorf("GitHub client for %s: %w", ev.Org, err)
	}
	n := pe.GetNumber()
	owners, err := p.owners.Load(ctx, gh.Owners, ev.Org, ev.Repo, pe.GetPullRequest().GetBase().GetRef(), *settings)
	if err != nil {
		return fmt.Errorf("load OWNERS: %w", err)
	}
	files, err := plugin.AllPages(func(o github.ListOptions) ([]*github.CommitFile, *github.Response, error) {
		return gh.PullRequests.ListFiles(ctx, ev.Org, ev.Repo, n, &o)
	})
	if err != nil {
		return fmt.Errorf("list the files of #%d: %w", n, err)
	}
	var needed []string
	for _, f := range files {
		for _, l := range owners.FindLabelsForFile(f.GetFilename()) {
			if !slices.Contains(needed, l) {
				needed = append(needed, l)
			}
		}
	}
	if len(needed) == 0 {
		return nil
	}
	existing, err := plugin.AllPages(func(o github.ListOptions) ([]*github.Label, *github.Response, error) {
		return gh.Issues.ListLabels(ctx, ev.Org, ev.Repo, &o)
	})
	if err != nil {
		return fmt.Errorf("list the labels of %s/%s: %w", ev.Org, ev.Repo, err)
	}
	// The payload's labels are those when the event was sent; adding one
	// that is there already is harmless.
	var add, missing []string
	for _, l := range needed {
		switch {
		case slices.ContainsFunc(pe.GetPullRequest().Labels, func(x *github.Label) bool { return x.GetName() == l }):
		case slices.ContainsFunc(existing, func(x *github.Label) bool { return x.GetName() == l }):
			add = append(add, l)
		default:
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		log.Info("OWNERS name labels the repository does not have", "labels", missing)
	}
	if len(add) == 0 {
		return nil
	}
	slices.Sort(add)
	if _, _, err := gh.Issues.AddLabelsToIssue(ctx, ev.Org, ev.Repo, n, add); err != nil {
		return fmt.Errorf("add labels %v: %w", add, err)
	}
	return nil
}
