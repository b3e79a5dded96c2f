package plan

import (
	"reflect"
	"testing"
)

func TestProtection(t *testing.T) {
	t.Parallel()
	const jobs = `
presubmits:
  acme/widgets:
  - name: unit
    always_run: true
    spec: {containers: [{image: alpine}]}
  - name: e2e
    always_run: true
    optional: true
    spec: {containers: [{image: alpine}]}
  - name: manual
    spec: {containers: [{image: alpine}]}
  - name: release-only
    always_run: true
    branches: [release-1.0]
    spec: {containers: [{image: alpine}]}
`
	main := func(p *Protection) Branch {
		return Branch{Name: "main", Protected: p != nil, Protection: p}
	}
	unitOnly := &Protection{RequiredStatusChecks: &StatusChecks{Contexts: []string{"cla", "unit"}}, RequiredReviews: &Reviews{Approvals: 1}}
	tests := []struct {
		name     string
		config   string
		branches []Branch
		want     []string
	}{{
		name: "required contexts come from the presubmits that must pass on the branch",
		config: `
branch-protection:
  orgs:
    acme:
      protect: true
      required_status_checks: {contexts: [cla]}
      required_pull_request_reviews: {required_approving_review_count: 1}
`,
		branches: []Branch{main(nil), {Name: "release-1.0"}},
		want: []string{
			"+ branch protection widgets/main: protect: 2 required contexts, 1 approving review",
			"+ branch protection widgets/release-1.0: protect: 3 required contexts, 1 approving review",
		},
	}, {
		name: "protection that matches is left alone",
		config: `
branch-protection:
  orgs:
    acme:
      protect: true
      required_status_checks: {contexts: [cla]}
      required_pull_request_reviews: {required_approving_review_count: 1}
`,
		branches: []Branch{main(unitOnly)},
	}, {
		name: "a difference is corrected",
		config: `
branch-protection:
  orgs:
    acme:
      protect: true
      enforce_admins: true
      required_status_checks: {contexts: [cla, dco], strict: true}
      required_pull_request_reviews: {required_approving_review_count: 1}
`,
		branches: []Branch{main(unitOnly)},
		want:     []string{"~ branch protection widgets/main: contexts +dco, strict false → true, enforce_admins false → true"},
	}, {
		name: "require_manually_triggered_jobs adds the manual jobs",
		config: `
branch-protection:
  orgs:
    acme:
      repos:
        widgets:
          protect: true
          require_manually_triggered_jobs: true
`,
		branches: []Branch{main(nil)},
		want:     []string{"+ branch protection widgets/main: protect: 2 required contexts"},
	}, {
		name:     "protect: false removes protection",
		config:   "branch-protection:\n  allow_disabled_policies: true\n  orgs:\n    acme:\n      repos:\n        widgets:\n          protect: false\n",
		branches: []Branch{main(unitOnly)},
		want:     []string{"- branch protection widgets/main: unprotect: protect is false"},
	}, {
		name: "an excluded branch loses its protection",
		config: `
branch-protection:
  orgs:
    acme:
      protect: true
      exclude: ["^dev-"]
      repos:
        gadgets:
          include: ["^main$"]
`,
		branches: []Branch{main(&Protection{}), {Name: "dev-1", Protected: true, Protection: &Protection{}}},
		want: []string{
			"- branch protection widgets/dev-1: unprotect: excluded",
			"~ branch protection widgets/main: require contexts +unit",
		},
	}, {
		name:     "a branch not included is left alone",
		config:   "branch-protection:\n  orgs:\n    acme:\n      protect: true\n      repos:\n        widgets:\n          include: [\"^main$\"]\n",
		branches: []Branch{main(nil), {Name: "feature"}, {Name: "old", Protected: true, Protection: &Protection{}}},
		want:     []string{"+ branch protection widgets/main: protect: 1 required context"},
	}, {
		name:     "protect-tested-repos protects repositories with jobs",
		config:   "branch-protection:\n  protect-tested-repos: true\n",
		branches: []Branch{main(nil)},
		want:     []string{"+ branch protection widgets/main: protect: 1 required context"},
	}, {
		name:     "unmanaged repositories are left alone",
		config:   "branch-protection:\n  orgs:\n    acme:\n      protect: true\n      repos:\n        widgets:\n          unmanaged: true\n",
		branches: []Branch{main(nil)},
	}, {
		name: "restrictions, review dismissal and bypass, signed commits",
		config: `
branch-protection:
  orgs:
    acme:
      protect: true
      require_signed_commits: true
      restrictions: {users: [Alice], teams: [core]}
      required_pull_request_reviews:
        required_approving_review_count: 2
        dismissal_restrictions: {teams: [core]}
        bypass_pull_request_allowances: {users: [bot]}
`,
		branches: []Branch{main(nil)},
		want:     []string{"+ branch protection widgets/main: protect: 1 required context, 2 approving reviews, push restricted, signed commits"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := desired(t, map[string]string{"config.yaml": tt.config, "jobs/jobs.yaml": jobs}, Options{})
			s := &State{Org: "acme", Read: AllParts, Repos: []Repo{{Name: "widgets", Branches: tt.branches}, {Name: "archived", Settings: RepoSettings{Archived: true}, Branches: []Branch{main(nil)}}}}
			diffLines(t, Compute(d, s), tt.want)
		})
	}
}

func TestProtectionOp(t *testing.T) {
	t.Parallel()
	d := desired(t, map[string]string{"config.yaml": `
branch-protection:
  orgs:
    acme:
      protect: true
      require_signed_commits: true
      restrictions: {users: [Alice, bob], teams: [core]}
      required_pull_request_reviews:
        required_approving_review_count: 2
        dismissal_restrictions: {teams: [core]}
`}, Options{})
	p := Compute(d, &State{Org: "acme", Repos: []Repo{{Name: "widgets", Branches: []Branch{{Name: "main"}}}}})
	if len(p.Changes) != 1 {
		t.Fatalf("changes: %v", lines(p))
	}
	got := p.Changes[0].Op.(SetProtection)
	want := SetProtection{Repo: "widgets", Branch: "main", SignaturesChanged: true, Protection: Protection{
		RequireSignedCommits: true,
		Restrictions:         &Restrictions{Users: []string{"alice", "bob"}, Teams: []string{"core"}},
		RequiredReviews:      &Reviews{Approvals: 2, DismissalRestrictions: &Principals{Teams: []string{"core"}}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("op = %+v\nwant %+v", got, want)
	}
}
