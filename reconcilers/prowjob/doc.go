// Package prowjob runs ProwJobs: it is bowline's plank. The Reconciler moves
// each run through Prow's states (triggered → pending → success, failure,
// aborted or error) and records them both as status.state, for familiarity,
// and as the Scheduled and Completed conditions.
//
// For the kubernetes agent the reconciler creates one Pod per run, reads the
// run's outcome from the pod's status and enforces plank's rules: the
// max_concurrency of a job and the capacity of its job queue (oldest run
// first, counted from the cluster's state through field indexes), the pod
// pending, unscheduled and running timeouts, aborts set by other clients,
// re-creating evicted pods up to max_revivals, and ending a run in error
// when its pod disappears. Runs of the local agent are handed to a
// LocalRunner through the same state machine.
//
// Pods are named after their ProwJob (a revived pod gets a "-<n>" suffix so
// that the evicted one may still be terminating), carry Prow's labels
// (created-by-prow, prow.k8s.io/id, prow.k8s.io/build-id …) and
// bowline.dev/prowjob-namespace, which is how pod events find their run, even
// in another namespace or build cluster.
//
// Build IDs come from BuildIDs: decimal numbers derived from the clock in
// milliseconds and strictly increasing within the process, so a job's runs
// get increasing IDs without a shared counter object, as long as the clock
// does not step back further than the operator's downtime.
package prowjob
