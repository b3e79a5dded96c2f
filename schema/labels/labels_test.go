package labels

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

func load(t *testing.T, text string) (*Config, []string) {
	t.Helper()
	var c Config
	var errs yamlpos.Errors
	yamlpos.NewDecoder().Decode("labels.yaml", []byte(text), &c, &errs)
	c.SetDefaults()
	c.Validate(&errs)
	errs.Resolve(func(string) ([]byte, bool) { return []byte(text), true })
	errs.Sort()
	var out []string
	for _, e := range errs.List {
		out = append(out, e.String())
	}
	for _, w := range errs.Warnings {
		out = append(out, "warning "+w.Code+": "+w.String())
	}
	return &c, out
}

func TestLabels(t *testing.T) {
	c, errs := load(t, `default:
  labels:
  - {name: lgtm, color: 15dd18}
  - name: kind/bug
    color: e11d21
    previously: [{name: bug}]
repos:
  org/repo:
    labels:
    - name: area/x
      color: 0052cc
      target: prs
      deleteAfter: 2030-01-02T15:04:05Z
      previously: [{name: bug}]
`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var names []string
	for _, l := range c.LabelsFor("org", "repo") {
		names = append(names, l.Name+":"+l.Target)
	}
	if diff := cmp.Diff([]string{"lgtm:both", "kind/bug:both", "area/x:prs"}, names); diff != "" {
		t.Errorf("LabelsFor (-want +got):\n%s", diff)
	}
	if c.Count() != 5 {
		t.Errorf("Count() = %d, want 5", c.Count())
	}
	if got := c.Repos["org/repo"].Labels[0].DeleteAfter; got == nil || got.Year() != 2030 {
		t.Errorf("deleteAfter = %v", got)
	}
}

func TestValidate(t *testing.T) {
	_, got := load(t, `default:
  labels:
  - {name: lgtm, color: green}
  - {name: LGTM, color: 000000, target: commits}
  - {name: kind/bug, color: e11d21, previously: [{name: lgtm}]}
  - {color: 000000, description: "`+strings.Repeat("x", 101)+`"}
repos:
  noslash:
    labels: [{name: x, color: 000000}]
  org/repo:
    labels: [{name: lgtm, color: 000000}]
`)
	want := []string{
		`labels.yaml:4:12: default: label "LGTM" is already defined (default at labels.yaml:3:5)`,
		`labels.yaml:5:57: default: previous name "lgtm" is a current label (default at labels.yaml:4:5)`,
		`labels.yaml:6:34: default: label "": description is longer than 100 characters`,
		`labels.yaml:11:21: repos.org/repo: label "lgtm" is already defined (default at labels.yaml:4:5)`,
		`warning unknown-value: labels.yaml:3:25: default: label "lgtm": color should be six hex digits, not "green"; GitHub will refuse it`,
		`warning unknown-value: labels.yaml:4:41: default: label "LGTM": target should be prs, issues or both, not "commits"`,
		`warning missing-value: labels.yaml:6:5: default: a label without a name; GitHub will refuse it`,
		`warning unknown-value: labels.yaml:8:3: repos: "noslash" is not org/repo, so no repository gets its labels`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
