// Package periodic starts periodic jobs as Prow's horologium does: every
// tick it compares each configured periodic with its newest run and creates
// a ProwJob when the periodic's cron schedule, interval or minimum interval
// says so, or when its retry setting asks for a failed run to be run again.
// A periodic has at most one active run at a time, unless retry.run_all
// starts attempts without waiting, as in Prow. Runs are created in
// config.yaml's prowjob_namespace.
package periodic

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// DefaultTickInterval is horologium's default tick_interval.
const DefaultTickInterval = time.Minute

// Config is what the runner reads from the configuration on every tick.
type Config struct {
	// Periodics are the configured periodic jobs.
	Periodics []Job
	// TickInterval is how often the periodics are checked; default 1m.
	TickInterval time.Duration
	// Namespace is where runs are created: config.yaml's
	// prowjob_namespace. Empty falls back to Runner.Namespace.
	Namespace string
}

// Runner creates the runs of periodic jobs. It is a manager Runnable that
// runs only on the elected leader.
type Runner struct {
	// Client reads ProwJobs (through the cache) and creates them.
	Client client.Client
	// Namespace is where runs are created until a configuration names its
	// prowjob_namespace (Config.Namespace).
	Namespace string
	// Config returns the current periodics.
	Config func() Config
	// Clock is the time source; default the real clock.
	Clock clock.PassiveClock
	// Reconfigured, when set, delivers each newly applied configuration
	// (the Store's Subscribe): the runner checks the periodics at once and
	// waits the new tick_interval from then on, rather than finishing a
	// wait begun under the previous one (the default minute, at start).
	Reconfigured func(ctx context.Context) <-chan *snapshot.Snapshot

	mu sync.Mutex
	// since is when the periodics were last checked; cron schedules fire
	// for the scheduled times after it.
	since time.Time
	// created remembers runs created but perhaps not yet in the cache, so
	// that a lagging cache cannot start a periodic twice.
	created map[string]*v1alpha1.ProwJob
}

// SetupWithManager adds the runner to the manager.
func (r *Runner) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Config == nil {
		return errors.New("periodic: Config is required")
	}
	if err := prowjob.IndexFields(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	return mgr.Add(r)
}

// NeedLeaderElection makes only the leader create runs.
func (r *Runner) NeedLeaderElection() bool { return true }

// Start checks the periodics every tick, and when a configuration is
// applied, until ctx ends.
func (r *Runner) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("periodic")
	var applied <-chan *snapshot.Snapshot
	if r.Reconfigured != nil {
		applied = r.Reconfigured(ctx)
	}
	for {
		if err := r.Sync(ctx); err != nil {
			log.Error(err, "Cannot start periodic jobs")
		}
		tick := r.Config().TickInterval
		if tick <= 0 {
			tick = DefaultTickInterval
		}
		t := time.NewTimer(tick)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-applied:
			t.Stop()
		case <-t.C:
		}
	}
}

// Sync checks every periodic once and creates the runs that are due.
func (r *Runner) Sync(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.clock()
	now := c.Now()
	if r.since.IsZero() {
		// Start-up: cron periodics wait for their next scheduled time.
		r.since = now
	}
	cfg := r.Config()
	if len(cfg.Periodics) == 0 {
		r.since = now
		return nil
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = r.Namespace
	}
	if ns == "" {
		return errors.New("no namespace for periodic runs: the configuration sets no prowjob_namespace")
	}
	var errs []error
	for _, j := range cfg.Periodics {
		var sched cronSchedule
		if j.Cron != "" {
			s, err := parseCron(j.Cron)
			if err != nil {
				errs = append(errs, fmt.Errorf("periodic %s: %w", j.Name, err))
				continue
			}
			sched = s
		}
		latest, err := r.latest(ctx, ns, j.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v := decide(j, sched, latest, r.since, now)
		if !v.run {
			continue
		}
		pj, err := r.create(ctx, ns, j, v.attempt, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ctrl.LoggerFrom(ctx).Info("Started periodic job", "job", j.Name, "prowjob", pj.Name, "retry", v.attempt)
	}
	r.since = now
	return errors.Join(errs...)
}

// latest finds a periodic's newest run.
func (r *Runner) latest(ctx context.Context, ns, job string) (*v1alpha1.ProwJob, error) {
	var list v1alpha1.ProwJobList
	if err := r.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingFields{prowjob.IndexJob: job}); err != nil {
		return nil, fmt.Errorf("list runs of %s: %w", job, err)
	}
	var latest *v1alpha1.ProwJob
	seen := false
	for i := range list.Items {
		pj := &list.Items[i]
		if pj.Spec.Type != v1alpha1.PeriodicJob {
			continue
		}
		if mine := r.created[job]; mine != nil && mine.Namespace == ns && mine.Name == pj.Name {
			seen = true
		}
		if latest == nil || startOf(pj).After(startOf(latest)) {
			latest = pj
		}
	}
	if mine := r.created[job]; mine != nil && mine.Namespace == ns {
		if seen {
			delete(r.created, job)
		} else if latest == nil || !startOf(mine).Before(startOf(latest)) {
			return mine, nil
		}
	}
	return latest, nil
}

// create makes one run of a periodic; attempt > 0 marks a retry with
// Prow's re-run label, holding the attempt.
func (r *Runner) create(ctx context.Context, ns string, j Job, attempt int, now time.Time) (*v1alpha1.ProwJob, error) {
	spec := *j.Spec.DeepCopy()
	spec.Type, spec.Job = v1alpha1.PeriodicJob, j.Name
	pj := jobspec.NewRun(ns, uuid.NewString(), spec, j.Labels, j.Annotations, now)
	if attempt > 0 {
		pj.Labels[v1alpha1.RerunLabel] = strconv.Itoa(attempt)
	}
	if err := r.Client.Create(ctx, pj); err != nil {
		return nil, fmt.Errorf("create run of %s: %w", j.Name, err)
	}
	if r.created == nil {
		r.created = map[string]*v1alpha1.ProwJob{}
	}
	mine := pj.DeepCopy()
	if mine.CreationTimestamp.IsZero() {
		mine.CreationTimestamp = metav1.NewTime(now)
	}
	r.created[j.Name] = mine
	return pj, nil
}

func (r *Runner) clock() clock.PassiveClock {
	if r.Clock == nil {
		return clock.RealClock{}
	}
	return r.Clock
}
