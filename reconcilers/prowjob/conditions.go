package prowjob

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Condition reasons this controller sets besides those in v1alpha1.
const (
	// ReasonTriggered means the run has not started and nothing holds it
	// back.
	ReasonTriggered = "Triggered"
	// ReasonStarted means the run's pod was created or its process started.
	ReasonStarted = "Started"
	// ReasonRunning means the run is under way.
	ReasonRunning = "Running"
	// ReasonNotStarted means the run ended before a pod or process was
	// started for it.
	ReasonNotStarted = "NotStarted"
	// ReasonWaitingForBuildCluster means the run's build cluster cannot
	// take pods yet (unreachable, missing permissions, cache starting).
	ReasonWaitingForBuildCluster = "WaitingForBuildCluster"
)

// started is what the start or revive action produced.
type started struct {
	podName, buildID, url string
}

// applyDecision writes a carried-out decision into the run's status. It is
// pure: now is the time of the reconcile, s is set when a pod or process
// was started.
func applyDecision(st *v1alpha1.ProwJobStatus, generation int64, d decision, s *started, now time.Time) {
	t := metav1.NewTime(now)
	if st.StartTime == nil {
		st.StartTime = &t
	}
	if s != nil {
		if st.PendingTime == nil {
			st.PendingTime = &t
		}
		if d.action == actRevive {
			st.PodRevivalCount++
		}
		st.PodName = s.podName
		st.BuildID = s.buildID
		if s.url != "" {
			st.URL = s.url
		}
	}
	if d.report {
		// What the reporters last reported is stale: they report again.
		st.Reports = nil
	}
	st.State = d.state
	st.Description = truncate(d.description, 1024)
	if isTerminal(d.state) && st.CompletionTime == nil {
		st.CompletionTime = &t
	}
	setScheduledCondition(st, generation, d, t)
	setCompletedCondition(st, generation, t)
}

// setScheduledCondition: True once the run has a pod or process, False
// while it waits, with the wait's reason.
func setScheduledCondition(st *v1alpha1.ProwJobStatus, generation int64, d decision, now metav1.Time) {
	c := metav1.Condition{Type: v1alpha1.ConditionScheduled, ObservedGeneration: generation, LastTransitionTime: now}
	switch {
	case st.PendingTime != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, ReasonStarted, "The run was started."
	case d.waitReason != "":
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, d.waitReason, d.description
	case isTerminal(st.State):
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, ReasonNotStarted, st.Description
	default:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, ReasonTriggered, descTriggered
	}
	meta.SetStatusCondition(&st.Conditions, c)
}

// setCompletedCondition: True with the outcome as reason once the run is
// terminal, False while it is in flight.
func setCompletedCondition(st *v1alpha1.ProwJobStatus, generation int64, now metav1.Time) {
	c := metav1.Condition{Type: v1alpha1.ConditionCompleted, ObservedGeneration: generation, Message: st.Description, LastTransitionTime: now}
	switch st.State {
	case v1alpha1.SuccessState:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonJobSucceeded
	case v1alpha1.FailureState:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonJobFailed
	case v1alpha1.AbortedState:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonJobAborted
	case v1alpha1.ErrorState:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonJobErrored
	case v1alpha1.PendingState:
		c.Status, c.Reason = metav1.ConditionFalse, ReasonRunning
	default:
		c.Status, c.Reason = metav1.ConditionFalse, ReasonTriggered
	}
	if c.Message == "" {
		c.Message = c.Reason
	}
	meta.SetStatusCondition(&st.Conditions, c)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
