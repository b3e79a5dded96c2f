package prowjob

import (
	"context"
	"encoding/json"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Files Prow's crier blob-storage reporters write into a run's directory.
const (
	// ProwJobFile is the run in Prow's ProwJob format.
	ProwJobFile = "prowjob.json"
	// PodInfoFile is the run's pod and its events.
	PodInfoFile = "podinfo.json"
)

// runFilesTimeout bounds the upload of a run's files.
const runFilesTimeout = 30 * time.Second

// RunFiles writes, when a run ends, what Prow's crier writes next to its
// logs: prowjob.json (the ProwJob in Prow's prow.k8s.io/v1 format, as its
// blob-storage reporter uploads it) and, for pods, podinfo.json (the pod
// and its events, as its kubernetes blob-storage reporter does). They go to
// the run's directory in its bucket (decoration's gcs_configuration, else
// DefaultBucket), opened with the operator's own credentials.
type RunFiles struct {
	// DefaultBucket is where runs without gcs_configuration keep their
	// files (the operator's --artifacts-bucket); empty means such runs get
	// none.
	DefaultBucket string
}

// write uploads the files of a completed run. pod is its last pod (nil
// for the local agent), events the pod's events.
func (f *RunFiles) write(ctx context.Context, pj *v1alpha1.ProwJob, pod *corev1.Pod, events []corev1.Event) error {
	cfg := artifacts.ConfigFor(pj, f.DefaultBucket)
	if cfg.Bucket == "" || pj.Status.BuildID == "" {
		return nil
	}
	runPath, err := cfg.RunPathFor(pj)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, runFilesTimeout)
	defer cancel()
	store, err := cfg.Open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	raw, err := json.MarshalIndent(ProwFormat(pj), "", "  ")
	if err != nil {
		return err
	}
	if err := store.WriteFile(ctx, artifacts.Key(runPath, ProwJobFile), raw); err != nil {
		return err
	}
	if pod == nil {
		return nil
	}
	if events == nil {
		events = []corev1.Event{}
	}
	info := struct {
		Pod    *corev1.Pod    `json:"pod"`
		Events []corev1.Event `json:"events"`
	}{Pod: pod, Events: events}
	if raw, err = json.MarshalIndent(info, "", "  "); err != nil {
		return err
	}
	return store.WriteFile(ctx, artifacts.Key(runPath, PodInfoFile), raw)
}

// writeRunFiles writes a run's files once it has completed, reading its
// pod's events from the build cluster. A failure is logged and recorded as
// an Event, never retried: the run's outcome is already written.
func (r *Reconciler) writeRunFiles(ctx context.Context, pj *v1alpha1.ProwJob, pod *corev1.Pod) {
	var events []corev1.Event
	if pod != nil {
		if bc, ok := r.cluster(pj.Spec.Cluster); ok && bc.reader != nil {
			var list corev1.EventList
			err := bc.reader.List(ctx, &list, client.InNamespace(pod.Namespace),
				client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("involvedObject.name", pod.Name)})
			if err != nil {
				ctrl.LoggerFrom(ctx).V(1).Info("Cannot read the pod's events for podinfo.json", "pod", pod.Name, "reason", err.Error())
			}
			events = list.Items
		}
	}
	if err := r.RunFiles.write(ctx, pj, pod, events); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Cannot upload prowjob.json and podinfo.json")
		if r.Recorder != nil {
			r.Recorder.Eventf(pj, nil, corev1.EventTypeWarning, "RunFilesFailed", "Upload", "Cannot upload %s and %s: %s", ProwJobFile, PodInfoFile, err)
		}
	}
}

// ProwJob is a run in Prow's format (prow.k8s.io/v1 ProwJob), as Prow's
// tools read it from prowjob.json.
type ProwJob struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       ProwJobSpec       `json:"spec"`
	Status     ProwJobStatus     `json:"status"`
}

// ProwJobSpec is Prow's ProwJob spec.
type ProwJobSpec struct {
	Type             string                 `json:"type,omitempty"`
	Agent            string                 `json:"agent,omitempty"`
	Cluster          string                 `json:"cluster,omitempty"`
	Namespace        string                 `json:"namespace,omitempty"`
	Job              string                 `json:"job,omitempty"`
	Refs             *podutils.Refs         `json:"refs,omitempty"`
	ExtraRefs        []podutils.Refs        `json:"extra_refs,omitempty"`
	Report           bool                   `json:"report,omitempty"`
	Context          string                 `json:"context,omitempty"`
	RerunCommand     string                 `json:"rerun_command,omitempty"`
	MaxConcurrency   int                    `json:"max_concurrency,omitempty"`
	JobQueueName     string                 `json:"job_queue_name,omitempty"`
	ErrorOnEviction  bool                   `json:"error_on_eviction,omitempty"`
	PodSpec          *corev1.PodSpec        `json:"pod_spec,omitempty"`
	DecorationConfig *jobs.DecorationConfig `json:"decoration_config,omitempty"`
	Hidden           bool                   `json:"hidden,omitempty"`
}

// ProwJobStatus is Prow's ProwJob status (its times keep Prow's camelCase
// names, the rest snake_case, as Prow writes them).
type ProwJobStatus struct {
	StartTime       metav1.Time  `json:"startTime"`
	PendingTime     *metav1.Time `json:"pendingTime,omitempty"`
	CompletionTime  *metav1.Time `json:"completionTime,omitempty"`
	State           string       `json:"state,omitempty"`
	Description     string       `json:"description,omitempty"`
	URL             string       `json:"url,omitempty"`
	PodName         string       `json:"pod_name,omitempty"`
	BuildID         string       `json:"build_id,omitempty"`
	PodRevivalCount int          `json:"pod_revival_count,omitempty"`
}

// ProwFormat converts a run to Prow's ProwJob format.
func ProwFormat(pj *v1alpha1.ProwJob) ProwJob {
	spec := podutils.JobSpecFor(pj, pj.Status.BuildID)
	out := ProwJob{
		APIVersion: "prow.k8s.io/v1",
		Kind:       "ProwJob",
		Metadata: metav1.ObjectMeta{
			Name: pj.Name, Namespace: pj.Namespace, UID: pj.UID, CreationTimestamp: pj.CreationTimestamp,
			Labels: pj.Labels, Annotations: pj.Annotations,
		},
		Spec: ProwJobSpec{
			Type: string(pj.Spec.Type), Agent: string(pj.Spec.Agent), Cluster: pj.Spec.Cluster, Namespace: pj.Spec.Namespace,
			Job: pj.Spec.Job, Refs: spec.Refs, ExtraRefs: spec.ExtraRefs, Report: pj.Spec.Report, Context: pj.Spec.Context,
			RerunCommand: pj.Spec.RerunCommand, MaxConcurrency: int(pj.Spec.MaxConcurrency), JobQueueName: pj.Spec.JobQueueName,
			ErrorOnEviction: pj.Spec.ErrorOnEviction, PodSpec: pj.Spec.PodSpec,
			DecorationConfig: jobspec.ProwDecoration(pj.Spec.DecorationConfig), Hidden: pj.Spec.Hidden,
		},
		Status: ProwJobStatus{
			PendingTime: pj.Status.PendingTime, CompletionTime: pj.Status.CompletionTime, State: string(pj.Status.State),
			Description: pj.Status.Description, URL: pj.Status.URL, PodName: pj.Status.PodName, BuildID: pj.Status.BuildID,
			PodRevivalCount: int(pj.Status.PodRevivalCount),
		},
	}
	if pj.Status.StartTime != nil {
		out.Status.StartTime = *pj.Status.StartTime
	}
	return out
}
