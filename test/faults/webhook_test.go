package faults

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	corev1 "k8s.io/api/core/v1"
)

// presubmitJobs is one presubmit run as a pod.
const presubmitJobs = `presubmits:
  acme/widgets:
  - name: unit
    always_run: true
    spec:
      containers:
      - image: alpine
        command: ["true"]
`

// lgtmReply is what the lgtm plugin answers an author's /lgtm.
const lgtmReply = "you cannot LGTM your own PR"

// TestWebhookDeliveredTwice redelivers, through the forge's deliveries API
// as a person would from GitHub's settings, a pull request's opening and
// a comment that bowline answers. Delivered again to the replica that
// handled them, they are recognised by their X-GitHub-Delivery and
// ignored. Delivered to another replica, which has not seen them, runs are
// still not duplicated (a run's name derives from the delivery) and
// statuses not reported again, but a plugin's reply is posted again: the
// limit docs/reliability.md states.
func TestWebhookDeliveredTwice(t *testing.T) {
	t.Parallel()
	w := newWorld(t, cp, worldOptions{jobs: presubmitJobs, plugins: []string{"trigger", "lgtm"}})
	w.runKubelet(func(*corev1.Pod) bool { return true })
	a := w.startReplica("a")
	b := w.startReplica("b")
	w.waitConfig()
	w.lb.pin(a)

	number, sha := w.openPR("twice")
	w.eventually("the presubmit's success status", time.Minute, func() (bool, string) {
		st := w.statuses(sha)
		return count(st, "unit=success") == 1, fmt.Sprint(st)
	})
	if _, err := w.forge.Forge.As("bob").Comment(w.ctx, "acme/widgets", number, "/lgtm"); err != nil {
		t.Fatal(err)
	}
	w.eventually("the lgtm plugin's reply", time.Minute, func() (bool, string) {
		n := w.replies(number)
		return n == 1, fmt.Sprintf("%d replies", n)
	})
	want := w.statuses(sha)

	alice := w.gh(aliceToken)
	hooks, _, err := alice.Organizations.ListHooks(w.ctx, "acme", nil)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("org hooks: %v %v", hooks, err)
	}
	hook := hooks[0].GetID()
	originals := map[string]*github.HookDelivery{}
	for _, d := range w.deliveries(hook) {
		key := d.GetEvent() + "/" + d.GetAction()
		if (key == "pull_request/opened" || key == "issue_comment/created") && !d.GetRedelivery() {
			originals[key] = d
		}
	}
	if len(originals) != 2 {
		t.Fatalf("deliveries of the opening and the comment: %v", originals)
	}
	redeliver := func() {
		t.Helper()
		for _, d := range originals {
			if _, _, err := alice.Organizations.RedeliverHookDelivery(w.ctx, "acme", hook, d.GetID()); err != nil && !isAccepted(err) {
				t.Fatal(err)
			}
		}
		if err := w.forge.Forge.Flush(w.ctx); err != nil {
			t.Fatal(err)
		}
	}

	// To the same replica: ignored, and it says so.
	redeliver()
	for _, d := range w.deliveries(hook) {
		if !d.GetRedelivery() {
			continue
		}
		full, _, err := alice.Organizations.GetHookDelivery(w.ctx, "acme", hook, d.GetID())
		if err != nil {
			t.Fatal(err)
		}
		if body := string(full.GetResponse().GetRawPayload()); d.GetStatusCode() != 200 || !strings.Contains(body, "already accepted") {
			t.Errorf("redelivery of %s/%s answered %d %s, want 200 and that it was already accepted", d.GetEvent(), d.GetAction(), d.GetStatusCode(), body)
		}
	}

	// To the other replica, which handles them.
	w.lb.pin(b)
	before := []float64{b.metric("bowline_plugin_handled_total", `plugin="trigger"`, `event="pull_request"`, `outcome="succeeded"`),
		b.metric("bowline_plugin_handled_total", `plugin="lgtm"`, `event="generic_comment"`, `outcome="succeeded"`)}
	redeliver()
	w.eventually("replica b to handle the redeliveries", time.Minute, func() (bool, string) {
		after := []float64{b.metric("bowline_plugin_handled_total", `plugin="trigger"`, `event="pull_request"`, `outcome="succeeded"`),
			b.metric("bowline_plugin_handled_total", `plugin="lgtm"`, `event="generic_comment"`, `outcome="succeeded"`)}
		return after[0] > before[0] && after[1] > before[1], fmt.Sprintf("handled before %v, now %v", before, after)
	})
	if runs := w.prowJobs("unit"); len(runs) != 1 {
		t.Errorf("the presubmit ran %d times after redeliveries, want once: %s", len(runs), describe(runs))
	}
	if got := w.statuses(sha); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses after redeliveries: %v, want %v", got, want)
	}
	if n := w.replies(number); n != 2 {
		t.Errorf("the lgtm plugin replied %d times; with the comment's delivery handled by two replicas, the limit docs/reliability.md states is 2", n)
	}
}

// replies counts the lgtm plugin's replies on a pull request.
func (w *world) replies(number int) int {
	w.t.Helper()
	comments, _, err := w.gh(aliceToken).Issues.ListComments(w.ctx, "acme", "widgets", number, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		w.t.Fatal(err)
	}
	n := 0
	for _, c := range comments {
		if c.GetUser().GetLogin() == "ci-bot" && strings.Contains(c.GetBody(), lgtmReply) {
			n++
		}
	}
	return n
}

// deliveries lists an org hook's recent deliveries.
func (w *world) deliveries(hook int64) []*github.HookDelivery {
	w.t.Helper()
	list, _, err := w.gh(aliceToken).Organizations.ListHookDeliveries(w.ctx, "acme", hook, &github.ListCursorOptions{PerPage: 100})
	if err != nil {
		w.t.Fatal(err)
	}
	return list
}

// isAccepted says go-github reported GitHub's 202 as its AcceptedError.
func isAccepted(err error) bool {
	_, ok := err.(*github.AcceptedError)
	return ok
}

// TestHookReplicaWaitsForConfiguration starts a replica of the hook and
// web roles while no configuration has been applied: it must not be
// ready (a Service would send it deliveries it cannot act on, and they
// would be lost) until a leader applies one, which it then follows.
func TestHookReplicaWaitsForConfiguration(t *testing.T) {
	t.Parallel()
	w := newWorld(t, cp, worldOptions{jobs: presubmitJobs, plugins: []string{"trigger"}})
	hook := w.launch("hook", "--components", "hook,web")
	w.eventually("the hook replica to serve its probes", time.Minute, func() (bool, string) {
		ok, said := hook.ready(t)
		return !ok && strings.Contains(said, "configuration"), said
	})
	if ok, said := hook.ready(t); ok {
		t.Fatalf("the hook replica is ready without a configuration: %s", said)
	}
	w.startReplica("leader")
	w.waitConfig()
	w.eventually("the hook replica ready", time.Minute, func() (bool, string) { return hook.ready(t) })
}
