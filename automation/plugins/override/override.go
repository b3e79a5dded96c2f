// Package override is the override plugin: /override <context>… sets
// status contexts of a pull request's head that failed, are pending or are
// required but missing to success, and /override-cancel sets overridden
// ones back to failure, for repository admins, members of
// override.allowed_github_teams and, with override.allow_top_level_owners,
// approvers of the top-level OWNERS file, as Prow's override plugin does.
// Every override answers with a comment naming who asked, for the record.
//
// A presubmit may be named by its job name as well as its context. The
// description of an overridden status ends with the base branch's commit
// ("BaseSHA:<sha>"), as the reporter's do, so that an override holds until
// the base branch moves. Prow's /override-sticky and check runs are not
// supported: bowline reports jobs as commit statuses.
package override

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/repoowners"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "override"

// DescriptionPrefix starts the description of an overridden status.
const DescriptionPrefix = "Overridden by"

// maxDescription is GitHub's limit on a status description.
const maxDescription = 140

// Commands, matched at the start of a line, in any case, as Prow does.
var (
	overrideRe = regexp.MustCompile(`(?mi)^/override( ([^\r\n]+))?[\r\n]?$`)
	cancelRe   = regexp.MustCompile(`(?mi)^/override-cancel( ([^\r\n]+))?[\r\n]?$`)
)

// Plugin is the override plugin.
type Plugin struct {
	pluginbase.Base
	owners *repoowners.Client
}

// New returns the override plugin; owners reads the top-level OWNERS file.
func New(b pluginbase.Base, owners *repoowners.Client) *Plugin {
	return &Plugin{Base: b, owners: owners}
}

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	who := whoCanUse(plugins.Override{}, "", "")
	return plugin.Help{
		Description: "Lets repository admins (and, as configured, top-level OWNERS approvers and members of some teams) " +
			"force status contexts of a pull request to success, and take that back.",
		Config: `override:
  allow_top_level_owners: true     # approvers of the top-level OWNERS file may override
  allowed_github_teams:            # by org or org/repo: team slugs whose members may override
    acme/widgets: [release-managers]`,
		Commands: []plugin.Command{
			{
				Usage: "/override <context> [<context>…]",
				Description: "Sets the named status contexts (or presubmits, by job name) of the pull request's head to success, " +
					"when they failed, are pending, or are required and missing. A context with spaces is quoted. " +
					"The override holds until the base branch moves.",
				WhoCanUse: who,
				Examples:  []string{"/override pull-widgets-unit", `/override "test / Unit Tests"`, "/override ci/circleci other-job"},
			},
			{
				Usage:       "/override-cancel [<context>…]",
				Description: "Sets overridden contexts back to failure: those named, or all of them.",
				WhoCanUse:   who,
				Examples:    []string{"/override-cancel pull-widgets-unit", "/override-cancel"},
			},
		},
	}
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string {
	set := p.Config()
	if set == nil || set.Plugins == nil {
		return ""
	}
	return "May be used by: " + whoCanUse(set.Plugins.Override, org, repo)
}

// whoCanUse says who may override in a repository ("" for any).
func whoCanUse(cfg plugins.Override, org, repo string) string {
	out := "Repository admins"
	if cfg.AllowTopLevelOwners {
		out += ", approvers in the top-level OWNERS file"
	}
	var teams []string
	for scope, slugs := range cfg.AllowedGitHubTeams {
		if org == "" || scope == org || scope == org+"/"+repo {
			teams = append(teams, fmt.Sprintf("%s: %s", scope, strings.Join(slugs, " ")))
		}
	}
	if len(teams) > 0 {
		sort.Strings(teams)
		out += ", and members of these GitHub teams: " + strings.Join(teams, ", ")
	}
	return out + "."
}

// parseArgs splits the arguments of a command on spaces outside double
// quotes, and drops the quotes.
func parseArgs(in string) []string {
	quoted := false
	fields := strings.FieldsFunc(in, func(r rune) bool {
		if r == '"' {
			quoted = !quoted
		}
		return !quoted && r == ' '
	})
	var out []string
	for _, f := range fields {
		if f = strings.Trim(strings.TrimSpace(f), `"`); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	c := ev.Comment
	if c == nil || !c.IsPR || c.IssueState != "open" || c.Action != plugin.CommentCreated {
		return nil
	}
	cancels := cancelRe.FindAllStringSubmatch(c.Body, -1)
	overrides := overrideRe.FindAllStringSubmatch(c.Body, -1)
	if len(cancels) == 0 && len(overrides) == 0 {
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
	h := &handler{Plugin: p, env: env, c: c, pr: pr, cfg: env.Plugins.Override}
	if len(cancels) > 0 {
		if err := h.cancel(ctx, cancels); err != nil {
			return err
		}
	}
	if len(overrides) > 0 {
		return h.override(ctx, overrides)
	}
	return nil
}

type handler struct {
	*Plugin
	env *pluginbase.Env
	c   *plugin.Comment
	pr  *github.PullRequest
	cfg plugins.Override
	// authorized caches the answer for the comment.
	authorized *bool
}

// authorize reports whether the commenter may override; when not, it
// answers the command and returns false.
func (h *handler) authorize(ctx context.Context, command string) (bool, error) {
	if h.authorized == nil {
		ok, err := h.isAuthorized(ctx)
		if err != nil {
			return false, err
		}
		h.authorized = &ok
	}
	if *h.authorized {
		return true, nil
	}
	who := whoCanUse(h.cfg, h.env.Org, h.env.Repo)
	return false, h.env.Reply(ctx, h.c, fmt.Sprintf("%s is restricted to %s%s", command, strings.ToLower(who[:1]), who[1:]))
}

func (h *handler) isAuthorized(ctx context.Context) (bool, error) {
	env, user := h.env, h.c.Author
	perm, err := env.Permission(ctx, user)
	if err != nil {
		return false, err
	}
	if perm == pluginbase.PermissionAdmin {
		return true, nil
	}
	for _, scope := range []string{env.FullName(), env.Org} {
		for _, slug := range h.cfg.AllowedGitHubTeams[scope] {
			in, err := env.TeamHasMember(ctx, env.Org, slug, user)
			if err != nil || in {
				return in, err
			}
		}
	}
	if h.cfg.AllowTopLevelOwners && h.owners != nil {
		owners, err := h.owners.Load(ctx, repoowners.FromClient(env.GitHub), env.Org, env.Repo, h.pr.GetBase().GetRef(),
			repoowners.SettingsFor(env.Set, env.Org, env.Repo))
		if err != nil {
			return false, err
		}
		if slices.Contains(owners.TopLevelApprovers(), repoowners.NormLogin(user)) {
			return true, nil
		}
	}
	return false, nil
}

// latestStatuses are the head's statuses, the newest of each context.
func (h *handler) latestStatuses(ctx context.Context) ([]*github.RepoStatus, error) {
	env := h.env
	cs, _, err := env.GitHub.Repositories.GetCombinedStatus(ctx, env.Org, env.Repo, h.pr.GetHead().GetSHA(), &github.ListOptions{PerPage: 100})
	if err != nil {
		return nil, fmt.Errorf("statuses of %s#%d: %w", env.FullName(), h.pr.GetNumber(), err)
	}
	return cs.Statuses, nil
}

// requiredContexts are the contexts branch protection requires of the
// base branch.
func (h *handler) requiredContexts(ctx context.Context) ([]string, error) {
	env := h.env
	prot, _, err := env.GitHub.Repositories.GetBranchProtection(ctx, env.Org, env.Repo, h.pr.GetBase().GetRef())
	if errors.Is(err, github.ErrBranchNotProtected) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("branch protection of %s:%s: %w", env.FullName(), h.pr.GetBase().GetRef(), err)
	}
	rsc := prot.GetRequiredStatusChecks()
	if rsc == nil {
		return nil, nil
	}
	var out []string
	if rsc.Contexts != nil {
		out = append(out, *rsc.Contexts...)
	}
	if rsc.Checks != nil {
		for _, c := range *rsc.Checks {
			if !slices.Contains(out, c.Context) {
				out = append(out, c.Context)
			}
		}
	}
	return out, nil
}

func (h *handler) override(ctx context.Context, matches [][]string) error {
	env, c := h.env, h.c
	var wanted []string
	for _, m := range matches {
		if m[1] == "" {
			return env.Reply(ctx, c, "/override needs the failed status contexts to override, but none was given.")
		}
		wanted = append(wanted, parseArgs(m[2])...)
	}
	if ok, err := h.authorize(ctx, "/override"); err != nil || !ok {
		return err
	}
	statuses, err := h.latestStatuses(ctx)
	if err != nil {
		return err
	}
	// What may be overridden: contexts that did not succeed, the jobs that
	// report them, and required contexts not reported at all.
	jobOf := map[string]string{}
	for _, ps := range env.Jobs.Presubmits[env.FullName()] {
		if ps.Brancher.ShouldRun(h.pr.GetBase().GetRef()) {
			context := ps.Context
			if context == "" {
				context = ps.Name
			}
			jobOf[context] = ps.Name
		}
	}
	candidates := map[string]bool{}
	var targets []*github.RepoStatus
	for _, s := range statuses {
		if s.GetState() == "success" {
			continue
		}
		candidates[s.GetContext()] = true
		if job, ok := jobOf[s.GetContext()]; ok {
			candidates[job] = true
		}
		targets = append(targets, s)
	}
	required, err := h.requiredContexts(ctx)
	if err != nil {
		return err
	}
	for _, r := range required {
		if !slices.ContainsFunc(statuses, func(s *github.RepoStatus) bool { return s.GetContext() == r }) {
			candidates[r] = true
			if job, ok := jobOf[r]; ok {
				candidates[job] = true
			}
			targets = append(targets, &github.RepoStatus{Context: github.Ptr(r)})
		}
	}
	var unknown []string
	for _, w := range wanted {
		if !candidates[w] && !slices.Contains(unknown, w) {
			unknown = append(unknown, w)
		}
	}
	if len(unknown) > 0 {
		expected := make([]string, 0, len(candidates))
		for k := range candidates {
			expected = append(expected, k)
		}
		sort.Strings(unknown)
		sort.Strings(expected)
		return env.Reply(ctx, c, fmt.Sprintf("/override takes status contexts that did not succeed, or the names of their "+
			"presubmits. These are not among them:\n%s\n\nThese are:\n%s\n\nQuote a context that has spaces in it.",
			bullets(unknown), bullets(expected)))
	}
	base, _, err := env.GitHub.Git.GetRef(ctx, env.Org, env.Repo, "heads/"+h.pr.GetBase().GetRef())
	if err != nil {
		return fmt.Errorf("base branch of %s#%d: %w", env.FullName(), c.Number, err)
	}
	desc := withBaseSHA(DescriptionPrefix+" "+c.Author, base.GetObject().GetSHA())
	var done []string
	for _, s := range targets {
		if !slices.Contains(wanted, s.GetContext()) && !slices.Contains(wanted, jobOf[s.GetContext()]) {
			continue
		}
		st := github.RepoStatus{Context: s.Context, State: github.Ptr("success"), Description: github.Ptr(desc), TargetURL: github.Ptr(c.HTMLURL)}
		if _, _, err := env.GitHub.Repositories.CreateStatus(ctx, env.Org, env.Repo, h.pr.GetHead().GetSHA(), st); err != nil {
			return fmt.Errorf("override %s on %s#%d: %w", s.GetContext(), env.FullName(), c.Number, err)
		}
		env.Log.Info("Overrode a status context", "number", c.Number, "context", s.GetContext(), "by", c.Author)
		done = append(done, s.GetContext())
	}
	if len(done) == 0 {
		return nil
	}
	sort.Strings(done)
	return env.Reply(ctx, c, fmt.Sprintf("Overrode these contexts on behalf of %s: %s", c.Author, strings.Join(done, ", ")))
}

func (h *handler) cancel(ctx context.Context, matches [][]string) error {
	env, c := h.env, h.c
	if ok, err := h.authorize(ctx, "/override-cancel"); err != nil || !ok {
		return err
	}
	all := false
	var named []string
	for _, m := range matches {
		if m[1] == "" {
			all = true
		}
		named = append(named, parseArgs(m[2])...)
	}
	statuses, err := h.latestStatuses(ctx)
	if err != nil {
		return err
	}
	var done []string
	for _, s := range statuses {
		if !strings.Contains(s.GetDescription(), DescriptionPrefix) || (!all && !slices.Contains(named, s.GetContext())) {
			continue
		}
		st := github.RepoStatus{Context: s.Context, State: github.Ptr("failure"), Description: github.Ptr("Override cancelled by " + c.Author),
			TargetURL: github.Ptr(c.HTMLURL)}
		if _, _, err := env.GitHub.Repositories.CreateStatus(ctx, env.Org, env.Repo, h.pr.GetHead().GetSHA(), st); err != nil {
			return fmt.Errorf("cancel the override of %s on %s#%d: %w", s.GetContext(), env.FullName(), c.Number, err)
		}
		env.Log.Info("Cancelled an override", "number", c.Number, "context", s.GetContext(), "by", c.Author)
		done = append(done, s.GetContext())
	}
	if len(done) == 0 {
		return env.Reply(ctx, c, "There is no override to cancel.")
	}
	sort.Strings(done)
	return env.Reply(ctx, c, fmt.Sprintf("Cancelled the overrides of these contexts on behalf of %s: %s", c.Author, strings.Join(done, ", ")))
}

func bullets(list []string) string {
	lines := make([]string, len(list))
	for i, s := range list {
		lines[i] = " - `" + s + "`"
	}
	return strings.Join(lines, "\n")
}

// withBaseSHA ends a status description with the base commit, within
// GitHub's limit, as the reporter does.
func withBaseSHA(desc, sha string) string {
	suffix := " BaseSHA:" + sha
	if n := maxDescription - len(suffix); len(desc) > n {
		desc = desc[:max(n, 0)]
	}
	return desc + suffix
}
