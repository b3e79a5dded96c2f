package prowjob

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// benchJob is a ProwJob the size of a typical decorated Kubernetes
// presubmit: a test container with arguments, environment, resources and
// volumes, and a decoration config.
func benchJob(ns, name string) *v1alpha1.ProwJob {
	var env []corev1.EnvVar
	for i := range 12 {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("SETTING_%d", i), Value: fmt.Sprintf("value-of-setting-%d-for-the-e2e-suite", i)})
	}
	return &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
			"created-by-prow": "true", "prow.k8s.io/type": "presubmit", "prow.k8s.io/job": "pull-kubernetes-e2e-gce",
			"preset-service-account": "true", "preset-k8s-ssh": "true",
		}},
		Spec: v1alpha1.ProwJobSpec{
			Type: v1alpha1.PresubmitJob, Agent: v1alpha1.KubernetesAgent, Cluster: DefaultCluster,
			Job: "pull-kubernetes-e2e-gce", Context: "pull-kubernetes-e2e-gce", Report: true,
			RerunCommand: "/test pull-kubernetes-e2e-gce",
			Refs: &v1alpha1.Refs{Org: "kubernetes", Repo: "kubernetes", BaseRef: "master",
				BaseSHA: "0123456789abcdef0123456789abcdef01234567", PathAlias: "k8s.io/kubernetes",
				Pulls: []v1alpha1.Pull{{Number: 123456, Author: "contributor", SHA: "89abcdef0123456789abcdef0123456789abcdef",
					Title: "Fix the scheduler's handling of preemption under heavy load"}}},
			PodSpec: &corev1.PodSpec{
				ServiceAccountName: "prow-build",
				Containers: []corev1.Container{{
					Name:    "test",
					Image:   "gcr.io/k8s-staging-test-infra/kubekins-e2e:v20260801-master",
					Command: []string{"runner.sh"},
					Args: []string{"./test/e2e.sh", "--provider=gce", "--gcp-zone=us-central1-b", "--ginkgo-parallel=30",
						"--test_args=--ginkgo.skip=\\[Slow\\]|\\[Serial\\]|\\[Disruptive\\]|\\[Flaky\\]|\\[Feature:.+\\]", "--timeout=80m"},
					Env: env,
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("14Gi")},
						Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("14Gi")},
					},
					VolumeMounts: []corev1.VolumeMount{{Name: "service", MountPath: "/etc/service-account", ReadOnly: true},
						{Name: "ssh", MountPath: "/etc/ssh-key-secret", ReadOnly: true}},
				}},
				Volumes: []corev1.Volume{
					{Name: "service", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "service-account"}}},
					{Name: "ssh", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "ssh-key-secret"}}},
				},
			},
		},
	}
}

// benchManager runs the job controller over ns with the operator's cache
// settings.
func benchManager(tb testing.TB, ns string) (client.Client, func()) {
	return benchManagerWith(tb, ns, CacheByObject())
}

// benchManagerWith runs the job controller with the given cache settings.
func benchManagerWith(tb testing.TB, ns string, byObject map[client.Object]cache.ByObject) (client.Client, func()) {
	tb.Helper()
	// The operator's client settings (operator/operator.go) and the
	// default of --prowjob-workers.
	cfg := *env.Config
	cfg.QPS, cfg.Burst = 200, 400
	var opts Options
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	opts.AddFlags(fs)
	mgr, err := ctrl.NewManager(&cfg, ctrl.Options{
		Scheme: env.Scheme, Logger: logr.Discard(),
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}, ByObject: byObject},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		tb.Fatal(err)
	}
	metrics, err := NewMetrics(nil)
	if err != nil {
		tb.Fatal(err)
	}
	r := &Reconciler{MaxConcurrentReconciles: opts.Workers, Metrics: metrics}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.SetupWithManager(ctx, mgr); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		tb.Fatal("cache did not sync")
	}
	return mgr.GetClient(), func() { cancel(); <-done }
}

// podWatch records when each pod of a namespace is first seen.
type podWatch struct {
	ns      string
	mu      sync.Mutex
	seen    map[string]time.Time
	waiters map[string]chan struct{}
}

func watchPods(tb testing.TB, ns string) *podWatch {
	tb.Helper()
	c, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inf, err := c.GetInformer(ctx, &corev1.Pod{})
	if err != nil {
		tb.Fatal(err)
	}
	pw := &podWatch{ns: ns, seen: map[string]time.Time{}, waiters: map[string]chan struct{}{}}
	// An informer rather than a bare watch: under load the API server may
	// drop a slow watch, and the informer lists again instead of going
	// quiet.
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		now := time.Now()
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		pw.mu.Lock()
		defer pw.mu.Unlock()
		if _, ok := pw.seen[pod.Name]; !ok {
			pw.seen[pod.Name] = now
			if ch, ok := pw.waiters[pod.Name]; ok {
				close(ch)
			}
		}
	}}); err != nil {
		tb.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		tb.Fatal("pod cache did not sync")
	}
	tb.Cleanup(cancel)
	return pw
}

// wait blocks until a pod is seen and returns when.
func (pw *podWatch) wait(tb testing.TB, name string) time.Time {
	pw.mu.Lock()
	if t, ok := pw.seen[name]; ok {
		pw.mu.Unlock()
		return t
	}
	ch := make(chan struct{})
	pw.waiters[name] = ch
	pw.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(2 * time.Minute):
		pj := &v1alpha1.ProwJob{}
		_ = env.Client.Get(context.Background(), client.ObjectKey{Namespace: pw.ns, Name: name}, pj)
		tb.Fatalf("pod %s not created; run is %q (%s)", name, pj.Status.State, pj.Status.Description)
	}
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return pw.seen[name]
}

func percentile(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return float64(s[i]) / float64(time.Millisecond)
}

// BenchmarkProwJobToPod measures how the job controller starts runs that
// arrive together, as after a burst of webhooks: each iteration creates
// 1,000 ProwJobs at once (64 creators, as fast as the API server takes
// them) and waits until every one has its pod and its status says pending,
// with the controller running the operator's defaults (--prowjob-workers,
// client rate limits) against the real API server. Per run, from the
// moment the API server has it: until its pod appears on a watch (p50-ms,
// p99-ms), and until its pending status does (pending-p50-ms,
// pending-p99-ms); for the 1,000: how long creating them took (create-s),
// the seconds from the first creation until all had pods and were pending
// (all-started-s), and the runs started per second over that time
// (runs/s). One op is one batch of 1,000.
func BenchmarkProwJobToPod(b *testing.B) {
	const runs = 1000
	ns := env.Namespace(b)
	pw := watchPods(b, ns)
	jw := watchPending(b, ns)
	_, stop := benchManager(b, ns)
	defer stop()
	ctx := context.Background()
	cfg := *env.Config
	cfg.QPS, cfg.Burst = 1000, 2000
	creator, err := client.New(&cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		b.Fatal(err)
	}

	var toPod, toPending []time.Duration
	var createSecs, allSecs, rate []float64
	batch := 0
	for b.Loop() {
		created := make([]time.Time, runs)
		names := make([]string, runs)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		first := time.Now()
		for i := range runs {
			names[i] = fmt.Sprintf("batch-%d-%d", batch, i)
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				// Each run tests a pull request of its own: runs of one
				// job for one pull request would supersede each other.
				pj := benchJob(ns, names[i])
				pj.Spec.Refs.Pulls[0].Number = int32(batch*runs + i + 1)
				if err := creator.Create(ctx, pj); err != nil {
					b.Error(err)
					return
				}
				created[i] = time.Now()
			}()
		}
		wg.Wait()
		if b.Failed() {
			return
		}
		createSecs = append(createSecs, time.Since(first).Seconds())
		var last time.Time
		for i, name := range names {
			pod, pending := pw.wait(b, name), jw.wait(b, name)
			toPod = append(toPod, pod.Sub(created[i]))
			toPending = append(toPending, pending.Sub(created[i]))
			last = maxTime(last, pod, pending)
		}
		all := last.Sub(first).Seconds()
		allSecs = append(allSecs, all)
		rate = append(rate, runs/all)
		batch++
	}
	b.ReportMetric(percentile(toPod, 0.50), "p50-ms")
	b.ReportMetric(percentile(toPod, 0.99), "p99-ms")
	b.ReportMetric(percentile(toPending, 0.50), "pending-p50-ms")
	b.ReportMetric(percentile(toPending, 0.99), "pending-p99-ms")
	b.ReportMetric(mean(createSecs), "create-s")
	b.ReportMetric(mean(allSecs), "all-started-s")
	b.ReportMetric(mean(rate), "runs/s")
}

func maxTime(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var sum float64
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// pendingWatch records when each ProwJob of a namespace is first seen
// pending with its pod's name: the jobs controller's status patch, as
// every other component sees it.
type pendingWatch struct {
	mu      sync.Mutex
	seen    map[string]time.Time
	waiters map[string]chan struct{}
}

func watchPending(tb testing.TB, ns string) *pendingWatch {
	tb.Helper()
	c, err := cache.New(env.Config, cache.Options{Scheme: env.Scheme, DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inf, err := c.GetInformer(ctx, &v1alpha1.ProwJob{})
	if err != nil {
		tb.Fatal(err)
	}
	jw := &pendingWatch{seen: map[string]time.Time{}, waiters: map[string]chan struct{}{}}
	record := func(obj any) {
		now := time.Now()
		pj, ok := obj.(*v1alpha1.ProwJob)
		if !ok || pj.Status.State != v1alpha1.PendingState || pj.Status.PodName == "" {
			return
		}
		jw.mu.Lock()
		defer jw.mu.Unlock()
		if _, ok := jw.seen[pj.Name]; !ok {
			jw.seen[pj.Name] = now
			if ch, ok := jw.waiters[pj.Name]; ok {
				close(ch)
			}
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: record, UpdateFunc: func(_, obj any) { record(obj) }}); err != nil {
		tb.Fatal(err)
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		tb.Fatal("ProwJob cache did not sync")
	}
	tb.Cleanup(cancel)
	return jw
}

// wait blocks until a run is seen pending and returns when.
func (jw *pendingWatch) wait(tb testing.TB, name string) time.Time {
	jw.mu.Lock()
	if t, ok := jw.seen[name]; ok {
		jw.mu.Unlock()
		return t
	}
	ch := make(chan struct{})
	jw.waiters[name] = ch
	jw.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(2 * time.Minute):
		tb.Fatalf("run %s not pending after 2 minutes", name)
	}
	jw.mu.Lock()
	defer jw.mu.Unlock()
	return jw.seen[name]
}

// BenchmarkOperatorHeap10kCompleted measures the heap the job controller
// keeps with 10,000 completed ProwJobs in the cluster: the live heap after
// its caches synced and a collection, less the heap before it started
// (heap-MiB), and the process's whole live heap (total-heap-MiB); and the
// first figure again without CacheByObject's transforms
// (untrimmed-heap-MiB).
func BenchmarkOperatorHeap10kCompleted(b *testing.B) {
	ns := env.Namespace(b)
	ctx := context.Background()
	const n = 10000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			pj := benchJob(ns, fmt.Sprintf("done-%d", i))
			if err := env.Client.Create(ctx, pj); err != nil {
				b.Error(err)
				return
			}
			t := metav1.Now()
			pj.Status = v1alpha1.ProwJobStatus{State: v1alpha1.SuccessState, Description: descSucceeded,
				StartTime: &t, PendingTime: &t, CompletionTime: &t, BuildID: fmt.Sprint(1_000_000 + i), PodName: pj.Name,
				URL: "https://prow.example/view/gs/bucket/pr-logs/pull/kubernetes_kubernetes/123456/pull-kubernetes-e2e-gce/" + fmt.Sprint(i)}
			if err := env.Client.Status().Update(ctx, pj); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	measure := func(byObject map[client.Object]cache.ByObject) (delta, total float64) {
		before := liveHeap()
		c, stop := benchManagerWith(b, ns, byObject)
		defer stop()
		var list v1alpha1.ProwJobList
		if err := c.List(ctx, &list, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil || len(list.Items) != n {
			b.Fatalf("cache holds %d runs (%v), want %d", len(list.Items), err, n)
		}
		list = v1alpha1.ProwJobList{}
		after := liveHeap()
		return float64(after-before) / (1 << 20), float64(after) / (1 << 20)
	}
	var heap, total, untrimmed float64
	for b.Loop() {
		heap, total = measure(CacheByObject())
		// The same cluster without the cache transforms, for comparison.
		untrimmed, _ = measure(nil)
	}
	b.ReportMetric(heap, "heap-MiB")
	b.ReportMetric(total, "total-heap-MiB")
	b.ReportMetric(untrimmed, "untrimmed-heap-MiB")
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
