package prowjob

import (
	"context"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// LocalRunner carries out runs of the local agent as processes on the
// operator's host. The reconciler drives it through the same state machine
// as pods: Start when a slot is free, Status while the run is pending, Stop
// on abort or timeout. Every method must be idempotent: a reconcile may
// repeat after a failure to record its outcome.
type LocalRunner interface {
	// Start starts the run with the given build ID unless it is already
	// running or finished.
	Start(ctx context.Context, pj *v1alpha1.ProwJob, buildID string) error
	// Status reports what became of the run; LocalNotFound when the runner
	// knows nothing of it.
	Status(ctx context.Context, pj *v1alpha1.ProwJob) (LocalStatus, error)
	// Stop kills the run's processes, if any.
	Stop(ctx context.Context, pj *v1alpha1.ProwJob) error
}
