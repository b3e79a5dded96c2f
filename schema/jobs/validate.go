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
			errs.AddAt(p.Pos, yamlpos.At("name"), "periodic %q: duplicate job name (also at %s)", p.Name, prev)
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
				v.failAt(list[i].Pos, yamlpos.At("name"), "presubmit %q: duplicate job name for %s (also at %s)", list[i].Name, repo, list[j].Pos)
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
				v.failAt(list[i].Pos, yamlpos.At("name"), "postsubmit %q: duplicate job name for %s (also at %s)", list[i].Name, repo, list[j].Pos)
				break
			}
		}
	}
}

func (v *validator) fail(p yamlpos.Pos, format string, args ...any) {
	v.errs.AddPos(p, format, args...)
}

// failAt reports a problem with the value path leads to from the job.
func (v *validator) failAt(p yamlpos.Pos, path yamlpos.Path, format string, args ...any) {
	v.errs.AddAt(p, path, format, args...)
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
		v.failAt(j.Pos, yamlpos.At("name"), "%s: name must match %s", what, jobNameRe)
	}
	if j.MaxConcurrency < 0 {
		v.failAt(j.Pos, yamlpos.At("max_concurrency"), "%s: max_concurrency must not be negative", what)
	}
	for k, val := range j.Labels {
		for _, msg := range validation.IsQualifiedName(k) {
			v.failAt(j.Pos, yamlpos.At("labels").Name(k), "%s: label key %q: %s", what, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(val) {
			v.failAt(j.Pos, yamlpos.At("labels", k), "%s: label %s value %q: %s", what, k, val, msg)
		}
	}
	if j.JobQueueName != "" && v.opts.JobQueueCapacities != nil {
		if _, ok := v.opts.JobQueueCapacities[j.JobQueueName]; !ok {
			v.failAt(j.Pos, yamlpos.At("job_queue_name"), "%s: job_queue_name %q is not in plank.job_queue_capacities", what, j.JobQueueName)
		}
	}
	switch j.Agent {
	case AgentKubernetes:
		if j.Spec == nil {
			v.failAt(j.Pos, yamlpos.At("agent"), "%s: a kubernetes job needs a spec", what)
		} else {
			v.podSpec(kind, what, j)
		}
	case AgentJenkins, AgentTekton:
		v.errs.WarnAt(j.Pos, yamlpos.At("agent"), "unsupported-agent",
			"%s: agent %s is not supported by bowline yet: its runs end at once in state error", what, j.Agent)
	default:
		// Prow accepts any agent ("use at your own risk"): another
		// controller may run it.
		v.errs.WarnAt(j.Pos, yamlpos.At("agent"), "unsupported-agent",
			"%s: unknown agent %q (kubernetes, jenkins or tekton-pipeline): nothing in bowline runs it, so its runs end at once in state error", what, j.Agent)
	}
	if v.c.Decorated(j) && j.Agent == AgentKubernetes {
		v.decoration(what, j)
	}
	if r := j.RerunAuthConfig; r != nil && r.AllowAnyone &&
		(len(r.GitHubUsers) > 0 || len(r.GitHubTeamIDs) > 0 || len(r.GitHubTeamSlugs) > 0 || len(r.GitHubOrgs) > 0) {
		v.failAt(j.Pos, yamlpos.At("rerun_auth_config", "allow_anyone"), "%s: rerun_auth_config: allow_anyone cannot be combined with an allowlist", what)
	}
	// Prow takes any job state, and extra refs without org or repo; such
	// a state never matches, and such a ref cannot be cloned.
	if rc := j.ReporterConfig; rc != nil {
		for _, r := range []struct {
			name   string
			states []string
		}{{"slack", slackStates(rc.Slack)}, {"dingtalk", dingTalkStates(rc.DingTalk)}} {
			for i, s := range r.states {
				if !slices.Contains(jobStates, s) {
					v.errs.WarnAt(j.Pos, yamlpos.At("reporter_config", r.name, "job_states_to_report").Index(i), "unknown-value", "%s: reporter_config.%s: unknown job state %q: no run will match it", what, r.name, s)
				}
			}
		}
	}
	for i, r := range j.ExtraRefs {
		if r.Org == "" || r.Repo == "" {
			v.errs.WarnAt(j.Pos, yamlpos.At("extra_refs").Index(i), "missing-value", "%s: extra_refs[%d]: without org and repo there is nothing to clone", what, i)
		}
	}
}

func (v *validator) podSpec(kind, what string, j *JobBase) {
	reserved := reservedEnv(kind)
	spec := j.Spec
	switch n := len(spec.Containers); {
	case n == 0:
		v.failAt(j.Pos, yamlpos.At("spec"), "%s: spec must have at least one container", what)
	case n > 1 && !v.c.Decorated(j):
		v.failAt(j.Pos, yamlpos.At("spec", "containers"), "%s: spec may have several containers only when decorated", what)
	case n > 1:
		names := map[string]bool{}
		for i, c := range spec.Containers {
			at := yamlpos.At("spec", "containers").Index(i)
			if c.Name == "" {
				v.failAt(j.Pos, at, "%s: spec.containers[%d] needs a name when there are several", what, i)
			} else if names[c.Name] {
				v.failAt(j.Pos, at.Key("name"), "%s: spec.containers[%d]: duplicate name %q", what, i, c.Name)
			}
			names[c.Name] = true
		}
	}
	for i, c := range spec.Containers {
		for k, e := range c.Env {
			if slices.Contains(reserved, e.Name) {
				v.failAt(j.Pos, yamlpos.At("spec", "containers").Index(i).Key("env").Index(k).Key("name"), "%s: spec.containers[%d]: env %s is set by bowline", what, i, e.Name)
			}
		}
	}
}

func (v *validator) decoration(what string, j *JobBase) {
	d := j.DecorationConfig
	if d == nil {
		v.failAt(j.Pos, yamlpos.At("decorate"), "%s: decorated, but no decoration_config here or in plank's defaults", what)
		return
	}
	// Without utility_images bowline runs its own image, which holds all
	// four utilities; Prow requires them. Set, they must all be set, and
	// they are not run: the warning says so once per place they are set
	// (identical warnings of the jobs sharing a default are merged).
	if u := d.UtilityImages; u != nil && (u.CloneRefs == "" || u.InitUpload == "" || u.Entrypoint == "" || u.Sidecar == "") {
		v.failAt(j.Pos, yamlpos.At("decoration_config", "utility_images"), "%s: decoration_config: utility_images needs clonerefs, initupload, entrypoint and sidecar", what)
	}
	if u := d.UtilityImages; u != nil && !u.Pos.IsZero() {
		v.errs.Warn(u.Pos.File, u.Pos.Line, u.Pos.Column, "utility-images",
			"utility_images: Prow's pod utility images are not run; bowline runs clonerefs, initupload, entrypoint and sidecar from its own image (the operator's --utility-image)")
	}
	// Without gcs_configuration the run's logs and artifacts go to the
	// operator's default location (--artifacts-bucket; bowline up's data
	// directory); Prow requires it.
	if g := d.GCSConfiguration; g != nil {
		switch g.PathStrategy {
		case PathStrategyExplicit:
		case PathStrategyLegacy, PathStrategySingle:
			if g.DefaultOrg == "" || g.DefaultRepo == "" {
				v.failAt(j.Pos, yamlpos.At("decoration_config", "gcs_configuration", "path_strategy"), "%s: decoration_config: path_strategy %s needs default_org and default_repo", what, g.PathStrategy)
			}
		default:
			v.failAt(j.Pos, yamlpos.At("decoration_config", "gcs_configuration", "path_strategy"), "%s: decoration_config: path_strategy must be legacy, single or explicit, not %q", what, g.PathStrategy)
		}
		if g.Bucket == "" && g.LocalOutputDir == "" {
			v.errs.WarnAt(j.Pos, yamlpos.At("decoration_config", "gcs_configuration"), "missing-value", "%s: decoration_config: gcs_configuration has no bucket or local_output_dir: logs and artifacts have nowhere to go", what)
		}
	}
	for _, f := range []struct {
		name string
		d    *Duration
	}{{"timeout", d.Timeout}, {"grace_period", d.GracePeriod}} {
		if f.d != nil && f.d.Duration < 0 {
			v.errs.WarnAt(j.Pos, yamlpos.At("decoration_config", f.name), "out-of-range", "%s: decoration_config: %s is %s: it should not be negative", what, f.name, f.d.Duration)
		}
	}
}

func (v *validator) branches(what string, j *JobBase, b Brancher) {
	for _, list := range []struct {
		field    string
		patterns []string
	}{{"branches", b.Branches}, {"skip_branches", b.SkipBranches}} {
		for i, p := range list.patterns {
			if err := v.regexp(p); err != nil {
				v.failAt(j.Pos, yamlpos.At(list.field).Index(i), "%s: %s: %v", what, list.field, err)
			}
		}
	}
}

func (v *validator) changes(what string, j *JobBase, m RegexpChangeMatcher) {
	if m.RunIfChanged != "" && m.SkipIfOnlyChanged != "" {
		v.failAt(j.Pos, yamlpos.At("skip_if_only_changed"), "%s: run_if_changed and skip_if_only_changed are mutually exclusive", what)
	}
	for _, f := range []struct{ field, p string }{{"run_if_changed", m.RunIfChanged}, {"skip_if_only_changed", m.SkipIfOnlyChanged}} {
		if f.p == "" {
			continue
		}
		if err := v.regexp(f.p); err != nil {
			v.failAt(j.Pos, yamlpos.At(f.field), "%s: %s: %v", what, f.field, err)
		}
	}
}

func (v *validator) presubmit(p *Presubmit) {
	what := describeJob(TypePresubmit, p.Name)
	v.base(TypePresubmit, &p.JobBase)
	v.branches(what, &p.JobBase, p.Brancher)
	v.changes(what, &p.JobBase, p.RegexpChangeMatcher)
	if p.AlwaysRun && (p.RunIfChanged != "" || p.SkipIfOnlyChanged != "") {
		v.failAt(p.Pos, yamlpos.At("always_run"), "%s: always_run cannot be combined with run_if_changed or skip_if_only_changed", what)
	}
	switch {
	case p.Trigger == "" && p.RerunCommand != "":
		v.failAt(p.Pos, yamlpos.At("rerun_command"), "%s: trigger and rerun_command must be set together", what)
	case p.Trigger != "" && p.RerunCommand == "":
		v.failAt(p.Pos, yamlpos.At("trigger"), "%s: trigger and rerun_command must be set together", what)
	case p.Trigger == DefaultTriggerFor(p.Name) && p.RerunCommand == DefaultRerunCommandFor(p.Name):
		// The defaults are valid and match each other by construction.
	case p.Trigger != "":
		if re, err := v.compile(p.Trigger); err != nil {
			v.failAt(p.Pos, yamlpos.At("trigger"), "%s: trigger: %v", what, err)
		} else if !re.MatchString(p.RerunCommand) {
			v.failAt(p.Pos, yamlpos.At("rerun_command"), "%s: rerun_command %q does not match trigger %q", what, p.RerunCommand, p.Trigger)
		}
	}
}

func (v *validator) postsubmit(p *Postsubmit) {
	what := describeJob(TypePostsubmit, p.Name)
	v.base(TypePostsubmit, &p.JobBase)
	v.branches(what, &p.JobBase, p.Brancher)
	v.changes(what, &p.JobBase, p.RegexpChangeMatcher)
	if p.AlwaysRun != nil && *p.AlwaysRun && (p.RunIfChanged != "" || p.SkipIfOnlyChanged != "") {
		v.failAt(p.Pos, yamlpos.At("always_run"), "%s: always_run cannot be combined with run_if_changed or skip_if_only_changed", what)
	}
}

// cronParser takes what Prow's horologium takes: five fields, or six with
// seconds first, and descriptors such as @daily and @every 1h.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a periodic's cron expression as Prow does.
func ParseCron(expr string) (cron.Schedule, error) { return cronParser.Parse(expr) }

func slackStates(s *SlackReporterConfig) []string {
	if s == nil {
		return nil
	}
	return s.JobStatesToReport
}

func dingTalkStates(d *DingTalkReporterConfig) []string {
	if d == nil {
		return nil
	}
	return d.JobStatesToReport
}

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
		at := yamlpos.Path("")
		if set > 1 {
			at = yamlpos.At(lastSet(p))
		}
		v.failAt(p.Pos, at, "%s: exactly one of cron, interval and minimum_interval must be set", what)
	}
	if p.Cron != "" {
		if _, err := ParseCron(p.Cron); err != nil {
			v.failAt(p.Pos, yamlpos.At("cron"), "%s: invalid cron %q: %v", what, p.Cron, err)
		}
	}
	for _, f := range []struct{ field, s string }{{"interval", p.Interval}, {"minimum_interval", p.MinimumInterval}} {
		if f.s == "" {
			continue
		}
		if d, err := time.ParseDuration(f.s); err != nil {
			v.failAt(p.Pos, yamlpos.At(f.field), "%s: %s %q is not a duration", what, f.field, f.s)
		} else if d <= 0 {
			v.errs.WarnAt(p.Pos, yamlpos.At(f.field), "out-of-range", "%s: %s is %s: it should be positive", what, f.field, d)
		}
	}
	if r := p.Retry; r != nil {
		if r.Attempts < 0 {
			v.errs.WarnAt(p.Pos, yamlpos.At("retry", "attempts"), "out-of-range", "%s: retry.attempts is %d: it should not be negative (0 retries nothing)", what, r.Attempts)
		}
		if r.Interval != "" {
			if _, err := time.ParseDuration(r.Interval); err != nil {
				v.failAt(p.Pos, yamlpos.At("retry", "interval"), "%s: retry.interval %q is not a duration", what, r.Interval)
			}
		}
	}
}

func (v *validator) preset(p *Preset) {
	seen := map[string]bool{}
	for i, e := range p.Env {
		if seen[e.Name] {
			v.failAt(p.Pos, yamlpos.At("env").Index(i).Key("name"), "preset: env %s is set twice", e.Name)
		}
		seen[e.Name] = true
	}
	vols := map[string]bool{}
	for i, vol := range p.Volumes {
		if vols[vol.Name] {
			v.failAt(p.Pos, yamlpos.At("volumes").Index(i).Key("name"), "preset: volume %s is defined twice", vol.Name)
		}
		vols[vol.Name] = true
	}
}

// lastSet names the last of a periodic's schedule fields that is set, where
// a second one is the mistake.
func lastSet(p *Periodic) string {
	switch {
	case p.MinimumInterval != "":
		return "minimum_interval"
	case p.Interval != "":
		return "interval"
	}
	return "cron"
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
