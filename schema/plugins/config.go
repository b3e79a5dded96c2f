package plugins

import (
	"fmt"
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
	"delete-spam-issue", "dog", "fixcommitmsg", "golint", "goose", "heart", "help", "hold", "invalidcommitmsg", "issue-management",
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

// InvalidCommitMsgFor is the invalidcommitmsg settings of a repo, or nil.
func (c *Config) InvalidCommitMsgFor(org, repo string) *InvalidCommitMsg {
	return forRepo(c.InvalidCommitMsg, func(a *InvalidCommitMsg) []string { return a.Repos }, org, repo)
}

// TriggerFor is the trigger settings of a repo, or nil.
func (c *Config) TriggerFor(org, repo string) *Trigger {
	return forRepo(c.Triggers, func(a *Trigger) []string { return a.Repos }, org, repo)
}

// Deprecated maps plugin names Prow still accepts but has replaced to
// their replacements; enabling one is a warning.
var Deprecated = map[string]string{
	"transfer-issue": "issue-management",
}

// SetFile records the file plugin entries were read from, for messages;
// the loader calls it for each plugins file before merging them.
func (c *Config) SetFile(file string) {
	for k, o := range c.Plugins {
		if o.Pos.File == "" {
			o.Pos.File = file
			c.Plugins[k] = o
		}
	}
}

// Validate runs Prow's checks and adds every problem to errs, at the value
// concerned. file names plugins.yaml for entries whose file is not known.
func (c *Config) Validate(file string, errs *yamlpos.Errors) {
	at := func(p yamlpos.Pos) yamlpos.Pos {
		if p.File == "" {
			p.File = file
		}
		return p
	}
	root := at(c.Pos)
	for _, key := range sortedKeys(c.Plugins) {
		o := c.Plugins[key]
		seen := map[string]bool{}
		for i, name := range o.Plugins {
			if !slices.Contains(Known, name) {
				errs.AddPos(at(o.PluginPos(i)), "plugins[%s]: unknown plugin %q", key, name)
			} else if repl, ok := Deprecated[name]; ok {
				errs.WarnAt(at(o.PluginPos(i)), "", "deprecated-plugin", "plugins[%s]: plugin %q is deprecated: Prow merged it into %q, which does what it did and more", key, name, repl)
			}
			if seen[name] {
				errs.WarnAt(at(o.PluginPos(i)), "", "duplicate-value", "plugins[%s]: plugin %q is listed twice", key, name)
			}
			seen[name] = true
		}
		if org, _, isRepo := strings.Cut(key, "/"); isRepo {
			if parent, ok := c.Plugins[org]; ok {
				for i, name := range o.Plugins {
					if slices.Contains(parent.Plugins, name) && !slices.Contains(parent.ExcludedRepos, strings.TrimPrefix(key, org+"/")) {
						errs.AddPos(at(o.PluginPos(i)), "plugins[%s]: plugin %q is already enabled for org %s", key, name, org)
					}
				}
			}
			if len(o.ExcludedRepos) > 0 {
				errs.WarnAt(at(o.Pos), yamlpos.At("excluded_repos"), "ignored-value", "plugins[%s]: excluded_repos only applies to orgs; here it does nothing", key)
			}
		}
	}
	for _, key := range sortedKeys(c.ExternalPlugins) {
		names := map[string]bool{}
		for i, ep := range c.ExternalPlugins[key] {
			p, item := at(ep.Pos), yamlpos.Path("")
			if ep.Pos.IsZero() {
				p, item = root, yamlpos.At("external_plugins", key).Index(i)
			}
			if ep.Name == "" {
				errs.WarnAt(p, item, "missing-value", "external_plugins[%s]: a plugin without a name is sent to %s", key, ep.Endpoint)
			}
			if names[ep.Name] {
				errs.WarnAt(p, item.Key("name"), "duplicate-value", "external_plugins[%s]: %q is listed twice", key, ep.Name)
			}
			names[ep.Name] = true
			if org, _, isRepo := strings.Cut(key, "/"); isRepo && slices.ContainsFunc(c.ExternalPlugins[org], func(o ExternalPlugin) bool { return o.Name == ep.Name }) {
				errs.AddAt(p, item.Key("name"), "external_plugins[%s]: %q is already enabled for org %s", key, ep.Name, org)
			}
			for j, e := range ep.Events {
				if !slices.Contains(Events, e) {
					errs.WarnAt(p, item.Key("events").Index(j), "unknown-value", "external_plugins[%s]: %s: unknown event %q: GitHub sends no such event", key, ep.Name, e)
				}
			}
		}
	}
	s := c.Size
	switch {
	case s.S > s.M || s.M > s.L || s.L > s.Xl || s.Xl > s.Xxl:
		errs.AddAt(root, yamlpos.At("size"), "size: thresholds must not decrease (s <= m <= l <= xl <= xxl), not %d, %d, %d, %d, %d", s.S, s.M, s.L, s.Xl, s.Xxl)
	case !(s.S < s.M && s.M < s.L && s.L < s.Xl && s.Xl < s.Xxl) || s.S <= 0:
		errs.WarnAt(root, yamlpos.At("size"), "out-of-range", "size: thresholds %d, %d, %d, %d, %d leave some size labels unused: they should be positive and increasing", s.S, s.M, s.L, s.Xl, s.Xxl)
	}
	if rc := c.Blunderbuss.ReviewerCount; rc != nil && *rc < 1 {
		errs.AddAt(root, yamlpos.At("blunderbuss", "request_count"), "blunderbuss: request_count must be positive, not %d", *rc)
	}
	if m := c.Blunderbuss.MaxReviewerCount; m < 0 {
		errs.WarnAt(root, yamlpos.At("blunderbuss", "max_request_count"), "out-of-range", "blunderbuss: max_request_count is %d: it should not be negative (0 is no cap)", m)
	}
	if w := c.Blunderbuss.WaitForStatus; w != nil {
		if _, err := regexp.Compile(w.Description); err != nil {
			errs.AddAt(root, yamlpos.At("blunderbuss", "wait_for_status", "description"), "blunderbuss.wait_for_status.description: %v", err)
		}
	}
	for _, k := range sortedKeys(c.Assign) {
		if a := c.Assign[k]; a != nil && a.Restrict != nil {
			if act := a.Restrict.Action; act != "" && act != AssignActionWarn && act != AssignActionBlock {
				errs.AddAt(root, yamlpos.At("assign", k, "restrict", "action"), "assign[%s].restrict.action must be %s or %s, not %q", k, AssignActionWarn, AssignActionBlock, act)
			}
		}
	}
	re := func(p yamlpos.Pos, path yamlpos.Path, field, pattern string) {
		if _, err := regexp.Compile(pattern); err != nil {
			errs.AddAt(p, path, "%s: %v", field, err)
		}
	}
	// Prow compiles a blockade's path patterns only when the plugin runs:
	// a bad one is accepted, and breaks the blockade.
	reWarn := func(p yamlpos.Pos, path yamlpos.Path, field, pattern string) {
		if _, err := regexp.Compile(pattern); err != nil {
			errs.WarnAt(p, path, "bad-pattern", "%s: %v: the blockade cannot apply", field, err)
		}
	}
	for i, b := range c.Blockades {
		p := at(b.Pos)
		for j, pat := range b.BlockRegexps {
			reWarn(p, yamlpos.At("blockregexps").Index(j), fmt.Sprintf("blockades[%d].blockregexps", i), pat)
		}
		for j, pat := range b.ExceptionRegexps {
			reWarn(p, yamlpos.At("exceptionregexps").Index(j), fmt.Sprintf("blockades[%d].exceptionregexps", i), pat)
		}
		if b.BranchRegexp != nil {
			re(p, yamlpos.At("branchregexp"), fmt.Sprintf("blockades[%d].branchregexp", i), *b.BranchRegexp)
		}
		if len(b.Repos) == 0 {
			errs.WarnAt(p, yamlpos.At("repos"), "missing-value", "blockades[%d]: without repos the blockade applies nowhere", i)
		}
	}
	re(root, yamlpos.At("heart", "commentregexp"), "heart.commentregexp", c.Heart.CommentRegexp)
	re(root, yamlpos.At("sigmention", "regexp"), "sigmention.regexp", c.SigMention.Regexp)
	re(root, yamlpos.At("cherry_pick_unapproved", "branchregexp"), "cherry_pick_unapproved.branchregexp", c.CherryPickUnapproved.BranchRegexp)
	for i, cp := range c.CherryPickApproved {
		re(root, yamlpos.At("cherry_pick_approved").Index(i).Key("branchregexp"), "cherry_pick_approved.branchregexp", cp.BranchRegexp)
	}
	for i, r := range c.RequireMatchingLabel {
		p := at(r.Pos)
		if r.Org == "" {
			errs.AddPos(p, "require_matching_label[%d]: org is required", i)
		}
		if strings.Contains(r.Repo, "/") {
			errs.AddAt(p, yamlpos.At("repo"), "require_matching_label[%d]: repo may not contain '/'; give the org in org", i)
		}
		if r.MissingLabel == "" {
			errs.AddPos(p, "require_matching_label[%d]: missing_label is required", i)
		}
		if r.Regexp == "" {
			errs.AddPos(p, "require_matching_label[%d]: regexp is required", i)
		} else if _, err := regexp.Compile(r.Regexp); err != nil {
			errs.AddAt(p, yamlpos.At("regexp"), "require_matching_label[%d]: regexp: %v", i, err)
		}
		if !r.PRs && !r.Issues {
			errs.AddPos(p, "require_matching_label[%d]: applies to neither prs nor issues", i)
		}
		if r.Branch != "" && !r.PRs {
			errs.AddAt(p, yamlpos.At("branch"), "require_matching_label[%d]: branch only applies to prs", i)
		}
		if r.GracePeriod != "" {
			if _, err := time.ParseDuration(r.GracePeriod); err != nil {
				errs.AddAt(p, yamlpos.At("grace_period"), "require_matching_label[%d]: grace_period %q is not a duration", i, r.GracePeriod)
			}
		}
	}
	for i, e := range c.InvalidCommitMsg {
		for j, ch := range e.Checks {
			if ch.Name != CheckIssueClosingKeywords && ch.Name != CheckFixupPrefix {
				errs.AddAt(root, yamlpos.At("invalid_commit_msg").Index(i).Key("checks").Index(j).Key("name"),
					"invalid_commit_msg[%d]: unknown check %q (known: %s, %s)", i, ch.Name, CheckIssueClosingKeywords, CheckFixupPrefix)
			}
		}
	}
	for _, name := range sortedKeys(c.ConfigUpdater.Maps) {
		m := c.ConfigUpdater.Maps[name]
		at := yamlpos.At("config_updater", "maps", name)
		switch {
		case m.Name == "" && len(m.PartitionedNames) == 0:
			errs.AddAt(root, at, "config_updater.maps[%s]: name (or partitioned_names) is required", name)
		case m.Name != "" && len(m.PartitionedNames) > 0:
			errs.AddAt(root, at.Key("partitioned_names"), "config_updater.maps[%s]: name and partitioned_names are mutually exclusive", name)
		case len(m.PartitionedNames) > 256:
			errs.AddAt(root, at.Key("partitioned_names"), "config_updater.maps[%s]: at most 256 partitioned_names, not %d", name, len(m.PartitionedNames))
		}
		if len(m.ClusterGroups) > 0 && len(m.Clusters) > 0 {
			errs.AddAt(root, at.Key("cluster_groups"), "config_updater.maps[%s]: clusters and cluster_groups are mutually exclusive", name)
		}
		for i, g := range m.ClusterGroups {
			if _, ok := c.ConfigUpdater.ClusterGroups[g]; !ok {
				errs.AddAt(root, at.Key("cluster_groups").Index(i), "config_updater.maps[%s]: unknown cluster group %q", name, g)
			}
		}
	}
	type entry struct {
		pos   yamlpos.Pos
		repos []string
	}
	// Prow refuses a repository configured twice for approve and welcome;
	// for lgtm and triggers it takes the first entry.
	for _, list := range []struct {
		name    string
		refuse  bool
		entries []entry
	}{
		{"approve", true, entries(c.Approve, func(a Approve) entry { return entry{a.Pos, a.Repos} })},
		{"welcome", true, entries(c.Welcome, func(a Welcome) entry { return entry{a.Pos, a.Repos} })},
		{"lgtm", false, entries(c.Lgtm, func(a Lgtm) entry { return entry{a.Pos, a.Repos} })},
		{"triggers", false, entries(c.Triggers, func(a Trigger) entry { return entry{a.Pos, a.Repos} })},
	} {
		seen := map[string]bool{}
		for i, e := range list.entries {
			for j, r := range e.repos {
				switch {
				case seen[r] && list.refuse:
					errs.AddAt(at(e.pos), yamlpos.At("repos").Index(j), "%s[%d]: %s is configured twice", list.name, i, r)
				case seen[r]:
					errs.WarnAt(at(e.pos), yamlpos.At("repos").Index(j), "duplicate-value", "%s[%d]: %s is configured twice; the first entry applies", list.name, i, r)
				}
				seen[r] = true
			}
		}
	}
}

func entries[T, E any](list []T, f func(T) E) []E {
	out := make([]E, len(list))
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
