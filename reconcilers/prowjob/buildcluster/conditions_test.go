package buildcluster

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestConditionType(t *testing.T) {
	for alias, want := range map[string]string{
		"default":                                "buildcluster.bowline.dev/default",
		"k8s-infra-prow-build":                   "buildcluster.bowline.dev/k8s-infra-prow-build",
		"arn:aws:eks:us-east-2:123:cluster/prow": "buildcluster.bowline.dev/arn-aws-eks-us-east-2-123-cluster-prow",
		"::":                                     "buildcluster.bowline.dev/unnamed",
	} {
		if got := ConditionType(alias); got != want {
			t.Errorf("ConditionType(%q) = %q, want %q", alias, got, want)
		}
	}
}

func TestSetConditions(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	ready := Health{Alias: "default", Ready: true, Reason: ReasonReady, Message: "ok"}
	down := Health{Alias: "gke", Reason: ReasonUnreachable, Message: "no route"}
	denied := Health{Alias: "eks", Reason: ReasonMissingPermissions, Message: "no create"}
	cond := func(typ string, st metav1.ConditionStatus, reason, msg string, at time.Time) metav1.Condition {
		return metav1.Condition{Type: typ, Status: st, Reason: reason, Message: msg, ObservedGeneration: 3, LastTransitionTime: metav1.NewTime(at)}
	}
	ownReady := metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Applied", Message: "main@sha1:abc"}
	tests := []struct {
		name   string
		prior  []metav1.Condition
		health []Health
		want   []metav1.Condition
	}{{
		name:   "one condition per cluster, beside the ConfigRepository's own",
		prior:  []metav1.Condition{ownReady},
		health: []Health{ready, down, denied, notChecked("kind")},
		want: []metav1.Condition{ownReady,
			cond("buildcluster.bowline.dev/default", metav1.ConditionTrue, ReasonReady, "ok", t1),
			cond("buildcluster.bowline.dev/gke", metav1.ConditionFalse, ReasonUnreachable, "no route", t1),
			cond("buildcluster.bowline.dev/eks", metav1.ConditionFalse, ReasonMissingPermissions, "no create", t1),
			cond("buildcluster.bowline.dev/kind", metav1.ConditionUnknown, ReasonNotChecked, `Build cluster "kind" has not been checked yet.`, t1),
		},
	}, {
		name:   "the transition time moves only with the status",
		prior:  []metav1.Condition{cond("buildcluster.bowline.dev/gke", metav1.ConditionFalse, ReasonUnreachable, "timeout", t0)},
		health: []Health{down},
		want:   []metav1.Condition{cond("buildcluster.bowline.dev/gke", metav1.ConditionFalse, ReasonUnreachable, "no route", t0)},
	}, {
		name:   "a cluster no longer in the set loses its condition",
		prior:  []metav1.Condition{ownReady, cond("buildcluster.bowline.dev/old", metav1.ConditionTrue, ReasonReady, "ok", t0)},
		health: []Health{ready},
		want:   []metav1.Condition{ownReady, cond("buildcluster.bowline.dev/default", metav1.ConditionTrue, ReasonReady, "ok", t1)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conds := append([]metav1.Condition(nil), tt.prior...)
			SetConditions(&conds, tt.health, 3, t1)
			if d := cmp.Diff(tt.want, conds, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("conditions (-want +got):\n%s", d)
			}
		})
	}
}
