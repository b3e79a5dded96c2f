package reporter

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v89/github"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// FieldOwner is the field manager of the reports this controller writes.
const FieldOwner = "bowline-reporter"

// Reconciler reports runs to GitHub. Zero fields are defaulted by
// SetupWithManager, except GitHub, which is required.
type Reconciler struct {
	// Client reads ProwJobs (through the cache) and patches their status.
	Client client.Client
	// APIReader reads a run afresh when recording a report conflicted
	// with another writer; default the manager's uncached reader.
	APIReader client.Reader
	// GitHub returns the client acting for an org (ghclient's ForOrg).
	GitHub func(org string) (*github.Client, error)
	// Config returns the current github_reporter settings; nil means
	// Prow's defaults.
	Config func() Config
	// BotLogin is the login whose comments are summary comments; when empty
	// it is looked up once from the GitHub token's user.
	BotLogin string
	// Clock stamps the reports.
	Clock clock.PassiveClock
	// MaxConcurrentReconciles is how many runs are reported at once;
	// default 5, as prow.k8s.io's --github-workers.
	MaxConcurrentReconciles int

	// elected is when this replica began leading, in Unix nanoseconds;
	// 0 until then.
	elected atomic.Int64

	// unrecorded holds the runs (by UID) whose status this reporter sent
	// but could not record in status.reports (the API server was away, or
	// GitHub's answer did not come back): the next attempt asks GitHub
	// first, as after a takeover, rather than post the same status again.
	unrecorded sync.Map

	mu  sync.Mutex
	bot string
	// pulls serialise comment updates per pull request, striped by a hash
	// of its key so that the set stays bounded.
	pulls [64]sync.Mutex
}

// Reconcile reports one run if its state differs from what was last
// reported, then records the report.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	pj := &v1alpha1.ProwJob{}
	if err := r.Client.Get(ctx, req.NamespacedName, pj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	cfg := r.config()
	if !r.wants(pj, cfg) {
		return ctrl.Result{}, nil
	}
	if r.APIReader != nil {
		// The cache may not show yet the report this reconciler recorded
		// a moment ago (after a change of the jobs controller's, say):
		// sending it again would list the same status twice on GitHub.
		// Only the API server knows.
		if err := r.APIReader.Get(ctx, req.NamespacedName, pj); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
		if !r.wants(pj, cfg) {
			return ctrl.Result{}, nil
		}
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("job", pj.Spec.Job, "state", pj.Status.State))
	orig := pj.DeepCopy()
	// sent is set once a status is sent to GitHub, whether or not its
	// answer came back: a write that timed out may have been done.
	sent := false
	defer func() {
		err := r.patchReports(ctx, orig, pj)
		switch {
		case sent && (err != nil || lastReported(pj) != pj.Status.State):
			// Sent, perhaps posted, but not recorded (or the summary
			// comment failed after it).
			r.unrecorded.Store(pj.UID, struct{}{})
		case err == nil && lastReported(pj) == pj.Status.State:
			r.unrecorded.Delete(pj.UID)
		}
		retErr = errors.Join(retErr, err)
	}()

	newer, err := r.newerOnCommit(ctx, pj)
	if err != nil {
		return ctrl.Result{}, err
	}
	if newer != "" {
		// The newer run's status owns the context: reporting this one
		// (typically aborted as superseded) would overwrite it.
		ctrl.LoggerFrom(ctx).V(1).Info("Not reporting a superseded run", "newer", newer)
		setReport(&pj.Status, pj.Status.State, metav1.NewTime(r.Clock.Now()))
		return ctrl.Result{}, nil
	}
	gh, err := r.GitHub(pj.Spec.Refs.Org)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("github client for %s: %w", pj.Spec.Refs.Org, err)
	}
	reported := false
	if _, unrecorded := r.unrecorded.Load(pj.UID); unrecorded || r.inherited(pj) {
		// Reported by the previous leader, which died before recording
		// it, or by this reporter, which could not record it? Then record
		// it without posting it again.
		if reported, err = onGitHub(ctx, gh, pj); err != nil {
			return ctrl.Result{}, err
		}
	}
	if !reported {
		sent = true
		if err := r.createStatus(ctx, gh, pj); err != nil {
			return ctrl.Result{}, err
		}
	}
	if pj.Spec.Type == v1alpha1.PresubmitJob && pj.Complete() && cfg.comments(pj.Spec.Refs.Org, pj.Spec.Refs.Repo) {
		if err := r.syncComment(ctx, gh, pj); err != nil {
			return ctrl.Result{}, err
		}
	}
	setReport(&pj.Status, pj.Status.State, metav1.NewTime(r.Clock.Now()))
	return ctrl.Result{}, nil
}

// wants reports whether a run is due a report.
func (r *Reconciler) wants(pj *v1alpha1.ProwJob, cfg Config) bool {
	return (cfg.Namespace == "" || pj.Namespace == cfg.Namespace) &&
		pj.Spec.Report && pj.Spec.Refs != nil && pj.Status.State != "" &&
		pj.Status.State != v1alpha1.SchedulingState && cfg.reports(pj.Spec.Type) &&
		statusSHA(pj) != "" && lastReported(pj) != pj.Status.State
}

// createStatus sets the run's commit status. A commit GitHub no longer
// knows (force-pushed away) is not an error: there is nothing to report on.
func (r *Reconciler) createStatus(ctx context.Context, gh *github.Client, pj *v1alpha1.ProwJob) error {
	refs := pj.Spec.Refs
	st := github.RepoStatus{
		State:       github.Ptr(githubState(pj.Status.State)),
		Description: github.Ptr(description(pj)),
		Context:     github.Ptr(statusContext(pj)),
	}
	if pj.Status.URL != "" {
		st.TargetURL = github.Ptr(pj.Status.URL)
	}
	_, _, err := gh.Repositories.CreateStatus(ctx, refs.Org, refs.Repo, statusSHA(pj), st)
	if gone(err) {
		ctrl.LoggerFrom(ctx).Info("Commit is gone, status not reported", "repo", refs.Org+"/"+refs.Repo, "sha", statusSHA(pj))
		return nil
	}
	if err != nil {
		return fmt.Errorf("create status %s on %s/%s@%s: %w", statusContext(pj), refs.Org, refs.Repo, statusSHA(pj), err)
	}
	return nil
}

// syncComment makes the pull request's summary comment list the runs that
// failed on the run's head commit: created, edited or deleted. Updates of
// one pull request are serialised so that the last writer saw every run.
func (r *Reconciler) syncComment(ctx context.Context, gh *github.Client, pj *v1alpha1.ProwJob) error {
	refs := pj.Spec.Refs
	key := v1alpha1.PullKey(refs.Org, refs.Repo, int(refs.Pulls[0].Number))
	mu := r.pullLock(key)
	mu.Lock()
	defer mu.Unlock()

	failed, err := r.failedRuns(ctx, pj)
	if err != nil {
		return err
	}
	body := summaryComment(refs.Pulls[0].Author, failed)
	bot, err := r.botLogin(ctx, gh)
	if err != nil {
		return err
	}
	number := int(refs.Pulls[0].Number)
	var existing []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := gh.Issues.ListComments(ctx, refs.Org, refs.Repo, number, opts)
		if err != nil {
			return fmt.Errorf("list comments of %s: %w", key, err)
		}
		for _, c := range page {
			if strings.Contains(c.GetBody(), commentMarker) && strings.EqualFold(c.GetUser().GetLogin(), bot) {
				existing = append(existing, c)
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	// Keep the first summary comment, remove any others.
	for i, c := range existing {
		if i == 0 && body != "" {
			if c.GetBody() != body {
				if _, _, err := gh.Issues.EditComment(ctx, refs.Org, refs.Repo, c.GetID(), &github.IssueComment{Body: github.Ptr(body)}); err != nil {
					return fmt.Errorf("edit summary comment of %s: %w", key, err)
				}
			}
			continue
		}
		if _, err := gh.Issues.DeleteComment(ctx, refs.Org, refs.Repo, c.GetID()); err != nil && !gone(err) {
			return fmt.Errorf("delete summary comment of %s: %w", key, err)
		}
	}
	if len(existing) == 0 && body != "" {
		if _, _, err := gh.Issues.CreateComment(ctx, refs.Org, refs.Repo, number, &github.IssueComment{Body: github.Ptr(body)}); err != nil {
			return fmt.Errorf("create summary comment on %s: %w", key, err)
		}
	}
	return nil
}

// newerOnCommit returns the name of a presubmit run created after pj that
// reports the same status context on the same commit, or "".
func (r *Reconciler) newerOnCommit(ctx context.Context, pj *v1alpha1.ProwJob) (string, error) {
	runs, err := v1alpha1.PullRuns(ctx, r.Client, pj)
	if err != nil {
		return "", err
	}
	sha, name := statusSHA(pj), statusContext(pj)
	for i := range runs {
		o := &runs[i]
		if o.UID != pj.UID && o.Spec.Report && statusContext(o) == name && statusSHA(o) == sha && v1alpha1.CreatedBefore(pj, o) {
			return o.Name, nil
		}
	}
	return "", nil
}

// failedRuns lists, per status context, the newest completed reported run
// on pj's head commit that did not succeed.
func (r *Reconciler) failedRuns(ctx context.Context, pj *v1alpha1.ProwJob) ([]failedRun, error) {
	runs, err := v1alpha1.PullRuns(ctx, r.Client, pj)
	if err != nil {
		return nil, err
	}
	sha := statusSHA(pj)
	newest := map[string]*v1alpha1.ProwJob{}
	for i := range runs {
		o := &runs[i]
		if !o.Complete() || !o.Spec.Report || statusSHA(o) != sha {
			continue
		}
		ctxName := statusContext(o)
		if n, ok := newest[ctxName]; !ok || v1alpha1.CreatedBefore(n, o) {
			newest[ctxName] = o
		}
	}
	var failed []failedRun
	for name, o := range newest {
		if s := o.Status.State; s == v1alpha1.FailureState || s == v1alpha1.ErrorState {
			failed = append(failed, failedRun{context: name, sha: sha, url: o.Status.URL, rerun: o.Spec.RerunCommand, state: s})
		}
	}
	slices.SortFunc(failed, func(a, b failedRun) int { return strings.Compare(a.context, b.context) })
	return failed, nil
}

func (r *Reconciler) botLogin(ctx context.Context, gh *github.Client) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bot != "" {
		return r.bot, nil
	}
	if r.BotLogin != "" {
		r.bot = r.BotLogin
		return r.bot, nil
	}
	u, _, err := gh.Users.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("look up the bot's login: %w", err)
	}
	r.bot = u.GetLogin()
	return r.bot, nil
}

func (r *Reconciler) pullLock(key string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return &r.pulls[h.Sum32()%uint32(len(r.pulls))]
}

// setReport records the state reported to GitHub.
func setReport(st *v1alpha1.ProwJobStatus, state v1alpha1.ProwJobState, now metav1.Time) {
	setReportBy(st, Name, state, now)
}

// setReportBy records the state a reporter reported.
func setReportBy(st *v1alpha1.ProwJobStatus, reporter string, state v1alpha1.ProwJobState, now metav1.Time) {
	for i := range st.Reports {
		if st.Reports[i].Reporter == reporter {
			st.Reports[i].State, st.Reports[i].ReportedAt = state, &now
			return
		}
	}
	st.Reports = append(st.Reports, v1alpha1.ReportState{Reporter: reporter, State: state, ReportedAt: &now})
}

// patchReports writes status.reports if it changed, refusing to overwrite
// another client's concurrent change. What was reported to GitHub is
// recorded even when shutdown has begun, so that the next leader does not
// report it again.
func (r *Reconciler) patchReports(ctx context.Context, orig, pj *v1alpha1.ProwJob) error {
	return patchReports(ctx, r.Client, r.APIReader, orig, pj)
}

// patchReports records the reports pj adds to orig. After a conflict it
// reads the run again through reader (the client when nil): an uncached
// read sees the write that conflicted, where the cache may still lag.
func patchReports(ctx context.Context, c client.Client, reader client.Reader, orig, pj *v1alpha1.ProwJob) error {
	if reader == nil {
		reader = c
	}
	changed := changedReports(orig.Status.Reports, pj.Status.Reports)
	if len(changed) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	key := client.ObjectKeyFromObject(pj)
	// What was reported has been sent: if another client changed the run
	// meanwhile (the jobs controller moving it on), the record goes onto
	// the newer run rather than being dropped, which would report the same
	// state again at the next reconcile (GitHub lists every status posted,
	// repeats included).
	attempt := 0
	err := retry.OnError(retry.DefaultBackoff, apierrors.IsConflict, func() error {
		if attempt++; attempt > 1 {
			fresh := &v1alpha1.ProwJob{}
			if err := reader.Get(ctx, key, fresh); err != nil {
				return err
			}
			orig, pj = fresh, fresh.DeepCopy()
			for _, r := range changed {
				at := metav1.Now()
				if r.ReportedAt != nil {
					at = *r.ReportedAt
				}
				setReportBy(&pj.Status, r.Reporter, r.State, at)
			}
			if equality.Semantic.DeepEqual(orig.Status.Reports, pj.Status.Reports) {
				return nil
			}
		}
		patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
		return c.Status().Patch(ctx, pj, patch, client.FieldOwner(FieldOwner))
	})
	if apierrors.IsConflict(err) {
		// Still changing under us: the next reconcile reports again, which
		// GitHub and Slack take as a repeat, not a new state.
		ctrl.LoggerFrom(ctx).V(1).Info("Run kept changing; its report is recorded at the next reconcile", "reason", err.Error())
		return nil
	}
	if err != nil {
		return client.IgnoreNotFound(fmt.Errorf("record report: %w", err))
	}
	return nil
}

// changedReports lists the entries of after that differ from before's entry
// of the same reporter.
func changedReports(before, after []v1alpha1.ReportState) []v1alpha1.ReportState {
	var out []v1alpha1.ReportState
	for _, a := range after {
		i := slices.IndexFunc(before, func(b v1alpha1.ReportState) bool { return b.Reporter == a.Reporter })
		if i < 0 || !equality.Semantic.DeepEqual(before[i], a) {
			out = append(out, a)
		}
	}
	return out
}

// gone reports whether GitHub answered that the commit or comment does not
// exist (any more).
func gone(err error) bool {
	var e *github.ErrorResponse
	return errors.As(err, &e) && e.Response != nil &&
		(e.Response.StatusCode == http.StatusNotFound || e.Response.StatusCode == http.StatusUnprocessableEntity)
}

func (r *Reconciler) config() Config {
	if r.Config == nil {
		return Config{}
	}
	return r.Config()
}

// SetupWithManager registers the reporter and its pull request index.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.GitHub == nil {
		return errors.New("reporter: GitHub is required")
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.MaxConcurrentReconciles <= 0 {
		r.MaxConcurrentReconciles = 5
	}
	if err := v1alpha1.AddPullIndex(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	// Started with the controller, once this replica leads.
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		r.elected.Store(r.Clock.Now().UnixNano())
		<-ctx.Done()
		return nil
	})); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("reporter").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		For(&v1alpha1.ProwJob{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			pj := o.(*v1alpha1.ProwJob)
			return pj.Spec.Report && pj.Spec.Refs != nil && lastReported(pj) != pj.Status.State
		}))).
		Complete(r)
}
