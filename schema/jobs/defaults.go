package jobs

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Job types, as in a ProwJob's spec.type.
const (
	TypePresubmit  = "presubmit"
	TypePostsubmit = "postsubmit"
	TypePeriodic   = "periodic"
	TypeBatch      = "batch"
)

// Agents that run jobs.
const (
	AgentKubernetes = "kubernetes"
	AgentJenkins    = "jenkins"
	AgentTekton     = "tekton-pipeline"
)

// DefaultCluster is the build cluster of jobs that name none.
const DefaultCluster = "default"

// Defaults are the settings from config.yaml that job defaults depend on.
type Defaults struct {
	// PodNamespace is the namespace of pods of jobs that name none.
	PodNamespace string
	// Decoration returns the default decoration for a job of an "org/repo"
	// (empty for periodics without extra_refs) on a cluster; nil for none.
	Decoration func(repo, cluster string) *DecorationConfig
	// ProwJobDefault returns the ProwJob defaults for a repo and cluster.
	ProwJobDefault func(repo, cluster string) *ProwJobDefault
}

// DefaultTriggerFor is the trigger of a presubmit that sets none: a
// "/test <name>" line, possibly listing other jobs too.
func DefaultTriggerFor(name string) string {
	return `(?m)^/test (?:.*? )?` + regexp.QuoteMeta(name) + `(?: .*?)?$`
}

// DefaultRerunCommandFor is the rerun command of a presubmit that sets none.
func DefaultRerunCommandFor(name string) string { return "/test " + name }

// SetDefaults fills in Prow's defaults on every job: agent, cluster,
// namespace, status context, trigger and rerun command, decoration merged
// from plank's defaults, and ProwJob defaults.
func (c *Config) SetDefaults(d Defaults) {
	for repo, list := range c.Presubmits {
		for i := range list {
			p := &list[i]
			c.defaultBase(&p.JobBase, repo, d)
			if p.Context == "" {
				p.Context = p.Name
			}
			if p.Trigger == "" && p.RerunCommand == "" {
				p.Trigger = DefaultTriggerFor(p.Name)
				p.RerunCommand = DefaultRerunCommandFor(p.Name)
			}
		}
	}
	for repo, list := range c.Postsubmits {
		for i := range list {
			p := &list[i]
			c.defaultBase(&p.JobBase, repo, d)
			if p.Context == "" {
				p.Context = p.Name
			}
		}
	}
	for i := range c.Periodics {
		p := &c.Periodics[i]
		c.defaultBase(&p.JobBase, p.Repo(), d)
	}
}

// EachJob calls fn with the type and base of every job: presubmits and
// postsubmits by repository, in sorted order, then periodics.
func (c *Config) EachJob(fn func(kind string, j *JobBase)) {
	for _, repo := range sortedKeys(c.Presubmits) {
		for i := range c.Presubmits[repo] {
			fn(TypePresubmit, &c.Presubmits[repo][i].JobBase)
		}
	}
	for _, repo := range sortedKeys(c.Postsubmits) {
		for i := range c.Postsubmits[repo] {
			fn(TypePostsubmit, &c.Postsubmits[repo][i].JobBase)
		}
	}
	for i := range c.Periodics {
		fn(TypePeriodic, &c.Periodics[i].JobBase)
	}
}

// Repo is the "org/repo" a periodic belongs to: its first extra ref, or ""
// when it clones nothing.
func (p *Periodic) Repo() string {
	if len(p.ExtraRefs) == 0 {
		return ""
	}
	return p.ExtraRefs[0].Org + "/" + p.ExtraRefs[0].Repo
}

func (c *Config) defaultBase(j *JobBase, repo string, d Defaults) {
	if j.Agent == "" {
		j.Agent = AgentKubernetes
	}
	if j.Cluster == "" {
		j.Cluster = DefaultCluster
	}
	if j.Namespace == nil || *j.Namespace == "" {
		ns := d.PodNamespace
		j.Namespace = &ns
	}
	if c.Decorated(j) && j.Agent == AgentKubernetes {
		var def *DecorationConfig
		if d.Decoration != nil {
			def = d.Decoration(repo, j.Cluster)
		}
		j.DecorationConfig = j.DecorationConfig.ApplyDefault(def)
	}
	if d.ProwJobDefault != nil {
		if def := d.ProwJobDefault(repo, j.Cluster); def != nil {
			if j.ProwJobDefault == nil {
				cp := *def
				j.ProwJobDefault = &cp
			} else {
				merged := *j.ProwJobDefault
				if merged.TenantID == "" {
					merged.TenantID = def.TenantID
				}
				if merged.ResultStoreConfig == nil {
					merged.ResultStoreConfig = def.ResultStoreConfig
				}
				j.ProwJobDefault = &merged
			}
		}
	}
}

// Decorated reports whether a job runs with the pod utilities: its own
// decorate setting, or decorate_all_jobs when it has none.
func (c *Config) Decorated(j *JobBase) bool {
	if j.Decorate != nil {
		return *j.Decorate
	}
	return c.DecorateAllJobs
}

// TriggerMatches reports whether a comment asks for this presubmit. An
// invalid trigger matches nothing; validation reports it.
func (p *Presubmit) TriggerMatches(body string) bool {
	re, err := regexp.Compile(p.Trigger)
	return err == nil && re.MatchString(body)
}

// ShouldRun reports whether the job applies to a base branch. As in Prow,
// each list is one regular expression, its patterns joined with "|", that
// may match anywhere in the branch name: `^release-` selects release-1.34,
// `main` selects main and also main-2 (write `^main$` for the one branch).
// skip_branches wins over branches.
func (b Brancher) ShouldRun(branch string) bool {
	if len(b.SkipBranches) > 0 && matchesJoined(b.SkipBranches, branch) {
		return false
	}
	return len(b.Branches) == 0 || matchesJoined(b.Branches, branch)
}

// matchesJoined matches a branch against patterns joined into one
// expression, as Prow compiles them. An invalid expression (validation
// reports it) matches nothing.
func matchesJoined(patterns []string, branch string) bool {
	re, err := regexp.Compile(strings.Join(patterns, "|"))
	return err == nil && re.MatchString(branch)
}

// wholeName reports whether a branch list names the whole branch. It is
// what duplicate detection (intersects) compares literal branch names with.
func (b Brancher) wholeName(branch string) bool {
	if matchesAnchored(b.SkipBranches, branch) {
		return false
	}
	return len(b.Branches) == 0 || matchesAnchored(b.Branches, branch)
}

func matchesAnchored(patterns []string, s string) bool {
	for _, p := range patterns {
		if re, err := regexp.Compile("^(?:" + p + ")$"); err == nil && re.MatchString(s) {
			return true
		}
	}
	return false
}

// intersects reports whether two job variants could run for the same
// branch. It is exact for literal branch names, which is what duplicate job
// names differ by in practice.
func (b Brancher) intersects(o Brancher) bool {
	switch {
	case len(b.Branches) == 0 && len(o.Branches) == 0:
		return true
	case len(b.Branches) == 0:
		return coveredBy(o, b)
	case len(o.Branches) == 0:
		return coveredBy(b, o)
	}
	for _, x := range b.Branches {
		if o.wholeName(x) && !matchesAnchored(b.SkipBranches, x) {
			return true
		}
	}
	for _, x := range o.Branches {
		if b.wholeName(x) && !matchesAnchored(o.SkipBranches, x) {
			return true
		}
	}
	return false
}

// coveredBy reports whether any branch listed by a reaches the job that
// lists none (other), i.e. not all of them are skipped by it.
func coveredBy(a, other Brancher) bool {
	return slices.ContainsFunc(a.Branches, other.wholeName)
}

// RunsAgainstChanges reports whether a change matcher wants a job to run for
// a set of changed files, and whether it had anything to say (false, false
// when it sets neither field).
func (m RegexpChangeMatcher) RunsAgainstChanges(files []string) (run, determined bool) {
	switch {
	case m.RunIfChanged != "":
		re, err := regexp.Compile(m.RunIfChanged)
		if err != nil {
			return false, true
		}
		return slices.ContainsFunc(files, re.MatchString), true
	case m.SkipIfOnlyChanged != "":
		re, err := regexp.Compile(m.SkipIfOnlyChanged)
		if err != nil {
			return false, true
		}
		return slices.ContainsFunc(files, func(f string) bool { return !re.MatchString(f) }), true
	}
	return false, false
}

// CouldRunAutomatically reports whether the job can start without a
// command: always_run or a change matcher.
func (p *Presubmit) CouldRunAutomatically() bool {
	return p.AlwaysRun || p.RunIfChanged != "" || p.SkipIfOnlyChanged != ""
}

// Trigger modes: how a job starts, as Prow distinguishes them.
const (
	// ModeAlways: on every pull request or push (always_run).
	ModeAlways = "always"
	// ModeRunIfChanged: when a changed file matches run_if_changed.
	ModeRunIfChanged = "run_if_changed"
	// ModeSkipIfOnlyChanged: unless every changed file matches
	// skip_if_only_changed.
	ModeSkipIfOnlyChanged = "skip_if_only_changed"
	// ModeManual: only when asked (/test), or by the merge pool for
	// run_before_merge jobs.
	ModeManual = "manual"
	// ModeNever: a postsubmit with always_run: false and no change matcher,
	// which Prow never starts on a push.
	ModeNever = "never"
)

// TriggerMode describes how a presubmit starts: ModeAlways,
// ModeRunIfChanged, ModeSkipIfOnlyChanged or ModeManual.
func (p *Presubmit) TriggerMode() string {
	switch {
	case p.AlwaysRun:
		return ModeAlways
	case p.RunIfChanged != "":
		return ModeRunIfChanged
	case p.SkipIfOnlyChanged != "":
		return ModeSkipIfOnlyChanged
	}
	return ModeManual
}

// TriggerMode describes how a postsubmit starts on a push: ModeAlways,
// ModeRunIfChanged, ModeSkipIfOnlyChanged, or ModeNever (always_run: false
// and no change matcher).
func (p *Postsubmit) TriggerMode() string {
	switch {
	case p.AlwaysRun != nil && *p.AlwaysRun:
		return ModeAlways
	case p.RunIfChanged != "":
		return ModeRunIfChanged
	case p.SkipIfOnlyChanged != "":
		return ModeSkipIfOnlyChanged
	case p.AlwaysRun != nil:
		return ModeNever
	}
	return ModeAlways
}

// splitRepo splits "org/repo"; ok is false for anything else.
func splitRepo(s string) (org, repo string, ok bool) {
	i := strings.Index(s, "/")
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// describeJob names a job in messages: presubmit "name". It runs for every
// job checked, so it avoids fmt for the usual, plain names.
func describeJob(kind, name string) string {
	if jobNameRe.MatchString(name) {
		return kind + ` "` + name + `"`
	}
	return fmt.Sprintf("%s %q", kind, name)
}
