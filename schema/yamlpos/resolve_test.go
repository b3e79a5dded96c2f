package yamlpos

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"
)

func TestResolve(t *testing.T) {
	const file = `base: &base
  timeout: 2h
  branches: [main, "release-(1"]
jobs:
- name: a
  <<: *base
  labels:
    "bad key": x
  decoration_config:
    timeout: -1s
- name: b
  timeout: 3h
`
	type job struct {
		Pos Pos `json:"-"`
	}
	var root struct {
		Jobs []job `json:"jobs"`
		Base any   `json:"base"`
	}
	var errs Errors
	d := NewDecoder()
	d.Decode("j.yaml", []byte(file), &root, &errs)
	if errs.Len() > 0 {
		// Unknown fields of job are expected: only positions matter here.
		errs = Errors{}
	}
	a, b := root.Jobs[0].Pos, root.Jobs[1].Pos
	errs.AddAt(a, At("decoration_config", "timeout"), "nested value")
	errs.AddAt(a, At("branches").Index(1), "list item through a merge key")
	errs.AddAt(a, At("timeout"), "merged value")
	errs.AddAt(a, Path("").Key("labels").Name("bad key"), "a key itself")
	errs.AddAt(b, At("timeout"), "own value")
	errs.AddAt(b, At("decoration_config", "timeout"), "from a default: stays at the job")
	errs.AddAt(a, At("labels", "missing"), "deepest value found")
	errs.WarnAt(b, At("name"), "code", "a warning")
	errs.Add("other.yaml", 3, 4, "no path")
	errs.Resolve(func(f string) ([]byte, bool) {
		if f == "j.yaml" {
			return []byte(file), true
		}
		return nil, false
	})
	errs.Sort()
	want := []string{
		"j.yaml:2:12: merged value",
		"j.yaml:3:20: list item through a merge key",
		"j.yaml:8:5: a key itself",
		"j.yaml:8:5: deepest value found",
		"j.yaml:10:14: nested value",
		"j.yaml:11:3: from a default: stays at the job",
		"j.yaml:12:12: own value",
		"other.yaml:3:4: no path",
	}
	if diff := cmp.Diff(want, strs(errs.List)); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"j.yaml:11:9: a warning"}, strs(errs.Warnings)); diff != "" {
		t.Errorf("warnings mismatch (-want +got):\n%s", diff)
	}
}

// shapes decodes itself from a list or a mapping through the document's
// decoder, as plugins.yaml's entries do.
type shapes struct {
	List []any
	Map  map[string]any
}

func (s *shapes) DecodeYAMLNode(n *yaml.Node, decode func(*yaml.Node, any)) error {
	if n.Kind == yaml.SequenceNode {
		decode(n, &s.List)
		return nil
	}
	decode(n, &s.Map)
	return nil
}

// TestNodeDecoderSharesTheAliasBudget: a type that decodes parts of itself
// cannot get a fresh expansion allowance for each of them.
func TestNodeDecoderSharesTheAliasBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("anchors:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 8; i++ {
		b.WriteString("  l" + string(rune('0'+i)) + ": &l" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*l" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString("entries:\n")
	for i := range 50 {
		b.WriteString("  e" + strings.Repeat("x", i) + ": *l7\n")
	}
	var out struct {
		Entries map[string]shapes `json:"entries"`
		Anchors map[string]any    `json:"anchors"`
	}
	var errs Errors
	NewDecoder().Decode("bomb.yaml", []byte(b.String()), &out, &errs)
	if errs.Len() == 0 || !strings.Contains(errs.Error(), "expands too much through aliases") {
		t.Fatalf("errors = %v, want the expansion refused", errs.List)
	}
}
