package configrepo

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestNotImplementedConditions applies a revision with org, label and
// deployment settings that no role applies: the ConfigRepository is Ready
// and says, in OrgsSynced and DeploymentReady, what it does not apply; a
// revision without them removes both conditions.
func TestNotImplementedConditions(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	files := validConfig("1")
	files["config/orgs/bowline/org.yaml"] = []byte("name: bowline\n")
	files["config/labels.yaml"] = []byte("default:\n  labels:\n  - {name: lgtm, color: 15dd18}\n  - {name: approved, color: 0ffa16}\n")
	files["config/bowline/deployment.yaml"] = []byte("image: ghcr.io/bowline-ci/bowline:v1\nroles:\n  hook: {}\n")
	sha1 := f.create(t, "config", files)
	startOperator(t, ns, t.TempDir())
	key := newRepo(t, ns, "config", f.url("config"))
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		readyAt(g, r, rev(sha1))
		orgs, deploy := condition(r, v1alpha1.ConditionOrgsSynced), condition(r, v1alpha1.ConditionDeploymentReady)
		g.Expect(orgs).NotTo(BeNil())
		g.Expect(orgs.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(orgs.Reason).To(Equal(v1alpha1.ReasonNotImplemented))
		g.Expect(orgs.Message).To(ContainSubstring("1 org (peribolos) and 2 labels (label_sync) are validated but not applied"))
		g.Expect(deploy).NotTo(BeNil())
		g.Expect(deploy.Reason).To(Equal(v1alpha1.ReasonNotImplemented))
		g.Expect(deploy.Message).To(ContainSubstring("the 1 file under config/bowline is not applied"))
	})

	sha2 := f.push(t, "config", map[string][]byte{"config/orgs/bowline/org.yaml": nil, "config/labels.yaml": nil, "config/bowline/deployment.yaml": nil})
	requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		readyAt(g, r, rev(sha2))
		g.Expect(condition(r, v1alpha1.ConditionOrgsSynced)).To(BeNil())
		g.Expect(condition(r, v1alpha1.ConditionDeploymentReady)).To(BeNil())
	})
}

// TestInstallCheck makes a revision that the install's Check rejects: it is
// invalid like any other, with the Check's message.
func TestInstallCheck(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "config", validConfig("1"))
	check := func(set *configset.Set) error {
		if set.Config.PodNamespace != "test-pods" {
			return errors.New("config.yaml: pod_namespace is " + set.Config.PodNamespace + ", want test-pods")
		}
		return nil
	}
	startOperator(t, ns, t.TempDir(), func(r *Reconciler) { r.Check = check })
	key := newRepo(t, ns, "config", f.url("config"))
	eventually(t, 30*time.Second, func(g Gomega) { readyAt(g, get(g, key), rev(sha1)) })

	sha2 := f.push(t, "config", map[string][]byte{"config/prow/config.yaml": []byte("prowjob_namespace: default\npod_namespace: elsewhere\n")})
	requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		g.Expect(r.Status.LastAttemptedRevision).To(Equal(rev(sha2)))
		g.Expect(r.Status.LastAppliedRevision).To(Equal(rev(sha1)))
		g.Expect(r.Status.ValidationErrors).To(Equal([]string{"config.yaml: pod_namespace is elsewhere, want test-pods"}))
		g.Expect(condition(r, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
	})
}
