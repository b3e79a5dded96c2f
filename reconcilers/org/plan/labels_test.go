package plan

import "testing"

func TestLabels(t *testing.T) {
	t.Parallel()
	const config = `
default:
  labels:
  - name: lgtm
    color: 15DD18
    description: Looks good to me.
  - name: kind/bug
    color: e11d21
    description: Something is broken.
    previously:
    - name: bug
    - name: defect
  - name: retired
    color: "000000"
    deleteAfter: 2026-01-01T00:00:00Z
  - name: retiring
    color: "000000"
    deleteAfter: 2027-01-01T00:00:00Z
repos:
  acme/widgets:
    labels:
    - name: area/api
      color: 0052cc
`
	tests := []struct {
		name   string
		repo   string
		labels []Label
		opts   Options
		want   []string
	}{{
		name: "missing labels are created",
		repo: "widgets",
		want: []string{
			"+ label area/api in widgets: create #0052cc",
			"+ label kind/bug in widgets: create #e11d21",
			"+ label lgtm in widgets: create #15dd18",
		},
	}, {
		name:   "colors compare case-insensitively; descriptions and names are corrected",
		repo:   "gadgets",
		labels: []Label{{Name: "LGTM", Color: "15dd18", Description: "Looks good to me."}, {Name: "kind/bug", Color: "E11D21", Description: "Broken."}},
		want: []string{
			`~ label kind/bug in gadgets: description "Broken." → "Something is broken."`,
			"~ label lgtm in gadgets: rename from LGTM",
		},
	}, {
		name:   "a previous name is renamed when the new one is missing",
		repo:   "gadgets",
		labels: []Label{{Name: "lgtm", Color: "15dd18", Description: "Looks good to me."}, {Name: "Bug", Color: "ffffff"}},
		want:   []string{"~ label Bug in gadgets: rename to kind/bug"},
	}, {
		name: "a previous name is migrated when the new one exists",
		repo: "gadgets",
		labels: []Label{{Name: "lgtm", Color: "15dd18", Description: "Looks good to me."},
			{Name: "kind/bug", Color: "e11d21", Description: "Something is broken."}, {Name: "defect", Color: "ffffff"}},
		want: []string{"- label defect in gadgets: move its issues and pull requests to kind/bug, then delete it"},
	}, {
		name: "two previous names: one renamed, then the other migrated",
		repo: "gadgets",
		labels: []Label{{Name: "lgtm", Color: "15dd18", Description: "Looks good to me."},
			{Name: "bug", Color: "ffffff"}, {Name: "defect", Color: "ffffff"}},
		want: []string{
			"~ label bug in gadgets: rename to kind/bug",
			"- label defect in gadgets: move its issues and pull requests to kind/bug, then delete it",
		},
	}, {
		name: "labels past their deleteAfter are deleted; others not listed stay",
		repo: "gadgets",
		labels: []Label{{Name: "lgtm", Color: "15dd18", Description: "Looks good to me."}, {Name: "kind/bug", Color: "e11d21", Description: "Something is broken."},
			{Name: "retired", Color: "000000"}, {Name: "retiring", Color: "000000"}, {Name: "custom", Color: "aaaaaa"}},
		want: []string{"- label retired in gadgets: past its deleteAfter"},
	}, {
		name: "unlisted labels are deleted only when asked",
		repo: "gadgets",
		labels: []Label{{Name: "lgtm", Color: "15dd18", Description: "Looks good to me."}, {Name: "kind/bug", Color: "e11d21", Description: "Something is broken."},
			{Name: "retiring", Color: "000000"}, {Name: "custom", Color: "aaaaaa"}},
		opts: Options{DeleteUnlistedLabels: true},
		want: []string{"- label custom in gadgets: not in labels.yaml"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := desired(t, map[string]string{"labels.yaml": config}, tt.opts)
			s := &State{Org: "acme", Read: AllParts, Repos: []Repo{{Name: tt.repo, Labels: tt.labels}, {Name: "archived", Settings: RepoSettings{Archived: true}}}}
			diffLines(t, Compute(d, s), tt.want)
		})
	}
}
