package faults

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// leaderJobs are a presubmit and an hourly periodic, run as pods.
const leaderJobs = `presubmits:
  acme/widgets:
  - name: unit
    always_run: true
    spec:
      containers:
      - image: alpine
        command: ["true"]
periodics:
- name: hourly
  interval: 1h
  spec:
    containers:
    - image: alpine
      command: ["true"]
`

// laterPeriodic is a periodic added once the new leader leads, after the
// hourly one (in the file and by name), so that the runner looks at the
// hourly one first.
const laterPeriodic = `- name: later
  interval: 1h
  spec:
    containers:
    - image: alpine
      command: ["true"]
`

// TestLeaderKilledMidJob runs two operator replicas with leader election,
// as bowline bootstrap installs them, kills the leader with SIGKILL while
// a presubmit and a periodic run, and checks that the other replica takes
// over: the runs finish, a pull request opened while no replica led is
// tested too, every state is reported once per context and commit, and
// the periodic is not started again.
func TestLeaderKilledMidJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t, cp, worldOptions{jobs: leaderJobs, plugins: []string{"trigger"}})
	var finish atomic.Bool
	w.runKubelet(func(*corev1.Pod) bool { return finish.Load() })

	start := time.Now()
	a := w.startReplica("a")
	w.eventually("replica a to lead", time.Minute, func() (bool, string) { return a.leadsAll() })
	b := w.startReplica("b")
	w.waitConfig()

	// The periodic starts at once (it never ran), the presubmit with the
	// pull request; both pods run and wait.
	w.eventually("the periodic running", time.Minute, func() (bool, string) {
		runs := w.prowJobs("hourly")
		return len(runs) == 1 && runs[0].Status.State == v1alpha1.PendingState, describe(runs)
	})
	t.Logf("replicas up, the periodic running after %s", time.Since(start).Round(100*time.Millisecond))
	_, sha := w.openPR("first")
	w.eventually("the presubmit's pending status", time.Minute, func() (bool, string) {
		st := w.statuses(sha)
		return count(st, "unit=pending") == 1, fmt.Sprint(st)
	})
	for _, role := range aloneRoles {
		if b.leads(role) {
			t.Fatalf("both replicas lead the %s role", role)
		}
	}

	t.Logf("the presubmit running after %s", time.Since(start).Round(100*time.Millisecond))
	a.kill(t)
	killed := time.Now()
	// Delivered while no replica leads: b's webhook server takes it.
	_, sha2 := w.openPR("second")
	w.eventually("replica b to lead", time.Minute, func() (bool, string) { return b.leadsAll() })
	t.Logf("replica b leads %s after the leader was killed", time.Since(killed).Round(100*time.Millisecond))

	finish.Store(true)
	for _, sha := range []string{sha, sha2} {
		w.eventually("the presubmit's success status on "+sha[:7], time.Minute, func() (bool, string) {
			st := w.statuses(sha)
			return count(st, "unit=success") >= 1, fmt.Sprint(st)
		})
	}
	t.Logf("both presubmits done after %s", time.Since(start).Round(100*time.Millisecond))
	w.eventually("the periodic's run to succeed", time.Minute, func() (bool, string) {
		runs := w.prowJobs("hourly")
		return len(runs) >= 1 && runs[len(runs)-1].Status.State == v1alpha1.SuccessState, describe(runs)
	})
	// A periodic added now is started by the new leader's periodic loop,
	// in the same pass that looks at the hourly one again: once it runs,
	// the new leader has decided about the hourly job, from the run the
	// killed leader started.
	w.changeConfig(map[string]string{"config/jobs/acme/widgets.yaml": leaderJobs + laterPeriodic})
	w.eventually("the periodic added after the failover started", time.Minute, func() (bool, string) {
		runs := w.prowJobs("later")
		return len(runs) == 1, describe(runs)
	})
	if runs := w.prowJobs("hourly"); len(runs) != 1 {
		t.Errorf("the periodic ran %d times, want once: %s", len(runs), describe(runs))
	}
	// The first pull request's pending status was seen before the kill;
	// the second's run may have finished before the new leader's reporter
	// first saw it, which then reports only the result.
	if st := w.statuses(sha); fmt.Sprint(st) != "[unit=pending unit=success]" {
		t.Errorf("statuses on %s: %v, want unit=pending then unit=success, once each", sha[:7], st)
	}
	if st := w.statuses(sha2); count(st, "unit=success") != 1 || count(st, "unit=pending") > 1 || len(st) != count(st, "unit=success")+count(st, "unit=pending") || st[len(st)-1] != "unit=success" {
		t.Errorf("statuses on %s: %v, want unit=pending (at most once) then unit=success, once", sha2[:7], st)
	}
	if runs := w.prowJobs("unit"); len(runs) != 2 {
		t.Errorf("the presubmit ran %d times, want twice (once per pull request): %s", len(runs), describe(runs))
	}
}

// aloneRoles are the roles that act alone, each under its own lease.
var aloneRoles = []string{"config", "jobs", "reporter", "periodic", "merge"}

// leadsAll reports whether the replica leads every role that acts alone,
// and which ones it does not.
func (r *replica) leadsAll() (bool, string) {
	var not []string
	for _, role := range aloneRoles {
		if !r.leads(role) {
			not = append(not, role)
		}
	}
	return len(not) == 0, fmt.Sprintf("not leading %v", not)
}

// describe lists runs and their states, for failure messages.
func describe(runs []v1alpha1.ProwJob) string {
	s := fmt.Sprintf("%d runs:", len(runs))
	for _, r := range runs {
		s += fmt.Sprintf(" %s=%s", r.Name, r.Status.State)
	}
	return s
}
