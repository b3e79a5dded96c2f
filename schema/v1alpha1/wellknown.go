package v1alpha1

import (
	"path"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Well-known labels and annotations on ProwJobs and their pods. They are
// Prow's own names (created-by-prow, prow.k8s.io/…), so that dashboards,
// kubectl selectors and scripts written for Prow find bowline's runs. Label
// values are limited to 63 characters by Kubernetes: LabelValue derives
// every value, and the full job name, status context and base branch are
// kept in annotations.
const (
	// CreatedByLabel marks every ProwJob (and pod) bowline creates; its value
	// is "true". Prow's created-by-prow.
	CreatedByLabel = "created-by-prow"
	// CreatedByMergeLabel marks ProwJobs the merge controller creates; its
	// value is "true". Prow's created-by-tide.
	CreatedByMergeLabel = "created-by-tide"

	// TypeLabel is the job type: presubmit, postsubmit, periodic or batch.
	TypeLabel = "prow.k8s.io/type"
	// IDLabel is the ProwJob's name, on its pod.
	IDLabel = "prow.k8s.io/id"
	// BuildIDLabel is the run's build ID, on its pod.
	BuildIDLabel = "prow.k8s.io/build-id"
	// JobLabel is the job name as a label value; the full name is in
	// JobAnnotation.
	JobLabel = "prow.k8s.io/job"
	// ContextLabel is the status context as a label value; the full
	// context is in ContextAnnotation.
	ContextLabel = "prow.k8s.io/context"
	// OrgLabel is the org of the refs (of the first extra refs for jobs
	// without refs).
	OrgLabel = "prow.k8s.io/refs.org"
	// RepoLabel is the repository of the same refs.
	RepoLabel = "prow.k8s.io/refs.repo"
	// BaseRefLabel is the base branch of the same refs as a label value;
	// the full name is in BaseRefAnnotation.
	BaseRefLabel = "prow.k8s.io/refs.base_ref"
	// PullLabel is the number of the first pull request of the same refs.
	PullLabel = "prow.k8s.io/refs.pull"
	// RetestLabel is "true" on runs started by /retest.
	RetestLabel = "prow.k8s.io/retest"
	// IsOptionalLabel is "true" on runs of optional presubmits, "false"
	// on runs of required ones.
	IsOptionalLabel = "prow.k8s.io/is-optional"
	// RerunLabel is "true" on runs started again from the web UI.
	RerunLabel = "prow.k8s.io/re-run"
	// ProwJobNamespaceLabel is, on a pod, the namespace of its ProwJob,
	// which may differ from the pod's own (and be in another cluster).
	ProwJobNamespaceLabel = "bowline.dev/prowjob-namespace"

	// JobAnnotation is the full job name.
	JobAnnotation = "prow.k8s.io/job"
	// ContextAnnotation is the full GitHub status context of the run.
	ContextAnnotation = "prow.k8s.io/context"
	// BaseRefAnnotation is the full base branch of the refs BaseRefLabel
	// describes (a branch such as release/1.0 cannot be a label value).
	BaseRefAnnotation = "bowline.dev/refs.base_ref"
	// TriggeredByAnnotation is the GitHub login whose action (a push, a
	// comment, opening a pull request) started the run.
	TriggeredByAnnotation = "bowline.dev/triggered-by"
	// DeliveryAnnotation is the X-GitHub-Delivery ID of the webhook that
	// started the run, so that a run can be traced back to its event.
	DeliveryAnnotation = "bowline.dev/delivery"
	// CreatedAtAnnotation is when the creator made the run, in RFC 3339
	// with nanoseconds: finer than metadata.creationTimestamp, so that a
	// newer run of a job can tell it is newer within the same second.
	CreatedAtAnnotation = "bowline.dev/created-at"
)

// LabelValue derives the label value of s, valid for any input, the one
// way bowline does it. As in Prow, a valid value is kept as it is and an
// invalid one is replaced by its last path element when that is valid
// (release/1.0 becomes 1.0). Where Prow then drops the label, bowline keeps
// a shortened value: characters a label may not hold become '-', the
// result is cut to 63 characters and trimmed to begin and end with a letter
// or digit. The empty string means no label.
func LabelValue(s string) string {
	if validLabelValue(s) {
		return s
	}
	if b := path.Base(s); b != "." && b != "/" && validLabelValue(b) {
		return b
	}
	out := []byte(s)
	for i, c := range out {
		if !alnum(c) && c != '-' && c != '_' && c != '.' {
			out[i] = '-'
		}
	}
	if len(out) > validation.LabelValueMaxLength {
		out = out[:validation.LabelValueMaxLength]
	}
	for len(out) > 0 && !alnum(out[len(out)-1]) {
		out = out[:len(out)-1]
	}
	for len(out) > 0 && !alnum(out[0]) {
		out = out[1:]
	}
	return string(out)
}

func validLabelValue(s string) bool { return len(validation.IsValidLabelValue(s)) == 0 }

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// RunLabels returns the labels and annotations of a run of spec, as Prow
// gives every ProwJob: created-by-prow, the type, the job and context (as
// labels, shortened, and as annotations, in full), and the org, repo, base
// branch and pull request of the refs (of the first extra refs when the run
// has no refs, as for periodics). extraLabels and extraAnnotations (the
// job's own, those of the component creating the run) win over these.
// Every label value goes through LabelValue; a label whose value ends up
// empty is left out.
func RunLabels(spec *ProwJobSpec, extraLabels, extraAnnotations map[string]string) (labels, annotations map[string]string) {
	labels = map[string]string{
		CreatedByLabel: "true",
		TypeLabel:      string(spec.Type),
		JobLabel:       spec.Job,
	}
	annotations = map[string]string{JobAnnotation: spec.Job}
	if spec.Context != "" {
		labels[ContextLabel] = spec.Context
		annotations[ContextAnnotation] = spec.Context
	}
	refs := spec.Refs
	if refs == nil && len(spec.ExtraRefs) > 0 {
		refs = &spec.ExtraRefs[0]
	}
	if refs != nil {
		labels[OrgLabel] = refs.Org
		labels[RepoLabel] = refs.Repo
		labels[BaseRefLabel] = refs.BaseRef
		if refs.BaseRef != "" {
			annotations[BaseRefAnnotation] = refs.BaseRef
		}
		if len(refs.Pulls) > 0 {
			labels[PullLabel] = strconv.Itoa(int(refs.Pulls[0].Number))
		}
	}
	for k, v := range extraLabels {
		labels[k] = v
	}
	for k, v := range labels {
		if v = LabelValue(v); v == "" {
			delete(labels, k)
		} else {
			labels[k] = v
		}
	}
	for k, v := range extraAnnotations {
		annotations[k] = v
	}
	return labels, annotations
}

// PodLabels returns the labels and annotations of a run's pod: the run's
// own labels and annotations laid over RunLabels, as Prow labels its pods,
// plus the ProwJob's name (prow.k8s.io/id), its build ID and
// ProwJobNamespaceLabel, by which pod events find their run.
func PodLabels(pj *ProwJob) (labels, annotations map[string]string) {
	extra := make(map[string]string, len(pj.Labels)+3)
	for k, v := range pj.Labels {
		extra[k] = v
	}
	extra[IDLabel] = pj.Name
	extra[BuildIDLabel] = pj.Status.BuildID
	extra[ProwJobNamespaceLabel] = pj.Namespace
	return RunLabels(&pj.Spec, extra, pj.Annotations)
}
