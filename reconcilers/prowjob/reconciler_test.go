package prowjob

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestRunSucceeds(t *testing.T) {
	h := start(t, Config{JobURLTemplate: urlTemplate(t)})
	h.create(h.job("unit", func(pj *v1alpha1.ProwJob) {
		pj.Spec.Type = v1alpha1.PresubmitJob
		// A base branch with a slash, which cannot be a label value.
		pj.Spec.Refs = &v1alpha1.Refs{Org: "acme", Repo: "rocket", BaseRef: "release/1.0", BaseSHA: "abc", Pulls: []v1alpha1.Pull{{Number: 7, SHA: "def"}}}
	}))
	pj := h.waitState("unit", v1alpha1.PendingState)
	if pj.Status.PodName != "unit" || pj.Status.BuildID == "" || pj.Status.PendingTime == nil || pj.Status.StartTime == nil {
		t.Fatalf("pending status incomplete: %+v", pj.Status)
	}
	if want := "https://ci.example/view/unit/" + pj.Status.BuildID; pj.Status.URL != want {
		t.Errorf("url = %q, want %q", pj.Status.URL, want)
	}
	if !meta.IsStatusConditionTrue(pj.Status.Conditions, v1alpha1.ConditionScheduled) {
		t.Errorf("Scheduled not True: %+v", pj.Status.Conditions)
	}
	pod := h.pod("unit")
	wantLabels := map[string]string{
		"created-by-prow": "true", "prow.k8s.io/id": "unit", "prow.k8s.io/job": "unit", "prow.k8s.io/type": "presubmit",
		"prow.k8s.io/build-id": pj.Status.BuildID, "prow.k8s.io/refs.org": "acme", "prow.k8s.io/refs.repo": "rocket",
		"prow.k8s.io/refs.base_ref": "1.0", "prow.k8s.io/refs.pull": "7", "bowline.dev/prowjob-namespace": h.ns,
	}
	for k, v := range wantLabels {
		if pod.Labels[k] != v {
			t.Errorf("pod label %s = %q, want %q", k, pod.Labels[k], v)
		}
	}
	if a := pod.Annotations[v1alpha1.BaseRefAnnotation]; a != "release/1.0" {
		t.Errorf("base ref annotation = %q, want the full branch", a)
	}
	if ref := metav1.GetControllerOf(pod); ref == nil || ref.Name != "unit" || ref.Kind != "ProwJob" {
		t.Errorf("pod controller = %+v, want the ProwJob", ref)
	}
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %s", pod.Spec.RestartPolicy)
	}
	env := map[string]string{}
	for _, e := range pod.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if env["BUILD_ID"] != pj.Status.BuildID || env["PROW_JOB_ID"] != "unit" || env["PULL_NUMBER"] != "7" || env["JOB_SPEC"] == "" {
		t.Errorf("pod environment lacks Prow's contract: %v", env)
	}

	h.kubelet("unit", func(s *corev1.PodStatus) { s.Phase = corev1.PodPending })
	h.kubelet("unit", running(h.clock.Now()))
	h.waitDescription("unit", descRunning)
	h.kubelet("unit", terminated(corev1.PodSucceeded, 0))
	pj = h.waitState("unit", v1alpha1.SuccessState)
	if pj.Status.CompletionTime == nil || pj.Status.Description != descSucceeded {
		t.Errorf("completion = %v, description %q", pj.Status.CompletionTime, pj.Status.Description)
	}
	c := meta.FindStatusCondition(pj.Status.Conditions, v1alpha1.ConditionCompleted)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonJobSucceeded {
		t.Errorf("Completed = %+v", c)
	}
	if pj.Status.ObservedGeneration != pj.Generation {
		t.Errorf("observedGeneration = %d, want %d", pj.Status.ObservedGeneration, pj.Generation)
	}
	want := `
# HELP bowline_prowjob_transition_total State changes of ProwJobs made by the job controller, by the state entered and the job type.
# TYPE bowline_prowjob_transition_total counter
bowline_prowjob_transition_total{state="pending",type="presubmit"} 1
bowline_prowjob_transition_total{state="success",type="presubmit"} 1
# HELP bowline_prowjobs ProwJobs in the cluster by state and type.
# TYPE bowline_prowjobs gauge
bowline_prowjobs{state="success",type="presubmit"} 1
`
	// The gauge counts from the controller's cache, which may lag a moment.
	eventually(t, "metrics", func() error {
		return testutil.GatherAndCompare(h.metrics, strings.NewReader(want), "bowline_prowjob_transition_total", "bowline_prowjobs")
	})
	if n, err := testutil.GatherAndCount(h.metrics, "bowline_prowjob_pod_creation_latency_seconds"); err != nil || n != 1 {
		t.Errorf("pod creation latency histogram: %d series, %v", n, err)
	}
}

func TestRunFails(t *testing.T) {
	h := start(t, Config{})
	h.create(h.job("lint"))
	h.waitState("lint", v1alpha1.PendingState)
	h.kubelet("lint", running(h.clock.Now()))
	h.kubelet("lint", terminated(corev1.PodFailed, 2))
	pj := h.waitState("lint", v1alpha1.FailureState)
	if c := meta.FindStatusCondition(pj.Status.Conditions, v1alpha1.ConditionCompleted); c == nil || c.Reason != v1alpha1.ReasonJobFailed {
		t.Errorf("Completed = %+v", c)
	}
	eventually(t, "JobFailed event", func() error {
		var list eventsv1.EventList
		if err := h.c.List(context.Background(), &list, client.InNamespace(h.ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Name == "lint" && e.Reason == v1alpha1.ReasonJobFailed && e.Type == corev1.EventTypeWarning && e.Note == descFailed {
				return nil
			}
		}
		return fmt.Errorf("events %+v", list.Items)
	})
}

func TestEvictedPodIsRevivedThenErrorsPastMaxRevivals(t *testing.T) {
	one := 1
	h := start(t, Config{MaxRevivals: &one})
	h.create(h.job("e2e"))
	first := h.waitState("e2e", v1alpha1.PendingState)
	evict := func(s *corev1.PodStatus) { s.Phase, s.Reason = corev1.PodFailed, "Evicted" }
	h.kubelet("e2e", evict)
	h.podGone("e2e")
	h.pod("e2e-1")
	pj := &v1alpha1.ProwJob{}
	// The new pod is created before the run records it.
	eventually(t, "revival recorded", func() error {
		pj = h.waitState("e2e", v1alpha1.PendingState)
		if pj.Status.PodName != "e2e-1" {
			return fmt.Errorf("pod %q", pj.Status.PodName)
		}
		return nil
	})
	if pj.Status.PodRevivalCount != 1 || pj.Status.BuildID != first.Status.BuildID {
		t.Fatalf("after revival: pod %q, revivals %d, build %s (was %s)", pj.Status.PodName, pj.Status.PodRevivalCount, pj.Status.BuildID, first.Status.BuildID)
	}
	h.kubelet("e2e-1", evict)
	pj = h.waitState("e2e", v1alpha1.ErrorState)
	if pj.Status.Description != "Job pod reached max revivals (1) after being evicted." {
		t.Errorf("description = %q", pj.Status.Description)
	}
}

func TestEvictionWithErrorOnEviction(t *testing.T) {
	h := start(t, Config{})
	h.create(h.job("strict", func(pj *v1alpha1.ProwJob) { pj.Spec.ErrorOnEviction = true }))
	h.waitState("strict", v1alpha1.PendingState)
	h.kubelet("strict", func(s *corev1.PodStatus) {
		s.Phase = corev1.PodFailed
		s.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI"}}
	})
	pj := h.waitState("strict", v1alpha1.ErrorState)
	if pj.Status.Description != descEvicted {
		t.Errorf("description = %q", pj.Status.Description)
	}
}

func TestDeletedPodErrors(t *testing.T) {
	h := start(t, Config{})
	h.create(h.job("lost"))
	h.waitState("lost", v1alpha1.PendingState)
	if err := h.c.Delete(context.Background(), h.pod("lost")); err != nil {
		t.Fatal(err)
	}
	pj := h.waitState("lost", v1alpha1.ErrorState)
	if pj.Status.Description != descDeleted || pj.Status.CompletionTime == nil {
		t.Errorf("status = %q, completion %v", pj.Status.Description, pj.Status.CompletionTime)
	}
}

func TestUnschedulablePodTimesOut(t *testing.T) {
	h := start(t, Config{})
	h.create(h.job("big"))
	h.waitState("big", v1alpha1.PendingState)
	unschedulable := func(s *corev1.PodStatus) {
		s.Phase = corev1.PodPending
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable}}
	}
	h.kubelet("big", unschedulable)
	// Within the timeout the run stays pending.
	h.clock.Step(4 * time.Minute)
	h.kubelet("big", func(s *corev1.PodStatus) { unschedulable(s); s.Message = "0/3 nodes are available" })
	h.waitState("big", v1alpha1.PendingState)
	h.clock.Step(2 * time.Minute)
	h.poke("big", "0/4 nodes are available")
	pj := h.waitState("big", v1alpha1.ErrorState)
	if pj.Status.Description != descUnscheduledTimeout {
		t.Errorf("description = %q", pj.Status.Description)
	}
	h.podGone("big")
}

func TestRunningTimeoutAborts(t *testing.T) {
	h := start(t, Config{})
	h.create(h.job("slow", func(pj *v1alpha1.ProwJob) {
		pj.Spec.DecorationConfig = &v1alpha1.DecorationConfig{PodRunningTimeout: &metav1.Duration{Duration: time.Hour},
			GCSConfiguration: &v1alpha1.GCSConfiguration{Bucket: "gs://logs"}}
	}))
	h.waitState("slow", v1alpha1.PendingState)
	if pod := h.pod("slow"); len(pod.Spec.InitContainers) == 0 {
		t.Errorf("decorated job's pod has no pod utilities")
	}
	h.kubelet("slow", running(h.clock.Now()))
	h.waitDescription("slow", descRunning)
	h.clock.Step(61 * time.Minute)
	h.poke("slow", "still going")
	pj := h.waitState("slow", v1alpha1.AbortedState)
	if pj.Status.Description != descRunningTimeout || pj.Status.CompletionTime == nil {
		t.Errorf("status = %q, completion %v", pj.Status.Description, pj.Status.CompletionTime)
	}
	h.podGone("slow")
}

func TestAbortDeletesPod(t *testing.T) {
	h := start(t, Config{})
	h.create(h.job("old"))
	pj := h.waitState("old", v1alpha1.PendingState)
	h.pod("old")
	patch := client.MergeFrom(pj.DeepCopy())
	pj.Status.State, pj.Status.Description = v1alpha1.AbortedState, "Superseded by a newer run."
	if err := h.c.Status().Patch(context.Background(), pj, patch); err != nil {
		t.Fatal(err)
	}
	h.podGone("old")
	eventually(t, "completion time set", func() error {
		if err := h.c.Get(context.Background(), client.ObjectKeyFromObject(pj), pj); err != nil {
			return err
		}
		if pj.Status.CompletionTime == nil {
			return fmt.Errorf("no completion time")
		}
		return nil
	})
	if pj.Status.State != v1alpha1.AbortedState || pj.Status.Description != "Superseded by a newer run." {
		t.Errorf("status = %s %q", pj.Status.State, pj.Status.Description)
	}
}

func TestMaxConcurrencyOldestFirst(t *testing.T) {
	h := start(t, Config{})
	// Created in order; names sort in the same order for runs created in
	// the same second.
	for _, n := range []string{"a-1", "a-2", "a-3"} {
		h.create(h.job(n, withJob("serial"), withMaxConcurrency(1)))
	}
	h.waitState("a-1", v1alpha1.PendingState)
	for _, n := range []string{"a-2", "a-3"} {
		pj := h.waitState(n, v1alpha1.TriggeredState)
		c := meta.FindStatusCondition(pj.Status.Conditions, v1alpha1.ConditionScheduled)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonWaitingForConcurrency {
			t.Errorf("%s Scheduled = %+v", n, c)
		}
	}
	h.kubelet("a-1", terminated(corev1.PodSucceeded, 0))
	h.waitState("a-1", v1alpha1.SuccessState)
	h.waitState("a-2", v1alpha1.PendingState)
	if pj := h.waitState("a-3", v1alpha1.TriggeredState); pj.Status.PendingTime != nil {
		t.Errorf("a-3 started while a-2 runs")
	}
	h.kubelet("a-2", terminated(corev1.PodFailed, 1))
	h.waitState("a-3", v1alpha1.PendingState)
}

func TestJobQueueCapacity(t *testing.T) {
	h := start(t, Config{JobQueueCapacities: map[string]int{"gpu": 2, "frozen": 0, "free": -1}})
	for _, n := range []string{"q-1", "q-2", "q-3"} {
		h.create(h.job(n, withQueue("gpu")))
	}
	h.create(h.job("frozen-1", withQueue("frozen")))
	for _, n := range []string{"free-1", "free-2", "free-3"} {
		h.create(h.job(n, withQueue("free")))
	}
	h.waitState("q-1", v1alpha1.PendingState)
	h.waitState("q-2", v1alpha1.PendingState)
	for _, n := range []string{"free-1", "free-2", "free-3"} {
		h.waitState(n, v1alpha1.PendingState)
	}
	pj := h.waitState("q-3", v1alpha1.TriggeredState)
	if c := meta.FindStatusCondition(pj.Status.Conditions, v1alpha1.ConditionScheduled); c == nil || c.Reason != v1alpha1.ReasonWaitingForQueue {
		t.Errorf("q-3 Scheduled = %+v", c)
	}
	pj = h.waitState("frozen-1", v1alpha1.TriggeredState)
	if c := meta.FindStatusCondition(pj.Status.Conditions, v1alpha1.ConditionScheduled); c == nil || c.Reason != v1alpha1.ReasonWaitingForQueue {
		t.Errorf("frozen-1 Scheduled = %+v", c)
	}
	// Deleting a run in flight frees its slot.
	if err := h.c.Delete(context.Background(), h.waitState("q-1", v1alpha1.PendingState)); err != nil {
		t.Fatal(err)
	}
	h.waitState("q-3", v1alpha1.PendingState)
}

func TestMaxConcurrencyAndQueueTakeTheSmaller(t *testing.T) {
	h := start(t, Config{JobQueueCapacities: map[string]int{"wide": 5}})
	for _, n := range []string{"m-1", "m-2"} {
		h.create(h.job(n, withJob("both"), withQueue("wide"), withMaxConcurrency(1)))
	}
	h.waitState("m-1", v1alpha1.PendingState)
	pj := h.waitState("m-2", v1alpha1.TriggeredState)
	if c := meta.FindStatusCondition(pj.Status.Conditions, v1alpha1.ConditionScheduled); c == nil || c.Reason != v1alpha1.ReasonWaitingForConcurrency {
		t.Errorf("m-2 Scheduled = %+v", c)
	}
}

func TestUnknownClusterErrors(t *testing.T) {
	h := start(t, Config{})
	h.create(h.job("far", func(pj *v1alpha1.ProwJob) { pj.Spec.Cluster = "nowhere" }))
	pj := h.waitState("far", v1alpha1.ErrorState)
	if pj.Status.Description != `Unknown build cluster "nowhere".` {
		t.Errorf("description = %q", pj.Status.Description)
	}
}

func TestRejectedPodErrors(t *testing.T) {
	h := start(t, Config{})
	h.create(h.job("bad", func(pj *v1alpha1.ProwJob) { pj.Spec.Namespace = "no-such-namespace" }))
	pj := h.waitState("bad", v1alpha1.ErrorState)
	if c := meta.FindStatusCondition(pj.Status.Conditions, v1alpha1.ConditionScheduled); c == nil || c.Reason != ReasonNotStarted {
		t.Errorf("Scheduled = %+v", c)
	}
}

// TestUnsupportedAgentsEndInError: runs of Prow's jenkins and
// tekton-pipeline agents, which bowline does not run, end at once in error
// with a description that says so, instead of staying triggered.
func TestUnsupportedAgentsEndInError(t *testing.T) {
	h := start(t, Config{})
	for _, agent := range []v1alpha1.ProwJobAgent{v1alpha1.JenkinsAgent, v1alpha1.TektonAgent} {
		name := "legacy-" + string(agent)
		h.create(h.job(name, func(pj *v1alpha1.ProwJob) { pj.Spec.Agent, pj.Spec.PodSpec = agent, nil }))
		pj := h.waitState(name, v1alpha1.ErrorState)
		if want := "The " + string(agent) + " agent is not supported by bowline yet; the run was not started."; pj.Status.Description != want {
			t.Errorf("%s: description %q, want %q", agent, pj.Status.Description, want)
		}
		if pj.Status.CompletionTime == nil || pj.Status.PodName != "" ||
			!meta.IsStatusConditionTrue(pj.Status.Conditions, v1alpha1.ConditionCompleted) {
			t.Errorf("%s: not completed without a pod: %+v", agent, pj.Status)
		}
	}
}
