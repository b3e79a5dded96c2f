// Package skip is the skip plugin: /skip retires the stale statuses of a
// pull request's optional presubmits, setting those that did not succeed
// to success with the description "Skipped", so that they no longer show
// as failing, as Prow's skip plugin does. Required presubmits are left
// alone, and so are the jobs the same comment starts (/skip with /test foo
// runs foo rather than skipping it).
package skip

import (
	"context"
	"fmt"
	"regexp"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/jobs"
)

// Name is the plugin's name in plugins.yaml.
const Name = "skip"

// Description is what a skipped status says.
const Description = "Skipped"

var (
	skipRe    = regexp.MustCompile(`(?mi)^/skip\s*$`)
	testAllRe = regexp.MustCompile(`(?m)^/test all\s*$`)
	retestRe  = regexp.MustCompile(`(?m)^/retest\s*$`)
)

// Plugin is the skip plugin.
type Plugin struct{ pluginbase.Base }

// New returns the skip plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Cleans up the statuses of optional presubmits on a pull request: those that failed or are pending " +
			"are set to success with the description `" + Description + "`. Required presubmits, and jobs the same comment " +
			"starts, are left alone.",
		Commands: []plugin.Command{{
			Usage:       "/skip",
			Description: "Retires the stale statuses of the pull request's optional presubmits.",
			WhoCanUse:   "Anyone, on open pull requests.",
			Examples:    []string{"/skip"},
		}},
	}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	c := ev.Comment
	if c == nil || !c.IsPR || c.IssueState != "open" || c.Action != plugin.CommentCreated || !skipRe.MatchString(c.Body) {
		return nil
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	pr, err := env.PullRequest(ctx, c.Number)
	if err != nil {
		return err
	}
	sha := pr.GetHead().GetSHA()
	cs, _, err := env.GitHub.Repositories.GetCombinedStatus(ctx, env.Org, env.Repo, sha, &github.ListOptions{PerPage: 100})
	if err != nil {
		return fmt.Errorf("statuses of %s#%d: %w", env.FullName(), c.Number, err)
	}
	if cs.GetState() == "success" {
		return nil
	}
	state := map[string]string{}
	for _, s := range cs.Statuses {
		state[s.GetContext()] = s.GetState()
	}
	for i := range env.Jobs.Presubmits[env.FullName()] {
		ps := &env.Jobs.Presubmits[env.FullName()][i]
		if !ps.Brancher.ShouldRun(pr.GetBase().GetRef()) {
			continue
		}
		context := ps.Context
		if context == "" {
			context = ps.Name
		}
		st, reported := state[context]
		if !reported || st == "success" || required(ps) || startedBy(ps, c.Body, st) {
			continue
		}
		s := github.RepoStatus{Context: github.Ptr(context), State: github.Ptr("success"), Description: github.Ptr(Description)}
		if _, _, err := env.GitHub.Repositories.CreateStatus(ctx, env.Org, env.Repo, sha, s); err != nil {
			return fmt.Errorf("skip %s on %s#%d: %w", context, env.FullName(), c.Number, err)
		}
		env.Log.Info("Skipped a stale status", "number", c.Number, "context", context)
	}
	return nil
}

// required reports whether a presubmit must pass for merging: it is not
// optional and reports.
func required(ps *jobs.Presubmit) bool { return !ps.Optional && !ps.SkipReport }

// startedBy reports whether the comment starts the job, as the trigger
// plugin reads it: /test naming it, /test all for a job that runs by
// itself, /retest for one that failed.
func startedBy(ps *jobs.Presubmit, body, state string) bool {
	switch {
	case ps.TriggerMatches(body):
		return true
	case testAllRe.MatchString(body) && ps.CouldRunAutomatically():
		return true
	case retestRe.MatchString(body) && (state == "failure" || state == "error"):
		return true
	}
	return false
}
