package periodic

import (
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	envtest.Main(m, &env)
}

func spec() v1alpha1.ProwJobSpec {
	return v1alpha1.ProwJobSpec{Agent: v1alpha1.KubernetesAgent, PodSpec: &corev1.PodSpec{
		Containers: []corev1.Container{{Name: "test", Image: "registry.example/periodic:1"}}}}
}

// TestRunnerCreatesRuns drives the runner tick by tick with a fake clock
// against the real API server, finishing runs as the job controller would.
func TestRunnerCreatesRuns(t *testing.T) {
	ns := env.Namespace(t)
	// Fifty seconds before a scheduled 10-minute mark.
	start := time.Now().UTC().Truncate(10 * time.Minute).Add(10*time.Minute - 50*time.Second)
	clk := clocktesting.NewFakeClock(start)
	mgr := env.Manager(t, ns)
	cfg := Config{TickInterval: time.Hour, Periodics: []Job{
		{Name: "ci-interval", Interval: time.Hour, Spec: spec(), Labels: map[string]string{"team": "infra"}},
		{Name: "ci-minimum", MinimumInterval: 10 * time.Minute, Spec: spec()},
		{Name: "ci-cron", Cron: "*/10 * * * *", Spec: spec()},
		{Name: "ci-retried", Interval: 24 * time.Hour, Spec: spec(), Retry: &Retry{Attempts: 1, Interval: time.Minute}},
	}}
	// The namespace is the configuration's prowjob_namespace; the runner's
	// own is only a fallback.
	cfg.Namespace = ns
	r := &Runner{Client: mgr.GetClient(), Namespace: "not-this-one", Clock: clk, Config: func() Config { return cfg }}
	ctx := t.Context()
	if err := prowjob.IndexFields(ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	envtest.Run(t, mgr)
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}

	sync := func() {
		t.Helper()
		if err := r.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runs := func(job string) []v1alpha1.ProwJob {
		t.Helper()
		var list v1alpha1.ProwJobList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		var out []v1alpha1.ProwJob
		for _, pj := range list.Items {
			if pj.Spec.Job == job {
				out = append(out, pj)
			}
		}
		return out
	}
	wantRuns := func(job string, n int) []v1alpha1.ProwJob {
		t.Helper()
		got := runs(job)
		if len(got) != n {
			t.Fatalf("%s has %d runs, want %d", job, len(got), n)
		}
		return got
	}
	finish := func(job string, started, completed time.Time, state ...v1alpha1.ProwJobState) {
		t.Helper()
		for _, pj := range runs(job) {
			if pj.Complete() {
				continue
			}
			patch := client.MergeFrom(pj.DeepCopy())
			s, c := metav1.NewTime(started), metav1.NewTime(completed)
			pj.Status.State, pj.Status.StartTime, pj.Status.CompletionTime = v1alpha1.SuccessState, &s, &c
			if len(state) > 0 {
				pj.Status.State = state[0]
			}
			if err := env.Client.Status().Patch(ctx, &pj, patch); err != nil {
				t.Fatal(err)
			}
			// Wait until the runner's cache sees the run complete.
			eventually(t, func() error {
				var got v1alpha1.ProwJob
				if err := mgr.GetClient().Get(ctx, client.ObjectKeyFromObject(&pj), &got); err != nil {
					return err
				}
				if !got.Complete() {
					return fmt.Errorf("%s not complete in cache", pj.Name)
				}
				return nil
			})
		}
	}

	// Start-up: interval and minimum_interval periodics that never ran run
	// now; the cron one waits for its schedule.
	sync()
	pj := wantRuns("ci-interval", 1)[0]
	if pj.Spec.Type != v1alpha1.PeriodicJob || pj.Labels["team"] != "infra" || pj.Labels[v1alpha1.CreatedByLabel] != "true" ||
		pj.Labels[v1alpha1.TypeLabel] != "periodic" || pj.Annotations[v1alpha1.JobAnnotation] != "ci-interval" {
		t.Errorf("run = %+v / %+v", pj.Spec, pj.ObjectMeta)
	}
	wantRuns("ci-minimum", 1)
	wantRuns("ci-cron", 0)

	// A second tick while the runs are active starts nothing, even before
	// the cache has seen the new runs.
	sync()
	wantRuns("ci-interval", 1)
	wantRuns("ci-minimum", 1)

	// The schedule passes: the cron periodic runs.
	clk.Step(time.Minute)
	sync()
	wantRuns("ci-cron", 1)

	// Runs finish; the minimum interval counts from completion, the
	// interval from the start.
	t0 := clk.Now()
	finish("ci-interval", t0.Add(-5*time.Minute), t0)
	finish("ci-minimum", t0.Add(-5*time.Minute), t0)
	clk.Step(9 * time.Minute)
	sync()
	wantRuns("ci-minimum", 1)
	wantRuns("ci-interval", 1)
	clk.Step(2 * time.Minute)
	sync()
	wantRuns("ci-minimum", 2)
	wantRuns("ci-interval", 1)
	wantRuns("ci-cron", 1) // the next 10-minute mark passed while its run was active
	clk.Step(50 * time.Minute)
	sync()
	wantRuns("ci-interval", 2)

	// A failed run of a periodic with retry runs again once, marked with
	// Prow's re-run label, then waits for its schedule.
	wantRuns("ci-retried", 1)
	finish("ci-retried", clk.Now().Add(-2*time.Minute), clk.Now(), v1alpha1.FailureState)
	sync()
	retried := wantRuns("ci-retried", 2)
	var attempt *v1alpha1.ProwJob
	for i := range retried {
		if !retried[i].Complete() {
			attempt = &retried[i]
		}
	}
	if attempt == nil || attempt.Labels[v1alpha1.RerunLabel] != "1" {
		t.Fatalf("retry = %+v", attempt)
	}
	finish("ci-retried", clk.Now(), clk.Now().Add(time.Minute), v1alpha1.FailureState)
	clk.Step(5 * time.Minute)
	sync()
	wantRuns("ci-retried", 2)
}

func eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
