package deploy

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestRolloutOf(t *testing.T) {
	applied := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	dep := func(gen, observed int64, replicas, updated, total, available int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Generation: gen},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas), ProgressDeadlineSeconds: ptr.To[int32](120),
				Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "operator", Image: "bowline:v2"}}}}},
			Status: appsv1.DeploymentStatus{ObservedGeneration: observed, UpdatedReplicas: updated, Replicas: total,
				AvailableReplicas: available, Conditions: conds},
		}
	}
	pod := func(name string, created time.Time, reason string, restarts int32, image ...string) corev1.Pod {
		img := "bowline:v2"
		if len(image) > 0 {
			img = image[0]
		}
		return corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "operator", Image: img}}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
				Name: "operator", RestartCount: restarts,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "back-off pulling image\nmore"}},
			}}},
		}
	}
	deadline := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "bowline-hook-5d" has timed out progressing.`}
	tests := []struct {
		name string
		d    *appsv1.Deployment
		pods []corev1.Pod
		want progress
	}{
		{name: "complete", d: dep(2, 2, 2, 2, 2, 2), want: progress{complete: true}},
		{name: "not seen yet", d: dep(3, 2, 2, 2, 2, 2), want: progress{waiting: "waiting for the Deployment controller to see the new spec"}},
		{name: "new pods being made", d: dep(2, 2, 2, 1, 3, 2), want: progress{waiting: "1 of 2 new pods created"}},
		{name: "old pods left", d: dep(2, 2, 2, 2, 3, 2), want: progress{waiting: "1 old pod still running"}},
		{name: "new pods not ready", d: dep(2, 2, 2, 2, 2, 1), want: progress{waiting: "1 of 2 new pods available"}},
		{name: "no progress within the deadline", d: dep(2, 2, 2, 1, 3, 2, deadline),
			want: progress{failed: `no progress within 120s: ReplicaSet "bowline-hook-5d" has timed out progressing.`}},
		{name: "a new pod cannot pull its image", d: dep(2, 2, 2, 1, 3, 2),
			pods: []corev1.Pod{pod("old", applied.Add(-time.Hour), "ImagePullBackOff", 0), pod("new", applied.Add(time.Second), "ImagePullBackOff", 0)},
			want: progress{failed: "pod new cannot pull its image (ImagePullBackOff: back-off pulling image)"}},
		{name: "an old pod's trouble is not the new spec's", d: dep(2, 2, 2, 1, 3, 2),
			pods: []corev1.Pod{pod("old", applied.Add(-time.Hour), "CrashLoopBackOff", 9)},
			want: progress{waiting: "1 of 2 new pods created"}},
		{name: "a failed rollout's pod, still going", d: dep(2, 2, 2, 1, 3, 2),
			pods: []corev1.Pod{pod("older", applied.Add(time.Second), "ImagePullBackOff", 0, "bowline:v2-typo")},
			want: progress{waiting: "1 of 2 new pods created"}},
		{name: "a new pod crashes once", d: dep(2, 2, 2, 1, 3, 2),
			pods: []corev1.Pod{pod("new", applied.Add(time.Second), "CrashLoopBackOff", 1)},
			want: progress{waiting: "1 of 2 new pods created"}},
		{name: "a new pod keeps crashing", d: dep(2, 2, 2, 1, 3, 2),
			pods: []corev1.Pod{pod("new", applied.Add(time.Second), "CrashLoopBackOff", 3)},
			want: progress{failed: "pod new keeps crashing (3 restarts)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rolloutOf(tt.d, tt.pods, applied); got != tt.want {
				t.Errorf("rolloutOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLeaderAmong(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	lease := func(holder string, renewed time.Time) *coordinationv1.Lease {
		return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To[int32](10),
			RenewTime: &metav1.MicroTime{Time: renewed}}}
	}
	pods := []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "bowline-jobs-7c9-abcde"}}}
	tests := []struct {
		name  string
		lease *coordinationv1.Lease
		want  bool
	}{
		{"a new pod leads", lease("bowline-jobs-7c9-abcde_1b2c", now.Add(-3*time.Second)), true},
		{"the operator still leads", lease("bowline-operator-5f-xyz_9f8e", now), false},
		{"the holder stopped renewing", lease("bowline-jobs-7c9-abcde_1b2c", now.Add(-11*time.Second)), false},
		{"released", lease("", now), false},
		{"no lease", nil, false},
	}
	for _, tt := range tests {
		if _, got := leaderAmong(tt.lease, pods, now); got != tt.want {
			t.Errorf("%s: leaderAmong = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSeparate(t *testing.T) {
	dep := func(replicas int32, ann map[string]string) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Annotations: ann}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To(replicas)}}
	}
	healthy := (&record{Hash: "h1", Revision: "main@sha1:1"}).encode()
	tests := []struct {
		name string
		d    *appsv1.Deployment
		want bool
	}{
		{"no Deployment", nil, false},
		{"rolling out, never healthy", dep(2, map[string]string{AnnotationHash: "h1"}), false},
		{"its pods passed the checks", dep(2, map[string]string{AnnotationHash: "h1", AnnotationChecked: "h1"}), true},
		{"checks passed for older settings only", dep(2, map[string]string{AnnotationHash: "h2", AnnotationChecked: "h1"}), false},
		{"healthy before, rolling out again", dep(2, map[string]string{AnnotationHash: "h2", AnnotationHealthy: healthy}), true},
		{"scaled to zero after a failed first rollout", dep(0, map[string]string{AnnotationHash: "h1", AnnotationChecked: "h1"}), false},
		{"leaving the file", dep(2, map[string]string{AnnotationHealthy: healthy, AnnotationRemoving: "true"}), false},
	}
	for _, tt := range tests {
		if got := separate(tt.d); got != tt.want {
			t.Errorf("%s: separate = %v, want %v", tt.name, got, tt.want)
		}
	}
}
