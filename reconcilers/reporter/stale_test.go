package reporter

import (
	"context"
	"testing"

	"github.com/google/go-github/v89/github"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

// staleReads answers reads with a copy of the run taken earlier, as an
// informer cache does while it lags a write.
type staleReads struct {
	client.Client
	old *v1alpha1.ProwJob
}

func (s staleReads) Get(_ context.Context, _ client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	s.old.DeepCopyInto(obj.(*v1alpha1.ProwJob))
	return nil
}

// TestStaleCacheDoesNotReportAgain: after the reporter recorded a report,
// a reconcile that reads the run from a cache not showing that record yet
// must not post the same status again (GitHub would list it twice).
func TestStaleCacheDoesNotReportAgain(t *testing.T) {
	fx := setup(t)
	pj := fx.run("stale", "unit")
	fx.setState(pj, v1alpha1.PendingState)
	stale := pj.DeepCopy() // pending, nothing reported yet
	// A manager for its cache and the pull request index, without the
	// controller: the test calls Reconcile itself.
	mgr := env.Manager(t, fx.ns)
	if err := v1alpha1.AddPullIndex(fx.ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	envtest.Run(t, mgr)
	if !mgr.GetCache().WaitForCacheSync(fx.ctx) {
		t.Fatal("cache not synced")
	}
	r := &Reconciler{Client: mgr.GetClient(), APIReader: env.Client, Clock: clock.RealClock{},
		GitHub: func(string) (*github.Client, error) { return fx.gh, nil }}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(pj)}
	if _, err := r.Reconcile(fx.ctx, req); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.statuses(fx.head, "unit")); n != 1 {
		t.Fatalf("%d statuses after the first report, want 1", n)
	}
	r.Client = staleReads{Client: mgr.GetClient(), old: stale}
	if _, err := r.Reconcile(fx.ctx, req); err != nil {
		t.Fatal(err)
	}
	if got := fx.statuses(fx.head, "unit"); len(got) != 1 {
		t.Errorf("%d statuses after a reconcile on a stale cache, want the 1 reported", len(got))
	}
}
