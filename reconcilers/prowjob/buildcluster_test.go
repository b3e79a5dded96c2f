package prowjob

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// restConfigOf reads the only context of a kubeconfig.
func restConfigOf(t *testing.T, kubeconfig []byte) *rest.Config {
	t.Helper()
	c, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBuildClusters runs jobs in build clusters named by the kubeconfig
// set, as Prow's plank runs them in the clusters of its --kubeconfig
// contexts: "build" reaches the API server with full rights (its pods are
// seen through its own cache, in a namespace the operator's cache does not
// watch), "denied" reaches it without any, "down" cannot be reached. Each
// cluster's health becomes a condition of the ConfigRepository; a run in a
// cluster that cannot take pods waits, then ends in error.
func TestBuildClusters(t *testing.T) {
	admin, err := env.UserKubeconfig("build-cluster-admin", "system:masters")
	if err != nil {
		t.Fatal(err)
	}
	nobody, err := env.UserKubeconfig("build-cluster-nobody")
	if err != nil {
		t.Fatal(err)
	}
	down := rest.CopyConfig(env.Config)
	down.Host = "https://127.0.0.1:1"
	remote := map[string]*rest.Config{"build": restConfigOf(t, admin), "denied": restConfigOf(t, nobody), "down": down}

	podNS := env.Namespace(t)
	var clusters *buildcluster.Set
	var cr *v1alpha1.ConfigRepository
	h := start(t, Config{WaitInterval: 100 * time.Millisecond}, func(r *Reconciler) {
		var err error
		if clusters, err = buildcluster.New(env.Client, remote, env.Scheme); err != nil {
			t.Fatal(err)
		}
		clusters.Namespace = func() string { return podNS }
		clusters.CheckInterval = 200 * time.Millisecond
		r.Clusters = clusters
	})
	cr = &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: h.ns},
		Spec: v1alpha1.ConfigRepositorySpec{URL: "https://github.com/acme/config.git"}}
	if err := env.Client.Create(context.Background(), cr); err != nil {
		t.Fatal(err)
	}
	clusters.Report = (&buildcluster.StatusWriter{Client: env.Client, Key: client.ObjectKeyFromObject(cr)}).Write

	// Health, as conditions of the ConfigRepository.
	want := map[string]struct {
		status metav1.ConditionStatus
		reason string
	}{
		"default": {metav1.ConditionTrue, buildcluster.ReasonReady},
		"build":   {metav1.ConditionTrue, buildcluster.ReasonReady},
		"denied":  {metav1.ConditionFalse, buildcluster.ReasonMissingPermissions},
		"down":    {metav1.ConditionFalse, buildcluster.ReasonUnreachable},
	}
	eventually(t, "build cluster conditions", func() error {
		got := &v1alpha1.ConfigRepository{}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(cr), got); err != nil {
			return err
		}
		for alias, w := range want {
			c := meta.FindStatusCondition(got.Status.Conditions, buildcluster.ConditionType(alias))
			if c == nil || c.Status != w.status || c.Reason != w.reason {
				return fmt.Errorf("%s: %+v", alias, c)
			}
		}
		return nil
	})
	got := &v1alpha1.ConfigRepository{}
	_ = env.Client.Get(context.Background(), client.ObjectKeyFromObject(cr), got)
	if c := meta.FindStatusCondition(got.Status.Conditions, buildcluster.ConditionType("denied")); !strings.Contains(c.Message, "create, get, list, watch, delete of pods in namespace "+podNS) {
		t.Errorf("denied: message %q does not list the missing verbs", c.Message)
	}

	// A run in the remote cluster: created there, followed there.
	h.create(h.job("remote", func(pj *v1alpha1.ProwJob) { pj.Spec.Cluster, pj.Spec.Namespace = "build", podNS }))
	h.waitState("remote", v1alpha1.PendingState)
	pod := &corev1.Pod{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: podNS, Name: "remote"}, pod); err != nil {
		t.Fatalf("the pod is not in the build cluster's namespace: %v", err)
	}
	if metav1.GetControllerOf(pod) != nil {
		t.Error("a pod in another cluster has an owner reference to the ProwJob")
	}
	eventually(t, "pod status", func() error {
		p := &corev1.Pod{}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(pod), p); err != nil {
			return err
		}
		terminated(corev1.PodSucceeded, 0)(&p.Status)
		return env.Client.Status().Update(context.Background(), p)
	})
	h.waitState("remote", v1alpha1.SuccessState)

	// A run in a cluster that cannot take pods waits, then errors.
	h.create(h.job("stuck", func(pj *v1alpha1.ProwJob) { pj.Spec.Cluster = "down" }))
	eventually(t, "stuck run waiting", func() error {
		pj := &v1alpha1.ProwJob{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: h.ns, Name: "stuck"}, pj); err != nil {
			return err
		}
		c := meta.FindStatusCondition(pj.Status.Conditions, v1alpha1.ConditionScheduled)
		if c == nil || c.Reason != ReasonWaitingForBuildCluster || !strings.HasPrefix(pj.Status.Description, "Waiting for the build cluster: ") {
			return fmt.Errorf("state %q, %q, condition %+v", pj.Status.State, pj.Status.Description, c)
		}
		return nil
	})
	h.clock.Step(DefaultPodUnscheduledTimeout + time.Second)
	pj := h.waitState("stuck", v1alpha1.ErrorState)
	if !strings.HasPrefix(pj.Status.Description, `Build cluster "down" was not available for 5m0s: `) {
		t.Errorf("description %q", pj.Status.Description)
	}
}
