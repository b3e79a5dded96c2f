package prowjob

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/local"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// LocalRunner carries out runs of the local agent as processes on the
// operator's host. The reconciler drives it through the same state machine
// as pods: Start when a slot is free, Status while the run is pending, Stop
// on abort or timeout, Forget once the outcome is recorded. Every method
// must be idempotent: a reconcile may repeat after a failure to record its
// outcome.
type LocalRunner interface {
	// Start starts the run with the given build ID unless it already runs.
	Start(ctx context.Context, pj *v1alpha1.ProwJob, buildID string) error
	// Status reports what became of the run; LocalNotFound when the runner
	// knows nothing of it.
	Status(ctx context.Context, pj *v1alpha1.ProwJob) (LocalStatus, error)
	// Stop kills the run's processes, if any.
	Stop(ctx context.Context, pj *v1alpha1.ProwJob) error
	// Forget drops a finished run whose outcome is recorded.
	Forget(ctx context.Context, pj *v1alpha1.ProwJob)
}

// LocalProcesses adapts the local package's Runner to LocalRunner.
type LocalProcesses struct {
	Runner *local.Runner
}

// Start starts the run.
func (l LocalProcesses) Start(ctx context.Context, pj *v1alpha1.ProwJob, buildID string) error {
	run := pj.DeepCopy()
	run.Status.BuildID = buildID
	_, err := l.Runner.Start(ctx, run)
	return err
}

// Status reports the run's progress.
func (l LocalProcesses) Status(_ context.Context, pj *v1alpha1.ProwJob) (LocalStatus, error) {
	run, ok := l.Runner.Get(pj.Namespace, pj.Name)
	if !ok {
		return LocalStatus{Phase: LocalNotFound}, nil
	}
	st := run.Status()
	out := LocalStatus{Phase: LocalRunning, StartTime: st.StartTime}
	// A run interrupted by bowline's shutdown has no outcome: it stays
	// pending, and the next bowline runs it again.
	if st.Phase == local.PhaseFinished && st.Result != nil && !st.Result.Interrupted {
		out.Phase, out.State, out.Description = LocalFinished, st.Result.State, st.Result.Description
	}
	return out, nil
}

// Stop aborts the run.
func (l LocalProcesses) Stop(_ context.Context, pj *v1alpha1.ProwJob) error {
	if run, ok := l.Runner.Get(pj.Namespace, pj.Name); ok {
		run.Abort()
	}
	return nil
}

// Forget drops the finished run.
func (l LocalProcesses) Forget(_ context.Context, pj *v1alpha1.ProwJob) {
	l.Runner.Forget(pj.Namespace, pj.Name)
}

// NotifyLocal asks for a run to be reconciled: pass it as the local
// runner's Options.Notify so that runs are recorded as soon as they end.
// It blocks until the controller has taken the event.
func (r *Reconciler) NotifyLocal(namespace, name string) {
	pj := &v1alpha1.ProwJob{}
	pj.Namespace, pj.Name = namespace, name
	r.localEvents() <- event.GenericEvent{Object: client.Object(pj)}
}

func (r *Reconciler) localEvents() chan event.GenericEvent {
	r.localOnce.Do(func() { r.localCh = make(chan event.GenericEvent, 64) })
	return r.localCh
}
