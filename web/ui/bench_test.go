package ui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
	"github.com/bowline-ci/bowline/web/api"
)

// benchRuns is how many runs the runs page is measured with: a busy day of
// a large Prow (prow.k8s.io keeps 48 hours of runs, tens of thousands).
const benchRuns = 10000

var (
	benchOnce sync.Once
	benchNS   string
	benchErr  error
)

// seedRuns creates benchRuns runs over 185 repositories (prow.k8s.io's
// count), 500 jobs and 2,000 pull requests, in every state, once for all
// benchmarks of the package.
func seedRuns(b *testing.B) string {
	benchOnce.Do(func() {
		ctx := context.Background()
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-"}}
		if benchErr = env.Client.Create(ctx, ns); benchErr != nil {
			return
		}
		benchNS = ns.Name
		states := []v1alpha1.ProwJobState{v1alpha1.SuccessState, v1alpha1.SuccessState, v1alpha1.SuccessState, v1alpha1.FailureState,
			v1alpha1.PendingState, v1alpha1.AbortedState, v1alpha1.ErrorState, v1alpha1.TriggeredState}
		start := time.Now().Add(-48 * time.Hour)
		work := make(chan int)
		errs := make(chan error, 16)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for i := range work {
					if err := createBenchRun(ctx, benchNS, i, states[i%len(states)], start.Add(time.Duration(i)*17*time.Second)); err != nil {
						select {
						case errs <- err:
						default:
						}
					}
				}
			})
		}
		for i := range benchRuns {
			work <- i
		}
		close(work)
		wg.Wait()
		select {
		case benchErr = <-errs:
		default:
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchNS
}

func createBenchRun(ctx context.Context, ns string, i int, st v1alpha1.ProwJobState, started time.Time) error {
	org, repo := "kubernetes-sigs", fmt.Sprintf("project-%03d", i%185)
	job := fmt.Sprintf("pull-%s-e2e-suite-%03d", repo, i%500)
	pj := &v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%08x-5b1c-4f7e-9a3d-%012x", i, i*7919)},
		Spec: v1alpha1.ProwJobSpec{Type: v1alpha1.PresubmitJob, Job: job, Agent: v1alpha1.KubernetesAgent, Context: job, Report: true,
			RerunCommand: "/test " + job, Cluster: "eks-prow-build-cluster",
			PodSpec: &corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "gcr.io/k8s-staging-test-infra/kubekins-e2e:v20260801",
				Command: []string{"runner.sh"}, Args: []string{"make", "test-e2e"}}}},
			Refs: &v1alpha1.Refs{Org: org, Repo: repo, BaseRef: "main", BaseSHA: fmt.Sprintf("%040x", i%97),
				Pulls: []v1alpha1.Pull{{Number: int32(1000 + i%2000), Author: fmt.Sprintf("contributor-%d", i%300),
					SHA: fmt.Sprintf("%040x", i), Title: "Improve the reconciliation of the widget controller under load"}}}}}
	if err := env.Client.Create(ctx, pj); err != nil {
		return err
	}
	t := metav1.NewTime(started)
	pj.Status = v1alpha1.ProwJobStatus{State: st, StartTime: &t, BuildID: fmt.Sprint(1800000000000000000 + i),
		PodName: pj.Name, Description: "Job " + string(st) + "."}
	if st != v1alpha1.PendingState && st != v1alpha1.TriggeredState {
		done := metav1.NewTime(started.Add(time.Duration(5+i%40) * time.Minute))
		pj.Status.CompletionTime = &done
	}
	return env.Client.Status().Update(ctx, pj)
}

// BenchmarkRunsPage renders the runs page, server side, with 10,000 runs
// in the informer cache (a page of 100, Deck's filters' choices over all of
// them): p50/p99 are the render times, KiB the page's size. The target is
// under 100 ms at p99 and under 200 KiB. `make bench` runs it 1,000 times.
func BenchmarkRunsPage(b *testing.B) {
	ns := seedRuns(b)
	mgr := env.Manager(b, ns)
	stop := envtest.Run(b, mgr)
	defer stop()
	ctx := context.Background()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		b.Fatal("cache not synced")
	}
	h := &Handler{API: &api.Handler{Client: mgr.GetClient(), Config: func() api.Config { return api.Config{Namespace: ns} }}}
	// The cache fills as the informer lists: wait for all of it.
	for {
		var list v1alpha1.ProwJobList
		if err := mgr.GetClient().List(ctx, &list, client.InNamespace(ns)); err != nil {
			b.Fatal(err)
		}
		if len(list.Items) >= benchRuns {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, q := range []string{"", "?state=failure&repo=kubernetes-sigs/project-042"} {
		b.Run("query="+q, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/"+q, nil)
			times := make([]time.Duration, 0, b.N)
			var size int
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(w, req)
				times = append(times, time.Since(t0))
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
				size = w.Body.Len()
			}
			b.StopTimer()
			slices.Sort(times)
			pct := func(p float64) float64 {
				return float64(times[min(len(times)-1, int(float64(len(times))*p))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(size)/1024, "KiB")
			if size > 200<<10 {
				b.Errorf("the runs page is %d KiB, over the 200 KiB it must stay under", size>>10)
			}
		})
	}
}
