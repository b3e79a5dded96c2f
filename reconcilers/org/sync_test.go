package org

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-github/v89/github"

	examples "github.com/bowline-ci/bowline/config-examples"
	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// fullExample is config-examples/full: every part of org administration.
func fullExample(t testing.TB) *configset.Set {
	t.Helper()
	fsys, err := examples.FS("full")
	if err != nil {
		t.Fatal(err)
	}
	set, err := snapshot.Load(context.Background(), fsys, v1alpha1.ConfigPaths{}, false)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestFullExample applies the full example's org, branch protection and
// labels to an org holding only its two repositories, checks GitHub's
// state, and applies it again with nothing to change.
func TestFullExample(t *testing.T) {
	t.Parallel()
	set := fullExample(t)
	cfg := set.Orgs.Orgs["acme"]
	fx := newOrgFixture(t, "acme", &cfg, forge.Options{}, "widgets", "gadgets")
	d := plan.DesiredFor(set, "acme", plan.Options{}, now)

	first := fx.sync(t, d, SyncOptions{Confirm: true})
	if first.Outcome != OutcomeApplied || first.Failed > 0 {
		t.Fatalf("first apply: %s: %v\n%s", first.Outcome, first.Errors, first.Plan.Format())
	}
	second := fx.sync(t, d, SyncOptions{Confirm: true, Baseline: first.Plan.Index})
	if second.Outcome != OutcomeInSync || len(second.Plan.Changes) != 0 || second.Usage.Writes != 0 {
		t.Fatalf("second apply: %s, %d writes:\n%s", second.Outcome, second.Usage.Writes, second.Plan.Format())
	}

	ctx := context.Background()
	gh := fx.env.Client(t, fx.token)
	o, _, err := gh.Organizations.Get(ctx, "acme")
	if err != nil || o.GetName() != "ACME" || o.GetDefaultRepoPermission() != "read" || o.GetMembersCanCreateRepos() {
		t.Fatalf("org settings %+v, %v", o, err)
	}
	p, _, err := gh.Repositories.GetBranchProtection(ctx, "acme", "widgets", "main")
	if err != nil {
		t.Fatal(err)
	}
	contexts := *p.GetRequiredStatusChecks().Contexts
	if !slices.Equal(contexts, []string{"cla/linuxfoundation", "pull-widgets-unit"}) || !p.GetEnforceAdmins().Enabled ||
		p.GetRequiredPullRequestReviews().RequiredApprovingReviewCount != 1 {
		t.Fatalf("widgets/main protection: contexts %v, %+v", contexts, p)
	}
	r, _, err := gh.Repositories.Get(ctx, "acme", "gadgets")
	if err != nil || !r.GetPrivate() || r.GetDescription() != "The gadgets." {
		t.Fatalf("gadgets %+v, %v", r, err)
	}
	invs, _, err := gh.Repositories.ListInvitations(ctx, "acme", "gadgets", nil)
	if err != nil || len(invs) != 1 || invs[0].GetInvitee().GetLogin() != "dave" || invs[0].GetPermissions() != "read" {
		t.Fatalf("gadgets invitations %v, %v", invs, err)
	}
	repos, _, err := gh.Teams.ListTeamReposBySlug(ctx, "acme", "maintainers", nil)
	if err != nil || len(repos) != 2 {
		t.Fatalf("team repos %v, %v", repos, err)
	}
	labels, _, err := gh.Issues.ListLabels(ctx, "acme", "widgets", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range labels {
		names = append(names, l.GetName())
	}
	if !slices.Equal(names, []string{"approved", "area/api", "do-not-merge/hold", "kind/bug", "lgtm"}) {
		t.Fatalf("widgets labels %v", names)
	}
}

// TestDryRunAndLimits: an unconfirmed sync changes nothing; a plan that
// removes too many members is refused until approved by its ID.
func TestDryRunAndLimits(t *testing.T) {
	t.Parallel()
	set := fullExample(t)
	cfg := set.Orgs.Orgs["acme"]
	fx := newOrgFixture(t, "acme", &cfg, forge.Options{}, "widgets", "gadgets")
	d := plan.DesiredFor(set, "acme", plan.Options{}, now)

	dry := fx.sync(t, d, SyncOptions{})
	if dry.Outcome != OutcomeDryRun || dry.Usage.Writes != 0 || len(dry.Plan.Changes) == 0 {
		t.Fatalf("dry run: %s, %d writes", dry.Outcome, dry.Usage.Writes)
	}
	// Members the configuration does not name: removing 3 of 5 is 60%.
	for _, u := range []string{"mallory", "trent", "oscar"} {
		if err := fx.env.Forge.Seed(context.Background(), &forge.Seed{Users: []forge.SeedUser{{Login: u}}, Orgs: []forge.SeedOrg{{Login: "acme", Members: []string{u}}}}); err != nil {
			t.Fatal(err)
		}
	}
	refused := fx.sync(t, d, SyncOptions{Confirm: true})
	if refused.Outcome != OutcomeRefused || refused.Usage.Writes != 0 || len(refused.Violations) != 1 || refused.Violations[0].Reason != plan.ReasonTooManyRemovals {
		t.Fatalf("refusal: %s, %d writes, %v", refused.Outcome, refused.Usage.Writes, refused.Violations)
	}
	approved := fx.sync(t, d, SyncOptions{Confirm: true, ApprovedPlan: refused.Plan.ID()})
	if approved.Outcome != OutcomeApplied {
		t.Fatalf("approved plan: %s %v", approved.Outcome, approved.Errors)
	}
	members, _, err := fx.env.Client(t, fx.token).Organizations.ListMembers(context.Background(), "acme", &github.ListMembersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if slices.Contains([]string{"mallory", "trent", "oscar"}, m.GetLogin()) {
			t.Fatalf("%s is still a member", m.GetLogin())
		}
	}
}
