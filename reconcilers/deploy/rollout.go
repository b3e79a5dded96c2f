package deploy

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
)

// Annotations on a role's Deployment: what the reconciler knows of it,
// kept with it so that any replica of the operator, started at any time,
// takes the rollout up where it is.
const (
	// AnnotationHash is the Hash of the spec the Deployment was given.
	AnnotationHash = "deploy.bowline.dev/hash"
	// AnnotationRevision is the config revision of that spec's settings.
	AnnotationRevision = "deploy.bowline.dev/revision"
	// AnnotationAppliedAt is when that spec was applied (RFC 3339).
	AnnotationAppliedAt = "deploy.bowline.dev/applied-at"
	// AnnotationCompleteAt is "<hash> <time>": when the rollout of that
	// hash was first seen complete; the checks that follow (the synthetic
	// webhook, the leader's lease) must pass within the progress deadline
	// from then.
	AnnotationCompleteAt = "deploy.bowline.dev/complete-at"
	// AnnotationChecked is the hash whose pods passed the checks: from
	// then on the role runs in this Deployment alone.
	AnnotationChecked = "deploy.bowline.dev/checked"
	// AnnotationHealthy is the last healthy deployment (a record with its
	// settings), rolled back to when a later one fails.
	AnnotationHealthy = "deploy.bowline.dev/healthy"
	// AnnotationFailed is the deployment that failed (a record with the
	// reason): the same settings are not tried again.
	AnnotationFailed = "deploy.bowline.dev/failed"
	// AnnotationRemoving marks a role that left the file, on its way back
	// to the operator's own Deployment.
	AnnotationRemoving = "deploy.bowline.dev/removing"
)

// record is a healthy or failed deployment of a role.
type record struct {
	Hash     string    `json:"hash"`
	Revision string    `json:"revision"`
	Settings *Settings `json:"settings,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

func readRecord(d *appsv1.Deployment, key string) *record {
	if d == nil {
		return nil
	}
	v, ok := d.Annotations[key]
	if !ok {
		return nil
	}
	var r record
	if json.Unmarshal([]byte(v), &r) != nil || r.Hash == "" {
		return nil
	}
	return &r
}

func (r *record) encode() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// completeAt is when the rollout of hash was first seen complete.
func completeAt(d *appsv1.Deployment, hash string) (time.Time, bool) {
	h, at, ok := strings.Cut(d.Annotations[AnnotationCompleteAt], " ")
	if !ok || h != hash {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, at)
	return t, err == nil
}

// separate reports whether a role runs in its Deployment alone: the
// Deployment is not being removed, has replicas, and either was healthy
// before or its current pods passed the checks.
func separate(d *appsv1.Deployment) bool {
	if d == nil || d.Annotations[AnnotationRemoving] == "true" || d.Spec.Replicas == nil || *d.Spec.Replicas == 0 {
		return false
	}
	return readRecord(d, AnnotationHealthy) != nil || (d.Annotations[AnnotationChecked] != "" && d.Annotations[AnnotationChecked] == d.Annotations[AnnotationHash])
}

// progress is where a Deployment's rollout stands.
type progress struct {
	// complete: every replica is of the newest spec and available, and no
	// old one is left.
	complete bool
	// failed says why the rollout cannot succeed; empty if it may.
	failed string
	// waiting says what it waits for.
	waiting string
}

// Container states that no waiting cures: a pod of the new spec in one of
// them fails the rollout at once, before the progress deadline.
var hopeless = map[string]string{
	"ImagePullBackOff":           "cannot pull its image",
	"InvalidImageName":           "has an invalid image name",
	"CreateContainerConfigError": "cannot be configured",
	"CreateContainerError":       "cannot be created",
}

// crashLoops is how many restarts make a crash-looping pod of the new spec
// fail the rollout.
const crashLoops = 3

// rolloutOf judges a Deployment's rollout from its status, as `kubectl
// rollout status` does, and from its pods (nil when not listed): one
// created since appliedAt that runs the spec's image and cannot pull it or
// keeps crashing fails it at once, the Deployment controller's
// ProgressDeadlineExceeded fails it after the progress deadline.
func rolloutOf(d *appsv1.Deployment, pods []corev1.Pod, appliedAt time.Time) progress {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	for _, c := range st.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return progress{failed: fmt.Sprintf("no progress within %ds: %s", deadlineOf(d), c.Message)}
		}
	}
	image := ""
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "operator" || image == "" {
			image = c.Image
		}
	}
	for i := range pods {
		p := &pods[i]
		if p.CreationTimestamp.Time.Before(appliedAt) || p.DeletionTimestamp != nil || !runs(p, image) {
			continue
		}
		for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			w := cs.State.Waiting
			if w == nil {
				continue
			}
			if what, ok := hopeless[w.Reason]; ok {
				return progress{failed: fmt.Sprintf("pod %s %s (%s: %s)", p.Name, what, w.Reason, firstLine(w.Message))}
			}
			if w.Reason == "CrashLoopBackOff" && cs.RestartCount >= crashLoops {
				return progress{failed: fmt.Sprintf("pod %s keeps crashing (%d restarts)", p.Name, cs.RestartCount)}
			}
		}
	}
	switch {
	case st.ObservedGeneration < d.Generation:
		return progress{waiting: "waiting for the Deployment controller to see the new spec"}
	case st.UpdatedReplicas < want:
		return progress{waiting: fmt.Sprintf("%d of %d new pods created", st.UpdatedReplicas, want)}
	case st.Replicas > st.UpdatedReplicas:
		if n := st.Replicas - st.UpdatedReplicas; n > 1 {
			return progress{waiting: fmt.Sprintf("%d old pods still running", n)}
		}
		return progress{waiting: "1 old pod still running"}
	case st.AvailableReplicas < want:
		return progress{waiting: fmt.Sprintf("%d of %d new pods available", st.AvailableReplicas, want)}
	}
	return progress{complete: true}
}

// runs reports whether a pod runs image: a pod of an earlier spec (a failed
// rollout's, say, still going away) is not the current spec's.
func runs(p *corev1.Pod, image string) bool {
	for _, c := range p.Spec.Containers {
		if c.Image == image {
			return true
		}
	}
	return false
}

func deadlineOf(d *appsv1.Deployment) int32 {
	if d.Spec.ProgressDeadlineSeconds == nil {
		return 600
	}
	return *d.Spec.ProgressDeadlineSeconds
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// leaderAmong reports whether lease is held, and renewed within its
// duration, by one of pods: a holder's identity starts with its host name,
// which is its pod's name.
func leaderAmong(lease *coordinationv1.Lease, pods []corev1.Pod, now time.Time) (string, bool) {
	if lease == nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		return "", false
	}
	holder, _, _ := strings.Cut(*lease.Spec.HolderIdentity, "_")
	if lease.Spec.RenewTime == nil || lease.Spec.LeaseDurationSeconds == nil ||
		lease.Spec.RenewTime.Add(time.Duration(*lease.Spec.LeaseDurationSeconds)*time.Second).Before(now) {
		return holder, false
	}
	for _, p := range pods {
		if p.Name == holder && p.DeletionTimestamp == nil {
			return holder, true
		}
	}
	return holder, false
}
