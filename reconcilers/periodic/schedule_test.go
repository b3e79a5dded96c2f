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

func TestParseCronRejectsSixFields(t *testing.T) {
	if _, err := parseCron("0 0 12 * * *"); err == nil {
		t.Error("six-field expression accepted")
	}
	if _, err := parseCron("*/5 * * * *"); err != nil {
		t.Error(err)
	}
}
