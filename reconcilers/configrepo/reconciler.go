// Package configrepo is the ConfigRepository reconciler, bowline's GitOps
// core: it fetches the configured git revision incrementally with go-git,
// validates every file with the schema loader, and publishes each valid
// revision as a snapshot (schema/snapshot) that every component, in this
// process and in others, switches to at once. An invalid revision stalls the
// ConfigRepository with file:line errors while the last good revision stays
// applied and served.
package configrepo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Finalizer lets the reconciler remove what a ConfigRepository published
// before the object goes.
const Finalizer = "bowline.dev/configrepository"

// Defaults for the spec fields the API server defaults, for objects written
// before those defaults existed.
const (
	defaultInterval = time.Minute
	defaultTimeout  = 2 * time.Minute
	// defaultJitter is Flux's interval jitter: ±5 %.
	defaultJitter = 0.05
)

// Reconciler reconciles ConfigRepositories.
type Reconciler struct {
	// Client is the manager's (cached) client.
	Client client.Client
	// APIReader reads Secrets directly, so that the manager does not cache
	// every Secret in the cluster.
	APIReader client.Reader
	// Recorder emits Events on state transitions.
	Recorder events.EventRecorder
	// Publisher stores and reads snapshot ConfigMaps.
	Publisher *snapshot.Publisher
	// Stores receives every applied snapshot, one Store per ConfigRepository.
	Stores *snapshot.Stores
	// Metrics records reconcile metrics.
	Metrics *Metrics
	// DataDir holds one cache repository per ConfigRepository.
	DataDir string
	// MaxConcurrentReconciles bounds parallel reconciles; zero means 1.
	MaxConcurrentReconciles int
	// Check, when set, runs further checks on a revision that loaded, with
	// what only the running install knows (the build clusters, say); its
	// error fails the revision like a loader error (file:line:col lines
	// when it is a *configset.Errors).
	Check func(*configset.Set) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Jitter spreads each poll interval by ±Jitter; zero means 5 %.
	Jitter float64
	// Capabilities say which plugins and components bowline implements;
	// what a revision enables beyond them is reported in PluginsReady,
	// OrgsSynced and DeploymentReady.
	Capabilities Capabilities
	// Limits bound what one revision may hold; zero values take
	// DefaultLimits.
	Limits Limits

	// blobs holds a BlobCache per ConfigRepository UID.
	blobs sync.Map
}

// SetupWithManager watches ConfigRepositories: spec changes (generation),
// the reconcile-request annotation, and deletion.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("configrepository").
		For(&v1alpha1.ConfigRepository{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, reconcileRequested(), deleting()))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Complete(r)
}

// Reconcile brings one ConfigRepository's applied revision up to date.
//
// +kubebuilder:rbac:groups=bowline.dev,resources=configrepositories,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=bowline.dev,resources=configrepositories/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=bowline.dev,resources=configrepositories/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	obj := &v1alpha1.ConfigRepository{}
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := ctrl.LoggerFrom(ctx).WithValues("url", MaskURL(obj.Spec.URL))
	ctx = ctrl.LoggerInto(ctx, log)

	// Deletion comes before the deferred status patch: the object is going
	// away and has no status worth writing.
	if !obj.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, obj)
	}
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		base := obj.DeepCopy()
		controllerutil.AddFinalizer(obj, Finalizer)
		if err := r.Client.Patch(ctx, obj, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer: %w", err)
		}
	}

	orig := obj.DeepCopy()
	sc := &scope{obj: obj, store: r.Stores.For(req.NamespacedName), start: r.now()}
	sc.out.Applied = obj.Status.LastAppliedRevision
	sc.out.Attempted = obj.Status.LastAttemptedRevision
	sc.out.Summary = obj.Status.Summary
	defer func() { retErr = r.finish(ctx, sc, orig, retErr) }()

	if obj.Spec.Suspend {
		sc.out.Suspended = true
		return ctrl.Result{}, nil
	}
	timeout := durationOr(obj.Spec.Timeout, defaultTimeout)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	_ = sc.timed("restore", func() error { r.restore(pctx, sc); return nil })
	if err := sc.timed("fetch", func() error { return r.fetch(pctx, sc) }); err != nil {
		return ctrl.Result{}, err
	}
	if !sc.unchanged && sc.out.Failure == "" {
		if err := sc.timed("validate", func() error { return r.validate(pctx, sc) }); err != nil {
			return ctrl.Result{}, err
		}
		if sc.out.Failure == "" {
			if err := sc.timed("publish", func() error { return r.publish(pctx, sc) }); err != nil {
				return ctrl.Result{}, err
			}
			r.apply(sc)
		}
	}
	if sc.out.Failure == "" {
		if err := sc.timed("prune", func() error { return r.prune(pctx, sc, orig) }); err != nil {
			return ctrl.Result{}, err
		}
	}
	// A failed validation polls on like a success: the fix arrives as a new
	// commit, which only polling or a request annotation can notice, so this
	// is not a TerminalError even though the object is Stalled.
	return ctrl.Result{RequeueAfter: jitter(durationOr(obj.Spec.Interval, defaultInterval), r.jitterFraction(), rand.Float64())}, nil
}

// finish computes the status from what the reconcile saw, records metrics
// and events, and writes the status in one patch.
func (r *Reconciler) finish(ctx context.Context, sc *scope, orig *v1alpha1.ConfigRepository, retErr error) error {
	obj, o := sc.obj, sc.out
	now := r.now()
	if retErr != nil && o.Failure == "" {
		o.Failure, o.Detail = v1alpha1.ReasonFetchFailed, retErr.Error()
		if errors.Is(retErr, context.DeadlineExceeded) {
			o.Detail = "timed out after " + durationOr(obj.Spec.Timeout, defaultTimeout).String()
		}
	}
	r.noteMissing(sc, &o)
	st := &obj.Status
	// Warnings describe the last revision validated; they go with the
	// errors when the branch goes back to the applied revision, which is
	// not validated again.
	switch {
	case o.Suspended:
	case sc.validated:
		st.Warnings, st.WarningCount = boundErrors(o.Warnings), int32(len(o.Warnings))
	case o.Failure == "" && len(st.ValidationErrors) > 0:
		st.Warnings, st.WarningCount = nil, 0
	}
	setConditions(obj, o)
	if v, ok := obj.Annotations[v1alpha1.ReconcileRequestedAnnotation]; ok {
		st.LastHandledReconcileAt = v
	}
	if !o.Suspended {
		if o.Attempted != "" {
			st.LastAttemptedRevision = o.Attempted
		}
		// Errors are replaced when this reconcile validated, and cleared
		// when it ended well without validating (the branch went back to
		// the applied revision).
		if sc.validated || o.Failure == "" {
			st.ValidationErrors = boundErrors(o.Errors)
		}
		st.History = recordHistory(st.History, v1alpha1.ReconcileRecord{
			Revision: o.Attempted, Time: metav1.NewTime(now), Duration: now.Sub(sc.start).Round(time.Millisecond).String(), Result: o.result(),
		})
		r.Metrics.observeReconcile(o.result(), now.Sub(sc.start))
		if o.Failure != "" {
			r.Metrics.observeFailure(o.Failure)
		}
	}
	// observedGeneration covers success and the Stalled state alike: both
	// are this generation's final word until something changes.
	if retErr == nil {
		st.ObservedGeneration = obj.Generation
	}
	r.recordEvents(orig, obj, o)
	log := ctrl.LoggerFrom(ctx)
	switch {
	case o.NewlyApplied:
		log.Info("Applied revision", append([]any{"revision", o.Applied, "duration", now.Sub(sc.start).Round(time.Millisecond).String()}, sc.phases...)...)
	case o.Failure == v1alpha1.ReasonValidationFailed && sc.validated:
		log.Info("Revision is invalid", "revision", o.Attempted, "errors", len(o.Errors))
	default:
		log.V(1).Info("Reconciled", append([]any{"result", o.result(), "revision", o.Attempted}, sc.phases...)...)
	}
	if err := r.Client.Status().Patch(ctx, obj, client.MergeFrom(orig)); err != nil {
		return errors.Join(retErr, fmt.Errorf("patch status: %w", client.IgnoreNotFound(err)))
	}
	return retErr
}

// noteMissing records in o what the applied revision asks for that
// bowline does not implement, from the configuration in effect.
func (r *Reconciler) noteMissing(sc *scope, o *outcome) {
	cur := sc.store.Current()
	if o.Applied == "" || cur == nil || cur.Config == nil || cur.Revision != o.Applied {
		return
	}
	o.Missing = r.Capabilities.Missing(cur.Config, sc.deployFiles)
	o.OrgsReported = !r.Capabilities.implemented("orgs")
	// The deploy files were counted in the fetched revision: they are the
	// applied revision's only when this reconcile ended well.
	o.DeployReported = !r.Capabilities.implemented("deploy") && sc.deployCounted && o.Failure == ""
	o.DeployDir = snapshot.WithDefaults(sc.obj.Spec.Paths).Deploy
}

// recordEvents emits an Event when the Ready reason changes, and one for
// each newly applied revision.
func (r *Reconciler) recordEvents(orig, obj *v1alpha1.ConfigRepository, o outcome) {
	if r.Recorder == nil {
		return
	}
	before, after := readyReason(orig), readyReason(obj)
	switch {
	case o.NewlyApplied:
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, v1alpha1.ReasonSucceeded, "Apply", "Applied revision %s", o.Applied)
	case o.Failure != "" && before != after:
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, o.Failure, "Reconcile", "%s", conditionMessage(obj, v1alpha1.ConditionReady))
	case o.Suspended && before != after:
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, v1alpha1.ReasonSuspended, "Suspend", "Reconciling is suspended")
	}
}

// finalize removes the snapshots a ConfigRepository published, withdraws
// it from this process's Store, drops its cache and lets it go.
func (r *Reconciler) finalize(ctx context.Context, obj *v1alpha1.ConfigRepository) error {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return nil
	}
	if err := r.Publisher.Prune(ctx, obj); err != nil {
		return err
	}
	r.Stores.For(types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}).Set(nil)
	r.blobs.Delete(obj.UID)
	if err := os.RemoveAll(r.cacheDir(obj)); err != nil {
		return fmt.Errorf("remove cache: %w", err)
	}
	_ = os.Remove(r.cacheDir(obj) + ".known_hosts")
	r.Metrics.forget(obj.Namespace, obj.Name)
	base := obj.DeepCopy()
	controllerutil.RemoveFinalizer(obj, Finalizer)
	if err := r.Client.Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		return client.IgnoreNotFound(err)
	}
	ctrl.LoggerFrom(ctx).Info("Removed published snapshots")
	return nil
}

func (r *Reconciler) cacheDir(obj *v1alpha1.ConfigRepository) string {
	return filepath.Join(r.DataDir, "git", string(obj.UID))
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) jitterFraction() float64 {
	if r.Jitter > 0 {
		return r.Jitter
	}
	return defaultJitter
}

func durationOr(d *metav1.Duration, def time.Duration) time.Duration {
	if d == nil || d.Duration <= 0 {
		return def
	}
	return d.Duration
}

func readyReason(obj *v1alpha1.ConfigRepository) string {
	for _, c := range obj.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			return c.Reason
		}
	}
	return ""
}

func conditionMessage(obj *v1alpha1.ConfigRepository, typ string) string {
	for _, c := range obj.Status.Conditions {
		if c.Type == typ {
			return c.Message
		}
	}
	return ""
}

// reconcileRequested passes updates that change the reconcile-request
// annotation.
func reconcileRequested() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetAnnotations()[v1alpha1.ReconcileRequestedAnnotation] !=
				e.ObjectNew.GetAnnotations()[v1alpha1.ReconcileRequestedAnnotation]
		},
	}
}

// deleting passes updates that mark the object for deletion.
func deleting() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
		},
	}
}
