package org

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// TestDrift changes an applied org by hand through the sandbox's API: the
// next sync finds exactly those changes, reports them without a write, and
// undoes them when told to revert. A configuration change made meanwhile
// is applied either way.
func TestDrift(t *testing.T) {
	t.Parallel()
	set := fullExample(t)
	cfg := set.Orgs.Orgs["acme"]
	fx := newOrgFixture(t, "acme", &cfg, forge.Options{}, "widgets", "gadgets")
	d := plan.DesiredFor(set, "acme", plan.Options{}, now)
	first := fx.sync(t, d, SyncOptions{Confirm: true})
	if first.Outcome != OutcomeApplied {
		t.Fatalf("first apply: %s %v", first.Outcome, first.Errors)
	}
	baseline := first.Plan.Index

	ctx := context.Background()
	if err := fx.env.Forge.Seed(ctx, &forge.Seed{Users: []forge.SeedUser{{Login: "mallory"}}}); err != nil {
		t.Fatal(err)
	}
	gh := fx.env.Client(t, fx.token)
	byHand := []func() error{
		func() error {
			_, _, err := gh.Organizations.EditOrgMembership(ctx, "mallory", "acme", &github.Membership{Role: github.Ptr("admin")})
			return err
		},
		func() error {
			_, _, err := gh.Repositories.Edit(ctx, "acme", "widgets", &github.Repository{Description: github.Ptr("Changed by hand.")})
			return err
		},
		func() error {
			_, err := gh.Issues.DeleteLabel(ctx, "acme", "widgets", "lgtm")
			return err
		},
		func() error {
			_, err := gh.Teams.RemoveTeamRepoBySlug(ctx, "acme", "maintainers", "acme", "gadgets")
			return err
		},
	}
	for _, change := range byHand {
		if err := change(); err != nil {
			t.Fatal(err)
		}
	}
	wantDrift := []string{"label/widgets/lgtm", "member/mallory", "repo/widgets", "team/maintainers/repo/gadgets"}
	drifted := func(res *SyncResult) []string {
		var keys []string
		for _, c := range res.Plan.Drifted() {
			keys = append(keys, c.Key)
		}
		slices.Sort(keys)
		return keys
	}

	reported := fx.sync(t, d, SyncOptions{Confirm: true, Baseline: baseline})
	if got := drifted(reported); !slices.Equal(got, wantDrift) {
		t.Fatalf("drift = %v, want %v\n%s", got, wantDrift, reported.Plan.Format())
	}
	if reported.Outcome != OutcomeInSync || reported.Usage.Writes != 0 {
		t.Fatalf("reporting drift: %s with %d writes", reported.Outcome, reported.Usage.Writes)
	}

	// A configuration change (a new label) is applied under the report
	// policy; the drift stays.
	changed := fullExample(t)
	changed.Labels.Default.Labels = append(changed.Labels.Default.Labels, changed.Labels.Default.Labels[0])
	changed.Labels.Default.Labels[len(changed.Labels.Default.Labels)-1].Name = "needs-rebase"
	d2 := plan.DesiredFor(changed, "acme", plan.Options{}, now)
	partial := fx.sync(t, d2, SyncOptions{Confirm: true, Baseline: baseline})
	if partial.Outcome != OutcomeApplied || partial.Applied != 2 || partial.Reverted != 0 {
		t.Fatalf("config change under drift: %s, %d applied, %d reverted\n%s", partial.Outcome, partial.Applied, partial.Reverted, partial.Plan.Format())
	}

	reverted := fx.sync(t, d2, SyncOptions{Confirm: true, RevertDrift: true, Baseline: partial.Plan.Index})
	if reverted.Outcome != OutcomeApplied || reverted.Reverted != len(wantDrift) {
		t.Fatalf("revert: %s, %d reverted\n%s", reverted.Outcome, reverted.Reverted, reverted.Plan.Format())
	}
	after := fx.sync(t, d2, SyncOptions{Confirm: true, RevertDrift: true, Baseline: reverted.Plan.Index})
	if after.Outcome != OutcomeInSync || len(after.Plan.Changes) != 0 {
		t.Fatalf("after reverting: %s\n%s", after.Outcome, after.Plan.Format())
	}
	if _, resp, err := gh.Organizations.GetOrgMembership(ctx, "mallory", "acme"); err == nil || resp.StatusCode != 404 {
		t.Fatalf("mallory is still a member: %v", err)
	}
}
