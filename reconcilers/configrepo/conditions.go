package configrepo

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Bounds on what a failed revision writes into status.
const (
	// maxStatusErrors is status.validationErrors' MaxItems.
	maxStatusErrors = 50
	// maxMessageErrors is how many errors the Ready message quotes.
	maxMessageErrors = 3
	// maxErrorLen cuts a single error line.
	maxErrorLen = 512
	// historyLen is status.history's MaxItems.
	historyLen = 5
)

// Reasons for the Reconciling condition and history results, beyond those
// in v1alpha1.
const (
	// reasonProgressingWithRetry: the last attempt failed and is retried.
	reasonProgressingWithRetry = "ProgressingWithRetry"
	// resultApplied: a new revision was applied.
	resultApplied = "Applied"
	// resultUnchanged: the applied revision is still the newest.
	resultUnchanged = "Unchanged"
)

// outcome is what one reconcile found, everything the condition functions
// need. A zero Failure means success.
type outcome struct {
	// Suspended is spec.suspend.
	Suspended bool
	// Failure is the reason of a failed reconcile.
	Failure string
	// Detail explains the failure; it never holds a secret. For a
	// validation failure it is set only when the same revision failed
	// before, to keep the message that counted all its errors.
	Detail string
	// Attempted is the newest revision fetched.
	Attempted string
	// Applied is the revision in effect after the reconcile.
	Applied string
	// NewlyApplied is true when this reconcile switched to Applied.
	NewlyApplied bool
	// Errors are the validation errors of Attempted, file:line:col: message.
	Errors []string
	// Warnings are the loader's warnings about Attempted, the same way;
	// set only when this reconcile validated it.
	Warnings []string
	// Summary counts the applied configuration.
	Summary *v1alpha1.ConfigSummary
	// Missing is what the applied configuration asks for that bowline does
	// not implement.
	Missing NotImplemented
	// OrgsReported and DeployReported say that this reconciler reports
	// OrgsSynced and DeploymentReady (no role of their own does), from
	// Missing; DeployDir is the deploy path.
	OrgsReported, DeployReported bool
	DeployDir                    string
}

// result is the history entry's result for o.
func (o outcome) result() string {
	switch {
	case o.Failure != "":
		return o.Failure
	case o.NewlyApplied:
		return resultApplied
	}
	return resultUnchanged
}

// setConditions sets Ready, Reconciling, Stalled, JobsReady and PluginsReady
// on obj from o, and OrgsSynced and DeploymentReady while no role applies
// what they cover, following kstatus: Reconciling and Stalled are present only
// while True, and every condition carries obj's generation.
func setConditions(obj *v1alpha1.ConfigRepository, o outcome) {
	gen := obj.Generation
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{
			Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: gen,
		})
	}
	remove := func(typ string) { meta.RemoveStatusCondition(&obj.Status.Conditions, typ) }
	stays := "no valid revision has been applied yet"
	if o.Applied != "" {
		stays = "revision " + o.Applied + " stays applied"
	}

	switch {
	case o.Suspended:
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonSuspended, "Reconciling is suspended; "+stays)
		remove(v1alpha1.ConditionReconciling)
		remove(v1alpha1.ConditionStalled)
		return
	case o.Failure == v1alpha1.ReasonValidationFailed:
		msg := o.Detail // the message of the same failure, seen before
		if msg == "" {
			msg = validationMessage(o.Attempted, o.Errors) + "; " + stays
		}
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, o.Failure, msg)
		set(v1alpha1.ConditionStalled, metav1.ConditionTrue, o.Failure, msg)
		remove(v1alpha1.ConditionReconciling)
	case o.Failure != "":
		// Transient: retried with backoff, so progressing, never stalled.
		msg := o.Detail + "; " + stays
		set(v1alpha1.ConditionReady, metav1.ConditionFalse, o.Failure, msg)
		set(v1alpha1.ConditionReconciling, metav1.ConditionTrue, reasonProgressingWithRetry, "Retrying: "+o.Detail)
		remove(v1alpha1.ConditionStalled)
	default:
		msg := "Applied revision " + o.Applied
		if n := obj.Status.WarningCount; n > 0 {
			msg += fmt.Sprintf(" (%d %s in status.warnings)", n, plural(int(n), "warning", "warnings"))
		}
		set(v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonSucceeded, msg)
		remove(v1alpha1.ConditionReconciling)
		remove(v1alpha1.ConditionStalled)
	}

	if o.Applied == "" || o.Summary == nil {
		reason := o.Failure
		if reason == "" {
			reason = v1alpha1.ReasonProgressing
		}
		set(v1alpha1.ConditionJobsReady, metav1.ConditionFalse, reason, "No revision applied yet")
		set(v1alpha1.ConditionPluginsReady, metav1.ConditionFalse, reason, "No revision applied yet")
		return
	}
	s := o.Summary
	set(v1alpha1.ConditionJobsReady, metav1.ConditionTrue, v1alpha1.ReasonSucceeded,
		fmt.Sprintf("%d presubmits, %d postsubmits and %d periodics in effect from revision %s", s.Presubmits, s.Postsubmits, s.Periodics, o.Applied))
	if m := o.Missing; len(m.Plugins) > 0 {
		set(v1alpha1.ConditionPluginsReady, metav1.ConditionFalse, v1alpha1.ReasonNotImplemented,
			fmt.Sprintf("%s (revision %s)", m.PluginsMessage(), o.Applied))
	} else {
		set(v1alpha1.ConditionPluginsReady, metav1.ConditionTrue, v1alpha1.ReasonSucceeded,
			fmt.Sprintf("%d plugins in effect from revision %s", s.Plugins, o.Applied))
	}
	if o.OrgsReported {
		if m := o.Missing; m.Orgs > 0 || m.Labels > 0 {
			set(v1alpha1.ConditionOrgsSynced, metav1.ConditionFalse, v1alpha1.ReasonNotImplemented, fmt.Sprintf("%s (revision %s)", m.OrgsMessage(), o.Applied))
		} else {
			remove(v1alpha1.ConditionOrgsSynced)
		}
	}
	if o.DeployReported {
		if m := o.Missing; m.DeployFiles > 0 {
			set(v1alpha1.ConditionDeploymentReady, metav1.ConditionFalse, v1alpha1.ReasonNotImplemented, fmt.Sprintf("%s (revision %s)", m.DeployMessage(o.DeployDir), o.Applied))
		} else {
			remove(v1alpha1.ConditionDeploymentReady)
		}
	}
}

// validationMessage names the invalid revision and quotes its first errors.
func validationMessage(rev string, errs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Revision %s is invalid (%d %s): ", rev, len(errs), plural(len(errs), "error", "errors"))
	for i, e := range errs {
		if i == maxMessageErrors {
			fmt.Fprintf(&b, "; and %d more in status.validationErrors", len(errs)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(truncate(e, maxErrorLen))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// boundErrors returns the first maxStatusErrors errors, each cut to
// maxErrorLen, for status.validationErrors.
func boundErrors(errs []string) []string {
	if len(errs) == 0 {
		return nil
	}
	n := min(len(errs), maxStatusErrors)
	out := make([]string, n)
	for i := range n {
		out[i] = truncate(errs[i], maxErrorLen)
	}
	return out
}

// recordHistory puts rec first in h, keeping historyLen entries. Repeats of
// the newest entry (the same revision with the same result, as every
// unchanged poll is) replace it instead of pushing older entries out.
func recordHistory(h []v1alpha1.ReconcileRecord, rec v1alpha1.ReconcileRecord) []v1alpha1.ReconcileRecord {
	if len(h) > 0 && h[0].Revision == rec.Revision && h[0].Result == rec.Result {
		out := append([]v1alpha1.ReconcileRecord{rec}, h[1:]...)
		return out
	}
	out := append([]v1alpha1.ReconcileRecord{rec}, h...)
	if len(out) > historyLen {
		out = out[:historyLen]
	}
	return out
}

// jitter spreads d by ±frac: r in [0,1) picks the point in that range, so
// many repositories created together do not poll together.
func jitter(d time.Duration, frac, r float64) time.Duration {
	return d + time.Duration(float64(d)*frac*(2*r-1))
}
