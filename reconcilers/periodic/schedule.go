package periodic

import (
	"fmt"
	"strconv"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Job is one periodic as the configuration declares it: exactly one of
// Cron, Interval and MinimumInterval is set.
type Job struct {
	// Name is the job's name (spec.job of its runs).
	Name string
	// Cron is a cron expression (five fields, or six with seconds first),
	// evaluated in UTC.
	Cron string
	// Interval is the time from one run's start to the next, which starts
	// only once the previous run finished.
	Interval time.Duration
	// MinimumInterval is the time from one run's completion to the next
	// start.
	MinimumInterval time.Duration
	// Spec is the spec of the job's runs.
	Spec v1alpha1.ProwJobSpec
	// Labels and Annotations are copied to every run.
	Labels, Annotations map[string]string
	// Retry, when set, runs a failed periodic again before its schedule
	// says so.
	Retry *Retry
}

// MaxRetries caps retry.attempts, as Prow's horologium does.
const MaxRetries = 10

// Retry is a periodic's retry setting, Prow's retry: attempts, interval
// and run_all.
type Retry struct {
	// Attempts is how many times the periodic is run again after its
	// scheduled run (at most MaxRetries).
	Attempts int
	// Interval is the time from one attempt's start to the next.
	Interval time.Duration
	// RunAll runs every attempt, whatever the previous one's outcome and
	// even while it is still running; otherwise only a failed (completed,
	// not successful) run is retried.
	RunAll bool
}

// cronSchedule is a parsed cron expression.
type cronSchedule = cron.Schedule

// parseCron parses a cron expression as Prow does: five fields, or six
// with seconds first, or a descriptor.
func parseCron(expr string) (cron.Schedule, error) {
	s, err := jobs.ParseCron(expr)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w", expr, err)
	}
	return s, nil
}

// verdict says whether a periodic runs now and, if not, when it may.
type verdict struct {
	// run is true when a run must be created now.
	run bool
	// attempt is the retry a run is, 0 for a scheduled run.
	attempt int
	// next is the earliest time the periodic may run again; zero when it
	// waits for the active run to finish.
	next time.Time
}

// decide applies horologium's rules to one periodic. latest is its newest
// run (nil if it never ran); since is the previous check, so that a cron
// schedule fires once per scheduled time that passed since then; now is the
// time of this check.
//
//   - interval: a periodic that never ran runs now; otherwise it runs once
//     its newest run has completed and more than the interval has passed
//     since that run started.
//   - minimum_interval: likewise, measured from the newest run's completion.
//   - cron: runs when a scheduled time passed since the previous check and
//     the newest run (if any) has completed; a periodic that never ran waits
//     for its schedule, and a scheduled time that passes while a run is
//     active is skipped, as Prow's horologium does.
//   - retry: when the schedule starts nothing, a failed newest run is
//     retried (retry).
func decide(j Job, sched cronSchedule, latest *v1alpha1.ProwJob, since, now time.Time) verdict {
	v := schedule(j, sched, latest, since, now)
	if v.run || latest == nil {
		return v
	}
	if attempt, ok := retry(j.Retry, latest, now); ok {
		return verdict{run: true, attempt: attempt}
	}
	return v
}

// retry applies Prow's retry rules to the newest run, when its schedule
// does not start one: the newest run has completed without success (or
// run_all is set, whatever its state); it is attempt n-1 (its re-run
// label; 0 for a scheduled run) and n is at most attempts (and
// MaxRetries); more than the retry interval passed since it started.
func retry(r *Retry, latest *v1alpha1.ProwJob, now time.Time) (int, bool) {
	if r == nil {
		return 0, false
	}
	if !latest.Complete() && !r.RunAll {
		return 0, false
	}
	attempt := 1
	if l, ok := latest.Labels[v1alpha1.RerunLabel]; ok {
		n, err := strconv.Atoi(l)
		if err != nil {
			return 0, false
		}
		attempt = n + 1
	}
	if attempt > min(r.Attempts, MaxRetries) {
		return 0, false
	}
	if now.Sub(startOf(latest)) <= r.Interval {
		return 0, false
	}
	if !r.RunAll && latest.Status.State == v1alpha1.SuccessState {
		return 0, false
	}
	return attempt, true
}

// schedule applies the periodic's own schedule.
func schedule(j Job, sched cronSchedule, latest *v1alpha1.ProwJob, since, now time.Time) verdict {
	active := latest != nil && !latest.Complete()
	if sched != nil {
		fired := !sched.Next(since.UTC()).After(now.UTC())
		v := verdict{next: sched.Next(now.UTC())}
		v.run = fired && !active
		return v
	}
	if j.Interval <= 0 && j.MinimumInterval <= 0 {
		// No schedule at all: configuration validation rejects this.
		return verdict{}
	}
	if latest == nil {
		return verdict{run: true}
	}
	if active {
		return verdict{}
	}
	var from time.Time
	wait := j.Interval
	if j.MinimumInterval > 0 {
		wait, from = j.MinimumInterval, latest.Status.CompletionTime.Time
	} else {
		from = startOf(latest)
	}
	next := from.Add(wait)
	if now.After(next) {
		return verdict{run: true}
	}
	return verdict{next: next}
}

// startOf is when a run started: status.startTime, or its creation.
func startOf(pj *v1alpha1.ProwJob) time.Time {
	if pj.Status.StartTime != nil {
		return pj.Status.StartTime.Time
	}
	return pj.CreationTimestamp.Time
}
