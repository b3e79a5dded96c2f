package configrepo

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// scope is what the phases of one reconcile learn and hand on. Phases fill
// it; only finish writes status.
type scope struct {
	obj   *v1alpha1.ConfigRepository
	store *snapshot.Store
	start time.Time
	out   outcome

	// revision is the fetched revision.
	revision   string
	commitTime time.Time
	files      fs.FS
	// unchanged: the fetched revision is the applied (or the known-invalid)
	// one and nothing else changed, so there is nothing to load.
	unchanged bool
	// validated: this reconcile ran the loader, so its errors replace
	// status.validationErrors.
	validated bool
	set       *configset.Set
	ref       *v1alpha1.SnapshotReference
	// phases records how long each phase took, for the reconcile's log line.
	phases []any
	// deployFiles counts the fetched revision's files under paths.deploy;
	// deployCounted says it was counted.
	deployFiles   int
	deployCounted bool
}

// timed runs phase and records its duration under name.
func (sc *scope) timed(name string, phase func() error) error {
	start := time.Now()
	err := phase()
	sc.phases = append(sc.phases, name, time.Since(start).Round(time.Millisecond).String())
	return err
}

// restore refills this process's Store from the published snapshot when it
// lacks the applied revision (after a restart), so that the last good
// revision is served even if the newest one turns out invalid. A failure
// is logged, not fatal: a valid new revision will publish afresh.
func (r *Reconciler) restore(ctx context.Context, sc *scope) {
	ref := sc.obj.Status.Snapshot
	if ref == nil {
		return
	}
	if cur := sc.store.Current(); cur != nil && cur.Digest == ref.Digest {
		return
	}
	snap, err := snapshot.Restore(ctx, r.Publisher, sc.obj, r.now())
	if err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Cannot restore the published snapshot", "digest", ref.Digest)
		return
	}
	sc.store.Set(snap)
}

// fetch brings the cache repository up to date and reads the configured
// paths of the revision spec.ref names.
func (r *Reconciler) fetch(ctx context.Context, sc *scope) error {
	obj := sc.obj
	secret, err := r.secret(ctx, obj)
	if err != nil {
		sc.out.Failure, sc.out.Detail = v1alpha1.ReasonAuthenticationFailed, err.Error()
		return err
	}
	auth, err := authFor(obj.Spec.URL, secret, r.cacheDir(obj)+".known_hosts")
	if err != nil {
		err = fmt.Errorf("secret %s: %w", obj.Spec.SecretRef.Name, err)
		sc.out.Failure, sc.out.Detail = v1alpha1.ReasonAuthenticationFailed, err.Error()
		return err
	}
	repo, commit, rev, err := fetchRevision(ctx, r.cacheDir(obj), &obj.Spec, auth)
	if err != nil {
		sc.out.Failure, sc.out.Detail = v1alpha1.ReasonFetchFailed, err.Error()
		return err
	}
	sc.revision, sc.commitTime = rev, commit.Committer.When
	sc.out.Attempted = rev
	if n, err := countFiles(commit, snapshot.WithDefaults(obj.Spec.Paths).Deploy); err == nil {
		sc.deployFiles, sc.deployCounted = n, true
	}

	st := &obj.Status
	current := st.ObservedGeneration == obj.Generation
	if current && rev == st.LastAppliedRevision && st.Snapshot != nil {
		cur := sc.store.Current()
		ok, err := r.Publisher.Exists(ctx, obj, st.Snapshot)
		if err != nil {
			sc.out.Failure, sc.out.Detail = v1alpha1.ReasonPublishFailed, err.Error()
			return err
		}
		if ok && cur != nil && cur.Digest == st.Snapshot.Digest {
			sc.unchanged, sc.ref = true, st.Snapshot
			r.Metrics.setAppliedCommitTime(obj.Namespace, obj.Name, sc.commitTime)
			return nil
		}
	}
	if current && rev == st.LastAttemptedRevision && rev != st.LastAppliedRevision && len(st.ValidationErrors) > 0 {
		// Known invalid: validating the same files again would say the same.
		sc.unchanged = true
		sc.out.Failure, sc.out.Errors = v1alpha1.ReasonValidationFailed, st.ValidationErrors
		if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady); c != nil && c.Reason == v1alpha1.ReasonValidationFailed {
			sc.out.Detail = c.Message
		}
		return nil
	}
	cache, _ := r.blobs.Load(obj.UID)
	prev, _ := cache.(BlobCache)
	files, next, err := readTree(repo, commit, snapshot.LoadPaths(obj.Spec.Paths), prev, r.Limits)
	if tooLarge, ok := TooLarge(err); ok {
		// Not transient: the revision itself is over a limit.
		sc.out.Failure, sc.out.Errors, sc.validated = v1alpha1.ReasonValidationFailed, []string{tooLarge}, true
		return nil
	}
	if err != nil {
		sc.out.Failure, sc.out.Detail = v1alpha1.ReasonFetchFailed, err.Error()
		return fmt.Errorf("read revision %s: %w", rev, err)
	}
	r.blobs.Store(obj.UID, next)
	sc.files = files
	return nil
}

// secret returns the Secret spec.secretRef names, or nil without one.
func (r *Reconciler) secret(ctx context.Context, obj *v1alpha1.ConfigRepository) (*corev1.Secret, error) {
	if obj.Spec.SecretRef == nil {
		return nil, nil
	}
	s := &corev1.Secret{}
	key := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Spec.SecretRef.Name}
	if err := r.APIReader.Get(ctx, key, s); err != nil {
		return nil, fmt.Errorf("get secret %s: %w", key.Name, err)
	}
	return s, nil
}

// validate loads and validates every configuration file of the revision,
// with Validate, which the review of pull requests shares. An invalid
// revision is an outcome, not an error: the reconcile ends Stalled and
// polls on.
func (r *Reconciler) validate(ctx context.Context, sc *scope) error {
	v, err := Validate(ctx, sc.files, &sc.obj.Spec, r.Check)
	sc.validated = true
	if err != nil {
		sc.out.Failure, sc.out.Detail = v1alpha1.ReasonFetchFailed, "validation did not finish in time"
		return fmt.Errorf("validate %s: %w", sc.revision, err)
	}
	sc.out.Warnings = lines(v.Warnings)
	if !v.Valid() {
		sc.out.Failure, sc.out.Errors = v1alpha1.ReasonValidationFailed, v.Lines()
		return nil
	}
	sc.set = v.Set
	return nil
}

// lines formats the loader's problems, one file:line:col: message each.
func lines(list []configset.Error) []string {
	out := make([]string, 0, len(list))
	for _, e := range list {
		out = append(out, e.String())
	}
	return out
}

// publish packs the files the loader read and stores them as the
// ConfigRepository's snapshot, unless that exact content is already there.
func (r *Reconciler) publish(ctx context.Context, sc *scope) error {
	a, err := snapshot.Pack(sc.files, sc.set.Files, sc.obj.Spec.Paths)
	if err != nil {
		sc.out.Failure, sc.out.Detail = v1alpha1.ReasonPublishFailed, err.Error()
		return err
	}
	if prev := sc.obj.Status.Snapshot; prev != nil && prev.Digest == a.Digest {
		ok, err := r.Publisher.Exists(ctx, sc.obj, prev)
		if err == nil && ok {
			ref := *prev
			ref.Revision = sc.revision
			sc.ref = &ref
			return nil
		}
	}
	ref, err := r.Publisher.Publish(ctx, sc.obj, sc.revision, a, metav1.NewTime(r.now()))
	if err != nil {
		sc.out.Failure, sc.out.Detail = v1alpha1.ReasonPublishFailed, "publish snapshot: "+err.Error()
		return err
	}
	sc.ref = ref
	return nil
}

// apply switches this process's Store to the new revision and records it
// as applied.
func (r *Reconciler) apply(sc *scope) {
	now := r.now()
	sc.store.Set(&snapshot.Snapshot{Revision: sc.revision, Digest: sc.ref.Digest, Config: sc.set, LoadedAt: now})
	obj := sc.obj
	newly := obj.Status.LastAppliedRevision != sc.revision
	s := sc.set.Summary()
	sum := &v1alpha1.ConfigSummary{
		Presubmits: int32(s.Presubmits), Postsubmits: int32(s.Postsubmits), Periodics: int32(s.Periodics),
		Repositories: int32(s.Repositories), Plugins: int32(s.Plugins),
	}
	obj.Status.Snapshot = sc.ref
	obj.Status.LastAppliedRevision = sc.revision
	obj.Status.Summary = sum
	sc.out.Applied, sc.out.NewlyApplied, sc.out.Summary = sc.revision, newly, sum
	if newly {
		r.Metrics.observeApplied(obj.Namespace, obj.Name, sc.commitTime, now)
	} else {
		r.Metrics.setAppliedCommitTime(obj.Namespace, obj.Name, sc.commitTime)
	}
}

// prune deletes snapshots other than the applied one and the one applied
// before this reconcile: followers may still be reading the latter until
// the status naming the new one is written.
func (r *Reconciler) prune(ctx context.Context, sc *scope, orig *v1alpha1.ConfigRepository) error {
	keep := []string{}
	if sc.ref != nil {
		keep = append(keep, sc.ref.Digest)
	}
	if orig.Status.Snapshot != nil {
		keep = append(keep, orig.Status.Snapshot.Digest)
	}
	if len(keep) == 0 {
		return nil
	}
	if err := r.Publisher.Prune(ctx, sc.obj, keep...); err != nil {
		sc.out.Failure, sc.out.Detail = v1alpha1.ReasonPublishFailed, err.Error()
		return err
	}
	return nil
}
