package prowconfig

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

var (
	logLevels    = []string{"trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"}
	jobTypes     = []string{jobs.TypePresubmit, jobs.TypePostsubmit, jobs.TypePeriodic, jobs.TypeBatch}
	jobStates    = []string{"triggered", "pending", "success", "failure", "aborted", "error"}
	mergeMethods = []string{"merge", "squash", "rebase", "ifNecessary"}
)

// Validate runs Prow's checks on a defaulted config and adds every problem to
// errs. Positions point at the section concerned.
func (c *Config) Validate(errs *yamlpos.Errors) {
	if !slices.Contains(logLevels, c.LogLevel) {
		errs.AddPos(c.Pos, "log_level must be one of %s, not %q", strings.Join(logLevels, ", "), c.LogLevel)
	}
	c.validatePlank(errs)
	c.validateSinker(errs)
	c.validateTide(errs)
	c.validateDeck(errs)
	c.BranchProtection.validate(errs)
	for _, t := range c.GitHubReporter.JobTypesToReport {
		if !slices.Contains(jobTypes, t) {
			errs.AddPos(c.Pos, "github_reporter: unknown job type %q", t)
		}
	}
	for _, k := range sortedKeys(c.SlackReporterConfigs) {
		s := c.SlackReporterConfigs[k]
		for _, t := range s.JobTypesToReport {
			if !slices.Contains(jobTypes, t) {
				errs.AddPos(s.Pos, "slack_reporter_configs[%s]: unknown job type %q", k, t)
			}
		}
		for _, st := range s.JobStatesToReport {
			if !slices.Contains(jobStates, st) {
				errs.AddPos(s.Pos, "slack_reporter_configs[%s]: unknown job state %q", k, st)
			}
		}
		checkTemplate(errs, s.Pos, "slack_reporter_configs["+k+"].report_template", s.ReportTemplate)
	}
}

func checkTemplate(errs *yamlpos.Errors, p yamlpos.Pos, field, text string) {
	if text == "" {
		return
	}
	if _, err := template.New(field).Parse(text); err != nil {
		errs.AddPos(p, "%s: %v", field, err)
	}
}

func (c *Config) validatePlank(errs *yamlpos.Errors) {
	p := &c.Plank
	if len(p.DefaultDecorationConfigs) > 0 && len(p.DefaultDecorationConfigEntries) > 0 &&
		!sameEntries(p.DefaultDecorationConfigEntries, entriesFromMap(p.DefaultDecorationConfigs)) {
		errs.AddPos(p.Pos, "plank: default_decoration_configs and default_decoration_config_entries are mutually exclusive")
	}
	checkTemplate(errs, p.Pos, "plank.job_url_template", p.JobURLTemplate)
	checkTemplate(errs, p.Pos, "plank.report_template", p.ReportTemplate)
	for _, k := range sortedKeys(p.ReportTemplates) {
		checkTemplate(errs, p.Pos, "plank.report_templates["+k+"]", p.ReportTemplates[k])
	}
	for _, k := range sortedKeys(p.JobURLPrefixConfig) {
		if _, err := url.Parse(p.JobURLPrefixConfig[k]); err != nil {
			errs.AddPos(p.Pos, "plank.job_url_prefix_config[%s]: %v", k, err)
		}
	}
	for _, name := range []struct {
		field string
		d     *jobs.Duration
	}{{"pod_pending_timeout", p.PodPendingTimeout}, {"pod_running_timeout", p.PodRunningTimeout}, {"pod_unscheduled_timeout", p.PodUnscheduledTimeout}} {
		if name.d != nil && name.d.Duration <= 0 {
			errs.AddPos(p.Pos, "plank.%s must be positive", name.field)
		}
	}
	if p.MaxRevivals != nil && *p.MaxRevivals < 0 {
		errs.AddPos(p.Pos, "plank.max_revivals must not be negative")
	}
}

func sameEntries(a, b []DecorationConfigEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].OrgRepo != b[i].OrgRepo || a[i].Config != b[i].Config {
			return false
		}
	}
	return true
}

func (c *Config) validateSinker(errs *yamlpos.Errors) {
	s := &c.Sinker
	if s.TerminatedPodTTL != nil && s.MaxPodAge != nil && s.TerminatedPodTTL.Duration > s.MaxPodAge.Duration {
		errs.AddPos(s.Pos, "sinker.terminated_pod_ttl (%s) must not exceed max_pod_age (%s)", s.TerminatedPodTTL, s.MaxPodAge)
	}
}

func (c *Config) validateTide(errs *yamlpos.Errors) {
	t := &c.Tide
	for i := range t.Queries {
		q := &t.Queries[i]
		p := q.Pos
		if p.IsZero() {
			p = t.Pos
		}
		if len(q.Orgs) == 0 && len(q.Repos) == 0 {
			errs.AddPos(p, "tide.queries[%d]: needs orgs or repos", i)
		}
		for _, r := range q.Repos {
			if strings.Count(r, "/") != 1 {
				errs.AddPos(p, "tide.queries[%d]: repo %q is not org/repo", i, r)
			}
		}
		if len(q.ExcludedRepos) > 0 && len(q.Orgs) == 0 {
			errs.AddPos(p, "tide.queries[%d]: excludedRepos needs orgs", i)
		}
		if len(q.IncludedBranches) > 0 && len(q.ExcludedBranches) > 0 {
			errs.AddPos(p, "tide.queries[%d]: includedBranches and excludedBranches are mutually exclusive", i)
		}
		for _, l := range q.Labels {
			if slices.Contains(q.MissingLabels, l) {
				errs.AddPos(p, "tide.queries[%d]: label %q is both required and forbidden", i, l)
			}
		}
	}
	for _, k := range sortedKeys(t.MergeType) {
		if !slices.Contains(mergeMethods, t.MergeType[k]) {
			errs.AddPos(t.Pos, "tide.merge_method[%s]: must be one of %s, not %q", k, strings.Join(mergeMethods, ", "), t.MergeType[k])
		}
	}
	for _, k := range sortedKeys(t.MergeTemplate) {
		checkTemplate(errs, t.Pos, "tide.merge_commit_template["+k+"].title", t.MergeTemplate[k].Title)
		checkTemplate(errs, t.Pos, "tide.merge_commit_template["+k+"].body", t.MergeTemplate[k].Body)
	}
	for _, k := range sortedKeys(t.BatchSizeLimitMap) {
		if t.BatchSizeLimitMap[k] < -1 {
			errs.AddPos(t.Pos, "tide.batch_size_limit[%s]: must be -1 (no batches), 0 (unlimited) or more", k)
		}
	}
	if t.TargetURL != "" && len(t.TargetURLs) > 0 {
		errs.AddPos(t.Pos, "tide: target_url and target_urls are mutually exclusive")
	}
	if t.PRStatusBaseURL != "" && len(t.PRStatusBaseURLs) > 0 {
		errs.AddPos(t.Pos, "tide: pr_status_base_url and pr_status_base_urls are mutually exclusive")
	}
	if t.SyncPeriod != nil && t.SyncPeriod.Duration <= 0 {
		errs.AddPos(t.Pos, "tide.sync_period must be positive")
	}
}

func (c *Config) validateDeck(errs *yamlpos.Errors) {
	d := &c.Deck
	if len(d.RerunAuthConfigs) > 0 && len(d.DefaultRerunAuthConfigs) > 0 {
		errs.AddPos(d.Pos, "deck: rerun_auth_configs and default_rerun_auth_configs are mutually exclusive")
	}
	for _, k := range sortedKeys(d.RerunAuthConfigs) {
		r := d.RerunAuthConfigs[k]
		if r.AllowAnyone && (len(r.GitHubUsers) > 0 || len(r.GitHubTeamIDs) > 0 || len(r.GitHubTeamSlugs) > 0 || len(r.GitHubOrgs) > 0) {
			errs.AddPos(d.Pos, "deck.rerun_auth_configs[%s]: allow_anyone cannot be combined with an allowlist", k)
		}
	}
	for i, l := range d.Spyglass.Lenses {
		if l.Lens.Name == "" {
			errs.AddPos(d.Pos, "deck.spyglass.lenses[%d]: lens.name is required", i)
		}
		for _, f := range append(append([]string(nil), l.RequiredFiles...), l.OptionalFiles...) {
			if _, err := regexp.Compile(f); err != nil {
				errs.AddPos(d.Pos, "deck.spyglass.lenses[%d]: file pattern %q: %v", i, f, err)
			}
		}
	}
	if d.Spyglass.SizeLimit < 0 {
		errs.AddPos(d.Pos, "deck.spyglass.size_limit must not be negative")
	}
}

func (bp *BranchProtection) validate(errs *yamlpos.Errors) {
	check := func(where string, p Policy) {
		if len(p.Include) > 0 && len(p.Exclude) > 0 {
			errs.AddPos(p.Pos, "branch-protection%s: include and exclude are mutually exclusive", where)
		}
		for _, r := range append(append([]string(nil), p.Include...), p.Exclude...) {
			if _, err := regexp.Compile(r); err != nil {
				errs.AddPos(p.Pos, "branch-protection%s: branch pattern %q: %v", where, r, err)
			}
		}
		if rv := p.RequiredPullRequestReviews; rv != nil && rv.Approvals != nil && (*rv.Approvals < 0 || *rv.Approvals > 6) {
			errs.AddPos(p.Pos, "branch-protection%s: required_approving_review_count must be between 0 and 6", where)
		}
		if p.Protect != nil && !*p.Protect && !isTrue(bp.AllowDisabledPolicies) &&
			(p.RequiredStatusChecks != nil || p.Restrictions != nil || p.RequiredPullRequestReviews != nil || p.Admins != nil) {
			errs.AddPos(p.Pos, "branch-protection%s: protect is false but the policy has settings (set allow_disabled_policies to allow this)", where)
		}
	}
	check("", bp.Policy)
	for _, o := range sortedKeys(bp.Orgs) {
		org := bp.Orgs[o]
		check(".orgs."+o, org.Policy)
		for _, r := range sortedKeys(org.Repos) {
			repo := org.Repos[r]
			check(".orgs."+o+".repos."+r, repo.Policy)
			for _, b := range sortedKeys(repo.Branches) {
				check(".orgs."+o+".repos."+r+".branches."+b, repo.Branches[b].Policy)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
