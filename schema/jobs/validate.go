package jobs

import (
	"regexp"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

var jobNameRe = regexp.MustCompile(`^[A-Za-z0-9-._]+$`)

// ValidateOptions are the settings from config.yaml that checks depend on.
type ValidateOptions struct {
	// JobQueueCapacities are plank's named queues; a job may only name one
	// of them. Nil skips the check.
	JobQueueCapacities map[string]int
}

// reservedEnv are set by bowline (and Prow) in job pods of a type; a job
// may not set them itself.
func reservedEnv(jobType string) []string {
	env := []string{"BUILD_ID", "BUILD_NUMBER", "CI", "JOB_NAME", "JOB_SPEC", "JOB_TYPE", "PROW_JOB_ID"}
	if jobType == TypePeriodic {
		return env
	}
	env = append(env, "PULL_BASE_REF", "PULL_BASE_SHA", "PULL_REFS", "REPO_NAME", "REPO_OWNER")
	if jobType == TypePostsubmit {
		return env
	}
	return append(env, "PULL_HEAD_REF", "PULL_NUMBER", "PULL_PULL_SHA", "PULL_TITLE")
}

var jobStates = []string{"triggered", "pending", "success", "failure", "aborted", "error"}

// validator carries a cache of compiled regular expressions: Kubernetes'
// jobs repeat the same branch and file patterns thousands of times.
type validator struct {
	c    *Config
	opts ValidateOptions
	errs *yamlpos.Errors
	res  map[string]compiled
}

type compiled struct {
	re  *regexp.Regexp
	err error
}

// Validate runs Prow's semantic checks on defaulted jobs and adds every
// problem to errs, positioned at the job it concerns. Repositories and
// chunks of periodics are checked concurrently.
func (c *Config) Validate(opts ValidateOptions, errs *yamlpos.Errors) {
	var units []func(v *validator)
	for _, repo := range sortedKeys(c.Presubmits) {
		list := c.Presubmits[repo]
		units = append(units, func(v *validator) { v.presubmits(repo, list) })
	}
	for _, repo := range sortedKeys(c.Postsubmits) {
		list := c.Postsubmits[repo]
		units = append(units, func(v *validator) { v.postsubmits(repo, list) })
	}
	for lo := 0; lo < len(c.Periodics); lo += chunk {
		part := c.Periodics[lo:min(lo+chunk, len(c.Periodics))]
		units = append(units, func(v *validator) {
			for i := range part {
				v.periodic(&part[i])
			}
		})
	}
	units = append(units, func(v *validator) {
		for i := range c.Presets {
			v.preset(&c.Presets[i])
		}
	})
	runParallel(len(units), errs, func() func(int, *yamlpos.Errors) {
		v := &validator{c: c, opts: opts, res: map[string]compiled{}}
		return func(i int, e *yamlpos.Errors) {
			v.errs = e
			units[i](v)
		}
	})
	seen := make(map[string]yamlpos.Pos, len(c.Periodics))
	for i := range c.Periodics {
		p := &c.Periodics[i]
		if prev, dup := seen[p.Name]; dup {
			errs.AddPos(p.Pos, "periodic %q: duplicate job name (also at %s)", p.Name, prev)
		} else {
			seen[p.Name] = p.Pos
		}
	}
}

// chunk is how many periodics one unit of concurrent work handles.
const chunk = 64

// runParallel calls the function made by worker for each of n units, on
// GOMAXPROCS goroutines, each with its own error list; the lists are added
// to errs at the end.
func runParallel(n int, errs *yamlpos.Errors, worker func() func(int, *yamlpos.Errors)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	next := make(chan int)
	lists := make([]yamlpos.Errors, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			do := worker()
			for i := range next {
				do(i, &lists[w])
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for i := range lists {
		errs.Append(&lists[i])
	}
}

func (v *validator) presubmits(repo string, list []Presubmit) {
	v.repoKey(repo, list, func(i int) yamlpos.Pos { return list[i].Pos })
	for i := range list {
		v.presubmit(&list[i])
		for j := range i {
			if list[j].Name == list[i].Name && list[j].Brancher.intersects(list[i].Brancher) {
				v.fail(list[i].Pos, "presubmit %q: duplicate job name for %s (also at %s)", list[i].Name, repo, list[j].Pos)
				break
			}
		}
	}
}

func (v *validator) postsubmits(repo string, list []Postsubmit) {
	v.repoKey(repo, list, func(i int) yamlpos.Pos { return list[i].Pos })
	for i := range list {
		v.postsubmit(&list[i])
		for j := range i {
			if list[j].Name == list[i].Name && list[j].Brancher.intersects(list[i].Brancher) {
				v.fail(list[i].Pos, "postsubmit %q: duplicate job name for %s (also at %s)", list[i].Name, repo, list[j].Pos)
				break
			}
		}
	}
}

func (v *validator) fail(p yamlpos.Pos, format string, args ...any) {
	v.errs.AddPos(p, format, args...)
}

func (v *validator) repoKey(repo string, list any, pos func(int) yamlpos.Pos) {
	// An empty list holds no jobs, so its key does no harm.
	if _, _, ok := splitRepo(repo); !ok && lenOf(list) > 0 {
		v.fail(pos(0), "%q is not an org/repo", repo)
	}
}

func lenOf(list any) int {
	switch l := list.(type) {
	case []Presubmit:
		return len(l)
	case []Postsubmit:
		return len(l)
	}
	return 0
}

// regexp checks that a pattern compiles, once per distinct pattern.
func (v *validator) regexp(pattern string) error {
	_, err := v.compile(pattern)
	return err
}

func (v *validator) compile(pattern string) (*regexp.Regexp, error) {
	if c, ok := v.res[pattern]; ok {
		return c.re, c.err
	}
	re, err := regexp.Compile(pattern)
	v.res[pattern] = compiled{re, err}
	return re, err
}

func (v *validator) base(kind string, j *JobBase) {
	what := describeJob(kind, j.Name)
	if !jobNameRe.MatchString(j.Name) {
		v.fail(j.Pos, "%s: name must match %s", what, jobNameRe)
	}
	if j.MaxConcurrency < 0 {
		v.fail(j.Pos, "%s: max_concurrency must not be negative", what)
	}
	for k, val := range j.Labels {
		for _, msg := range validation.IsQualifiedName(k) {
			v.fail(j.Pos, "%s: label key %q: %s", what, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(val) {
			v.fail(j.Pos, "%s: label %s value %q: %s", what, k, val, msg)
		}
	}
	if j.JobQueueName != "" && v.opts.JobQueueCapacities != nil {
		if _, ok := v.opts.JobQueueCapacities[j.JobQueueName]; !ok {
			v.fail(j.Pos, "%s: job_queue_name %q is not in plank.job_queue_capacities", what, j.JobQueueName)
		}
	}
	switch j.Agent {
	case AgentKubernetes:
		if j.Spec == nil {
			v.fail(j.Pos, "%s: a kubernetes job needs a spec", what)
		} else {
			v.podSpec(kind, what, j)
		}
	case AgentJenkins, AgentTekton:
	default:
		v.fail(j.Pos, "%s: unknown agent %q (kubernetes, jenkins or tekton-pipeline)", what, j.Agent)
	}
	if v.c.Decorated(j) && j.Agent == AgentKubernetes {
		v.decoration(what, j)
	}
	if r := j.RerunAuthConfig; r != nil && r.AllowAnyone &&
		(len(r.GitHubUsers) > 0 || len(r.GitHubTeamIDs) > 0 || len(r.GitHubTeamSlugs) > 0 || len(r.GitHubOrgs) > 0) {
		v.fail(j.Pos, "%s: rerun_auth_config: allow_anyone cannot be combined with an allowlist", what)
	}
	if rc := j.ReporterConfig; rc != nil && rc.Slack != nil {
		for _, s := range rc.Slack.JobStatesToReport {
			if !slices.Contains(jobStates, s) {
				v.fail(j.Pos, "%s: reporter_config.slack: unknown job state %q", what, s)
			}
		}
	}
	for i, r := range j.ExtraRefs {
		if r.Org == "" || r.Repo == "" {
			v.fail(j.Pos, "%s: extra_refs[%d]: org and repo are required", what, i)
		}
	}
}

func (v *validator) podSpec(kind, what string, j *JobBase) {
	reserved := reservedEnv(kind)
	spec := j.Spec
	switch n := len(spec.Containers); {
	case n == 0:
		v.fail(j.Pos, "%s: spec must have at least one container", what)
	case n > 1 && !v.c.Decorated(j):
		v.fail(j.Pos, "%s: spec may have several containers only when decorated", what)
	case n > 1:
		names := map[string]bool{}
		for i, c := range spec.Containers {
			if c.Name == "" {
				v.fail(j.Pos, "%s: spec.containers[%d] needs a name when there are several", what, i)
			} else if names[c.Name] {
				v.fail(j.Pos, "%s: spec.containers[%d]: duplicate name %q", what, i, c.Name)
			}
			names[c.Name] = true
		}
	}
	for i, c := range spec.Containers {
		for _, e := range c.Env {
			if slices.Contains(reserved, e.Name) {
				v.fail(j.Pos, "%s: spec.containers[%d]: env %s is set by bowline", what, i, e.Name)
			}
		}
	}
}

func (v *validator) decoration(what string, j *JobBase) {
	d := j.DecorationConfig
	if d == nil {
		v.fail(j.Pos, "%s: decorated, but no decoration_config here or in plank's defaults", what)
		return
	}
	// Without utility_images bowline runs its own image, which holds all
	// four utilities; Prow requires them. Set, they must all be set.
	if u := d.UtilityImages; u != nil && (u.CloneRefs == "" || u.InitUpload == "" || u.Entrypoint == "" || u.Sidecar == "") {
		v.fail(j.Pos, "%s: decoration_config: utility_images needs clonerefs, initupload, entrypoint and sidecar", what)
	}
	// Without gcs_configuration the run's logs and artifacts go to the
	// operator's default location (--artifacts-bucket; bowline up's data
	// directory); Prow requires it.
	if g := d.GCSConfiguration; g != nil {
		switch g.PathStrategy {
		case PathStrategyExplicit:
		case PathStrategyLegacy, PathStrategySingle:
			if g.DefaultOrg == "" || g.DefaultRepo == "" {
				v.fail(j.Pos, "%s: decoration_config: path_strategy %s needs default_org and default_repo", what, g.PathStrategy)
			}
		default:
			v.fail(j.Pos, "%s: decoration_config: path_strategy must be legacy, single or explicit, not %q", what, g.PathStrategy)
		}
		if g.Bucket == "" && g.LocalOutputDir == "" {
			v.fail(j.Pos, "%s: decoration_config: gcs_configuration needs a bucket or local_output_dir", what)
		}
	}
	for name, dur := range map[string]*Duration{"timeout": d.Timeout, "grace_period": d.GracePeriod} {
		if dur != nil && dur.Duration < 0 {
			v.fail(j.Pos, "%s: decoration_config: %s must not be negative", what, name)
		}
	}
}

func (v *validator) branches(what string, j *JobBase, b Brancher) {
	for _, list := range [][]string{b.Branches, b.SkipBranches} {
		for _, p := range list {
			if err := v.regexp(p); err != nil {
				v.fail(j.Pos, "%s: branch pattern %q: %v", what, p, err)
			}
		}
	}
}

func (v *validator) changes(what string, j *JobBase, m RegexpChangeMatcher) {
	if m.RunIfChanged != "" && m.SkipIfOnlyChanged != "" {
		v.fail(j.Pos, "%s: run_if_changed and skip_if_only_changed are mutually exclusive", what)
	}
	for field, p := range map[string]string{"run_if_changed": m.RunIfChanged, "skip_if_only_changed": m.SkipIfOnlyChanged} {
		if p == "" {
			continue
		}
		if err := v.regexp(p); err != nil {
			v.fail(j.Pos, "%s: %s: %v", what, field, err)
		}
	}
}

func (v *validator) presubmit(p *Presubmit) {
	what := describeJob(TypePresubmit, p.Name)
	v.base(TypePresubmit, &p.JobBase)
	v.branches(what, &p.JobBase, p.Brancher)
	v.changes(what, &p.JobBase, p.RegexpChangeMatcher)
	if p.AlwaysRun && (p.RunIfChanged != "" || p.SkipIfOnlyChanged != "") {
		v.fail(p.Pos, "%s: always_run cannot be combined with run_if_changed or skip_if_only_changed", what)
	}
	switch {
	case (p.Trigger == "") != (p.RerunCommand == ""):
		v.fail(p.Pos, "%s: trigger and rerun_command must be set together", what)
	case p.Trigger == DefaultTriggerFor(p.Name) && p.RerunCommand == DefaultRerunCommandFor(p.Name):
		// The defaults are valid and match each other by construction.
	case p.Trigger != "":
		if re, err := v.compile(p.Trigger); err != nil {
			v.fail(p.Pos, "%s: trigger: %v", what, err)
		} else if !re.MatchString(p.RerunCommand) {
			v.fail(p.Pos, "%s: rerun_command %q does not match trigger %q", what, p.RerunCommand, p.Trigger)
		}
	}
}

func (v *validator) postsubmit(p *Postsubmit) {
	what := describeJob(TypePostsubmit, p.Name)
	v.base(TypePostsubmit, &p.JobBase)
	v.branches(what, &p.JobBase, p.Brancher)
	v.changes(what, &p.JobBase, p.RegexpChangeMatcher)
	if p.AlwaysRun != nil && *p.AlwaysRun && (p.RunIfChanged != "" || p.SkipIfOnlyChanged != "") {
		v.fail(p.Pos, "%s: always_run cannot be combined with run_if_changed or skip_if_only_changed", what)
	}
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (v *validator) periodic(p *Periodic) {
	what := describeJob(TypePeriodic, p.Name)
	v.base(TypePeriodic, &p.JobBase)
	set := 0
	for _, s := range []string{p.Cron, p.Interval, p.MinimumInterval} {
		if s != "" {
			set++
		}
	}
	if set != 1 {
		v.fail(p.Pos, "%s: exactly one of cron, interval and minimum_interval must be set", what)
	}
	if p.Cron != "" {
		if _, err := cronParser.Parse(p.Cron); err != nil {
			v.fail(p.Pos, "%s: invalid cron %q: %v", what, p.Cron, err)
		}
	}
	for field, s := range map[string]string{"interval": p.Interval, "minimum_interval": p.MinimumInterval} {
		if s == "" {
			continue
		}
		if d, err := time.ParseDuration(s); err != nil || d <= 0 {
			v.fail(p.Pos, "%s: %s %q is not a positive duration", what, field, s)
		}
	}
	if r := p.Retry; r != nil {
		if r.Attempts < 0 {
			v.fail(p.Pos, "%s: retry.attempts must not be negative", what)
		}
		if r.Interval != "" {
			if _, err := time.ParseDuration(r.Interval); err != nil {
				v.fail(p.Pos, "%s: retry.interval %q is not a duration", what, r.Interval)
			}
		}
	}
}

func (v *validator) preset(p *Preset) {
	seen := map[string]bool{}
	for _, e := range p.Env {
		if seen[e.Name] {
			v.fail(p.Pos, "preset: env %s is set twice", e.Name)
		}
		seen[e.Name] = true
	}
	vols := map[string]bool{}
	for _, vol := range p.Volumes {
		if vols[vol.Name] {
			v.fail(p.Pos, "preset: volume %s is defined twice", vol.Name)
		}
		vols[vol.Name] = true
	}
}

// sortedKeys keeps error order and output stable.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
