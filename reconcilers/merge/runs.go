package merge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// IndexPool is the cache index of presubmit and batch runs by the pool they
// test, "org/repo:branch".
const IndexPool = "bowline.dev/merge-pool"

// poolIndexKeys is the IndexPool indexer.
func poolIndexKeys(o client.Object) []string {
	pj, ok := o.(*v1alpha1.ProwJob)
	if !ok || pj.Spec.Refs == nil || (pj.Spec.Type != v1alpha1.PresubmitJob && pj.Spec.Type != v1alpha1.BatchJob) {
		return nil
	}
	r := pj.Spec.Refs
	return []string{poolKey{r.Org, r.Repo, r.BaseRef}.String()}
}

// AddPoolIndex registers IndexPool with a cache; registering it again is
// not an error.
func AddPoolIndex(ctx context.Context, idx client.FieldIndexer) error {
	err := idx.IndexField(ctx, &v1alpha1.ProwJob{}, IndexPool, poolIndexKeys)
	if err != nil && !strings.Contains(err.Error(), "conflict") {
		return fmt.Errorf("index ProwJobs by pool: %w", err)
	}
	return nil
}

// runsFor lists a pool's presubmit and batch runs from the cache.
func runsFor(ctx context.Context, r client.Reader, ns string, k poolKey) ([]Run, error) {
	var list v1alpha1.ProwJobList
	if err := r.List(ctx, &list, client.InNamespace(ns), client.MatchingFields{IndexPool: k.String()}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list the runs of %s: %w", k, err)
	}
	out := make([]Run, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, runOf(&list.Items[i]))
	}
	return out, nil
}

// runOf reads what the merge controller needs from a ProwJob.
func runOf(pj *v1alpha1.ProwJob) Run {
	r := Run{Name: pj.Name, Job: pj.Spec.Job, Context: pj.Spec.Context, Type: pj.Spec.Type, State: pj.Status.State,
		ByMerge: pj.Labels[v1alpha1.CreatedByMergeLabel] == "true",
		Kind:    v1alpha1.PoolBatchKind(pj.Annotations[v1alpha1.MergeKindAnnotation]),
		Created: pj.CreationTimestamp.Time}
	if r.Context == "" {
		r.Context = r.Job
	}
	if t, err := time.Parse(time.RFC3339Nano, pj.Annotations[v1alpha1.CreatedAtAnnotation]); err == nil {
		r.Created = t
	}
	if refs := pj.Spec.Refs; refs != nil {
		r.BaseSHA = refs.BaseSHA
		for _, p := range refs.Pulls {
			r.Pulls = append(r.Pulls, v1alpha1.PoolPull{Number: p.Number, SHA: p.SHA})
		}
	}
	return r
}

// runNamespace seeds the names of the runs the merge controller creates.
var runNamespace = uuid.MustParse("0b7f6c1e-6a57-4d2e-9b0f-4f8a0c2d6e11")

// newRun builds the run of one job for a Start: a presubmit for one pull
// request, a batch for several. Its name derives from what it tests and
// how many runs of the same job tested it before (attempt), so that a sync
// repeated before the cache shows the run creates it only once.
func newRun(cfg *Config, k poolKey, s Start, ps *jobs.Presubmit, attempt int, repoLink string, now time.Time) *v1alpha1.ProwJob {
	typ := v1alpha1.BatchJob
	if len(s.PRs) == 1 {
		typ = v1alpha1.PresubmitJob
	}
	spec := jobspec.Base(typ, &ps.JobBase, ps.Context, !ps.SkipReport)
	spec.RerunCommand = ps.RerunCommand
	if spec.RerunCommand == "" {
		spec.RerunCommand = jobs.DefaultRerunCommandFor(ps.Name)
	}
	refs := &v1alpha1.Refs{Org: k.org, Repo: k.repo, BaseRef: k.branch, BaseSHA: s.BaseSHA, RepoLink: repoLink}
	if repoLink != "" {
		refs.BaseLink = repoLink + "/commit/" + s.BaseSHA
	}
	var id strings.Builder
	fmt.Fprintf(&id, "%s\x00%s\x00%s\x00%d", ps.Name, typ, s.BaseSHA, attempt)
	for _, pr := range s.PRs {
		p := v1alpha1.Pull{Number: int32(pr.Number), Author: pr.Author, SHA: pr.HeadSHA, Title: truncate(pr.Title, 1024), HeadRef: pr.HeadRef}
		if repoLink != "" {
			p.Link = fmt.Sprintf("%s/pull/%d", repoLink, pr.Number)
			p.CommitLink = p.Link + "/commits/" + pr.HeadSHA
		}
		refs.Pulls = append(refs.Pulls, p)
		fmt.Fprintf(&id, "\x00%d@%s", pr.Number, pr.HeadSHA)
	}
	jobspec.WithUtility(refs, ps.UtilityConfig)
	spec.Refs = refs

	labels := map[string]string{}
	for k, v := range ps.Labels {
		labels[k] = v
	}
	annotations := map[string]string{}
	for k, v := range ps.Annotations {
		annotations[k] = v
	}
	labels[v1alpha1.CreatedByLabel] = "true"
	labels[v1alpha1.CreatedByMergeLabel] = "true"
	labels[v1alpha1.TypeLabel] = string(typ)
	labels[v1alpha1.JobLabel] = v1alpha1.LabelValue(spec.Job)
	labels[v1alpha1.OrgLabel] = v1alpha1.LabelValue(k.org)
	labels[v1alpha1.RepoLabel] = v1alpha1.LabelValue(k.repo)
	labels[v1alpha1.BaseRefLabel] = v1alpha1.LabelValue(k.branch)
	labels[v1alpha1.IsOptionalLabel] = strconv.FormatBool(ps.Optional)
	if typ == v1alpha1.PresubmitJob {
		labels[v1alpha1.PullLabel] = strconv.Itoa(s.PRs[0].Number)
	}
	annotations[v1alpha1.JobAnnotation] = spec.Job
	annotations[v1alpha1.ContextAnnotation] = spec.Context
	annotations[v1alpha1.MergeKindAnnotation] = string(s.Kind)
	annotations[v1alpha1.CreatedAtAnnotation] = now.UTC().Format(time.RFC3339Nano)
	return &v1alpha1.ProwJob{
		ObjectMeta: metav1.ObjectMeta{
			Name:        uuid.NewSHA1(runNamespace, []byte(id.String())).String(),
			Namespace:   cfg.Namespace,
			Labels:      labels,
			Annotations: annotations,
		},
		Spec: spec,
	}
}

// createRun creates a run; one that exists already was created by an
// earlier attempt of the same sync.
func createRun(ctx context.Context, c client.Client, pj *v1alpha1.ProwJob) error {
	if err := c.Create(ctx, pj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create a run of %s: %w", pj.Spec.Job, err)
	}
	return nil
}

var nameUnsafe = regexp.MustCompile(`[^a-z0-9.-]+`)

// PoolName is the name of a pool's MergePool: org, repo and branch made
// into a DNS name, with a hash that keeps names unique however they were
// shortened or folded.
func PoolName(org, repo, branch string) string {
	sum := sha256.Sum256([]byte(org + "/" + repo + ":" + branch))
	base := nameUnsafe.ReplaceAllString(strings.ToLower(org+"-"+repo+"-"+branch), "-")
	base = strings.Trim(base, "-.")
	if len(base) > 200 {
		base = strings.TrimRight(base[:200], "-.")
	}
	return base + "-" + hex.EncodeToString(sum[:4])
}

// newPool is the MergePool of a pool.
func newPool(ns string, k poolKey) *v1alpha1.MergePool {
	return &v1alpha1.MergePool{
		ObjectMeta: metav1.ObjectMeta{
			Name: PoolName(k.org, k.repo, k.branch), Namespace: ns,
			Labels: map[string]string{
				v1alpha1.OrgLabel:     v1alpha1.LabelValue(k.org),
				v1alpha1.RepoLabel:    v1alpha1.LabelValue(k.repo),
				v1alpha1.BaseRefLabel: v1alpha1.LabelValue(k.branch),
			},
		},
		Spec: v1alpha1.MergePoolSpec{Org: k.org, Repo: k.repo, Branch: k.branch},
	}
}
