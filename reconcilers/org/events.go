package org

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// maxNote bounds an Event's note (events.k8s.io allows 1 KiB).
const maxNote = 1000

// changeLog collects what a sync applied, to record it as Events.
type changeLog struct {
	applied map[string][]string // reason → objects
	order   []string
	failed  []string
}

func (l *changeLog) add(c plan.Change, err error) {
	if err != nil {
		l.failed = append(l.failed, err.Error())
		return
	}
	reason := string(c.Kind) + map[plan.Action]string{plan.ActionCreate: "Created", plan.ActionUpdate: "Updated", plan.ActionDelete: "Deleted"}[c.Action]
	if l.applied == nil {
		l.applied = map[string][]string{}
	}
	if _, seen := l.applied[reason]; !seen {
		l.order = append(l.order, reason)
	}
	entry := c.Object
	if c.Detail != "" {
		entry += " (" + c.Detail + ")"
	}
	if c.Drift {
		entry += " [drift reverted]"
	}
	l.applied[reason] = append(l.applied[reason], entry)
}

// record writes every change as Events: one per kind of change, listing
// its objects, split so that no note exceeds what an Event holds. A large
// first apply is a few hundred Events rather than thousands, and no change
// goes unrecorded. Failures are Warnings, one each.
func (l *changeLog) record(rec events.EventRecorder, o *v1alpha1.GitHubOrganization) {
	if rec == nil {
		return
	}
	for _, reason := range l.order {
		for _, note := range chunk(l.applied[reason], maxNote) {
			rec.Eventf(o, nil, corev1.EventTypeNormal, reason, "Apply", "%s", note)
		}
	}
	for _, f := range l.failed {
		rec.Eventf(o, nil, corev1.EventTypeWarning, v1alpha1.ReasonApplyFailed, "Apply", "%s", truncate(f, maxNote))
	}
}

// chunk joins entries with "; " into notes of at most n bytes.
func chunk(entries []string, n int) []string {
	var out []string
	var b strings.Builder
	for _, e := range entries {
		e = truncate(e, n)
		if b.Len() > 0 && b.Len()+2+len(e) > n {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// transitionEvents records what changed in the org's standing: drift
// found, a plan refused, a plan waiting for confirmation.
func transitionEvents(rec events.EventRecorder, o *v1alpha1.GitHubOrganization, before *v1alpha1.GitHubOrganizationStatus) {
	if rec == nil {
		return
	}
	now := &o.Status
	if d := now.Drift; d != nil && d.Objects > d.Reverted {
		if prev := before.Drift; prev == nil || prev.Objects != d.Objects || !reflect.DeepEqual(prev.Changes, d.Changes) {
			rec.Eventf(o, nil, corev1.EventTypeWarning, v1alpha1.ReasonDriftDetected, "Sync", "%s",
				truncate(strings.Join(d.Changes, "; "), maxNote))
		}
	}
	if p := now.Plan; p != nil && p.ID != "" && (before.Plan == nil || before.Plan.ID != p.ID) {
		if len(p.Violations) > 0 {
			rec.Eventf(o, nil, corev1.EventTypeWarning, v1alpha1.ReasonSafetyLimitExceeded, "Plan", "%s",
				truncate(fmt.Sprintf("Plan %s refused: %s", p.ID, strings.Join(p.Violations, " ")), maxNote))
		} else if !o.Spec.Confirm {
			rec.Eventf(o, nil, corev1.EventTypeNormal, v1alpha1.ReasonAwaitingConfirmation, "Plan",
				"Plan %s: %d to create, %d to update, %d to delete; set spec.confirm to apply it", p.ID, p.Create, p.Update, p.Delete)
		}
	}
}

// limitsEvent records a change of the safety limits, so that raising them
// never goes unnoticed.
func limitsEvent(rec events.EventRecorder, o *v1alpha1.GitHubOrganization, before *v1alpha1.OrgSafety) {
	if rec == nil || before == nil || reflect.DeepEqual(*before, o.Spec.Safety) {
		return
	}
	var what []string
	b, a := *before, o.Spec.Safety
	num := func(name string, x, y *int32) {
		if deref32(x) != deref32(y) {
			what = append(what, fmt.Sprintf("%s %d → %d", name, deref32(x), deref32(y)))
		}
	}
	flag := func(name string, x, y bool) {
		if x != y {
			what = append(what, fmt.Sprintf("%s %t → %t", name, x, y))
		}
	}
	num("maxRemovalPercent", b.MaxRemovalPercent, a.MaxRemovalPercent)
	num("minAdmins", b.MinAdmins, a.MinAdmins)
	flag("requireSelf", b.RequireSelf == nil || *b.RequireSelf, a.RequireSelf == nil || *a.RequireSelf)
	flag("allowRepoArchival", b.AllowRepoArchival, a.AllowRepoArchival)
	flag("allowRepoPublish", b.AllowRepoPublish, a.AllowRepoPublish)
	if !reflect.DeepEqual(b.RequiredAdmins, a.RequiredAdmins) {
		what = append(what, fmt.Sprintf("requiredAdmins %v → %v", b.RequiredAdmins, a.RequiredAdmins))
	}
	if b.ApprovedPlan != a.ApprovedPlan {
		what = append(what, fmt.Sprintf("approvedPlan %q → %q", b.ApprovedPlan, a.ApprovedPlan))
	}
	if len(what) > 0 {
		rec.Eventf(o, nil, corev1.EventTypeWarning, "SafetyLimitsChanged", "Configure", "%s", truncate(strings.Join(what, ", "), maxNote))
	}
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
