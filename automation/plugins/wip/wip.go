// Package wip is the wip plugin: a pull request whose title starts with
// "WIP" (in any case, optionally after one non-word character, as in
// "[WIP]" or "wip:") or that is a draft gets the
// do-not-merge/work-in-progress label, and loses it when neither is true
// any more, as Prow's wip plugin does.
package wip

import (
	"context"
	"regexp"

	"github.com/go-logr/logr"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
)

// Name is the plugin's name in plugins.yaml.
const Name = "wip"

// Label keeps a pull request from merging while it is in progress.
const Label = "do-not-merge/work-in-progress"

// titleRe is Prow's: "WIP" at the start of the title, after at most one
// non-word character, followed by a non-word character.
var titleRe = regexp.MustCompile(`(?i)^\W?WIP\W`)

// Plugin is the wip plugin.
type Plugin struct{ pluginbase.Base }

// New returns the wip plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"pull_request"} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Puts the `" + Label + "` label on pull requests that are drafts or whose title starts with " +
			"`WIP` (also `[WIP]`, `WIP:` and the like, in any case), and takes it off when the pull request is " +
			"marked ready for review and its title no longer starts that way. The label keeps the pull request from merging.",
	}
}

// IsWIP reports whether a pull request is a work in progress: a draft or
// a title that says so.
func IsWIP(title string, draft bool) bool { return draft || titleRe.MatchString(title) }

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	// The only actions after which the title or the draft state may have
	// changed.
	pe, env, err := p.PullRequestEnv(ctx, log, ev, "opened", "reopened", "edited", "ready_for_review", "converted_to_draft")
	if env == nil || err != nil {
		return err
	}
	pr := pe.GetPullRequest()
	n := pr.GetNumber()
	labels, err := env.IssueLabels(ctx, n)
	if err != nil {
		return err
	}
	want, has := IsWIP(pr.GetTitle(), pr.GetDraft()), pluginbase.HasLabel(labels, Label)
	switch {
	case want && !has:
		return env.AddLabel(ctx, n, Label)
	case !want && has:
		return env.RemoveLabel(ctx, n, Label)
	}
	return nil
}
