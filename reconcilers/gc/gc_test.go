package gc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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

func TestCollect(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	now := time.Now()
	clk := clocktesting.NewFakeClock(now)
	day := 24 * time.Hour

	// run creates a ProwJob that started startedAgo and, unless running,
	// completed a minute later, with a pod that started then too.
	run := func(name string, typ v1alpha1.ProwJobType, job string, startedAgo time.Duration, complete bool) {
		t.Helper()
		pj := &v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1alpha1.ProwJobSpec{
			Type: typ, Job: job, Agent: v1alpha1.JenkinsAgent, Refs: &v1alpha1.Refs{Org: "acme", Repo: "rocket"},
		}}
		if typ == v1alpha1.PresubmitJob {
			pj.Spec.Refs.Pulls = []v1alpha1.Pull{{Number: 1}}
		}
		if err := env.Client.Create(ctx, pj); err != nil {
			t.Fatal(err)
		}
		start := metav1.NewTime(now.Add(-startedAgo))
		pj.Status.State, pj.Status.StartTime = v1alpha1.PendingState, &start
		if complete {
			end := metav1.NewTime(now.Add(-startedAgo + time.Minute))
			pj.Status.State, pj.Status.CompletionTime = v1alpha1.SuccessState, &end
		}
		if err := env.Client.Status().Update(ctx, pj); err != nil {
			t.Fatal(err)
		}
		makePod(t, ns, name, start)
	}
	run("old-presubmit", v1alpha1.PresubmitJob, "unit", 8*day, true)
	run("young-presubmit", v1alpha1.PresubmitJob, "unit", 2*time.Hour, true)
	run("fresh-presubmit", v1alpha1.PresubmitJob, "unit", 10*time.Minute, true)
	run("old-running", v1alpha1.PresubmitJob, "unit", 3*day, false)
	run("periodic-older", v1alpha1.PeriodicJob, "nightly", 9*day, true)
	run("periodic-newest", v1alpha1.PeriodicJob, "nightly", 8*day, true)
	makePod(t, ns, "orphan", metav1.NewTime(now))
	stranger := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "not-ours"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
	if err := env.Client.Create(ctx, stranger); err != nil {
		t.Fatal(err)
	}

	mgr := env.Manager(t, ns, func(o *ctrl.Options) { o.Cache.ByObject = prowjob.CacheByObject() })
	metrics, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The configuration's prowjob_namespace wins over the collector's own,
	// a fallback for when no configuration names one.
	c := &Collector{Namespace: "not-this-one", Clock: clk, Metrics: metrics,
		Config: func() Config {
			return Config{Namespace: ns, TerminatedPodTTL: 30 * time.Minute, Periodics: []string{"nightly"}}
		}}
	if err := c.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.GetCache().Start(mctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if !mgr.GetCache().WaitForCacheSync(mctx) {
		t.Fatal("cache did not sync")
	}
	// The cache must hold every run before collecting, or all pods look
	// like orphans to it (the API server check would still save them).
	eventually(t, func() error {
		var list v1alpha1.ProwJobList
		if err := mgr.GetClient().List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, pj := range list.Items {
			if pj.Status.StartTime == nil {
				return fmt.Errorf("%s has no start time in the cache yet", pj.Name)
			}
		}
		if len(list.Items) != 6 {
			return fmt.Errorf("%d runs cached", len(list.Items))
		}
		var pods corev1.PodList
		if err := mgr.GetClient().List(ctx, &pods, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, p := range pods.Items {
			if p.Status.StartTime == nil {
				return fmt.Errorf("pod %s has no start time in the cache yet", p.Name)
			}
		}
		if len(pods.Items) != 7 {
			return fmt.Errorf("%d job pods cached", len(pods.Items))
		}
		return nil
	})
	if err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	exists := func(obj client.Object, name string) bool {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	wantJobs := map[string]bool{"old-presubmit": false, "young-presubmit": true, "fresh-presubmit": true, "old-running": true,
		"periodic-older": false, "periodic-newest": true}
	for name, want := range wantJobs {
		if got := exists(&v1alpha1.ProwJob{}, name); got != want {
			t.Errorf("ProwJob %s exists = %t, want %t", name, got, want)
		}
	}
	wantPods := map[string]bool{
		"old-presubmit":   false, // its run was deleted
		"young-presubmit": false, // terminated more than 30m ago
		"fresh-presubmit": true,
		"old-running":     true, // never while the run is in flight
		"periodic-older":  false,
		"periodic-newest": false, // aged
		"orphan":          false,
		"not-ours":        true,
	}
	for name, want := range wantPods {
		if got := exists(&corev1.Pod{}, name); got != want {
			t.Errorf("pod %s exists = %t, want %t", name, got, want)
		}
	}
}

func makePod(t *testing.T, ns, job string, started metav1.Time) {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: job, Labels: map[string]string{
			v1alpha1.CreatedByLabel: "true", v1alpha1.IDLabel: job, v1alpha1.ProwJobNamespaceLabel: ns,
		}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "registry.example/test:1"}}},
	}
	if err := env.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status.StartTime = &started
	if err := env.Client.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
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
