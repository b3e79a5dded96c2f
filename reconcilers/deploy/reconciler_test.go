package deploy_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/bootstrap"
	"github.com/bowline-ci/bowline/reconcilers/deploy"
	"github.com/bowline-ci/bowline/schema/configset"
	deployfile "github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	envtest.Main(m, &env)
}

const hookSecret = "s3cret"

// clock is the reconciler's, moved by the tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness is one install in its own namespace: the operator's Deployment
// and Services as bowline bootstrap makes them, a ConfigRepository, the
// Store the reconciler reads and the reconciler itself.
type harness struct {
	t     *testing.T
	ns    string
	key   types.NamespacedName
	store *snapshot.Store
	clock *clock
	rev   int
}

// newHarness starts the reconciler; hookURL is where the pings of the
// hook's pods go (the real webhook handler of a test server).
func newHarness(t *testing.T, hookURL string, withTemplate bool) *harness {
	t.Helper()
	ctx := t.Context()
	ns := env.Namespace(t)
	h := &harness{t: t, ns: ns, key: types.NamespacedName{Namespace: ns, Name: "config"}, store: &snapshot.Store{},
		clock: &clock{now: time.Now().UTC().Truncate(time.Second)}}
	objs, err := bootstrap.Objects(bootstrap.Settings{Namespace: ns, PodNamespace: ns, Image: "ghcr.io/bowline-ci/bowline:v0",
		ConfigRepoURL: "https://example.com/config.git", GitHubSecret: "github", HMACSecret: "hmac", Replicas: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch x := o.(type) {
		case *appsv1.Deployment:
			if !withTemplate {
				continue
			}
		case *corev1.Service, *corev1.ServiceAccount, *rbacv1.Role, *rbacv1.RoleBinding:
		case *v1alpha1.ConfigRepository:
			x.Name = h.key.Name
		default:
			continue
		}
		if _, err := bootstrap.Apply(ctx, env.Client, []client.Object{o}); err != nil {
			t.Fatal(err)
		}
	}
	// The reconciler runs as the operator's ServiceAccount, with the
	// permissions bowline bootstrap grants it and no more.
	kubeconfig, err := env.UserKubeconfig("system:serviceaccount:"+ns+":"+bootstrap.Name, "system:serviceaccounts", "system:serviceaccounts:"+ns)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: env.Scheme, Logger: ctrl.Log,
		Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &deploy.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Key: h.key, Store: h.store, Template: bootstrap.Name,
		PublicServices: map[string]string{"hook": bootstrap.HookService, "web": bootstrap.WebService},
		Prober: &deploy.HookPinger{Secrets: automation.Secrets{"*": {[]byte(hookSecret)}},
			URL: func(svc types.NamespacedName) string {
				if svc != (types.NamespacedName{Namespace: ns, Name: "bowline-hook-pods"}) {
					t.Errorf("pinged %s, want the hook pods' own Service", svc)
				}
				return hookURL + automation.HookPath
			}},
		Now: h.clock.Now,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	envtest.Run(t, mgr)
	return h
}

// publish makes doc (empty: none) the applied deployment file of a new
// revision.
func (h *harness) publish(doc string) string {
	h.t.Helper()
	set := &configset.Set{}
	if doc != "" {
		set.Deploy = loadFile(h.t, doc)
	}
	h.rev++
	rev := "main@sha1:" + strings.Repeat(string(rune('0'+h.rev%10)), 40)
	h.store.Set(&snapshot.Snapshot{Revision: rev, Config: set, LoadedAt: time.Now()})
	return rev
}

func (h *harness) eventually(check func(g Gomega)) {
	h.t.Helper()
	NewWithT(h.t).Eventually(check).WithTimeout(30 * time.Second).WithPolling(50 * time.Millisecond).Should(Succeed())
}

func (h *harness) deployment(g Gomega, role string) *appsv1.Deployment {
	d := &appsv1.Deployment{}
	g.Expect(env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: deploy.DeploymentName(role)}, d)).To(Succeed())
	return d
}

func (h *harness) absent(g Gomega, role string) {
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: deploy.DeploymentName(role)}, &appsv1.Deployment{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "Deployment %s exists", deploy.DeploymentName(role))
}

func (h *harness) repo(g Gomega) *v1alpha1.ConfigRepository {
	cr := &v1alpha1.ConfigRepository{}
	g.Expect(env.Client.Get(context.Background(), h.key, cr)).To(Succeed())
	return cr
}

// ready asserts DeploymentReady's status and reason, and returns it.
func (h *harness) ready(g Gomega, status metav1.ConditionStatus, reason string) (*v1alpha1.ConfigRepository, *metav1.Condition) {
	cr := h.repo(g)
	c := meta.FindStatusCondition(cr.Status.Conditions, v1alpha1.ConditionDeploymentReady)
	g.Expect(c).NotTo(BeNil())
	g.Expect(c.Reason).To(Equal(reason), c.Message)
	g.Expect(c.Status).To(Equal(status), c.Message)
	return cr, c
}

func role(cr *v1alpha1.ConfigRepository, name string) *v1alpha1.DeployedRole {
	if cr.Status.Deployment == nil {
		return nil
	}
	for i := range cr.Status.Deployment.Roles {
		if cr.Status.Deployment.Roles[i].Name == name {
			return &cr.Status.Deployment.Roles[i]
		}
	}
	return nil
}

// rolledOut plays the Deployment controller and the kubelet: the role's
// Deployment at its current generation has every replica updated and
// available, and its pods exist (there is no kubelet here).
func (h *harness) rolledOut(role string) *appsv1.Deployment {
	h.t.Helper()
	var d *appsv1.Deployment
	h.eventually(func(g Gomega) {
		d = h.deployment(g, role)
		n := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}}}
		g.Expect(env.Client.Status().Update(context.Background(), d)).To(Succeed())
	})
	return d
}

// pod makes a pod of the role, as the ReplicaSet would, created now.
func (h *harness) pod(role, name, image string) *corev1.Pod {
	h.t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: h.ns, Labels: deploy.Selector(role)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "operator", Image: image}}},
	}
	if err := env.Client.Create(h.t.Context(), p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// lead makes holder (a pod name) the holder of the role's lease, renewed
// now.
func (h *harness) lead(role, holder string) {
	h.t.Helper()
	now := metav1.NewMicroTime(h.clock.Now())
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: deployfile.LeaseName(role), Namespace: h.ns}}
	spec := coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder + "_2f1c"), LeaseDurationSeconds: ptr.To[int32](10), AcquireTime: &now, RenewTime: &now}
	if err := env.Client.Get(h.t.Context(), client.ObjectKeyFromObject(l), l); apierrors.IsNotFound(err) {
		l.Spec = spec
		if err := env.Client.Create(h.t.Context(), l); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	l.Spec = spec
	if err := env.Client.Update(h.t.Context(), l); err != nil {
		h.t.Fatal(err)
	}
}

func image(d *appsv1.Deployment) string { return d.Spec.Template.Spec.Containers[0].Image }

// hookServer is the real webhook handler, signed deliveries checked with
// secret.
func hookServer(t *testing.T, secret string) *httptest.Server {
	t.Helper()
	return hookServerWith(t, automation.Secrets{"*": {[]byte(secret)}})
}

// hookServerWith is the real webhook handler with secrets per scope.
func hookServerWith(t *testing.T, secrets automation.Secrets) *httptest.Server {
	t.Helper()
	srv, err := automation.NewServer(automation.DefaultOptions(), automation.Deps{
		Secrets: secrets, Enablement: automation.PluginsFromSnapshot(&snapshot.Store{}), Log: logr.Discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Shutdown(context.Background())
	})
	return hs
}

const fileV1 = `image: ghcr.io/bowline-ci/bowline:v1
roles:
  jobs: {replicas: 2}
  hook: {replicas: 2}
`

// deployV1 rolls out fileV1: jobs first, its new pod taking the lease,
// then the hook, which must answer a signed ping before the Service
// bowline-hook is pointed at it.
func deployV1(t *testing.T, h *harness) string {
	t.Helper()
	rev := h.publish(fileV1)

	// One role at a time: the hook waits for jobs.
	h.eventually(func(g Gomega) {
		d := h.deployment(g, "jobs")
		g.Expect(image(d)).To(Equal("ghcr.io/bowline-ci/bowline:v1"))
		g.Expect(d.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--components=jobs"))
		_, c := h.ready(g, metav1.ConditionFalse, v1alpha1.ReasonProgressing)
		g.Expect(c.Message).To(ContainSubstring("jobs: rolling out"))
	})
	h.eventually(func(g Gomega) { h.absent(g, "hook") })
	h.rolledOut("jobs")
	// The new pods are ready: jobs is handed over, and waits for one of
	// them to take the lease the operator releases.
	h.eventually(func(g Gomega) {
		cr, c := h.ready(g, metav1.ConditionFalse, v1alpha1.ReasonProgressing)
		g.Expect(c.Message).To(ContainSubstring("waiting for a new pod to take the role's lease"))
		g.Expect(role(cr, "jobs").Separate).To(BeTrue())
	})
	h.absent(NewWithT(t), "hook")
	// A drain takes one of the role's pods at a time.
	h.eventually(func(g Gomega) {
		var pdb policyv1.PodDisruptionBudget
		g.Expect(env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: "bowline-jobs"}, &pdb)).To(Succeed())
		g.Expect(pdb.Spec.MaxUnavailable.IntValue()).To(Equal(1))
		g.Expect(pdb.Spec.Selector.MatchLabels).To(Equal(deploy.Selector("jobs")))
	})
	h.pod("jobs", "bowline-jobs-5c-a", "ghcr.io/bowline-ci/bowline:v1")
	h.lead("jobs", "bowline-jobs-5c-a")
	h.eventually(func(g Gomega) {
		d := h.deployment(g, "hook")
		g.Expect(image(d)).To(Equal("ghcr.io/bowline-ci/bowline:v1"))
		cr := h.repo(g)
		g.Expect(role(cr, "jobs").State).To(Equal(v1alpha1.RoleReady))
		g.Expect(role(cr, "jobs").Revision).To(Equal(rev))
	})
	var pods corev1.Service
	h.eventually(func(g Gomega) {
		g.Expect(env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: "bowline-hook-pods"}, &pods)).To(Succeed())
	})
	h.rolledOut("hook")
	h.eventually(func(g Gomega) {
		cr, c := h.ready(g, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		g.Expect(c.Message).To(ContainSubstring("Revision " + rev + " deployed: jobs (2/2), hook (2/2)"))
		g.Expect(cr.Status.Deployment.Revision).To(Equal(rev))
		g.Expect(role(cr, "hook").Separate).To(BeTrue())
		var svc corev1.Service
		g.Expect(env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: bootstrap.HookService}, &svc)).To(Succeed())
		g.Expect(svc.Spec.Selector).To(Equal(deploy.Selector("hook")))
	})
	return rev
}

// TestRollout deploys two roles, one after the other, each checked, and
// reports it; then a new version whose image cannot be pulled is rolled
// back on the first role while the second keeps running what it ran.
func TestRollout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hookServer(t, hookSecret).URL, true)
	rev1 := deployV1(t, h)

	// A bad image: the first role's new pod cannot pull it.
	rev2 := h.publish(strings.ReplaceAll(fileV1, ":v1", ":v2-typo"))
	var d *appsv1.Deployment
	h.eventually(func(g Gomega) {
		d = h.deployment(g, "jobs")
		g.Expect(image(d)).To(Equal("ghcr.io/bowline-ci/bowline:v2-typo"))
	})
	// The rollout starts: a new pod beside the old ones, which keep
	// running (maxUnavailable 0).
	h.eventually(func(g Gomega) {
		d = h.deployment(g, "jobs")
		d.Status.ObservedGeneration, d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = d.Generation, 3, 1, 2
		g.Expect(env.Client.Status().Update(context.Background(), d)).To(Succeed())
	})
	p := h.pod("jobs", "bowline-jobs-7d-x", "ghcr.io/bowline-ci/bowline:v2-typo")
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "operator", Image: image(d),
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "ghcr.io/bowline-ci/bowline:v2-typo"`}}}}
	if err := env.Client.Status().Update(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	h.eventually(func(g Gomega) {
		d := h.deployment(g, "jobs")
		g.Expect(image(d)).To(Equal("ghcr.io/bowline-ci/bowline:v1"), "rolled back to the last healthy image")
		g.Expect(*d.Spec.Replicas).To(Equal(int32(2)))
		cr, c := h.ready(g, metav1.ConditionFalse, v1alpha1.ReasonRolledBack)
		g.Expect(c.Message).To(ContainSubstring("Revision " + rev2 + ": jobs rolled back: pod bowline-jobs-7d-x cannot pull its image (ImagePullBackOff"))
		g.Expect(c.Message).To(ContainSubstring("hook keeps what it runs"))
		g.Expect(role(cr, "jobs").State).To(Equal(v1alpha1.RoleRolledBack))
		g.Expect(role(cr, "jobs").Separate).To(BeTrue(), "the last healthy jobs pods keep the role")
		g.Expect(role(cr, "jobs").Revision).To(Equal(rev1))
		g.Expect(role(cr, "hook").State).To(Equal(v1alpha1.RoleHeld))
		g.Expect(cr.Status.Deployment.Revision).To(BeEmpty())
	})
	// The hook never saw the bad image, and the same settings are not
	// tried again with the next revision.
	h.publish(strings.ReplaceAll(fileV1, ":v1", ":v2-typo"))
	h.eventually(func(g Gomega) {
		_, c := h.ready(g, metav1.ConditionFalse, v1alpha1.ReasonRolledBack)
		g.Expect(c.Message).NotTo(ContainSubstring(rev2))
	})
	g := NewWithT(t)
	g.Expect(image(h.deployment(g, "hook"))).To(Equal("ghcr.io/bowline-ci/bowline:v1"))
	g.Expect(image(h.deployment(g, "jobs"))).To(Equal("ghcr.io/bowline-ci/bowline:v1"))

	// A fixed image rolls out again.
	rev4 := h.publish(strings.ReplaceAll(fileV1, ":v1", ":v2"))
	h.eventually(func(g Gomega) { g.Expect(image(h.deployment(g, "jobs"))).To(Equal("ghcr.io/bowline-ci/bowline:v2")) })
	h.rolledOut("jobs")
	h.pod("jobs", "bowline-jobs-8e-a", "ghcr.io/bowline-ci/bowline:v2")
	h.lead("jobs", "bowline-jobs-8e-a")
	h.eventually(func(g Gomega) { g.Expect(image(h.deployment(g, "hook"))).To(Equal("ghcr.io/bowline-ci/bowline:v2")) })
	h.rolledOut("hook")
	h.eventually(func(g Gomega) {
		cr, _ := h.ready(g, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		g.Expect(cr.Status.Deployment.Revision).To(Equal(rev4))
	})
}

// TestFirstRolloutFails deploys the hook for the first time, but its new
// pods do not answer the signed ping: past the progress deadline the
// Deployment is scaled to zero, the traffic never left the operator, and
// the role stays with it.
func TestFirstRolloutFails(t *testing.T) {
	t.Parallel()
	// The new pods have another webhook secret than the operator signs
	// with: they answer 401.
	h := newHarness(t, hookServer(t, "another secret").URL, true)
	rev := h.publish("image: ghcr.io/bowline-ci/bowline:v1\nprogressDeadlineSeconds: 60\nroles:\n  hook: {}\n")
	h.rolledOut("hook")
	h.eventually(func(g Gomega) {
		cr, c := h.ready(g, metav1.ConditionFalse, v1alpha1.ReasonProgressing)
		g.Expect(c.Message).To(ContainSubstring("waiting for the new hook pods to answer a signed ping"))
		g.Expect(c.Message).To(ContainSubstring("401 Unauthorized"))
		g.Expect(role(cr, "hook").Separate).To(BeFalse())
	})
	h.clock.Step(61 * time.Second)
	h.eventually(func(g Gomega) {
		d := h.deployment(g, "hook")
		g.Expect(*d.Spec.Replicas).To(BeZero())
		cr, c := h.ready(g, metav1.ConditionFalse, v1alpha1.ReasonRolledBack)
		g.Expect(c.Message).To(ContainSubstring("Revision " + rev + ": hook rolled back: the new hook pods did not answer a signed ping"))
		g.Expect(role(cr, "hook").Separate).To(BeFalse())
		g.Expect(role(cr, "hook").Revision).To(BeEmpty())
		var svc corev1.Service
		g.Expect(env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: bootstrap.HookService}, &svc)).To(Succeed())
		g.Expect(svc.Spec.Selector).To(HaveKeyWithValue(deploy.LabelComponent, "operator"), "the operator keeps the traffic")
	})
}

// TestRemoveRole takes a role out of the file: it is no longer separate
// (the operator takes it up again), its traffic goes back to the operator,
// then its Deployment goes; a file with no roles left leaves every role
// with the operator.
func TestRemoveRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hookServer(t, hookSecret).URL, true)
	deployV1(t, h)
	rev := h.publish("image: ghcr.io/bowline-ci/bowline:v1\nroles:\n  jobs: {replicas: 2}\n")
	h.eventually(func(g Gomega) {
		h.absent(g, "hook")
		var svc corev1.Service
		g.Expect(env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: bootstrap.HookService}, &svc)).To(Succeed())
		g.Expect(svc.Spec.Selector).To(HaveKeyWithValue(deploy.LabelComponent, "operator"))
		err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: "bowline-hook-pods"}, &corev1.Service{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		err = env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: "bowline-hook"}, &policyv1.PodDisruptionBudget{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		cr, _ := h.ready(g, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		g.Expect(cr.Status.Deployment.Revision).To(Equal(rev))
		g.Expect(role(cr, "hook")).To(BeNil())
	})
	rev = h.publish("")
	h.eventually(func(g Gomega) {
		h.absent(g, "jobs")
		cr, c := h.ready(g, metav1.ConditionTrue, v1alpha1.ReasonSucceeded)
		g.Expect(c.Message).To(Equal("Every role runs in Deployment bowline-operator: revision " + rev + " has no deployment file"))
		g.Expect(cr.Status.Deployment.Roles).To(BeEmpty())
	})
}

// TestTemplateNotFound: without the operator's own Deployment nothing is
// deployed, and the condition says why.
func TestTemplateNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "http://127.0.0.1:1", false)
	h.publish(fileV1)
	h.eventually(func(g Gomega) {
		_, c := h.ready(g, metav1.ConditionFalse, v1alpha1.ReasonTemplateNotFound)
		g.Expect(c.Message).To(ContainSubstring("Deployment " + h.ns + "/bowline-operator, the operator's own, is not found"))
		h.absent(g, "jobs")
	})
}

// TestNeverReadyRollsBack rolls out a new version whose hook pods start
// but never become Ready: the old hook pods keep serving (maxUnavailable
// 0, the Service untouched) until the Deployment controller reports no
// progress, then the hook is rolled back to its last healthy settings,
// while jobs, which rolled out well, keeps the new version.
func TestNeverReadyRollsBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hookServer(t, hookSecret).URL, true)
	rev1 := deployV1(t, h)

	rev2 := h.publish(strings.ReplaceAll(fileV1, ":v1", ":v2"))
	h.eventually(func(g Gomega) { g.Expect(image(h.deployment(g, "jobs"))).To(Equal("ghcr.io/bowline-ci/bowline:v2")) })
	h.rolledOut("jobs")
	h.pod("jobs", "bowline-jobs-9f-a", "ghcr.io/bowline-ci/bowline:v2")
	h.lead("jobs", "bowline-jobs-9f-a")
	h.eventually(func(g Gomega) { g.Expect(image(h.deployment(g, "hook"))).To(Equal("ghcr.io/bowline-ci/bowline:v2")) })

	// The new pod runs but is never Ready: one new pod beside the two old
	// ones, which stay available.
	p := h.pod("hook", "bowline-hook-6b-n", "ghcr.io/bowline-ci/bowline:v2")
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady"}}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "operator", Image: "ghcr.io/bowline-ci/bowline:v2", Ready: false,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}
	if err := env.Client.Status().Update(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	setStatus := func(cond ...appsv1.DeploymentCondition) {
		h.eventually(func(g Gomega) {
			d := h.deployment(g, "hook")
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 3, UpdatedReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 2, UnavailableReplicas: 1,
				Conditions: cond}
			g.Expect(env.Client.Status().Update(context.Background(), d)).To(Succeed())
		})
	}
	setStatus(appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated"})
	h.eventually(func(g Gomega) {
		cr, c := h.ready(g, metav1.ConditionFalse, v1alpha1.ReasonProgressing)
		g.Expect(c.Message).To(ContainSubstring("hook: rolling out: 1 of 2 new pods created"))
		g.Expect(role(cr, "jobs").State).To(Equal(v1alpha1.RoleReady))
		g.Expect(role(cr, "jobs").Revision).To(Equal(rev2))
		g.Expect(role(cr, "hook").Separate).To(BeTrue(), "the old hook pods keep the traffic")
		var svc corev1.Service
		g.Expect(env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: bootstrap.HookService}, &svc)).To(Succeed())
		g.Expect(svc.Spec.Selector).To(Equal(deploy.Selector("hook")))
	})

	// The Deployment controller gives up after the progress deadline.
	setStatus(appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
		Message: `ReplicaSet "bowline-hook-6b" has timed out progressing.`})
	h.eventually(func(g Gomega) {
		d := h.deployment(g, "hook")
		g.Expect(image(d)).To(Equal("ghcr.io/bowline-ci/bowline:v1"), "rolled back to the last healthy image")
		g.Expect(*d.Spec.Replicas).To(Equal(int32(2)))
		cr, c := h.ready(g, metav1.ConditionFalse, v1alpha1.ReasonRolledBack)
		g.Expect(c.Message).To(ContainSubstring("Revision " + rev2 + ": hook rolled back: no progress within 300s"))
		g.Expect(role(cr, "hook").State).To(Equal(v1alpha1.RoleRolledBack))
		g.Expect(role(cr, "hook").Revision).To(Equal(rev1))
		g.Expect(role(cr, "hook").Separate).To(BeTrue())
		g.Expect(image(h.deployment(g, "jobs"))).To(Equal("ghcr.io/bowline-ci/bowline:v2"))
		var svc corev1.Service
		g.Expect(env.Client.Get(context.Background(), types.NamespacedName{Namespace: h.ns, Name: bootstrap.HookService}, &svc)).To(Succeed())
		g.Expect(svc.Spec.Selector).To(Equal(deploy.Selector("hook")), "the hook's last healthy pods keep serving")
	})
}

// TestHookPinger signs the synthetic ping as GitHub signs a delivery of
// the scope whose secret it uses, which the real webhook handler accepts:
// the global secret, or else an org's or a repository's, named in the
// payload so that the handler picks that secret.
func TestHookPinger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secrets automation.Secrets
		wantErr string
	}{
		{name: "global secret", secrets: automation.Secrets{"*": {[]byte("g")}, "acme": {[]byte("o")}}},
		{name: "an org's secret only", secrets: automation.Secrets{"acme": {[]byte("o")}}},
		{name: "a repository's secret only", secrets: automation.Secrets{"acme/widgets": {[]byte("r")}}},
		{name: "no secret", secrets: automation.Secrets{}, wantErr: "no webhook secret to sign a ping with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hs := hookServerWith(t, tt.secrets)
			p := &deploy.HookPinger{Secrets: tt.secrets, URL: func(types.NamespacedName) string { return hs.URL + automation.HookPath }}
			err := p.Ping(t.Context(), types.NamespacedName{Namespace: "bowline-system", Name: "bowline-hook-pods"})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Ping: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Ping = %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
	// A handler with another secret refuses it, and the error says how.
	hs := hookServer(t, "another")
	p := &deploy.HookPinger{Secrets: automation.Secrets{"*": {[]byte("mine")}}, URL: func(types.NamespacedName) string { return hs.URL + automation.HookPath }}
	if err := p.Ping(t.Context(), types.NamespacedName{}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Ping = %v, want it answered 401", err)
	}
}
