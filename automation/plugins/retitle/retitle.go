// Package retitle is the retitle plugin: /retitle <title> changes the title
// of an issue or pull request for trusted users who may not edit it on
// GitHub, as Prow's retitle plugin does. Trusted is the trigger plugin's
// rule: members of the org, collaborators (unless only_org_members) and
// trusted apps. Closed issues and pull requests keep their title unless
// retitle.allow_closed_issues is set.
package retitle

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/invalidcommitmsg"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
)

// Name is the plugin's name in plugins.yaml.
const Name = "retitle"

// retitleRe wants the command as a word of its own: "/retitled" is not.
var retitleRe = regexp.MustCompile(`(?mi)^/retitle(?:[ \t]+(.*))?$`)

// Plugin is the retitle plugin.
type Plugin struct{ pluginbase.Base }

// New returns the retitle plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Lets trusted users retitle issues and pull requests that GitHub does not let them edit. " +
			"Titles may not contain keywords that close issues, or @mentions.",
		Config: `retitle:
  allow_closed_issues: true   # also retitle closed issues and pull requests (default false)`,
		Commands: []plugin.Command{{
			Usage:       "/retitle <title>",
			Description: "Changes the title of the issue or pull request.",
			WhoCanUse:   "Trusted users: members of the org, collaborators of the repository (unless the trigger plugin's only_org_members is set) and trusted apps.",
			Examples:    []string{"/retitle Fix the flaky cache test"},
			Featured:    true,
		}},
	}
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(string, string) string {
	set := p.Config()
	if set == nil || set.Plugins == nil {
		return ""
	}
	if set.Plugins.Retitle.AllowClosedIssues {
		return "Closed issues and pull requests may be retitled too."
	}
	return "Only open issues and pull requests may be retitled."
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	c := ev.Comment
	if c == nil || c.Action != plugin.CommentCreated {
		return nil
	}
	m := retitleRe.FindStringSubmatch(c.Body)
	if m == nil {
		return nil
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	if !env.Plugins.Retitle.AllowClosedIssues && c.IssueState != "open" {
		return nil
	}
	trusted, err := env.Trusted(ctx, c.Author)
	if err != nil {
		return err
	}
	if !trusted {
		return env.Reply(ctx, c, "Only trusted users, such as collaborators of the repository, may ask for a new title.")
	}
	title := strings.TrimSpace(m[1])
	switch {
	case title == "":
		return env.Reply(ctx, c, "Titles may not be empty.")
	case invalidcommitmsg.AtMentionRe.MatchString(title) || invalidcommitmsg.CloseIssueRe.MatchString(title):
		return env.Reply(ctx, c, "Titles may not contain @mentions or keywords that close issues "+
			"([GitHub's list](https://docs.github.com/en/issues/tracking-your-work-with-issues/linking-a-pull-request-to-an-issue)).")
	}
	if c.IsPR {
		_, _, err = env.GitHub.PullRequests.Edit(ctx, env.Org, env.Repo, c.Number, &github.PullRequest{Title: &title})
	} else {
		_, _, err = env.GitHub.Issues.Edit(ctx, env.Org, env.Repo, c.Number, &github.IssueRequest{Title: &title})
	}
	if err != nil {
		return fmt.Errorf("retitle %s#%d: %w", env.FullName(), c.Number, err)
	}
	env.Log.Info("Retitled", "number", c.Number)
	return nil
}
