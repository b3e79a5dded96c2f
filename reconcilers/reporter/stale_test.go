package reporter

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// TestNewLeaderDoesNotRepeatAReportOfThePrevious: a leader may post a
// status and die before recording it in status.reports. Its successor
// finds the status on GitHub, records it, and posts nothing; a run whose
// status GitHub does not show yet is reported as usual.
func TestNewLeaderDoesNotRepeatAReportOfThePrevious(t *testing.T) {
	fx := setup(t)
	posted := fx.run("posted", "unit")
	fx.setState(posted, v1alpha1.PendingState)
	fresh := fx.run("fresh", "lint")
	fx.setState(fresh, v1alpha1.PendingState)
	// What the previous leader posted for the first run before it died.
	if _, _, err := fx.gh.Repositories.CreateStatus(fx.ctx, "acme", "widgets", fx.head, github.RepoStatus{
		State: github.Ptr("pending"), Context: github.Ptr("unit"), Description: github.Ptr(description(posted)),
		TargetURL: github.Ptr(posted.Status.URL)}); err != nil {
		t.Fatal(err)
	}
	fx.start(Config{})
	for _, pj := range []*v1alpha1.ProwJob{posted, fresh} {
		eventually(t, "the report of "+pj.Name+" recorded", func() error {
			if err := env.Client.Get(fx.ctx, client.ObjectKeyFromObject(pj), pj); err != nil {
				return err
			}
			if lastReported(pj) != v1alpha1.PendingState {
				return errNotRecorded
			}
			return nil
		})
	}
	if n := len(fx.statuses(fx.head, "unit")); n != 1 {
		t.Errorf("%d statuses of unit, want the previous leader's only", n)
	}
	if n := len(fx.statuses(fx.head, "lint")); n != 1 {
		t.Errorf("%d statuses of lint, want 1", n)
	}
}

var errNotRecorded = errorString("report not recorded yet")

type errorString string

func (e errorString) Error() string { return string(e) }

func TestInherited(t *testing.T) {
	elected := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { t := metav1.NewTime(elected.Add(d)); return &t }
	tests := []struct {
		name    string
		elected bool
		status  v1alpha1.ProwJobStatus
		want    bool
	}{
		{name: "not elected yet", status: v1alpha1.ProwJobStatus{State: v1alpha1.PendingState, PendingTime: at(time.Hour)}, want: true},
		{name: "pending before the election", elected: true, status: v1alpha1.ProwJobStatus{State: v1alpha1.PendingState, PendingTime: at(-time.Hour)}, want: true},
		{name: "pending within the margin", elected: true, status: v1alpha1.ProwJobStatus{State: v1alpha1.PendingState, PendingTime: at(30 * time.Second)}, want: true},
		{name: "pending since this leader", elected: true, status: v1alpha1.ProwJobStatus{State: v1alpha1.PendingState, PendingTime: at(2 * time.Minute)}},
		{name: "completed since this leader", elected: true, status: v1alpha1.ProwJobStatus{State: v1alpha1.SuccessState, PendingTime: at(-time.Hour), CompletionTime: at(time.Hour)}},
		{name: "completed before", elected: true, status: v1alpha1.ProwJobStatus{State: v1alpha1.FailureState, CompletionTime: at(-time.Minute)}, want: true},
		{name: "when unknown", elected: true, status: v1alpha1.ProwJobStatus{State: v1alpha1.PendingState}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Reconciler{}
			if tt.elected {
				r.elected.Store(elected.UnixNano())
			}
			if got := r.inherited(&v1alpha1.ProwJob{Status: tt.status}); got != tt.want {
				t.Errorf("inherited = %v, want %v", got, tt.want)
			}
		})
	}
}

// apiServerAway fails the recording of reports while down is set, as the
// API server does while it restarts.
type apiServerAway struct {
	client.Client
	down *atomic.Bool
}

func (a apiServerAway) Status() client.SubResourceWriter {
	return awayStatus{SubResourceWriter: a.Client.Status(), down: a.down}
}

type awayStatus struct {
	client.SubResourceWriter
	down *atomic.Bool
}

func (a awayStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if a.down.Load() {
		return errors.New("connect: connection refused")
	}
	return a.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

// loseAnswer sends requests on, but loses the answer to the first commit
// status posted while lose is set, as when GitHub's answer comes too late:
// the status was posted, and the client does not know it.
type loseAnswer struct {
	rt   http.RoundTripper
	lose *atomic.Bool
}

func (l loseAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(req)
	if err == nil && req.Method == http.MethodPost && strings.Contains(req.URL.Path, "/statuses/") && l.lose.CompareAndSwap(true, false) {
		resp.Body.Close()
		return nil, errors.New("timeout awaiting response headers")
	}
	return resp, err
}

// TestUnrecordedReportIsNotPostedAgain: the reporter sent a status but
// could not record it in status.reports, because the API server went away
// in between or because GitHub's answer was lost. The next attempt finds
// the status on GitHub, records it, and posts nothing: GitHub would list
// the same status twice.
func TestUnrecordedReportIsNotPostedAgain(t *testing.T) {
	for _, fault := range []string{"the API server away", "GitHub's answer lost"} {
		t.Run(fault, func(t *testing.T) {
			fx := setup(t)
			pj := fx.run("unrecorded", "unit")
			fx.setState(pj, v1alpha1.PendingState)
			now := metav1.Now()
			pj.Status.PendingTime = &now
			if err := env.Client.Status().Update(fx.ctx, pj); err != nil {
				t.Fatal(err)
			}
			mgr := env.Manager(t, fx.ns)
			if err := v1alpha1.AddPullIndex(fx.ctx, mgr.GetFieldIndexer()); err != nil {
				t.Fatal(err)
			}
			envtest.Run(t, mgr)
			if !mgr.GetCache().WaitForCacheSync(fx.ctx) {
				t.Fatal("cache not synced")
			}
			down, lose := &atomic.Bool{}, &atomic.Bool{}
			base := fx.gh.BaseURL()
			gh, err := github.NewClient(github.WithTransport(loseAnswer{rt: fx.gh.Client().Transport, lose: lose}), github.WithURLs(&base, &base))
			if err != nil {
				t.Fatal(err)
			}
			r := &Reconciler{Client: apiServerAway{Client: mgr.GetClient(), down: down}, APIReader: env.Client, Clock: clock.RealClock{},
				GitHub: func(string) (*github.Client, error) { return gh, nil }}
			// Elected well before the run went pending: nothing is
			// inherited from a previous leader.
			r.elected.Store(time.Now().Add(-time.Hour).UnixNano())
			if r.inherited(pj) {
				t.Fatal("the run counts as inherited from a previous leader")
			}
			req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(pj)}
			down.Store(fault == "the API server away")
			lose.Store(fault == "GitHub's answer lost")
			if _, err := r.Reconcile(fx.ctx, req); err == nil {
				t.Fatal("the first attempt succeeded")
			}
			if n := len(fx.statuses(fx.head, "unit")); n != 1 {
				t.Fatalf("%d statuses after the first attempt, want 1", n)
			}
			down.Store(false)
			if _, err := r.Reconcile(fx.ctx, req); err != nil {
				t.Fatal(err)
			}
			if n := len(fx.statuses(fx.head, "unit")); n != 1 {
				t.Errorf("%d statuses after the second attempt, want the 1 posted", n)
			}
			if err := env.Client.Get(fx.ctx, req.NamespacedName, pj); err != nil {
				t.Fatal(err)
			}
			if lastReported(pj) != v1alpha1.PendingState {
				t.Errorf("report not recorded: %+v", pj.Status.Reports)
			}
		})
	}
}
