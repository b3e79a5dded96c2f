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
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/repoowners"
)

// Name is the plugin's name in plugins.yaml.
const Name = "owners-label"

// Plugin is the owners-label plugin.
type Plugin struct {
	pluginbase.Base
	owners *repoowners.Client
}

// New returns the owners-label plugin; owners may be shared with other
// plugins.
func New(b pluginbase.Base, owners *repoowners.Client) *Plugin {
	return &Plugin{Base: b, owners: owners}
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
	pe, env, err := p.PullRequestEnv(ctx, log, ev, "opened", "reopened", "synchronize")
	if env == nil || err != nil {
		return err
	}
	n := pe.GetNumber()
	settings := repoowners.SettingsFor(env.Set, env.Org, env.Repo)
	owners, err := p.owners.Load(ctx, repoowners.FromClient(env.GitHub), ev.Org, ev.Repo, pe.GetPullRequest().GetBase().GetRef(), settings)
	if err != nil {
		return fmt.Errorf("load OWNERS: %w", err)
	}
	files, err := env.PullFiles(ctx, n)
	if err != nil {
		return err
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
	existing, err := env.RepoLabels(ctx)
	if err != nil {
		return err
	}
	// The payload's labels are those when the event was sent; adding one
	// that is there already is harmless.
	var add, missing []string
	for _, l := range needed {
		switch {
		case slices.ContainsFunc(pe.GetPullRequest().Labels, func(x *github.Label) bool { return x.GetName() == l }):
		case slices.Contains(existing, l):
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
	if _, _, err := env.GitHub.Issues.AddLabelsToIssue(ctx, ev.Org, ev.Repo, n, add); err != nil {
		return fmt.Errorf("add labels %v: %w", add, err)
	}
	return nil
}
