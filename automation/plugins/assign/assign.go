// Package assign is the assign plugin: /assign and /unassign change the
// assignees of an issue or pull request, /cc and /uncc the reviewers asked
// for on a pull request, as Prow's assign plugin does.
//
// Without logins a command names the commenter. /cc takes teams as
// @org/team. Anyone may use the commands; GitHub decides who can be
// assigned (org members, collaborators and people who commented here, at
// most ten) and asked for a review (org members and collaborators, not the
// author), and the plugin answers with the logins GitHub refused.
package assign

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
)

// Name is the plugin's name in plugins.yaml.
const Name = "assign"

// Commands, matched at the start of a line, in any case, as Prow does;
// only /cc takes org/team.
var (
	assignRe = regexp.MustCompile(`(?mi)^/(un)?assign(( @?[-\w]+?)*)\s*$`)
	// CCRe is the /cc and /uncc command.
	CCRe = regexp.MustCompile(`(?mi)^/(un)?cc(( +@?[-/\w]+?)*)\s*$`)
)

// Plugin is the assign plugin.
type Plugin struct{ pluginbase.Base }

// New returns the assign plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Assigns people to issues and pull requests (`/assign @user`) and asks people or teams for a " +
			"review (`/cc @user`, `/cc @org/team`). Without a login the command names the commenter. " +
			"`/unassign` and `/uncc` undo them.",
		Commands: []plugin.Command{
			{
				Usage:       "/[un]assign [[@]<login>…]",
				Description: "Assigns the users (or the commenter) to the issue or pull request, or removes them.",
				WhoCanUse:   "Anyone; the users must be members of the org, collaborators of the repository, or have commented on the issue or pull request.",
				Examples:    []string{"/assign", "/unassign", "/assign @alice", "/assign alice bob"},
				Featured:    true,
			},
			{
				Usage:       "/[un]cc [[@]<login>…|[@]<org>/<team>…]",
				Description: "Asks the users or teams (or the commenter) to review the pull request, or takes the request back.",
				WhoCanUse:   "Anyone; the reviewers must be members of the org or collaborators of the repository, and not the author.",
				Examples:    []string{"/cc", "/uncc", "/cc @alice", "/cc alice bob", "/cc @acme/reviewers"},
				Featured:    true,
			},
		},
	}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	c := ev.Comment
	if c == nil || c.Action != plugin.CommentCreated {
		return nil
	}
	assignAdd, assignRemove := targets(assignRe, c)
	ccAdd, ccRemove := targets(CCRe, c)
	if !c.IsPR {
		ccAdd, ccRemove = nil, nil
	}
	if len(assignAdd)+len(assignRemove)+len(ccAdd)+len(ccRemove) == 0 {
		return nil
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	return errors.Join(assign(ctx, env, c, assignAdd, assignRemove), review(ctx, env, c, ccAdd, ccRemove))
}

// targets reads the logins commands of re add and remove, in order; a
// later command about the same login wins, as in Prow.
func targets(re *regexp.Regexp, c *plugin.Comment) (add, remove []string) {
	want := map[string]bool{}
	var order []string
	set := func(login string, a bool) {
		k := strings.ToLower(login)
		if _, ok := want[k]; !ok {
			order = append(order, login)
		}
		want[k] = a
	}
	for _, m := range re.FindAllStringSubmatch(c.Body, -1) {
		a := m[1] == ""
		logins := parseLogins(m[2])
		if len(logins) == 0 {
			logins = []string{c.Author}
		}
		for _, l := range logins {
			set(l, a)
		}
	}
	for _, l := range order {
		if want[strings.ToLower(l)] {
			add = append(add, l)
		} else {
			remove = append(remove, l)
		}
	}
	return add, remove
}

func parseLogins(text string) []string {
	var out []string
	for _, f := range strings.Fields(text) {
		if l := strings.Trim(f, "@ "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func assign(ctx context.Context, env *pluginbase.Env, c *plugin.Comment, add, remove []string) error {
	if len(remove) > 0 {
		if _, _, err := env.GitHub.Issues.RemoveAssignees(ctx, env.Org, env.Repo, c.Number, remove); err != nil {
			return fmt.Errorf("unassign %v from %s#%d: %w", remove, env.FullName(), c.Number, err)
		}
		env.Log.Info("Unassigned", "number", c.Number, "logins", remove)
	}
	if len(add) == 0 {
		return nil
	}
	is, _, err := env.GitHub.Issues.AddAssignees(ctx, env.Org, env.Repo, c.Number, add)
	if err != nil {
		return fmt.Errorf("assign %v to %s#%d: %w", add, env.FullName(), c.Number, err)
	}
	env.Log.Info("Assigned", "number", c.Number, "logins", add)
	// GitHub leaves out whom it may not assign, silently.
	var missing []string
	for _, l := range add {
		if !slices.ContainsFunc(is.Assignees, func(u *github.User) bool { return strings.EqualFold(u.GetLogin(), l) }) {
			missing = append(missing, l)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return env.Reply(ctx, c, fmt.Sprintf("GitHub did not let me assign: %s.\n\n"+
		"Only members of the %s organization, collaborators of the repository and people who have commented here "+
		"can be assigned, and an issue or pull request takes at most 10 assignees.",
		strings.Join(missing, ", "), env.Org))
}

func review(ctx context.Context, env *pluginbase.Env, c *plugin.Comment, add, remove []string) error {
	if len(remove) > 0 {
		users, teams, _ := reviewers(env.Org, remove)
		if _, err := env.GitHub.PullRequests.RemoveReviewers(ctx, env.Org, env.Repo, c.Number,
			github.ReviewersRequest{Reviewers: users, TeamReviewers: teams}); err != nil {
			return fmt.Errorf("take back review requests of %v on %s#%d: %w", remove, env.FullName(), c.Number, err)
		}
		env.Log.Info("Took back review requests", "number", c.Number, "logins", remove)
	}
	if len(add) == 0 {
		return nil
	}
	missing, err := requestReviews(ctx, env, c.Number, add)
	if err != nil || len(missing) == 0 {
		return err
	}
	return env.Reply(ctx, c, fmt.Sprintf("GitHub did not let me ask for a review from: %s.\n\n"+
		"Reviews can only be asked from members of the %s organization and collaborators of the repository "+
		"(or teams of the organization), and not from the author of the pull request.",
		strings.Join(missing, ", "), env.Org))
}

// reviewers splits logins into users and team slugs; teams are org/team of
// the repository's org (other orgs' teams cannot review).
func reviewers(org string, logins []string) (users, teams, foreign []string) {
	for _, l := range logins {
		o, team, isTeam := strings.Cut(l, "/")
		switch {
		case !isTeam:
			users = append(users, l)
		case strings.EqualFold(o, org) && team != "":
			teams = append(teams, team)
		default:
			foreign = append(foreign, l)
		}
	}
	return users, teams, foreign
}

// requestReviews asks for reviews and returns whom GitHub refused. GitHub
// refuses a whole request when one reviewer is not allowed, so after a
// refusal each is asked for alone, as Prow does.
func requestReviews(ctx context.Context, env *pluginbase.Env, number int, logins []string) ([]string, error) {
	try := func(logins []string) (refused bool, err error) {
		users, teams, foreign := reviewers(env.Org, logins)
		if len(foreign) > 0 {
			return true, nil
		}
		_, _, err = env.GitHub.PullRequests.RequestReviewers(ctx, env.Org, env.Repo, number,
			github.ReviewersRequest{Reviewers: users, TeamReviewers: teams})
		var ge *github.ErrorResponse
		if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusUnprocessableEntity {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("ask %v for a review of %s#%d: %w", logins, env.FullName(), number, err)
		}
		return false, nil
	}
	refused, err := try(logins)
	if err != nil || !refused {
		if err == nil {
			env.Log.Info("Asked for reviews", "number", number, "logins", logins)
		}
		return nil, err
	}
	var missing []string
	for _, l := range logins {
		refused, err := try([]string{l})
		if err != nil {
			return nil, err
		}
		if refused {
			missing = append(missing, l)
		}
	}
	return missing, nil
}
