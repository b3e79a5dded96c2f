package prowjob

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-d)); return &t }
	cfg := Config{}.withDefaults()
	one := 1
	pending := func(mut ...func(*v1alpha1.ProwJob)) *v1alpha1.ProwJob {
		pj := &v1alpha1.ProwJob{ObjectMeta: metav1.ObjectMeta{Name: "run"}, Spec: v1alpha1.ProwJobSpec{Job: "unit", Agent: v1alpha1.KubernetesAgent}}
		pj.Status.State, pj.Status.PodName = v1alpha1.PendingState, "run"
		for _, m := range mut {
			m(pj)
		}
		return pj
	}
	pod := func(phase corev1.PodPhase, mut ...func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "run", CreationTimestamp: *ago(time.Minute)}}
		p.Status.Phase = phase
		for _, m := range mut {
			m(p)
		}
		return p
	}
	started := func(d time.Duration) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Status.StartTime = ago(d) } }
	evictedPod := func(p *corev1.Pod) { p.Status.Reason = "Evicted" }

	tests := []struct {
		name       string
		pj         *v1alpha1.ProwJob
		obs        observation
		wantAction action
		wantState  v1alpha1.ProwJobState
		wantDesc   string
		wantWait   string
		wantAfter  time.Duration
	}{
		{name: "new run starts", pj: &v1alpha1.ProwJob{}, obs: observation{clusterKnown: true},
			wantAction: actStart, wantState: v1alpha1.PendingState, wantDesc: descPending},
		{name: "a jenkins run ends in error at once, never triggered for ever",
			pj:        &v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{Agent: v1alpha1.JenkinsAgent}},
			obs:       observation{clusterKnown: true},
			wantState: v1alpha1.ErrorState, wantDesc: "The jenkins agent is not supported by bowline yet; the run was not started."},
		{name: "a tekton-pipeline run set pending by another client ends in error",
			pj:        pending(func(pj *v1alpha1.ProwJob) { pj.Spec.Agent = v1alpha1.TektonAgent }),
			obs:       observation{clusterKnown: true},
			wantState: v1alpha1.ErrorState, wantDesc: "The tekton-pipeline agent is not supported by bowline yet; the run was not started."},
		{name: "unknown cluster errors", pj: &v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{Cluster: "gone"}}, obs: observation{},
			wantState: v1alpha1.ErrorState, wantDesc: `Unknown build cluster "gone".`},
		{name: "held back by max_concurrency waits", pj: &v1alpha1.ProwJob{Status: v1alpha1.ProwJobStatus{State: v1alpha1.TriggeredState}},
			obs:       observation{clusterKnown: true, blocked: &blocked{v1alpha1.ReasonWaitingForConcurrency, "Waiting."}},
			wantState: v1alpha1.TriggeredState, wantDesc: "Waiting.", wantWait: v1alpha1.ReasonWaitingForConcurrency, wantAfter: DefaultWaitInterval},
		{name: "pod succeeded", pj: pending(), obs: observation{pod: pod(corev1.PodSucceeded)},
			wantState: v1alpha1.SuccessState, wantDesc: descSucceeded},
		{name: "pod succeeded with a running container errors", pj: pending(), obs: observation{pod: pod(corev1.PodSucceeded, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		})}, wantState: v1alpha1.ErrorState, wantDesc: descUnfinished},
		{name: "pod failed", pj: pending(), obs: observation{pod: pod(corev1.PodFailed)},
			wantState: v1alpha1.FailureState, wantDesc: descFailed},
		{name: "pod OOM-killed errors", pj: pending(), obs: observation{pod: pod(corev1.PodFailed, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled"}}}}
		})}, wantState: v1alpha1.ErrorState, wantDesc: descOOMKilled},
		{name: "evicted pod is revived", pj: pending(), obs: observation{pod: pod(corev1.PodFailed, evictedPod)},
			wantAction: actRevive, wantState: v1alpha1.PendingState, wantDesc: descPending},
		{name: "disrupted pod is revived", pj: pending(), obs: observation{pod: pod(corev1.PodFailed, func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
		})}, wantAction: actRevive, wantState: v1alpha1.PendingState, wantDesc: descPending},
		{name: "pod on a lost node is revived", pj: pending(), obs: observation{pod: pod(corev1.PodUnknown)},
			wantAction: actRevive, wantState: v1alpha1.PendingState, wantDesc: descPending},
		{name: "evicted with error_on_eviction errors", pj: pending(func(pj *v1alpha1.ProwJob) { pj.Spec.ErrorOnEviction = true }),
			obs: observation{pod: pod(corev1.PodFailed, evictedPod)}, wantState: v1alpha1.ErrorState, wantDesc: descEvicted},
		{name: "evicted past max revivals errors", pj: pending(func(pj *v1alpha1.ProwJob) { pj.Status.PodRevivalCount = 1 }),
			obs:       observation{cfg: Config{MaxRevivals: &one}, pod: pod(corev1.PodFailed, evictedPod)},
			wantState: v1alpha1.ErrorState, wantDesc: "Job pod reached max revivals (1) after being evicted."},
		{name: "missing pod errors", pj: pending(), obs: observation{},
			wantState: v1alpha1.ErrorState, wantDesc: descDeleted},
		{name: "deleted pod errors", pj: pending(), obs: observation{pod: pod(corev1.PodRunning, func(p *corev1.Pod) { p.DeletionTimestamp = ago(0) })},
			wantState: v1alpha1.ErrorState, wantDesc: descDeleted},
		{name: "pending without a pod name starts one", pj: pending(func(pj *v1alpha1.ProwJob) { pj.Status.PodName = "" }), obs: observation{},
			wantAction: actStart, wantState: v1alpha1.PendingState, wantDesc: descPending},
		{name: "unscheduled pod waits", pj: pending(), obs: observation{pod: pod(corev1.PodPending)},
			wantState: v1alpha1.PendingState, wantDesc: descPending, wantAfter: 4 * time.Minute},
		{name: "unscheduled past timeout errors", pj: pending(), obs: observation{pod: pod(corev1.PodPending, func(p *corev1.Pod) { p.CreationTimestamp = *ago(5 * time.Minute) })},
			wantAction: actStop, wantState: v1alpha1.ErrorState, wantDesc: descUnscheduledTimeout},
		{name: "scheduled pod pending past timeout errors", pj: pending(), obs: observation{pod: pod(corev1.PodPending, started(10*time.Minute))},
			wantAction: actStop, wantState: v1alpha1.ErrorState, wantDesc: descPendingTimeout},
		{name: "scheduled pod pending within timeout waits", pj: pending(), obs: observation{pod: pod(corev1.PodPending, started(9*time.Minute))},
			wantState: v1alpha1.PendingState, wantDesc: descPending, wantAfter: time.Minute},
		{name: "running pod waits for the running timeout", pj: pending(), obs: observation{pod: pod(corev1.PodRunning, started(47*time.Hour))},
			wantState: v1alpha1.PendingState, wantDesc: descRunning, wantAfter: time.Hour},
		{name: "running past timeout aborts", pj: pending(), obs: observation{pod: pod(corev1.PodRunning, started(48*time.Hour))},
			wantAction: actStop, wantState: v1alpha1.AbortedState, wantDesc: descRunningTimeout},
		{name: "job's decoration config overrides the running timeout", pj: pending(func(pj *v1alpha1.ProwJob) {
			pj.Spec.DecorationConfig = &v1alpha1.DecorationConfig{PodRunningTimeout: &metav1.Duration{Duration: time.Hour}}
		}), obs: observation{pod: pod(corev1.PodRunning, started(time.Hour))},
			wantAction: actStop, wantState: v1alpha1.AbortedState, wantDesc: descRunningTimeout},
		{name: "aborted by another client stops, keeping its description", pj: &v1alpha1.ProwJob{Status: v1alpha1.ProwJobStatus{State: v1alpha1.AbortedState, Description: "Superseded."}},
			wantAction: actStop, wantState: v1alpha1.AbortedState, wantDesc: "Superseded."},
		{name: "superseded triggered run is aborted without a pod", pj: &v1alpha1.ProwJob{}, obs: observation{supersededBy: "newer"},
			wantAction: actStop, wantState: v1alpha1.AbortedState, wantDesc: descSuperseded},
		{name: "superseded pending run is aborted and its pod stopped", pj: pending(), obs: observation{supersededBy: "newer", pod: pod(corev1.PodRunning, started(time.Minute))},
			wantAction: actStop, wantState: v1alpha1.AbortedState, wantDesc: descSuperseded},
		{name: "superseding wins over a concurrency limit", pj: &v1alpha1.ProwJob{}, obs: observation{supersededBy: "newer", blocked: &blocked{reason: "x", message: "y"}},
			wantAction: actStop, wantState: v1alpha1.AbortedState, wantDesc: descSuperseded},
		{name: "a run aborted by another client keeps its description when also superseded", pj: &v1alpha1.ProwJob{Status: v1alpha1.ProwJobStatus{State: v1alpha1.AbortedState, Description: "Closed."}},
			obs: observation{supersededBy: "newer"}, wantAction: actStop, wantState: v1alpha1.AbortedState, wantDesc: "Closed."},
		{name: "local run succeeded", pj: pending(func(pj *v1alpha1.ProwJob) { pj.Spec.Agent = v1alpha1.LocalAgent }),
			obs: observation{local: LocalStatus{Phase: LocalFinished, State: v1alpha1.SuccessState}}, wantState: v1alpha1.SuccessState, wantDesc: descSucceeded},
		{name: "local run failed with the runner's description", pj: pending(func(pj *v1alpha1.ProwJob) { pj.Spec.Agent = v1alpha1.LocalAgent }),
			obs: observation{local: LocalStatus{Phase: LocalFinished, State: v1alpha1.FailureState, Description: "Exit code 2."}}, wantState: v1alpha1.FailureState, wantDesc: "Exit code 2."},
		{name: "local run running waits", pj: pending(func(pj *v1alpha1.ProwJob) { pj.Spec.Agent = v1alpha1.LocalAgent }),
			obs: observation{local: LocalStatus{Phase: LocalRunning, StartTime: now.Add(-time.Minute)}}, wantState: v1alpha1.PendingState, wantDesc: descRunning, wantAfter: DefaultWaitInterval},
		{name: "local run past the running timeout aborts", pj: pending(func(pj *v1alpha1.ProwJob) { pj.Spec.Agent = v1alpha1.LocalAgent }),
			obs: observation{local: LocalStatus{Phase: LocalRunning, StartTime: now.Add(-49 * time.Hour)}}, wantAction: actStop, wantState: v1alpha1.AbortedState, wantDesc: descRunningTimeout},
		{name: "local run lost to a restart of bowline runs again", pj: pending(func(pj *v1alpha1.ProwJob) { pj.Spec.Agent = v1alpha1.LocalAgent }),
			obs: observation{local: LocalStatus{Phase: LocalNotFound}}, wantAction: actRevive, wantState: v1alpha1.PendingState, wantDesc: descLocalRestarted},
		{name: "local run lost again errors", pj: pending(func(pj *v1alpha1.ProwJob) {
			pj.Spec.Agent = v1alpha1.LocalAgent
			pj.Status.PodRevivalCount = 1
		}), obs: observation{local: LocalStatus{Phase: LocalNotFound}}, wantState: v1alpha1.ErrorState, wantDesc: descProcessLost},
		{name: "restarted local run says so while it runs", pj: pending(func(pj *v1alpha1.ProwJob) {
			pj.Spec.Agent = v1alpha1.LocalAgent
			pj.Status.PodRevivalCount = 1
		}), obs: observation{local: LocalStatus{Phase: LocalRunning, StartTime: now.Add(-time.Minute)}},
			wantState: v1alpha1.PendingState, wantDesc: descRunning + " " + descLocalRestartedNote, wantAfter: DefaultWaitInterval},
		{name: "restarted local run says so when it ends", pj: pending(func(pj *v1alpha1.ProwJob) {
			pj.Spec.Agent = v1alpha1.LocalAgent
			pj.Status.PodRevivalCount = 1
		}), obs: observation{local: LocalStatus{Phase: LocalFinished, State: v1alpha1.SuccessState, Description: "Job succeeded."}},
			wantState: v1alpha1.SuccessState, wantDesc: "Job succeeded. " + descLocalRestartedNote},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := tt.obs
			obs.now = now
			obs.cfg = obs.cfg.withDefaults()
			if obs.cfg.MaxRevivals == nil {
				obs.cfg.MaxRevivals = cfg.MaxRevivals
			}
			d := decide(tt.pj, obs)
			if d.action != tt.wantAction || d.state != tt.wantState || d.description != tt.wantDesc || d.waitReason != tt.wantWait || d.requeueAfter != tt.wantAfter {
				t.Errorf("decide() = {action %d, state %q, desc %q, wait %q, after %s}, want {action %d, state %q, desc %q, wait %q, after %s}",
					d.action, d.state, d.description, d.waitReason, d.requeueAfter, tt.wantAction, tt.wantState, tt.wantDesc, tt.wantWait, tt.wantAfter)
			}
		})
	}
}

func TestApplyDecisionConditions(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name                   string
		d                      decision
		s                      *started
		wantScheduled          metav1.ConditionStatus
		wantScheduledReason    string
		wantCompletedReason    string
		wantCompletedStatus    metav1.ConditionStatus
		wantComplete, wantPend bool
	}{
		{name: "waiting", d: decision{state: v1alpha1.TriggeredState, waitReason: v1alpha1.ReasonWaitingForQueue, description: "Waiting."},
			wantScheduled: metav1.ConditionFalse, wantScheduledReason: v1alpha1.ReasonWaitingForQueue,
			wantCompletedStatus: metav1.ConditionFalse, wantCompletedReason: ReasonTriggered},
		{name: "started", d: decision{action: actStart, state: v1alpha1.PendingState}, s: &started{podName: "p", buildID: "1"},
			wantScheduled: metav1.ConditionTrue, wantScheduledReason: ReasonStarted,
			wantCompletedStatus: metav1.ConditionFalse, wantCompletedReason: ReasonRunning, wantPend: true},
		{name: "errored before start", d: decision{state: v1alpha1.ErrorState, description: "Pod could not be created."},
			wantScheduled: metav1.ConditionFalse, wantScheduledReason: ReasonNotStarted,
			wantCompletedStatus: metav1.ConditionTrue, wantCompletedReason: v1alpha1.ReasonJobErrored, wantComplete: true},
		{name: "failed", d: decision{state: v1alpha1.FailureState, description: descFailed},
			wantScheduled: metav1.ConditionFalse, wantScheduledReason: ReasonNotStarted,
			wantCompletedStatus: metav1.ConditionTrue, wantCompletedReason: v1alpha1.ReasonJobFailed, wantComplete: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st v1alpha1.ProwJobStatus
			applyDecision(&st, 3, tt.d, tt.s, now)
			sc, cc := findCondition(st.Conditions, v1alpha1.ConditionScheduled), findCondition(st.Conditions, v1alpha1.ConditionCompleted)
			if sc == nil || cc == nil {
				t.Fatalf("conditions missing: %+v", st.Conditions)
			}
			if sc.Status != tt.wantScheduled || sc.Reason != tt.wantScheduledReason || sc.ObservedGeneration != 3 {
				t.Errorf("Scheduled = %s/%s, want %s/%s", sc.Status, sc.Reason, tt.wantScheduled, tt.wantScheduledReason)
			}
			if cc.Status != tt.wantCompletedStatus || cc.Reason != tt.wantCompletedReason {
				t.Errorf("Completed = %s/%s, want %s/%s", cc.Status, cc.Reason, tt.wantCompletedStatus, tt.wantCompletedReason)
			}
			if (st.CompletionTime != nil) != tt.wantComplete || (st.PendingTime != nil) != tt.wantPend || st.StartTime == nil {
				t.Errorf("times: start %v pending %v completion %v", st.StartTime, st.PendingTime, st.CompletionTime)
			}
		})
	}
}

func findCondition(cs []metav1.Condition, typ string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == typ {
			return &cs[i]
		}
	}
	return nil
}

func TestBuildIDsIncrease(t *testing.T) {
	ids := NewBuildIDs(fixedClock{time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)})
	prev := ""
	for range 5000 {
		id := ids.Next()
		if len(id) < len(prev) || (len(id) == len(prev) && id <= prev) {
			t.Fatalf("build ID %s after %s does not increase", id, prev)
		}
		prev = id
	}
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                  { return c.t }
func (c fixedClock) Since(t time.Time) time.Duration { return c.t.Sub(t) }
