// Package deploy applies bowline's own deployment from the config
// repository: the roles a revision's deployment.yaml names each get a
// Deployment made from the operator's own (the image, replicas, resources
// and flags from the file, everything else from the install), applied
// with server-side apply and rolled out one role at a time. A role's new
// pods must become available, the hook's must answer a signed ping, and a
// role that acts alone must have one of its new pods take its lease;
// until then the previous deployment keeps running (maxUnavailable 0),
// and when that fails the role is rolled back to its last healthy
// settings. Progress is reported on the ConfigRepository: the
// DeploymentReady condition and status.deployment, whose roles' separate
// flag tells the operator bootstrap installed which roles to leave to
// their Deployments.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	deployfile "github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Intervals at which a reconcile looks again.
const (
	// pollWhileRolling: pods that cannot pull or keep crashing, and the
	// leases, are read rather than watched.
	pollWhileRolling = 5 * time.Second
	// pollWhenReady catches drift (a Service pointed elsewhere by hand).
	pollWhenReady = 5 * time.Minute
)

// Reconciler deploys the roles of one ConfigRepository's deployment file.
type Reconciler struct {
	// Client is the manager's client; Deployments and Services of the
	// namespace are cached.
	Client client.Client
	// APIReader reads the operator's own Deployment, pods and leases.
	APIReader client.Reader
	// Key is the ConfigRepository whose deployment file is applied, in
	// whose namespace the roles are deployed.
	Key types.NamespacedName
	// Store holds its applied configuration.
	Store *snapshot.Store
	// Template names the operator's own Deployment, in Key's namespace,
	// that the roles' Deployments are made from.
	Template string
	// PublicServices are the Services that carry a serving role's traffic
	// (hook: bowline-hook, web: bowline-web): pointed at the role's pods
	// once they passed the checks, at the operator's otherwise.
	PublicServices map[string]string
	// Prober pings the hook role's new pods.
	Prober Prober
	// Recorder emits Events on the ConfigRepository.
	Recorder events.EventRecorder
	// Metrics counts rollouts; nil records none.
	Metrics *Metrics
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// SetupWithManager watches the ConfigRepository, the applied snapshot, the
// roles' Deployments and the public Services.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	toKey := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: r.Key}}
	})
	inNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == r.Key.Namespace })
	ours := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetLabels()[LabelManagedBy] == ManagedBy })
	public := predicate.NewPredicateFuncs(func(o client.Object) bool {
		for _, name := range r.PublicServices {
			if o.GetName() == name {
				return true
			}
		}
		return o.GetLabels()[LabelManagedBy] == ManagedBy
	})
	snapshots := source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		ch := r.Store.Subscribe(ctx)
		go func() {
			for range ch {
				q.Add(reconcile.Request{NamespacedName: r.Key})
			}
		}()
		return nil
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("deploy").
		For(&v1alpha1.ConfigRepository{}, builder.WithPredicates(
			predicate.NewPredicateFuncs(func(o client.Object) bool { return client.ObjectKeyFromObject(o) == r.Key }),
			predicate.Or[client.Object](predicate.GenerationChangedPredicate{}, deploymentStatusChanged()))).
		Watches(&appsv1.Deployment{}, toKey, builder.WithPredicates(inNamespace, ours)).
		Watches(&corev1.Service{}, toKey, builder.WithPredicates(inNamespace, public)).
		WatchesRawSource(snapshots).
		Complete(r)
}

// scope is what one reconcile saw and decided.
type scope struct {
	obj      *v1alpha1.ConfigRepository
	now      time.Time
	revision string
	file     *deployfile.Config
	template *appsv1.Deployment
	deps     map[string]*appsv1.Deployment
	// roles are the status entries, in rollout order.
	roles []v1alpha1.DeployedRole
	// requeue is when to look again.
	requeue time.Duration
	// rolledBack names a role rolled back by this reconcile, with why.
	rolledBack, rolledBackWhy string
}

// Reconcile moves the deployment one step towards the applied revision's
// file and reports where it stands.
//
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=services,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=create;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if req.NamespacedName != r.Key {
		return ctrl.Result{}, nil
	}
	obj := &v1alpha1.ConfigRepository{}
	if err := r.Client.Get(ctx, r.Key, obj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	snap := r.Store.Current()
	if snap == nil || snap.Config == nil {
		// Nothing applied yet: the next snapshot wakes this up.
		return ctrl.Result{}, nil
	}
	sc := &scope{obj: obj, now: r.now(), revision: snap.Revision, file: snap.Config.Deploy, deps: map[string]*appsv1.Deployment{}}
	err := r.step(ctx, sc)
	if serr := r.report(ctx, sc, err); serr != nil {
		return ctrl.Result{}, errors.Join(err, serr)
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: sc.requeue}, nil
}

// step reads the operator's Deployment and the roles', and takes the one
// action the first unsettled role needs.
func (r *Reconciler) step(ctx context.Context, sc *scope) error {
	ns := r.Key.Namespace
	tmpl := &appsv1.Deployment{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: r.Template}, tmpl); err != nil {
		if apierrors.IsNotFound(err) {
			sc.requeue = time.Minute
			return nil
		}
		return fmt.Errorf("get the operator's Deployment %s/%s: %w", ns, r.Template, err)
	}
	sc.template = tmpl
	var list appsv1.DeploymentList
	if err := r.Client.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{LabelManagedBy: ManagedBy}); err != nil {
		return fmt.Errorf("list the roles' Deployments: %w", err)
	}
	for i := range list.Items {
		d := &list.Items[i]
		if role := d.Labels[LabelComponent]; d.Name == DeploymentName(role) {
			sc.deps[role] = d
		}
	}
	sc.requeue = pollWhenReady
	held := ""
	for _, role := range deployfile.Roles {
		if held != "" {
			if d := sc.deps[role]; d != nil {
				sc.roles = append(sc.roles, r.entry(sc, role, v1alpha1.RoleHeld, "held at what it runs: "+held+" did not roll out"))
			}
			continue
		}
		done, err := r.role(ctx, sc, role)
		if err != nil || !done {
			return err
		}
		if e := lastEntry(sc, role); e != nil && e.State == v1alpha1.RoleRolledBack {
			held = role
		}
	}
	return nil
}

// role settles one role, or takes the action it needs; done is false when
// the rollout waits on this role (later roles are left alone meanwhile).
func (r *Reconciler) role(ctx context.Context, sc *scope, role string) (done bool, err error) {
	d := sc.deps[role]
	var want Settings
	inFile := false
	if sc.file != nil {
		want, inFile = SettingsFrom(sc.file, role)
	}
	if !inFile {
		return r.remove(ctx, sc, role, d)
	}
	rendered, err := Render(sc.template, r.Key.Namespace, role, want, r.PublicServices[deployfile.RoleHook])
	if err != nil {
		return false, err
	}
	hash := Hash(rendered)
	if f := readRecord(d, AnnotationFailed); f != nil && f.Hash == hash {
		sc.roles = append(sc.roles, r.entry(sc, role, v1alpha1.RoleRolledBack, "rolled back: "+f.Reason))
		return true, nil
	}
	if d != nil && d.Annotations[AnnotationRemoving] == "true" {
		// Back in the file before it was gone: it stays.
		if err := r.patchAnnotation(ctx, d, AnnotationRemoving, nil); err != nil {
			return false, err
		}
	}
	if d == nil || d.Annotations[AnnotationHash] != hash {
		ann := carry(d, AnnotationHealthy)
		ann[AnnotationHash], ann[AnnotationRevision], ann[AnnotationAppliedAt] = hash, sc.revision, sc.now.UTC().Format(time.RFC3339)
		if err := r.apply(ctx, rendered, ann); err != nil {
			return false, err
		}
		sc.deps[role] = rendered
		sc.roles = append(sc.roles, r.entry(sc, role, v1alpha1.RoleProgressing, "applied the settings of revision "+sc.revision))
		sc.requeue = pollWhileRolling
		ctrl.LoggerFrom(ctx).Info("Rolling out a role", "role", role, "revision", sc.revision, "image", want.Image)
		return false, nil
	}
	return r.rollOut(ctx, sc, role, d, rendered, want, hash)
}

// rollOut follows a role whose Deployment has the wanted spec: its rollout,
// then its checks, then the handover and the healthy record.
func (r *Reconciler) rollOut(ctx context.Context, sc *scope, role string, d, rendered *appsv1.Deployment, want Settings, hash string) (bool, error) {
	wait := func(msg string) (bool, error) {
		sc.roles = append(sc.roles, r.entry(sc, role, v1alpha1.RoleProgressing, msg))
		sc.requeue = pollWhileRolling
		return false, nil
	}
	at, ok := completeAt(d, hash)
	if !ok {
		applied, _ := time.Parse(time.RFC3339, d.Annotations[AnnotationAppliedAt])
		pods, err := r.pods(ctx, role)
		if err != nil {
			return false, err
		}
		p := rolloutOf(d, pods, applied.Add(-time.Second))
		switch {
		case p.failed != "":
			return false, r.rollback(ctx, sc, role, d, want, hash, p.failed)
		case !p.complete:
			return wait("rolling out: " + p.waiting)
		}
		return false, r.annotate(ctx, sc, d, rendered, AnnotationCompleteAt, hash+" "+sc.now.UTC().Format(time.RFC3339))
	}
	deadline := at.Add(time.Duration(want.ProgressDeadlineSeconds) * time.Second)
	if d.Annotations[AnnotationChecked] != hash {
		if role == deployfile.RoleHook && r.Prober != nil {
			if err := r.Prober.Ping(ctx, types.NamespacedName{Namespace: r.Key.Namespace, Name: PodsServiceName(role)}); err != nil {
				if sc.now.After(deadline) {
					return false, r.rollback(ctx, sc, role, d, want, hash, "the new hook pods did not answer a signed ping: "+err.Error())
				}
				return wait("waiting for the new hook pods to answer a signed ping: " + err.Error())
			}
		}
		return false, r.annotate(ctx, sc, d, rendered, AnnotationChecked, hash)
	}
	// The role runs here alone now (separate): traffic or the lease
	// follows.
	if Serves(role) {
		if name := r.PublicServices[role]; name != "" {
			moved, err := r.pointService(ctx, name, Selector(role))
			if err != nil || moved {
				sc.roles = append(sc.roles, r.entry(sc, role, v1alpha1.RoleProgressing, "pointed Service "+name+" at the new pods"))
				return false, err
			}
		}
	} else {
		pods, err := r.pods(ctx, role)
		if err != nil {
			return false, err
		}
		lease, err := r.lease(ctx, role)
		if err != nil {
			return false, err
		}
		if holder, ok := leaderAmong(lease, pods, sc.now); !ok {
			msg := fmt.Sprintf("no pod of %s holds the lease %s (held by %q)", DeploymentName(role), deployfile.LeaseName(role), holder)
			if sc.now.After(deadline) {
				return false, r.rollback(ctx, sc, role, d, want, hash, msg+" within the progress deadline")
			}
			sc.requeue = 2 * time.Second
			return wait("waiting for a new pod to take the role's lease: " + msg)
		}
	}
	if h := readRecord(d, AnnotationHealthy); h == nil || h.Hash != hash {
		rec := &record{Hash: hash, Revision: sc.revision, Settings: &want}
		if err := r.annotate(ctx, sc, d, rendered, AnnotationHealthy, rec.encode()); err != nil {
			return false, err
		}
		r.Metrics.rollout(role, "succeeded")
		ctrl.LoggerFrom(ctx).Info("Rolled out a role", "role", role, "revision", sc.revision, "image", want.Image)
	}
	sc.roles = append(sc.roles, r.entry(sc, role, v1alpha1.RoleReady, ""))
	return true, nil
}

// rollback returns a role to its last healthy settings, or, if it never
// had any, scales its Deployment to zero (the operator's own Deployment
// keeps running it), and records the failed settings so that they are not
// tried again.
func (r *Reconciler) rollback(ctx context.Context, sc *scope, role string, d *appsv1.Deployment, want Settings, hash, why string) error {
	failed := &record{Hash: hash, Revision: sc.revision, Reason: why}
	ann := carry(d, AnnotationHealthy)
	ann[AnnotationFailed] = failed.encode()
	ann[AnnotationRevision], ann[AnnotationAppliedAt] = sc.revision, sc.now.UTC().Format(time.RFC3339)
	var back Settings
	if h := readRecord(d, AnnotationHealthy); h != nil && h.Settings != nil {
		back = *h.Settings
		ann[AnnotationRevision] = h.Revision
	} else {
		back = want
		back.Replicas = 0
	}
	rendered, err := Render(sc.template, r.Key.Namespace, role, back, r.PublicServices[deployfile.RoleHook])
	if err != nil {
		return err
	}
	ann[AnnotationHash] = Hash(rendered)
	if back.Replicas > 0 {
		// Rolled back to settings that passed the checks.
		ann[AnnotationChecked] = ann[AnnotationHash]
	}
	if err := r.apply(ctx, rendered, ann); err != nil {
		return err
	}
	sc.deps[role] = rendered
	sc.rolledBack, sc.rolledBackWhy = role, why
	sc.roles = append(sc.roles, r.entry(sc, role, v1alpha1.RoleRolledBack, "rolled back: "+why))
	r.Metrics.rollout(role, "rolled_back")
	ctrl.LoggerFrom(ctx).Info("Rolled a role back", "role", role, "revision", sc.revision, "reason", why)
	return nil
}

// remove returns a role that left the file to the operator's own
// Deployment: first it is no longer separate (the operator takes it up
// again), then its traffic goes back, then its Deployment is deleted.
func (r *Reconciler) remove(ctx context.Context, sc *scope, role string, d *appsv1.Deployment) (bool, error) {
	if d == nil {
		return true, r.deleteCompanions(ctx, role)
	}
	if d.Annotations[AnnotationRemoving] != "true" {
		v := "true"
		if err := r.patchAnnotation(ctx, d, AnnotationRemoving, &v); err != nil {
			return false, err
		}
		sc.roles = append(sc.roles, r.entry(sc, role, v1alpha1.RoleRemoving, "returning to "+r.Template))
		sc.requeue = pollWhileRolling
		return false, nil
	}
	if name := r.PublicServices[role]; Serves(role) && name != "" {
		moved, err := r.pointService(ctx, name, sc.template.Spec.Selector.MatchLabels)
		if err != nil || moved {
			sc.roles = append(sc.roles, r.entry(sc, role, v1alpha1.RoleRemoving, "pointed Service "+name+" back at "+r.Template))
			sc.requeue = pollWhileRolling
			return false, err
		}
	}
	if err := r.Client.Delete(ctx, d); client.IgnoreNotFound(err) != nil {
		return false, fmt.Errorf("delete Deployment %s: %w", d.Name, err)
	}
	delete(sc.deps, role)
	ctrl.LoggerFrom(ctx).Info("Returned a role to the operator's own Deployment", "role", role, "operator", r.Template)
	return true, r.deleteCompanions(ctx, role)
}

// apply server-side applies a role's Deployment with ann, its
// PodDisruptionBudget, and a serving role's own Service.
func (r *Reconciler) apply(ctx context.Context, d *appsv1.Deployment, ann map[string]string) error {
	d.Annotations = ann
	if err := applyObject(ctx, r.Client, d); err != nil {
		return fmt.Errorf("apply Deployment %s: %w", d.Name, err)
	}
	role := d.Labels[LabelComponent]
	if err := applyObject(ctx, r.Client, DisruptionBudget(d.Namespace, role)); err != nil {
		return fmt.Errorf("apply PodDisruptionBudget %s: %w", d.Name, err)
	}
	if Serves(role) {
		if err := applyObject(ctx, r.Client, PodsService(d.Namespace, role)); err != nil {
			return fmt.Errorf("apply Service %s: %w", PodsServiceName(role), err)
		}
	}
	return nil
}

// annotate applies the Deployment again, its spec unchanged, with one
// annotation set.
func (r *Reconciler) annotate(ctx context.Context, sc *scope, d, rendered *appsv1.Deployment, key, value string) error {
	ann := map[string]string{}
	for k, v := range d.Annotations {
		if strings.HasPrefix(k, "deploy.bowline.dev/") {
			ann[k] = v
		}
	}
	ann[key] = value
	out := rendered.DeepCopy()
	if err := r.apply(ctx, out, ann); err != nil {
		return err
	}
	sc.deps[d.Labels[LabelComponent]] = out
	return nil
}

// patchAnnotation sets (nil: removes) one annotation of d, leaving its
// spec alone: for a role that left the file, whose settings are gone.
func (r *Reconciler) patchAnnotation(ctx context.Context, d *appsv1.Deployment, key string, value *string) error {
	patch := client.MergeFrom(d.DeepCopy())
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	if value == nil {
		delete(d.Annotations, key)
	} else {
		d.Annotations[key] = *value
	}
	if err := r.Client.Patch(ctx, d, patch); err != nil {
		return fmt.Errorf("annotate Deployment %s: %w", d.Name, err)
	}
	return nil
}

// carry copies the given annotations of d, when set.
func carry(d *appsv1.Deployment, keys ...string) map[string]string {
	out := map[string]string{}
	if d == nil {
		return out
	}
	for _, k := range keys {
		if v, ok := d.Annotations[k]; ok {
			out[k] = v
		}
	}
	return out
}

// pointService makes a public Service select pods by sel; moved says it
// changed. A missing Service (an install without it) is left alone.
func (r *Reconciler) pointService(ctx context.Context, name string, sel map[string]string) (bool, error) {
	svc := &corev1.Service{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: r.Key.Namespace, Name: name}, svc); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if equalMaps(svc.Spec.Selector, sel) {
		return false, nil
	}
	u := &corev1.Service{}
	u.APIVersion, u.Kind = "v1", "Service"
	u.Name, u.Namespace = name, r.Key.Namespace
	u.Spec.Selector = sel
	if err := applyObject(ctx, r.Client, u); err != nil {
		return false, fmt.Errorf("point Service %s at %v: %w", name, sel, err)
	}
	ctrl.LoggerFrom(ctx).Info("Pointed a Service at other pods", "service", name, "selector", sel)
	return true, nil
}

// deleteCompanions deletes what a role's Deployment had beside it: its
// PodDisruptionBudget and a serving role's own Service.
func (r *Reconciler) deleteCompanions(ctx context.Context, role string) error {
	pdb := &policyv1.PodDisruptionBudget{}
	pdb.Name, pdb.Namespace = DeploymentName(role), r.Key.Namespace
	if err := r.Client.Delete(ctx, pdb); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete PodDisruptionBudget %s: %w", pdb.Name, err)
	}
	if !Serves(role) {
		return nil
	}
	svc := &corev1.Service{}
	svc.Name, svc.Namespace = PodsServiceName(role), r.Key.Namespace
	if err := r.Client.Delete(ctx, svc); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete Service %s: %w", svc.Name, err)
	}
	return nil
}

// pods lists a role's pods.
func (r *Reconciler) pods(ctx context.Context, role string) ([]corev1.Pod, error) {
	var list corev1.PodList
	if err := r.APIReader.List(ctx, &list, client.InNamespace(r.Key.Namespace), client.MatchingLabels(Selector(role))); err != nil {
		return nil, fmt.Errorf("list the pods of %s: %w", DeploymentName(role), err)
	}
	return list.Items, nil
}

// lease reads a role's lease; nil when there is none yet.
func (r *Reconciler) lease(ctx context.Context, role string) (*coordinationv1.Lease, error) {
	l := &coordinationv1.Lease{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: r.Key.Namespace, Name: deployfile.LeaseName(role)}, l)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get lease %s: %w", deployfile.LeaseName(role), err)
	}
	return l, nil
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func lastEntry(sc *scope, role string) *v1alpha1.DeployedRole {
	for i := len(sc.roles) - 1; i >= 0; i-- {
		if sc.roles[i].Name == role {
			return &sc.roles[i]
		}
	}
	return nil
}

// deploymentStatusChanged passes ConfigRepository updates that change
// what this reconciler reports, so that a status patch of another writer
// that lost its report (a stale copy) is corrected.
func deploymentStatusChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*v1alpha1.ConfigRepository)
			n, ok2 := e.ObjectNew.(*v1alpha1.ConfigRepository)
			if !ok1 || !ok2 {
				return false
			}
			return !sameReport(o, n)
		},
	}
}
