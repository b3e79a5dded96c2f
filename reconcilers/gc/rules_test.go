package gc

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestPlanProwJobs(t *testing.T) {
	now := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-d)); return &t }
	run := func(name string, typ v1alpha1.ProwJobType, job string, startedAgo time.Duration, complete bool) v1alpha1.ProwJob {
		pj := v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: name}, Spec: v1alpha1.ProwJobSpec{Type: typ, Job: job}}
		pj.Status.StartTime = ago(startedAgo)
		if complete {
			pj.Status.CompletionTime = ago(startedAgo - time.Minute)
		}
		return pj
	}
	day := 24 * time.Hour
	pjs := []v1alpha1.ProwJob{
		run("old-presubmit", v1alpha1.PresubmitJob, "unit", 8*day, true),
		run("young-presubmit", v1alpha1.PresubmitJob, "unit", 6*day, true),
		run("old-but-running", v1alpha1.PresubmitJob, "unit", 9*day, false),
		run("periodic-older", v1alpha1.PeriodicJob, "nightly", 10*day, true),
		run("periodic-newest", v1alpha1.PeriodicJob, "nightly", 8*day, true),
		run("removed-periodic", v1alpha1.PeriodicJob, "gone", 8*day, true),
	}
	p := planProwJobs(pjs, Config{Periodics: []string{"nightly"}}.withDefaults(), now)
	var got []string
	for _, d := range p.delete {
		got = append(got, d.name+":"+d.reason)
	}
	slices.Sort(got)
	want := []string{"old-presubmit:aged", "periodic-older:aged-periodic", "removed-periodic:aged-periodic"}
	if !slices.Equal(got, want) {
		t.Errorf("deleted %v, want %v", got, want)
	}
	if !p.runs[key{"ci", "old-presubmit"}].deleted || p.runs[key{"ci", "periodic-newest"}].deleted {
		t.Errorf("runs = %+v", p.runs)
	}
}

func TestPodReason(t *testing.T) {
	now := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	cfg := Config{MaxPodAge: 24 * time.Hour, TerminatedPodTTL: 30 * time.Minute}.withDefaults()
	pod := func(startedAgo time.Duration) *corev1.Pod {
		p := &corev1.Pod{}
		if startedAgo > 0 {
			t := metav1.NewTime(now.Add(-startedAgo))
			p.Status.StartTime = &t
		}
		return p
	}
	done := func(ago time.Duration) runInfo { return runInfo{complete: true, completion: now.Add(-ago)} }
	tests := []struct {
		name  string
		pod   *corev1.Pod
		run   runInfo
		known bool
		want  string
	}{
		{name: "orphaned", pod: pod(time.Minute), known: false, want: reasonOrphaned},
		{name: "running run is kept however old", pod: pod(72 * time.Hour), run: runInfo{}, known: true, want: ""},
		{name: "aged", pod: pod(25 * time.Hour), run: done(time.Minute), known: true, want: reasonAged},
		{name: "terminated past ttl", pod: pod(time.Hour), run: done(31 * time.Minute), known: true, want: reasonTTLed},
		{name: "terminated within ttl", pod: pod(time.Hour), run: done(29 * time.Minute), known: true, want: ""},
		{name: "never started, run completed past ttl", pod: pod(0), run: done(time.Hour), known: true, want: reasonTTLed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podReason(tt.pod, tt.run, tt.known, cfg, now); got != tt.want {
				t.Errorf("podReason() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.MaxProwJobAge != 7*24*time.Hour || c.MaxPodAge != 24*time.Hour || c.TerminatedPodTTL != c.MaxPodAge || c.ResyncPeriod != time.Hour {
		t.Errorf("defaults = %+v", c)
	}
}
