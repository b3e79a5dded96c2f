package configrepo

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestUnknownBuildClusterFailsTheRevision: with the install's build
// clusters as Check, a revision whose job names a cluster the install does
// not know is refused when it is loaded, at the job's line, as Prow's
// checkconfig and admission webhook refuse it, not when the job first runs.
func TestUnknownBuildClusterFailsTheRevision(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	files := validConfig("1")
	files[jobFile] = []byte(`periodics:
- name: periodic-e2e
  cluster: eks-prow-build-cluster
  interval: 1h
  spec:
    containers:
    - image: alpine
      command: ["true"]
`)
	sha := f.create(t, "config", files)
	aliases := []string{"default"}
	startOperator(t, ns, t.TempDir(), func(r *Reconciler) {
		r.Check = func(set *configset.Set) error { return buildcluster.CheckJobs(set, aliases) }
	})
	key := newRepo(t, ns, "config", f.url("config"))
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		ready := condition(r, v1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(v1alpha1.ReasonValidationFailed))
		g.Expect(r.Status.ValidationErrors).To(ConsistOf(HavePrefix(jobFile + `:2:3: periodic "periodic-e2e": cluster "eks-prow-build-cluster" is not a known build cluster (known: default)`)))
		g.Expect(r.Status.LastAttemptedRevision).To(Equal(rev(sha)))
		g.Expect(r.Status.LastAppliedRevision).To(BeEmpty())
	})
}
