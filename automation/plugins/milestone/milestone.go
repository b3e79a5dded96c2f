// Package milestone is the milestone plugin: members of a repository's
// milestone maintainers team (plugins.yaml's repo_milestone) set the
// milestone of an issue or pull request with /milestone <title> and clear
// it with /milestone clear, as Prow's milestone plugin does.
package milestone

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "milestone"

// Clear is the argument that clears the milestone.
const Clear = "clear"

// milestoneRe is matched at the start of a line; case matters, as in Prow.
var milestoneRe = regexp.MustCompile(`(?m)^/milestone\s+(.+?)\s*$`)

// Plugin is the milestone plugin.
type Plugin struct{ pluginbase.Base }

// New returns the milestone plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment} }

// ConfigSnippet is repo_milestone, which the milestone and milestonestatus
// plugins share.
const ConfigSnippet = `repo_milestone:
  "":                               # the default for every repository
    maintainers_team: release-team  # a team slug of the repository's org (or maintainers_id: <team ID>)
    maintainers_friendly_name: release team
  acme/widgets:
    maintainers_team: widgets-maintainers`

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Lets the members of the repository's milestone maintainers team (`repo_milestone`) set or clear the " +
			"milestone of an issue or pull request.",
		Config: ConfigSnippet,
		Commands: []plugin.Command{{
			Usage:       "/milestone <title>|clear",
			Description: "Sets the milestone of the issue or pull request to the open milestone with that title, or clears it.",
			WhoCanUse:   "Members of the milestone maintainers team of the repository (`repo_milestone`).",
			Examples:    []string{"/milestone v1.10", "/milestone clear"},
		}},
	}
}

// MaintainersFor is the repo_milestone entry of a repository: its own, or
// the default ("").
func MaintainersFor(cfg *plugins.Config, org, repo string) plugins.Milestone {
	if m, ok := cfg.RepoMilestone[org+"/"+repo]; ok {
		return m
	}
	return cfg.RepoMilestone[""]
}

// Team names a milestone maintainers team for people.
func Team(org string, m plugins.Milestone) string {
	if m.MaintainersTeam != "" {
		return org + "/" + m.MaintainersTeam
	}
	return fmt.Sprintf("%s team %d", org, m.MaintainersID)
}

// IsMaintainer reports whether user is in the repository's milestone
// maintainers team. ok is false when the repository has none configured.
func IsMaintainer(ctx context.Context, env *pluginbase.Env, m plugins.Milestone, user string) (member, ok bool, err error) {
	var members []string
	switch {
	case m.MaintainersTeam != "":
		members, err = env.TeamMembers(ctx, env.Org, m.MaintainersTeam)
	case m.MaintainersID != 0:
		members, err = env.TeamMembersByID(ctx, env.Org, int64(m.MaintainersID))
	default:
		return false, false, nil
	}
	if err != nil {
		return false, true, err
	}
	return slices.ContainsFunc(members, func(l string) bool { return strings.EqualFold(l, user) }), true, nil
}

// NotMaintainer is the answer to someone outside the team.
func NotMaintainer(org string, m plugins.Milestone, what, command string) string {
	msg := fmt.Sprintf("You must be a member of the %s GitHub team to %s.", Team(org, m), what)
	if m.MaintainersFriendlyName != "" {
		msg += fmt.Sprintf(" If you should be able to use %s, ask the %s to add you to the team.", command, m.MaintainersFriendlyName)
	}
	return msg
}

// NoMaintainers is the answer when no team is configured.
const NoMaintainers = "No milestone maintainers team is configured for this repository (`repo_milestone` in plugins.yaml), so nobody can use this command here."

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	c := ev.Comment
	if c == nil || c.Action != plugin.CommentCreated {
		return nil
	}
	m := milestoneRe.FindStringSubmatch(c.Body)
	if m == nil {
		return nil
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	team := MaintainersFor(env.Plugins, env.Org, env.Repo)
	member, configured, err := IsMaintainer(ctx, env, team, c.Author)
	switch {
	case err != nil:
		return err
	case !configured:
		return env.Reply(ctx, c, NoMaintainers)
	case !member:
		return env.Reply(ctx, c, NotMaintainer(env.Org, team, "set the milestone", "/milestone"))
	}
	title := m[1]
	if title == Clear {
		if _, _, err := env.GitHub.Issues.RemoveMilestone(ctx, env.Org, env.Repo, c.Number); err != nil {
			return fmt.Errorf("clear the milestone of %s#%d: %w", env.FullName(), c.Number, err)
		}
		env.Log.Info("Cleared the milestone", "number", c.Number)
		return nil
	}
	milestones, err := openMilestones(ctx, env)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(milestones, func(ms *github.Milestone) bool { return ms.GetTitle() == title })
	if i < 0 {
		titles := make([]string, len(milestones))
		for i, ms := range milestones {
			titles[i] = "`" + ms.GetTitle() + "`"
		}
		slices.Sort(titles)
		list := "none"
		if len(titles) > 0 {
			list = strings.Join(titles, ", ")
		}
		return env.Reply(ctx, c, fmt.Sprintf("The milestone `%s` is not one of this repository's. Its milestones are: %s.\n\n"+
			"Use `/milestone %s` to clear the milestone.", title, list, Clear))
	}
	if _, _, err := env.GitHub.Issues.Edit(ctx, env.Org, env.Repo, c.Number, &github.IssueRequest{Milestone: milestones[i].Number}); err != nil {
		return fmt.Errorf("set the milestone of %s#%d to %s: %w", env.FullName(), c.Number, title, err)
	}
	env.Log.Info("Set the milestone", "number", c.Number, "milestone", title)
	return nil
}

func openMilestones(ctx context.Context, env *pluginbase.Env) ([]*github.Milestone, error) {
	var out []*github.Milestone
	opts := &github.MilestoneListOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := env.GitHub.Issues.ListMilestones(ctx, env.Org, env.Repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list milestones of %s: %w", env.FullName(), err)
		}
		out = append(out, page...)
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string { return Describe(p.Config(), org, repo) }

// Describe says who the milestone maintainers of a repository are.
func Describe(set *configset.Set, org, repo string) string {
	if set == nil || set.Plugins == nil || repo == "" {
		return ""
	}
	m := MaintainersFor(set.Plugins, org, repo)
	if m.MaintainersTeam == "" && m.MaintainersID == 0 {
		return "No milestone maintainers team is configured."
	}
	return fmt.Sprintf("The milestone maintainers team is %s.", Team(org, m))
}
