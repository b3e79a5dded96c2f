package reporter

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestReportRecordedOnTheNewerRun: the jobs controller may move a run on
// between the reporter's read and its record of what it reported. The
// record must land on the newer run, not be dropped (which would report
// the same state again) nor overwrite the newer state.
func TestReportRecordedOnTheNewerRun(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	pj := &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{Name: "run", Namespace: "ns"},
		Status: v1alpha1.ProwJobStatus{State: v1alpha1.PendingState, Reports: []v1alpha1.ReportState{
			{Reporter: SlackName, State: v1alpha1.TriggeredState},
		}},
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(pj).WithObjects(pj).Build()
	ctx := context.Background()

	read := &v1alpha1.ProwJob{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(pj), read); err != nil {
		t.Fatal(err)
	}
	// The jobs controller ends the run after the reporter read it.
	moved := read.DeepCopy()
	moved.Status.State = v1alpha1.SuccessState
	if err := c.Status().Update(ctx, moved); err != nil {
		t.Fatal(err)
	}

	orig := read.DeepCopy()
	at := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	setReport(&read.Status, v1alpha1.PendingState, at)
	if err := patchReports(ctx, c, c, orig, read); err != nil {
		t.Fatalf("patchReports: %v", err)
	}

	got := &v1alpha1.ProwJob{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(pj), got); err != nil {
		t.Fatal(err)
	}
	if got.Status.State != v1alpha1.SuccessState {
		t.Errorf("state = %s, want the newer run's %s", got.Status.State, v1alpha1.SuccessState)
	}
	want := []v1alpha1.ReportState{
		{Reporter: SlackName, State: v1alpha1.TriggeredState},
		{Reporter: Name, State: v1alpha1.PendingState, ReportedAt: &at},
	}
	if d := cmp.Diff(want, got.Status.Reports, cmp.Comparer(func(a, b metav1.Time) bool { return a.Equal(&b) })); d != "" {
		t.Errorf("reports (-want +got):\n%s", d)
	}
}
