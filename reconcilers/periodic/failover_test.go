package periodic

import (
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

// TestNewLeaderDoesNotRunAgain hands the periodic role from one leader to
// another, as a failover does: the new leader starts with nothing in memory
// (a fresh Runner and a fresh cache) and decides from the runs in the API
// server alone, so what the old leader started, even an instant before it
// died, is not started again.
func TestNewLeaderDoesNotRunAgain(t *testing.T) {
	ns := env.Namespace(t)
	start := time.Now().UTC().Truncate(10 * time.Minute).Add(10*time.Minute - 30*time.Second)
	clk := clocktesting.NewFakeClock(start)
	cfg := Config{TickInterval: time.Hour, Namespace: ns, Periodics: []Job{
		{Name: "ci-interval", Interval: time.Hour, Spec: spec()},
		{Name: "ci-minimum", MinimumInterval: 10 * time.Minute, Spec: spec()},
		{Name: "ci-cron", Cron: "*/10 * * * *", Spec: spec()},
	}}
	leader := func() *Runner {
		t.Helper()
		mgr := env.Manager(t, ns)
		if err := prowjob.IndexFields(t.Context(), mgr.GetFieldIndexer()); err != nil {
			t.Fatal(err)
		}
		stop := envtest.Run(t, mgr)
		t.Cleanup(stop)
		if !mgr.GetCache().WaitForCacheSync(t.Context()) {
			t.Fatal("cache did not sync")
		}
		return &Runner{Client: mgr.GetClient(), Clock: clk, Config: func() Config { return cfg }}
	}
	count := func() map[string]int {
		t.Helper()
		var list v1alpha1.ProwJobList
		if err := env.Client.List(t.Context(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, pj := range list.Items {
			out[pj.Spec.Job]++
		}
		return out
	}

	old := leader()
	if err := old.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Minute) // past the 10-minute mark
	if err := old.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"ci-interval": 1, "ci-minimum": 1, "ci-cron": 1}
	if got := count(); len(got) != 3 || got["ci-interval"] != 1 || got["ci-minimum"] != 1 || got["ci-cron"] != 1 {
		t.Fatalf("the old leader started %v, want %v", got, want)
	}

	// The old leader dies right after its last tick; the new one takes
	// the lease a lease duration later, and checks at once.
	clk.Step(15 * time.Second)
	next := leader()
	if err := next.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := count(); got["ci-interval"] != 1 || got["ci-minimum"] != 1 || got["ci-cron"] != 1 {
		t.Errorf("after the failover there are %v runs, want still %v", got, want)
	}
}
