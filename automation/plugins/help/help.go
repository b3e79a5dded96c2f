// Package help is the help plugin: /help and /good-first-issue mark an
// issue as needing help from a contributor (the "help wanted" label) or as
// suitable for new contributors ("good first issue", which implies "help
// wanted"), with a comment pointing at the guidelines; /remove-help and
// /remove-good-first-issue undo them and remove the comment, as Prow's help
// plugin does.
package help

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-logr/logr"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "help"

// Labels.
const (
	HelpWanted     = "help wanted"
	GoodFirstIssue = "good first issue"
)

// DefaultGuidelinesURL is Prow's default help_guidelines_url.
const DefaultGuidelinesURL = "https://git.k8s.io/community/contributors/guide/help-wanted.md"

// The first sentences of the plugin's comments, by which it finds them to
// remove them.
const (
	helpMarker = "This issue is marked as needing help from a contributor."
	gfiMarker  = "This issue is marked as suitable for new contributors."
)

// Commands, matched at the start of a line, in any case, as Prow does.
var (
	helpRe      = regexp.MustCompile(`(?mi)^/help\s*$`)
	removeHelp  = regexp.MustCompile(`(?mi)^/remove-help\s*$`)
	gfiRe       = regexp.MustCompile(`(?mi)^/good-first-issue\s*$`)
	removeGFIRe = regexp.MustCompile(`(?mi)^/remove-good-first-issue\s*$`)
)

// Plugin is the help plugin.
type Plugin struct{ pluginbase.Base }

// New returns the help plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Marks issues as needing help from a contributor (`" + HelpWanted + "`) or as good first issues (`" +
			GoodFirstIssue + "`, which also adds `" + HelpWanted + "`), with a comment pointing at the guidelines such " +
			"issues should meet, and removes the marks.",
		Config: `help:
  help_guidelines_url: https://example.com/help-wanted.md  # default: Kubernetes' guide
  help_guidelines_summary: |                                # shown in the comment, optional
    - clear task
    - low barrier to entry`,
		Commands: []plugin.Command{{
			Usage:       "/[remove-](help|good-first-issue)",
			Description: "Adds or removes the `" + HelpWanted + "` or the `" + GoodFirstIssue + "` label of an issue.",
			WhoCanUse:   "Anyone, on open issues.",
			Examples:    []string{"/help", "/remove-help", "/good-first-issue", "/remove-good-first-issue"},
		}},
	}
}

func guidelines(cfg plugins.Help) (url, summary string) {
	url = cfg.HelpGuidelinesURL
	if url == "" {
		url = DefaultGuidelinesURL
	}
	return url, strings.TrimSpace(cfg.HelpGuidelinesSummary)
}

func message(marker, anchor, remove string, cfg plugins.Help) string {
	url, summary := guidelines(cfg)
	var b strings.Builder
	b.WriteString(marker + "\n\n")
	if summary != "" {
		fmt.Fprintf(&b, "### Guidelines\n%s\n\nThe [guidelines](%s%s) say more; please make sure the issue meets them.\n\n", summary, url, anchor)
	} else {
		fmt.Fprintf(&b, "Please make sure the issue meets [the guidelines](%s%s).\n\n", url, anchor)
	}
	fmt.Fprintf(&b, "If it no longer does, comment `%s` to remove the label.", remove)
	return b.String()
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	c := ev.Comment
	if c == nil || c.IsPR || c.IssueState != "open" || c.Action != plugin.CommentCreated {
		return nil
	}
	if !helpRe.MatchString(c.Body) && !removeHelp.MatchString(c.Body) && !gfiRe.MatchString(c.Body) && !removeGFIRe.MatchString(c.Body) {
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
	hasHelp, hasGFI := pluginbase.HasLabel(labels, HelpWanted), pluginbase.HasLabel(labels, GoodFirstIssue)
	prune := func(marker string) error {
		return env.PruneComments(ctx, c.Number, func(body string) bool { return strings.Contains(body, marker) })
	}
	cfg := env.Plugins.Help
	switch {
	case hasHelp && removeHelp.MatchString(c.Body):
		if err := env.RemoveLabel(ctx, c.Number, HelpWanted); err != nil {
			return err
		}
		if err := prune(helpMarker); err != nil {
			return err
		}
		// A good first issue needs help by definition.
		if hasGFI {
			if err := env.RemoveLabel(ctx, c.Number, GoodFirstIssue); err != nil {
				return err
			}
			return prune(gfiMarker)
		}
	case !hasGFI && gfiRe.MatchString(c.Body):
		if err := env.Reply(ctx, c, message(gfiMarker, "#good-first-issue", "/remove-good-first-issue", cfg)); err != nil {
			return err
		}
		if err := env.AddLabel(ctx, c.Number, GoodFirstIssue); err != nil {
			return err
		}
		if !hasHelp {
			return env.AddLabel(ctx, c.Number, HelpWanted)
		}
	case !hasHelp && helpRe.MatchString(c.Body):
		if err := env.Reply(ctx, c, message(helpMarker, "", "/remove-help", cfg)); err != nil {
			return err
		}
		return env.AddLabel(ctx, c.Number, HelpWanted)
	case hasGFI && removeGFIRe.MatchString(c.Body):
		if err := env.RemoveLabel(ctx, c.Number, GoodFirstIssue); err != nil {
			return err
		}
		return prune(gfiMarker)
	}
	return nil
}
