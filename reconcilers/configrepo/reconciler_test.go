package configrepo

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

const jobFile = "config/jobs/bowline/example/example.yaml"

// validConfig is a small Prow config repository whose periodic is named
// after generation, so every call gives a different, valid revision.
func validConfig(generation string) map[string][]byte {
	return map[string][]byte{
		"README.md":               []byte("# Config\n"),
		"config/prow/config.yaml": []byte("prowjob_namespace: default\npod_namespace: test-pods\n"),
		"config/prow/plugins.yaml": []byte(`plugins:
  bowline/example:
    plugins:
    - trigger
    - lgtm
`),
		jobFile: []byte(`presubmits:
  bowline/example:
  - name: pull-example-unit
    always_run: true
    spec:
      containers:
      - image: golang:1.26
        command: ["go", "test", "./..."]
periodics:
- name: periodic-example-` + generation + `
  interval: 1h
  spec:
    containers:
    - image: alpine
      command: ["true"]
`),
	}
}

// invalidJobs misspells a field on line 4 of the job file.
func invalidJobs() map[string][]byte {
	return map[string][]byte{jobFile: []byte(`presubmits:
  bowline/example:
  - name: pull-example-unit
    always_runn: true
    spec:
      containers:
      - image: golang:1.26
`)}
}

// snapshotConfigMaps lists the snapshot chunks published in ns.
func snapshotConfigMaps(g Gomega, ns string) []corev1.ConfigMap {
	list := &corev1.ConfigMapList{}
	g.Expect(env.Client.List(context.Background(), list, client.InNamespace(ns), client.HasLabels{snapshot.LabelConfigRepository})).To(Succeed())
	return list.Items
}

// TestPushInvalidFix walks the life of a config repository: a valid push is
// applied; an invalid one stalls with file:line while the previous revision
// stays served, in this process and in another; a fix recovers.
func TestPushInvalidFix(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "config", validConfig("1"))
	op := startOperator(t, ns, t.TempDir())
	other := startFollower(t, ns)
	key := newRepo(t, ns, "config", f.url("config"))

	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		readyAt(g, r, rev(sha1))
		g.Expect(condition(r, v1alpha1.ConditionJobsReady).Status).To(Equal(metav1.ConditionTrue))
		// lgtm is enabled, but this bowline has only trigger.
		plugins := condition(r, v1alpha1.ConditionPluginsReady)
		g.Expect(plugins.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(plugins.Reason).To(Equal(v1alpha1.ReasonNotImplemented))
		g.Expect(plugins.Message).To(HavePrefix("1 of the 2 plugins enabled is not implemented yet and does nothing: lgtm"))
		g.Expect(condition(r, v1alpha1.ConditionOrgsSynced)).To(BeNil())
		g.Expect(condition(r, v1alpha1.ConditionDeploymentReady)).To(BeNil())
		g.Expect(condition(r, v1alpha1.ConditionStalled)).To(BeNil())
		g.Expect(condition(r, v1alpha1.ConditionReconciling)).To(BeNil())
		g.Expect(r.Status.Snapshot).NotTo(BeNil())
		g.Expect(r.Status.Snapshot.Revision).To(Equal(rev(sha1)))
		g.Expect(r.Status.Summary).NotTo(BeNil())
		g.Expect(r.Status.History).NotTo(BeEmpty())
		g.Expect(r.Status.History[0].Result).To(Equal(resultApplied))
		g.Expect(op.served(key)).To(Equal(rev(sha1)))
		g.Expect(other.served(key)).To(Equal(rev(sha1)))
	})
	first := get(NewWithT(t), key).Status.Snapshot.Digest
	snap := op.stores.For(key).Current()
	if got := strings.Join(snap.Config.Files, ","); strings.Contains(got, "README") || !strings.Contains(got, jobFile) {
		t.Errorf("snapshot files = %s, want the config files only", got)
	}

	// An invalid push: stalled, with file:line, the old revision served.
	sha2 := f.push(t, "config", invalidJobs())
	requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		ready, stalled := condition(r, v1alpha1.ConditionReady), condition(r, v1alpha1.ConditionStalled)
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(v1alpha1.ReasonValidationFailed))
		g.Expect(ready.Message).To(ContainSubstring(jobFile + ":4:"))
		g.Expect(ready.Message).To(ContainSubstring(rev(sha1) + " stays applied"))
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(condition(r, v1alpha1.ConditionReconciling)).To(BeNil())
		g.Expect(r.Status.ValidationErrors).NotTo(BeEmpty())
		g.Expect(r.Status.ValidationErrors[0]).To(HavePrefix(jobFile + ":4:"))
		g.Expect(r.Status.LastAttemptedRevision).To(Equal(rev(sha2)))
		g.Expect(r.Status.LastAppliedRevision).To(Equal(rev(sha1)))
		g.Expect(r.Status.Snapshot.Digest).To(Equal(first))
		g.Expect(r.Status.ObservedGeneration).To(Equal(r.Generation))
		g.Expect(r.Status.History[0].Result).To(Equal(v1alpha1.ReasonValidationFailed))
	})
	t.Logf("Ready: %s", condition(get(NewWithT(t), key), v1alpha1.ConditionReady).Message)
	if got := op.served(key); got != rev(sha1) {
		t.Errorf("this process serves %q while stalled, want %q", got, rev(sha1))
	}
	if got := other.served(key); got != rev(sha1) {
		t.Errorf("another process serves %q while stalled, want %q", got, rev(sha1))
	}
	eventually(t, 10*time.Second, func(g Gomega) {
		list := &eventsv1.EventList{}
		g.Expect(env.Client.List(context.Background(), list, client.InNamespace(ns))).To(Succeed())
		var reasons []string
		for _, e := range list.Items {
			if e.Regarding.Name == key.Name {
				reasons = append(reasons, e.Reason+": "+e.Note)
			}
		}
		g.Expect(reasons).To(ContainElement(HavePrefix(v1alpha1.ReasonValidationFailed + ": Revision " + rev(sha2))))
	})

	// Asking again changes nothing: the same message, one history entry.
	stalled := get(NewWithT(t), key)
	again := requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		g.Expect(r.Status.LastHandledReconcileAt).To(Equal(again))
		g.Expect(condition(r, v1alpha1.ConditionReady).Message).To(Equal(condition(stalled, v1alpha1.ConditionReady).Message))
		g.Expect(r.Status.History).To(HaveLen(len(stalled.Status.History)))
		g.Expect(r.Status.ValidationErrors).To(Equal(stalled.Status.ValidationErrors))
	})

	// The fix: applied everywhere, the stale snapshot pruned.
	sha3 := f.push(t, "config", validConfig("3"))
	requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		readyAt(g, r, rev(sha3))
		g.Expect(condition(r, v1alpha1.ConditionStalled)).To(BeNil())
		g.Expect(r.Status.ValidationErrors).To(BeEmpty())
		g.Expect(op.served(key)).To(Equal(rev(sha3)))
		g.Expect(other.served(key)).To(Equal(rev(sha3)))
		g.Expect(r.Status.History).To(HaveLen(3))
	})
	assertMetrics(t, op, map[string]float64{
		"bowline_configrepo_reconcile_duration_seconds":         3,
		"bowline_configrepo_commit_to_applied_seconds":          2,
		"bowline_configrepo_failures_total":                     1,
		"bowline_configrepo_applied_revision_timestamp_seconds": 1,
	})

	// The previous snapshot is kept until the next reconcile has seen the
	// new one recorded; then only the applied one is left.
	requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		g.Expect(r.Status.LastHandledReconcileAt).To(Equal(r.Annotations[v1alpha1.ReconcileRequestedAnnotation]))
		cms := snapshotConfigMaps(g, ns)
		g.Expect(cms).To(HaveLen(int(r.Status.Snapshot.Chunks)))
		for _, cm := range cms {
			g.Expect(cm.Annotations[snapshot.AnnotationDigest]).To(Equal(r.Status.Snapshot.Digest))
			g.Expect(cm.OwnerReferences).To(HaveLen(1))
			g.Expect(cm.OwnerReferences[0].UID).To(Equal(r.UID))
		}
	})
}

// TestIntervalPolling applies a push without any request, on the interval.
func TestIntervalPolling(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "config", validConfig("1"))
	op := startOperator(t, ns, t.TempDir())
	key := newRepo(t, ns, "config", f.url("config"), withInterval(time.Second))
	eventually(t, 30*time.Second, func(g Gomega) { readyAt(g, get(g, key), rev(sha1)) })
	sha2 := f.push(t, "config", validConfig("2"))
	eventually(t, 30*time.Second, func(g Gomega) {
		readyAt(g, get(g, key), rev(sha2))
		g.Expect(op.served(key)).To(Equal(rev(sha2)))
	})
}

// TestRequestAnnotation applies a push at once when asked, though the
// interval is an hour, and echoes the request.
func TestRequestAnnotation(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "config", validConfig("1"))
	op := startOperator(t, ns, t.TempDir())
	key := newRepo(t, ns, "config", f.url("config"))
	eventually(t, 30*time.Second, func(g Gomega) { readyAt(g, get(g, key), rev(sha1)) })

	sha2 := f.push(t, "config", validConfig("2"))
	asked := requestReconcile(t, key)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		readyAt(g, r, rev(sha2))
		g.Expect(r.Status.LastHandledReconcileAt).To(Equal(asked))
		g.Expect(op.served(key)).To(Equal(rev(sha2)))
	})
}

// TestRestart stops the operator between a push and its reconcile: the new
// process restores the last good revision from the published snapshot and
// serves it while the pushed revision is invalid.
func TestRestart(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "config", validConfig("1"))
	data := t.TempDir()
	op := startOperator(t, ns, data)
	key := newRepo(t, ns, "config", f.url("config"))
	eventually(t, 30*time.Second, func(g Gomega) { readyAt(g, get(g, key), rev(sha1)) })
	op.stop()

	sha2 := f.push(t, "config", invalidJobs())
	requestReconcile(t, key)
	op = startOperator(t, ns, data)
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		g.Expect(r.Status.LastAttemptedRevision).To(Equal(rev(sha2)))
		g.Expect(condition(r, v1alpha1.ConditionStalled)).NotTo(BeNil())
		g.Expect(op.served(key)).To(Equal(rev(sha1)))
	})

	// Stopped again as soon as the fix is requested, most likely in the
	// middle of its reconcile: the next process still converges, and
	// fetches only the new commit into the cache the others left.
	before := f.uploadBytes.Load()
	sha3 := f.push(t, "config", validConfig("3"))
	requestReconcile(t, key)
	op.stop()
	op = startOperator(t, ns, data)
	eventually(t, 30*time.Second, func(g Gomega) {
		readyAt(g, get(g, key), rev(sha3))
		g.Expect(op.served(key)).To(Equal(rev(sha3)))
	})
	if n := f.uploadBytes.Load() - before; n > 8<<10 {
		t.Errorf("fetching one small commit transferred %d bytes: the cache was not reused", n)
	}
}

// TestTokenAuth fetches with the token from the referenced Secret; a wrong
// token fails the fetch without stalling and without showing the token.
func TestTokenAuth(t *testing.T) {
	ns := env.Namespace(t)
	const token = "s3cr3t-t0ken-value"
	f := newForge(t, token)
	sha1 := f.create(t, "config", validConfig("1"))
	newSecret(t, ns, "good", map[string]string{"token": token})
	newSecret(t, ns, "bad", map[string]string{"token": "wrong-t0ken-value"})
	newSecret(t, ns, "userpass", map[string]string{"username": "someone", "password": token})
	startOperator(t, ns, t.TempDir())
	good := newRepo(t, ns, "good", f.url("config"), withSecret("good"))
	userpass := newRepo(t, ns, "userpass", f.url("config"), withSecret("userpass"))
	bad := newRepo(t, ns, "bad", f.url("config"), withSecret("bad"))
	none := newRepo(t, ns, "none", f.url("config"))

	eventually(t, 30*time.Second, func(g Gomega) {
		readyAt(g, get(g, good), rev(sha1))
		readyAt(g, get(g, userpass), rev(sha1))
	})
	for _, key := range []types.NamespacedName{bad, none} {
		eventually(t, 30*time.Second, func(g Gomega) {
			r := get(g, key)
			ready := condition(r, v1alpha1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal(v1alpha1.ReasonFetchFailed))
			g.Expect(ready.Message).To(ContainSubstring("authentication required"))
			g.Expect(condition(r, v1alpha1.ConditionStalled)).To(BeNil())
			rec := condition(r, v1alpha1.ConditionReconciling)
			g.Expect(rec).NotTo(BeNil())
			g.Expect(rec.Status).To(Equal(metav1.ConditionTrue))
			g.Expect(fmt.Sprint(r.Status)).NotTo(ContainSubstring("t0ken"))
		})
	}
	list := &eventsv1.EventList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Items {
		if strings.Contains(e.Note, "t0ken") {
			t.Errorf("event shows a token: %s", e.Note)
		}
	}
}

// assertMetrics checks that each metric family has at least the given
// number of observations (histograms), count (counters) or series (gauges).
func assertMetrics(t *testing.T, op *operator, want map[string]float64) {
	t.Helper()
	families, err := op.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch {
			case m.GetHistogram() != nil:
				got[f.GetName()] += float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				got[f.GetName()] += m.GetCounter().GetValue()
				for _, l := range m.GetLabel() {
					if l.GetName() == "reason" && l.GetValue() != v1alpha1.ReasonValidationFailed {
						t.Errorf("failure counted with reason %s", l.GetValue())
					}
				}
			case m.GetGauge() != nil:
				if m.GetGauge().GetValue() < float64(time.Now().Add(-time.Hour).Unix()) {
					t.Errorf("%s = %v, want a recent commit time", f.GetName(), m.GetGauge().GetValue())
				}
				got[f.GetName()]++
			}
		}
	}
	for name, min := range want {
		if got[name] < min {
			t.Errorf("%s = %v, want at least %v", name, got[name], min)
		}
	}
}

// TestStrict: a strict ConfigRepository refuses a revision that only
// warnings concern (it enables a plugin bowline does not run yet) and
// applies it once strict is unset.
func TestStrict(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	files := validConfig("1")
	missing := configset.NotSupportedPlugins()[0]
	files["config/prow/plugins.yaml"] = []byte(strings.Replace(string(files["config/prow/plugins.yaml"]), "- lgtm", "- "+missing, 1))
	sha1 := f.create(t, "config", files)
	startOperator(t, ns, t.TempDir())
	key := newRepo(t, ns, "config", f.url("config"), func(r *v1alpha1.ConfigRepository) { r.Spec.Strict = true })
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		stalled := condition(r, v1alpha1.ConditionStalled)
		g.Expect(stalled).NotTo(BeNil())
		g.Expect(stalled.Message).To(ContainSubstring(`config/prow/plugins.yaml:5:7: plugin "` + missing + `" is not supported yet`))
		g.Expect(stalled.Message).To(ContainSubstring("(refused in strict mode)"))
		g.Expect(r.Status.LastAppliedRevision).To(BeEmpty())
	})
	setSpec(t, key, func(r *v1alpha1.ConfigRepository) { r.Spec.Strict = false })
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, key)
		readyAt(g, r, rev(sha1))
		// The warnings a strict repository refused are on the status once
		// the revision applies, with where they are.
		g.Expect(r.Status.Warnings).To(ContainElement(HavePrefix(`config/prow/plugins.yaml:5:7: plugin "` + missing + `" is not supported yet`)))
		g.Expect(r.Status.WarningCount).To(BeNumerically("==", len(r.Status.Warnings)))
		g.Expect(condition(r, v1alpha1.ConditionReady).Message).To(ContainSubstring(fmt.Sprintf("(%d warning", r.Status.WarningCount)))
	})
}
