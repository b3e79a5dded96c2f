package faults

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/test/envtest"
)

// TestAPIServerRestartUnderLoad kills the API server (SIGKILL, as a crash
// does) of a control plane of its own while two replicas test pull
// requests, some opened before and running, some opened while it is away
// (their deliveries reach a hook that cannot create runs yet), and starts
// it again once the leader, unable to renew its leases, has given its
// roles up; that replica then drains its webhook queue and exits, and is
// started again as its kubelet would. Every pull request is tested once
// and its result reported once.
func TestAPIServerRestartUnderLoad(t *testing.T) {
	t.Parallel()
	env, err := envtest.StartRestartable()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	})
	w := newWorld(t, env, worldOptions{jobs: presubmitJobs, plugins: []string{"trigger"}})
	w.runKubelet(func(*corev1.Pod) bool { return true })
	// A delivery is handled in up to 10 attempts, backing off from 250ms
	// to 10s (46s in all), rather than the default 5 (4s): the API server
	// stays away past the leader's renew deadline (7s), and may take long
	// to start on a loaded machine.
	attempts := []string{"--hook-max-attempts", "10"}
	a := w.startReplica("a", attempts...)
	w.eventually("replica a to lead", time.Minute, func() (bool, string) { return a.leadsAll() })
	b := w.startReplica("b", attempts...)
	restarts := []func() int{w.supervise(a, attempts...), w.supervise(b, attempts...)}
	w.waitConfig()

	const perPhase = 4
	var shas []string
	for i := range perPhase {
		_, sha := w.openPR(fmt.Sprintf("before-%d", i))
		shas = append(shas, sha)
	}
	if err := w.forge.Forge.Flush(w.ctx); err != nil {
		t.Fatal(err)
	}

	down := time.Now()
	if err := env.KillAPIServer(); err != nil {
		t.Fatal(err)
	}
	killed := time.Since(down)
	for i := range perPhase {
		_, sha := w.openPR(fmt.Sprintf("during-%d", i))
		shas = append(shas, sha)
	}
	// Every delivery has been answered by a hook replica, and the trigger
	// has failed to create a run and is retrying, before the API server
	// comes back.
	if err := w.forge.Forge.Flush(w.ctx); err != nil {
		t.Fatal(err)
	}
	retried := func() float64 {
		return a.metric("bowline_plugin_handled_total", `plugin="trigger"`, `outcome="retried"`) +
			b.metric("bowline_plugin_handled_total", `plugin="trigger"`, `outcome="retried"`)
	}
	w.eventually("the trigger retrying against the absent API server", time.Minute, func() (bool, string) {
		return retried() > 0, "no retry yet"
	})
	t.Logf("the trigger retrying: %v retries", retried())
	// The leader cannot renew its leases: past the renew deadline it gives
	// its roles up, drains its webhook queue (for --hook-grace-period) and
	// exits, to be started again.
	w.eventually("the leader to give its roles up", time.Minute, func() (bool, string) {
		select {
		case <-a.exited:
			return true, ""
		default:
		}
		leading, ok := a.scrape("leader_election_master_status")
		return ok && leading == 0, fmt.Sprintf("replica a leads %v roles", leading)
	})
	if err := env.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("the API server killed in %s, and away %s in all", killed.Round(100*time.Millisecond), time.Since(down).Round(100*time.Millisecond))

	for _, sha := range shas {
		w.eventually("the presubmit's success status on "+sha[:7], 2*time.Minute, func() (bool, string) {
			st := w.statuses(sha)
			return count(st, "unit=success") >= 1, fmt.Sprint(st)
		})
	}
	t.Logf("every pull request tested %s after the API server went away; replicas restarted: %d", time.Since(down).Round(100*time.Millisecond), restarts[0]()+restarts[1]())
	if restarts[1]() != 0 {
		t.Errorf("the standby replica exited %d times; only the leader should", restarts[1]())
	}
	for _, sha := range shas {
		st := w.statuses(sha)
		if count(st, "unit=success") != 1 || count(st, "unit=pending") > 1 || len(st) != count(st, "unit=success")+count(st, "unit=pending") || st[len(st)-1] != "unit=success" {
			t.Errorf("statuses on %s: %v, want unit=pending (at most once) then unit=success, once", sha[:7], st)
		}
	}
	// Replica a has exited: its count of handlings given up is gone with
	// it, but a delivery it gave up would have left a pull request
	// untested.
	if failed := b.metric("bowline_plugin_handled_total", `outcome="failed"`); failed != 0 {
		t.Errorf("replica b gave up %v plugin handlings", failed)
	}
	if runs := w.prowJobs("unit"); len(runs) != len(shas) {
		t.Errorf("%d runs of the presubmit for %d pull requests: %s", len(runs), len(shas), describe(runs))
	}
}
