package prowjob

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/local"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

// startLocal runs the reconciler with the real local runner.
func startLocal(t *testing.T) *harness {
	t.Helper()
	return start(t, Config{}, func(r *Reconciler) {
		runner, err := local.NewRunner(local.Options{Root: t.TempDir(), Bucket: t.TempDir(), Notify: r.NotifyLocal})
		if err != nil {
			t.Fatal(err)
		}
		r.Local = LocalProcesses{Runner: runner}
		t.Cleanup(func() { _ = runner.Shutdown(t.Context()) })
	})
}

func shell(script string) func(*v1alpha1.ProwJob) {
	return func(pj *v1alpha1.ProwJob) {
		pj.Spec.Agent = v1alpha1.LocalAgent
		pj.Spec.PodSpec = &corev1.PodSpec{Containers: []corev1.Container{{Name: "test", Image: "unused", Command: []string{"sh", "-c", script}}}}
	}
}

func TestLocalRuns(t *testing.T) {
	h := startLocal(t)
	h.create(h.job("passes", shell("echo hello")))
	h.create(h.job("fails", shell("exit 3")))
	h.create(h.job("hangs", shell("sleep 60")))
	pj := h.waitState("passes", v1alpha1.SuccessState)
	if pj.Status.BuildID == "" || pj.Status.PendingTime == nil || pj.Status.PodName != "" {
		t.Errorf("local run status = %+v", pj.Status)
	}
	h.waitState("fails", v1alpha1.FailureState)

	pj = h.waitState("hangs", v1alpha1.PendingState)
	patch := pj.DeepCopy()
	pj.Status.State = v1alpha1.AbortedState
	if err := h.c.Status().Patch(t.Context(), pj, clientMergeFrom(patch)); err != nil {
		t.Fatal(err)
	}
	pj = h.waitState("hangs", v1alpha1.AbortedState)
	eventually(t, "aborted local run completed", func() error {
		pj = h.waitState("hangs", v1alpha1.AbortedState)
		if pj.Status.CompletionTime == nil {
			return errNotYet
		}
		return nil
	})
}

// localInstance is the jobs role of one bowline process: a manager with
// the reconciler and a local runner on a workspace root, in namespace ns.
// stop stops it as bowline's shutdown does: the runner's runs are
// interrupted and the manager ends.
func localInstance(t *testing.T, h *harness, root, bucket string) (stop func()) {
	t.Helper()
	mgr := env.Manager(t, h.ns, func(o *ctrl.Options) { o.Cache.ByObject = CacheByObject() })
	r := &Reconciler{Clock: clock.RealClock{}, Config: func() Config { return h.cfg }}
	var err error
	if r.Metrics, err = NewMetrics(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	runner, err := local.NewRunner(local.Options{Root: root, Bucket: bucket, Notify: r.NotifyLocal})
	if err != nil {
		t.Fatal(err)
	}
	r.Local = LocalProcesses{Runner: runner}
	if err := r.SetupWithManager(t.Context(), mgr); err != nil {
		t.Fatal(err)
	}
	// As the operator does: runs end with the process.
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		return runner.Shutdown(context.Background())
	})); err != nil {
		t.Fatal(err)
	}
	return envtest.Run(t, mgr)
}

// TestLocalRunLostToARestartRunsAgain restarts the jobs role while a local
// run is running: the run stays pending through the stop, and the next
// instance runs it again, once, saying so in its description, with the
// reports cleared so that the commit status says so too.
func TestLocalRunLostToARestartRunsAgain(t *testing.T) {
	h := &harness{t: t, ns: env.Namespace(t), c: env.Client, cfg: Config{}}
	root, bucket := t.TempDir(), t.TempDir()
	attempts := filepath.Join(t.TempDir(), "attempts")
	// The first attempt hangs; the one after the restart passes.
	script := `echo x >> ` + attempts + `; if [ "$(wc -l < ` + attempts + `)" -eq 1 ]; then sleep 300; fi; echo done`

	stopFirst := localInstance(t, h, root, bucket)
	h.create(h.job("restarted", shell(script)))
	pj := h.waitState("restarted", v1alpha1.PendingState)
	eventually(t, "the first attempt running", func() error {
		if b, _ := os.ReadFile(attempts); len(b) == 0 {
			return errNotYet
		}
		return nil
	})
	// What the reporter would have written after reporting it pending.
	patch := pj.DeepCopy()
	pj.Status.Reports = []v1alpha1.ReportState{{Reporter: "github", State: v1alpha1.PendingState}}
	if err := h.c.Status().Patch(t.Context(), pj, clientMergeFrom(patch)); err != nil {
		t.Fatal(err)
	}

	stopFirst()
	if err := h.c.Get(t.Context(), client.ObjectKeyFromObject(pj), pj); err != nil {
		t.Fatal(err)
	}
	if pj.Status.State != v1alpha1.PendingState || pj.Status.PodRevivalCount != 0 {
		t.Fatalf("after the stop: state %s (%s), revivals %d; want it still pending", pj.Status.State, pj.Status.Description, pj.Status.PodRevivalCount)
	}

	localInstance(t, h, root, bucket)
	pj = h.waitState("restarted", v1alpha1.SuccessState)
	if pj.Status.PodRevivalCount != 1 || !strings.Contains(pj.Status.Description, "Restarted once") || len(pj.Status.Reports) != 0 {
		t.Errorf("after the restart: revivals %d, description %q, reports %v", pj.Status.PodRevivalCount, pj.Status.Description, pj.Status.Reports)
	}
	if b, _ := os.ReadFile(attempts); strings.Count(string(b), "x") != 2 {
		t.Errorf("attempts = %q, want 2", b)
	}
}
