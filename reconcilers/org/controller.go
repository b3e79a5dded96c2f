package org

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// DefaultInterval is how often an org is synced when its spec says
// nothing.
const DefaultInterval = 15 * time.Minute

// Reconciler keeps each GitHubOrganization's org as its configuration
// says, within the safety limits of its spec.
type Reconciler struct {
	// Client reads GitHubOrganizations and writes their status and
	// baselines.
	Client client.Client
	// APIReader reads baselines, which are not worth an informer.
	APIReader client.Reader
	// GitHub returns the client to act on an org with.
	GitHub func(org string) (*github.Client, error)
	// Stores hold the applied configuration of each ConfigRepository.
	Stores *snapshot.Stores
	// Recorder records every change and every change of standing as
	// Events.
	Recorder events.EventRecorder
	// Metrics receives measurements; nil keeps them unregistered.
	Metrics *Metrics
	// MaxConcurrentReconciles bounds the orgs synced at once; default 2.
	MaxConcurrentReconciles int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	baselines *baselines
	requests  chan event.GenericEvent
}

// SetupWithManager registers the reconciler. Besides spec changes (and the
// bowline.dev/reconcile-requested-at annotation), Enqueue wakes an org, as
// a new revision does.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.init(mgr)
	return ctrl.NewControllerManagedBy(mgr).
		Named("githuborganization").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		For(&v1alpha1.GitHubOrganization{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		WatchesRawSource(source.Channel(r.requests, &handler.EnqueueRequestForObject{})).
		Complete(r)
}

func (r *Reconciler) init(mgr ctrl.Manager) {
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.MaxConcurrentReconciles <= 0 {
		r.MaxConcurrentReconciles = 2
	}
	if r.Metrics == nil {
		r.Metrics, _ = NewMetrics(nil)
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	r.baselines = &baselines{client: r.Client, reader: r.APIReader}
	r.requests = make(chan event.GenericEvent, 256)
}

// Enqueue asks for an org to be synced now.
func (r *Reconciler) Enqueue(ctx context.Context, o *v1alpha1.GitHubOrganization) {
	select {
	case r.requests <- event.GenericEvent{Object: o}:
	case <-ctx.Done():
	}
}

// Reconcile syncs one org and writes its status in one patch.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	o := &v1alpha1.GitHubOrganization{}
	if err := r.Client.Get(ctx, req.NamespacedName, o); err != nil {
		if client.IgnoreNotFound(err) == nil {
			r.Metrics.forget(req.Name)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := ctrl.LoggerFrom(ctx).WithValues("org", o.Spec.Org)
	ctx = ctrl.LoggerInto(ctx, log)
	orig := o.DeepCopy()
	defer func() {
		if retErr == nil {
			o.Status.ObservedGeneration = o.Generation
		}
		if equality.Semantic.DeepEqual(orig.Status, o.Status) {
			return
		}
		if err := r.Client.Status().Patch(ctx, o, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
			retErr = errors.Join(retErr, fmt.Errorf("patch the status of GitHubOrganization %s: %w", o.Name, err))
		}
	}()
	if o.Spec.Suspend {
		setWaiting(o, v1alpha1.ReasonSuspended, "spec.suspend is set: the org is left as it is.")
		return ctrl.Result{}, nil
	}
	key := types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.ConfigRepositoryRef.Name}
	snap := r.Stores.For(key).Current()
	if snap == nil || snap.Config == nil {
		setWaiting(o, v1alpha1.ReasonWaitingForConfig, fmt.Sprintf("ConfigRepository %s has no applied configuration yet.", key.Name))
		return ctrl.Result{RequeueAfter: time.Minute}, nil
	}
	d := plan.DesiredFor(snap.Config, o.Spec.Org, optionsFrom(o), r.Now())
	if d.Manage() == (plan.Parts{}) {
		setWaiting(o, v1alpha1.ReasonNotInConfig, fmt.Sprintf("The configuration of %s (%s) says nothing about org %s: no org config, branch protection or labels.",
			key.Name, snap.Revision, o.Spec.Org))
		return ctrl.Result{RequeueAfter: r.interval(o)}, nil
	}
	return r.sync(ctx, o, d, snap.Revision)
}

// sync reads, plans and applies, and records the outcome.
func (r *Reconciler) sync(ctx context.Context, o *v1alpha1.GitHubOrganization, d *plan.Desired, revision string) (ctrl.Result, error) {
	gh, err := r.GitHub(o.Spec.Org)
	if err != nil {
		setStatus(o, syncRecord{revision: revision, err: err, now: r.Now()})
		return ctrl.Result{}, err
	}
	baseline, err := r.baselines.load(ctx, o)
	if err != nil {
		return ctrl.Result{}, err
	}
	before := o.Status.DeepCopy()
	limitsEvent(r.Recorder, o, before.Safety)
	o.Status.Safety = o.Spec.Safety.DeepCopy()
	var changes changeLog
	start := r.Now()
	res, err := Sync(ctx, gh, SyncOptions{
		Desired:      d,
		Limits:       limitsFrom(o),
		Confirm:      o.Spec.Confirm,
		RevertDrift:  o.Spec.DriftPolicy == v1alpha1.DriftRevert,
		ApprovedPlan: o.Spec.Safety.ApprovedPlan,
		Baseline:     baseline,
		Done: func(c plan.Change, err error) {
			changes.add(c, err)
			r.Metrics.change(c, err)
		},
	})
	now := r.Now()
	r.Metrics.observe(o.Spec.Org, res, err, now.Sub(start), now)
	changes.record(r.Recorder, o)
	setStatus(o, syncRecord{revision: revision, res: res, err: err, now: now})
	if err != nil {
		return ctrl.Result{}, err
	}
	transitionEvents(r.Recorder, o, before)
	logSync(ctx, res, revision)
	switch res.Outcome {
	case OutcomeInSync, OutcomeApplied:
		// The org matches this configuration now (drift reported aside):
		// it is what later syncs tell drift from.
		if err := r.baselines.save(ctx, o, res.Plan.Index); err != nil {
			return ctrl.Result{}, err
		}
	case OutcomeApplyFailed:
		return ctrl.Result{}, fmt.Errorf("%d of %d changes to org %s failed: %w", res.Failed, res.Applied+res.Failed, o.Spec.Org, errors.Join(res.Errors...))
	}
	return ctrl.Result{RequeueAfter: r.interval(o)}, nil
}

func logSync(ctx context.Context, res *SyncResult, revision string) {
	log := ctrl.LoggerFrom(ctx)
	c := res.Plan.Counts()
	log.Info("Synced org", "revision", revision, "outcome", res.Outcome, "changes", c.Total(), "applied", res.Applied,
		"failed", res.Failed, "drift", c.Drift, "requests", res.Usage.Requests, "notModified", res.Usage.NotModified,
		"writes", res.Usage.Writes, "duration", res.Duration.String())
}

// interval is the spec's, with 5% jitter so that orgs do not sync in step.
func (r *Reconciler) interval(o *v1alpha1.GitHubOrganization) time.Duration {
	d := DefaultInterval
	if o.Spec.Interval != nil && o.Spec.Interval.Duration > 0 {
		d = o.Spec.Interval.Duration
	}
	return d + time.Duration(rand.Float64()*0.05*float64(d))
}

// optionsFrom maps the spec to the planner's options.
func optionsFrom(o *v1alpha1.GitHubOrganization) plan.Options {
	s := o.Spec
	opts := plan.Options{IgnoreSecretTeams: s.IgnoreSecretTeams, IgnoreInvitees: s.IgnoreInvitees,
		AllowRepoArchival: s.Safety.AllowRepoArchival, AllowRepoPublish: s.Safety.AllowRepoPublish, DeleteUnlistedLabels: s.DeleteUnlistedLabels}
	u := &opts.Unmanaged
	for _, p := range s.Unmanaged {
		switch p {
		case v1alpha1.OrgPartSettings:
			u.Settings = true
		case v1alpha1.OrgPartMembers:
			u.Members = true
		case v1alpha1.OrgPartTeams:
			u.Teams = true
		case v1alpha1.OrgPartTeamMembers:
			u.TeamMembers = true
		case v1alpha1.OrgPartTeamRepos:
			u.TeamRepos = true
		case v1alpha1.OrgPartRepos:
			u.Repos = true
		case v1alpha1.OrgPartCollaborators:
			u.Collaborators = true
		case v1alpha1.OrgPartBranchProtection:
			u.BranchProtection = true
		case v1alpha1.OrgPartLabels:
			u.Labels = true
		}
	}
	return opts
}

// limitsFrom maps the spec's safety to the planner's limits, with the
// CRD's defaults for what an older object leaves unset.
func limitsFrom(o *v1alpha1.GitHubOrganization) plan.Limits {
	s := o.Spec.Safety
	l := plan.Limits{MaxRemovalPercent: 25, MinAdmins: 2, RequireSelf: true, RequiredAdmins: s.RequiredAdmins}
	if s.MaxRemovalPercent != nil {
		l.MaxRemovalPercent = int(*s.MaxRemovalPercent)
	}
	if s.MinAdmins != nil {
		l.MinAdmins = int(*s.MinAdmins)
	}
	if s.RequireSelf != nil {
		l.RequireSelf = *s.RequireSelf
	}
	return l
}

// Name is the name of the GitHubOrganization the orgs role creates for an
// org: its login, lower-cased.
func Name(org string) string { return strings.ToLower(org) }
