package org

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Bounds of the status's lists.
const (
	maxStatusChanges = 50
	maxDriftChanges  = 20
	maxNotes         = 20
	maxErrors        = 10
	maxLine          = 500
)

// syncRecord is what a reconcile learned, for the status.
type syncRecord struct {
	revision string
	res      *SyncResult
	err      error
	now      time.Time
}

// setStatus writes what a sync saw and did into the status: the plan, the
// last application, drift, API usage and the conditions.
func setStatus(o *v1alpha1.GitHubOrganization, r syncRecord) {
	st := &o.Status
	now := metav1.NewTime(r.now)
	st.LastAttemptedRevision = r.revision
	st.LastSyncTime = &now
	res := r.res
	if res != nil {
		st.API = &v1alpha1.OrgAPIUsage{Requests: res.Usage.Requests, NotModified: res.Usage.NotModified, Writes: res.Usage.Writes,
			RateLimitRemaining: res.Usage.Remaining, Duration: res.Duration.Round(time.Millisecond).String()}
	}
	if r.err != nil {
		setCondition(o, v1alpha1.ConditionReady, false, v1alpha1.ReasonGitHubFailed, truncate(r.err.Error(), 1000))
		setCondition(o, v1alpha1.ConditionReconciling, true, "ProgressingWithRetry", "Reading the org from GitHub failed; retrying.")
		meta.RemoveStatusCondition(&st.Conditions, v1alpha1.ConditionStalled)
		return
	}
	p := res.Plan
	st.Plan = planStatus(p, r.revision, res.Violations)
	if res.Applied+res.Failed > 0 {
		la := &v1alpha1.OrgApplyStatus{PlanID: p.ID(), Revision: r.revision, Time: now, Applied: int32(res.Applied), Failed: int32(res.Failed)}
		for i, err := range res.Errors {
			if i == maxErrors {
				break
			}
			la.Errors = append(la.Errors, truncate(err.Error(), 1000))
		}
		st.LastApply = la
	}
	setDrift(o, res, now)
	if res.Outcome == OutcomeInSync || res.Outcome == OutcomeApplied {
		st.LastAppliedRevision = r.revision
	}
	setOutcomeConditions(o, res, r.revision)
}

func planStatus(p *plan.Plan, revision string, violations []plan.Violation) *v1alpha1.OrgPlanStatus {
	c := p.Counts()
	ps := &v1alpha1.OrgPlanStatus{Revision: revision, Total: int32(c.Total()), Create: int32(c.Create), Update: int32(c.Update),
		Delete: int32(c.Delete), Blocked: int32(c.Blocked), Drifted: int32(c.Drift)}
	if len(p.Changes) > 0 {
		ps.ID = p.ID()
		ps.ByKind = map[string]int32{}
	}
	for i, ch := range p.Changes {
		ps.ByKind[string(ch.Kind)]++
		if i < maxStatusChanges {
			ps.Changes = append(ps.Changes, truncate(ch.String(), maxLine))
		}
	}
	for _, v := range violations {
		ps.Violations = append(ps.Violations, truncate(v.Message, 1000))
	}
	for i, n := range p.Notes {
		if i == maxNotes {
			break
		}
		ps.Notes = append(ps.Notes, truncate(n, 1000))
	}
	return ps
}

// setDrift records the drift the plan found and what the sync undid.
func setDrift(o *v1alpha1.GitHubOrganization, res *SyncResult, now metav1.Time) {
	drifted := res.Plan.Drifted()
	remaining := len(drifted) - res.Reverted
	d := &v1alpha1.OrgDriftStatus{Objects: int32(len(drifted)), Reverted: int32(res.Reverted)}
	if remaining > 0 {
		d.Since = &now
		if prev := o.Status.Drift; prev != nil && prev.Since != nil {
			d.Since = prev.Since
		}
	}
	for i, c := range drifted {
		if i == maxDriftChanges {
			break
		}
		d.Changes = append(d.Changes, truncate(c.String(), maxLine))
	}
	o.Status.Drift = d
	switch {
	case remaining > 0:
		var names []string
		for i, c := range drifted {
			if i == 3 {
				names = append(names, "…")
				break
			}
			names = append(names, c.Object)
		}
		what := "reported, not reverted (spec.driftPolicy is Report)"
		if o.Spec.DriftPolicy == v1alpha1.DriftRevert {
			what = "not reverted yet"
		}
		setCondition(o, v1alpha1.ConditionDrifted, true, v1alpha1.ReasonDriftDetected,
			fmt.Sprintf("%s changed by hand: %s; %s.", plural(len(drifted), "object", "objects"), strings.Join(names, ", "), what))
	case res.Reverted > 0:
		setCondition(o, v1alpha1.ConditionDrifted, false, v1alpha1.ReasonDriftReverted,
			fmt.Sprintf("Reverted %s changed by hand.", plural(res.Reverted, "object", "objects")))
	default:
		setCondition(o, v1alpha1.ConditionDrifted, false, v1alpha1.ReasonNoDrift, "The org is as bowline last left it.")
	}
}

// setOutcomeConditions sets Ready, Reconciling and Stalled from what the
// sync did.
func setOutcomeConditions(o *v1alpha1.GitHubOrganization, res *SyncResult, revision string) {
	p := res.Plan
	c := p.Counts()
	conds := &o.Status.Conditions
	meta.RemoveStatusCondition(conds, v1alpha1.ConditionReconciling)
	stalled := func(reason, msg string) {
		setCondition(o, v1alpha1.ConditionReady, false, reason, msg)
		setCondition(o, v1alpha1.ConditionStalled, true, reason, msg)
	}
	switch res.Outcome {
	case OutcomeRefused:
		var msgs []string
		for _, v := range res.Violations {
			msgs = append(msgs, v.Message)
		}
		stalled(v1alpha1.ReasonSafetyLimitExceeded, truncate(fmt.Sprintf("Nothing applied: %s Fix the configuration, change spec.safety, or approve this plan with spec.safety.approvedPlan: %s.",
			strings.Join(msgs, " "), p.ID()), 1000))
		return
	case OutcomeDryRun:
		stalled(v1alpha1.ReasonAwaitingConfirmation, fmt.Sprintf("%s planned for %s (plan %s); set spec.confirm to true to apply.",
			plural(len(res.pendingOf()), "change", "changes"), revision, p.ID()))
		return
	case OutcomeApplyFailed:
		meta.RemoveStatusCondition(conds, v1alpha1.ConditionStalled)
		first := ""
		if len(res.Errors) > 0 {
			first = ": " + res.Errors[0].Error()
		}
		setCondition(o, v1alpha1.ConditionReady, false, v1alpha1.ReasonApplyFailed,
			truncate(fmt.Sprintf("%d of %d changes failed%s", res.Failed, res.Applied+res.Failed, first), 1000))
		setCondition(o, v1alpha1.ConditionReconciling, true, "ProgressingWithRetry", "Retrying the changes GitHub refused.")
		return
	}
	if c.Blocked > 0 {
		var blocked []string
		for _, ch := range p.Changes {
			if ch.Blocked != "" {
				blocked = append(blocked, ch.Object+": "+ch.Blocked)
			}
		}
		stalled(v1alpha1.ReasonChangesBlocked, truncate(fmt.Sprintf("%s not allowed: %s.", plural(c.Blocked, "change is", "changes are"), strings.Join(blocked, "; ")), 1000))
		return
	}
	meta.RemoveStatusCondition(conds, v1alpha1.ConditionStalled)
	if res.Outcome == OutcomeApplied {
		setCondition(o, v1alpha1.ConditionReady, true, v1alpha1.ReasonApplied,
			fmt.Sprintf("Applied %s of %s.", plural(res.Applied, "change", "changes"), revision))
		return
	}
	setCondition(o, v1alpha1.ConditionReady, true, v1alpha1.ReasonInSync,
		fmt.Sprintf("In sync with %s (%d requests, %d counted against the rate limit).", revision, res.Usage.Requests, res.Usage.Charged()))
}

// pendingOf counts the changes a dry run held back.
func (r *SyncResult) pendingOf() []plan.Change {
	var out []plan.Change
	for _, c := range r.Plan.Changes {
		if c.Blocked == "" {
			out = append(out, c)
		}
	}
	return out
}

// setWaiting marks an org that cannot be synced yet for a reason outside
// it (no configuration, or none about the org, or suspended).
func setWaiting(o *v1alpha1.GitHubOrganization, reason, msg string) {
	setCondition(o, v1alpha1.ConditionReady, false, reason, msg)
	meta.RemoveStatusCondition(&o.Status.Conditions, v1alpha1.ConditionReconciling)
	meta.RemoveStatusCondition(&o.Status.Conditions, v1alpha1.ConditionStalled)
}

func setCondition(o *v1alpha1.GitHubOrganization, typ string, status bool, reason, msg string) {
	s := metav1.ConditionFalse
	if status {
		s = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, ObservedGeneration: o.Generation})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
