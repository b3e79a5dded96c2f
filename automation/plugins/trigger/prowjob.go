package trigger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// nameSpace seeds the names of ProwJobs derived from delivery IDs.
var nameSpace = uuid.MustParse("5f0c4f3e-2a8e-4d55-9d47-6b6f1c9e0b1a")

// runName is a ProwJob's name: a UUID derived from what started it, so
// that handling the same delivery again (a retry, a redelivery) names the
// same run and does not start it twice. Without a delivery ID it is random.
func runName(delivery string, parts ...string) string {
	if delivery == "" {
		return uuid.NewString()
	}
	return uuid.NewSHA1(nameSpace, []byte(delivery+"\x00"+strings.Join(parts, "\x00"))).String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Meta is what a run records about how it started.
type Meta struct {
	// Namespace is where the run is created (prowjob_namespace).
	Namespace string
	// Name is the ProwJob's name; empty picks a random UUID.
	Name string
	// TriggeredBy is the GitHub login whose action started the run.
	TriggeredBy string
	// DeliveryID is the webhook delivery that started the run, if any.
	DeliveryID string
	// Retest marks a run started by /retest.
	Retest bool
	// CreatedByMerge marks a run the merge controller started (Prow's
	// created-by-tide).
	CreatedByMerge bool
}

// newProwJob builds a run with the metadata every run gets
// (jobspec.NewRun: Prow's labels and annotations) and what m records.
func newProwJob(spec v1alpha1.ProwJobSpec, j *jobs.JobBase, m Meta) *v1alpha1.ProwJob {
	labels := map[string]string{}
	for k, v := range j.Labels {
		labels[k] = v
	}
	if m.CreatedByMerge {
		labels[v1alpha1.CreatedByMergeLabel] = "true"
	}
	if m.Retest {
		labels[v1alpha1.RetestLabel] = "true"
	}
	annotations := map[string]string{}
	for k, v := range j.Annotations {
		annotations[k] = v
	}
	if m.TriggeredBy != "" {
		annotations[v1alpha1.TriggeredByAnnotation] = m.TriggeredBy
	}
	if m.DeliveryID != "" {
		annotations[v1alpha1.DeliveryAnnotation] = m.DeliveryID
	}
	name := m.Name
	if name == "" {
		name = uuid.NewString()
	}
	return jobspec.NewRun(m.Namespace, name, spec, labels, annotations, time.Now())
}

// PresubmitRun is the ProwJob of one presubmit testing refs, built as the
// trigger builds its own runs: a presubmit run when refs hold one pull
// request, a batch run when they hold several (the merge controller's
// batches). refs.baseSHA should be the base branch's current tip.
func PresubmitRun(ps *jobs.Presubmit, refs v1alpha1.Refs, m Meta) *v1alpha1.ProwJob {
	spec := jobspec.Presubmit(ps, refs)
	if len(refs.Pulls) > 1 {
		spec.Type = v1alpha1.BatchJob
	}
	pj := newProwJob(spec, &ps.JobBase, m)
	pj.Labels[v1alpha1.IsOptionalLabel] = strconv.FormatBool(ps.Optional)
	return pj
}

// RunBeforeMerge lists the presubmits that the merge controller runs right
// before it merges into branch, as Prow's Tide does: the run_before_merge
// jobs whose branches match. The trigger never starts them by itself (not
// on pull request events, /test all, /ok-to-test, nor for a /retest of a
// job that has not reported); a /test naming one, or a /retest after one
// failed, still runs it, as in Prow.
func RunBeforeMerge(presubmits []jobs.Presubmit, branch string) []*jobs.Presubmit {
	var out []*jobs.Presubmit
	for i := range presubmits {
		if ps := &presubmits[i]; ps.RunBeforeMerge && ps.Brancher.ShouldRun(branch) {
			out = append(out, ps)
		}
	}
	return out
}

// presubmitRun builds the run of a presubmit for a pull request, tested
// against baseSHA.
func (h *handler) presubmitRun(ps *jobs.Presubmit, pr *github.PullRequest, baseSHA, triggeredBy string, retest bool) *v1alpha1.ProwJob {
	repoLink := pr.GetBase().GetRepo().GetHTMLURL()
	sha := pr.GetHead().GetSHA()
	refs := v1alpha1.Refs{
		Org: h.org, Repo: h.repo, RepoLink: repoLink,
		BaseRef: pr.GetBase().GetRef(), BaseSHA: baseSHA,
		Pulls: []v1alpha1.Pull{{
			Number: int32(pr.GetNumber()), Author: pr.GetUser().GetLogin(), SHA: sha,
			Title: truncate(pr.GetTitle(), 1024), HeadRef: pr.GetHead().GetRef(), Link: pr.GetHTMLURL(),
			AuthorLink: pr.GetUser().GetHTMLURL(),
		}},
	}
	if repoLink != "" {
		refs.BaseLink = repoLink + "/commit/" + refs.BaseSHA
	}
	if pr.GetHTMLURL() != "" {
		refs.Pulls[0].CommitLink = pr.GetHTMLURL() + "/commits/" + sha
	}
	return PresubmitRun(ps, refs, Meta{
		Namespace: h.cfg.Namespace, TriggeredBy: triggeredBy, DeliveryID: h.ev.DeliveryID, Retest: retest,
		Name: runName(h.ev.DeliveryID, "presubmit", ps.Name, strconv.Itoa(pr.GetNumber()), sha),
	})
}

// create creates a run; one that exists already was created by an earlier
// attempt at the same delivery.
func (h *handler) create(ctx context.Context, pj *v1alpha1.ProwJob) error {
	if err := h.kube.Create(ctx, pj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create ProwJob for job %s: %w", pj.Spec.Job, err)
	}
	h.log.Info("Started a job", "job", pj.Spec.Job, "prowJob", pj.Name, "type", pj.Spec.Type)
	return nil
}

// terminal reports whether a run has ended (or is being aborted).
func terminal(s v1alpha1.ProwJobState) bool {
	switch s {
	case v1alpha1.SuccessState, v1alpha1.FailureState, v1alpha1.AbortedState, v1alpha1.ErrorState:
		return true
	}
	return false
}

// prRuns lists the presubmit runs of a pull request. Kube reads them from
// the API server, not a cache, so that runs created moments ago (by the
// event before a close) are found.
func (h *handler) prRuns(ctx context.Context, number int) ([]v1alpha1.ProwJob, error) {
	var list v1alpha1.ProwJobList
	err := h.kube.List(ctx, &list, client.InNamespace(h.cfg.Namespace), client.MatchingLabels{
		v1alpha1.CreatedByLabel: "true",
		v1alpha1.TypeLabel:      string(v1alpha1.PresubmitJob),
		v1alpha1.OrgLabel:       v1alpha1.LabelValue(h.org),
		v1alpha1.RepoLabel:      v1alpha1.LabelValue(h.repo),
		v1alpha1.PullLabel:      strconv.Itoa(number),
	})
	if err != nil {
		return nil, fmt.Errorf("list runs of #%d: %w", number, err)
	}
	// Labels are truncated; the spec is exact.
	out := list.Items[:0]
	for _, pj := range list.Items {
		if r := pj.Spec.Refs; r != nil && r.Org == h.org && r.Repo == h.repo {
			out = append(out, pj)
		}
	}
	return out, nil
}

// abortPR aborts the runs of a pull request that have not ended: all of
// them, or when job is set, that job's.
func (h *handler) abortPR(ctx context.Context, number int, job, why string) error {
	runs, err := h.prRuns(ctx, number)
	if err != nil {
		return err
	}
	for i := range runs {
		pj := &runs[i]
		if terminal(pj.Status.State) || (job != "" && pj.Spec.Job != job) {
			continue
		}
		if err := h.abort(ctx, pj, why); err != nil {
			return err
		}
	}
	return nil
}

// abort marks a run aborted, as Prow's clients do; the jobs reconciler
// stops its pod and completes it. The patch carries only the state and
// its description, without a resourceVersion: a run that ended between the
// read and the patch may end up aborted, which for a closed pull request's
// run is what was wanted anyway.
func (h *handler) abort(ctx context.Context, pj *v1alpha1.ProwJob, why string) error {
	orig := pj.DeepCopy()
	pj.Status.State = v1alpha1.AbortedState
	pj.Status.Description = why
	if err := h.kube.Status().Patch(ctx, pj, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("abort ProwJob %s: %w", pj.Name, err)
	}
	h.log.Info("Aborted a run", "job", pj.Spec.Job, "prowJob", pj.Name, "reason", why)
	return nil
}
