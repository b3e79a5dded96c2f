package configrepo

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/kubernetes"
)

// kubernetesRepo is Kubernetes' configuration as a config repository
// (kubernetes.Repo).
func kubernetesRepo(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := kubernetes.Repo()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestKubernetesConfig applies a repository the size of Kubernetes' own
// configuration: Prow's exact job counts, a snapshot well past the 1 MiB
// ConfigMap limit served to another process, and a later small change
// fetched incrementally.
func TestKubernetesConfig(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "kubernetes", kubernetesRepo(t))
	op := startOperator(t, ns, t.TempDir())
	other := startFollower(t, ns)
	key := newRepo(t, ns, "kubernetes", f.url("kubernetes"))

	eventually(t, 2*time.Minute, func(g Gomega) {
		r := get(g, key)
		readyAt(g, r, rev(sha1))
		g.Expect(other.served(key)).To(Equal(rev(sha1)))
	})
	r := get(NewWithT(t), key)
	want := v1alpha1.ConfigSummary{Presubmits: 2261, Postsubmits: 253, Periodics: 1335, Repositories: 185, Plugins: r.Status.Summary.Plugins}
	if *r.Status.Summary != want {
		t.Errorf("summary = %+v, want %+v", *r.Status.Summary, want)
	}
	if r.Status.Summary.Plugins == 0 {
		t.Error("no plugins counted")
	}
	if r.Status.Snapshot.Size < 4<<20 {
		t.Errorf("snapshot holds %d bytes, want Kubernetes' whole configuration", r.Status.Snapshot.Size)
	}
	mine, theirs := op.stores.For(key).Current(), other.stores.For(key).Current()
	if got, want := len(theirs.Config.Jobs.Periodics), len(mine.Config.Jobs.Periodics); got != want || got != 1335 {
		t.Errorf("the other process loaded %d periodics, this one %d, want 1335", got, want)
	}
	if theirs.Digest != mine.Digest {
		t.Errorf("digests differ: %s and %s", theirs.Digest, mine.Digest)
	}
	full := f.uploadBytes.Load()

	job := "config/jobs/kubernetes/sig-release/kubernetes-builds.yaml"
	content := append(kubernetesRepo(t)[job], "\n# A change.\n"...)
	sha2 := f.push(t, "kubernetes", map[string][]byte{job: content})
	requestReconcile(t, key)
	eventually(t, time.Minute, func(g Gomega) {
		r := get(g, key)
		readyAt(g, r, rev(sha2))
		g.Expect(r.Status.Snapshot.Digest).NotTo(Equal(mine.Digest))
		g.Expect(op.served(key)).To(Equal(rev(sha2)))
		g.Expect(other.served(key)).To(Equal(rev(sha2)))
	})
	if n := f.uploadBytes.Load() - full; n > 16<<10 || n*20 > full {
		t.Errorf("the first fetch took %d bytes and one small change %d: not incremental", full, n)
	}
}
