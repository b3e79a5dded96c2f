// Package hold is the hold plugin: /hold puts the do-not-merge/hold label
// on a pull request, which keeps the merge pool from merging it without
// taking anyone's approval away; /hold cancel (or /unhold, /remove-hold)
// takes it off again. Anyone may use either, as in Prow.
package hold

import (
	"context"
	"regexp"

	"github.com/go-logr/logr"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
)

// Name is the plugin's name in plugins.yaml.
const Name = "hold"

// Label keeps a pull request from merging.
const Label = "do-not-merge/hold"

// Commands, matched at the start of a line, in any case, as Prow does. A
// cancel wins over a hold in the same comment.
var (
	holdRe   = regexp.MustCompile(`(?mi)^/hold(\s.*)?$`)
	cancelRe = regexp.MustCompile(`(?mi)^/(remove-hold|hold\s+cancel|unhold)\s*$`)
)

// Plugin is the hold plugin.
type Plugin struct{ pluginbase.Base }

// New returns the hold plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Lets anyone put the `" + Label + "` label on a pull request, or take it off, to stop it " +
			"from merging for a while without withdrawing an approval.",
		Commands: []plugin.Command{{
			Usage:       "/[remove-][un]hold [cancel]",
			Description: "`/hold` adds the `" + Label + "` label; `/hold cancel`, `/unhold` and `/remove-hold` remove it.",
			WhoCanUse:   "Anyone, on pull requests.",
			Examples:    []string{"/hold", "/hold cancel", "/unhold", "/remove-hold"},
			Featured:    true,
		}},
	}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	c := ev.Comment
	if c == nil || !c.IsPR || c.Action != plugin.CommentCreated {
		return nil
	}
	var want bool
	switch {
	case cancelRe.MatchString(c.Body):
		want = false
	case holdRe.MatchString(c.Body):
		want = true
	default:
		return nil
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	labels, err := env.IssueLabels(ctx, c.Number)
	if err != nil {
		return err
	}
	switch has := pluginbase.HasLabel(labels, Label); {
	case want && !has:
		return env.AddLabel(ctx, c.Number, Label)
	case !want && has:
		return env.RemoveLabel(ctx, c.Number, Label)
	}
	return nil
}
