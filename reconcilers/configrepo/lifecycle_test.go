package configrepo

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func setSpec(t *testing.T, key types.NamespacedName, change func(*v1alpha1.ConfigRepository)) {
	t.Helper()
	eventually(t, 10*time.Second, func(g Gomega) {
		r := get(g, key)
		change(r)
		g.Expect(env.Client.Update(context.Background(), r)).To(Succeed())
	})
}

// TestRefs follows a tag and a commit, over file:// and a plain path, and
// re-applies on each spec change with the Ready condition naming the new
// generation (what `kubectl wait --for=condition=Ready` relies on).
func TestRefs(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "config", validConfig("1"))
	if err := f.store.SetRef(context.Background(), owner, "config", "refs/tags/v1", sha1, false); err != nil {
		t.Fatal(err)
	}
	sha2 := f.push(t, "config", validConfig("2"))
	startOperator(t, ns, t.TempDir())

	tagged := newRepo(t, ns, "tagged", "file://"+f.path("config"), withRef(v1alpha1.GitRef{Tag: "v1"}))
	pinned := newRepo(t, ns, "pinned", f.path("config"), withRef(v1alpha1.GitRef{Commit: sha1}))
	eventually(t, 30*time.Second, func(g Gomega) {
		readyAt(g, get(g, tagged), "v1@sha1:"+sha1)
		readyAt(g, get(g, pinned), "sha1:"+sha1)
	})

	// Changing the ref is a new generation, applied without a request.
	setSpec(t, pinned, func(r *v1alpha1.ConfigRepository) { r.Spec.Ref = &v1alpha1.GitRef{Commit: sha2} })
	setSpec(t, tagged, func(r *v1alpha1.ConfigRepository) { r.Spec.Ref = &v1alpha1.GitRef{Branch: "main"} })
	eventually(t, 30*time.Second, func(g Gomega) {
		p := get(g, pinned)
		g.Expect(p.Generation).To(BeNumerically(">", 1))
		readyAt(g, p, "sha1:"+sha2)
		readyAt(g, get(g, tagged), rev(sha2))
	})

	// A ref that does not exist is a fetch failure, not a stall.
	setSpec(t, tagged, func(r *v1alpha1.ConfigRepository) { r.Spec.Ref = &v1alpha1.GitRef{Branch: "nope"} })
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, tagged)
		ready := condition(r, v1alpha1.ConditionReady)
		g.Expect(ready.Reason).To(Equal(v1alpha1.ReasonFetchFailed))
		g.Expect(ready.ObservedGeneration).To(Equal(r.Generation))
		g.Expect(condition(r, v1alpha1.ConditionStalled)).To(BeNil())
		g.Expect(r.Status.ObservedGeneration).To(BeNumerically("<", r.Generation))
	})
}

// TestSuspendAndDelete stops reconciling while suspended, keeps serving,
// and removes everything published when the ConfigRepository is deleted.
func TestSuspendAndDelete(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "config", validConfig("1"))
	op := startOperator(t, ns, t.TempDir())
	other := startFollower(t, ns)
	key := newRepo(t, ns, "config", f.url("config"))
	eventually(t, 30*time.Second, func(g Gomega) {
		readyAt(g, get(g, key), rev(sha1))
		g.Expect(other.served(key)).To(Equal(rev(sha1)))
	})

	setSpec(t, key, func(r *v1alpha1.ConfigRepository) { r.Spec.Suspend = true })
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		ready := condition(r, v1alpha1.ConditionReady)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(v1alpha1.ReasonSuspended))
		g.Expect(ready.ObservedGeneration).To(Equal(r.Generation))
	})
	f.push(t, "config", validConfig("2"))
	asked := requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		g.Expect(r.Status.LastHandledReconcileAt).To(Equal(asked))
		g.Expect(r.Status.LastAppliedRevision).To(Equal(rev(sha1)))
		g.Expect(op.served(key)).To(Equal(rev(sha1)))
	})

	r := &v1alpha1.ConfigRepository{}
	r.Namespace, r.Name = key.Namespace, key.Name
	if err := env.Client.Delete(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func(g Gomega) {
		err := env.Client.Get(context.Background(), key, &v1alpha1.ConfigRepository{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "still there: %v", err)
		g.Expect(snapshotConfigMaps(g, ns)).To(BeEmpty())
		g.Expect(op.served(key)).To(BeEmpty())
		g.Expect(other.served(key)).To(BeEmpty())
	})
}

// TestPathsChangeWhileStopped edits spec.paths to an invalid location while
// the operator is down: the restarted operator restores the last good
// revision with the paths it was validated with, and stalls on the new
// ones.
func TestPathsChangeWhileStopped(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	files := validConfig("1")
	files["other/jobs/bad.yaml"] = invalidJobs()[jobFile]
	sha1 := f.create(t, "config", files)
	data := t.TempDir()
	op := startOperator(t, ns, data)
	key := newRepo(t, ns, "config", f.url("config"))
	eventually(t, 30*time.Second, func(g Gomega) { readyAt(g, get(g, key), rev(sha1)) })
	op.stop()

	setSpec(t, key, func(r *v1alpha1.ConfigRepository) { r.Spec.Paths.Jobs = "other/jobs" })
	op = startOperator(t, ns, data)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		stalled := condition(r, v1alpha1.ConditionStalled)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.ObservedGeneration).To(Equal(r.Generation))
		g.Expect(stalled.Message).To(ContainSubstring("other/jobs/bad.yaml:4:"))
		snap := op.stores.For(key).Current()
		g.Expect(snap).NotTo(BeNil())
		g.Expect(snap.Revision).To(Equal(rev(sha1)))
		g.Expect(snap.Config.Jobs.Periodics).To(HaveLen(1))
	})
}

// TestRevertToApplied moves the branch back to the applied revision after
// an invalid push: Ready again, with no errors left behind.
func TestRevertToApplied(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "config", validConfig("1"))
	startOperator(t, ns, t.TempDir())
	key := newRepo(t, ns, "config", f.url("config"))
	eventually(t, 30*time.Second, func(g Gomega) { readyAt(g, get(g, key), rev(sha1)) })

	f.push(t, "config", invalidJobs())
	requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		g.Expect(get(g, key).Status.ValidationErrors).NotTo(BeEmpty())
	})
	if err := f.store.SetRef(context.Background(), owner, "config", "refs/heads/main", sha1, true); err != nil {
		t.Fatal(err)
	}
	requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		readyAt(g, r, rev(sha1))
		g.Expect(condition(r, v1alpha1.ConditionStalled)).To(BeNil())
		g.Expect(r.Status.ValidationErrors).To(BeEmpty())
		g.Expect(r.Status.LastAttemptedRevision).To(Equal(rev(sha1)))
	})
}
