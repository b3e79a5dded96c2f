package prowjob

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
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// DefaultCluster is the alias of the operator's own cluster.
const DefaultCluster = "default"

// conflictRetry is when a run whose status write lost an optimistic-lock
// race is looked at again, should the update that won not bring it back
// first.
const conflictRetry = time.Second

// Reconciler runs ProwJobs of the kubernetes agent, and of the local agent
// when Local is set. Zero fields are defaulted by SetupWithManager.
type Reconciler struct {
	// Client reads through the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads the API server directly.
	APIReader client.Reader
	// Clock is the time source of timeouts.
	Clock clock.PassiveClock
	// Config returns the current plank settings; nil means plank's
	// defaults.
	Config func() Config
	// BuildPod makes a run's pod; default DecoratedPods without defaults.
	BuildPod PodBuilder
	// Clusters are the build clusters by alias; nil means only the
	// operator's own, as "default". SetupWithManager adds the set to the
	// manager and watches the pods of each remote cluster once its cache
	// has started.
	Clusters *buildcluster.Set
	// Local runs local-agent jobs; nil leaves them to another controller.
	Local LocalRunner
	// RunFiles, when set, writes prowjob.json and podinfo.json into a run's
	// directory when it ends, as Prow's crier does.
	RunFiles *RunFiles
	// Metrics, when set, records transitions and pod creation latency.
	Metrics *Metrics
	// Recorder, when set, emits an Event on every state change, its reason
	// the Completed or Scheduled condition's.
	Recorder events.EventRecorder
	// IDs hands out build IDs; default NewBuildIDs(Clock).
	IDs *BuildIDs
	// MaxConcurrentReconciles is how many runs are reconciled at once;
	// default 8.
	MaxConcurrentReconciles int

	localOnce sync.Once
	localCh   chan event.GenericEvent
	wakeOnce  sync.Once
	wakeCh    chan event.GenericEvent
	// written maps a run's key to the resourceVersion its last status
	// write replaced, until the cache has caught up (see stale).
	written sync.Map
}

// buildCluster is where a run's pod goes.
type buildCluster struct {
	client client.Client
	reader client.Reader
	// local is true for the operator's own cluster.
	local bool
	// wait, when set, says why the cluster cannot take pods yet (it is
	// unreachable or lacks permissions, or its pod cache has not started);
	// client and reader then go to the API server directly.
	wait string
}

// Reconcile moves one run through the state machine: observe the pod or
// process and the concurrency limits, decide, act, and record the outcome
// in one status patch.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	pj := &v1alpha1.ProwJob{}
	if err := r.Client.Get(ctx, req.NamespacedName, pj); err != nil {
		if apierrors.IsNotFound(err) {
			r.written.Delete(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if pj.Complete() || !r.handles(pj) || pj.DeletionTimestamp != nil || r.stale(pj) {
		return ctrl.Result{}, nil
	}
	ctx = ctrl.LoggerInto(ctx, ctrl.LoggerFrom(ctx).WithValues("job", pj.Spec.Job, "state", pj.Status.State))
	orig := pj.DeepCopy()
	var obs observation
	defer func() {
		if retErr == nil {
			pj.Status.ObservedGeneration = pj.Generation
		}
		err := r.patchStatus(ctx, orig, pj)
		if err == nil && pj.Complete() && pj.Spec.Agent == v1alpha1.LocalAgent {
			r.Local.Forget(ctx, pj)
		}
		if err == nil && pj.Complete() && !orig.Complete() && r.RunFiles != nil {
			r.writeRunFiles(ctx, pj, obs.pod)
		}
		if apierrors.IsConflict(err) && retErr == nil {
			// Another client changed the run since the cache saw it (the
			// reporter recording what it reported, an abort): its update
			// brings the run back, and the next reconcile starts from it.
			// Expected, so not an error to log.
			ctrl.LoggerFrom(ctx).V(1).Info("Run changed meanwhile; reconciling it again", "reason", err.Error())
			res, err = ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		retErr = errors.Join(retErr, err)
	}()

	var err error
	if obs, err = r.observe(ctx, pj); err != nil {
		return ctrl.Result{}, err
	}
	d := decide(pj, obs)
	s, d, err := r.act(ctx, pj, obs, d)
	if err != nil {
		return ctrl.Result{}, err
	}
	applyDecision(&pj.Status, pj.Generation, d, s, obs.now)
	return ctrl.Result{RequeueAfter: d.requeueAfter}, nil
}

// observe records what the run's pod or process and its concurrency limits
// look like.
func (r *Reconciler) observe(ctx context.Context, pj *v1alpha1.ProwJob) (observation, error) {
	obs := observation{now: r.Clock.Now(), cfg: r.config(), clusterKnown: true}
	state := pj.Status.State
	if !supportedAgent(pj.Spec.Agent) {
		return obs, nil
	}
	switch {
	case pj.Spec.Agent == v1alpha1.LocalAgent:
		if state == v1alpha1.PendingState {
			st, err := r.Local.Status(ctx, pj)
			if err != nil {
				return obs, fmt.Errorf("local run status: %w", err)
			}
			obs.local = st
		}
	default:
		bc, ok := r.cluster(pj.Spec.Cluster)
		obs.clusterKnown, obs.clusterWait = ok, bc.wait
		if ok && bc.wait == "" && state == v1alpha1.PendingState && pj.Status.PodName != "" {
			pod, err := getPod(ctx, bc, podNamespace(pj), pj.Status.PodName)
			if err != nil {
				return obs, err
			}
			obs.pod = pod
		}
	}
	if pj.Spec.Type == v1alpha1.PresubmitJob && superseding(state) {
		newer, err := r.newerRun(ctx, pj)
		if err != nil {
			return obs, err
		}
		if obs.supersededBy = newer; newer != "" {
			return obs, nil
		}
	}
	if state == "" || state == v1alpha1.TriggeredState {
		b, err := r.checkLimits(ctx, pj, obs.cfg)
		if err != nil {
			return obs, err
		}
		obs.blocked = b
	}
	return obs, nil
}

// act carries out a decision's side effect. A pod the API server refuses
// turns the decision into an error.
func (r *Reconciler) act(ctx context.Context, pj *v1alpha1.ProwJob, obs observation, d decision) (*started, decision, error) {
	local := pj.Spec.Agent == v1alpha1.LocalAgent
	bc, _ := r.cluster(pj.Spec.Cluster)
	switch d.action {
	case actStop:
		if local {
			return nil, d, r.Local.Stop(ctx, pj)
		}
		return nil, d, deletePod(ctx, bc, podNamespace(pj), pj.Status.PodName)
	case actStart, actRevive:
		revivals := pj.Status.PodRevivalCount
		if d.action == actRevive && !local {
			if err := deletePod(ctx, bc, podNamespace(pj), pj.Status.PodName); err != nil {
				return nil, d, err
			}
			revivals++
		}
		s := &started{buildID: pj.Status.BuildID}
		if s.buildID == "" {
			s.buildID = r.IDs.Next()
		}
		if local {
			if err := r.Local.Start(ctx, pj, s.buildID); err != nil {
				return nil, d, fmt.Errorf("start local run: %w", err)
			}
		} else {
			s.podName = podName(pj, revivals)
			id, err := r.createPod(ctx, bc, pj, s.podName, s.buildID)
			if rejected := (errPodRejected{}); errors.As(err, &rejected) {
				return nil, decision{state: v1alpha1.ErrorState, description: "Pod could not be created: " + rejected.Error()}, nil
			}
			if err != nil {
				return nil, d, err
			}
			s.buildID = id
			if d.action == actStart {
				r.Metrics.podCreated(pj, r.Clock.Now())
			}
		}
		view := pj.DeepCopy()
		view.Status.BuildID, view.Status.PodName = s.buildID, s.podName
		url, err := obs.cfg.jobURL(view)
		if err != nil {
			return nil, d, err
		}
		s.url = url
		return s, d, nil
	}
	return nil, d, nil
}

// patchStatus writes the status once, if it changed, refusing to overwrite
// a change another client made meanwhile (an abort, for one).
func (r *Reconciler) patchStatus(ctx context.Context, orig, pj *v1alpha1.ProwJob) error {
	if equality.Semantic.DeepEqual(orig.Status, pj.Status) {
		return nil
	}
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if err := r.Client.Status().Patch(ctx, pj, patch, client.FieldOwner(FieldOwner)); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("patch status: %w", err))
	}
	if !pj.Complete() {
		r.written.Store(client.ObjectKeyFromObject(pj), orig.ResourceVersion)
	}
	r.Metrics.transition(pj, orig.Status.State)
	r.event(pj, orig.Status.State)
	return nil
}

// event records a state change as an Event.
func (r *Reconciler) event(pj *v1alpha1.ProwJob, from v1alpha1.ProwJobState) {
	if r.Recorder == nil || pj.Status.State == from {
		return
	}
	condType := v1alpha1.ConditionCompleted
	if !pj.Complete() {
		condType = v1alpha1.ConditionScheduled
	}
	reason := condType
	if c := meta.FindStatusCondition(pj.Status.Conditions, condType); c != nil {
		reason = c.Reason
	}
	typ := corev1.EventTypeNormal
	if pj.Status.State == v1alpha1.ErrorState || pj.Status.State == v1alpha1.FailureState {
		typ = corev1.EventTypeWarning
	}
	r.Recorder.Eventf(pj, nil, typ, reason, string(pj.Status.State), "%s", pj.Status.Description)
}

// stale reports whether the cache still holds the version of a run that
// this controller has since replaced: reconciling it would repeat the last
// step and fail on the optimistic lock. The update event of the write
// brings the run back once the cache has it.
func (r *Reconciler) stale(pj *v1alpha1.ProwJob) bool {
	key := client.ObjectKeyFromObject(pj)
	old, ok := r.written.Load(key)
	if !ok {
		return false
	}
	if old == pj.ResourceVersion {
		return true
	}
	r.written.Delete(key)
	return false
}

func (r *Reconciler) config() Config {
	if r.Config == nil {
		return Config{}.withDefaults()
	}
	return r.Config().withDefaults()
}

// handles reports whether this controller moves the job's runs: those of
// the kubernetes agent, of the local agent when it has a LocalRunner, and
// of the agents bowline does not support, which it ends in error rather
// than leave them triggered for ever.
func (r *Reconciler) handles(pj *v1alpha1.ProwJob) bool {
	if pj.Spec.Agent == v1alpha1.LocalAgent {
		return r.Local != nil
	}
	return true
}

// cluster finds a build cluster by alias; "" is the default.
func (r *Reconciler) cluster(alias string) (buildCluster, bool) {
	own := buildCluster{client: r.Client, reader: r.APIReader, local: true}
	if r.Clusters == nil {
		return own, alias == "" || alias == DefaultCluster
	}
	c, ok := r.Clusters.Get(alias)
	switch {
	case !ok:
		return buildCluster{}, false
	case c.Local():
		return own, true
	}
	if cl := c.Remote(); cl != nil {
		return buildCluster{client: cl.GetClient(), reader: cl.GetAPIReader()}, true
	}
	return buildCluster{client: c.Direct(), reader: c.Direct(), wait: c.Health().Message}, true
}

// SetupWithManager registers the controller, its field indexes and its
// watches: ProwJobs of the agents it handles, job pods in every build
// cluster, and completed runs that free a concurrency slot.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.BuildPod == nil {
		r.BuildPod = DecoratedPods(nil)
	}
	if r.IDs == nil {
		r.IDs = NewBuildIDs(r.Clock)
	}
	if r.MaxConcurrentReconciles <= 0 {
		r.MaxConcurrentReconciles = 8
	}
	if err := IndexFields(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	r.Metrics.readFrom(mgr.GetClient())
	if r.Clusters != nil {
		if err := mgr.Add(r.Clusters); err != nil {
			return err
		}
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named("prowjob").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		For(&v1alpha1.ProwJob{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			return r.handles(o.(*v1alpha1.ProwJob))
		}))).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToProwJob), builder.WithPredicates(jobPod)).
		Watches(&v1alpha1.ProwJob{}, handler.Funcs{CreateFunc: r.supersedeOnCreate, UpdateFunc: r.slotFreedOnUpdate, DeleteFunc: r.slotFreedOnDelete})
	if r.Local != nil {
		b = b.WatchesRawSource(source.Channel(r.localEvents(), &handler.EnqueueRequestForObject{}))
	}
	if r.Clusters == nil {
		return b.Complete(r)
	}
	b = b.WatchesRawSource(source.Channel(r.wakeEvents(), &handler.EnqueueRequestForObject{}))
	c, err := b.Build(r)
	if err != nil {
		return err
	}
	// A remote cluster's pods are watched once its cache runs: a cluster
	// that is down must not hold the controller back.
	r.Clusters.OnReady = func(ctx context.Context, bc *buildcluster.Cluster) error {
		src := source.Kind(bc.Remote().GetCache(), client.Object(&corev1.Pod{}), handler.EnqueueRequestsFromMapFunc(podToProwJob), jobPod)
		if err := c.Watch(src); err != nil {
			return fmt.Errorf("watch the pods of build cluster %q: %w", bc.Alias(), err)
		}
		r.wakeCluster(ctx, bc.Alias())
		return nil
	}
	return nil
}

// wakeCluster reconciles at once the runs waiting for a build cluster that
// has just become ready.
func (r *Reconciler) wakeCluster(ctx context.Context, alias string) {
	var list v1alpha1.ProwJobList
	if err := r.Client.List(ctx, &list, client.MatchingFields{IndexState: string(v1alpha1.TriggeredState)}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Cannot list the runs waiting for a build cluster", "cluster", alias)
		return
	}
	var waiting []event.GenericEvent
	for i := range list.Items {
		if pj := &list.Items[i]; pj.Spec.Cluster == alias {
			waiting = append(waiting, event.GenericEvent{Object: pj})
		}
	}
	go func() {
		for _, e := range waiting {
			select {
			case r.wakeEvents() <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
}

func (r *Reconciler) wakeEvents() chan event.GenericEvent {
	r.wakeOnce.Do(func() { r.wakeCh = make(chan event.GenericEvent, 64) })
	return r.wakeCh
}

// jobPod admits pods that belong to a run.
var jobPod = predicate.NewPredicateFuncs(func(o client.Object) bool {
	l := o.GetLabels()
	return l[v1alpha1.IDLabel] != "" && l[v1alpha1.ProwJobNamespaceLabel] != ""
})

// podToProwJob maps a pod to its run through its labels.
func podToProwJob(_ context.Context, o client.Object) []reconcile.Request {
	l := o.GetLabels()
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: l[v1alpha1.ProwJobNamespaceLabel], Name: l[v1alpha1.IDLabel]}}}
}

// slotFreedOnUpdate wakes the runs waiting behind a run that just completed.
func (r *Reconciler) slotFreedOnUpdate(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	old, ok1 := e.ObjectOld.(*v1alpha1.ProwJob)
	pj, ok2 := e.ObjectNew.(*v1alpha1.ProwJob)
	if ok1 && ok2 && !old.Complete() && pj.Complete() {
		r.enqueueWaiting(ctx, pj, q)
	}
}

// slotFreedOnDelete wakes the runs waiting behind a deleted run.
func (r *Reconciler) slotFreedOnDelete(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if pj, ok := e.Object.(*v1alpha1.ProwJob); ok && !pj.Complete() {
		r.enqueueWaiting(ctx, pj, q)
	}
}

// enqueueWaiting enqueues the triggered runs sharing pj's job or queue.
func (r *Reconciler) enqueueWaiting(ctx context.Context, pj *v1alpha1.ProwJob, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	keys := map[string]string{}
	if pj.Spec.MaxConcurrency > 0 {
		keys[IndexJob] = pj.Spec.Job
	}
	if pj.Spec.JobQueueName != "" {
		keys[IndexJobQueue] = pj.Spec.JobQueueName
	}
	for index, key := range keys {
		var list v1alpha1.ProwJobList
		if err := r.Client.List(ctx, &list, client.InNamespace(pj.Namespace),
			client.MatchingFields{index: key, IndexState: string(v1alpha1.TriggeredState)}, client.UnsafeDisableDeepCopy); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Cannot list waiting runs", "index", index, "key", key)
			continue
		}
		for i := range list.Items {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
}
