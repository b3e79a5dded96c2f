package periodic

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 30, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }
	run := func(start, end time.Duration, done bool) *v1alpha1.ProwJob {
		pj := &v1alpha1.ProwJob{}
		pj.Status.StartTime = at(start)
		if done {
			pj.Status.CompletionTime = at(end)
		}
		return pj
	}
	hourly := Job{Name: "hourly", Interval: time.Hour}
	minimum := Job{Name: "min", MinimumInterval: 10 * time.Minute}
	noon := Job{Name: "noon", Cron: "0 12 * * *"}
	tests := []struct {
		name     string
		job      Job
		latest   *v1alpha1.ProwJob
		since    time.Time
		wantRun  bool
		wantNext time.Time
	}{
		{name: "interval: never ran, runs now", job: hourly, wantRun: true},
		{name: "interval: active run waits", job: hourly, latest: run(-2*time.Hour, 0, false)},
		{name: "interval: finished, interval not yet over since start", job: hourly, latest: run(-50*time.Minute, -40*time.Minute, true),
			wantNext: now.Add(10 * time.Minute)},
		{name: "interval: finished, interval over since start", job: hourly, latest: run(-61*time.Minute, -10*time.Minute, true), wantRun: true},
		{name: "minimum_interval: measured from completion", job: minimum, latest: run(-time.Hour, -5*time.Minute, true),
			wantNext: now.Add(5 * time.Minute)},
		{name: "minimum_interval: over since completion", job: minimum, latest: run(-time.Hour, -11*time.Minute, true), wantRun: true},
		{name: "minimum_interval: never ran, runs now", job: minimum, wantRun: true},
		{name: "no schedule never runs", job: Job{Name: "none"}},
		{name: "cron: never ran waits for the schedule", job: noon, since: now, wantNext: now.Add(24*time.Hour - 30*time.Second)},
		{name: "cron: scheduled time passed since last check", job: noon, since: now.Add(-time.Minute), wantRun: true,
			wantNext: now.Add(24*time.Hour - 30*time.Second)},
		{name: "cron: scheduled time passed, previous finished", job: noon, since: now.Add(-time.Minute),
			latest: run(-24*time.Hour, -23*time.Hour, true), wantRun: true, wantNext: now.Add(24*time.Hour - 30*time.Second)},
		{name: "cron: scheduled time passed while a run is active is skipped", job: noon, since: now.Add(-time.Minute),
			latest: run(-time.Hour, 0, false), wantNext: now.Add(24*time.Hour - 30*time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sched cronSchedule
			if tt.job.Cron != "" {
				s, err := parseCron(tt.job.Cron)
				if err != nil {
					t.Fatal(err)
				}
				sched = s
			}
			since := tt.since
			if since.IsZero() {
				since = now.Add(-time.Minute)
			}
			v := decide(tt.job, sched, tt.latest, since, now)
			if v.run != tt.wantRun || !v.next.Equal(tt.wantNext) {
				t.Errorf("decide() = {run %t, next %s}, want {run %t, next %s}", v.run, v.next, tt.wantRun, tt.wantNext)
			}
		})
	}
}

// TestParseCron: Prow's horologium takes five fields, six with seconds
// first, and descriptors; the seconds field is honoured.
func TestParseCron(t *testing.T) {
	at := time.Date(2026, 5, 1, 11, 59, 0, 0, time.UTC)
	tests := []struct {
		expr string
		next time.Time // zero when the expression is refused
	}{
		{"*/5 * * * *", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"30 0 12 * * *", time.Date(2026, 5, 1, 12, 0, 30, 0, time.UTC)},
		{"@hourly", time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"0 0 0 12 * * *", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := parseCron(tt.expr)
			if tt.next.IsZero() {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(at); !got.Equal(tt.next) {
				t.Errorf("next = %s, want %s", got, tt.next)
			}
		})
	}
}

// TestRetry follows Prow's horologium (shouldTriggerFailedRun): a failed
// newest run is run again, up to attempts (counted by the re-run label),
// once more than the interval passed since it started; run_all retries
// whatever the outcome, even while the newest run is running.
func TestRetry(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 30, 0, time.UTC)
	run := func(state v1alpha1.ProwJobState, startedAgo time.Duration, attempt string) *v1alpha1.ProwJob {
		pj := &v1alpha1.ProwJob{}
		start := metav1.NewTime(now.Add(-startedAgo))
		pj.Status.StartTime, pj.Status.State = &start, state
		if state != v1alpha1.PendingState {
			end := metav1.NewTime(now.Add(-time.Second))
			pj.Status.CompletionTime = &end
		}
		if attempt != "" {
			pj.Labels = map[string]string{v1alpha1.RerunLabel: attempt}
		}
		return pj
	}
	daily := Job{Name: "daily", Interval: 24 * time.Hour}
	with := func(r Retry) Job { j := daily; j.Retry = &r; return j }
	three := Retry{Attempts: 3, Interval: 10 * time.Minute}
	tests := []struct {
		name        string
		job         Job
		latest      *v1alpha1.ProwJob
		wantAttempt int // 0: no retry
	}{
		{"no retry setting", daily, run(v1alpha1.FailureState, time.Hour, ""), 0},
		{"failed scheduled run: first attempt", with(three), run(v1alpha1.FailureState, time.Hour, ""), 1},
		{"errored run is retried too", with(three), run(v1alpha1.ErrorState, time.Hour, ""), 1},
		{"failed second attempt: third", with(three), run(v1alpha1.FailureState, time.Hour, "2"), 3},
		{"attempts used up", with(three), run(v1alpha1.FailureState, time.Hour, "3"), 0},
		{"within the interval since the start", with(three), run(v1alpha1.FailureState, 5*time.Minute, ""), 0},
		{"success is not retried", with(three), run(v1alpha1.SuccessState, time.Hour, ""), 0},
		{"running is not retried", with(three), run(v1alpha1.PendingState, time.Hour, ""), 0},
		{"run_all retries success", with(Retry{Attempts: 2, RunAll: true}), run(v1alpha1.SuccessState, time.Hour, "1"), 2},
		{"run_all does not wait for the run to end", with(Retry{Attempts: 2, RunAll: true}), run(v1alpha1.PendingState, time.Hour, ""), 1},
		{"attempts capped at 10", with(Retry{Attempts: 50}), run(v1alpha1.FailureState, time.Hour, "10"), 0},
		{"unreadable re-run label", with(three), run(v1alpha1.FailureState, time.Hour, "true"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := decide(tt.job, nil, tt.latest, now.Add(-time.Minute), now)
			if v.run != (tt.wantAttempt > 0) || v.attempt != tt.wantAttempt {
				t.Errorf("decide() = {run %t, attempt %d}, want attempt %d", v.run, v.attempt, tt.wantAttempt)
			}
		})
	}
	// The schedule wins over a retry: a due scheduled run is no retry.
	due := with(three)
	if v := decide(due, nil, run(v1alpha1.FailureState, 25*time.Hour, "2"), now.Add(-time.Minute), now); !v.run || v.attempt != 0 {
		t.Errorf("due periodic: %+v, want a scheduled run", v)
	}
}
