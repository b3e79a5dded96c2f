package merge

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// statusContext is the merge controller's own status context, Tide's name.
const statusContext = "tide"

// GitHub commit status states, lower case as the REST API spells them;
// check runs are converted to them.
const (
	stateSuccess = "success"
	statePending = "pending"
	stateFailure = "failure"
	stateError   = "error"
)

// Context is one status context on a pull request's head commit: a commit
// status or a check run.
type Context struct {
	Name        string
	State       string
	Description string
}

// contextPolicy says which status contexts a pull request needs to merge:
// Prow's Tide context policy, built from context_options (org, repo and
// branch levels merged), branch protection when from-branch-protection is
// set, and the branch's presubmits.
type contextPolicy struct {
	required          map[string]bool
	requiredIfPresent map[string]bool
	optional          map[string]bool
	// optionalRes make every context they match optional, even a
	// required one (optional-regex-contexts).
	optionalRes []*regexp.Regexp
	skipUnknown bool
	// overwritePending makes a batch merge set its members' pending job
	// contexts to success first (overwrite-pending-contexts).
	overwritePending bool
}

// mergedContextOptions is the context policy of a branch: the top level,
// then the org's, the repo's and the branch's, lists united and later
// booleans winning, as Prow merges them.
func mergedContextOptions(o prowconfig.TideContextPolicyOptions, org, repo, branch string) prowconfig.TideContextPolicy {
	p := o.TideContextPolicy
	if oo, ok := o.Orgs[org]; ok {
		p = mergeContextPolicy(p, oo.TideContextPolicy)
		if r, ok := oo.Repos[repo]; ok {
			p = mergeContextPolicy(p, r.TideContextPolicy)
			if b, ok := r.Branches[branch]; ok {
				p = mergeContextPolicy(p, b)
			}
		}
	}
	return p
}

func mergeContextPolicy(a, b prowconfig.TideContextPolicy) prowconfig.TideContextPolicy {
	pick := func(x, y *bool) *bool {
		if y != nil {
			return y
		}
		return x
	}
	join := func(x, y []string) []string {
		out := slices.Concat(x, y)
		sort.Strings(out)
		return slices.Compact(out)
	}
	return prowconfig.TideContextPolicy{
		RequiredContexts:          join(a.RequiredContexts, b.RequiredContexts),
		RequiredIfPresentContexts: join(a.RequiredIfPresentContexts, b.RequiredIfPresentContexts),
		OptionalContexts:          join(a.OptionalContexts, b.OptionalContexts),
		OptionalRegexContexts:     join(a.OptionalRegexContexts, b.OptionalRegexContexts),
		SkipUnknownContexts:       pick(a.SkipUnknownContexts, b.SkipUnknownContexts),
		FromBranchProtection:      pick(a.FromBranchProtection, b.FromBranchProtection),
		OverwritePendingContexts:  pick(a.OverwritePendingContexts, b.OverwritePendingContexts),
	}
}

// newContextPolicy builds the policy of a branch. protection holds the
// required contexts from branch protection (Prow's branch-protection
// section and, beyond Prow, the branch's protection on GitHub), used when
// from-branch-protection is set; requireManual is the branch protection's
// require_manually_triggered_jobs.
func newContextPolicy(opts prowconfig.TideContextPolicy, branch string, presubmits []jobs.Presubmit, protection []string, requireManual bool) *contextPolicy {
	p := &contextPolicy{
		required:          set(opts.RequiredContexts...),
		requiredIfPresent: set(opts.RequiredIfPresentContexts...),
		optional:          set(opts.OptionalContexts...),
		skipUnknown:       isTrue(opts.SkipUnknownContexts),
		overwritePending:  isTrue(opts.OverwritePendingContexts),
	}
	// The loader refused patterns that do not compile.
	for _, pattern := range opts.OptionalRegexContexts {
		if re, err := regexp.Compile(pattern); err == nil {
			p.optionalRes = append(p.optionalRes, re)
		}
	}
	if isTrue(opts.FromBranchProtection) {
		for _, c := range protection {
			p.required[c] = true
		}
	}
	for i := range presubmits {
		ps := &presubmits[i]
		if !ps.ShouldRun(branch) {
			continue
		}
		switch {
		case !contextRequired(ps):
			p.optional[ps.Context] = true
		case conditional(ps) || (needsExplicitTrigger(ps) && !requireManual):
			// Its context may rightly be absent from a pull request.
			p.requiredIfPresent[ps.Context] = true
		default:
			p.required[ps.Context] = true
		}
	}
	return p
}

// isOptional says whether a context may fail without keeping a pull
// request out of the pool.
func (p *contextPolicy) isOptional(c string) bool {
	switch {
	case p.optional[c], slices.ContainsFunc(p.optionalRes, func(re *regexp.Regexp) bool { return re.MatchString(c) }):
		return true
	case p.required[c], p.requiredIfPresent[c]:
		return false
	}
	return p.skipUnknown
}

// missingRequired lists, sorted, the required contexts absent from present.
func (p *contextPolicy) missingRequired(present map[string]bool) []string {
	var out []string
	for c := range p.required {
		if !present[c] {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// unsuccessful lists the contexts that keep a pull request from merging:
// those that are neither successful, optional nor Tide's own, and the
// required contexts that are missing (as pending: expected).
func (p *contextPolicy) unsuccessful(contexts []Context) []Context {
	var out []Context
	present := map[string]bool{}
	for _, c := range contexts {
		present[c.Name] = true
		if c.Name == statusContext || p.isOptional(c.Name) || c.State == stateSuccess {
			continue
		}
		out = append(out, c)
	}
	for _, name := range p.missingRequired(present) {
		out = append(out, Context{Name: name, State: "expected"})
	}
	return out
}

// contextRequired is Prow's ContextRequired: the job reports a status that
// is not optional.
func contextRequired(ps *jobs.Presubmit) bool { return !ps.Optional && !ps.SkipReport }

// conditional says whether a job runs only for some changed files.
func conditional(ps *jobs.Presubmit) bool {
	return ps.RunIfChanged != "" || ps.SkipIfOnlyChanged != ""
}

// needsExplicitTrigger says whether a job runs only when asked.
func needsExplicitTrigger(ps *jobs.Presubmit) bool { return !ps.AlwaysRun && !conditional(ps) }

// requiredPresubmits are the jobs the merge pool needs to pass for a set of
// changed files (one pull request's or a batch's): reporting, non-optional
// jobs that run for them, and run_before_merge jobs, which only the merge
// controller starts. Manual jobs count when branch protection requires
// them. The list is deduplicated by context.
func requiredPresubmits(presubmits []jobs.Presubmit, branch string, files []string, requireManual bool) []*jobs.Presubmit {
	var out []*jobs.Presubmit
	seen := map[string]bool{}
	for i := range presubmits {
		ps := &presubmits[i]
		if (!contextRequired(ps) && !ps.RunBeforeMerge) || !ps.ShouldRun(branch) || seen[ps.Context] {
			continue
		}
		run := ps.AlwaysRun || ps.RunBeforeMerge || (requireManual && contextRequired(ps) && needsExplicitTrigger(ps))
		if !run && conditional(ps) {
			run, _ = ps.RunsAgainstChanges(files)
		}
		if run {
			seen[ps.Context] = true
			out = append(out, ps)
		}
	}
	return out
}

// needsFiles says whether deciding which jobs a pull request needs takes
// its changed files.
func needsFiles(presubmits []jobs.Presubmit, branch string) bool {
	for i := range presubmits {
		ps := &presubmits[i]
		if ps.ShouldRun(branch) && (contextRequired(ps) || ps.RunBeforeMerge) && !ps.AlwaysRun && !ps.RunBeforeMerge && conditional(ps) {
			return true
		}
	}
	return false
}

// checkRunState turns a check run's status and conclusion into a commit
// status state, as Tide does: completed with success, neutral or skipped is
// success, any other conclusion failure, anything not completed pending.
func checkRunState(status, conclusion string) string {
	if !strings.EqualFold(status, "completed") {
		return statePending
	}
	switch strings.ToLower(conclusion) {
	case "success", "neutral", "skipped":
		return stateSuccess
	}
	return stateFailure
}

// betterState says whether a context state b beats a for a context that
// several check runs report: success over pending over failure.
func betterState(a, b string) bool {
	rank := func(s string) int {
		switch s {
		case stateSuccess:
			return 3
		case statePending:
			return 2
		case "":
			return 0
		}
		return 1
	}
	return rank(b) > rank(a)
}

func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, i := range items {
		m[i] = true
	}
	return m
}

func isTrue(b *bool) bool { return b != nil && *b }
