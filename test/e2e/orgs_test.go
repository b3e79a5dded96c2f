package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestUpOrgs: bowline up administers its sandbox's demo org from the
// quickstart's labels.yaml. The labels get their descriptions; a label
// recolored by hand is reported as drift, and reverted once the drift
// policy says so.
func TestUpOrgs(t *testing.T) {
	p := startUp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	kube := upClient(t, p)
	gh := p.sandboxClient(t, p.ready.Sandbox.Token)
	owner, repo, _ := strings.Cut(p.ready.Sandbox.DemoRepo, "/")

	org := func(what string, cond func(o *v1alpha1.GitHubOrganization) (bool, string)) *v1alpha1.GitHubOrganization {
		t.Helper()
		var found *v1alpha1.GitHubOrganization
		eventually(t, what, 2*time.Minute, func() (bool, string) {
			var list v1alpha1.GitHubOrganizationList
			if err := kube.List(ctx, &list); err != nil {
				return false, err.Error()
			}
			for i := range list.Items {
				if o := &list.Items[i]; o.Spec.Org == owner {
					found = o
					return cond(o)
				}
			}
			return false, fmt.Sprintf("no GitHubOrganization for %s among %d", owner, len(list.Items))
		})
		return found
	}
	ready := func(o *v1alpha1.GitHubOrganization) (bool, string) {
		c := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil {
			return false, "no Ready condition"
		}
		return c.Status == "True" && c.ObservedGeneration == o.Generation, c.Reason + ": " + c.Message
	}
	o := org("the demo org synced", ready)
	if !o.Spec.Confirm || o.Status.LastAppliedRevision == "" {
		t.Fatalf("sandbox org: confirm %t, applied %q", o.Spec.Confirm, o.Status.LastAppliedRevision)
	}
	lgtm, _, err := gh.Issues.GetLabel(ctx, owner, repo, "lgtm")
	if err != nil || lgtm.GetDescription() != "Looks good to me; ready to merge once approved." {
		t.Fatalf("lgtm label %+v, %v", lgtm, err)
	}

	// A change by hand.
	if _, _, err := gh.Issues.EditLabel(ctx, owner, repo, "lgtm", &github.Label{Color: github.Ptr("000000")}); err != nil {
		t.Fatal(err)
	}
	resync := func(mut func(o *v1alpha1.GitHubOrganization)) {
		t.Helper()
		cur := &v1alpha1.GitHubOrganization{}
		if err := kube.Get(ctx, client.ObjectKeyFromObject(o), cur); err != nil {
			t.Fatal(err)
		}
		orig := cur.DeepCopy()
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		cur.Annotations[v1alpha1.ReconcileRequestedAnnotation] = time.Now().Format(time.RFC3339Nano)
		mut(cur)
		if err := kube.Patch(ctx, cur, client.MergeFrom(orig)); err != nil {
			t.Fatal(err)
		}
	}
	resync(func(*v1alpha1.GitHubOrganization) {})
	org("the recolored label reported as drift", func(o *v1alpha1.GitHubOrganization) (bool, string) {
		c := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.ConditionDrifted)
		if c == nil {
			return false, "no Drifted condition"
		}
		return c.Status == "True" && strings.Contains(c.Message, "label lgtm"), c.Reason + ": " + c.Message
	})
	if l, _, err := gh.Issues.GetLabel(ctx, owner, repo, "lgtm"); err != nil || l.GetColor() != "000000" {
		t.Fatalf("reporting drift changed the label: %+v, %v", l, err)
	}

	resync(func(o *v1alpha1.GitHubOrganization) { o.Spec.DriftPolicy = v1alpha1.DriftRevert })
	org("the drift reverted", func(o *v1alpha1.GitHubOrganization) (bool, string) {
		c := meta.FindStatusCondition(o.Status.Conditions, v1alpha1.ConditionDrifted)
		if c == nil {
			return false, "no Drifted condition"
		}
		return c.Reason == v1alpha1.ReasonDriftReverted, c.Reason + ": " + c.Message
	})
	if l, _, err := gh.Issues.GetLabel(ctx, owner, repo, "lgtm"); err != nil || l.GetColor() != "15dd18" {
		t.Fatalf("lgtm after reverting: %+v, %v", l, err)
	}
	p.stop(t)
}
