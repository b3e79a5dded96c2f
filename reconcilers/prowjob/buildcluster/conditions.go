package buildcluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// ConditionPrefix starts the type of each build cluster's condition on the
// ConfigRepository: buildcluster.bowline.dev/<alias>.
const ConditionPrefix = "buildcluster.bowline.dev/"

// FieldOwner is the field manager of the build cluster conditions.
const FieldOwner = "bowline-buildclusters"

// ConditionType is the condition type of a build cluster: ConditionPrefix
// and the alias, with the characters a condition type may not hold (an
// EKS context's ':' and '/', say) replaced by '-'; the message names the
// alias exactly.
func ConditionType(alias string) string {
	b := []byte(alias)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '-'
		}
	}
	name := strings.Trim(string(b), "-_.")
	if name == "" {
		name = "unnamed"
	}
	return ConditionPrefix + name
}

// SetConditions lays one condition per build cluster onto conds, as
// meta.SetStatusCondition does (a transition time changes only with the
// status), and removes the conditions of clusters no longer in health. A
// ready cluster's condition is True with reason Ready; otherwise False with
// the reason found (Unreachable, MissingPermissions) or Unknown before the
// first check.
func SetConditions(conds *[]metav1.Condition, health []Health, generation int64, now time.Time) {
	keep := map[string]bool{}
	for _, h := range health {
		c := metav1.Condition{
			Type: ConditionType(h.Alias), Reason: h.Reason, Message: h.Message,
			ObservedGeneration: generation, LastTransitionTime: metav1.NewTime(now),
		}
		switch {
		case h.Ready:
			c.Status = metav1.ConditionTrue
		case h.Reason == ReasonNotChecked:
			c.Status = metav1.ConditionUnknown
		default:
			c.Status = metav1.ConditionFalse
		}
		keep[c.Type] = true
		meta.SetStatusCondition(conds, c)
	}
	*conds = slices.DeleteFunc(*conds, func(c metav1.Condition) bool {
		return strings.HasPrefix(c.Type, ConditionPrefix) && !keep[c.Type]
	})
}

// StatusWriter reports the build clusters' health as conditions of one
// ConfigRepository (the one the jobs role follows), with server-side apply
// under its own field manager, so that the ConfigRepository's own
// conditions are left to its reconciler.
type StatusWriter struct {
	// Client reads the ConfigRepository and applies its status.
	Client client.Client
	// Key names the ConfigRepository.
	Key types.NamespacedName
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Write applies the conditions of health when they differ from the
// ConfigRepository's (a missing ConfigRepository is no error: there is
// nothing to report on yet).
func (w *StatusWriter) Write(ctx context.Context, health []Health) error {
	cr := &v1alpha1.ConfigRepository{}
	if err := w.Client.Get(ctx, w.Key, cr); err != nil {
		return client.IgnoreNotFound(err)
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	desired := slices.Clone(cr.Status.Conditions)
	SetConditions(&desired, health, cr.Generation, now())
	var mine []metav1.Condition
	for _, c := range desired {
		if strings.HasPrefix(c.Type, ConditionPrefix) {
			mine = append(mine, c)
		}
	}
	if sameConditions(cr.Status.Conditions, mine) {
		return nil
	}
	items := make([]any, 0, len(mine))
	for _, c := range mine {
		items = append(items, map[string]any{
			"type": c.Type, "status": string(c.Status), "reason": c.Reason, "message": c.Message,
			"observedGeneration": c.ObservedGeneration, "lastTransitionTime": c.LastTransitionTime.UTC().Format(time.RFC3339),
		})
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(), "kind": "ConfigRepository",
		"metadata": map[string]any{"name": w.Key.Name, "namespace": w.Key.Namespace},
		"status":   map[string]any{"conditions": items},
	}}
	if err := w.Client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply build cluster conditions to ConfigRepository %s: %w", w.Key, err)
	}
	return nil
}

// sameConditions reports whether have holds exactly the build cluster
// conditions in mine, with the same status, reason, message and generation.
func sameConditions(have, mine []metav1.Condition) bool {
	n := 0
	for _, c := range have {
		if strings.HasPrefix(c.Type, ConditionPrefix) {
			n++
		}
	}
	if n != len(mine) {
		return false
	}
	for _, m := range mine {
		c := meta.FindStatusCondition(have, m.Type)
		if c == nil || c.Status != m.Status || c.Reason != m.Reason || c.Message != m.Message || c.ObservedGeneration != m.ObservedGeneration {
			return false
		}
	}
	return true
}
