package prowconfig

import (
	"net/url"
	"regexp"
	"regexp/syntax"
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
	// mergeBlocksPolicies are tide.github_merge_blocks_policy's values.
	mergeBlocksPolicies = []string{"ignore", "permit", "block"}
)

// validate checks that optional-regex-contexts compile, at every level.
func (o *TideContextPolicyOptions) validate(p yamlpos.Pos, errs *yamlpos.Errors) {
	check := func(at yamlpos.Path, where string, cp TideContextPolicy) {
		for i, pattern := range cp.OptionalRegexContexts {
			if _, err := regexp.Compile(pattern); err != nil {
				errs.AddAt(p, at.Key("optional-regex-contexts").Index(i), "tide.context_options%s: optional-regex-contexts: %v", where, err)
			}
		}
	}
	base := yamlpos.At("context_options")
	check(base, "", o.TideContextPolicy)
	for _, org := range sortedKeys(o.Orgs) {
		oo := o.Orgs[org]
		check(base.Key("orgs").Key(org), ".orgs."+org, oo.TideContextPolicy)
		for _, repo := range sortedKeys(oo.Repos) {
			r := oo.Repos[repo]
			check(base.Key("orgs").Key(org).Key("repos").Key(repo), ".orgs."+org+".repos."+repo, r.TideContextPolicy)
			for _, b := range sortedKeys(r.Branches) {
				check(base.Key("orgs").Key(org).Key("repos").Key(repo).Key("branches").Key(b), ".orgs."+org+".repos."+repo+".branches."+b, r.Branches[b])
			}
		}
	}
}

// Validate runs Prow's checks on a defaulted config and adds every problem to
// errs. Positions point at the section concerned.
func (c *Config) Validate(errs *yamlpos.Errors) {
	if !slices.Contains(logLevels, c.LogLevel) {
		errs.AddAt(c.Pos, yamlpos.At("log_level"), "log_level must be one of %s, not %q", strings.Join(logLevels, ", "), c.LogLevel)
	}
	c.validatePlank(errs)
	c.validateSinker(errs)
	c.validateTide(errs)
	c.validateDeck(errs)
	c.BranchProtection.validate(errs)
	for i, t := range c.GitHubReporter.JobTypesToReport {
		if !slices.Contains(jobTypes, t) {
			errs.AddAt(c.Pos, yamlpos.At("github_reporter", "job_types_to_report").Index(i), "github_reporter: unknown job type %q", t)
		}
	}
	for _, k := range sortedKeys(c.SlackReporterConfigs) {
		s := c.SlackReporterConfigs[k]
		if s.Channel == "" {
			errs.AddAt(s.Pos, yamlpos.At("channel"), "slack_reporter_configs[%s]: channel must be set", k)
		}
		reporterTypesAndStates(errs, s.Pos, "slack_reporter_configs["+k+"]", s.JobTypesToReport, s.JobStatesToReport)
		checkTemplate(errs, s.Pos, yamlpos.At("report_template"), "slack_reporter_configs["+k+"].report_template", s.ReportTemplate)
	}
	for _, k := range sortedKeys(c.DingTalkReporterConfigs) {
		d := c.DingTalkReporterConfigs[k]
		reporterTypesAndStates(errs, d.Pos, "dingtalk_reporter_configs["+k+"]", d.JobTypesToReport, d.JobStatesToReport)
		checkTemplate(errs, d.Pos, yamlpos.At("report_template"), "dingtalk_reporter_configs["+k+"].report_template", d.ReportTemplate)
	}
}

// reporterTypesAndStates warns about job types and states a reporter
// config names that no job has: Prow takes any string, and such an entry
// never matches.
func reporterTypesAndStates(errs *yamlpos.Errors, p yamlpos.Pos, where string, types, states []string) {
	for i, t := range types {
		if !slices.Contains(jobTypes, t) {
			errs.WarnAt(p, yamlpos.At("job_types_to_report").Index(i), "unknown-value", "%s: unknown job type %q: no job will match it", where, t)
		}
	}
	for i, st := range states {
		if !slices.Contains(jobStates, st) {
			errs.WarnAt(p, yamlpos.At("job_states_to_report").Index(i), "unknown-value", "%s: unknown job state %q: no run will match it", where, st)
		}
	}
}

func checkTemplate(errs *yamlpos.Errors, p yamlpos.Pos, at yamlpos.Path, field, text string) {
	if text == "" {
		return
	}
	if _, err := template.New(field).Parse(text); err != nil {
		errs.AddAt(p, at, "%s: %v", field, err)
	}
}

func (c *Config) validatePlank(errs *yamlpos.Errors) {
	p := &c.Plank
	if len(p.DefaultDecorationConfigs) > 0 && len(p.DefaultDecorationConfigEntries) > 0 &&
		!sameEntries(p.DefaultDecorationConfigEntries, entriesFromMap(p.DefaultDecorationConfigs)) {
		errs.AddAt(p.Pos, yamlpos.At("default_decoration_config_entries"), "plank: default_decoration_configs and default_decoration_config_entries are mutually exclusive")
	}
	checkTemplate(errs, p.Pos, yamlpos.At("job_url_template"), "plank.job_url_template", p.JobURLTemplate)
	checkTemplate(errs, p.Pos, yamlpos.At("report_template"), "plank.report_template", p.ReportTemplate)
	for _, k := range sortedKeys(p.ReportTemplates) {
		checkTemplate(errs, p.Pos, yamlpos.At("report_templates", k), "plank.report_templates["+k+"]", p.ReportTemplates[k])
	}
	for _, k := range sortedKeys(p.JobURLPrefixConfig) {
		if _, err := url.Parse(p.JobURLPrefixConfig[k]); err != nil {
			errs.AddAt(p.Pos, yamlpos.At("job_url_prefix_config", k), "plank.job_url_prefix_config[%s]: %v", k, err)
		}
	}
	if p.ReportTemplate != "" && len(p.ReportTemplates) > 0 {
		errs.AddAt(p.Pos, yamlpos.At("report_templates"), "plank: report_template and report_templates are mutually exclusive")
	}
	if p.MaxConcurrency < 0 {
		errs.AddAt(p.Pos, yamlpos.At("max_concurrency"), "plank.max_concurrency must not be negative, not %d", p.MaxConcurrency)
	}
	if p.MaxGoroutines < 0 {
		errs.AddAt(p.Pos, yamlpos.At("max_goroutines"), "plank.max_goroutines must not be negative, not %d", p.MaxGoroutines)
	}
	// Prow takes these as they are; a timeout of zero or less, or a
	// negative number of revivals, is almost certainly a mistake.
	for _, name := range []struct {
		field string
		d     *jobs.Duration
	}{{"pod_pending_timeout", p.PodPendingTimeout}, {"pod_running_timeout", p.PodRunningTimeout}, {"pod_unscheduled_timeout", p.PodUnscheduledTimeout}} {
		if name.d != nil && name.d.Duration <= 0 {
			errs.WarnAt(p.Pos, yamlpos.At(name.field), "out-of-range", "plank.%s is %s: a timeout should be positive", name.field, name.d.Duration)
		}
	}
	if p.MaxRevivals != nil && *p.MaxRevivals < 0 {
		errs.WarnAt(p.Pos, yamlpos.At("max_revivals"), "out-of-range", "plank.max_revivals is %d: it should not be negative (0 revives no pod)", *p.MaxRevivals)
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
		errs.WarnAt(s.Pos, yamlpos.At("terminated_pod_ttl"), "out-of-range", "sinker.terminated_pod_ttl (%s) exceeds max_pod_age (%s), which removes pods first", s.TerminatedPodTTL.Duration, s.MaxPodAge.Duration)
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
		for j, r := range q.Repos {
			if strings.Count(r, "/") != 1 {
				errs.AddAt(p, yamlpos.At("repos").Index(j), "tide.queries[%d]: repo %q is not org/repo", i, r)
			}
		}
		if len(q.ExcludedRepos) > 0 && len(q.Orgs) == 0 {
			errs.AddAt(p, yamlpos.At("excludedRepos"), "tide.queries[%d]: excludedRepos needs orgs", i)
		}
		if len(q.IncludedBranches) > 0 && len(q.ExcludedBranches) > 0 {
			errs.AddAt(p, yamlpos.At("excludedBranches"), "tide.queries[%d]: includedBranches and excludedBranches are mutually exclusive", i)
		}
		for _, l := range q.Labels {
			if j := slices.Index(q.MissingLabels, l); j >= 0 {
				errs.AddAt(p, yamlpos.At("missingLabels").Index(j), "tide.queries[%d]: label %q is both required and forbidden", i, l)
			}
		}
	}
	method := func(at yamlpos.Path, where, m string) {
		if !slices.Contains(mergeMethods, m) {
			errs.AddAt(t.Pos, at, "tide.merge_method[%s]: must be one of %s, not %q", where, strings.Join(mergeMethods, ", "), m)
		}
	}
	for _, k := range sortedKeys(t.MergeType) {
		v := t.MergeType[k]
		if v.Repos == nil {
			method(yamlpos.At("merge_method", k), k, v.Method)
			continue
		}
		for _, r := range sortedKeys(v.Repos) {
			rm := v.Repos[r]
			if rm.Branches == nil {
				method(yamlpos.At("merge_method", k, r), k+"/"+r, rm.Method)
				continue
			}
			for _, b := range sortedKeys(rm.Branches) {
				at := yamlpos.At("merge_method", k, r, b)
				if _, err := regexp.Compile(b); err != nil {
					errs.AddAt(t.Pos, yamlpos.At("merge_method", k, r).Name(b), "tide.merge_method[%s/%s]: branch pattern: %v", k, r, err)
				}
				method(at, k+"/"+r+"@"+b, rm.Branches[b])
			}
		}
	}
	for _, k := range sortedKeys(t.MergeTemplate) {
		checkTemplate(errs, t.Pos, yamlpos.At("merge_commit_template", k, "title"), "tide.merge_commit_template["+k+"].title", t.MergeTemplate[k].Title)
		checkTemplate(errs, t.Pos, yamlpos.At("merge_commit_template", k, "body"), "tide.merge_commit_template["+k+"].body", t.MergeTemplate[k].Body)
	}
	for _, k := range sortedKeys(t.BatchSizeLimitMap) {
		if t.BatchSizeLimitMap[k] < -1 {
			errs.WarnAt(t.Pos, yamlpos.At("batch_size_limit", k), "out-of-range", "tide.batch_size_limit[%s] is %d: -1 turns batches off, 0 leaves them unlimited; any negative number turns them off", k, t.BatchSizeLimitMap[k])
		}
	}
	if t.TargetURL != "" && len(t.TargetURLs) > 0 {
		errs.AddAt(t.Pos, yamlpos.At("target_urls"), "tide: target_url and target_urls are mutually exclusive")
	}
	if t.PRStatusBaseURL != "" && len(t.PRStatusBaseURLs) > 0 {
		errs.AddAt(t.Pos, yamlpos.At("pr_status_base_urls"), "tide: pr_status_base_url and pr_status_base_urls are mutually exclusive")
	}
	if t.SyncPeriod != nil && t.SyncPeriod.Duration <= 0 {
		errs.WarnAt(t.Pos, yamlpos.At("sync_period"), "out-of-range", "tide.sync_period is %s: it should be positive", t.SyncPeriod.Duration)
	}
	if t.MaxGoroutines < 0 {
		errs.AddAt(t.Pos, yamlpos.At("max_goroutines"), "tide.max_goroutines must not be negative, not %d", t.MaxGoroutines)
	}
	for _, k := range sortedKeys(t.GitHubMergeBlocksPolicyMap) {
		if v := t.GitHubMergeBlocksPolicyMap[k]; !slices.Contains(mergeBlocksPolicies, v) {
			errs.WarnAt(t.Pos, yamlpos.At("github_merge_blocks_policy", k), "unknown-value", "tide.github_merge_blocks_policy[%s]: unknown policy %q (%s)", k, v, strings.Join(mergeBlocksPolicies, ", "))
		}
	}
	t.ContextOptions.validate(t.Pos, errs)
	t.Bowline.validate(t, errs)
}

func (b *TideBowline) validate(t *Tide, errs *yamlpos.Errors) {
	p := b.Pos
	if p.IsZero() {
		p = t.Pos
	}
	if d := b.SpeculativeDepth; d != nil && (*d < 0 || *d > MaxSpeculativeDepth) {
		errs.AddPos(p, "tide.bowline.speculative_depth must be between 0 and %d, not %d", MaxSpeculativeDepth, *d)
	}
	if r := b.FullResyncPeriod; r != nil {
		switch {
		case r.Duration <= 0:
			errs.AddPos(p, "tide.bowline.full_resync_period must be positive")
		case t.SyncPeriod != nil && r.Duration < t.SyncPeriod.Duration:
			errs.AddPos(p, "tide.bowline.full_resync_period (%s) must not be shorter than tide.sync_period (%s)", r, t.SyncPeriod)
		}
	}
}

func (c *Config) validateDeck(errs *yamlpos.Errors) {
	d := &c.Deck
	if len(d.RerunAuthConfigs) > 0 && len(d.DefaultRerunAuthConfigs) > 0 {
		errs.AddAt(d.Pos, yamlpos.At("default_rerun_auth_configs"), "deck: rerun_auth_configs and default_rerun_auth_configs are mutually exclusive")
	}
	for _, k := range sortedKeys(d.RerunAuthConfigs) {
		r := d.RerunAuthConfigs[k]
		if r.AllowAnyone && (len(r.GitHubUsers) > 0 || len(r.GitHubTeamIDs) > 0 || len(r.GitHubTeamSlugs) > 0 || len(r.GitHubOrgs) > 0) {
			errs.AddAt(d.Pos, yamlpos.At("rerun_auth_configs", k, "allow_anyone"), "deck.rerun_auth_configs[%s]: allow_anyone cannot be combined with an allowlist", k)
		}
	}
	for i, l := range d.Spyglass.Lenses {
		at := yamlpos.At("spyglass", "lenses").Index(i)
		if l.Lens.Name == "" {
			errs.WarnAt(d.Pos, at.Key("lens"), "missing-value", "deck.spyglass.lenses[%d]: lens.name is not set: the lens shows nothing", i)
		}
		for _, f := range []struct {
			field string
			list  []string
		}{{"required_files", l.RequiredFiles}, {"optional_files", l.OptionalFiles}} {
			for j, pat := range f.list {
				if _, err := regexp.Compile(pat); err != nil {
					errs.AddAt(d.Pos, at.Key(f.field).Index(j), "deck.spyglass.lenses[%d].%s: %v", i, f.field, err)
				}
			}
		}
	}
	if d.Spyglass.SizeLimit < 0 {
		errs.AddAt(d.Pos, yamlpos.At("spyglass", "size_limit"), "deck.spyglass.size_limit must not be negative")
	}
}

func (bp *BranchProtection) validate(errs *yamlpos.Errors) {
	// include and exclude lists add up from the top level down, so an
	// overlap can come from two levels; it is reported where the include
	// that it empties is written.
	check := func(where string, p Policy, inherited Policy) {
		for _, l := range []struct {
			field    string
			patterns []string
		}{{"include", p.Include}, {"exclude", p.Exclude}} {
			for i, r := range l.patterns {
				if _, err := regexp.Compile(r); err != nil {
					errs.AddAt(p.Pos, yamlpos.At(l.field).Index(i), "branch-protection%s: %s: %v", where, l.field, err)
				}
			}
		}
		excludes := union(inherited.Exclude, p.Exclude)
		for i, inc := range p.Include {
			if ex, ok := shadowed(inc, excludes); ok {
				errs.WarnAt(p.Pos, yamlpos.At("include").Index(i), "include-excluded",
					"branch-protection%s: include %q protects nothing: every branch it matches is excluded by %q (a branch must match include and not match exclude)", where, inc, ex)
			}
		}
		if rv := p.RequiredPullRequestReviews; rv != nil && rv.Approvals != nil && (*rv.Approvals < 0 || *rv.Approvals > 6) {
			errs.WarnAt(p.Pos, yamlpos.At("required_pull_request_reviews", "required_approving_review_count"), "out-of-range", "branch-protection%s: required_approving_review_count is %d: GitHub takes 0 to 6 and will refuse it", where, *rv.Approvals)
		}
		if p.Protect != nil && !*p.Protect && !isTrue(bp.AllowDisabledPolicies) &&
			(p.RequiredStatusChecks != nil || p.Restrictions != nil || p.RequiredPullRequestReviews != nil || p.Admins != nil) {
			errs.AddAt(p.Pos, yamlpos.At("protect"), "branch-protection%s: protect is false but the policy has settings (set allow_disabled_policies to allow this)", where)
		}
	}
	check("", bp.Policy, Policy{})
	for _, o := range sortedKeys(bp.Orgs) {
		org := bp.Orgs[o]
		check(".orgs."+o, org.Policy, bp.Policy)
		orgPolicy := bp.Policy.Apply(org.Policy)
		for _, r := range sortedKeys(org.Repos) {
			repo := org.Repos[r]
			check(".orgs."+o+".repos."+r, repo.Policy, orgPolicy)
			repoPolicy := orgPolicy.Apply(repo.Policy)
			for _, b := range sortedKeys(repo.Branches) {
				check(".orgs."+o+".repos."+r+".branches."+b, repo.Branches[b].Policy, repoPolicy)
			}
		}
	}
}

// shadowed reports an exclude pattern that excludes every branch an include
// pattern matches: the same pattern, or one that matches every branch name
// (it matches the empty string and asserts nothing about where).
func shadowed(include string, excludes []string) (string, bool) {
	for _, ex := range excludes {
		if ex == include || matchesEverything(ex) {
			return ex, true
		}
	}
	return "", false
}

func matchesEverything(pattern string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil || hasAssertion(re) {
		return false
	}
	compiled, err := regexp.Compile(pattern)
	return err == nil && compiled.MatchString("")
}

func hasAssertion(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if hasAssertion(s) {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
