// Package dco is the dco plugin: it checks that every commit of a pull
// request (merge commits aside) carries a Signed-off-by line, the
// Developer Certificate of Origin sign-off, and reports the result as the
// dco status context and the labels "dco-signoff: yes" and "dco-signoff:
// no", with a comment listing the commits that lack it, as Prow's dco
// plugin does. Commits by trusted authors can be exempted (plugins.yaml's
// dco entry for the repository, its org or "*").
package dco

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/invalidcommitmsg"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "dco"

// Context is the status context the plugin sets.
const Context = "dco"

// Labels.
const (
	YesLabel = "dco-signoff: yes"
	NoLabel  = "dco-signoff: no"
)

// Status descriptions.
const (
	descFailure = "Commits in the pull request lack a Signed-off-by line"
	descSuccess = "All commits have a Signed-off-by line"
)

// notice starts the plugin's comment, by which it finds it again.
const notice = "Thanks for your pull request. Before it can merge, each of its commits needs a DCO sign-off."

var (
	checkRe   = regexp.MustCompile(`(?mi)^/check-dco\s*$`)
	signoffRe = regexp.MustCompile(`(?mi)^signed-off-by:`)
)

// Plugin is the dco plugin.
type Plugin struct{ pluginbase.Base }

// New returns the dco plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"pull_request", plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Checks that every commit of a pull request has a `Signed-off-by:` line (the Developer Certificate " +
			"of Origin sign-off), sets the `" + Context + "` status context and the `" + YesLabel + "` or `" + NoLabel +
			"` label, and comments the commits that lack it, pointing at the contributing guide. Merge commits are not checked. " +
			"When any of `skip_dco_check_for_members`, `skip_dco_check_for_collaborators` or `trusted_apps` is set, commits " +
			"by members of `trusted_org` (default: the repository's org) and by the trusted apps are not checked, nor, with " +
			"`skip_dco_check_for_collaborators`, by collaborators, as in Prow.",
		Config: `dco:
  "*":                                  # "*", an org or org/repo; the narrowest wins
    skip_dco_check_for_members: true    # commits by members of trusted_org are not checked
    skip_dco_check_for_collaborators: true
    trusted_org: acme                   # default: the repository's org
    trusted_apps: [dependabot]          # apps whose commits are not checked, without [bot]
    contributing_repo: acme/community   # where CONTRIBUTING.md is (default: the repository)
    contributing_branch: main           # default: the default branch
    contributing_path: docs/CONTRIBUTING.md  # default: CONTRIBUTING.md`,
		Commands: []plugin.Command{{
			Usage:       "/check-dco",
			Description: "Checks the sign-offs again.",
			WhoCanUse:   "Anyone, on open pull requests.",
			Examples:    []string{"/check-dco"},
			Featured:    true,
		}},
	}
}

// For is the dco settings of a repository: its own, its org's or "*".
func For(cfg *plugins.Config, org, repo string) plugins.Dco {
	for _, k := range []string{org + "/" + repo, org, "*"} {
		if d := cfg.Dco[k]; d != nil {
			return *d
		}
	}
	return plugins.Dco{}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	var number int
	var comment bool
	if pe, ok := ev.Payload.(*github.PullRequestEvent); ok {
		switch pe.GetAction() {
		case "opened", "synchronize":
			comment = true
		case "reopened":
		default:
			return nil
		}
		number = pe.GetPullRequest().GetNumber()
	} else {
		c := ev.Comment
		if c == nil || !c.IsPR || c.IssueState != "open" || c.Action != plugin.CommentCreated || !checkRe.MatchString(c.Body) {
			return nil
		}
		number, comment = c.Number, true
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	if ev.Comment != nil {
		// /check-dco: whoever joined the org since counts now.
		env.Recheck()
	}
	// The pull request as it is now: a comment's event carries none, and
	// a push may have moved the head since the event was sent.
	pr, err := env.PullRequest(ctx, number)
	if err != nil {
		return err
	}
	return check(ctx, env, pr, comment)
}

func check(ctx context.Context, env *pluginbase.Env, pr *github.PullRequest, comment bool) error {
	cfg := For(env.Plugins, env.Org, env.Repo)
	n := pr.GetNumber()
	commits, err := env.PullCommits(ctx, n)
	if err != nil {
		return err
	}
	var missing []*github.RepositoryCommit
	for _, c := range commits {
		if len(c.Parents) <= 1 && !signoffRe.MatchString(c.GetCommit().GetMessage()) {
			missing = append(missing, c)
		}
	}
	if cfg.SkipDCOCheckForMembers || cfg.SkipDCOCheckForCollaborators || len(cfg.TrustedApps) > 0 {
		if missing, err = untrusted(ctx, env, cfg, missing); err != nil {
			return err
		}
	}
	labels, err := env.IssueLabels(ctx, n)
	if err != nil {
		return err
	}
	current, err := currentState(ctx, env, pr.GetHead().GetSHA())
	if err != nil {
		return err
	}
	guide := contributingURL(cfg, pr)
	signed := len(missing) == 0
	add, remove, state, desc := YesLabel, NoLabel, "success", descSuccess
	if !signed {
		add, remove, state, desc = NoLabel, YesLabel, "failure", descFailure
	}
	if pluginbase.HasLabel(labels, remove) {
		if err := env.RemoveLabel(ctx, n, remove); err != nil {
			return err
		}
	}
	if !pluginbase.HasLabel(labels, add) {
		if err := env.AddLabel(ctx, n, add); err != nil {
			return err
		}
	}
	if current != state {
		st := github.RepoStatus{Context: github.Ptr(Context), State: github.Ptr(state), Description: github.Ptr(desc), TargetURL: github.Ptr(guide)}
		if _, _, err := env.GitHub.Repositories.CreateStatus(ctx, env.Org, env.Repo, pr.GetHead().GetSHA(), st); err != nil {
			return fmt.Errorf("set the %s status of %s#%d: %w", Context, env.FullName(), n, err)
		}
	}
	if signed || comment {
		// The comment lists the commits as they are now, or goes.
		if err := env.PruneComments(ctx, n, func(body string) bool { return strings.Contains(body, notice) }); err != nil {
			return err
		}
	}
	if signed || !comment {
		return nil
	}
	body := fmt.Sprintf("%s\n\n:memo: Please follow the [contributing guide](%s) to sign off your commits "+
		"(`git commit --amend --signoff` for the last one, `git rebase --signoff` for several).\n\n"+
		"The [Developer Certificate of Origin](https://developercertificate.org/) says what signing off means.\n\n"+
		"**Commits without a sign-off:**\n\n%s", notice, guide, invalidcommitmsg.CommitList(missing))
	return env.Comment(ctx, n, pluginbase.Notice(pr.GetUser().GetLogin(), body, ""))
}

// untrusted drops the commits whose authors are trusted, by the trigger
// plugin's rules with the dco entry's settings: members of trusted_org (or
// the repository's org), collaborators when skip_dco_check_for_collaborators
// is set, and trusted apps.
func untrusted(ctx context.Context, env *pluginbase.Env, cfg plugins.Dco, commits []*github.RepositoryCommit) ([]*github.RepositoryCommit, error) {
	rules := plugins.Trigger{OnlyOrgMembers: !cfg.SkipDCOCheckForCollaborators, TrustedApps: cfg.TrustedApps, TrustedOrg: cfg.TrustedOrg}
	var out []*github.RepositoryCommit
	for _, c := range commits {
		ok, err := env.TrustedBy(ctx, rules, c.GetAuthor().GetLogin())
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// currentState is the state of the dco context on a commit, or "".
func currentState(ctx context.Context, env *pluginbase.Env, sha string) (string, error) {
	cs, _, err := env.GitHub.Repositories.GetCombinedStatus(ctx, env.Org, env.Repo, sha, &github.ListOptions{PerPage: 100})
	if err != nil {
		return "", fmt.Errorf("statuses of %s@%s: %w", env.FullName(), sha, err)
	}
	for _, s := range cs.Statuses {
		if s.GetContext() == Context {
			return s.GetState(), nil
		}
	}
	return "", nil
}

// contributingURL links the contributing guide on the forge the
// repository lives on; HEAD stands for the default branch.
func contributingURL(cfg plugins.Dco, pr *github.PullRequest) string {
	host := "https://github.com"
	if u, err := url.Parse(pr.GetBase().GetRepo().GetHTMLURL()); err == nil && u.Host != "" {
		host = u.Scheme + "://" + u.Host
	}
	repo := pr.GetBase().GetRepo().GetFullName()
	if cfg.ContributingRepo != "" {
		repo = cfg.ContributingRepo
	}
	branch := "HEAD"
	if cfg.ContributingBranch != "" {
		branch = cfg.ContributingBranch
	}
	path := "CONTRIBUTING.md"
	if cfg.ContributingPath != "" {
		path = cfg.ContributingPath
	}
	return fmt.Sprintf("%s/%s/blob/%s/%s", host, repo, branch, path)
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string {
	set := p.Config()
	if set == nil || set.Plugins == nil || repo == "" {
		return ""
	}
	d := For(set.Plugins, org, repo)
	if !d.SkipDCOCheckForMembers && !d.SkipDCOCheckForCollaborators && len(d.TrustedApps) == 0 {
		return "Every commit is checked."
	}
	trusted := d.TrustedOrg
	if trusted == "" {
		trusted = org
	}
	out := fmt.Sprintf("Commits by members of %s are not checked", trusted)
	if d.SkipDCOCheckForCollaborators {
		out += ", nor by collaborators"
	}
	if len(d.TrustedApps) > 0 {
		out += ", nor by the apps " + strings.Join(d.TrustedApps, ", ")
	}
	return out + "."
}
