// Package requirematchinglabel is the require-matching-label plugin: for
// each entry of plugins.yaml's require_matching_label that applies to an
// issue or pull request, it adds the entry's missing_label (and comments
// missing_comment) while no label matches the entry's regexp, and removes
// them once one does, as Prow's plugin does. It looks when an issue or pull
// request is opened or reopened (after the entry's grace_period, so that
// other automation can label it first), when a label is added or removed,
// and on /check-required-labels.
package requirematchinglabel

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "require-matching-label"

// DefaultGracePeriod is Prow's default grace_period.
const DefaultGracePeriod = 5 * time.Second

var checkRe = regexp.MustCompile(`(?mi)^/check-required-labels\s*$`)

// Wait waits for d or until ctx is done.
type Wait func(ctx context.Context, d time.Duration) error

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Plugin is the require-matching-label plugin.
type Plugin struct {
	pluginbase.Base
	wait Wait
}

// New returns the plugin. wait is how it waits out grace periods; nil
// means a timer.
func New(b pluginbase.Base, wait Wait) *Plugin {
	if wait == nil {
		wait = sleep
	}
	return &Plugin{Base: b, wait: wait}
}

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"issues", "pull_request", plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Adds a label (for example `needs-sig`) to issues and pull requests that have no label matching a " +
			"regular expression (for example `^sig/`), optionally with a comment saying what to do, and removes both once " +
			"a matching label is added. Each entry of `require_matching_label` names the org (and optionally the repository " +
			"and, for pull requests, the base branch) it applies to, and whether it applies to issues, pull requests or both.",
		Config: `require_matching_label:
- org: acme
  repo: widgets            # optional: every repository of the org
  branch: main             # optional, pull requests only: every branch
  prs: true
  issues: true
  regexp: ^kind/
  missing_label: needs-kind
  missing_comment: |       # optional
    Please add a kind label with /kind <kind>.
  grace_period: 5s         # wait after opening, so that other automation can label first (default 5s)`,
		Commands: []plugin.Command{{
			Usage:       "/check-required-labels",
			Description: "Checks the required labels again now.",
			WhoCanUse:   "Anyone, on open issues and pull requests.",
			Examples:    []string{"/check-required-labels"},
			Featured:    true,
		}},
	}
}

// event is what one event says about an issue or pull request.
type event struct {
	number int
	// branch is the base branch of a pull request; empty for issues.
	branch string
	// label is the label added or removed; empty for other events.
	label string
	// grace is set for opened and reopened, which wait out grace periods.
	grace bool
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	var e event
	switch payload := ev.Payload.(type) {
	case *github.IssuesEvent:
		if payload.GetIssue().IsPullRequest() {
			return nil
		}
		e = event{number: payload.GetIssue().GetNumber(), label: payload.GetLabel().GetName()}
		if !relevant(payload.GetAction(), &e) {
			return nil
		}
	case *github.PullRequestEvent:
		pr := payload.GetPullRequest()
		e = event{number: pr.GetNumber(), branch: pr.GetBase().GetRef(), label: payload.GetLabel().GetName()}
		if !relevant(payload.GetAction(), &e) {
			return nil
		}
	default:
		c := ev.Comment
		if c == nil || c.Action != plugin.CommentCreated || c.IssueState != "open" || !checkRe.MatchString(c.Body) {
			return nil
		}
		e = event{number: c.Number}
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	if c := ev.Comment; c != nil && c.IsPR {
		pr, err := env.PullRequest(ctx, c.Number)
		if err != nil {
			return err
		}
		e.branch = pr.GetBase().GetRef()
	}
	return p.handle(ctx, env, e)
}

// relevant reads an issue's or pull request's action into e; it is false
// for actions that change nothing this plugin looks at.
func relevant(action string, e *event) bool {
	switch action {
	case "opened", "reopened":
		e.label, e.grace = "", true
		return true
	case "labeled", "unlabeled":
		return e.label != ""
	}
	return false
}

// rule is a compiled entry of require_matching_label.
type rule struct {
	plugins.RequireMatchingLabel
	re    *regexp.Regexp
	grace time.Duration
}

// rulesFor lists the entries that apply to an issue (branch empty) or a
// pull request of org/repo; for a label event, only those whose regexp
// matches the label.
func rulesFor(list []plugins.RequireMatchingLabel, org, repo, branch, label string) ([]rule, error) {
	var out []rule
	for i, r := range list {
		if (branch == "" && !r.Issues) || (branch != "" && !r.PRs) {
			continue
		}
		if org != r.Org || (r.Repo != "" && r.Repo != repo) || (r.Branch != "" && branch != "" && r.Branch != branch) {
			continue
		}
		re, err := regexp.Compile(r.Regexp)
		if err != nil {
			return nil, fmt.Errorf("require_matching_label[%d]: regexp: %w", i, err)
		}
		if label != "" && !re.MatchString(label) {
			continue
		}
		grace := DefaultGracePeriod
		if r.GracePeriod != "" {
			if grace, err = time.ParseDuration(r.GracePeriod); err != nil {
				return nil, fmt.Errorf("require_matching_label[%d]: grace_period: %w", i, err)
			}
		}
		out = append(out, rule{RequireMatchingLabel: r, re: re, grace: grace})
	}
	return out, nil
}

func (p *Plugin) handle(ctx context.Context, env *pluginbase.Env, e event) error {
	rules, err := rulesFor(env.Plugins.RequireMatchingLabel, env.Org, env.Repo, e.branch, e.label)
	if err != nil {
		return plugin.Permanent(err)
	}
	if len(rules) == 0 {
		return nil
	}
	if e.grace {
		var longest time.Duration
		for _, r := range rules {
			longest = max(longest, r.grace)
		}
		if err := p.wait(ctx, longest); err != nil {
			return err
		}
	}
	current, err := env.IssueLabels(ctx, e.number)
	if err != nil {
		return err
	}
	for _, r := range rules {
		hasMissing, hasMatching := false, false
		for _, l := range current {
			hasMissing = hasMissing || l == r.MissingLabel
			hasMatching = hasMatching || r.re.MatchString(l)
		}
		switch {
		case hasMatching && hasMissing:
			if err := env.RemoveLabel(ctx, e.number, r.MissingLabel); err != nil {
				return err
			}
			if r.MissingComment != "" {
				comment := r.MissingComment
				if err := env.PruneComments(ctx, e.number, func(body string) bool { return strings.Contains(body, comment) }); err != nil {
					return err
				}
			}
		case !hasMatching && !hasMissing:
			if err := env.AddLabel(ctx, e.number, r.MissingLabel); err != nil {
				return err
			}
			if r.MissingComment != "" {
				if err := env.Comment(ctx, e.number, r.MissingComment); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string {
	set := p.Config()
	if set == nil || set.Plugins == nil {
		return ""
	}
	var parts []string
	for _, r := range set.Plugins.RequireMatchingLabel {
		if r.Org != org || (repo != "" && r.Repo != "" && r.Repo != repo) {
			continue
		}
		var what []string
		if r.Issues {
			what = append(what, "issues")
		}
		if r.PRs {
			prs := "pull requests"
			if r.Branch != "" {
				prs += " into " + r.Branch
			}
			what = append(what, prs)
		}
		parts = append(parts, fmt.Sprintf("%s without a label matching %q get %q", strings.Join(what, " and "), r.Regexp, r.MissingLabel))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + "."
}
