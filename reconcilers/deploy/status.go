package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	deployfile "github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// maxMessage bounds a role's message (the status field's MaxLength).
const maxMessage = 1024

// entry is a role's status entry from its Deployment as it stands after
// this reconcile's action.
func (r *Reconciler) entry(sc *scope, role, state, msg string) v1alpha1.DeployedRole {
	e := v1alpha1.DeployedRole{Name: role, Deployment: DeploymentName(role), State: state, Message: truncate(msg, maxMessage)}
	d := sc.deps[role]
	if d == nil {
		return e
	}
	e.Separate = separate(d)
	if h := readRecord(d, AnnotationHealthy); h != nil {
		e.Revision = h.Revision
	}
	if d.Spec.Replicas != nil {
		e.Replicas = *d.Spec.Replicas
	}
	e.AvailableReplicas = d.Status.AvailableReplicas
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "operator" || e.Image == "" {
			e.Image = c.Image
		}
	}
	return e
}

// report writes the DeploymentReady condition and status.deployment when
// they changed, with server-side apply under this reconciler's own field
// manager (the ConfigRepository reconciler writes the rest of the status).
// A failed step reports nothing: it is retried.
func (r *Reconciler) report(ctx context.Context, sc *scope, stepErr error) error {
	if stepErr != nil {
		return nil
	}
	obj := sc.obj
	cond, dep := desiredReport(sc, r.Template)
	cond.ObservedGeneration = obj.Generation
	conds := append([]metav1.Condition(nil), obj.Status.Conditions...)
	var before *metav1.Condition
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionDeploymentReady); c != nil {
		// A copy: SetStatusCondition changes the slice's element.
		before = c.DeepCopy()
	}
	beforeReason := ""
	if before != nil {
		beforeReason = before.Reason
	}
	meta.SetStatusCondition(&conds, cond)
	mine := *meta.FindStatusCondition(conds, v1alpha1.ConditionDeploymentReady)
	if before != nil && before.Status == mine.Status && before.Reason == mine.Reason && before.Message == mine.Message &&
		before.ObservedGeneration == mine.ObservedGeneration && equality.Semantic.DeepEqual(obj.Status.Deployment, dep) {
		return nil
	}
	depMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(dep)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(), "kind": "ConfigRepository",
		"metadata": map[string]any{"name": obj.Name, "namespace": obj.Namespace},
		"status": map[string]any{
			"conditions": []any{map[string]any{
				"type": mine.Type, "status": string(mine.Status), "reason": mine.Reason, "message": mine.Message,
				"observedGeneration": mine.ObservedGeneration, "lastTransitionTime": mine.LastTransitionTime.UTC().Format(time.RFC3339),
			}},
			"deployment": depMap,
		},
	}}
	if err := r.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(ManagedBy), client.ForceOwnership); err != nil {
		return fmt.Errorf("report the deployment on ConfigRepository %s: %w", r.Key, client.IgnoreNotFound(err))
	}
	if r.Recorder != nil && beforeReason != mine.Reason {
		switch mine.Reason {
		case v1alpha1.ReasonRolledBack, v1alpha1.ReasonTemplateNotFound:
			r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, mine.Reason, "Deploy", "%s", mine.Message)
		case v1alpha1.ReasonSucceeded:
			r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, mine.Reason, "Deploy", "%s", mine.Message)
		}
	}
	return nil
}

// desiredReport is the condition and status.deployment for what sc saw.
func desiredReport(sc *scope, template string) (metav1.Condition, *v1alpha1.DeploymentStatus) {
	dep := &v1alpha1.DeploymentStatus{Roles: sc.roles}
	cond := metav1.Condition{Type: v1alpha1.ConditionDeploymentReady}
	if sc.template == nil {
		cond.Status, cond.Reason = metav1.ConditionFalse, v1alpha1.ReasonTemplateNotFound
		cond.Message = fmt.Sprintf("Deployment %s/%s, the operator's own, is not found: the roles' Deployments are made from it; what runs stays as it is", sc.obj.Namespace, template)
		// Without the template nothing was looked at: keep the roles as
		// last reported.
		if sc.obj.Status.Deployment != nil {
			dep.Roles = sc.obj.Status.Deployment.Roles
		}
		return cond, dep
	}
	var rolledBack, progressing []string
	var held []string
	for _, e := range sc.roles {
		switch e.State {
		case v1alpha1.RoleRolledBack:
			rolledBack = append(rolledBack, e.Name+" "+e.Message)
		case v1alpha1.RoleProgressing, v1alpha1.RoleRemoving:
			progressing = append(progressing, e.Name+": "+e.Message)
		case v1alpha1.RoleHeld:
			held = append(held, e.Name)
		}
	}
	switch {
	case len(rolledBack) > 0:
		cond.Status, cond.Reason = metav1.ConditionFalse, v1alpha1.ReasonRolledBack
		cond.Message = fmt.Sprintf("Revision %s: %s", sc.revision, strings.Join(rolledBack, "; "))
		if len(held) > 0 {
			verb := " keeps what it runs"
			if len(held) > 1 {
				verb = " keep what they run"
			}
			cond.Message += "; " + strings.Join(held, ", ") + verb
		}
	case len(progressing) > 0:
		cond.Status, cond.Reason = metav1.ConditionFalse, v1alpha1.ReasonProgressing
		cond.Message = fmt.Sprintf("Revision %s: %s", sc.revision, strings.Join(progressing, "; "))
	case len(sc.roles) == 0:
		cond.Status, cond.Reason = metav1.ConditionTrue, v1alpha1.ReasonSucceeded
		cond.Message = fmt.Sprintf("Every role runs in Deployment %s: revision %s has no deployment file", template, sc.revision)
		dep.Revision = sc.revision
	default:
		cond.Status, cond.Reason = metav1.ConditionTrue, v1alpha1.ReasonSucceeded
		var parts []string
		for _, e := range sc.roles {
			parts = append(parts, fmt.Sprintf("%s (%d/%d)", e.Name, e.AvailableReplicas, e.Replicas))
		}
		cond.Message = fmt.Sprintf("Revision %s deployed: %s in Deployments of their own, running %s; the other roles in %s",
			sc.revision, strings.Join(parts, ", "), sc.file.Image.Ref, template)
		dep.Revision = sc.revision
	}
	cond.Message = truncate(cond.Message, 32768)
	return cond, dep
}

// sameReport reports whether two versions of a ConfigRepository carry the
// same DeploymentReady condition and status.deployment.
func sameReport(a, b *v1alpha1.ConfigRepository) bool {
	ca := meta.FindStatusCondition(a.Status.Conditions, v1alpha1.ConditionDeploymentReady)
	cb := meta.FindStatusCondition(b.Status.Conditions, v1alpha1.ConditionDeploymentReady)
	if (ca == nil) != (cb == nil) {
		return false
	}
	if ca != nil && (ca.Status != cb.Status || ca.Reason != cb.Reason || ca.Message != cb.Message || ca.ObservedGeneration != cb.ObservedGeneration) {
		return false
	}
	return equality.Semantic.DeepEqual(a.Status.Deployment, b.Status.Deployment)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-len("…")] + "…"
}

// applyObject server-side applies o under this reconciler's field manager.
func applyObject(ctx context.Context, c client.Client, o client.Object) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(ManagedBy), client.ForceOwnership)
}

// Placement reads, from a ConfigRepository, which roles run in
// Deployments of their own (status.deployment.roles[].separate).
func Placement(cr *v1alpha1.ConfigRepository) map[string]bool {
	out := map[string]bool{}
	if cr == nil || cr.Status.Deployment == nil {
		return out
	}
	for _, e := range cr.Status.Deployment.Roles {
		if e.Separate && slices.Contains(deployfile.Roles, e.Name) {
			out[e.Name] = true
		}
	}
	return out
}
