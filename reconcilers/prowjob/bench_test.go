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
	cfg := *env.Config
	cfg.QPS, cfg.Burst = 2000, 4000
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
	r := &Reconciler{MaxConcurrentReconciles: 16, Metrics: metrics}
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

// BenchmarkProwJobToPod measures the time from a ProwJob's creation to its
// pod's, with 1,000 runs in flight against the real API server. The 1,000
// are created at once first (burst-p50-ms, burst-p99-ms: a burst of 1,000
// queued behind each other, bounded by how fast the API server accepts
// them); then each iteration creates one more run while those 1,000 stay
// pending (p50-ms, p99-ms).
func BenchmarkProwJobToPod(b *testing.B) {
	ns := env.Namespace(b)
	pw := watchPods(b, ns)
	_, stop := benchManager(b, ns)
	defer stop()
	ctx := context.Background()

	const inFlight = 1000
	created := make([]time.Time, inFlight)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range inFlight {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			created[i] = time.Now()
			if err := env.Client.Create(ctx, benchJob(ns, fmt.Sprintf("flight-%d", i))); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	createAll := time.Since(created[0])
	burst := make([]time.Duration, inFlight)
	for i := range inFlight {
		burst[i] = pw.wait(b, fmt.Sprintf("flight-%d", i)).Sub(created[i])
	}
	podsAll := time.Since(created[0])

	var lat []time.Duration
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("bench-%d", i)
		i++
		start := time.Now()
		if err := env.Client.Create(ctx, benchJob(ns, name)); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, pw.wait(b, name).Sub(start))
	}
	b.ReportMetric(percentile(lat, 0.50), "p50-ms")
	b.ReportMetric(percentile(lat, 0.99), "p99-ms")
	b.ReportMetric(percentile(burst, 0.50), "burst-p50-ms")
	b.ReportMetric(percentile(burst, 0.99), "burst-p99-ms")
	// How fast the API server took the 1,000 ProwJobs, and how long until
	// all had pods: the burst's latencies are bounded by the former.
	b.ReportMetric(createAll.Seconds(), "burst-create-s")
	b.ReportMetric(podsAll.Seconds(), "burst-pods-s")
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
