package owners

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

func parse[T any](t *testing.T, name, text string) (*T, []string) {
	t.Helper()
	var v T
	var errs yamlpos.Errors
	yamlpos.NewDecoder().Decode(name, []byte(text), &v, &errs)
	if f, ok := any(&v).(*File); ok && errs.Len() == 0 {
		f.Validate(&errs)
	}
	errs.Resolve(func(string) ([]byte, bool) { return []byte(text), true })
	errs.Sort()
	var out []string
	for _, e := range errs.List {
		out = append(out, e.String())
	}
	// Warnings follow the errors, marked with their code.
	for _, w := range errs.Warnings {
		out = append(out, "warning "+w.Code+": "+w.String())
	}
	return &v, out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{name: "simple", text: "approvers: [a]\nreviewers: [b]\nemeritus_approvers: [c]\nlabels: [sig/x]\noptions: {no_parent_owners: true}\n"},
		{name: "filters", text: "filters:\n  '.*':\n    approvers: [a]\n  '\\.go$':\n    labels: [lang/go]\n"},
		{
			name: "what Prow reads without complaint: mixed forms, a bad filter, a user twice",
			text: "approvers: [a, A]\nfilters:\n  '(':\n    reviewers: [b]\n",
			want: []string{
				`warning duplicate-value: OWNERS:1:16: approvers: A is listed twice`,
				`warning ignored-value: OWNERS:2:1: filters are ignored: approvers, reviewers or labels at the top win, as in Prow; use one form or the other`,
				"warning bad-pattern: OWNERS:3:3: filters: \"(\" is not a regular expression, so the filter is ignored: error parsing regexp: missing closing ): `(`",
			},
		},
		{
			name: "keys Prow does not know are ignored",
			text: "aprovers: [a]\nfilters:\n  '.*': {approvers: [b], advisory: [c]}\n",
			want: []string{
				`warning unknown-field: OWNERS:1:1: unknown field "aprovers" is ignored, as Prow does, did you mean "approvers"?`,
				`warning unknown-field: OWNERS:3:26: unknown field "advisory" is ignored, as Prow does`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parse[File](t, "OWNERS", tt.text)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApprovers(t *testing.T) {
	root, _ := parse[File](t, "OWNERS", "approvers: [root-approver, leads]\nreviewers: [R]\n")
	sub, _ := parse[File](t, "a/OWNERS", "filters:\n  '.*':\n    approvers: [a-approver]\n  '\\.md$':\n    approvers: [docs]\n")
	// The simple form wins over filters, as in Prow.
	mixed, _ := parse[File](t, "m/OWNERS", "approvers: [m-approver]\nfilters:\n  '\\.md$':\n    approvers: [ignored]\n")
	cut, _ := parse[File](t, "a/b/OWNERS", "options: {no_parent_owners: true}\napprovers: [b-approver]\n")
	aliases, errs := parse[Aliases](t, "OWNERS_ALIASES", "aliases:\n  leads: [Lead1, lead2]\n  empty: []\n")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	s := &Set{Files: map[string]*File{".": root, "a": sub, "a/b": cut, "m": mixed}, Aliases: map[string]*Aliases{".": aliases}}
	tests := []struct {
		path string
		want []string
	}{
		{"main.go", []string{"lead1", "lead2", "root-approver"}},
		{"a/x.go", []string{"a-approver", "lead1", "lead2", "root-approver"}},
		{"a/README.md", []string{"a-approver", "docs", "lead1", "lead2", "root-approver"}},
		{"a/b/c/d.go", []string{"b-approver"}},
		{"m/README.md", []string{"lead1", "lead2", "m-approver", "root-approver"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, s.ApproversOf(tt.path)); diff != "" {
			t.Errorf("ApproversOf(%s) (-want +got):\n%s", tt.path, diff)
		}
	}
	if diff := cmp.Diff([]string{"r"}, s.ReviewersOf("main.go")); diff != "" {
		t.Errorf("ReviewersOf (-want +got):\n%s", diff)
	}
}
