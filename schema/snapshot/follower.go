package snapshot

import (
	"context"
	"time"

	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Follower keeps the Stores of a process that does not run the
// ConfigRepository reconciler (the webhook server, the web UI) equal to what
// the reconciler published: when a ConfigRepository's status.snapshot names
// a new digest, it reads the chunks, verifies the digest, loads the files
// without validating them again and switches the Store. Every replica
// follows, leader or not.
type Follower struct {
	// Client reads ConfigRepositories (a cached client is right).
	Client client.Client
	// Publisher reads the chunks.
	Publisher *Publisher
	// Stores receives the snapshots.
	Stores *Stores
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Paused reports whether someone else fills the Stores for now: in a
	// process that also runs the ConfigRepository reconciler, the
	// reconciler does once this replica is the leader, and a Follower only
	// covers the standby time. Nil means never paused.
	Paused func() bool
}

// SetupWithManager registers the Follower with mgr. name distinguishes
// several followers in one process (tests).
func (f *Follower) SetupWithManager(mgr ctrl.Manager, name string) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		For(&v1alpha1.ConfigRepository{}, builder.WithPredicates(snapshotChanged())).
		WithOptions(controller.Options{NeedLeaderElection: ptr.To(false)}).
		Complete(f)
}

// Reconcile loads the published snapshot of one ConfigRepository when it
// differs from the one in its Store.
func (f *Follower) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if f.Paused != nil && f.Paused() {
		return ctrl.Result{}, nil
	}
	store := f.Stores.For(req.NamespacedName)
	repo := &v1alpha1.ConfigRepository{}
	if err := f.Client.Get(ctx, req.NamespacedName, repo); err != nil {
		if client.IgnoreNotFound(err) == nil {
			store.Set(nil)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ref := repo.Status.Snapshot
	if !repo.DeletionTimestamp.IsZero() || ref == nil {
		return ctrl.Result{}, nil
	}
	if cur := store.Current(); cur != nil && cur.Digest == ref.Digest {
		if cur.Revision != ref.Revision {
			// Same files, newer commit: no need to load again.
			next := *cur
			next.Revision = ref.Revision
			store.Set(&next)
		}
		return ctrl.Result{}, nil
	}
	snap, err := Restore(ctx, f.Publisher, repo, f.now())
	if err != nil {
		// The reconciler may be mid-way through publishing; retry with backoff.
		return ctrl.Result{}, err
	}
	store.Set(snap)
	ctrl.LoggerFrom(ctx).Info("Loaded snapshot", "revision", snap.Revision, "digest", snap.Digest)
	return ctrl.Result{}, nil
}

func (f *Follower) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// snapshotChanged passes creates, deletes and updates that change
// status.snapshot.
func snapshotChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*v1alpha1.ConfigRepository)
			n, ok2 := e.ObjectNew.(*v1alpha1.ConfigRepository)
			if !ok1 || !ok2 {
				return true
			}
			return ptr.Deref(o.Status.Snapshot, v1alpha1.SnapshotReference{}).Digest != ptr.Deref(n.Status.Snapshot, v1alpha1.SnapshotReference{}).Digest ||
				ptr.Deref(o.Status.Snapshot, v1alpha1.SnapshotReference{}).Revision != ptr.Deref(n.Status.Snapshot, v1alpha1.SnapshotReference{}).Revision ||
				!n.DeletionTimestamp.IsZero()
		},
	}
}
