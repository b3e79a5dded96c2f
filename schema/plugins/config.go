package plugins

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Known lists the plugins bowline knows by name: Prow's in-process plugins.
// Enabling any other name is an error.
var Known = []string{
	"approve", "assign", "blockade", "blunderbuss", "branchcleaner", "bugzilla", "buildifier",
	"cat", "cherry-pick-approved", "cherry-pick-unapproved", "cla", "config-updater", "dco",
	"dog", "golint", "goose", "heart", "help", "hold", "invalidcommitmsg", "issue-management",
	"jira", "label", "lgtm", "lifecycle", "merge-method-comment", "mergecommitblocker",
	"milestone", "milestoneapplier", "milestonestatus", "override", "owners-label", "pony",
	"project", "project-manager", "release-note", "require-matching-label", "require-sig",
	"retitle", "shrug", "sigmention", "size", "skip", "slackevents", "stage", "testfreeze",
	"transfer-issue", "trick-or-treat", "trigger", "verify-owners", "welcome", "wip", "yuks",
}

// Events are the GitHub webhook events an external plugin may ask for.
var Events = []string{
	"branch_protection_rule", "check_run", "check_suite", "create", "delete", "deployment",
	"deployment_status", "fork", "gollum", "issue_comment", "issues", "label", "member",
	"membership", "merge_group", "milestone", "organization", "project", "project_card",
	"project_column", "public", "pull_request", "pull_request_review",
	"pull_request_review_comment", "push", "release", "repository", "status", "team",
	"team_add", "watch", "workflow_run",
}

// Default size thresholds, in changed lines.
const (
	DefaultSizeS   = 10
	DefaultSizeM   = 30
	DefaultSizeL   = 100
	DefaultSizeXL  = 500
	DefaultSizeXXL = 1000
)

// SetDefaults fills in Prow's defaults.
func (c *Config) SetDefaults() {
	if c.Size == (Size{}) {
		c.Size = Size{S: DefaultSizeS, M: DefaultSizeM, L: DefaultSizeL, Xl: DefaultSizeXL, Xxl: DefaultSizeXXL}
	}
	if c.Blunderbuss.ReviewerCount == nil {
		n := 2
		c.Blunderbuss.ReviewerCount = &n
	}
	for key, list := range c.ExternalPlugins {
		for i := range list {
			if list[i].Endpoint == "" {
				list[i].Endpoint = "http://" + list[i].Name
			}
		}
		c.ExternalPlugins[key] = list
	}
	for name, m := range c.ConfigUpdater.Maps {
		if len(m.Clusters) == 0 && len(m.ClusterGroups) == 0 {
			m.Clusters = map[string][]string{"default": {""}}
			c.ConfigUpdater.Maps[name] = m
		}
	}
}

// EnabledFor lists the plugins enabled for a repository: its org's (unless
// the org excludes it) and its own, sorted.
func (c *Config) EnabledFor(org, repo string) []string {
	var out []string
	if o, ok := c.Plugins[org]; ok && !slices.Contains(o.ExcludedRepos, repo) {
		out = append(out, o.Plugins...)
	}
	if r, ok := c.Plugins[org+"/"+repo]; ok {
		out = append(out, r.Plugins...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// PluginNames lists every plugin enabled anywhere, sorted.
func (c *Config) PluginNames() []string {
	var out []string
	for _, o := range c.Plugins {
		out = append(out, o.Plugins...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// forRepo picks the entry of a per-repo list that applies to org/repo: the
// first that names the repo, else the first that names the org.
func forRepo[T any](list []T, repos func(*T) []string, org, repo string) *T {
	full := org + "/" + repo
	for i := range list {
		if slices.Contains(repos(&list[i]), full) {
			return &list[i]
		}
	}
	for i := range list {
		if slices.Contains(repos(&list[i]), org) {
			return &list[i]
		}
	}
	return nil
}

// ApproveFor is the approve settings of a repo, or nil.
func (c *Config) ApproveFor(org, repo string) *Approve {
	return forRepo(c.Approve, func(a *Approve) []string { return a.Repos }, org, repo)
}

// LgtmFor is the lgtm settings of a repo, or nil.
func (c *Config) LgtmFor(org, repo string) *Lgtm {
	return forRepo(c.Lgtm, func(a *Lgtm) []string { return a.Repos }, org, repo)
}

// TriggerFor is the trigger settings of a repo, or nil.
func (c *Config) TriggerFor(org, repo string) *Trigger {
	return forRepo(c.Triggers, func(a *Trigger) []string { return a.Repos }, org, repo)
}

// Validate runs Prow's checks and adds every problem to errs. file names
// plugins.yaml in messages.
func (c *Config) Validate(file string, errs *yamlpos.Errors) {
	at := func(p yamlpos.Pos) yamlpos.Pos {
		if p.File == "" {
			p.File = file
		}
		return p
	}
	filePos := yamlpos.Pos{File: file}
	for _, key := range sortedKeys(c.Plugins) {
		o := c.Plugins[key]
		seen := map[string]bool{}
		for _, name := range o.Plugins {
			if !slices.Contains(Known, name) {
				errs.AddPos(at(o.Pos), "plugins[%s]: unknown plugin %q", key, name)
			}
			if seen[name] {
				errs.AddPos(at(o.Pos), "plugins[%s]: plugin %q is listed twice", key, name)
			}
			seen[name] = true
		}
		if org, _, isRepo := strings.Cut(key, "/"); isRepo {
			if parent, ok := c.Plugins[org]; ok {
				for _, name := range o.Plugins {
					if slices.Contains(parent.Plugins, name) && !slices.Contains(parent.ExcludedRepos, strings.TrimPrefix(key, org+"/")) {
						errs.AddPos(at(o.Pos), "plugins[%s]: plugin %q is already enabled for org %s", key, name, org)
					}
				}
			}
			if len(o.ExcludedRepos) > 0 {
				errs.AddPos(at(o.Pos), "plugins[%s]: excluded_repos only applies to orgs", key)
			}
		}
	}
	for _, key := range sortedKeys(c.ExternalPlugins) {
		names := map[string]bool{}
		for _, ep := range c.ExternalPlugins[key] {
			if ep.Name == "" {
				errs.AddPos(filePos, "external_plugins[%s]: a plugin needs a name", key)
			}
			if names[ep.Name] {
				errs.AddPos(filePos, "external_plugins[%s]: %q is listed twice", key, ep.Name)
			}
			names[ep.Name] = true
			for _, e := range ep.Events {
				if !slices.Contains(Events, e) {
					errs.AddPos(filePos, "external_plugins[%s]: %s: unknown event %q", key, ep.Name, e)
				}
			}
		}
	}
	s := c.Size
	if !(s.S < s.M && s.M < s.L && s.L < s.Xl && s.Xl < s.Xxl) || s.S <= 0 {
		errs.AddPos(filePos, "size: thresholds must be positive and increasing (s < m < l < xl < xxl)")
	}
	if rc := c.Blunderbuss.ReviewerCount; rc != nil && *rc < 0 {
		errs.AddPos(filePos, "blunderbuss: request_count must not be negative")
	}
	if m := c.Blunderbuss.MaxReviewerCount; m < 0 {
		errs.AddPos(filePos, "blunderbuss: max_request_count must not be negative")
	}
	re := func(field, p string) {
		if _, err := regexp.Compile(p); err != nil {
			errs.AddPos(filePos, "%s: %v", field, err)
		}
	}
	for i, b := range c.Blockades {
		for _, p := range append(append([]string(nil), b.BlockRegexps...), b.ExceptionRegexps...) {
			re("blockades", p)
		}
		if b.BranchRegexp != nil {
			re("blockades.branchregexp", *b.BranchRegexp)
		}
		if len(b.Repos) == 0 {
			errs.AddPos(filePos, "blockades[%d]: repos is required", i)
		}
	}
	re("heart.commentregexp", c.Heart.CommentRegexp)
	re("sigmention.regexp", c.SigMention.Regexp)
	re("cherry_pick_unapproved.branchregexp", c.CherryPickUnapproved.BranchRegexp)
	for _, cp := range c.CherryPickApproved {
		re("cherry_pick_approved.branchregexp", cp.BranchRegexp)
	}
	for i, r := range c.RequireMatchingLabel {
		p := at(r.Pos)
		if r.Org == "" {
			errs.AddPos(p, "require_matching_label[%d]: org is required", i)
		}
		if r.Regexp == "" {
			errs.AddPos(p, "require_matching_label[%d]: regexp is required", i)
		} else if _, err := regexp.Compile(r.Regexp); err != nil {
			errs.AddPos(p, "require_matching_label[%d]: regexp: %v", i, err)
		}
		if !r.PRs && !r.Issues {
			errs.AddPos(p, "require_matching_label[%d]: applies to neither prs nor issues", i)
		}
		if r.Branch != "" && !r.PRs {
			errs.AddPos(p, "require_matching_label[%d]: branch only applies to prs", i)
		}
		if r.GracePeriod != "" {
			if _, err := time.ParseDuration(r.GracePeriod); err != nil {
				errs.AddPos(p, "require_matching_label[%d]: grace_period %q is not a duration", i, r.GracePeriod)
			}
		}
	}
	for _, name := range sortedKeys(c.ConfigUpdater.Maps) {
		m := c.ConfigUpdater.Maps[name]
		if m.Name == "" {
			errs.AddPos(filePos, "config_updater.maps[%s]: name is required", name)
		}
		for _, g := range m.ClusterGroups {
			if _, ok := c.ConfigUpdater.ClusterGroups[g]; !ok {
				errs.AddPos(filePos, "config_updater.maps[%s]: unknown cluster group %q", name, g)
			}
		}
	}
	for _, list := range []struct {
		name  string
		repos [][]string
	}{
		{"approve", reposOf(c.Approve, func(a Approve) []string { return a.Repos })},
		{"lgtm", reposOf(c.Lgtm, func(a Lgtm) []string { return a.Repos })},
		{"triggers", reposOf(c.Triggers, func(a Trigger) []string { return a.Repos })},
	} {
		seen := map[string]bool{}
		for i, repos := range list.repos {
			for _, r := range repos {
				if seen[r] {
					errs.AddPos(filePos, "%s[%d]: %s is configured twice", list.name, i, r)
				}
				seen[r] = true
			}
		}
	}
}

func reposOf[T any](list []T, f func(T) []string) [][]string {
	out := make([][]string, len(list))
	for i, x := range list {
		out[i] = f(x)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
