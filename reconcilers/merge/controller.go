package merge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Reconciler is the merge controller: a loop that searches GitHub for pull
// requests (Discover) and keeps one MergePool per org/repo/branch, and a
// reconcile per MergePool that decides and acts (SyncPool). Both run on the
// elected leader only.
type Reconciler struct {
	// Client reads ProwJobs (through the cache) and writes MergePools and
	// run aborts.
	Client client.Client
	// APIReader reads MergePools from the API server: the reconciler
	// writes their status more than once in a sync (a merge is recorded
	// before it starts), and must not act on an older copy from the cache.
	APIReader client.Reader
	// Creator creates runs; the manager's client unless runs are
	// redirected (bowline up runs them with the local agent).
	Creator client.Client
	// Syncer does the work against GitHub.
	Syncer *Syncer
	// Config returns the applied configuration's settings; nil before
	// there is one.
	Config func() (*Config, error)
	// Recorder records Events on MergePools (merges and their failures).
	Recorder events.EventRecorder
	// Metrics receives measurements; nil keeps them unregistered.
	Metrics *Metrics
	// MaxConcurrentReconciles bounds the pools synced at once, whatever
	// max_goroutines says; default 20.
	MaxConcurrentReconciles int

	requests chan event.GenericEvent
	kick     chan struct{}
	sem      *semaphore
	known    sync.Map // MergePool names known to exist
}

// SetupWithManager registers the reconciler, the discovery loop and the
// index of runs by pool.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.Creator == nil {
		r.Creator = r.Client
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.MaxConcurrentReconciles <= 0 {
		r.MaxConcurrentReconciles = DefaultMaxGoroutines
	}
	if r.Metrics == nil {
		r.Metrics, _ = NewMetrics(nil)
	}
	r.requests = make(chan event.GenericEvent, 1024)
	r.kick = make(chan struct{}, 1)
	r.sem = newSemaphore()
	r.Syncer.init()
	if err := AddPoolIndex(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("mergepool").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		For(&v1alpha1.MergePool{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(&v1alpha1.ProwJob{}, handler.EnqueueRequestsFromMapFunc(runToPool), builder.WithPredicates(runChanged)).
		WatchesRawSource(source.Channel(r.requests, &handler.EnqueueRequestForObject{})).
		Complete(r)
	if err != nil {
		return err
	}
	return mgr.Add(&discoverer{r: r})
}

// runChanged admits new and deleted runs, and runs whose state changed.
var runChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*v1alpha1.ProwJob)
		n, ok2 := e.ObjectNew.(*v1alpha1.ProwJob)
		return ok1 && ok2 && o.Status.State != n.Status.State
	},
}

// runToPool maps a presubmit or batch run to its pool's MergePool.
func runToPool(_ context.Context, o client.Object) []reconcile.Request {
	pj, ok := o.(*v1alpha1.ProwJob)
	if !ok || pj.Spec.Refs == nil || (pj.Spec.Type != v1alpha1.PresubmitJob && pj.Spec.Type != v1alpha1.BatchJob) {
		return nil
	}
	r := pj.Spec.Refs
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: pj.Namespace, Name: PoolName(r.Org, r.Repo, r.BaseRef)}}}
}

// Reconcile syncs one pool: it finishes an interrupted merge, decides, acts
// and writes the MergePool's status in one patch.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	mp := &v1alpha1.MergePool{}
	if err := r.APIReader.Get(ctx, req.NamespacedName, mp); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	k := poolKey{mp.Spec.Org, mp.Spec.Repo, mp.Spec.Branch}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("pool", k.String()))
	orig := mp.DeepCopy()
	act := &actuator{r: r, pool: mp, orig: orig}
	defer func() {
		retErr = errors.Join(retErr, r.patchStatus(ctx, act.orig, mp))
		if retErr != nil {
			res = ctrl.Result{}
		}
	}()
	cfg, err := r.Config()
	if err != nil {
		return ctrl.Result{}, err
	}
	if cfg == nil || !cfg.Covers(k.org, k.repo) {
		why := "No applied configuration yet."
		if cfg != nil {
			why = fmt.Sprintf("No tide query covers %s/%s.", k.org, k.repo)
		}
		meta.SetStatusCondition(&mp.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonWaitingForConfig, Message: why, ObservedGeneration: mp.Generation})
		return ctrl.Result{RequeueAfter: time.Minute}, nil
	}
	if ann := mp.Annotations[v1alpha1.ReconcileRequestedAnnotation]; ann != "" && ann != mp.Status.LastHandledReconcileAt {
		// Another process saw webhooks for this pool: read it again.
		r.Syncer.store.markStale(k)
		r.Kick()
		mp.Status.LastHandledReconcileAt = ann
	}
	release := r.sem.acquire(ctx, cfg.MaxGoroutines)
	defer release()
	start := time.Now()
	runs, err := runsFor(ctx, r.Client, mp.Namespace, k)
	if err != nil {
		return ctrl.Result{}, err
	}
	result, err := r.Syncer.SyncPool(ctx, cfg, k, &mp.Status, runs, act)
	applyResult(&mp.Status, mp.Generation, result, err, r.Syncer.metaNow())
	if err == nil {
		mp.Status.ObservedGeneration = mp.Generation
	}
	r.Metrics.observePool(k, result, err, time.Since(start))
	r.events(mp, result)
	if err != nil {
		return ctrl.Result{}, err
	}
	if result.Merge != nil || (result.Plan != nil && len(result.Plan.Start) > 0) {
		// The branch moved or runs started: look again shortly, whether or
		// not a webhook arrives.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{RequeueAfter: cfg.StatusUpdatePeriod}, nil
}

// patchStatus writes the status when it changed.
func (r *Reconciler) patchStatus(ctx context.Context, orig, mp *v1alpha1.MergePool) error {
	if equality.Semantic.DeepEqual(orig.Status, mp.Status) {
		return nil
	}
	// orig is the object as last written (RecordMerge may have written it
	// since mp was read): the patch must not carry an older version.
	mp.ResourceVersion = orig.ResourceVersion
	if err := r.Client.Status().Patch(ctx, mp, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("patch the status of MergePool %s: %w", mp.Name, err)
	}
	return nil
}

// events records merges and their failures.
func (r *Reconciler) events(mp *v1alpha1.MergePool, res *PoolResult) {
	if r.Recorder == nil || res == nil || res.Merge == nil || res.Merge.CompletionTime == nil {
		return
	}
	m := res.Merge
	var merged []int
	for _, p := range m.Pulls {
		if p.MergeSHA != "" {
			merged = append(merged, int(p.Number))
		}
	}
	if len(merged) > 0 {
		r.Recorder.Eventf(mp, nil, corev1.EventTypeNormal, string(m.Action), "Merge", "Merged %s", joinNumbers(merged))
	}
	if m.Error != "" {
		r.Recorder.Eventf(mp, nil, corev1.EventTypeWarning, v1alpha1.ReasonMergeFailed, "Merge", "%s", m.Error)
	}
}

// Kick wakes the discovery loop for an early search.
func (r *Reconciler) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Enqueue asks for pools to be synced.
func (r *Reconciler) Enqueue(ctx context.Context, ns string, pools ...poolKey) {
	for _, k := range pools {
		if k.branch == "" {
			continue
		}
		ev := eventFor(ns, k)
		select {
		case r.requests <- ev:
		case <-ctx.Done():
			return
		}
	}
}

// ensurePools creates the MergePools of pools that have none.
func (r *Reconciler) ensurePools(ctx context.Context, cfg *Config, pools []poolKey) error {
	var errs []error
	for _, k := range pools {
		if !cfg.Covers(k.org, k.repo) {
			continue
		}
		name := PoolName(k.org, k.repo, k.branch)
		if v, ok := r.known.Load(name); ok && v.(string) == cfg.Namespace {
			continue
		}
		mp := newPool(cfg.Namespace, k)
		if err := r.Client.Create(ctx, mp); err != nil && !apierrors.IsAlreadyExists(err) {
			errs = append(errs, fmt.Errorf("create MergePool %s: %w", name, err))
			continue
		}
		r.known.Store(name, cfg.Namespace)
	}
	return errors.Join(errs...)
}

// prunePools deletes MergePools of pools without open pull requests whose
// last merge is an hour old or older, and of repositories no query covers
// any more. A merge in progress keeps its pool.
func (r *Reconciler) prunePools(ctx context.Context, cfg *Config) error {
	var list v1alpha1.MergePoolList
	if err := r.Client.List(ctx, &list, client.InNamespace(cfg.Namespace)); err != nil {
		return fmt.Errorf("list MergePools: %w", err)
	}
	open := map[string]bool{}
	for _, k := range r.Syncer.Pools() {
		open[PoolName(k.org, k.repo, k.branch)] = true
	}
	now := r.Syncer.now()
	var errs []error
	for i := range list.Items {
		mp := &list.Items[i]
		if mp.Status.Merging != nil || (open[mp.Name] && cfg.Covers(mp.Spec.Org, mp.Spec.Repo)) {
			continue
		}
		if cfg.Covers(mp.Spec.Org, mp.Spec.Repo) && len(mp.Status.LastMerges) > 0 && mp.Status.LastMerges[0].CompletionTime != nil &&
			now.Sub(mp.Status.LastMerges[0].CompletionTime.Time) < time.Hour {
			continue
		}
		if err := r.Client.Delete(ctx, mp); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("delete MergePool %s: %w", mp.Name, err))
		}
		r.known.Delete(mp.Name)
	}
	return errors.Join(errs...)
}

// discoverer runs the search loop every sync_period, or sooner when kicked.
type discoverer struct{ r *Reconciler }

// NeedLeaderElection is true: only the leader searches and acts.
func (d *discoverer) NeedLeaderElection() bool { return true }

func (d *discoverer) Start(ctx context.Context) error {
	r := d.r
	log := ctrl.LoggerFrom(ctx).WithName("merge")
	ctx = ctrl.LoggerInto(ctx, log)
	wait := time.Second
	var last *Config
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case <-time.After(wait):
		}
		cfg, err := r.Config()
		if err != nil || cfg == nil {
			if err != nil {
				log.Error(err, "Reading the merge configuration")
			}
			wait = time.Second
			continue
		}
		wait = cfg.SyncPeriod
		if err := r.SyncOnce(ctx, cfg); err != nil {
			log.Error(err, "Merge sync failed")
		}
		if cfg != last {
			// A new configuration revision: every pool decides again now.
			last = cfg
			r.Enqueue(ctx, cfg.Namespace, r.Syncer.Pools()...)
		}
	}
}

// SyncOnce runs one discovery: search, create missing MergePools, and
// enqueue the pools that changed (all of them after a full resync).
func (r *Reconciler) SyncOnce(ctx context.Context, cfg *Config) error {
	start := time.Now()
	full := r.Syncer.store.lastFull.IsZero() || r.Syncer.now().Sub(r.Syncer.store.lastFull) >= cfg.FullResyncPeriod
	changed, err := r.Syncer.Discover(ctx, cfg)
	r.Metrics.observeSync(full, err, time.Since(start))
	if berr := r.Syncer.SearchBlockers(ctx, cfg); berr != nil {
		err = errors.Join(err, berr)
	}
	pools := r.Syncer.Pools()
	if perr := r.ensurePools(ctx, cfg, pools); perr != nil {
		err = errors.Join(err, perr)
	}
	if full {
		if perr := r.prunePools(ctx, cfg); perr != nil {
			err = errors.Join(err, perr)
		}
		changed = pools
	}
	r.Enqueue(ctx, cfg.Namespace, changed...)
	return err
}

// actuator carries out a pool's decision in the API server.
type actuator struct {
	r    *Reconciler
	pool *v1alpha1.MergePool
	// orig is the MergePool as the API server has it, so that the final
	// status patch also clears what RecordMerge wrote in between.
	orig *v1alpha1.MergePool
}

func (a *actuator) StartRuns(ctx context.Context, cfg *Config, k poolKey, s Start) error {
	link := ""
	if ri := a.r.Syncer.store.repo(k.org, k.repo); ri != nil {
		link = ri.htmlURL
	}
	runs, err := runsFor(ctx, a.r.Client, cfg.Namespace, k)
	if err != nil {
		return err
	}
	now := a.r.Syncer.now()
	for _, ps := range s.Jobs {
		attempt := 0
		for _, run := range runs {
			if run.Context == ps.Context && run.BaseSHA == s.BaseSHA && len(run.Pulls) == len(s.PRs) && samePulls(run.Pulls, pullsOf(s.PRs)) {
				attempt++
			}
		}
		pj := newRun(cfg, k, s, ps, attempt, link, now)
		if err := createRun(ctx, a.r.Creator, pj); err != nil {
			return err
		}
		a.r.Metrics.runStarted(s.Kind)
		ctrl.LoggerFrom(ctx).Info("Started a run", "job", ps.Name, "kind", s.Kind, "pulls", joinNumbers(numbers(s.PRs)), "prowJob", pj.Name)
	}
	return nil
}

func pullsOf(prs []*PR) []v1alpha1.PoolPull {
	out := make([]v1alpha1.PoolPull, len(prs))
	for i, pr := range prs {
		out[i] = pr.pull()
	}
	return out
}

func (a *actuator) AbortRun(ctx context.Context, name string) error {
	pj := &v1alpha1.ProwJob{}
	if err := a.r.Client.Get(ctx, client.ObjectKey{Namespace: a.pool.Namespace, Name: name}, pj); err != nil {
		return client.IgnoreNotFound(err)
	}
	if pj.Complete() || pj.Status.State == v1alpha1.AbortedState {
		return nil
	}
	orig := pj.DeepCopy()
	pj.Status.State = v1alpha1.AbortedState
	pj.Status.Description = "Aborted by the merge pool: the batch it was stacked on failed."
	if err := a.r.Client.Status().Patch(ctx, pj, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("abort run %s: %w", name, err)
	}
	ctrl.LoggerFrom(ctx).Info("Aborted a speculative run", "prowJob", name)
	return nil
}

func (a *actuator) RecordMerge(ctx context.Context, _ poolKey, m *v1alpha1.PoolMerge) error {
	before := a.orig.DeepCopy()
	a.orig.Status.Merging = m.DeepCopy()
	if err := a.r.Client.Status().Patch(ctx, a.orig, client.MergeFrom(before)); err != nil {
		a.orig = before
		return fmt.Errorf("record the merge in MergePool %s: %w", a.orig.Name, err)
	}
	a.pool.Status.Merging = m.DeepCopy()
	return nil
}

// semaphore bounds the pools synced at once by a limit that follows the
// configuration (max_goroutines).
type semaphore struct {
	mu      sync.Mutex
	cond    *sync.Cond
	running int
}

func newSemaphore() *semaphore {
	s := &semaphore{}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func (s *semaphore) acquire(ctx context.Context, limit int) func() {
	s.mu.Lock()
	for s.running >= max(limit, 1) && ctx.Err() == nil {
		s.cond.Wait()
	}
	s.running++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
		s.cond.Broadcast()
	}
}
