package org

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	envtest.Main(m, &env)
}

// controllerFixture runs the orgs role against a forge in its own
// namespace: a ConfigRepository whose applied configuration is set, the
// Creator and the Reconciler.
type controllerFixture struct {
	*orgFixture
	t       *testing.T
	ctx     context.Context
	ns      string
	stores  *snapshot.Stores
	key     types.NamespacedName
	metrics *prometheus.Registry
}

func newControllerFixture(t *testing.T, set *configset.Set, org string, extraRepos ...string) *controllerFixture {
	t.Helper()
	cfg := set.Orgs.Orgs[org]
	fx := &controllerFixture{orgFixture: newOrgFixture(t, org, &cfg, forge.Options{}, extraRepos...), t: t,
		ctx: context.Background(), ns: env.Namespace(t), stores: &snapshot.Stores{}, metrics: prometheus.NewRegistry()}
	fx.key = types.NamespacedName{Namespace: fx.ns, Name: "config"}
	repo := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: fx.ns},
		Spec: v1alpha1.ConfigRepositorySpec{URL: "https://example.com/config.git"}}
	if err := env.Client.Create(fx.ctx, repo); err != nil {
		t.Fatal(err)
	}
	fx.apply(set, "main@sha1:0000000000000000000000000000000000000001")
	mgr := env.Manager(t, fx.ns)
	m, err := NewMetrics(fx.metrics)
	if err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{GitHub: func(string) (*github.Client, error) { return fx.gh, nil }, Stores: fx.stores,
		Recorder: mgr.GetEventRecorder("bowline-orgs"), Metrics: m}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	if err := mgr.Add(&Creator{Client: mgr.GetClient(), Stores: fx.stores, ConfigRepository: fx.key, Reconciler: r}); err != nil {
		t.Fatal(err)
	}
	envtest.Run(t, mgr)
	return fx
}

// apply makes set the applied configuration, as the config role does.
func (fx *controllerFixture) apply(set *configset.Set, revision string) {
	fx.stores.For(fx.key).Set(&snapshot.Snapshot{Revision: revision, Config: set, LoadedAt: time.Now()})
}

// org waits for the GitHubOrganization the Creator makes and returns it
// once cond holds.
func (fx *controllerFixture) org(name string, cond func(g Gomega, o *v1alpha1.GitHubOrganization)) *v1alpha1.GitHubOrganization {
	fx.t.Helper()
	o := &v1alpha1.GitHubOrganization{}
	NewWithT(fx.t).Eventually(func(g Gomega) {
		g.Expect(env.Client.Get(fx.ctx, types.NamespacedName{Namespace: fx.ns, Name: name}, o)).To(Succeed())
		cond(g, o)
	}, 30*time.Second, 50*time.Millisecond).Should(Succeed())
	return o
}

func (fx *controllerFixture) patch(o *v1alpha1.GitHubOrganization, mut func(*v1alpha1.GitHubOrganization)) {
	fx.t.Helper()
	orig := o.DeepCopy()
	mut(o)
	if err := env.Client.Patch(fx.ctx, o, client.MergeFrom(orig)); err != nil {
		fx.t.Fatal(err)
	}
}

// resync asks for a sync now, as `kubectl annotate` would.
func (fx *controllerFixture) resync(o *v1alpha1.GitHubOrganization) {
	fx.patch(o, func(o *v1alpha1.GitHubOrganization) {
		if o.Annotations == nil {
			o.Annotations = map[string]string{}
		}
		o.Annotations[v1alpha1.ReconcileRequestedAnnotation] = time.Now().Format(time.RFC3339Nano)
	})
}

func condition(g Gomega, o *v1alpha1.GitHubOrganization, typ string) *metav1.Condition {
	c := meta.FindStatusCondition(o.Status.Conditions, typ)
	g.Expect(c).NotTo(BeNil(), "condition %s", typ)
	g.Expect(c.ObservedGeneration).To(Equal(o.Generation))
	return c
}

// TestPlanThenConfirm: the Creator makes a GitHubOrganization for the org
// the configuration names, which only plans until confirmed; once
// confirmed the org is applied, every change recorded as an Event.
func TestPlanThenConfirm(t *testing.T) {
	t.Parallel()
	fx := newControllerFixture(t, fullExample(t), "acme", "widgets", "gadgets")
	o := fx.org("acme", func(g Gomega, o *v1alpha1.GitHubOrganization) {
		c := condition(g, o, v1alpha1.ConditionReady)
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonAwaitingConfirmation))
		g.Expect(condition(g, o, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
	})
	if o.Spec.Confirm || o.Labels[v1alpha1.ManagedByLabel] != "config" || len(o.OwnerReferences) != 1 || o.Status.Plan.Total == 0 {
		t.Fatalf("created %+v", o)
	}
	if o.Status.API.Writes != 0 {
		t.Fatalf("a plan wrote %d times", o.Status.API.Writes)
	}
	if _, resp, err := fx.env.Client(t, fx.token).Organizations.GetOrgMembership(fx.ctx, "bob", "acme"); err == nil || resp.StatusCode != 404 {
		t.Fatalf("bob was invited before confirmation: %v", err)
	}

	fx.patch(o, func(o *v1alpha1.GitHubOrganization) { o.Spec.Confirm = true })
	o = fx.org("acme", func(g Gomega, o *v1alpha1.GitHubOrganization) {
		c := condition(g, o, v1alpha1.ConditionReady)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), c.Message)
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonApplied))
	})
	if o.Status.LastAppliedRevision == "" || o.Status.LastApply == nil || o.Status.LastApply.Applied != o.Status.Plan.Total || o.Status.LastApply.Failed != 0 {
		t.Fatalf("status after applying: %+v", o.Status)
	}
	NewWithT(t).Eventually(func(g Gomega) {
		var list eventsv1.EventList
		g.Expect(env.Client.List(fx.ctx, &list, client.InNamespace(fx.ns))).To(Succeed())
		recorded := ""
		for _, e := range list.Items {
			recorded += e.Reason + ": " + e.Note + "\n"
		}
		g.Expect(recorded).To(ContainSubstring("MemberCreated: member bob (invite as member)"))
		g.Expect(recorded).To(ContainSubstring("branch protection widgets/main (protect: 2 required contexts"))
		g.Expect(recorded).To(ContainSubstring("label area/api in widgets (create #0052cc)"))
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
	var cm corev1.ConfigMap
	if err := env.Client.Get(fx.ctx, types.NamespacedName{Namespace: fx.ns, Name: "acme-baseline"}, &cm); err != nil || len(cm.BinaryData[baselineKey]) == 0 {
		t.Fatalf("baseline: %v", err)
	}
}

// smallOrg is a configuration of one org with seven members and admins.
func smallOrg(t *testing.T, org string) *configset.Set {
	t.Helper()
	fsys := fstest.MapFS{"orgs/" + org + "/org.yaml": {Data: []byte("admins: [alice, bob]\nmembers: [m1, m2, m3, m4, m5]\n")}}
	set, err := configset.Load(context.Background(), fsys, configset.Options{OrgConfigPaths: []string{"orgs"}})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestRefusesTooManyRemovals: three members the configuration drops out of
// ten is 30%, over the default 25%: nothing is applied and the condition
// says why and how to proceed; approving the plan by its ID applies it.
func TestRefusesTooManyRemovals(t *testing.T) {
	t.Parallel()
	set := smallOrg(t, "small")
	fx := newControllerFixture(t, set, "small")
	extra := &forge.Seed{Orgs: []forge.SeedOrg{{Login: "small", Admins: []string{"bob"}, Members: []string{"m1", "m2", "m3", "m4", "m5", "x1", "x2", "x3"}}}}
	if err := fx.env.Forge.Seed(fx.ctx, extra); err != nil {
		t.Fatal(err)
	}
	o := fx.org("small", func(g Gomega, o *v1alpha1.GitHubOrganization) {})
	fx.patch(o, func(o *v1alpha1.GitHubOrganization) { o.Spec.Confirm = true })
	o = fx.org("small", func(g Gomega, o *v1alpha1.GitHubOrganization) {
		c := condition(g, o, v1alpha1.ConditionReady)
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonSafetyLimitExceeded))
	})
	ready := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.ConditionReady)
	want := "The plan removes 3 of the org's 10 members and invitations (30%); the limit is 25%."
	if !strings.Contains(ready.Message, want) || !strings.Contains(ready.Message, "spec.safety.approvedPlan: "+o.Status.Plan.ID) {
		t.Fatalf("Ready message %q", ready.Message)
	}
	if s := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.ConditionStalled); s == nil || s.Status != metav1.ConditionTrue {
		t.Fatalf("Stalled = %v", s)
	}
	if o.Status.API.Writes != 0 {
		t.Fatalf("a refused plan wrote %d times", o.Status.API.Writes)
	}

	fx.patch(o, func(o *v1alpha1.GitHubOrganization) { o.Spec.Safety.ApprovedPlan = o.Status.Plan.ID })
	o = fx.org("small", func(g Gomega, o *v1alpha1.GitHubOrganization) {
		g.Expect(condition(g, o, v1alpha1.ConditionReady).Reason).To(Equal(v1alpha1.ReasonApplied))
	})
	members, _, err := fx.env.Client(t, fx.token).Organizations.ListMembers(fx.ctx, "small", nil)
	if err != nil || len(members) != 7 {
		t.Fatalf("members after the approved plan: %d, %v", len(members), err)
	}
	// Raising a limit is recorded.
	fx.patch(o, func(o *v1alpha1.GitHubOrganization) { o.Spec.Safety.MaxRemovalPercent = ptr.To[int32](50) })
	NewWithT(t).Eventually(func(g Gomega) {
		var list eventsv1.EventList
		g.Expect(env.Client.List(fx.ctx, &list, client.InNamespace(fx.ns))).To(Succeed())
		var notes []string
		for _, e := range list.Items {
			if e.Reason == "SafetyLimitsChanged" {
				notes = append(notes, e.Note)
			}
		}
		g.Expect(notes).To(ContainElement(ContainSubstring("maxRemovalPercent 25 → 50")))
	}, 30*time.Second, 100*time.Millisecond).Should(Succeed())
}

// TestDriftReportedThenReverted: a member added by hand through the
// sandbox's API is reported (condition, metric, Event) and, once the drift
// policy says Revert, removed.
func TestDriftReportedThenReverted(t *testing.T) {
	t.Parallel()
	set := smallOrg(t, "drifty")
	fx := newControllerFixture(t, set, "drifty")
	o := fx.org("drifty", func(g Gomega, o *v1alpha1.GitHubOrganization) {})
	fx.patch(o, func(o *v1alpha1.GitHubOrganization) { o.Spec.Confirm = true })
	o = fx.org("drifty", func(g Gomega, o *v1alpha1.GitHubOrganization) {
		g.Expect(condition(g, o, v1alpha1.ConditionReady).Reason).To(Equal(v1alpha1.ReasonApplied))
	})
	if err := fx.env.Forge.Seed(fx.ctx, &forge.Seed{Users: []forge.SeedUser{{Login: "mallory"}}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fx.env.Client(t, fx.token).Organizations.EditOrgMembership(fx.ctx, "mallory", "drifty", &github.Membership{Role: github.Ptr("admin")}); err != nil {
		t.Fatal(err)
	}
	fx.resync(o)
	o = fx.org("drifty", func(g Gomega, o *v1alpha1.GitHubOrganization) {
		c := condition(g, o, v1alpha1.ConditionDrifted)
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Message).To(ContainSubstring("member mallory"))
	})
	if ready := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.ConditionReady); ready.Status != metav1.ConditionTrue || o.Status.Drift.Objects != 1 || o.Status.API.Writes != 0 {
		t.Fatalf("reporting drift: Ready %v, drift %+v, %d writes", ready, o.Status.Drift, o.Status.API.Writes)
	}
	if err := testutil.GatherAndCompare(fx.metrics, strings.NewReader(`
# HELP bowline_orgs_drift_objects Objects of an org changed by hand and not reverted, at its last sync.
# TYPE bowline_orgs_drift_objects gauge
bowline_orgs_drift_objects{org="drifty"} 1
`), "bowline_orgs_drift_objects"); err != nil {
		t.Fatal(err)
	}

	fx.patch(o, func(o *v1alpha1.GitHubOrganization) { o.Spec.DriftPolicy = v1alpha1.DriftRevert })
	fx.org("drifty", func(g Gomega, o *v1alpha1.GitHubOrganization) {
		c := condition(g, o, v1alpha1.ConditionDrifted)
		g.Expect(c.Reason).To(Equal(v1alpha1.ReasonDriftReverted))
	})
	if _, resp, err := fx.env.Client(t, fx.token).Organizations.GetOrgMembership(fx.ctx, "mallory", "drifty"); err == nil || resp.StatusCode != 404 {
		t.Fatalf("mallory's invitation stands: %v", err)
	}
}
