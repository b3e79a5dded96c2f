// Package lifecycle is the lifecycle plugin: /lifecycle and
// /remove-lifecycle manage the lifecycle/* labels (anyone), /close and
// /reopen close and reopen issues and pull requests (their author and the
// repository's collaborators; anyone may close what is stale or rotten), as
// Prow's lifecycle plugin does. Closing and reopening leave a comment naming
// who asked, for the record.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
)

// Name is the plugin's name in plugins.yaml.
const Name = "lifecycle"

// Lifecycle labels.
const (
	Active = "lifecycle/active"
	Frozen = "lifecycle/frozen"
	Stale  = "lifecycle/stale"
	Rotten = "lifecycle/rotten"
)

var labels = []string{Active, Frozen, Stale, Rotten}

// Commands, matched at the start of a line, in any case, as Prow does.
var (
	lifecycleRe  = regexp.MustCompile(`(?mi)^/(remove-)?lifecycle (active|frozen|stale|rotten)\s*$`)
	closeRe      = regexp.MustCompile(`(?mi)^/close\s*$`)
	notPlannedRe = regexp.MustCompile(`(?mi)^/close not-planned\s*$`)
	reopenRe     = regexp.MustCompile(`(?mi)^/reopen\s*$`)
)

// Plugin is the lifecycle plugin.
type Plugin struct{ pluginbase.Base }

// New returns the lifecycle plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Closes and reopens issues and pull requests on request, and marks them active, frozen, stale " +
			"or rotten with the `lifecycle/*` labels (one at a time).",
		Commands: []plugin.Command{
			{
				Usage:       "/close [not-planned]",
				Description: "Closes the issue or pull request; `not-planned` closes an issue as not planned.",
				WhoCanUse:   "The author and the repository's collaborators; anyone, when it is marked stale or rotten.",
				Examples:    []string{"/close", "/close not-planned"},
			},
			{
				Usage:       "/reopen",
				Description: "Reopens a closed issue or pull request.",
				WhoCanUse:   "The author and the repository's collaborators.",
				Examples:    []string{"/reopen"},
			},
			{
				Usage:       "/[remove-]lifecycle <active|frozen|stale|rotten>",
				Description: "Adds or removes a `lifecycle/*` label; adding one removes the others. Pull requests cannot be frozen.",
				WhoCanUse:   "Anyone.",
				Examples:    []string{"/lifecycle frozen", "/remove-lifecycle stale", "/lifecycle active"},
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
	wantsReopen := c.IssueState == "closed" && reopenRe.MatchString(c.Body)
	wantsClose := c.IssueState == "open" && (closeRe.MatchString(c.Body) || notPlannedRe.MatchString(c.Body))
	marks := lifecycleRe.FindAllStringSubmatch(c.Body, -1)
	if !wantsReopen && !wantsClose && len(marks) == 0 {
		return nil
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	if wantsReopen {
		if err := reopen(ctx, env, c); err != nil {
			return err
		}
	}
	if wantsClose {
		if err := closeIt(ctx, env, c); err != nil {
			return err
		}
	}
	for _, m := range marks {
		if err := mark(ctx, env, c, m[1] != "", "lifecycle/"+strings.ToLower(m[2])); err != nil {
			return err
		}
	}
	return nil
}

// authorOrCollaborator reports whether the commenter wrote the issue or
// collaborates on the repository.
func authorOrCollaborator(ctx context.Context, env *pluginbase.Env, c *plugin.Comment) (bool, error) {
	if strings.EqualFold(c.Author, c.IssueAuthor) {
		return true, nil
	}
	return env.IsCollaborator(ctx, c.Author)
}

func closeIt(ctx context.Context, env *pluginbase.Env, c *plugin.Comment) error {
	ok, err := authorOrCollaborator(ctx, env, c)
	if err != nil {
		return err
	}
	if !ok {
		current, err := env.IssueLabels(ctx, c.Number)
		if err != nil {
			return err
		}
		if !pluginbase.HasLabel(current, Stale) && !pluginbase.HasLabel(current, Rotten) {
			return env.Reply(ctx, c, "You can't close an active issue or pull request unless you authored it or you are a collaborator.")
		}
	}
	notPlanned := notPlannedRe.MatchString(c.Body)
	if c.IsPR {
		if notPlanned {
			return env.Reply(ctx, c, "Pull requests cannot be closed as not planned.")
		}
		if _, _, err := env.GitHub.PullRequests.Edit(ctx, env.Org, env.Repo, c.Number, &github.PullRequest{State: github.Ptr("closed")}); err != nil {
			return fmt.Errorf("close %s#%d: %w", env.FullName(), c.Number, err)
		}
		env.Log.Info("Closed", "number", c.Number)
		return env.Reply(ctx, c, "Closed this pull request.")
	}
	req := &github.IssueRequest{State: github.Ptr("closed"), StateReason: github.Ptr("completed")}
	msg := "Closing this issue."
	if notPlanned {
		req.StateReason = github.Ptr("not_planned")
		msg = "Closing this issue as not planned."
	}
	if _, _, err := env.GitHub.Issues.Edit(ctx, env.Org, env.Repo, c.Number, req); err != nil {
		return fmt.Errorf("close %s#%d: %w", env.FullName(), c.Number, err)
	}
	env.Log.Info("Closed", "number", c.Number, "reason", req.GetStateReason())
	return env.Reply(ctx, c, msg)
}

func reopen(ctx context.Context, env *pluginbase.Env, c *plugin.Comment) error {
	ok, err := authorOrCollaborator(ctx, env, c)
	if err != nil {
		return err
	}
	if !ok {
		return env.Reply(ctx, c, "You can't reopen an issue or pull request unless you authored it or you are a collaborator.")
	}
	what := "issue"
	if c.IsPR {
		what = "pull request"
		_, _, err = env.GitHub.PullRequests.Edit(ctx, env.Org, env.Repo, c.Number, &github.PullRequest{State: github.Ptr("open")})
	} else {
		_, _, err = env.GitHub.Issues.Edit(ctx, env.Org, env.Repo, c.Number, &github.IssueRequest{State: github.Ptr("open")})
	}
	// GitHub refuses to reopen, for one, a merged pull request or one whose
	// branch is gone.
	var ge *github.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == http.StatusUnprocessableEntity {
		return env.Reply(ctx, c, fmt.Sprintf("Failed to reopen this %s: %s", what, ge.Message))
	}
	if err != nil {
		return fmt.Errorf("reopen %s#%d: %w", env.FullName(), c.Number, err)
	}
	env.Log.Info("Reopened", "number", c.Number)
	return env.Reply(ctx, c, fmt.Sprintf("Reopened this %s.", what))
}

// mark adds or removes one lifecycle label; adding one removes the others.
func mark(ctx context.Context, env *pluginbase.Env, c *plugin.Comment, remove bool, label string) error {
	if c.IsPR && label == Frozen && !remove {
		return env.Reply(ctx, c, fmt.Sprintf("The `%s` label cannot be applied to pull requests.", Frozen))
	}
	current, err := env.IssueLabels(ctx, c.Number)
	if err != nil {
		return err
	}
	has := pluginbase.HasLabel(current, label)
	switch {
	case remove && has:
		return env.RemoveLabel(ctx, c.Number, label)
	case !remove && !has:
		for _, other := range labels {
			if other != label && pluginbase.HasLabel(current, other) {
				if err := env.RemoveLabel(ctx, c.Number, other); err != nil {
					return err
				}
			}
		}
		return env.AddLabel(ctx, c.Number, label)
	}
	return nil
}
