package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bowline-ci/bowline/bootstrap"
	deployreconciler "github.com/bowline-ci/bowline/reconcilers/deploy"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestDeployHandsRolesOver runs the operator as bowline bootstrap installs
// it (--deploy-template) with the config and periodic roles, following a
// config repository whose deployment file runs the periodic role apart:
// the operator makes the role's Deployment, and once its pods are
// available hands the role over, releasing the role's lease for one of
// them; DeploymentReady says so. A revision naming an image from a
// repository the install does not allow is refused whole.
func TestDeployHandsRolesOver(t *testing.T) {
	ctrllog.SetLogger(logr.Discard())
	env, kubeconfig := controlPlane(t)
	ns := env.Namespace(t)
	ctx := t.Context()
	g := NewWithT(t)

	// The config repository: namespaces as the operator pins them, and
	// the periodic role in a Deployment of its own.
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config/prow/config.yaml", "prowjob_namespace: "+ns+"\npod_namespace: "+ns+"\n")
	write("config/bowline/deployment.yaml", "image: ghcr.io/bowline-ci/bowline:v1\nroles:\n  periodic: {replicas: 1}\n")
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-qm", "periodic apart")

	// The operator's own Deployment and Services, as bootstrap makes them.
	objs, err := bootstrap.Objects(bootstrap.Settings{Namespace: ns, PodNamespace: ns, Image: "ghcr.io/bowline-ci/bowline:v0",
		ConfigRepoURL: "https://example.com/config.git", Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	var template []client.Object
	for _, o := range objs {
		switch o.(type) {
		case *appsv1.Deployment, *corev1.Service:
			template = append(template, o)
		}
	}
	if _, err := bootstrap.Apply(ctx, env.Client, template); err != nil {
		t.Fatal(err)
	}
	cr := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: ns},
		Spec: v1alpha1.ConfigRepositorySpec{URL: repo, Interval: &metav1.Duration{Duration: time.Second}}}
	g.Expect(env.Client.Create(ctx, cr)).To(Succeed())

	p := startOperator(t, buildBowline(t), kubeconfig, "--components=config,periodic", "--leader-elect", "--leader-election-namespace", ns,
		"--leader-elect-lease-duration", testLease.String(), "--leader-elect-renew-deadline", testRenew.String(),
		"--leader-elect-retry-period", testRetry.String(),
		"--config-repository", ns+"/config", "--config-namespaces", ns, "--prowjob-namespace", ns, "--pod-namespace", ns,
		"--deploy-template", bootstrap.Name, "--deploy-image-repositories", "ghcr.io/bowline-ci/bowline",
		"--data-dir", t.TempDir(), "--metrics-bind-address", "0", "--health-probe-bind-address", freePort(t))

	eventually := func(f func(g Gomega)) {
		t.Helper()
		NewWithT(t).Eventually(f).WithTimeout(60 * time.Second).WithPolling(100 * time.Millisecond).Should(Succeed())
	}
	deploymentReady := func(g Gomega, status metav1.ConditionStatus, reason string) (*v1alpha1.ConfigRepository, *metav1.Condition) {
		cr := &v1alpha1.ConfigRepository{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "config"}, cr)).To(Succeed())
		c := meta.FindStatusCondition(cr.Status.Conditions, v1alpha1.ConditionDeploymentReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(reason), c.Message)
		g.Expect(c.Status).To(Equal(status), c.Message)
		return cr, c
	}
	lease := func(g Gomega) *coordinationv1.Lease {
		l := &coordinationv1.Lease{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: LeaseName("periodic")}, l)).To(Succeed())
		return l
	}

	// The role runs in the operator until its Deployment is ready.
	var dep *appsv1.Deployment
	eventually(func(g Gomega) {
		g.Expect(p.ran("periodic")).To(BeNumerically(">", 0))
		dep = &appsv1.Deployment{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bowline-periodic"}, dep)).To(Succeed())
		g.Expect(dep.Spec.Template.Spec.Containers[0].Image).To(Equal("ghcr.io/bowline-ci/bowline:v1"))
		g.Expect(dep.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--components=periodic"))
		_, c := deploymentReady(g, metav1.ConditionFalse, v1alpha1.ReasonProgressing)
		g.Expect(c.Message).To(ContainSubstring("periodic: rolling out"))
		l := lease(g)
		g.Expect(l.Spec.HolderIdentity).NotTo(BeNil())
		g.Expect(p.identities()).To(HaveKey(*l.Spec.HolderIdentity))
	})

	// Play the Deployment controller: the new pod is available.
	eventually(func(g Gomega) {
		d := &appsv1.Deployment{}
		g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(dep), d)).To(Succeed())
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}
		g.Expect(env.Client.Status().Update(ctx, d)).To(Succeed())
	})
	// The operator hands the role over: it stops running it and releases
	// its lease.
	eventually(func(g Gomega) {
		g.Expect(p.logged("Handed the role over to its own Deployment")).To(BeTrue())
		l := lease(g)
		g.Expect(l.Spec.HolderIdentity == nil || !p.identities()[*l.Spec.HolderIdentity]).To(BeTrue(), "the operator still holds the lease")
		_, c := deploymentReady(g, metav1.ConditionFalse, v1alpha1.ReasonProgressing)
		g.Expect(c.Message).To(ContainSubstring("waiting for a new pod to take the role's lease"))
	})

	// One of the role's pods takes the lease, as its elector would.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bowline-periodic-5d-a", Namespace: ns, Labels: deployreconciler.Selector("periodic")},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "operator", Image: "ghcr.io/bowline-ci/bowline:v1"}}}}
	g.Expect(env.Client.Create(ctx, pod)).To(Succeed())
	eventually(func(g Gomega) {
		l := lease(g)
		now := metav1.NewMicroTime(time.Now())
		l.Spec.HolderIdentity = ptr.To(pod.Name + "_0c1d")
		l.Spec.LeaseDurationSeconds = ptr.To(int32(testLease.Seconds()))
		l.Spec.AcquireTime, l.Spec.RenewTime = &now, &now
		g.Expect(env.Client.Update(ctx, l)).To(Succeed())
	})
	eventually(func(g Gomega) {
		cr, c := deploymentReady(g, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		g.Expect(c.Message).To(ContainSubstring("deployed: periodic (1/1) in Deployments of their own, running ghcr.io/bowline-ci/bowline:v1"))
		g.Expect(cr.Status.Deployment.Roles).To(HaveLen(1))
		g.Expect(cr.Status.Deployment.Roles[0].Separate).To(BeTrue())
	})
	if n := p.ran("periodic"); n != 1 {
		t.Errorf("the operator ran the periodic role %d times, want once (until it handed it over)", n)
	}

	// An image from a repository the install does not allow: the revision
	// is invalid, and what runs stays.
	write("config/bowline/deployment.yaml", "image: registry.example.com/someone/bowline:v2\nroles:\n  periodic: {replicas: 1}\n")
	git("commit", "-qam", "another registry")
	eventually(func(g Gomega) {
		cr := &v1alpha1.ConfigRepository{}
		g.Expect(env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "config"}, cr)).To(Succeed())
		c := meta.FindStatusCondition(cr.Status.Conditions, v1alpha1.ConditionStalled)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonValidationFailed))
		g.Expect(c.Message).To(ContainSubstring("image: registry.example.com/someone/bowline:v2 is not in a repository this install allows"))
	})
	d := &appsv1.Deployment{}
	g.Expect(env.Client.Get(ctx, client.ObjectKeyFromObject(dep), d)).To(Succeed())
	g.Expect(d.Spec.Template.Spec.Containers[0].Image).To(Equal("ghcr.io/bowline-ci/bowline:v1"))
}

// logged reports whether the process logged msg.
func (p *operatorProc) logged(msg string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.log {
		if strings.Contains(l, `"msg":"`+msg+`"`) {
			return true
		}
	}
	return false
}
