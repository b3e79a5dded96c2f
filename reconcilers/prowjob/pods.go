package prowjob

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/decorate"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// FieldOwner is the field manager of everything this controller writes.
const FieldOwner = "bowline-prowjob"

// PodBuilder turns a run into the pod that carries it out: the decorated
// pod for decorated jobs. The reconciler then sets the pod's name,
// namespace, labels and owner.
type PodBuilder func(ctx context.Context, pj *v1alpha1.ProwJob, buildID string) (*corev1.Pod, error)

// DecoratedPods is the PodBuilder of package decorate: Prow's environment
// in every container and, for decorated jobs, the pod utilities. opts gives
// the decoration settings of a run (the bowline image, plank's default
// decoration config for its repository and cluster); nil means none.
func DecoratedPods(opts func(*v1alpha1.ProwJob) decorate.Options) PodBuilder {
	return func(_ context.Context, pj *v1alpha1.ProwJob, buildID string) (*corev1.Pod, error) {
		run := pj.DeepCopy()
		run.Status.BuildID = buildID
		var o decorate.Options
		if opts != nil {
			o = opts(run)
		}
		return decorate.Pod(run, o)
	}
}

// podNamespace is where a run's pod lives: spec.namespace, or the
// ProwJob's own namespace.
func podNamespace(pj *v1alpha1.ProwJob) string {
	if pj.Spec.Namespace != "" {
		return pj.Spec.Namespace
	}
	return pj.Namespace
}

// podName is the name of a run's pod after revivals re-created it that many
// times: the ProwJob's name, then "<name>-<n>".
func podName(pj *v1alpha1.ProwJob, revivals int32) string {
	if revivals == 0 {
		return pj.Name
	}
	suffix := "-" + strconv.Itoa(int(revivals))
	name := pj.Name
	if len(name)+len(suffix) > 253 {
		name = name[:253-len(suffix)]
	}
	return name + suffix
}

// errPodRejected is a pod the API server refuses for good (invalid,
// forbidden, namespace missing): the run ends in error.
type errPodRejected struct{ err error }

func (e errPodRejected) Error() string { return e.err.Error() }
func (e errPodRejected) Unwrap() error { return e.err }

// runPod builds the pod of a run: the PodBuilder's pod with the run's
// name for it, its namespace, and the pod labels and annotations of
// v1alpha1.PodLabels laid over the builder's.
func (r *Reconciler) runPod(ctx context.Context, pj *v1alpha1.ProwJob, name, buildID string) (*corev1.Pod, error) {
	pod, err := r.BuildPod(ctx, pj, buildID)
	if err != nil {
		return nil, err
	}
	pod.Name = name
	pod.Namespace = podNamespace(pj)
	run := *pj // PodLabels only reads it
	run.Status.BuildID = buildID
	labels, annotations := v1alpha1.PodLabels(&run)
	pod.Labels = mergeMaps(pod.Labels, labels)
	pod.Annotations = mergeMaps(pod.Annotations, annotations)
	return pod, nil
}

// createPod builds and creates a run's pod. When the pod already exists
// (an earlier reconcile created it but could not record it), it is adopted
// with the build ID it was created with.
func (r *Reconciler) createPod(ctx context.Context, bc buildCluster, pj *v1alpha1.ProwJob, name, buildID string) (string, error) {
	pod, err := r.runPod(ctx, pj, name, buildID)
	if err != nil {
		return "", errPodRejected{fmt.Errorf("build pod: %w", err)}
	}
	if bc.local && pod.Namespace == pj.Namespace {
		pod.OwnerReferences = []metav1.OwnerReference{{
			APIVersion:         v1alpha1.GroupVersion.String(),
			Kind:               "ProwJob",
			Name:               pj.Name,
			UID:                pj.UID,
			Controller:         ptr.To(true),
			BlockOwnerDeletion: ptr.To(true),
		}}
	}
	err = bc.client.Create(ctx, pod, client.FieldOwner(FieldOwner))
	switch {
	case err == nil:
		return buildID, nil
	case apierrors.IsAlreadyExists(err):
		existing := &corev1.Pod{}
		if err := bc.reader.Get(ctx, client.ObjectKeyFromObject(pod), existing); err != nil {
			return "", fmt.Errorf("read existing pod %s: %w", name, err)
		}
		if existing.Labels[v1alpha1.IDLabel] != pj.Name || existing.Labels[v1alpha1.ProwJobNamespaceLabel] != pj.Namespace {
			return "", errPodRejected{fmt.Errorf("pod %s/%s exists and belongs to another run", pod.Namespace, name)}
		}
		if id := existing.Labels[v1alpha1.BuildIDLabel]; id != "" {
			return id, nil
		}
		return buildID, nil
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsForbidden(err), apierrors.IsNotFound(err):
		return "", errPodRejected{err}
	default:
		return "", fmt.Errorf("create pod %s/%s: %w", pod.Namespace, name, err)
	}
}

// mergeMaps returns base with over laid on top, in a new map.
func mergeMaps(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// deletePod deletes a run's pod; a pod that is already gone is fine.
func deletePod(ctx context.Context, bc buildCluster, namespace, name string) error {
	if name == "" {
		return nil
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if err := bc.client.Delete(ctx, pod); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete pod %s/%s: %w", namespace, name, err)
	}
	return nil
}

// getPod reads a run's pod from the cache and, when the cache does not have
// it, from the API server: a pod created moments ago may not be cached yet,
// and a missing pod ends the run in error.
func getPod(ctx context.Context, bc buildCluster, namespace, name string) (*corev1.Pod, error) {
	pod := &corev1.Pod{}
	key := client.ObjectKey{Namespace: namespace, Name: name}
	err := bc.client.Get(ctx, key, pod)
	if apierrors.IsNotFound(err) {
		err = bc.reader.Get(ctx, key, pod)
	}
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get pod %s: %w", key, err)
	}
	return pod, nil
}

// BuildIDs hands out build IDs: decimal numbers derived from the clock in
// milliseconds (times 1,000, leaving room for 1,000 IDs per millisecond) and
// strictly increasing within the process. Runs of a job therefore get
// increasing IDs without a shared counter object, across restarts too, as
// long as the clock does not step back by more than the downtime.
type BuildIDs struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	last  int64
}

// NewBuildIDs returns a generator reading the given clock.
func NewBuildIDs(c clock.PassiveClock) *BuildIDs { return &BuildIDs{clock: c} }

// Next returns a new build ID.
func (b *BuildIDs) Next() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.clock.Now().UnixMilli() * 1000
	if id <= b.last {
		id = b.last + 1
	}
	b.last = id
	return strconv.FormatInt(id, 10)
}
