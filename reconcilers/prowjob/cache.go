package prowjob

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// CacheByObject returns the manager cache settings that keep the operator's
// memory flat as runs accumulate: pods are cached only when they are job
// pods, and ProwJobs go through TransformProwJob. Pass it as
// cache.Options.ByObject.
func CacheByObject() map[client.Object]cache.ByObject {
	return map[client.Object]cache.ByObject{
		&corev1.Pod{}:       {Label: labels.SelectorFromSet(labels.Set{v1alpha1.CreatedByLabel: "true"}), Transform: cache.TransformStripManagedFields()},
		&v1alpha1.ProwJob{}: {Transform: TransformProwJob},
	}
}

// TransformProwJob trims a ProwJob before it enters the cache: managed
// fields and the last-applied annotation always, and for completed runs the
// pod spec, Tekton spec and decoration config, which nothing reads once a
// run is over and which make up most of a ProwJob's size. Code reading
// completed runs from the cache must therefore patch, never update, them.
func TransformProwJob(obj any) (any, error) {
	pj, ok := obj.(*v1alpha1.ProwJob)
	if !ok {
		return obj, nil
	}
	pj.ManagedFields = nil
	delete(pj.Annotations, corev1.LastAppliedConfigAnnotation)
	if pj.Complete() {
		pj.Spec.PodSpec = nil
		pj.Spec.PipelineRunSpec = nil
		pj.Spec.DecorationConfig = nil
	}
	return pj, nil
}
