package org

import (
	"testing"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// TestKubernetesOrg applies Kubernetes' own org configuration (1,276
// members and admins, 284 teams) to an empty sandbox org within one hour
// of GitHub's rate limit, then applies it again: nothing to change, no
// write, and once the caches hold the new state, nothing but 304s.
func TestKubernetesOrg(t *testing.T) {
	t.Parallel()
	set, err := kubernetesOrgs()
	if err != nil {
		t.Fatal(err)
	}
	cfg := set.Orgs.Orgs["kubernetes"]
	// GitHub's 5,000 requests an hour, enforced: the first apply must fit.
	fx := newOrgFixture(t, "kubernetes", &cfg, forge.Options{EnforceRateLimit: true})
	d := plan.DesiredFor(set, "kubernetes", plan.Options{}, now)

	first := fx.sync(t, d, SyncOptions{Confirm: true})
	if first.Outcome != OutcomeApplied || first.Failed > 0 {
		t.Fatalf("first apply: %s, %d failed: %v", first.Outcome, first.Failed, first.Errors)
	}
	c := first.Plan.Counts()
	if c.Create < 3000 || c.Delete != 0 || first.Applied != c.Total() {
		t.Fatalf("first apply: %d applied of %+v", first.Applied, c)
	}
	if first.Usage.Charged() >= 5000 || first.Usage.Remaining <= 0 {
		t.Fatalf("first apply used %d requests (%d left of the hour's 5000)", first.Usage.Charged(), first.Usage.Remaining)
	}
	t.Logf("first apply: %d changes, %d requests (%d writes), %s", first.Applied, first.Usage.Requests, first.Usage.Writes, first.Duration)

	second := fx.sync(t, d, SyncOptions{Confirm: true, Baseline: first.Plan.Index})
	if second.Outcome != OutcomeInSync || len(second.Plan.Changes) != 0 || second.Usage.Writes != 0 {
		t.Fatalf("second apply: %s, %d writes, changes:\n%s", second.Outcome, second.Usage.Writes, second.Plan.Format())
	}
	third := fx.sync(t, d, SyncOptions{Confirm: true, Baseline: first.Plan.Index})
	if third.Outcome != OutcomeInSync || third.Usage.Charged() != 0 || third.Usage.NotModified == 0 {
		t.Fatalf("resync: %s, %d of %d requests charged", third.Outcome, third.Usage.Charged(), third.Usage.Requests)
	}
	t.Logf("resync: %d requests, all 304, %s", third.Usage.Requests, third.Duration)
}
