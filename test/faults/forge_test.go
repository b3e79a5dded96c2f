package faults

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/sandbox/forge"
)

// TestForgeFaults makes the forge answer bowline's requests with server
// errors, then secondary rate limits, then not at all in time, while a
// pull request is tested: the trigger's reads of GitHub and the reporter's
// commit statuses meet the faults, and everything is retried within the
// budget (the client's retries of reads, the hook's attempts per plugin,
// the reporter's requeues), so that every pull request is tested once and
// its result reported once.
func TestForgeFaults(t *testing.T) {
	t.Parallel()
	w := newWorld(t, cp, worldOptions{jobs: presubmitJobs, plugins: []string{"trigger"}})
	w.runKubelet(func(*corev1.Pod) bool { return true })
	// One attempt waits a second at most, so that a late answer costs the
	// test little; reads are retried after it, writes requeued.
	w.startReplica("a", "--github-request-timeout", "1s")
	w.waitConfig()

	statuses := "/repos/acme/widgets/statuses/*"
	late := forge.Duration{Duration: 3 * time.Second}
	phases := []struct {
		name  string
		rules []forge.FaultRule
	}{
		{name: "server errors", rules: []forge.FaultRule{
			{Method: http.MethodPost, Path: statuses, Status: http.StatusBadGateway, Count: 2},
			{Method: http.MethodGet, Path: "/**", Status: http.StatusServiceUnavailable, Count: 3},
		}},
		{name: "secondary rate limits", rules: []forge.FaultRule{
			{Method: http.MethodPost, Path: statuses, Status: http.StatusForbidden, RetryAfter: 1, Count: 2},
			{Method: http.MethodGet, Path: "/**", Status: http.StatusForbidden, RetryAfter: 1, Count: 3},
		}},
		{name: "timeouts", rules: []forge.FaultRule{
			{Method: http.MethodPost, Path: statuses, Delay: late, Count: 2},
			{Method: http.MethodGet, Path: "/**", Delay: late, Count: 2},
		}},
	}
	for i, p := range phases {
		start := time.Now()
		w.forge.Forge.ClearFaults()
		if _, err := w.forge.Forge.AddFaults(p.rules...); err != nil {
			t.Fatal(err)
		}
		_, sha := w.openPR(fmt.Sprintf("faults-%d", i))
		w.eventually("the presubmit's success status through "+p.name, 2*time.Minute, func() (bool, string) {
			st := w.statuses(sha)
			return count(st, "unit=success") >= 1, fmt.Sprint(st)
		})
		// The statuses are posted first thing: both faulted posts have been
		// tried by now. The reads may have met the faults or not yet.
		for _, r := range w.forge.Forge.Faults() {
			if r.Method == http.MethodPost && r.Hits != r.Count {
				t.Errorf("%s: rule %s %s applied %d times, want %d", p.name, r.Method, r.Path, r.Hits, r.Count)
			}
			t.Logf("%s: %s %s answered %d of bowline's requests", p.name, r.Method, r.Path, r.Hits)
		}
		st := w.statuses(sha)
		if count(st, "unit=success") != 1 || count(st, "unit=pending") > 1 || len(st) != count(st, "unit=success")+count(st, "unit=pending") || st[len(st)-1] != "unit=success" {
			t.Errorf("%s: statuses %v, want unit=pending (at most once) then unit=success, once", p.name, st)
		}
		if runs := w.prowJobs("unit"); len(runs) != i+1 {
			t.Errorf("%s: %d runs of the presubmit for %d pull requests: %s", p.name, len(runs), i+1, describe(runs))
		}
		t.Logf("%s: pull request tested and reported in %s, statuses %v", p.name, time.Since(start).Round(100*time.Millisecond), st)
	}
}
