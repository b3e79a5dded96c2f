// Package milestonestatus is the milestonestatus plugin: members of a
// repository's milestone maintainers team (plugins.yaml's repo_milestone)
// add status/approved-for-milestone, status/in-progress or status/in-review
// with /status, as Prow's milestonestatus plugin does.
package milestonestatus

import (
	"context"
	"regexp"
	"strings"

	"github.com/go-logr/logr"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/milestone"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
)

// Name is the plugin's name in plugins.yaml.
const Name = "milestonestatus"

// Statuses maps the words /status takes to labels.
var Statuses = map[string]string{
	"approved-for-milestone": "status/approved-for-milestone",
	"in-progress":            "status/in-progress",
	"in-review":              "status/in-review",
}

// statusRe is matched at the start of a line; case matters, as in Prow.
var statusRe = regexp.MustCompile(`(?m)^/status\s+(.+)$`)

// Plugin is the milestonestatus plugin.
type Plugin struct{ pluginbase.Base }

// New returns the milestonestatus plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Lets the members of the repository's milestone maintainers team (`repo_milestone`, as for the " +
			"milestone plugin) add a `status/*` label to a pull request or issue.",
		Config: milestone.ConfigSnippet,
		Commands: []plugin.Command{{
			Usage:       "/status (approved-for-milestone|in-progress|in-review)",
			Description: "Adds the `status/approved-for-milestone`, `status/in-progress` or `status/in-review` label.",
			WhoCanUse:   "Members of the milestone maintainers team of the repository (`repo_milestone`).",
			Examples:    []string{"/status approved-for-milestone", "/status in-progress", "/status in-review"},
		}},
	}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	c := ev.Comment
	if c == nil || c.Action != plugin.CommentCreated {
		return nil
	}
	matches := statusRe.FindAllStringSubmatch(c.Body, -1)
	if len(matches) == 0 {
		return nil
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	team := milestone.MaintainersFor(env.Plugins, env.Org, env.Repo)
	member, configured, err := milestone.IsMaintainer(ctx, env, team, c.Author)
	switch {
	case err != nil:
		return err
	case !configured:
		return env.Reply(ctx, c, milestone.NoMaintainers)
	case !member:
		return env.Reply(ctx, c, milestone.NotMaintainer(env.Org, team, "add status labels", "/status"))
	}
	for _, m := range matches {
		if label, ok := Statuses[strings.TrimSpace(m[1])]; ok {
			if err := env.AddLabel(ctx, c.Number, label); err != nil {
				return err
			}
		}
	}
	return nil
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string {
	return milestone.Describe(p.Config(), org, repo)
}
