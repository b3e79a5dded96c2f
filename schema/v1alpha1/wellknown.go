package v1alpha1

// Well-known labels and annotations on ProwJobs and their pods. They are
// Prow's (prow.k8s.io/…, created-by-prow) under bowline's own prefix, so that
// components can select runs by type, repository, pull request or job
// without reading specs. Label values are limited to 63 characters by
// Kubernetes; values that may be longer (the job name, the status context)
// are annotations, with a label holding a truncated copy where selecting by
// them is useful.
const (
	// CreatedByLabel marks every ProwJob (and pod) bowline creates; its value
	// is "true".
	CreatedByLabel = "created-by-bowline"
	// CreatedByMergeLabel marks ProwJobs the merge controller creates (Prow's
	// created-by-tide); its value is "true".
	CreatedByMergeLabel = "created-by-bowline-merge"

	// TypeLabel is the job type: presubmit, postsubmit, periodic or batch.
	TypeLabel = "bowline.dev/type"
	// IDLabel is the ProwJob's name, copied onto its pod.
	IDLabel = "bowline.dev/id"
	// BuildIDLabel is the run's build ID.
	BuildIDLabel = "bowline.dev/build-id"
	// JobLabel is the job name, truncated to a valid label value; the full
	// name is in JobAnnotation.
	JobLabel = "bowline.dev/job"
	// OrgLabel is refs.org.
	OrgLabel = "bowline.dev/refs.org"
	// RepoLabel is refs.repo.
	RepoLabel = "bowline.dev/refs.repo"
	// BaseRefLabel is refs.baseRef, truncated to a valid label value.
	BaseRefLabel = "bowline.dev/refs.base_ref"
	// PullLabel is the number of the pull request a presubmit tests.
	PullLabel = "bowline.dev/refs.pull"
	// RetestLabel is "true" on runs started by /retest.
	RetestLabel = "bowline.dev/retest"
	// IsOptionalLabel is "true" on runs of optional presubmits, "false"
	// on runs of required ones.
	IsOptionalLabel = "bowline.dev/is-optional"
	// RerunLabel is "true" on runs started again from the web UI.
	RerunLabel = "bowline.dev/re-run"

	// JobAnnotation is the full job name.
	JobAnnotation = "bowline.dev/job"
	// ContextAnnotation is the GitHub status context of the run.
	ContextAnnotation = "bowline.dev/context"
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

// LabelValue returns s shortened, if needed, to a valid label value: at most
// 63 characters, beginning and ending with an alphanumeric character.
func LabelValue(s string) string {
	const maxLen = 63
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	alnum := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for len(s) > 0 && !alnum(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	for len(s) > 0 && !alnum(s[0]) {
		s = s[1:]
	}
	return s
}
