package snapshot

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) { envtest.Main(m, &env) }

// configRepo creates a ConfigRepository to own snapshots.
func configRepo(t *testing.T, ns string) *v1alpha1.ConfigRepository {
	t.Helper()
	r := &v1alpha1.ConfigRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "config"},
		Spec:       v1alpha1.ConfigRepositorySpec{URL: "https://example.com/config.git"},
	}
	if err := env.Client.Create(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// bigConfig is a valid configuration whose archive takes several chunks of
// chunkSize when random-looking job names defeat compression.
func bigConfig(jobs int, tag string) (fstest.MapFS, []string) {
	var b strings.Builder
	b.WriteString("periodics:\n")
	for i := range jobs {
		b.WriteString("- name: periodic-" + tag + "-" + strings.Repeat(string(rune('a'+i%26)), 1+i%7) + "-" + itoa(i) + "\n  interval: 1h\n  spec:\n    containers:\n    - image: alpine\n      command: [\"true\"]\n")
	}
	files := fstest.MapFS{
		DefaultConfigPath:             {Data: []byte("prowjob_namespace: default\n")},
		DefaultJobsPath + "/big.yaml": {Data: []byte(b.String())},
	}
	return files, []string{DefaultConfigPath, DefaultJobsPath + "/big.yaml"}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestPublishFetchPrune(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	repo := configRepo(t, ns)
	p := &Publisher{Client: env.Client, Reader: env.Client, ChunkSize: 1 << 10}

	files, names := bigConfig(200, "one")
	a, err := Pack(files, names, v1alpha1.ConfigPaths{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	ref, err := p.Publish(ctx, repo, "main@sha1:1", a, now)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Chunks < 2 || int(ref.Chunks) != (len(a.Data)+1023)/1024 {
		t.Fatalf("%d bytes in %d chunks of 1 KiB", len(a.Data), ref.Chunks)
	}
	if ref.Digest != a.Digest || ref.Revision != "main@sha1:1" || ref.Size != a.Size {
		t.Errorf("reference %+v does not describe the archive", ref)
	}
	// Publishing again is a no-op for server-side apply.
	if _, err := p.Publish(ctx, repo, "main@sha1:1", a, now); err != nil {
		t.Fatalf("publish again: %v", err)
	}
	data, err := p.Fetch(ctx, repo, ref)
	if err != nil {
		t.Fatal(err)
	}
	if Digest(data) != a.Digest {
		t.Fatal("fetched data differs")
	}
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: ChunkName(repo.Name, a.Digest, 0)}, cm); err != nil {
		t.Fatal(err)
	}
	if !ptr.Deref(cm.Immutable, false) || len(cm.OwnerReferences) != 1 || cm.OwnerReferences[0].UID != repo.UID || cm.Labels[LabelConfigRepository] != string(repo.UID) {
		t.Errorf("chunk is not immutable and owned by its ConfigRepository: %+v", cm.ObjectMeta)
	}

	// A second snapshot; prune keeps only what it is told to keep.
	files2, names2 := bigConfig(10, "two")
	b, err := Pack(files2, names2, v1alpha1.ConfigPaths{})
	if err != nil {
		t.Fatal(err)
	}
	ref2, err := p.Publish(ctx, repo, "main@sha1:2", b, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Prune(ctx, repo, ref.Digest, ref2.Digest); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*v1alpha1.SnapshotReference{ref, ref2} {
		if ok, err := p.Exists(ctx, repo, r); err != nil || !ok {
			t.Errorf("Exists(%s) = %v, %v after pruning others", r.Revision, ok, err)
		}
	}
	if err := p.Prune(ctx, repo, ref2.Digest); err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Exists(ctx, repo, ref); err != nil || ok {
		t.Errorf("Exists(pruned) = %v, %v", ok, err)
	}
	if _, err := p.Fetch(ctx, repo, ref); err == nil {
		t.Error("Fetch of a pruned snapshot succeeded")
	}
	if err := p.Prune(ctx, repo); err != nil {
		t.Fatal(err)
	}
	list := &corev1.ConfigMapList{}
	if err := env.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, cm := range list.Items {
		if cm.Labels[LabelConfigRepository] != "" {
			t.Errorf("%s left after pruning everything", cm.Name)
		}
	}
}

func TestFetchVerifiesDigest(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	repo := configRepo(t, ns)
	p := &Publisher{Client: env.Client, Reader: env.Client, ChunkSize: 1 << 10}
	files, names := bigConfig(50, "x")
	a, err := Pack(files, names, v1alpha1.ConfigPaths{})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := p.Publish(ctx, repo, "main@sha1:1", a, metav1.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Replace one chunk with other bytes under the same name.
	cm := &corev1.ConfigMap{}
	key := types.NamespacedName{Namespace: ns, Name: ChunkName(repo.Name, a.Digest, int(ref.Chunks)-1)}
	if err := env.Client.Get(ctx, key, cm); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(ctx, cm); err != nil {
		t.Fatal(err)
	}
	cm.ResourceVersion, cm.UID = "", ""
	cm.BinaryData[dataKey] = []byte("tampered")
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fetch(ctx, repo, ref); err == nil || !strings.Contains(err.Error(), "digest") {
		t.Errorf("Fetch of a tampered snapshot = %v, want a digest mismatch", err)
	}
}

// TestFollower loads what status.snapshot names, in trusted mode, and
// follows it to the next digest.
func TestFollower(t *testing.T) {
	ctx := context.Background()
	ns := env.Namespace(t)
	repo := configRepo(t, ns)
	p := &Publisher{Client: env.Client, Reader: env.Client}
	stores := &Stores{}
	mgr := env.Manager(t, ns)
	f := &Follower{Client: mgr.GetClient(), Publisher: &Publisher{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}, Stores: stores}
	if err := f.SetupWithManager(mgr, "follower"); err != nil {
		t.Fatal(err)
	}
	envtest.Run(t, mgr)
	mctx := t.Context()

	store := stores.For(types.NamespacedName{Namespace: ns, Name: repo.Name})
	updates := store.Subscribe(mctx)
	for i, tag := range []string{"one", "two"} {
		files, names := bigConfig(5+i, tag)
		a, err := Pack(files, names, v1alpha1.ConfigPaths{})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := p.Publish(ctx, repo, "main@sha1:"+tag, a, metav1.Now())
		if err != nil {
			t.Fatal(err)
		}
		base := repo.DeepCopy()
		repo.Status.Snapshot = ref
		if err := env.Client.Status().Patch(ctx, repo, client.MergeFrom(base)); err != nil {
			t.Fatal(err)
		}
		timeout := time.After(30 * time.Second)
	wait:
		for {
			select {
			case snap := <-updates:
				if snap != nil && snap.Digest == a.Digest {
					if snap.Revision != "main@sha1:"+tag || len(snap.Config.Jobs.Periodics) != 5+i {
						t.Errorf("loaded %s with %d periodics", snap.Revision, len(snap.Config.Jobs.Periodics))
					}
					break wait
				}
			case <-timeout:
				t.Fatalf("snapshot %s not loaded", tag)
			}
		}
	}
}

// TestFollowerPaused leaves the Stores alone while paused (on the leader,
// where the reconciler fills them).
func TestFollowerPaused(t *testing.T) {
	ns := env.Namespace(t)
	repo := configRepo(t, ns)
	files, names := bigConfig(3, "p")
	a, err := Pack(files, names, v1alpha1.ConfigPaths{})
	if err != nil {
		t.Fatal(err)
	}
	p := &Publisher{Client: env.Client, Reader: env.Client}
	ref, err := p.Publish(context.Background(), repo, "main@sha1:p", a, metav1.Now())
	if err != nil {
		t.Fatal(err)
	}
	base := repo.DeepCopy()
	repo.Status.Snapshot = ref
	if err := env.Client.Status().Patch(context.Background(), repo, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	paused := true
	stores := &Stores{}
	f := &Follower{Client: env.Client, Publisher: p, Stores: stores, Paused: func() bool { return paused }}
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: repo.Name}}
	for _, paused = range []bool{true, false} {
		if _, err := f.Reconcile(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		got := stores.For(req.NamespacedName).Current()
		if paused && got != nil || !paused && (got == nil || got.Digest != a.Digest) {
			t.Errorf("paused=%v: Store holds %+v", paused, got)
		}
	}
}
