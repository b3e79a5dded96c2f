package merge

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// EventsName is the webhook handler's name in logs and metrics.
const EventsName = "merge-pool"

// eventTypes are the GitHub events that change what the merge controller
// decides or says.
var eventTypes = []string{"pull_request", "pull_request_review", "status", "check_run", "push", "issues"}

// Events is the hook from the webhook server into the merge controller,
// when both run in one process: each event updates the controller's picture
// of GitHub at once and asks for the pools it concerns to be synced, so
// that tide statuses follow within seconds. The periodic search stays the
// safety net for deliveries that never arrive. It runs for every event,
// whatever plugins.yaml enables.
type Events struct{ r *Reconciler }

// Events returns the reconciler's webhook handler.
func (r *Reconciler) Events() *Events { return &Events{r: r} }

// Name implements plugin.Plugin.
func (*Events) Name() string { return EventsName }

// Events implements plugin.Plugin.
func (*Events) Events() []string { return eventTypes }

// Help implements plugin.Plugin.
func (*Events) Help() plugin.Help {
	return plugin.Help{Description: "Feeds pull request, review, status, check run, push and issue events to the merge controller, which updates the merge pools and the tide statuses within seconds."}
}

// Handle implements plugin.Plugin.
func (e *Events) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	r := e.r
	cfg, err := r.Config()
	if err != nil || cfg == nil || ev.Repo == "" || !cfg.Covers(ev.Org, ev.Repo) {
		return err
	}
	s := r.Syncer
	s.init()
	var pools []poolKey
	switch p := ev.Payload.(type) {
	case *github.PullRequestEvent:
		pr := p.GetPullRequest()
		if p.GetAction() == "closed" || pr.GetState() == "closed" {
			if k, ok := s.store.remove(ev.Org, ev.Repo, pr.GetNumber()); ok {
				pools = append(pools, k)
			}
			break
		}
		before, after, _ := s.store.update(ev.Org, ev.Repo, pr.GetNumber(), true, applyPull(pr, pr.Mergeable != nil))
		pools = append(pools, before, after)
		if p.GetAction() == "opened" || p.GetAction() == "reopened" {
			// Only a search knows GitHub's review decision.
			r.Kick()
		}
	case *github.PullRequestReviewEvent:
		r.Kick()
	case *github.StatusEvent:
		c := Context{Name: p.GetContext(), State: p.GetState(), Description: p.GetDescription()}
		ks := s.store.setContext(ev.Org, ev.Repo, p.GetSHA(), c, false)
		if c.Name != statusContext {
			// The echo of the controller's own status changes nothing.
			pools = append(pools, ks...)
		}
	case *github.CheckRunEvent:
		cr := p.GetCheckRun()
		c := Context{Name: cr.GetName(), State: checkRunState(cr.GetStatus(), cr.GetConclusion())}
		pools = append(pools, s.store.setContext(ev.Org, ev.Repo, cr.GetHeadSHA(), c, true)...)
	case *github.PushEvent:
		branch, ok := strings.CutPrefix(p.GetRef(), "refs/heads/")
		if !ok || p.GetDeleted() {
			break
		}
		k := poolKey{ev.Org, ev.Repo, branch}
		if s.store.setBase(k, p.GetAfter()) {
			pools = append(pools, k)
		}
	case *github.IssuesEvent:
		if l := cfg.Tide.BlockerLabel; l != "" && (p.GetLabel().GetName() == l || hasIssueLabel(p.GetIssue(), l)) {
			r.Kick()
		}
	}
	r.enqueueNow(cfg.Namespace, pools)
	if len(pools) > 0 {
		log.V(1).Info("Merge pools to sync after an event", "event", ev.Type, "pools", len(pools))
	}
	return nil
}

func hasIssueLabel(is *github.Issue, label string) bool {
	for _, l := range is.Labels {
		if l.GetName() == label {
			return true
		}
	}
	return false
}

// enqueueNow asks for pools to be synced without waiting: on a replica
// that is not the leader nothing consumes the requests, and a full queue
// drops them (the leader's own periodic sync covers them).
func (r *Reconciler) enqueueNow(ns string, pools []poolKey) {
	if r.requests == nil {
		return
	}
	seen := map[poolKey]bool{}
	for _, k := range pools {
		if k.branch == "" || seen[k] {
			continue
		}
		seen[k] = true
		ev := eventFor(ns, k)
		select {
		case r.requests <- ev:
		default:
		}
	}
}

// RemoteEvents is the hook from a webhook server that runs apart from the
// merge controller (another Deployment): it asks the controller to sync a
// pool by setting the bowline.dev/reconcile-requested-at annotation on its
// MergePool, at most once a second per repository. The controller then
// reads the repository's pull requests again, as the event itself does not
// travel.
type RemoteEvents struct {
	// Client lists and patches MergePools.
	Client client.Client
	// Namespace is where MergePools live (prowjob_namespace).
	Namespace func() string
	// Now stamps the requests; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	last map[string]time.Time
}

// Name implements plugin.Plugin.
func (*RemoteEvents) Name() string { return EventsName }

// Events implements plugin.Plugin.
func (*RemoteEvents) Events() []string { return eventTypes }

// Help implements plugin.Plugin.
func (*RemoteEvents) Help() plugin.Help { return (&Events{}).Help() }

// Handle implements plugin.Plugin.
func (e *RemoteEvents) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	if ev.Repo == "" {
		return nil
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	t := now()
	repo := ev.Org + "/" + ev.Repo
	e.mu.Lock()
	if e.last == nil {
		e.last = map[string]time.Time{}
	}
	if t.Sub(e.last[repo]) < time.Second {
		e.mu.Unlock()
		return nil
	}
	e.last[repo] = t
	e.mu.Unlock()
	var list v1alpha1.MergePoolList
	if err := e.Client.List(ctx, &list, client.InNamespace(e.Namespace()), client.MatchingLabels{
		v1alpha1.OrgLabel: v1alpha1.LabelValue(ev.Org), v1alpha1.RepoLabel: v1alpha1.LabelValue(ev.Repo),
	}); err != nil {
		return fmt.Errorf("list the MergePools of %s: %w", repo, err)
	}
	for i := range list.Items {
		mp := &list.Items[i]
		if !strings.EqualFold(mp.Spec.Org, ev.Org) || !strings.EqualFold(mp.Spec.Repo, ev.Repo) {
			continue
		}
		orig := mp.DeepCopy()
		if mp.Annotations == nil {
			mp.Annotations = map[string]string{}
		}
		mp.Annotations[v1alpha1.ReconcileRequestedAnnotation] = t.UTC().Format(time.RFC3339Nano)
		if err := e.Client.Patch(ctx, mp, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("request a sync of MergePool %s: %w", mp.Name, err)
		}
	}
	return nil
}

func eventFor(ns string, k poolKey) event.GenericEvent {
	return event.GenericEvent{Object: &v1alpha1.MergePool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: PoolName(k.org, k.repo, k.branch)}}}
}
