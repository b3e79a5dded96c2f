package prowjob

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// action is the side effect a decision asks for.
type action int

const (
	// The zero action changes nothing outside the ProwJob's status.
	_ action = iota
	// actStart creates the run's pod or starts its process.
	actStart
	// actStop deletes the run's pod or stops its process.
	actStop
	// actRevive deletes an evicted pod and creates its replacement, or
	// starts a lost local run again.
	actRevive
)

// Local run phases, as a LocalRunner reports them.
const (
	// LocalNotFound: the runner knows nothing of the run.
	LocalNotFound = "NotFound"
	// LocalRunning: the run is cloning, running or uploading.
	LocalRunning = "Running"
	// LocalFinished: the run ended; State says how.
	LocalFinished = "Finished"
)

// LocalStatus is what a LocalRunner knows of one run.
type LocalStatus struct {
	// Phase is LocalNotFound, LocalRunning or LocalFinished.
	Phase string
	// StartTime is when the run started; zero when unknown.
	StartTime time.Time
	// State is how a finished run ended: success, failure, aborted or
	// error.
	State v1alpha1.ProwJobState
	// Description says why, for status.description.
	Description string
}

// blocked says why a triggered run may not start yet.
type blocked struct {
	reason, message string
}

// observation is what the reconcile phases saw of the world for one run.
type observation struct {
	now time.Time
	cfg Config
	// clusterKnown is false when spec.cluster names no build cluster.
	clusterKnown bool
	// clusterWait, when set, says why the run's build cluster cannot take
	// pods yet.
	clusterWait string
	// blocked is set when a concurrency limit holds a triggered run back.
	blocked *blocked
	// pod is the run's current pod, nil when it does not exist.
	pod *corev1.Pod
	// local is the local runner's view of the run.
	local LocalStatus
	// supersededBy names a newer run of the same presubmit on the same
	// pull request; set only for presubmit runs that have not ended.
	supersededBy string
}

// decision is the next step of the state machine.
type decision struct {
	action action
	// state is the run's state once the action succeeded.
	state v1alpha1.ProwJobState
	// description says why, in Prow's words where Prow has some.
	description string
	// waitReason is the Scheduled condition's reason while the run waits.
	waitReason string
	// requeueAfter asks to look again after this long; zero means only
	// when something changes.
	requeueAfter time.Duration
	// report asks for the run's state to be reported again although it
	// does not change (the description has news).
	report bool
}

// Descriptions, as Prow's where it has them.
const (
	descTriggered          = "Job triggered."
	descPending            = "Job pending."
	descRunning            = "Job running."
	descSucceeded          = "Job succeeded."
	descFailed             = "Job failed."
	descAborted            = "Job aborted."
	descEvicted            = "Job pod was evicted by the cluster."
	descDeleted            = "Job pod got deleted unexpectedly."
	descUnscheduledTimeout = "Pod scheduling timeout."
	descPendingTimeout     = "Pod pending timeout."
	descRunningTimeout     = "Pod running timeout."
	descOOMKilled          = "Job pod was killed for running out of memory."
	descUnfinished         = "Pod succeeded but not all of its containers finished."
	descProcessLost        = "Job process was lost."
	descLocalRestarted     = "Job restarted: bowline restarted while it ran."
	descLocalRestartedNote = "(Restarted once: bowline restarted while it ran.)"
	descUnsupportedAgent   = "The %s agent is not supported by bowline yet; the run was not started."
)

// supportedAgent reports whether bowline runs jobs of an agent: kubernetes
// (also when unset) and local. Prow's jenkins and tekton-pipeline agents
// are accepted in configuration and in ProwJobs, but not run.
func supportedAgent(a v1alpha1.ProwJobAgent) bool {
	return a == "" || a == v1alpha1.KubernetesAgent || a == v1alpha1.LocalAgent
}

// decide is the state machine: given a run that is not complete and what
// was observed, it returns the next state and the side effect that gets
// there. It is pure; the reconciler carries the decision out.
func decide(pj *v1alpha1.ProwJob, obs observation) decision {
	if !supportedAgent(pj.Spec.Agent) && pj.Status.State != v1alpha1.AbortedState {
		return decision{state: v1alpha1.ErrorState, description: fmt.Sprintf(descUnsupportedAgent, pj.Spec.Agent)}
	}
	if obs.supersededBy != "" && superseding(pj.Status.State) {
		return decision{action: actStop, state: v1alpha1.AbortedState, description: descSuperseded}
	}
	switch pj.Status.State {
	case "", v1alpha1.TriggeredState:
		return decideTriggered(pj, obs)
	case v1alpha1.PendingState:
		if pj.Spec.Agent == v1alpha1.LocalAgent {
			return decideLocal(pj, obs)
		}
		return decidePod(pj, obs)
	case v1alpha1.AbortedState:
		desc := pj.Status.Description
		if desc == "" {
			desc = descAborted
		}
		return decision{action: actStop, state: v1alpha1.AbortedState, description: desc}
	}
	// Other states are not ours to move: scheduling belongs to a scheduler,
	// and a terminal state set by another client is only completed.
	return decision{state: pj.Status.State, description: pj.Status.Description}
}

// superseding reports whether a run in state s is aborted when a newer run
// of its job starts: one that has not ended and that this controller moves.
func superseding(s v1alpha1.ProwJobState) bool {
	return s == "" || s == v1alpha1.TriggeredState || s == v1alpha1.PendingState
}

func decideTriggered(pj *v1alpha1.ProwJob, obs observation) decision {
	if !obs.clusterKnown {
		return decision{state: v1alpha1.ErrorState, description: fmt.Sprintf("Unknown build cluster %q.", pj.Spec.Cluster)}
	}
	if obs.clusterWait != "" {
		return waitForCluster(pj, obs)
	}
	if obs.blocked != nil {
		return decision{
			state:        v1alpha1.TriggeredState,
			description:  obs.blocked.message,
			waitReason:   obs.blocked.reason,
			requeueAfter: obs.cfg.WaitInterval,
		}
	}
	return decision{action: actStart, state: v1alpha1.PendingState, description: descPending}
}

// waitForCluster holds a triggered run while its build cluster cannot
// take pods, for as long as a pod may stay unscheduled; then the run ends
// in error, as Prow's plank ends runs whose cluster it cannot reach.
func waitForCluster(pj *v1alpha1.ProwJob, obs observation) decision {
	since := obs.now
	if pj.Status.StartTime != nil {
		since = pj.Status.StartTime.Time
	}
	limit := obs.cfg.timeoutsFor(pj).unscheduled
	left := since.Add(limit).Sub(obs.now)
	if left <= 0 {
		return decision{state: v1alpha1.ErrorState, description: fmt.Sprintf("Build cluster %q was not available for %s: %s", clusterAlias(pj), limit, obs.clusterWait)}
	}
	return decision{
		state:        v1alpha1.TriggeredState,
		description:  "Waiting for the build cluster: " + obs.clusterWait,
		waitReason:   ReasonWaitingForBuildCluster,
		requeueAfter: min(left, obs.cfg.WaitInterval),
	}
}

func clusterAlias(pj *v1alpha1.ProwJob) string {
	if pj.Spec.Cluster == "" {
		return DefaultCluster
	}
	return pj.Spec.Cluster
}

func decidePod(pj *v1alpha1.ProwJob, obs observation) decision {
	if obs.clusterWait != "" {
		// The pod cannot be seen while its cluster is away: keep the run
		// as it is and look again.
		return decision{state: v1alpha1.PendingState, description: pj.Status.Description, requeueAfter: obs.cfg.WaitInterval}
	}
	p := obs.pod
	if pj.Status.PodName == "" {
		// Pending without a pod: another client set the state; start one.
		return decision{action: actStart, state: v1alpha1.PendingState, description: descPending}
	}
	if p == nil || p.DeletionTimestamp != nil {
		return decision{state: v1alpha1.ErrorState, description: descDeleted}
	}
	t := obs.cfg.timeoutsFor(pj)
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		if !containersFinished(p) {
			return decision{state: v1alpha1.ErrorState, description: descUnfinished}
		}
		return decision{state: v1alpha1.SuccessState, description: descSucceeded}
	case corev1.PodFailed:
		if evicted(p) {
			return revive(pj, obs, pj.Spec.ErrorOnEviction)
		}
		if oomKilled(p) {
			return decision{state: v1alpha1.ErrorState, description: descOOMKilled}
		}
		return decision{state: v1alpha1.FailureState, description: descFailed}
	case corev1.PodUnknown:
		// The node was lost: like an eviction, but never an error by choice.
		return revive(pj, obs, false)
	case corev1.PodRunning:
		if p.Status.StartTime != nil {
			left := p.Status.StartTime.Add(t.running).Sub(obs.now)
			if left <= 0 {
				return decision{action: actStop, state: v1alpha1.AbortedState, description: descRunningTimeout}
			}
			return decision{state: v1alpha1.PendingState, description: descRunning, requeueAfter: left}
		}
		return decision{state: v1alpha1.PendingState, description: descRunning}
	default: // Pending, or no phase yet.
		if p.Status.StartTime == nil {
			left := p.CreationTimestamp.Add(t.unscheduled).Sub(obs.now)
			if left <= 0 {
				return decision{action: actStop, state: v1alpha1.ErrorState, description: descUnscheduledTimeout}
			}
			return decision{state: v1alpha1.PendingState, description: descPending, requeueAfter: left}
		}
		left := p.Status.StartTime.Add(t.pending).Sub(obs.now)
		if left <= 0 {
			return decision{action: actStop, state: v1alpha1.ErrorState, description: descPendingTimeout}
		}
		return decision{state: v1alpha1.PendingState, description: descPending, requeueAfter: left}
	}
}

// revive re-creates an evicted or lost pod unless the job asks for an
// error instead or the run used up its revivals.
func revive(pj *v1alpha1.ProwJob, obs observation, errorOnEviction bool) decision {
	if errorOnEviction {
		return decision{state: v1alpha1.ErrorState, description: descEvicted}
	}
	if max := *obs.cfg.MaxRevivals; int(pj.Status.PodRevivalCount) >= max {
		return decision{state: v1alpha1.ErrorState, description: fmt.Sprintf("Job pod reached max revivals (%d) after being evicted.", max)}
	}
	return decision{action: actRevive, state: v1alpha1.PendingState, description: descPending}
}

func decideLocal(pj *v1alpha1.ProwJob, obs observation) decision {
	switch obs.local.Phase {
	case LocalFinished:
		st := obs.local.State
		if !isTerminal(st) {
			st = v1alpha1.ErrorState
		}
		desc := obs.local.Description
		if desc == "" {
			desc = map[v1alpha1.ProwJobState]string{v1alpha1.SuccessState: descSucceeded, v1alpha1.FailureState: descFailed,
				v1alpha1.AbortedState: descAborted, v1alpha1.ErrorState: descProcessLost}[st]
		}
		return decision{state: st, description: localDescription(pj, desc)}
	case LocalRunning:
		// Runs tell the reconciler when they end (LocalRunner's notify);
		// look again now and then all the same.
		poll := obs.cfg.WaitInterval
		start := obs.local.StartTime
		if start.IsZero() && pj.Status.PendingTime != nil {
			start = pj.Status.PendingTime.Time
		}
		if start.IsZero() {
			return decision{state: v1alpha1.PendingState, description: localDescription(pj, descRunning), requeueAfter: poll}
		}
		left := start.Add(obs.cfg.timeoutsFor(pj).running).Sub(obs.now)
		if left <= 0 {
			return decision{action: actStop, state: v1alpha1.AbortedState, description: descRunningTimeout}
		}
		return decision{state: v1alpha1.PendingState, description: localDescription(pj, descRunning), requeueAfter: min(left, poll)}
	default:
		// Local runs live in bowline's process: a run that was pending when
		// bowline stopped is unknown to the runner of the next one. Run it
		// again, once, and say so on the commit status.
		if pj.Status.PodRevivalCount < maxLocalRestarts {
			return decision{action: actRevive, state: v1alpha1.PendingState, description: descLocalRestarted, report: true}
		}
		return decision{state: v1alpha1.ErrorState, description: descProcessLost}
	}
}

// maxLocalRestarts is how often a local run lost to a restart of bowline
// is started again.
const maxLocalRestarts = 1

// localDescription notes on a local run's description that it was
// restarted.
func localDescription(pj *v1alpha1.ProwJob, desc string) string {
	if pj.Status.PodRevivalCount > 0 {
		return desc + " " + descLocalRestartedNote
	}
	return desc
}

// evicted reports whether the pod was evicted or otherwise disrupted by the
// cluster rather than failing by itself.
func evicted(p *corev1.Pod) bool {
	if p.Status.Reason == "Evicted" {
		return true
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func oomKilled(p *corev1.Pod) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.Reason == "OOMKilled" {
			return true
		}
	}
	return false
}

// containersFinished reports whether every container the kubelet reported
// on has terminated.
func containersFinished(p *corev1.Pod) bool {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Terminated == nil {
			return false
		}
	}
	return true
}

// isTerminal reports whether a state ends the run.
func isTerminal(s v1alpha1.ProwJobState) bool {
	switch s {
	case v1alpha1.SuccessState, v1alpha1.FailureState, v1alpha1.AbortedState, v1alpha1.ErrorState:
		return true
	}
	return false
}
